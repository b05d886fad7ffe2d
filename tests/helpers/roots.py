# SPDX-License-Identifier: GPL-3.0-or-later
"""A throw-away engine root below a test's temp dir: vfs storage and an empty containers.conf, so
that nothing of the host's configuration or overlay support changes what the test sees."""
from __future__ import annotations

from typing import Dict, Tuple


def throwaway_root(tmp) -> Tuple[dict, Dict[str, str]]:
    """(overrides, env) for OpenOptions: every path of the root under ``tmp`` (a pathlib.Path)."""
    static = tmp / "static"
    overrides = {"engine": {"static_dir": str(static), "tmp_dir": str(tmp / "run"),
                            "volume_path": str(static / "volumes")},
                 "storage": {"graph_root": str(static / "storage"), "graph_driver": "vfs"}}
    conf = tmp / "containers.conf"
    conf.write_text("")
    return overrides, {"LIBPOD_ENGINE_CONF": str(conf)}
