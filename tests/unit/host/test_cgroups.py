# SPDX-License-Identifier: GPL-3.0-or-later
"""cgroup mode detection (fake mount tables + this host) and the private mount namespace."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import cgroups, mounts

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _mountinfo(tmp_path, entries):
    """Write a mountinfo file: entries = [(mount point, fstype, super options)]."""
    lines = []
    for i, (mnt, fstype, opts) in enumerate(entries, start=20):
        lines.append("%d 1 0:%d / %s rw,relatime - %s %s %s" % (i, i, mnt.replace(" ", "\\040"), fstype,
                                                                fstype, opts))
    path = tmp_path / "mountinfo"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _hybrid(tmp_path, controllers="hugetlb"):
    root = tmp_path / "cg"
    (root / "unified").mkdir(parents=True)
    (root / "unified" / "cgroup.controllers").write_text(controllers + "\n")
    mi = _mountinfo(tmp_path, [
        ("/", "ext4", "rw"),
        (str(root), "tmpfs", "rw,mode=755"),
        (str(root / "memory"), "cgroup", "rw,memory"),
        (str(root / "pids"), "cgroup", "rw,pids"),
        (str(root / "systemd"), "cgroup", "rw,name=systemd"),
        (str(root / "unified"), "cgroup2", "rw"),
    ])
    return str(root), mi


def test_hybrid_detected(tmp_path):
    root, mi = _hybrid(tmp_path)
    assert cgroups.cgroup_mode(root, mountinfo=mi) == "hybrid"
    assert cgroups.unified_controllers(root, mountinfo=mi) == ["hugetlb"]
    assert cgroups.crun_needs_private_mount_ns(root, mountinfo=mi) is True
    assert cgroups.v1_controllers(root, mountinfo=mi) == ["memory", "pids", "systemd"]


def test_hybrid_without_controllers_is_fine_for_crun(tmp_path):
    root, mi = _hybrid(tmp_path, controllers="")
    assert cgroups.cgroup_mode(root, mountinfo=mi) == "hybrid"
    assert cgroups.unified_controllers(root, mountinfo=mi) == []
    assert cgroups.crun_needs_private_mount_ns(root, mountinfo=mi) is False


def test_v2_detected(tmp_path):
    root = tmp_path / "cg2"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    mi = _mountinfo(tmp_path, [("/", "ext4", "rw"), (str(root), "cgroup2", "rw,nsdelegate")])
    assert cgroups.cgroup_mode(str(root), mountinfo=mi) == "v2"
    assert cgroups.unified_controllers(str(root), mountinfo=mi) == ["cpuset", "cpu", "io", "memory", "pids"]
    assert cgroups.crun_needs_private_mount_ns(str(root), mountinfo=mi) is False
    # trailing slash is the same root
    assert cgroups.cgroup_mode(str(root) + "/", mountinfo=mi) == "v2"


def test_pure_v1_detected(tmp_path):
    root = tmp_path / "cg1"
    mi = _mountinfo(tmp_path, [(str(root), "tmpfs", "rw"), (str(root / "cpu"), "cgroup", "rw,cpu")])
    assert cgroups.cgroup_mode(str(root), mountinfo=mi) == "v1"
    assert cgroups.unified_controllers(str(root), mountinfo=mi) == []
    assert cgroups.crun_needs_private_mount_ns(str(root), mountinfo=mi) is False


def test_top_mount_wins_and_escapes(tmp_path):
    root = tmp_path / "with space"
    mi = _mountinfo(tmp_path, [(str(root), "cgroup2", "rw"), (str(root), "tmpfs", "rw")])
    assert cgroups.cgroup_mode(str(root), mountinfo=mi) == "v1"  # tmpfs mounted over the cgroup2
    assert mounts._unescape(b"/a\\040b\\011c\\\\") == "/a b\tc\\\\"


def test_this_host_is_consistent():
    mode = cgroups.cgroup_mode()
    assert mode in ("v1", "v2", "hybrid")
    table = {e.point: e.fstype for e in mounts.mount_table()}
    if table.get("/sys/fs/cgroup") == "cgroup2":
        assert mode == "v2"
    elif table.get("/sys/fs/cgroup/unified") == "cgroup2":
        assert mode == "hybrid"
        with open("/sys/fs/cgroup/unified/cgroup.controllers") as f:
            assert cgroups.unified_controllers() == f.read().split()
    else:
        assert mode == "v1"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs CAP_SYS_ADMIN")
@pytest.mark.skipif(cgroups.cgroup_mode() != "hybrid", reason="needs a hybrid host")
def test_private_mount_ns_hides_unified_only_for_the_child(tmp_path):
    child = tmp_path / "child-mountinfo"  # the child's table, read with the one parser
    with open(child, "wb") as out:
        subprocess.run(["cat", "/proc/self/mountinfo"], stdout=out, check=True,
                       preexec_fn=cgroups.private_cgroup_mount_ns())
    points = [e.point for e in mounts.mount_table(str(child))]
    assert "/sys/fs/cgroup/unified" not in points
    assert "/sys/fs/cgroup/memory" in points  # v1 hierarchies stay
    assert "/sys/fs/cgroup/unified" in mounts.mount_points()
    assert cgroups.crun_needs_private_mount_ns()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs CAP_SYS_ADMIN")
def test_private_mount_ns_tolerates_missing_unified_mount(tmp_path):
    (tmp_path / "unified").mkdir()  # a directory, not a mount point: EINVAL is fine
    out = subprocess.run(["true"], check=False, preexec_fn=cgroups.private_cgroup_mount_ns(str(tmp_path)))
    assert out.returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs CAP_SYS_ADMIN")
def test_enter_mount_ns_of_returns_to_host():
    host = cgroups.mount_ns_id()
    assert cgroups.enter_mount_ns_of(host) is False
    script = (
        "import sys, json; sys.path.insert(0, %r)\n"
        "from ansible_collections.libpod.engine.plugins.module_utils.engine.host import cgroups\n"
        "before = cgroups.mount_ns_id()\n"
        "switched = cgroups.enter_mount_ns_of(sys.argv[1])\n"
        "print(json.dumps([before, switched, cgroups.mount_ns_id()]))\n"
        "try:\n    cgroups.enter_mount_ns_of('mnt:[1]')\nexcept OSError as e:\n    print('nope', e.errno)\n"
    ) % os.path.join(REPO, ".build", "collections")
    out = subprocess.run([sys.executable, "-c", script, host], capture_output=True, text=True, check=True,
                         preexec_fn=cgroups.private_cgroup_mount_ns())
    lines = out.stdout.splitlines()
    before, switched, after = json.loads(lines[0])
    assert before != host and switched is True and after == host
    assert lines[1] == "nope 2"


def test_remove_cgroup_in_every_hierarchy(tmp_path):
    """One rmdir-only primitive for pods and containers (issue 22 item 12: a failed start's cgroup)."""
    root, mi = _hybrid(tmp_path)
    made = []
    for hier in ("memory", "pids", "systemd", "unified"):
        d = os.path.join(root, hier, "libpod-engine", "libpod-" + "a" * 64)
        os.makedirs(os.path.join(d, "child"))
        made.append(d)
    busy = os.path.join(root, "pids", "libpod-engine", "libpod-" + "a" * 64, "child", "tasks")
    open(busy, "w").close()  # a file stands for a cgroup that still has processes: rmdir fails
    assert cgroups.cgroup_mounts(mi) == [os.path.join(root, h) for h in ("memory", "pids", "systemd", "unified")]
    assert cgroups.remove_cgroup("/libpod-engine/libpod-" + "a" * 64, mountinfo=mi) == [made[1]]
    assert [os.path.isdir(d) for d in made] == [False, True, False, False]
    assert os.path.isdir(os.path.join(root, "memory", "libpod-engine"))  # the parent stays
    for bad in ("", "/", "/libpod-engine/../..", "machine.slice:libpod:x"):
        assert cgroups.remove_cgroup(bad, mountinfo=mi) == []
    assert os.path.isdir(os.path.join(root, "memory", "libpod-engine"))


def _v1_tree(tmp_path, monkeypatch):
    root = tmp_path / "cgv1"
    for ctl in ("memory", "cpu,cpuacct", "cpuset", "blkio"):
        (root / ctl / "libpod_parent").mkdir(parents=True)
    (root / "memory" / "memory.memsw.limit_in_bytes").write_text("-1")
    (root / "cpuset" / "cpuset.cpus").write_text("0-3")
    (root / "cpuset" / "cpuset.mems").write_text("0")
    (root / "cpuset" / "libpod_parent" / "cpuset.cpus").write_text("0-3")
    (root / "cpuset" / "libpod_parent" / "cpuset.mems").write_text("0")
    monkeypatch.setattr(cgroups, "cgroup_mode", lambda root=None: "v1")
    monkeypatch.setattr(cgroups, "v1_controllers", lambda root=None: ["memory", "cpu,cpuacct", "cpuset", "blkio"])
    return root


def _files(d) -> dict:
    return {p.name: p.read_text() for p in d.iterdir() if p.is_file()}


def test_pod_resources_written_and_lifted_v1(tmp_path, monkeypatch):
    """A pod's OCI resources (oci/resources.linux_resources) in its v1 cgroup; a later payload without
    them lifts them (-1, 1024, the parent's cpuset), and nothing is created for a pod without limits."""
    root = _v1_tree(tmp_path, monkeypatch)
    res = {"memory": {"limit": 64 << 20, "swap": 128 << 20},
           "cpu": {"quota": 50000, "period": 100000, "shares": 512, "cpus": "1"}}
    cgroups.set_cgroup_resources("/libpod_parent/pod1", res, root=str(root))
    assert _files(root / "memory" / "libpod_parent" / "pod1") == {
        "memory.limit_in_bytes": str(64 << 20), "memory.memsw.limit_in_bytes": str(128 << 20)}
    assert _files(root / "cpu,cpuacct" / "libpod_parent" / "pod1") == {
        "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "50000", "cpu.shares": "512"}
    assert _files(root / "cpuset" / "libpod_parent" / "pod1") == {"cpuset.cpus": "1", "cpuset.mems": "0"}
    blkio = root / "blkio" / "libpod_parent" / "pod1"
    assert _files(blkio) == {}
    cgroups.set_cgroup_resources("/libpod_parent/pod1", {"blockIO": {"throttleReadBpsDevice": [
        {"major": 8, "minor": 0, "rate": 1 << 20}]}}, root=str(root))
    assert _files(blkio) == {"blkio.throttle.read_bps_device": "8:0 %d" % (1 << 20)}
    (blkio / "blkio.throttle.read_bps_device").write_text("8:0 %d\n" % (1 << 20))  # as the kernel lists it
    cgroups.set_cgroup_resources("/libpod_parent/pod1", {}, root=str(root))
    assert _files(blkio) == {"blkio.throttle.read_bps_device": "8:0 0"}  # rate 0: the rule is dropped
    assert _files(root / "memory" / "libpod_parent" / "pod1")["memory.limit_in_bytes"] == "-1"
    assert _files(root / "cpu,cpuacct" / "libpod_parent" / "pod1")["cpu.shares"] == "1024"
    assert _files(root / "cpuset" / "libpod_parent" / "pod1")["cpuset.cpus"] == "0-3"
    assert cgroups.set_cgroup_resources("/libpod_parent/pod2", {}, root=str(root)) == []
    assert not (root / "memory" / "libpod_parent" / "pod2").exists()


def test_pod_resources_v2(tmp_path, monkeypatch):
    root = tmp_path / "cgv2"
    root.mkdir()
    monkeypatch.setattr(cgroups, "cgroup_mode", lambda root=None: "v2")
    pod = root / "libpod_parent" / "pod1"
    res = {"memory": {"limit": 64 << 20}, "cpu": {"quota": 50000, "period": 100000, "shares": 1024}}
    assert cgroups.set_cgroup_resources("/libpod_parent/pod1", res, root=str(root)) == [str(pod)]
    got = _files(pod)
    assert (got["cpu.max"], got["memory.max"], got["cpu.weight"]) == ("50000 100000", str(64 << 20), "39")
    (pod / "io.max").write_text("8:0 rbps=1048576 wbps=max riops=max wiops=max\n")
    cgroups.set_cgroup_resources("/libpod_parent/pod1", {"blockIO": {"throttleWriteBpsDevice": [
        {"major": 8, "minor": 16, "rate": 100}]}}, root=str(root))
    assert _files(pod)["io.max"] == "8:16 rbps=max wbps=100 riops=max wiops=max"  # the last line written
