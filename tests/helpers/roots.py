# SPDX-License-Identifier: GPL-3.0-or-later
"""A throw-away engine root below a test's temp dir: vfs storage and an empty containers.conf, so
that nothing of the host's configuration or overlay support changes what the test sees; and the
end of the tests' roots in the host's roots registry."""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Tuple

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import roots
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.userpaths import registry_dir


def throwaway_root(tmp) -> Tuple[dict, Dict[str, str]]:
    """(overrides, env) for OpenOptions: every path of the root under ``tmp`` (a pathlib.Path)."""
    static = tmp / "static"
    overrides = {"engine": {"static_dir": str(static), "tmp_dir": str(tmp / "run"),
                            "volume_path": str(static / "volumes")},
                 "storage": {"graph_root": str(static / "storage"), "graph_driver": "vfs"}}
    conf = tmp / "containers.conf"
    conf.write_text("")
    return overrides, {"LIBPOD_ENGINE_CONF": str(conf)}


def forget_roots_under(base: str, registry: Optional[str] = None) -> List[str]:
    """Drop the registry entry of every root whose static dir is ``base`` or below it, with the
    engine's host.roots.forget_root (what system_reset does when a root goes away); returns their
    static dirs. A root stays registered while its DB exists, and pytest keeps the temp dirs of its
    last three runs: without this, every root a test made stays in /run/libpod-engine/roots until
    pytest deletes its dir. Entries of other roots are left alone."""
    folder = os.path.join(registry or registry_dir(), "roots")
    prefix = os.path.realpath(base).rstrip("/") + "/"
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
    except OSError:
        return []
    gone = []
    for name in names:
        static = (roots.read_json(os.path.join(folder, name)) or {}).get("static_dir")
        if isinstance(static, str) and (static.rstrip("/") + "/").startswith(prefix):
            roots.forget_root(roots.RootId.of(static), registry)
            gone.append(static)
    return gone
