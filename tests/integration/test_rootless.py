# SPDX-License-Identifier: GPL-3.0-or-later
"""Rootless mode: the same modules run by an unprivileged user through ``become_user`` (issue 19).

A throw-away user with subordinate ranges runs the modules with Debian's /usr/bin/python3 (the
product venv lives below /root, which the user cannot read) and ``become_method: su``. No
XDG_RUNTIME_DIR reaches the module (su starts no login session), so the engine falls back to
/tmp/libpod-engine-UID with a warning. Networking is ``none``, and slirp4netns (the rootless
default) for a published httpd; a port below ip_unprivileged_port_start is refused. One playbook
covers: image import, container start, a second task joining the
same user namespace (pause pid unchanged), re-run changed=false, a volume whose files land on
the user's uid for container uid 0, a pod whose member (no network declared) joins its infra's
network namespace (slirp4netns; the pod's port reaches it, its /etc files are the pod's); then
``system_reset`` as the user removes only that user's root, the root engine root of the test is
untouched, and nothing of the user keeps running.
"""
from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import mounts
from ansible_collections.libpod.engine.tests.helpers.devmode import device_mode
from ansible_collections.libpod.engine.tests.helpers.rootless import (
    as_user,
    give,
    missing_requirements,
    rootless_env,
    run_dir,
    throwaway_user,
    user_pids,
)

from .helpers import free_port, http_get, run_playbook

TUN = "/dev/net/tun"
FUSE = "/dev/fuse"
FUSE_OVERLAYFS = "/usr/bin/fuse-overlayfs"


@pytest.fixture
def usable_tun():
    """/dev/net/tun as Debian's udev leaves it (0666): this VM keeps it 0600, and both slirp4netns and
    pasta need it for unprivileged users. The host's mode is put back by the last of concurrent runs."""
    with device_mode(TUN, 0o666):
        yield


@pytest.fixture
def usable_fuse():
    """/dev/fuse as Debian's udev leaves it (0666), for fuse-overlayfs: this VM keeps it 0600."""
    if not os.access(FUSE_OVERLAYFS, os.X_OK) or not os.path.exists(FUSE):
        pytest.skip("needs fuse-overlayfs and /dev/fuse")
    with device_mode(FUSE, 0o666):
        yield


def mount_types(pid: int) -> dict:
    """mount point -> fs type in the mount namespace of ``pid`` (the pause process's: the user's)."""
    return {e.point: e.fstype for e in mounts.mount_table("/proc/%d/mountinfo" % pid)}


@pytest.fixture
def rootless_user():
    """A user with a subordinate range of its own, removed afterwards with everything it ran."""
    why = missing_requirements()
    if why:
        pytest.skip(why)
    with throwaway_user() as user:
        yield user


FUSE_PASTA = {"storage": {"mount_program": FUSE_OVERLAYFS}, "network": {"default_rootless_network_cmd": "pasta"}}


def test_rootless_lifecycle_namespace_volume_and_reset(engine_env, rootless_user, busybox_archive, usable_tun,
                                                       usable_fuse):
    pw, start = rootless_user
    port, port2, port3, port4, port5 = (free_port() for _i in range(5))
    uid, home = pw.pw_uid, pw.pw_dir
    archive = os.path.join(home, "busybox.tar")  # the fixture's copy is below root's 0700 tmp dir
    shutil.copyfile(busybox_archive, archive)
    env = type(engine_env)(rootless_env(engine_env, home), root=engine_env.root, conf=engine_env.conf,
                           paths=engine_env.paths)
    give(home, pw)

    # the test's root engine root holds a volume: a rootless reset must not touch it
    res = run_playbook(engine_env, "- libpod.engine.volume: {name: rootvol}")
    assert res.ok, res.log

    member = {"name": "rlnm", "image": "oci-archive:" + archive, "pod": "rlnet",
              "command": ["httpd", "-f", "-p", "8080", "-h", "/etc"]}
    httpd = {"image": "oci-archive:" + archive, "publish": ["127.0.0.1:%d:8080" % port5],
             "command": ["httpd", "-f", "-p", "8080", "-h", "/etc"]}
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
        # no network declared: podman's rootless default ([network] default_rootless_network_cmd)
        {"name": "web", "libpod.engine.container": {
            "name": "rlweb", "image": "oci-archive:" + archive, "publish": ["127.0.0.1:%d:8080" % port],
            "command": ["httpd", "-f", "-p", "8080", "-h", "/etc"]}},
        {"name": "web again", "libpod.engine.container": {
            "name": "rlweb", "image": "oci-archive:" + archive, "publish": ["127.0.0.1:%d:8080" % port],
            "command": ["httpd", "-f", "-p", "8080", "-h", "/etc"]}},
        {"name": "low port", "ignore_errors": True, "libpod.engine.container": {
            "name": "rllow", "image": "oci-archive:" + archive, "publish": ["127.0.0.1:80:8080"],
            "command": ["sleep", "1000"]}},
        # fuse-overlayfs forced by [storage] mount_program, pasta by default_rootless_network_cmd
        {"name": "fuse pasta", "libpod.engine.container": {
            "name": "rlfuse", "image": "oci-archive:" + archive, "publish": ["127.0.0.1:%d:8080" % port2],
            "command": ["httpd", "-f", "-p", "8080", "-h", "/etc"], "engine_options": FUSE_PASTA}},
        {"name": "fuse write", "libpod.engine.container_exec": {
            "name": "rlfuse", "command": ["sh", "-c", "echo hi > /written; rm /etc/group; test ! -e /etc/group"]}},
        {"name": "info3", "libpod.engine.runtime_info": {"engine_options": FUSE_PASTA}},
        # a pod's limits: no pod cgroup either (they were written to /sys/fs/cgroup/*/libpod-engine: EACCES)
        {"name": "pod", "libpod.engine.pod": {"name": "rlpod", "memory": "64m", "infra": False}},
        {"name": "pod member", "libpod.engine.container": dict(ctr, name="rlpm", pod="rlpod", volumes=[])},
        # no network declared in a pod without a shared network: the rootless default, as outside a pod; its
        # published port moves in place (the tool restarts)
        {"name": "pod member 2", "libpod.engine.container": dict(httpd, name="rlpm2", pod="rlpod")},
        {"name": "pod member 2 port", "libpod.engine.container": dict(httpd, name="rlpm2", pod="rlpod",
                                                                      publish=["127.0.0.1:%d:8080" % port4])},
        # a pod with an infra: its port reaches the member, which joins the infra's network namespace
        {"name": "net pod", "libpod.engine.pod": {
            "name": "rlnet", "infra_name": "rlnet-infra", "publish": ["127.0.0.1:%d:8080" % port3]}},
        {"name": "net member", "libpod.engine.container": member},
        {"name": "net member again", "libpod.engine.container": member},
        {"name": "net member 2", "libpod.engine.container": dict(member, name="rlnm2", command=["sleep", "1000"])},
        {"name": "net pod info", "libpod.engine.pod_info": {"name": "rlnet"}},
        {"name": "net infra", "libpod.engine.container_info": {"name": "rlnet-infra"}},
    ]
    res = run_playbook(env, [as_user(t, pw) for t in tasks])
    assert res.ok, res.log
    fuse = res.task("fuse pasta").result["container"]
    assert fuse["HostConfig"]["NetworkMode"] == "pasta", fuse["HostConfig"]["NetworkMode"]
    assert "root:" in http_get("http://127.0.0.1:%d/passwd" % port2)  # served through pasta
    web = res.task("web").result["container"]
    assert web["HostConfig"]["NetworkMode"] == "slirp4netns", web["HostConfig"]["NetworkMode"]
    assert "root:" in http_get("http://127.0.0.1:%d/passwd" % port)  # served through slirp4netns
    assert not res.task("web again").changed, res.task("web again").result
    low = res.task("low port")
    assert low.failed and "below net.ipv4.ip_unprivileged_port_start" in low.msg, low.result
    assert res.task("start").changed
    assert not res.task("again").changed, res.task("again").result
    i1, i2, i3 = (res.task(t).result["info"] for t in ("info1", "info2", "info3"))
    assert i1["store"]["overlay"]["kind"] == "native", i1["store"]["overlay"]
    assert i3["store"]["overlay"] == {"kind": "fuse-overlayfs", "mount_program": FUSE_OVERLAYFS,
                                      "reason": "[storage] mount_program"}
    assert i1["rootless"] is True
    user = i1["rootless_user"]
    assert user["uid"] == uid and user["runtime_dir"] == run_dir(uid)
    assert i1["store"]["static_dir"] == os.path.join(home, ".local/share/libpod-engine")
    assert i1["store"]["tmp_dir"] == os.path.join(run_dir(uid), "libpod-engine")
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
    assert user["cgroup"]["parent"] == "" and "cgroups V1 rootless" in user["cgroup"]["reason"]  # hybrid host
    assert any("cgroups V1 rootless" in w for w in res.task("pod member").get("warnings", []))
    # a member that declares no network joins its pod's: one network namespace, the pod's port reaches it
    nm = res.task("net member").result["container"]
    assert nm["HostConfig"]["NetworkMode"] == "pod", nm["HostConfig"]["NetworkMode"]
    assert not res.task("net member again").changed, res.task("net member again").result
    (net_pod,) = res.task("net pod info").result["pods"]
    assert net_pod["InfraConfig"]["NetworkMode"] == "slirp4netns", net_pod["InfraConfig"]
    (infra,) = res.task("net infra").result["containers"]
    assert infra["Id"] == net_pod["InfraContainerId"] and infra["State"]["Running"], infra["State"]
    netns = {os.readlink("/proc/%d/ns/net" % pid) for pid in (nm["State"]["Pid"], infra["State"]["Pid"])}
    assert len(netns) == 1, netns
    assert "root:" in http_get("http://127.0.0.1:%d/passwd" % port3)  # the pod's port, served by the member
    # its /etc files are the pod's: names at slirp4netns' address, its DNS forwarder (podman: the infra's files)
    etc = {c["Id"]: os.path.join(i1["store"]["run_root"], "containers", c["Id"]) for c in (nm, infra)}
    with open(os.path.join(etc[nm["Id"]], "hosts")) as f:
        hosts = f.read()
    assert "10.0.2.100\trlnet rlnm\n" in hosts and "10.0.2.100\trlnm2\t" in hosts, hosts  # rlnm2 started later
    resolv = {}
    for ctr_id, path in etc.items():
        with open(os.path.join(path, "resolv.conf")) as f:
            resolv[ctr_id] = f.read()
    assert resolv[nm["Id"]] == resolv[infra["Id"]] and "nameserver 10.0.2.3\n" in resolv[nm["Id"]], resolv
    pm2 = res.task("pod member 2 port")
    assert pm2.result["container"]["HostConfig"]["NetworkMode"] == "pod" and pm2.changed, pm2.result
    assert "in place" in pm2.result["actions"][0], pm2.result["actions"]
    assert "root:" in http_get("http://127.0.0.1:%d/passwd" % port4)  # through the member's own slirp4netns
    # container uid 0 is the user on the host: the volume's files are the user's
    data = os.path.join(i1["store"]["volume_path"], "rlvol", "_data")
    assert os.stat(os.path.join(data, "by-root")).st_uid == uid
    with open(os.path.join(data, "uid")) as f:
        assert f.read().strip() == "0"
    assert list(user_pids(uid)), "the user's pause process and containers run"
    # rlfuse's root is a fuse-overlayfs mount of the user's mount namespace; its writes land in its upper dir
    cdir = os.path.join(i1["store"]["graph_root"], "containers", fuse["Id"])
    types = mount_types(pause)
    assert types[os.path.join(cdir, "merged")] == "fuse.fuse-overlayfs"
    assert types[os.path.join(i1["store"]["graph_root"], "containers", web["Id"], "merged")] == "overlay"
    upper = os.path.join(cdir, "upper")
    assert os.stat(os.path.join(upper, "written")).st_uid == uid
    assert {"group", ".wh.group"} & set(os.listdir(os.path.join(upper, "etc"))), "a whiteout for /etc/group"

    # the user's roots are in its own registry, below its run dir (gone after the reset: checked below)
    assert len(os.listdir(os.path.join(run_dir(uid), "libpod-engine-roots", "roots"))) == 1
    res = run_playbook(env, [as_user({"name": "reset", "libpod.engine.system_reset": {"confirm": True}}, pw)])
    assert res.ok, res.log
    removed = res.task("reset").result["removed"]
    assert not [w for w in res.task("reset").get("warnings", []) if "still names" in w], res.task("reset").result
    assert sorted(c for c in removed["containers"] if not c.endswith("-infra")) == [
        "rl", "rl2", "rlfuse", "rlnm", "rlnm2", "rlpm", "rlpm2", "rlweb"], removed["containers"]
    assert any("pause process %d" % pause in p for p in removed["processes"])
    assert not os.path.exists(os.path.join(home, ".local/share/libpod-engine"))
    assert not os.path.exists(os.path.join(run_dir(uid), "libpod-engine"))
    assert not list(user_pids(uid)), "nothing of the user runs after its reset (fuse-overlayfs, pasta included)"
    assert os.listdir(run_dir(uid)) == [], "nothing of the user's root is left in its runtime dir"
    # the root engine root is untouched
    assert os.path.exists(os.path.join(engine_env.paths["static_dir"], "state.db"))
    res = run_playbook(engine_env, "- libpod.engine.volume_info: {name: rootvol}\n  register: v")
    assert res.ok, res.log
    assert [v["Name"] for v in res.tasks[0].result["volumes"]] == ["rootvol"]
