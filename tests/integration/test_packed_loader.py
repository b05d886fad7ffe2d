# SPDX-License-Identifier: GPL-3.0-or-later
"""A real module process loads the packed engine from its bytecode copy (module_utils/packed_loader.py;
the safety cases are in tests/unit/layers/test_packed_loader.py)."""
from __future__ import annotations

import importlib.util
import os

from .helpers import run_playbook


def test_tasks_build_then_reuse_one_checked_hash_copy(engine_env, busybox_archive, tmp_path):
    base = tmp_path / "bytecode"
    engine_env["LIBPOD_ENGINE_BYTECODE_DIR"] = str(base)
    res = run_playbook(engine_env, """
    - libpod.engine.container:
        name: bc
        image: oci-archive:%s
        state: created
        network: none
        command: [sleep, "1000"]
      loop: [1, 2]
    """ % busybox_archive)
    assert res.rc == 0, res.log
    assert [r["changed"] for r in res.tasks[0]["results"]] == [True, False]
    (copy,) = os.listdir(base)
    runtime = os.path.join(base, copy, "engine", "runtime.py")
    options = os.path.join(base, copy, "reconcile", "container_options.py")
    assert os.path.isfile(importlib.util.cache_from_source(runtime))
    assert os.path.isfile(importlib.util.cache_from_source(options))
    assert os.stat(base / copy).st_mode & 0o777 == 0o700
