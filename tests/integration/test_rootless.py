# SPDX-License-Identifier: GPL-3.0-or-later
"""Rootless mode: the same modules run by an unprivileged user through ``become_user`` (issue 19).

A throw-away user with subordinate ranges runs the modules with Debian's /usr/bin/python3 (the
product venv lives below /root, which the user cannot read) and ``become_method: su``. No
XDG_RUNTIME_DIR reaches the module (su starts no login session), so the engine falls back to
/tmp/libpod-engine-UID with a warning. Networking is ``none`` (pasta / slirp4netns come with the
network modes). One playbook covers: image import, container start, a second task joining the
same user namespace (pause pid unchanged), re-run changed=false, a volume whose files land on
the user's uid for container uid 0; then ``system_reset`` as the user removes only that user's
root, the root engine root of the test is untouched, and nothing of the user keeps running.
"""
from __future__ import annotations

import os
import pwd
import random
import shutil
import signal
import subprocess

import pytest

from .helpers import run_playbook

PYTHON = "/usr/bin/python3"
NEEDS = ("/usr/bin/newuidmap", "/usr/bin/newgidmap", PYTHON)


def _user_pids(uid: int, live_only: bool = True):
    """Processes of ``uid`` (zombies left out when ``live_only``: PID 1 of this host does not reap)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/status" % pid, encoding="utf-8") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if int(status.get("Uid", "-1").split()[1]) != uid:
            continue
        if live_only and status.get("State", "").strip().startswith("Z"):
            continue
        yield int(pid)


@pytest.fixture
def rootless_user(tmp_path):
    """A user with a subordinate range of its own, removed afterwards with everything it ran."""
    missing = [p for p in NEEDS if not os.access(p, os.X_OK)]
    if missing:
        pytest.skip("rootless needs %s" % ", ".join(missing))
    probe = subprocess.run([PYTHON, "-c", "import jsonschema, ruamel.yaml, pyroute2, tomlkit"],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip("Debian's python3 lacks the engine's libraries (scripts/setup.sh installs them)")
    name = "lperl%05d" % random.randrange(100000)
    start = 3000000 + random.randrange(1000) * 65536
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", name],
                   check=True)
    uid = pwd.getpwnam(name).pw_uid
    try:
        rng = "%d-%d" % (start, start + 65535)
        subprocess.run(["usermod", "--add-subuids", rng, "--add-subgids", rng, name], check=True)
        yield pwd.getpwnam(name), start
    finally:
        for pid in _user_pids(uid):  # the pause process, conmon, containers: only this user's
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["userdel", "-r", "-f", name], check=False, capture_output=True)
        shutil.rmtree("/tmp/libpod-engine-%d" % uid, ignore_errors=True)


def _rootless_env(engine_env, home: str) -> dict:
    """The playbook's environment without the root engine's containers.conf (su keeps the
    environment), with registries/policy files the user can read."""
    env = type(engine_env)(dict(engine_env), root=engine_env.root, conf=engine_env.conf, paths=engine_env.paths)
    for key in ("LIBPOD_ENGINE_CONF", "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        env.pop(key, None)
    regdir = os.path.join(home, "registries")
    os.makedirs(os.path.join(regdir, "certs.d"), exist_ok=True)
    for fname, text in (("registries.conf", ""), ("policy.json", '{"default": [{"type": "insecureAcceptAnything"}]}')):
        with open(os.path.join(regdir, fname), "w", encoding="utf-8") as f:
            f.write(text)
    env.update(LIBPOD_ENGINE_REGISTRIES_CONF=os.path.join(regdir, "registries.conf"),
               LIBPOD_ENGINE_POLICY=os.path.join(regdir, "policy.json"),
               LIBPOD_ENGINE_CERTS_DIR=os.path.join(regdir, "certs.d"),
               REGISTRY_AUTH_FILE=os.path.join(regdir, "auth.json"))
    return env


def test_rootless_lifecycle_namespace_volume_and_reset(engine_env, rootless_user, busybox_archive):
    pw, start = rootless_user
    uid, home = pw.pw_uid, pw.pw_dir
    archive = os.path.join(home, "busybox.tar")  # the fixture's copy is below root's 0700 tmp dir
    shutil.copyfile(busybox_archive, archive)
    env = _rootless_env(engine_env, home)
    for dirpath, dirnames, filenames in os.walk(home):
        for entry in dirnames + filenames:
            os.chown(os.path.join(dirpath, entry), uid, pw.pw_gid)

    # the test's root engine root holds a volume: a rootless reset must not touch it
    res = run_playbook(engine_env, "- libpod.engine.volume: {name: rootvol}")
    assert res.ok, res.log

    become = {"become": True, "become_user": pw.pw_name, "become_method": "su",
              "ansible_python_interpreter": PYTHON}
    ctr = {"name": "rl", "image": "oci-archive:" + archive, "network": "none", "volumes": ["rlvol:/data"],
           "command": ["sleep", "1000"]}
    tasks = [
        {"name": "start", "libpod.engine.container": ctr, "register": "c1"},
        {"name": "info1", "libpod.engine.runtime_info": {}},
        {"name": "again", "libpod.engine.container": ctr},
        {"name": "info2", "libpod.engine.runtime_info": {}},
        {"name": "write", "libpod.engine.container_exec": {
            "name": "rl", "command": ["sh", "-c", "id -u > /data/uid; touch /data/by-root"]}},
        {"name": "limited", "libpod.engine.container": dict(ctr, name="rl2", memory="64m")},
    ]
    for t in tasks:
        t.update({k: v for k, v in become.items() if k != "ansible_python_interpreter"})
        t["vars"] = {"ansible_python_interpreter": PYTHON}
    res = run_playbook(env, tasks)
    assert res.ok, res.log
    assert res.task("start").changed
    assert not res.task("again").changed, res.task("again").result
    i1, i2 = res.task("info1").result["info"], res.task("info2").result["info"]
    assert i1["rootless"] is True
    user = i1["rootless_user"]
    assert user["uid"] == uid and user["runtime_dir"] == "/tmp/libpod-engine-%d" % uid
    assert i1["store"]["static_dir"] == os.path.join(home, ".local/share/libpod-engine")
    assert i1["store"]["tmp_dir"] == "/tmp/libpod-engine-%d/libpod-engine" % uid
    assert user["uidmap"] == ["0:%d:1" % uid, "1:%d:65536" % start]
    assert user["gidmap"] == ["0:%d:1" % pw.pw_gid, "1:%d:65536" % start]
    # every task joined the one namespace the first task made
    pause = user["pause_pid"]
    assert pause and i2["rootless_user"]["pause_pid"] == pause
    with open(user["pause_pid_file"]) as f:
        assert int(f.read()) == pause
    with open("/proc/%d/comm" % pause) as f:
        assert f.read().strip() == "catatonit"
    assert any("XDG_RUNTIME_DIR is not set" in w for w in res.task("start").get("warnings", []))
    assert any("cgroups V1 rootless" in w for w in res.task("limited").get("warnings", []))
    # container uid 0 is the user on the host: the volume's files are the user's
    data = os.path.join(i1["store"]["volume_path"], "rlvol", "_data")
    assert os.stat(os.path.join(data, "by-root")).st_uid == uid
    with open(os.path.join(data, "uid")) as f:
        assert f.read().strip() == "0"
    assert list(_user_pids(uid)), "the user's pause process and containers run"

    res = run_playbook(env, [dict({"name": "reset", "libpod.engine.system_reset": {"confirm": True},
                                   "vars": {"ansible_python_interpreter": PYTHON}},
                                  **{k: v for k, v in become.items() if k != "ansible_python_interpreter"})])
    assert res.ok, res.log
    removed = res.task("reset").result["removed"]
    assert sorted(removed["containers"]) == ["rl", "rl2"]
    assert any("pause process %d" % pause in p for p in removed["processes"])
    assert not os.path.exists(os.path.join(home, ".local/share/libpod-engine"))
    assert not os.path.exists("/tmp/libpod-engine-%d/libpod-engine" % uid)
    assert not list(_user_pids(uid)), "nothing of the user runs after its reset"
    # the root engine root is untouched
    assert os.path.exists(os.path.join(engine_env.paths["static_dir"], "state.db"))
    res = run_playbook(engine_env, "- libpod.engine.volume_info: {name: rootvol}\n  register: v")
    assert res.ok, res.log
    assert [v["Name"] for v in res.tasks[0].result["volumes"]] == ["rootvol"]
