# SPDX-License-Identifier: GPL-3.0-or-later
"""A simulated reboot with real containers: conmons and containers killed, our mounts gone, the tmp
dir wiped. The next module run refreshes the engine as podman does; restart_policy=always containers
come back through the boot command (cli.py boot, what the boot unit runs) or the next reconcile."""
from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from .helpers import REPO, _mounts_under, _proc_cmdlines

LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
HAVE_POD_MODULE = os.path.exists(os.path.join(REPO, "plugins", "modules", "pod.py"))


@pytest.fixture
def own_network(engine_env):
    """This test's engine root (its containers.conf already has a bridge and subnet of its own)."""
    return engine_env


def _db(env):
    return sqlite3.connect(os.path.join(env.paths["static_dir"], "state.db"))


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def simulate_reboot(env):
    """What a reboot does to the engine: every process gone, every mount gone, the tmpfs empty."""
    db = _db(env)
    try:
        states = [json.loads(s) for (s,) in db.execute("SELECT state FROM containers")]
    finally:
        db.close()
    pids = [s.get("conmon_pid") for s in states] + [s.get("pid") for s in states]
    pids = [p for p in pids if p]
    # the port holders (argv[0] <tmp_dir>/ports/<id>, or the [::1] proxy's argument) die with every other process
    holders = os.path.join(env.paths["tmp_dir"], "ports") + "/"
    pids += [pid for pid, cmd in _proc_cmdlines() if cmd.startswith(holders) or " " + holders in cmd]
    for pid in pids:  # conmon first: no exit command may run
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.time() + 10
    while any(_pid_alive(p) for p in pids) and time.time() < deadline:
        time.sleep(0.05)
    roots = [env.paths["static_dir"], env.paths["tmp_dir"]]
    for point in _mounts_under(roots):
        subprocess.run(["umount", "-l", point], check=True, capture_output=True)
    assert _mounts_under(roots) == []
    shutil.rmtree(env.paths["tmp_dir"])
    return pids


def _status(task):
    return {c["Name"]: c["State"]["Status"] for c in task["containers"]}


def test_reboot_refresh_and_restart(playbook, own_network, busybox_archive):
    env = own_network
    img = "oci-archive:" + busybox_archive
    tasks = [
        {"name": "always", "libpod.engine.container": {"name": "always", "image": img, "command": LOOP,
                                                       "restart_policy": "always", "volume": ["keep:/data"],
                                                       "publish": ["127.0.0.1:18193:80"]}},
        {"name": "plain", "libpod.engine.container": {"name": "plain", "image": img, "command": LOOP}},
        {"name": "quits", "libpod.engine.container": {"name": "quits", "image": img,
                                                      "command": ["sh", "-c", "exit 3"]}},
    ]
    if HAVE_POD_MODULE:
        tasks.append({"name": "pod", "libpod.engine.pod": {"name": "pod1"}})
    res = playbook(tasks)
    assert res.ok, res.log
    deadline = time.time() + 20      # quits: its exit command records the exit
    while time.time() < deadline:
        db = _db(env)
        try:
            st = json.loads(db.execute("SELECT state FROM containers WHERE name='quits'").fetchone()[0])
        finally:
            db.close()
        if st["status"] == "exited":
            break
        time.sleep(0.2)
    db = _db(env)
    try:
        locks_before = sorted(db.execute("SELECT lock_id, owner_kind, owner_id FROM locks").fetchall())
        assert db.execute("SELECT COUNT(*) FROM ip_leases").fetchone()[0] >= 2
        assert json.loads(db.execute("SELECT state FROM volumes WHERE name='keep'").fetchone()[0])["mount_count"] == 1
    finally:
        db.close()

    killed = simulate_reboot(env)
    assert len(killed) >= 4                                   # two conmons, two containers

    res = playbook([
        {"name": "first run after boot", "libpod.engine.runtime_info": {}},
        {"name": "second run", "libpod.engine.runtime_info": {}},
        {"name": "after refresh", "libpod.engine.container_info": {}},
    ])
    assert res.ok, res.log
    assert res.task("first run after boot")["info"]["refreshed"] is True
    assert res.task("second run")["info"]["refreshed"] is False
    after = res.task("after refresh")
    assert {k: v for k, v in _status(after).items() if not k.endswith("-infra")} == \
        {"always": "created", "plain": "created", "quits": "exited"}          # libpod resetState()
    quits = next(c for c in after["containers"] if c["Name"] == "quits")
    assert quits["State"]["ExitCode"] == 3
    for c in after["containers"]:
        assert c["State"]["Pid"] == 0 and c["State"]["ConmonPid"] == 0 and c["RestartCount"] == 0
    db = _db(env)
    try:
        assert db.execute("SELECT COUNT(*) FROM ip_leases").fetchone()[0] == 0
        assert sorted(db.execute("SELECT lock_id, owner_kind, owner_id FROM locks").fetchall()) == locks_before
        vol = json.loads(db.execute("SELECT state FROM volumes WHERE name='keep'").fetchone()[0])
        assert vol["mount_count"] == 0 and vol["mount_point"] == ""
        for (s,) in db.execute("SELECT state FROM containers"):
            st = json.loads(s)
            assert st["netns"] == "" and not st.get("network_status") and not st["mounted"]
        if HAVE_POD_MODULE:
            pod = json.loads(db.execute("SELECT state FROM pods WHERE name='pod1'").fetchone()[0])
            assert pod.get("cgroup_path", "") == ""
    finally:
        db.close()
    netns = os.path.join(env.paths["tmp_dir"], "netns")
    assert not os.path.isdir(netns) or os.listdir(netns) == []
    with open(os.path.join(env.paths["tmp_dir"], "events", "events.log")) as f:
        events = [json.loads(ln) for ln in f if ln.strip()]
    assert [e["Status"] for e in events if e["Type"] == "system"].count("refresh") == 1

    # the boot unit's command: refresh already done, starts restart_policy=always containers only
    run_py = glob.glob(os.path.join(env.paths["static_dir"], "lib", "*", "run.py"))
    assert len(run_py) == 1
    argv = [sys.executable, "-I", run_py[0]]
    for key in ("engine.static_dir", "engine.tmp_dir", "engine.volume_path", "storage.graph_root"):
        section, name = key.split(".")
        argv += ["--set", "%s=%s" % (key, env.paths[name])]
    boot = subprocess.run(argv + ["boot"], env=dict(env), capture_output=True, text=True, timeout=120, check=False)
    assert boot.returncode == 0, boot.stderr

    res = playbook([
        {"name": "after boot", "libpod.engine.container_info": {}},
        {"name": "reconcile plain", "libpod.engine.container": {"name": "plain", "image": img, "command": LOOP}},
        {"name": "final", "libpod.engine.container_info": {}},
    ])
    assert res.ok, res.log
    status = _status(res.task("after boot"))
    assert status["always"] == "running" and status["plain"] == "created" and status["quits"] == "exited"
    always = next(c for c in res.task("after boot")["containers"] if c["Name"] == "always")
    assert always["NetworkSettings"]["IPAddress"] and always["State"]["Pid"] not in killed
    reconcile = res.task("reconcile plain")
    assert reconcile.changed and reconcile["actions"] == ["started plain"]
    status = _status(res.task("final"))
    assert status["always"] == "running" and status["plain"] == "running"
