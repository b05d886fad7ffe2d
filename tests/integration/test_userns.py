# SPDX-License-Identifier: GPL-3.0-or-later
"""User namespaces of containers run by root (issue 23): uidmap/gidmap, userns: auto and ns:PATH.

One playbook: a container with uidmap 0:200000:65536 sees the mapping in /proc/self/uid_map, its
image files owned by root, and writes files the host sees as 200000 into a new named volume;
re-applying changes nothing, a changed mapping recreates it (check mode first); two ``userns: auto``
containers get disjoint blocks of the test's own subuid file; keep-id is refused with podman's
message; crun 1.8.1 is refused (it would chown the host's /dev/null); a container joins an existing
namespace (ns:PATH); removing everything leaves no ID-shifted image copy behind.
"""
from __future__ import annotations

import os
import subprocess
import time
import uuid

import pytest

from .helpers import cleanup_engine_env, engine_paths, make_engine_env, run_playbook

PROBE = ("cat /proc/self/uid_map; echo gid; cat /proc/self/gid_map; ls -ln /bin/busybox; "
         "touch /data/f; stat -c %u /data/f")


def _ctr(name, **opts):
    args = dict(name=name, image="{{ img }}", command=["sleep", "1000"], network="none", timeout=0, **opts)
    return {"name": name, "libpod.engine.container": args, "register": "r"}


def _exec(name, tag, cmd):
    return {"name": tag, "libpod.engine.container_exec": {"name": name, "command": ["sh", "-c", cmd]},
            "register": "p"}


def _ranges(text):
    return [tuple(int(x) for x in line.split()) for line in text.strip().splitlines()]


@pytest.fixture
def userns_env(tmp_path):
    """An engine whose graph root is below directories the containers' mapped roots may pass
    (pytest's tmp dirs are 0700), as a real graph root under /var/lib is."""
    paths = engine_paths(str(tmp_path))
    paths["static_dir"] = "/run/lpe-un-%s" % uuid.uuid4().hex[:10]
    os.makedirs(paths["static_dir"], mode=0o711)
    os.chmod(paths["static_dir"], 0o711)
    paths.update(graph_root=os.path.join(paths["static_dir"], "storage"),
                 volume_path=os.path.join(paths["static_dir"], "volumes"))
    env = make_engine_env(str(tmp_path), paths)
    yield env
    cleanup_engine_env(env)


def test_userns_mappings_auto_and_cleanup(userns_env, busybox_archive):
    engine_env = userns_env
    for kind in ("uid", "gid"):  # the test's own ranges for user "containers", never the host's files
        path = os.path.join(engine_env.root, "sub" + kind)
        with open(path, "w", encoding="utf-8") as f:
            f.write("containers:300000:100000\n")
        engine_env["LIBPOD_ENGINE_SUB%sID" % kind[0].upper()] = path
    mapped = {"uidmap": ["0:200000:65536"], "volume": ["un-data:/data"]}
    holder = subprocess.Popen(["unshare", "--user", "sleep", "600"])  # a user namespace to join (ns:PATH)
    try:
        ns_path = "/proc/%d/ns/user" % holder.pid
        for _attempt in range(100):  # unshare(1) has entered it once the link differs from ours
            if os.readlink(ns_path) != os.readlink("/proc/self/ns/user"):
                break
            time.sleep(0.02)
        for name in ("uid_map", "gid_map"):
            with open("/proc/%d/%s" % (holder.pid, name), "w", encoding="ascii") as f:
                f.write("0 220000 65536")
        res = _run(engine_env, mapped, ns_path, busybox_archive)
        ns_id = os.readlink(ns_path)
    finally:
        holder.kill()
        holder.wait()
    assert res.ok, res.log
    by = {t.name: t for t in res.tasks}
    _check(engine_env, by, ns_id)


def _run(engine_env, mapped, ns_path, busybox_archive):
    tasks = [
        _ctr("un-map", **mapped), _exec("un-map", "probe", PROBE), dict(_ctr("un-map", **mapped), name="reapply"),
        dict(_ctr("un-map", uidmap=["0:210000:65536"], volume=["un-data:/data"]), name="check", check_mode=True,
             diff=True),
        dict(_ctr("un-map", uidmap=["0:210000:65536"], volume=["un-data:/data"]), name="change", diff=True),
        _ctr("un-auto1", userns="auto"), _ctr("un-auto2", userns="auto:size=2000"),
        _exec("un-auto1", "auto1", "cat /proc/self/uid_map"), _exec("un-auto2", "auto2", "cat /proc/self/uid_map"),
        dict(_ctr("un-auto1", userns="auto"), name="auto1 reapply"),
        dict(_ctr("un-keep", userns="keep-id"), name="keep-id", ignore_errors=True),
        _ctr("un-ns", userns="ns:" + ns_path),
        dict(_ctr("un-crun", uidmap=["0:230000:65536"], oci_runtime="crun"), name="crun", ignore_errors=True),
        _exec("un-ns", "ns probe", "readlink /proc/self/ns/user; stat -c %u /bin/busybox"),
    ]
    for name in ("un-map", "un-auto1", "un-auto2", "un-ns"):
        tasks.append({"libpod.engine.container": {"name": name, "state": "absent", "timeout": 0}})
    return run_playbook(engine_env, tasks, extra_vars={"img": "oci-archive:" + busybox_archive}, timeout=300)


def _check(engine_env, by, ns_id):

    first = by["un-map"]
    assert first.changed
    assert first["container"]["HostConfig"]["IDMappings"] == {"UidMap": ["0:200000:65536"],
                                                              "GidMap": ["0:200000:65536"]}
    uid_map, _sep, rest = by["probe"]["stdout"].partition("gid")
    assert _ranges(uid_map) == [(0, 200000, 65536)]
    lines = rest.strip().splitlines()
    assert _ranges(lines[0]) == [(0, 200000, 65536)]  # gidmap follows the uidmap, as podman
    assert lines[1].split()[2:4] == ["0", "0"], lines  # the image's files: root inside
    assert lines[2] == "0"  # the new file is root's inside...
    vol = os.path.join(engine_env.paths["volume_path"], "un-data", "_data")
    assert os.stat(os.path.join(vol, "f")).st_uid == 200000  # ...and 200000 on the host
    assert os.stat(vol).st_uid == 200000  # a new volume belongs to the container's root

    second = by["reapply"]
    assert not second.changed, second["actions"]
    check = by["check"]
    assert check.changed and check["container"]["Id"] == first["container"]["Id"]
    assert check["diff"]["after"] == {"uidmap": ["0:210000:65536"]}
    change = by["change"]
    assert change.changed and change["actions"][0].startswith("recreated un-map: "), change["actions"]
    assert "uidmap" in change["actions"][0] and change["diff"]["after"] == {"uidmap": ["0:210000:65536"]}

    a1, a2 = _ranges(by["auto1"]["stdout"]), _ranges(by["auto2"]["stdout"])
    (c1, h1, s1), = a1
    (c2, h2, s2), = a2
    assert c1 == c2 == 0 and s2 == 2000 and s1 >= 1024
    assert h1 >= 300000 and h1 + s1 <= 400000 and h2 >= 300000 and h2 + s2 <= 400000
    assert h1 + s1 <= h2 or h2 + s2 <= h1, (a1, a2)  # disjoint blocks
    assert not by["auto1 reapply"].changed

    crun = by["crun"]  # crun 1.8.1 would chown the host's /dev/null to the container's root
    assert crun.failed and "it would chown the host's /dev/null" in crun["msg"], crun["msg"]
    assert os.stat("/dev/null").st_uid == 0

    keep = by["keep-id"]
    assert keep.failed and "userns: keep-id is only supported in rootless mode" in keep["msg"]

    ns_probe = by["ns probe"]["stdout"].split()
    assert ns_probe == [ns_id, "0"], (ns_probe, ns_id)  # joined, and its rootfs shifted through its mappings
    assert by["un-ns"]["container"]["HostConfig"]["UsernsMode"].startswith("ns:/proc/")

    idmapped = os.path.join(engine_env.paths["graph_root"], "idmapped")
    assert not os.path.isdir(idmapped) or not os.listdir(idmapped), os.listdir(idmapped)


def test_pod_wide_user_namespace(userns_env, busybox_archive):
    """A pod with ``userns: auto`` on a bridge network: its infra gets a block of the test's subuid
    file, every member runs with the same mapping (its root filesystem shifted through it) in the
    infra's network namespace; re-applying changes nothing; a member with its own userns is
    refused; a changed mapping recreates the pod (check mode says so, nothing is touched)."""
    env = userns_env
    for kind in ("uid", "gid"):
        path = os.path.join(env.root, "sub" + kind)
        with open(path, "w", encoding="utf-8") as f:
            f.write("containers:300000:100000\n")
        env["LIBPOD_ENGINE_SUB%sID" % kind[0].upper()] = path
    pod = {"name": "un-pod", "userns": "auto:size=2000", "state": "started"}
    member = {"name": "un-m1", "image": "{{ img }}", "pod": "un-pod", "command": ["sleep", "1000"],
              "state": "started", "timeout": 0}
    tasks = [
        {"name": "pod", "libpod.engine.pod": pod},
        {"name": "pod again", "libpod.engine.pod": pod},
        {"name": "member", "libpod.engine.container": member},
        {"name": "member again", "libpod.engine.container": member},
        {"name": "own userns", "libpod.engine.container": dict(member, name="un-m2", userns="auto"),
         "ignore_errors": True},
        {"name": "remap check", "libpod.engine.pod": dict(pod, userns="auto:size=3000"), "check_mode": True},
        {"name": "info", "libpod.engine.container_info": {"name": ["un-m1"]}},
    ]
    res = run_playbook(env, tasks, extra_vars={"img": "oci-archive:" + busybox_archive}, timeout=300)
    try:
        assert res.ok, res.log
        by = {t.name: t for t in res.tasks}
        assert by["pod"].changed and not by["pod again"].changed, by["pod again"]["actions"]
        assert by["member"].changed and not by["member again"].changed, by["member again"]["actions"]
        own = by["own userns"]
        assert own.failed and "cannot have a user namespace of its own" in own["msg"], own["msg"]
        check = by["remap check"]
        assert check.changed and any("userns" in a for a in check["actions"]), check["actions"]
        infra_id = by["pod"]["pod"]["InfraContainerId"]
        infra_pid = _pid(env, infra_id)
        m_pid = by["info"]["containers"][0]["State"]["Pid"]
        assert os.readlink("/proc/%d/ns/user" % m_pid) != os.readlink("/proc/self/ns/user")
        for kind in ("net", "ipc", "uts"):  # the pod's shared namespaces
            assert os.readlink("/proc/%d/ns/%s" % (m_pid, kind)) == os.readlink("/proc/%d/ns/%s" % (infra_pid, kind))
        maps = {}
        for pid in (m_pid, infra_pid):
            with open("/proc/%d/uid_map" % pid, encoding="ascii") as f:
                maps[pid] = _ranges(f.read())
        assert maps[m_pid] == maps[infra_pid], maps
        (inside, host, size), = maps[m_pid]
        assert inside == 0 and size == 2000 and host >= 300000 and host + size <= 400000
        assert os.stat("/proc/%d/root/bin/busybox" % m_pid).st_uid == host  # the member's rootfs is shifted
        mappings = by["info"]["containers"][0]["HostConfig"]["IDMappings"]
        assert mappings["UidMap"] == ["0:%d:2000" % host], mappings
    finally:
        res = run_playbook(env, [{"libpod.engine.pod": {"name": "un-pod", "state": "absent", "force": True,
                                                        "timeout": 0}}])
    assert res.ok, res.log


def _pid(env, ctr_id: str) -> int:
    res = run_playbook(env, [{"name": "i", "libpod.engine.container_info": {"name": [ctr_id]}}])
    assert res.ok, res.log
    return res.tasks[0]["containers"][0]["State"]["Pid"]
