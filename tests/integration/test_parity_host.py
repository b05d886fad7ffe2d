# SPDX-License-Identifier: GPL-3.0-or-later
"""containers.podman parity, issue 23: resources, devices, namespaces, users and security options.

One playbook per test, options grouped per container so the parameter matrix (apply / re-apply
unchanged / check mode / change = minimal action / re-apply) stays short; effective values are
read inside the container (its /sys/fs/cgroup, /proc/self/status, /dev) and from its process.
"""
from __future__ import annotations

import json
import os
import platform

import pytest

from .helpers import probe_values

IN_PLACE, RECREATE = "in place", "recreate"


def _disk() -> str:
    """A whole block device of this host, for the per-device throttles."""
    for name in sorted(os.listdir("/sys/block")):
        if not name.startswith(("loop", "ram", "zram", "dm-", "nbd")) and os.path.exists("/dev/" + name):
            return "/dev/" + name
    pytest.skip("no block device to throttle")


def _groups(disk: str) -> dict:
    """container -> (options A, options B, how B is applied)."""
    return {
        "p1-live": ({"cpu_shares": 512, "cpu_period": 50000, "cpu_quota": 25000, "cpuset_cpus": "0",
                     "memory": "64m", "memory_reservation": "32m", "memory_swap": "128m"},
                    {"cpu_shares": 256, "cpu_period": 100000, "cpu_quota": 50000, "cpuset_cpus": "0-1",
                     "memory": "64m", "memory_reservation": "16m", "memory_swap": "192m"}, IN_PLACE),
        "p1-res": ({"memory": "64m", "memory_swappiness": 10, "oom_score_adj": 100, "kernel_memory": "32m",
                    "device_read_bps": [disk + ":1mb"], "device_write_iops": [disk + ":100"],
                    "cgroup_parent": "/p1-parent-a", "cgroupns": "private", "shm_size": "8m"},
                   {"memory": "64m", "memory_swappiness": 20, "oom_score_adj": 200, "kernel_memory": "32m",
                    "oom_kill_disable": True, "device_read_bps": [disk + ":2mb"], "device_write_iops": [disk + ":200"],
                    "cgroup_parent": "/p1-parent-b", "cgroupns": "host", "shm_size": "8m"}, RECREATE),
        "p1-ns": ({"device": ["/dev/null:/dev/mynull:r"], "device_cgroup_rule": "c 1:5 rwm", "ipc": "host",
                   "uts": "container:p1-peer", "pid": "container:p1-peer", "group_add": ["10"], "umask": "0077",
                   "security_opt": ["no-new-privileges", "mask=/etc/hostname"], "personality": "LINUX32",
                   "oci_runtime": "crun"},
                  {"device": ["/dev/zero:/dev/mynull:rw"], "device_cgroup_rule": "c 1:5 rwm", "ipc": "private",
                   "uts": "private", "pid": "private", "group_add": ["10", "app"], "umask": "0022",
                   "security_opt": ["unmask=/proc/keys"], "read_only": True, "read_only_tmpfs": False,
                   "oci_runtime": "crun"}, RECREATE),
    }


# what each group's container reports inside, after the apply and after the change
PROBE = ("echo shares=$(cat /sys/fs/cgroup/cpu/cpu.shares) period=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"
         " quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) cpus=$(cat /sys/fs/cgroup/cpuset/cpuset.cpus)"
         " soft=$(cat /sys/fs/cgroup/memory/memory.soft_limit_in_bytes)"
         " memsw=$(cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes)"
         " swappiness=$(cat /sys/fs/cgroup/memory/memory.swappiness)"
         " oom=$(cat /proc/1/oom_score_adj) oomctl=$(grep oom_kill_disable /sys/fs/cgroup/memory/memory.oom_control)"
         " rbps=$(cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device)"
         " wiops=$(cat /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device)"
         " cgroup=$(grep :memory: /proc/self/cgroup) shm=$(grep /dev/shm /proc/mounts)"
         " dev=$(ls -l /dev/mynull 2>&1) umask=$(grep Umask /proc/self/status) groups=$(grep Groups /proc/self/status)"
         " nnp=$(grep NoNewPrivs /proc/self/status) hostname=$(cat /etc/hostname 2>&1)"
         " host=$(hostname) keys=$(ls -l /proc/keys | head -c1) arch=$(busybox uname -m)"
         " pid1=$(cat /proc/1/cmdline | tr '\\0' ' ') tmp=$(touch /tmp/x 2>&1 && echo writable)")


def _task(name, opts, step, **kw):
    args = dict(opts, name=name, image="{{ img }}", command=["sleep", "1000"], network="none", timeout=0)
    task = {"name": "%s %s" % (name, step), "libpod.engine.container": args, "register": "r"}
    task.update(kw)
    return task


def _probe(name, step):
    return {"name": "%s probe %s" % (name, step), "libpod.engine.container_exec": {"name": name, "command": [
        "sh", "-c", PROBE]}, "register": "p"}


def test_host_options_matrix(playbook, busybox_archive):
    """apply -> re-apply unchanged -> check mode of the change -> change (in place or recreate) -> re-apply,
    with each group's effective values probed inside the container after the apply and the change."""
    groups = _groups(_disk())
    tasks = [{"name": "peer", "libpod.engine.container": {
        "name": "p1-peer", "image": "{{ img }}", "command": ["sleep", "1001"], "network": "none", "timeout": 0}}]
    for name, (a, b, _how) in groups.items():
        tasks += [_task(name, a, "apply"), _probe(name, "apply"), _task(name, a, "reapply"),
                  _task(name, b, "check", check_mode=True, diff=True), _task(name, b, "change", diff=True),
                  _probe(name, "change"), _task(name, b, "rechange")]
    for name in list(groups) + ["p1-peer"]:
        tasks.append({"libpod.engine.container": {"name": name, "state": "absent", "timeout": 0}})
    try:
        res = playbook(tasks, extra_vars={"img": "oci-archive:" + busybox_archive}, timeout=600)
    finally:
        for parent in ("p1-parent-a", "p1-parent-b"):
            for ctl in ("cpu", "cpuacct", "memory", "blkio", "pids", "devices", "freezer", "cpuset", "systemd"):
                try:
                    os.rmdir("/sys/fs/cgroup/%s/%s" % (ctl, parent))
                except OSError:
                    pass
    assert res.ok, res.log
    by = {t.name: t for t in res.tasks}
    for name, (a, b, how) in groups.items():
        apply, reapply, check = by[name + " apply"], by[name + " reapply"], by[name + " check"]
        change, rechange = by[name + " change"], by[name + " rechange"]
        changed = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        assert apply.changed and not reapply.changed, (name, reapply["actions"])
        assert check.changed and check["container"]["Id"] == apply["container"]["Id"], name
        assert sorted(check["diff"]["after"]) == changed, (name, check["diff"])
        assert sorted(change["diff"]["after"]) == changed, (name, change["diff"])
        if how == IN_PLACE:
            assert change["actions"][0].startswith("updated %s in place: " % name), change["actions"]
            assert change["container"]["State"]["Pid"] == apply["container"]["State"]["Pid"]
        else:
            assert change["actions"][0].startswith("recreated %s: " % name), change["actions"]
            assert change["container"]["Id"] != apply["container"]["Id"]
        assert not rechange.changed, (name, rechange["actions"])

    live_a, live_b = (probe_values(by["p1-live probe %s" % s]["stdout"]) for s in ("apply", "change"))
    assert (live_a["shares"], live_a["period"], live_a["quota"], live_a["cpus"]) == ("512", "50000", "25000", "0")
    assert (live_a["soft"], live_a["memsw"]) == (str(32 << 20), str(128 << 20)), live_a
    assert (live_b["shares"], live_b["period"], live_b["quota"], live_b["cpus"]) == ("256", "100000", "50000", "0-1")
    assert (live_b["soft"], live_b["memsw"]) == (str(16 << 20), str(192 << 20)), live_b

    disk = _disk()
    numbers = "%d:%d" % (os.major(os.stat(disk).st_rdev), os.minor(os.stat(disk).st_rdev))
    res_a, res_b = (probe_values(by["p1-res probe %s" % s]["stdout"]) for s in ("apply", "change"))
    assert (res_a["swappiness"], res_a["oom"], res_a["oomctl"]) == ("10", "100", "oom_kill_disable 0"), res_a
    assert res_a["rbps"] == "%s %d" % (numbers, 1 << 20) and res_a["wiops"] == numbers + " 100", res_a
    assert (res_b["swappiness"], res_b["oom"], res_b["oomctl"]) == ("20", "200", "oom_kill_disable 1"), res_b
    assert res_b["rbps"] == "%s %d" % (numbers, 2 << 20) and res_b["wiops"] == numbers + " 200", res_b
    # cgroupns private: the container sees its cgroup as /; host: the full path under the parent
    assert res_a["cgroup"].endswith(":memory:/"), res_a
    assert ":memory:/p1-parent-b/libpod-" in res_b["cgroup"], res_b
    assert "size=8192k" in res_b["shm"], res_b
    assert by["p1-res change"]["container"]["HostConfig"]["OomKillDisable"] is True

    ns_a, ns_b = (probe_values(by["p1-ns probe %s" % s]["stdout"]) for s in ("apply", "change"))
    assert ns_a["dev"].startswith("crw") and " 1, " in ns_a["dev"] and " 3 " in ns_a["dev"], ns_a  # /dev/null
    assert " 1, " in ns_b["dev"] and " 5 " in ns_b["dev"], ns_b  # /dev/zero
    assert ns_a["umask"].split() == ["Umask:", "0077"] and ns_b["umask"].split() == ["Umask:", "0022"], (ns_a, ns_b)
    assert "10" in ns_a["groups"].split(), ns_a
    assert "1000" in ns_b["groups"].split(), ns_b  # app, from the image's /etc/group
    assert ns_a["nnp"].split() == ["NoNewPrivs:", "1"] and ns_b["nnp"].split() == ["NoNewPrivs:", "0"], (ns_a, ns_b)
    assert ns_a["hostname"] == "" or "No such" in ns_a["hostname"] or "denied" in ns_a["hostname"], ns_a  # masked
    peer_id = by["peer"]["container"]["Id"]
    assert ns_a["host"] == peer_id[:12], ns_a  # uts: container:p1-peer
    assert ns_a["pid1"].strip() == "sleep 1001", ns_a  # pid: container:p1-peer
    assert ns_b["pid1"].strip() == "sleep 1000", ns_b
    assert ns_b["keys"] == "-" and ns_a["keys"] == "c", (ns_a, ns_b)  # unmask=/proc/keys (masked: /dev/null)
    if platform.machine() == "x86_64":
        assert (ns_a["arch"], ns_b["arch"]) == ("i686", "x86_64"), (ns_a, ns_b)  # personality: LINUX32 (crun)
    assert ns_a["tmp"] == "writable" and ns_b["tmp"] != "writable", (ns_a, ns_b)  # read_only_tmpfs: false


REFUSED = [
    ({"blkio_weight": 300}, "blkio_weight: this host's block I/O controller has no weight file"),
    ({"cgroup_conf": {"memory.high": "1g"}}, "cgroup_conf needs cgroup v2"),
    ({"userns": "keep-id"}, "userns: keep-id is only supported in rootless mode"),
    ({"uidmap": ["0:100000"]}, "uidmap: '0:100000' is not an ID mapping"),
    ({"subuidname": "no-such-user-lpe"}, "subuidname: user no-such-user-lpe has no subordinate UIDs in"),
    ({"gpus": "all"}, "gpus: no CDI specs"),
    ({"security_opt": ["apparmor=my-profile"]}, "AppArmor is not enabled on this host"),
    ({"cpus": 1, "cpu_quota": 50000}, "cpus cannot be combined with cpu_quota or cpu_period"),
    ({"memory_swap": "1g"}, "memory_swap needs memory"),
    ({"oom_score_adj": -500}, "oom_score_adj -500 is below the engine's own"),
    ({"device": ["/dev/p1-missing"]}, "device: host device /dev/p1-missing"),
    ({"cgroups": "split"}, "cgroups: split is not supported"),
    ({"security_opt": ["seccomp=/p1/missing.json"]}, "security_opt: seccomp profile /p1/missing.json"),
    ({"ipc": "container:p1-nosuch"}, "p1-nosuch"),
]


def test_seccomp_profiles_and_refusals(playbook, busybox_archive, tmp_path):
    """The host's containers-common profile (swapon: EPERM for everyone, even with CAP_SYS_ADMIN, where the
    kernel itself would say EINVAL for /dev/null), seccomp=unconfined lifts it, a custom profile applies.
    Values this host cannot apply are refused naming the parameter, before anything is created."""
    profile = tmp_path / "no-mkdir.json"
    profile.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}))
    probe = "swapon /dev/null 2>&1; mkdir /tmp/d 2>&1 && echo mkdir-ok; grep Seccomp: /proc/self/status"
    tasks = []
    for name, opts in (("sc-default", {}), ("sc-unconfined", {"security_opt": ["seccomp=unconfined"]}),
                       ("sc-custom", {"security_opt": ["seccomp=%s" % profile]})):
        tasks += [{"libpod.engine.container": dict(opts, name=name, image="{{ img }}", command=["sleep", "1000"],
                                                   network="none", cap_add=["SYS_ADMIN"], timeout=0)},
                  {"name": name, "libpod.engine.container_exec": {"name": name, "command": ["sh", "-c", probe]}},
                  {"libpod.engine.container": {"name": name, "state": "absent", "timeout": 0}}]
    refusals = not (os.path.exists("/sys/fs/cgroup/blkio/blkio.weight")
                    or os.path.exists("/sys/fs/cgroup/cgroup.controllers"))  # as on the project VM
    if refusals:
        for i, (opts, _msg) in enumerate(REFUSED):
            args = dict(opts, name="p1-refused", image="{{ img }}", command=["sleep", "1"], network="none")
            tasks.append({"name": "r%d" % i, "libpod.engine.container": args, "ignore_errors": True})
        tasks.append({"name": "info", "libpod.engine.container_info": {"name": ["p1-refused"]}})
    res = playbook(tasks, extra_vars={"img": "oci-archive:" + busybox_archive}, timeout=300)
    by = {t.name: t for t in res.tasks}
    for i, (opts, msg) in enumerate(REFUSED if refusals else []):
        assert by["r%d" % i].failed and msg in by["r%d" % i].msg, (opts, by["r%d" % i].msg)
    if refusals:
        assert by["info"]["missing"] == ["p1-refused"]
    out = {t.name: t["stdout"] for t in res.tasks if t.name and t.name.startswith("sc-")}
    assert len(out) == 3, res.log
    if os.path.exists("/usr/share/containers/seccomp.json") or os.path.exists("/etc/containers/seccomp.json"):
        assert "Operation not permitted" in out["sc-default"], out  # the profile, not the kernel
    assert "Seccomp:\t2" in out["sc-default"] and "mkdir-ok" in out["sc-default"], out
    assert "Invalid argument" in out["sc-unconfined"] and "Seccomp:\t0" in out["sc-unconfined"], out
    assert "Permission denied" in out["sc-custom"] and "mkdir-ok" not in out["sc-custom"], out
    assert "Invalid argument" in out["sc-custom"], out
