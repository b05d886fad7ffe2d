# SPDX-License-Identifier: GPL-3.0-or-later
"""runtime_config through real ansible-playbook runs: the file round trip (comments, check, diff),
refused changes, lock renumbering and runtime migration of real containers."""
from __future__ import annotations

import base64
import difflib
import os
import sqlite3

import pytest

PREFIX = "c"
# stops on SIGTERM within a second (sh as PID 1 ignores signals it has no trap for)
LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]


@pytest.fixture
def own_network(engine_env):
    """This test's engine root (its containers.conf already has a bridge and subnet of its own)."""
    return engine_env


COMMENTED = """\
# containers.conf of this test: comments must survive every edit.

[engine]
# where everything lives
static_dir = "%(static_dir)s"
tmp_dir = "%(tmp_dir)s"   # a tmpfs
volume_path = "%(volume_path)s"

[storage]
graph_root = "%(graph_root)s"
"""


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_file_round_trip_check_diff_and_refusals(playbook, engine_env):
    conf = engine_env.conf
    with open(conf, "w", encoding="utf-8") as f:
        f.write(COMMENTED % engine_env.paths)
    original = _read(conf)
    moved = os.path.join(engine_env.root, "volumes-moved")
    settings = {"containers": {"pids_limit": 4096}, "engine": {"stop_timeout": 3}}
    res = playbook([
        {"name": "preview", "libpod.engine.runtime_config": {"settings": settings}, "check_mode": True,
         "diff": True},
        {"name": "after preview", "ansible.builtin.slurp": {"src": conf}},
        {"name": "apply", "libpod.engine.runtime_config": {"settings": settings}, "diff": True},
        {"name": "again", "libpod.engine.runtime_config": {"settings": settings}, "diff": True},
        {"name": "missing runtime", "libpod.engine.runtime_config": {"settings": {"engine": {"runtime": "nosuchrt"}}},
         "ignore_errors": True},
        {"name": "after refusals", "ansible.builtin.slurp": {"src": conf}},
        {"name": "remove",
         "libpod.engine.runtime_config": {"settings": {"engine": ["stop_timeout"]}, "state": "absent"}},
        {"name": "boot unit", "libpod.engine.runtime_config": {"restart_on_boot": True}},
        {"name": "a volume", "libpod.engine.volume": {"name": "v1"}},
        {"name": "move volumes", "libpod.engine.runtime_config": {"settings": {"engine": {"volume_path": moved}}},
         "ignore_errors": True},
        {"name": "move volumes with reset", "libpod.engine.runtime_config": {
            "settings": {"engine": {"volume_path": moved}}, "reset": True}},
        {"name": "moved", "libpod.engine.runtime_info": {}},
    ])
    assert res.ok, res.log
    preview = res.task("preview")
    assert preview.changed and preview["actions"] == ["write %s" % conf]
    assert base64.b64decode(res.task("after preview")["content"]).decode() == original   # check mode wrote nothing
    diff = preview["diff"]
    assert diff["before"] == original
    assert "pids_limit = 4096" in diff["after"] and "stop_timeout = 3" in diff["after"]
    assert preview["changes"] == ["set [containers] pids_limit = 4096", "set [engine] stop_timeout = 3"]

    apply = res.task("apply")
    assert apply.changed and apply["diff"]["before"] == original
    unified = "".join(difflib.unified_diff(apply["diff"]["before"].splitlines(True),
                                           apply["diff"]["after"].splitlines(True)))
    assert "+pids_limit = 4096\n" in unified and "+stop_timeout = 3\n" in unified
    assert [ln for ln in unified.splitlines() if ln.startswith("-") and not ln.startswith("---")] == []
    assert apply["config"]["containers"]["pids_limit"] == 4096
    assert apply["sources"]["containers"]["pids_limit"] == conf
    assert apply["sources"]["engine"]["num_locks"] == "default"
    assert apply["config_files"] == [conf]
    assert apply["db_config"] is None          # the engine was never opened: no DB record yet

    again = res.task("again")
    assert not again.changed and again["actions"] == [] and "diff" not in again.result

    missing = res.task("missing runtime")
    assert missing.failed and missing["error_kind"] == "oci_runtime_not_found"
    assert '[engine] runtime = "nosuchrt"' in missing.msg and "[engine.runtimes]" in missing.msg
    assert "%s was not changed" % conf in missing.msg
    after_refusals = base64.b64decode(res.task("after refusals")["content"]).decode()
    assert "nosuchrt" not in after_refusals and "stop_timeout = 3" in after_refusals

    removed = res.task("remove")
    assert removed.changed and removed["changes"] == ["removed [engine] stop_timeout (was 3)"]
    assert removed["sources"]["engine"]["stop_timeout"] == "default"
    text = _read(conf)
    for line in original.splitlines():         # every comment and key of the admin's file survived
        assert line in text or line.startswith("volume_path =")   # (moved at the end of the play)
    assert 'volume_path = "%s"' % moved in text
    assert text.rstrip().endswith("pids_limit = 4096")

    boot = res.task("boot unit")   # this host: PID 1 is not systemd
    assert not boot.changed
    assert boot["boot_unit"]["systemd"] is False and boot["boot_unit"]["installed"] is False
    assert any("systemd is not PID 1" in w for w in boot.get("warnings", []))
    assert not os.path.exists("/etc/systemd/system/" + boot["boot_unit"]["unit"])

    refused = res.task("move volumes")        # a DB-recorded path, while a volume exists
    assert refused.failed and refused["error_kind"] == "db_config_mismatch"
    assert "[engine] volume_path" in refused.msg and "while the engine has 1 volume:" in refused.msg
    assert "(table db_config)" in refused.msg and "reset: true" in refused.msg
    reset = res.task("move volumes with reset")
    assert reset.changed and reset["actions"][0].startswith("reset the engine before moving volume_path")
    assert reset["reset"]["removed"]["volumes"] == ["v1"] and reset["reset"]["problems"] == []
    assert reset["config"]["engine"]["volume_path"] == moved and reset["sources"]["engine"]["volume_path"] == conf
    assert reset["db_config"] is None
    info = res.task("moved")["info"]
    assert info["store"]["volume_path"] == moved and info["db_config"]["volume_path"] == moved
    assert info["counts"]["volume"] == 0


def _locks(env):
    db = sqlite3.connect(os.path.join(env.paths["static_dir"], "state.db"))
    try:
        objs = db.execute("SELECT 'container', name, lock_id FROM containers UNION ALL "
                          "SELECT 'volume', name, lock_id FROM volumes").fetchall()
        table = db.execute("SELECT lock_id, owner_kind, owner_id FROM locks").fetchall()
    finally:
        db.close()
    return objs, table


def test_renumber_and_migrate_real_containers(playbook, own_network, busybox_archive):
    engine_env = own_network
    img = "oci-archive:" + busybox_archive
    res = playbook([
        {"name": "web", "libpod.engine.container": {"name": "web", "image": img, "command": LOOP,
                                                    "oci_runtime": "crun", "volume": ["data:/data"],
                                                    "publish": ["127.0.0.1:18191:80"]}},
        {"name": "idle", "libpod.engine.container": {"name": "idle", "image": img, "command": LOOP,
                                                     "oci_runtime": "crun", "state": "present"}},
        {"name": "too few", "libpod.engine.runtime_config": {"settings": {"engine": {"num_locks": 2}},
                                                             "renumber": True}, "ignore_errors": True},
        {"name": "running", "libpod.engine.runtime_config": {"settings": {"engine": {"num_locks": 64}},
                                                             "renumber": True}, "ignore_errors": True},
        {"name": "renumber", "libpod.engine.runtime_config": {"settings": {"engine": {"num_locks": 64}},
                                                              "renumber": True, "force": True}},
        {"name": "renumber again", "libpod.engine.runtime_config": {"renumber": True, "force": True}},
        {"name": "preview more locks", "libpod.engine.runtime_config": {
            "settings": {"engine": {"num_locks": 128}}, "renumber": True, "force": True}, "check_mode": True},
        {"name": "move tmp_dir", "libpod.engine.runtime_config": {
            "settings": {"engine": {"tmp_dir": engine_env.paths["tmp_dir"] + "-moved"}}}, "ignore_errors": True},
        {"name": "preview migrate", "libpod.engine.runtime_config": {"migrate_runtime": "runc"}, "check_mode": True},
        {"name": "to runc", "libpod.engine.runtime_config": {"migrate_runtime": "runc", "timeout": 5}},
        {"name": "on runc", "libpod.engine.container_info": {"name": ["web", "idle"]}},
        {"name": "to crun", "libpod.engine.runtime_config": {"migrate_runtime": "crun", "timeout": 5}},
        {"name": "crun again", "libpod.engine.runtime_config": {"migrate_runtime": "crun"}},
        {"name": "on crun", "libpod.engine.container_info": {"name": ["web", "idle"]}},
        {"name": "web unchanged", "libpod.engine.container": {"name": "web", "image": img, "command": LOOP,
                                                              "oci_runtime": "crun", "volume": ["data:/data"],
                                                              "publish": ["127.0.0.1:18191:80"]}},
    ])
    assert res.ok, res.log
    web_before = res.task("web")["container"]

    too_few = res.task("too few")
    assert too_few.failed and too_few["error_kind"] == "locks_exhausted"
    assert "num_locks = 2" in too_few.msg and "3 containers, pods and volumes" in too_few.msg
    running = res.task("running")
    assert running.failed and "web" in running.msg and "force" in running.msg
    # refused before anything is written (issue 14 item 8): nothing changed, the file keeps its value
    assert not running.changed and running["actions"] == [], running.result
    assert "was not changed" in running.msg
    renumber = res.task("renumber")
    assert renumber["renumber"]["objects"] == 3 and renumber["renumber"]["num_locks"] == 64
    objs, table = _locks(engine_env)
    ids = sorted(o[2] for o in objs)
    assert ids == [0, 1, 2], objs                      # containers first, then the volume, no gaps
    assert sorted(t[0] for t in table) == ids         # the allocation table agrees
    assert {o[1]: o[2] for o in objs} == {"web": 0, "idle": 1, "data": 2}
    assert not res.task("renumber again").changed
    preview = res.task("preview more locks")     # check mode sees the new value before it is written
    assert preview.changed and preview["renumber"]["num_locks"] == 128 and not preview["renumber"]["changed"]
    assert "num_locks = 128" not in _read(engine_env.conf)

    moved = res.task("move tmp_dir")
    assert moved.failed and moved["error_kind"] == "db_config_mismatch"
    assert "DB config record in %s" % os.path.join(engine_env.paths["static_dir"], "state.db") in moved.msg
    assert "2 containers, 1 volume, 1 image, 1 network" in moved.msg and "reset: true" in moved.msg
    assert "-moved" not in _read(engine_env.conf)

    preview = res.task("preview migrate")
    assert preview.changed and preview["migrate"]["migrated"] == ["web", "idle"]
    assert preview["migrate"]["stopped"] == ["web"]

    to_runc = res.task("to runc")["migrate"]
    assert to_runc["migrated"] == ["web", "idle"] and to_runc["restarted"] == ["web"]
    assert to_runc["from"] == {"web": "crun", "idle": "crun"}
    web, idle = res.task("on runc")["containers"]
    assert web["OCIRuntime"] == "runc" and web["State"]["Status"] == "running"
    assert idle["OCIRuntime"] == "runc" and idle["State"]["Status"] == "created"
    assert web["Declared"] == web_before["Declared"] and web["Id"] == web_before["Id"]

    to_crun = res.task("to crun")["migrate"]
    assert to_crun["restarted"] == ["web"]
    assert not res.task("crun again").changed
    web, idle = res.task("on crun")["containers"]
    assert web["OCIRuntime"] == "crun" and web["State"]["Running"] is True
    assert idle["OCIRuntime"] == "crun" and idle["State"]["Status"] == "created"
    assert web["NetworkSettings"]["Ports"] == web_before["NetworkSettings"]["Ports"]
    assert not res.task("web unchanged").changed      # the spec is what was declared
