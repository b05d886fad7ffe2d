# SPDX-License-Identifier: GPL-3.0-or-later
"""A state DB that is empty, missing, damaged or another program's (issues 22.4 and 14.3).

Never a fresh start next to existing containers (the same task would start a second copy of a
running container); every module fails naming the file and system_reset; system_reset with
confirm removes everything, including the runtime containers the DB no longer knows.
"""
from __future__ import annotations

import os
import sqlite3

import pytest

from .helpers import _proc_cmdlines

LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]


def _conmons(env):
    """PIDs of the conmons of this test's engine root."""
    return sorted(pid for pid, cmd in _proc_cmdlines()
                  if os.path.basename(cmd.split(" ", 1)[0]) == "conmon"
                  and (env.paths["tmp_dir"] in cmd or env.paths["static_dir"] in cmd))


def _web(img):
    return {"name": "web", "libpod.engine.container": {"name": "web", "image": img, "command": LOOP,
                                                       "volume": ["data:/data"]}}


def _damage(db, how):
    for suffix in ("-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    if how == "empty":
        open(db, "w").close()
    elif how == "missing":
        os.unlink(db)
    elif how == "corrupt":
        size = os.path.getsize(db)
        with open(db, "r+b") as f:
            f.write(b"\x00garbage" * (size // 8))
    elif how == "foreign":
        os.unlink(db)
        conn = sqlite3.connect(db)  # podman's sqlite state: tables of its own, no engine schema
        conn.execute("CREATE TABLE DBConfig (ID INTEGER PRIMARY KEY, SchemaVersion INTEGER)")
        conn.commit()
        conn.close()


@pytest.mark.parametrize("how", ["empty", "missing", "corrupt", "foreign"])
def test_damaged_db_is_an_error_everywhere_and_reset_cleans_up(playbook, engine_env, busybox_archive, how):
    img = "oci-archive:" + busybox_archive
    res = playbook([_web(img)])
    assert res.ok, res.log
    running = _conmons(engine_env)
    assert len(running) == 1, running
    db = os.path.join(engine_env.paths["static_dir"], "state.db")
    _damage(db, how)

    ignore = {"ignore_errors": True}
    res = playbook([
        dict(_web(img), **ignore),
        {"name": "info", "libpod.engine.container_info": {"name": ["web"]}, **ignore},
        {"name": "absent", "libpod.engine.container": {"name": "web", "state": "absent"}, **ignore},
        {"name": "volume", "libpod.engine.volume_info": {}, **ignore},
        {"name": "runtime", "libpod.engine.runtime_info": {}, **ignore},
        {"name": "check", "libpod.engine.container": {"name": "web", "image": img, "command": LOOP},
         "check_mode": True, **ignore},
    ])
    for task in res.tasks:
        assert task.failed, (task.name, task.result)
        assert db in task.msg and "system_reset" in task.msg, (task.name, task.msg)
        assert "Traceback" not in str(task.result) and task.result.get("error_kind", "").startswith("state_db")
    assert _conmons(engine_env) == running  # no second copy of web was started
    if how in ("empty", "missing"):
        assert "refusing to start over" in res.task("info").msg
    else:
        assert "not a libpod.engine state DB" in res.task("info").msg

    res = playbook([
        {"name": "preview", "libpod.engine.system_reset": {}, "check_mode": True},
        {"name": "reset", "libpod.engine.system_reset": {"confirm": True}},
    ])
    assert res.ok, res.log
    preview = res.task("preview")
    assert preview.changed and any("not in the state DB" in c for c in preview["removed"]["containers"])
    assert (db in preview["removed"]["paths"]) == (how != "missing")
    reset = res.task("reset")
    assert reset.changed and any("not in the state DB" in c for c in reset["removed"]["containers"])
    assert _conmons(engine_env) == []
    assert not os.path.exists(engine_env.paths["static_dir"])
    # the default network's bridge goes too, also when the DB that knew it is missing (it stayed,
    # and once another root dropped its claim, the fresh start below refused it as foreign)
    prefix = engine_env.paths["bridge_prefix"]
    assert not [n for n in os.listdir("/sys/class/net") if n.startswith(prefix)], reset["removed"]["networks"]

    res = playbook([_web(img)])  # a fresh start now works
    assert res.ok, res.log
