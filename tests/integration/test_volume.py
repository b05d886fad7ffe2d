# SPDX-License-Identifier: GPL-3.0-or-later
"""volume and volume_info through real ansible-playbook runs, with real containers.

Every test combines its steps into as few playbooks as it can; containers run with
``network: none`` (no bridge set-up) and short commands that exit on their own, so a
test waits for "exited" with an ``until`` loop instead of stopping anything.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import mounts
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.roots import MARKER
from ansible_collections.libpod.engine.tests.helpers.volume_plugin_server import VolumePluginServer

from .helpers import run_playbook

ANSIBLE_BIN = os.path.dirname(sys.executable)
IMAGE = "oci-archive:{{ busybox }}"


def run_and_wait(name: str, volumes: list, command: str, **extra) -> list:
    """Tasks: run a busybox container with ``command`` and wait until it exited; logs in ``<name>_info``."""
    ctr = {"name": name, "image": IMAGE, "network": "none", "volume": volumes, "command": ["sh", "-c", command]}
    ctr.update(extra)
    return [
        {"name": "run %s" % name, "libpod.engine.container": ctr, "register": "%s_run" % name},
        {"name": "wait %s" % name, "libpod.engine.container_info": {"name": [name], "log_lines": 50},
         "register": "%s_info" % name, "until": "%s_info.containers[0].State.Status == 'exited'" % name,
         "retries": 100, "delay": 0.2},
    ]


def logs(task) -> list:
    return [entry["line"] for entry in task["containers"][0]["logs"]]


def engine_mounts(env) -> list:
    """Mount points under this test's engine directories (static dir and tmp dir).

    ``<tmp_dir>/netns`` itself is left out: the runtime makes that directory a shared mount
    once (as podman does with /run/netns) and keeps it; it is not a volume or container mount.
    """
    roots = [env.paths["static_dir"], env.paths["tmp_dir"]]
    netns_dir = os.path.join(env.paths["tmp_dir"], "netns")
    return [p for p in mounts.mount_points()
            if p != netns_dir and any(p == r or p.startswith(r + "/") for r in roots)]


def wait_no_mounts(env, timeout: float = 10.0) -> list:
    deadline = time.monotonic() + timeout
    while True:
        left = engine_mounts(env)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


# ------------------------------------------------------------------------------------------
def test_named_volume_survives_recreate_shared_and_forced_recreate(engine_env, busybox_archive):
    tasks = [
        {"name": "create", "libpod.engine.volume": {"name": "data", "label": {"a": "1"}}},
        *run_and_wait("w1", ["data:/data"], "echo hello > /data/f"),
        # a changed command recreates the container; the volume (and its data) stays
        *run_and_wait("w1", ["data:/data"], "cat /data/f"),
        *run_and_wait("r2", ["data:/data:ro"], "cat /data/f"),
        {"name": "label change refused in use", "libpod.engine.volume": {"name": "data", "label": {"a": "2"}},
         "ignore_errors": True},
        {"name": "preview", "libpod.engine.volume": {"name": "data", "label": {"a": "2"}, "force": True},
         "check_mode": True, "diff": True},
        {"name": "forced", "libpod.engine.volume": {"name": "data", "label": {"a": "2"}, "force": True},
         "diff": True, "register": "forced"},
        {"name": "new volume is empty", "ansible.builtin.stat": {"path": "{{ forced.volume.Mountpoint }}/f"}},
        {"name": "users gone", "libpod.engine.container_info": {"name": ["w1", "r2"]}},
        {"name": "absent", "libpod.engine.volume": {"name": "data", "state": "absent"}, "diff": True},
        {"name": "absent again", "libpod.engine.volume": {"name": "data", "state": "absent"}},
        {"name": "info after", "libpod.engine.volume_info": {"name": "data"}},
    ]
    res = run_playbook(engine_env, tasks, extra_vars={"busybox": busybox_archive})
    assert res.rc == 0, res.log

    create = res.task("create")
    assert create.changed and create["actions"] == ["created volume data"]
    vol = create["volume"]
    assert vol["Name"] == "data" and vol["Driver"] == "local" and vol["Labels"] == {"a": "1"}
    assert vol["Mountpoint"] == os.path.join(engine_env.paths["volume_path"], "data", "_data")
    for key in ("CreatedAt", "Options", "Scope", "MountCount", "UID", "GID"):
        assert key in vol

    runs = [t for t in res.tasks if t.name == "run w1"]
    assert "recreated w1" in " ".join(runs[1]["actions"]), runs[1].result
    waits = [t for t in res.tasks if t.name == "wait w1"]
    assert logs(waits[1]) == ["hello"], waits[1].result  # written before the recreate
    assert logs(res.task("wait r2")) == ["hello"]  # and seen by a second container

    refused = res.task("label change refused in use")
    assert refused.failed and refused["error_kind"] == "volume_in_use"
    assert "w1" in refused.msg and "r2" in refused.msg and "force" in refused.msg and "label changed" in refused.msg

    preview = res.task("preview")
    assert preview.changed
    assert preview["diff"] == {"before": {"label": {"a": "1"}}, "after": {"label": {"a": "2"}}}
    assert preview["actions"][0].startswith("remove container(s)")
    assert preview["actions"][1] == "recreate volume data: label changed"

    forced = res.task("forced")
    assert forced.changed, forced.result
    first, second = forced["actions"]
    assert first.startswith("removed container(s)") and "w1" in first and "r2" in first
    assert second == "recreated volume data: label changed"
    assert forced["diff"]["before"] == {"label": {"a": "1"}}  # the preview changed nothing
    assert forced["volume"]["Labels"] == {"a": "2"}
    assert sorted(res.task("users gone")["missing"]) == ["r2", "w1"]
    assert res.task("new volume is empty")["stat"]["exists"] is False  # recreating deletes the data

    absent = res.task("absent")
    assert absent.changed and absent["actions"] == ["removed volume data"] and absent["volume"] == {}
    assert absent["diff"] == {"before": {"exists": True}, "after": {"exists": False}}
    assert not res.task("absent again").changed
    assert res.task("info after")["volumes"] == [] and res.task("info after")["missing"] == ["data"]
    assert not os.path.exists(os.path.dirname(vol["Mountpoint"]))
    assert wait_no_mounts(engine_env) == []


def test_tmpfs_bind_and_implicit_volumes_in_a_container(engine_env, busybox_archive, tmp_path):
    host = tmp_path / "hostdir"
    host.mkdir()
    (host / "from-host.txt").write_text("host data\n")
    script = "df -k /t | tail -n 1; grep ' /t ' /proc/mounts; cat /h/from-host.txt; echo from-ctr > /h/ctr.txt"
    tasks = [
        {"name": "tmpfs", "libpod.engine.volume": {"name": "tmp16",
                                                   "options": ["type=tmpfs", "device=tmpfs", "o=size=16m"]}},
        {"name": "tmpfs as dict", "libpod.engine.volume": {"name": "tmp16", "options": {
            "device": "tmpfs", "type": "tmpfs", "o": " size=16m "}}},
        {"name": "bind", "libpod.engine.volume": {"name": "hostvol",
                                                  "options": ["type=none", "device=%s" % host, "o=bind"]}},
        *run_and_wait("t", ["tmp16:/t", "hostvol:/h", "implicit:/i"], script),
        {"name": "implicit unchanged", "libpod.engine.volume": {"name": "implicit"}},
        {"name": "bind unchanged", "libpod.engine.volume": {"name": "hostvol",
                                                            "options": ["o=bind", "device=%s" % host, "type=none"]}},
        {"name": "remove ctr", "libpod.engine.container": {"name": "t", "state": "absent"}},
        {"name": "options change", "libpod.engine.volume": {"name": "tmp16",
                                                            "options": ["type=tmpfs", "device=tmpfs", "o=size=32m"]},
         "diff": True},
        {"name": "info", "libpod.engine.volume_info": {}},
    ]
    res = run_playbook(engine_env, tasks, extra_vars={"busybox": busybox_archive})
    assert res.rc == 0, res.log
    assert res.task("tmpfs").changed and not res.task("tmpfs as dict").changed
    assert res.task("tmpfs")["volume"]["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=16m"}

    out = logs(res.task("wait t"))
    df = out[0].split()
    assert df[0] == "tmpfs" and df[1] == "16384", out  # a 16 MiB tmpfs, inside the container
    fields = out[1].split()
    assert fields[1:3] == ["/t", "tmpfs"] and "size=16384k" in fields[3].split(","), out
    assert "host data" in out  # the bind volume shows the host directory
    assert (host / "ctr.txt").read_text() == "from-ctr\n"  # and writes go to it

    assert not res.task("implicit unchanged").changed  # created by the container with defaults
    assert not res.task("bind unchanged").changed  # option order does not matter
    change = res.task("options change")
    assert change.changed and change["actions"] == ["recreated volume tmp16: options changed"]
    assert change["diff"] == {"before": {"options": {"type": "tmpfs", "device": "tmpfs", "o": "size=16m"}},
                              "after": {"options": {"type": "tmpfs", "device": "tmpfs", "o": "size=32m"}}}
    assert sorted(v["Name"] for v in res.task("info")["volumes"]) == ["hostvol", "implicit", "tmp16"]
    assert all(v["MountCount"] == 0 for v in res.task("info")["volumes"])
    assert wait_no_mounts(engine_env) == []
    assert (host / "from-host.txt").exists()  # removing users never touches the host directory


def test_declared_spec_check_mode_and_diff(engine_env):
    spec = {"name": "v", "label": {"x": "y"}, "uid": 1000,
            "options": ["type=tmpfs", "device=tmpfs", "o=size=8m,mode=0750", "nocopy"]}
    same_as_dict = {"name": "v", "labels": {"x": "y"}, "uid": 1000, "options": {
        "nocopy": True, "o": "size=8m, mode=0750", "device": "tmpfs", "type": "tmpfs"}}
    reordered_o = dict(spec, options=["type=tmpfs", "device=tmpfs", "o=mode=0750,size=8m", "nocopy"])
    tasks = [
        {"name": "check create", "libpod.engine.volume": spec, "check_mode": True, "diff": True},
        {"name": "nothing yet", "libpod.engine.volume_info": {"name": "v"}},
        {"name": "create", "libpod.engine.volume": spec},
        {"name": "dict form", "libpod.engine.volume": same_as_dict},
        {"name": "o order", "libpod.engine.volume": reordered_o, "check_mode": True, "diff": True},
        {"name": "labels dropped", "libpod.engine.volume": {k: v for k, v in spec.items() if k != "label"},
         "check_mode": True, "diff": True},
        {"name": "recreate", "libpod.engine.volume": dict(spec, recreate=True), "diff": True},
        {"name": "still same", "libpod.engine.volume": same_as_dict},
        {"name": "check absent", "libpod.engine.volume": {"name": "v", "state": "absent"}, "check_mode": True},
        {"name": "still there", "libpod.engine.volume_info": {}},
        {"name": "absent", "libpod.engine.volume": {"name": "v", "state": "absent"}},
    ]
    res = run_playbook(engine_env, tasks)
    assert res.rc == 0, res.log
    check = res.task("check create")
    assert check.changed and check["actions"] == ["create volume v"] and check["volume"] == {}
    assert check["diff"] == {"before": {"exists": False}, "after": {"exists": True}}
    assert res.task("nothing yet")["volumes"] == []

    vol = res.task("create")["volume"]
    assert vol["UID"] == 1000 and vol["Labels"] == {"x": "y"}
    assert vol["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=8m,mode=0750", "nocopy": "",
                              "uid": "1000"}
    assert not res.task("dict form").changed

    o_order = res.task("o order")
    assert o_order.changed and o_order["actions"] == ["recreate volume v: options changed"]
    assert o_order["diff"]["before"]["options"]["o"] == "size=8m,mode=0750"
    assert o_order["diff"]["after"]["options"]["o"] == "mode=0750,size=8m"
    dropped = res.task("labels dropped")
    assert dropped["diff"] == {"before": {"label": {"x": "y"}}, "after": {"label": {}}}

    rec = res.task("recreate")
    assert rec.changed and rec["actions"] == ["recreated volume v: recreate requested"]
    assert "diff" not in rec.result or rec["diff"] == {"before": {}, "after": {}}
    assert rec["volume"]["CreatedAt"] >= vol["CreatedAt"]
    assert not res.task("still same").changed  # the recreated volume stored the same declared spec

    assert res.task("check absent").changed and res.task("check absent")["actions"] == ["remove volume v"]
    assert [v["Name"] for v in res.task("still there")["volumes"]] == ["v"]
    assert res.task("absent").changed


def test_bad_names_and_options_create_nothing(engine_env, tmp_path):
    missing_dir = str(tmp_path / "no-such-dir")
    bad = [
        ("dotdot", {"name": "../x"}, "name"),
        ("slash", {"name": "a/b"}, "name"),
        ("unknown option", {"name": "ok1", "options": ["foo=bar"]}, "not valid for the local driver"),
        ("bind to nowhere", {"name": "ok4", "options": ["type=none", "device=" + missing_dir, "o=bind"]},
         "not an existing directory"),
        ("unknown driver", {"name": "ok5", "driver": "nope"}, 'driver "nope" is not available'),
    ]
    tasks = []
    for title, args, _unused in bad:
        tasks.append({"name": title, "libpod.engine.volume": args, "ignore_errors": True})
    tasks.append({"name": "dotdot in check mode", "libpod.engine.volume": {"name": "../x"}, "check_mode": True,
                  "ignore_errors": True})
    tasks.append({"name": "info", "libpod.engine.volume_info": {}})
    res = run_playbook(engine_env, tasks)
    assert res.rc == 0, res.log
    for title, _unused, words in bad:
        task = res.task(title)
        assert task.failed, (title, task.result)
        assert words in task.msg, (title, task.msg)
        assert task["error_kind"] == "invalid_argument", (title, task.result)
    for title in ("dotdot", "dotdot in check mode"):
        msg = res.task(title).msg
        assert "volume parameter name '../x' is invalid" in msg and "start with a letter or digit" in msg, msg
    assert res.task("info")["volumes"] == []
    vol_dir = engine_env.paths["volume_path"]
    # nothing but the root's own ownership marker (host/roots.py)
    assert not os.path.exists(vol_dir) or set(os.listdir(vol_dir)) <= {MARKER}
    assert not os.path.exists(os.path.join(engine_env.paths["static_dir"], "x"))
    assert not os.path.exists(os.path.join(os.path.dirname(vol_dir), "x"))


@pytest.fixture
def plugins(tmp_path):
    """The test plugin, and a socket path nobody listens on (requested before engine_env, so the
    plugin outlives the engine teardown; a plugin that accepts and never answers is covered by
    tests/unit/test_volume_plugin.py)."""
    base = tmp_path / "plug"
    base.mkdir()
    good = VolumePluginServer(str(base / "good"), str(base / "good.sock")).start()
    yield {"good": good, "dead": str(base / "dead.sock")}
    good.stop()


def test_plugin_driver_and_dead_plugin(plugins, engine_env, busybox_archive):
    good = plugins["good"]
    with open(engine_env.conf, "a", encoding="utf-8") as f:
        f.write('\n[engine.volume_plugins]\ntestplug = "%s"\ndeadplug = "%s"\n' % (good.socket_path, plugins["dead"]))
    pv = {"name": "pv", "driver": "testplug", "label": {"k": "v"}, "options": ["foo=bar", "o=timeout=2"]}
    tasks = [
        {"name": "create", "libpod.engine.volume": pv},
        {"name": "again", "libpod.engine.volume": pv},
        *run_and_wait("pc", ["pv:/p"], "echo via-plugin > /p/f; cat /p/f"),
        {"name": "remove ctr", "libpod.engine.container": {"name": "pc", "state": "absent"}},
        {"name": "after ctr", "libpod.engine.volume_info": {"name": "pv"}},
        {"name": "dead", "libpod.engine.volume": {"name": "dv", "driver": "deadplug", "options": ["o=timeout=1"]},
         "ignore_errors": True},
        {"name": "info", "libpod.engine.volume_info": {}},
    ]
    res = run_playbook(engine_env, tasks, extra_vars={"busybox": busybox_archive})
    assert res.rc == 0, res.log
    create = res.task("create")
    assert create.changed and create["volume"]["Driver"] == "testplug" and create["volume"]["Labels"] == {"k": "v"}
    assert create["volume"]["Options"] == {"foo": "bar", "o": "timeout=2"} and create["volume"]["Timeout"] == 2
    assert not res.task("again").changed
    assert logs(res.task("wait pc")) == ["via-plugin"]
    with open(os.path.join(good.root, "volumes", "pv", "f"), encoding="utf-8") as f:
        assert f.read() == "via-plugin\n"  # the container wrote into the plugin's directory
    ops = good.ops()
    assert ops.count("VolumeDriver.Create") == 1 and ops.count("VolumeDriver.Mount") == 1
    created = [body for op, body in good.calls if op == "VolumeDriver.Create"]
    assert created == [{"Name": "pv", "Opts": {"foo": "bar"}}]  # o=timeout= is the engine's, not sent
    # the unmount belongs to the container's exit command (conmon); see the xfail at the end
    leaked = res.task("after ctr")["volumes"][0]["MountCount"] != 0 or "VolumeDriver.Unmount" not in ops

    dead = res.task("dead")
    assert dead.failed and "deadplug" in dead.msg and "not reachable for 1.0s" in dead.msg, dead.msg
    assert [v["Name"] for v in res.task("info")["volumes"]] == ["pv"]  # nothing half-created

    # the plugin goes away: removal fails clearly, the volume stays recorded, a retry works
    good.stop()
    res = run_playbook(engine_env, [
        {"name": "remove", "libpod.engine.volume": {"name": "pv", "state": "absent"}, "ignore_errors": True},
        {"name": "info", "libpod.engine.volume_info": {"name": "pv"}},
    ])
    assert res.rc == 0, res.log
    remove = res.task("remove")
    assert remove.failed and "testplug" in remove.msg and "not reachable" in remove.msg, remove.msg
    assert [v["Name"] for v in res.task("info")["volumes"]] == ["pv"]
    good.start()
    res = run_playbook(engine_env, [
        {"name": "remove", "libpod.engine.volume": {"name": "pv", "state": "absent"}},
        {"name": "info", "libpod.engine.volume_info": {}},
    ])
    assert res.rc == 0, res.log
    assert res.task("remove").changed and res.task("info")["volumes"] == []
    assert good.ops()[-2:] == ["VolumeDriver.Unmount", "VolumeDriver.Remove"] or good.ops()[-1] == "VolumeDriver.Remove"
    assert good.volumes == {}  # the plugin's volume is gone too
    assert wait_no_mounts(engine_env) == []
    # the container's exit command (run by conmon) reads the same containers.conf, plugins included
    assert not leaked, leaked


def test_ansible_doc_renders(engine_env):
    out = subprocess.run([os.path.join(ANSIBLE_BIN, "ansible-doc"), "-t", "module", "libpod.engine.volume",
                          "libpod.engine.volume_info"], env=engine_env, capture_output=True, text=True, timeout=60,
                         check=False)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    for words in ("Creates and removes named volumes", "removes those containers first",
                  "Returns inspect-like data", "volume_info", "RETURN VALUES"):
        assert words.lower() in text.lower(), words
    assert "[WARNING]" not in out.stderr, out.stderr


@pytest.mark.parametrize("empty", [True, False], ids=["empty", "non-empty"])
def test_volume_roots_keep_their_owner_and_mode(engine_env, busybox_archive, tmp_path, empty):
    # issue 14 item 1: mounted at busybox's /tmp (1777), a bind volume's host directory became 1777,
    # and so did a named volume that already had content
    host = tmp_path / "site"
    host.mkdir()
    os.chmod(host, 0o750)
    if not empty:
        (host / "index.html").write_text("kept\n")
    tasks = [
        {"name": "bind", "libpod.engine.volume": {"name": "sitevol",
                                                  "options": ["type=none", "device=%s" % host, "o=bind"]}},
        {"name": "named", "libpod.engine.volume": {"name": "named"}, "register": "named"},
    ]
    res = run_playbook(engine_env, tasks)
    assert res.rc == 0, res.log
    named = res.task("named")["volume"]["Mountpoint"]
    os.chmod(named, 0o750)
    if not empty:
        with open(os.path.join(named, "data.txt"), "w") as f:
            f.write("kept\n")
    res = run_playbook(engine_env, run_and_wait("t", ["sitevol:/tmp", "named:/root"], "ls /tmp"),
                       extra_vars={"busybox": busybox_archive})
    assert res.rc == 0, res.log
    st = os.stat(host)
    assert (oct(st.st_mode & 0o7777), st.st_uid, st.st_gid) == (oct(0o750), 0, 0)  # never the image's
    st = os.stat(named)
    if empty:
        # first copy-up into an empty volume: podman gives the root the image directory's owner and mode
        assert oct(st.st_mode & 0o7777) == oct(0o700)  # busybox /root
    else:
        assert (oct(st.st_mode & 0o7777), st.st_uid, st.st_gid) == (oct(0o750), 0, 0)
