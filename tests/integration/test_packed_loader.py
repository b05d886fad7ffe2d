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


SENT = "libpod.engine: the node has no usable copy of this engine version; sending the pack"


def test_the_pack_is_sent_only_to_a_node_that_asks_for_it(engine_env, busybox_archive, tmp_path):
    """The payloads do not carry the engine's pack (plugins/plugin_utils/engine_action.py): the first task of an
    engine version asks for it and gets it, the later ones use the copy it built; an async task
    gets it every time (it answers too late to ask), and so does every task on a node that keeps
    no copy. With pipelining (no remote temporary directory) the action makes one for the pack."""
    engine_env["LIBPOD_ENGINE_BYTECODE_DIR"] = str(tmp_path / "bytecode")
    tasks = """
    - libpod.engine.container:
        name: sent
        image: oci-archive:%s
        state: created
        network: none
        command: [sleep, "1000"]
      loop: [1, 2]
    - libpod.engine.container_info:
        name: [sent]
      register: info
    - libpod.engine.container:
        name: sent
        state: absent
      async: 60
      poll: 1
    """ % busybox_archive
    res = run_playbook(engine_env, tasks, extra_args=["-vvv"])
    assert res.rc == 0, res.log
    assert [r["changed"] for r in res.tasks[0]["results"]] == [True, False]
    assert res.tasks[1]["containers"][0]["Name"] == "sent" and res.tasks[2]["changed"]
    assert res.stdout.count(SENT) == 1, res.log  # the first task only
    assert len(os.listdir(tmp_path / "bytecode")) == 1

    engine_env["LIBPOD_ENGINE_BYTECODE_DIR"] = "off"  # no copy kept: every task asks, and gets it
    engine_env["ANSIBLE_PIPELINING"] = "True"
    res = run_playbook(engine_env, tasks, extra_args=["-vvv"])
    assert res.rc == 0, res.log
    assert [r["changed"] for r in res.tasks[0]["results"]] == [True, False] and res.tasks[2]["changed"]
    assert res.stdout.count(SENT) == 3, res.log  # both loop items and the info task; async got it anyway
