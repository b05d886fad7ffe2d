# SPDX-License-Identifier: GPL-3.0-or-later
"""Volume layer: real directories, real mounts (tmpfs, bind, ext4 on loop), real processes."""
from __future__ import annotations

import multiprocessing
import os
import pathlib
import shutil
import signal
import stat
import subprocess
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import (
    InvalidArg,
    LockExhausted,
    NameInUse,
    NoSuchVolume,
    StorageError,
    VolumeInUse,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.mounts import mount_table
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.locks import LockManager
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import Record, State
from ansible_collections.libpod.engine.plugins.module_utils.engine.volume import manager as volmod
from ansible_collections.libpod.engine.plugins.module_utils.engine.volume.manager import (
    NAME_PATTERN,
    VolumeManager,
    copy_tree,
    is_mount_point,
    mount_points,
    mounts_under,
    secure_join,
    sys_umount,
    validate_name,
)

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="mounting needs root")
MiB = 1024 * 1024


def _cleanup_mounts(path: str) -> None:
    path = os.path.realpath(path)
    for _i in range(3):
        for mnt in mounts_under(path):
            try:
                sys_umount(mnt, volmod.MNT_DETACH)
            except OSError:
                pass


def _open(tmp_path, num_locks: int = 64, **kw) -> VolumeManager:
    state = State(str(tmp_path / "state.db"))
    locks = LockManager(state, str(tmp_path / "locks"), num_locks)
    return VolumeManager(state, locks, volume_path=str(tmp_path / "volumes"), **kw)


@pytest.fixture
def mgr(tmp_path):
    m = _open(tmp_path)
    yield m
    _cleanup_mounts(str(tmp_path))
    m.state.close()


def _add_container(state: State, cid: str, volumes) -> Record:
    rec = Record(id=cid, name="ctr-" + cid[:8], namespace="", lock_id=None,
                 config={"id": cid, "name": "ctr-" + cid[:8]}, state={"status": "configured"}, created=time.time())
    state.add("container", rec)
    state.set_container_volumes(cid, list(volumes))
    return rec


def _count_mounts(path: str) -> int:
    return mount_points().count(os.path.realpath(path))


# ------------------------------------------------------------------------------------------
# create / inspect / list / remove
# ------------------------------------------------------------------------------------------
def test_create_inspect_list_remove(mgr):
    vol = mgr.create("data", labels={"app": "web", "tier": "db"})
    assert vol.name == "data" and vol.driver == "local" and vol.lock_id is not None
    vdir = os.path.join(mgr.volume_path, "data")
    assert stat.S_IMODE(os.stat(vdir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(vdir, "_data")).st_mode) == 0o755

    info = mgr.inspect("data")
    assert info["Name"] == "data"
    assert info["Driver"] == "local"
    assert info["Mountpoint"] == os.path.join(vdir, "_data")
    assert info["Scope"] == "local"
    assert info["Labels"] == {"app": "web", "tier": "db"}
    assert info["Options"] == {}
    assert info["MountCount"] == 0
    assert info["NeedsCopyUp"] is True and info["NeedsChown"] is True
    assert info["Anonymous"] is False
    assert info["UID"] == 0 and info["GID"] == 0
    assert "T" in info["CreatedAt"] and info["CreatedAt"][-6] in "+-"

    with pytest.raises(NameInUse, match='"data" already exists'):
        mgr.create("data")

    mgr.create("other")
    assert [v.name for v in mgr.list()] == ["data", "other"]
    assert [v.name for v in mgr.list(labels={"app": "web"})] == ["data"]
    assert [v.name for v in mgr.list(labels=["tier=db"])] == ["data"]
    assert mgr.list(labels={"app": "db"}) == []
    assert [v.name for v in mgr.list(dangling=True)] == ["data", "other"]

    lock_id = vol.lock_id
    assert any(r[0] == lock_id for r in mgr.locks.allocated())
    res = mgr.remove("data")
    assert res.volume == "data" and res.containers == [] and res.warnings == []
    assert not os.path.exists(vdir)
    assert not [n for n in os.listdir(mgr.volume_path) if n.startswith(".trash-")]
    assert not any(r[0] == lock_id for r in mgr.locks.allocated())
    with pytest.raises(NoSuchVolume, match='"data"'):
        mgr.inspect("data")
    with pytest.raises(NoSuchVolume):
        mgr.remove("data")


def test_anonymous_volume(mgr):
    vol = mgr.create()
    assert vol.config.anonymous is True and len(vol.name) == 64
    assert mgr.inspect(vol.name)["Anonymous"] is True
    assert [v.name for v in mgr.list(anonymous=True)] == [vol.name]


def test_options_list_form_and_nocopy(mgr):
    vol = mgr.create("nc", options=["nocopy", "o=uid=1000,gid=1001"])
    assert vol.config.options == {"nocopy": "", "o": "uid=1000,gid=1001"}
    assert vol.state.needs_copy_up is False and vol.state.needs_chown is False
    assert (vol.config.uid, vol.config.gid) == (1000, 1001)
    st_ = os.stat(mgr.data_dir("nc"))
    assert (st_.st_uid, st_.st_gid) == (1000, 1001)
    # uid/gid only: a plain directory, nothing to mount
    assert mgr.mount("nc") == mgr.data_dir("nc")
    assert not is_mount_point(mgr.data_dir("nc"))
    assert mgr.unmount("nc") == 0


@pytest.mark.parametrize("options,match", [
    ({"foo": "bar"}, r'option\(s\) foo not valid for the local driver; valid options: copy, device, gid'),
    ({"copy": "", "nocopy": ""}, "copy and nocopy contradict"),
    ({"o": "size=1m"}, "project quotas"),
    ({"size": "1m"}, "project quotas"),
    ({"o": "noexec"}, "without type= or device="),
    ({"type": "none", "o": "bind"}, "needs device="),
    ({"type": "none", "device": "relative/dir", "o": "bind"}, "absolute host path"),
    ({"type": "none", "device": "/nonexistent/dir/xyz", "o": "bind"}, "not an existing directory"),
    ({"device": "/dev/sda1"}, "needs type="),
    ({"type": "ext4"}, "needs device="),
    ({"uid": "app"}, "not a numeric ID"),
    ({"uid": "1000", "o": "uid=1001"}, "disagree"),
    ({"nocopy": "maybe"}, "takes no value"),
    ({"type": "tmpfs", "o": "remount"}, "not a volume mount option"),
    ({"type": "none", "device": "/tmp", "o": "bind,mode=0755"}, "no effect on a bind volume"),
    ({"o": "timeout=5"}, "only applies to volume plugin"),
    ({"type": "tmpfs", "device": "tmp\x00fs"}, "NUL"),
    (["o=a", "o=b"], "given twice"),
])
def test_invalid_options_create_nothing(mgr, options, match):
    with pytest.raises(InvalidArg, match=match) as exc:
        mgr.create("vol1", options=options)
    assert 'volume "vol1"' in str(exc.value)
    assert mgr.state.count("volume") == 0
    assert not os.path.exists(os.path.join(mgr.volume_path, "vol1"))
    assert mgr.locks.allocated() == []


def test_unknown_driver(mgr):
    with pytest.raises(InvalidArg, match='driver "nfsplug" is not available; known drivers: local'):
        mgr.create("v", driver="nfsplug")


# ------------------------------------------------------------------------------------------
# names
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [
    "../x", "a/b", ".", "..", "a\x00b", "x" * 256, "", "-a", "_a", ".hidden", "a b", "a\n", "\n", "é",
    "a/../../etc", "/abs", "a\\b", "a:b", "\u212a",  # Kelvin sign: matches [a-z] under IGNORECASE only
])
def test_invalid_names(mgr, name):
    with pytest.raises(InvalidArg, match="name") as exc:
        mgr.create(name)
    assert "name" in exc.value.msg
    assert mgr.state.count("volume") == 0
    assert not os.path.exists(mgr.volume_path) or os.listdir(mgr.volume_path) == []


def test_valid_edge_names(mgr):
    for name in ("a", "0", "a.b-c_d", "x" * 255, "A..", "z-"):
        mgr.create(name)
        assert os.path.isdir(os.path.join(mgr.volume_path, name, "_data"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.one_of(st.text(max_size=300), st.from_regex(NAME_PATTERN, fullmatch=True)))
def test_names_property(mgr, name):
    import re

    valid = bool(re.fullmatch(NAME_PATTERN, name)) and len(name) <= 255
    root = os.path.realpath(mgr.volume_path)
    if not valid:
        with pytest.raises(InvalidArg):
            validate_name(name)
        with pytest.raises(InvalidArg):
            mgr.create(name)
        return
    vol = mgr.create(name)
    path = os.path.realpath(os.path.join(mgr.volume_path, name, "_data"))
    assert os.path.commonpath([root, path]) == root and path != root
    assert os.path.dirname(os.path.dirname(path)) == root
    mgr.remove(vol.name)
    assert os.listdir(root) == []


# ------------------------------------------------------------------------------------------
# crash consistency
# ------------------------------------------------------------------------------------------
def test_orphan_directory_is_adopted(mgr):
    """A create killed after mkdir leaves a directory without record; the next create uses it."""
    data = os.path.join(mgr.volume_path, "orphan", "_data")
    os.makedirs(data)
    with open(os.path.join(data, "kept"), "w") as f:
        f.write("x")
    mgr.create("orphan")
    assert os.path.exists(os.path.join(mgr.data_dir("orphan"), "kept"))
    assert stat.S_IMODE(os.stat(os.path.dirname(data)).st_mode) == 0o700


def test_failed_create_leaves_nothing(tmp_path):
    m = _open(tmp_path, num_locks=1)
    try:
        m.create("first")
        with pytest.raises(LockExhausted):
            m.create("second")
        assert not os.path.exists(os.path.join(m.volume_path, "second"))
        assert [v.name for v in m.list()] == ["first"]
    finally:
        m.state.close()


def test_missing_data_dir_is_recreated_on_mount(mgr):
    mgr.create("lost")
    shutil.rmtree(os.path.join(mgr.volume_path, "lost"))
    path = mgr.mount("lost")
    assert os.path.isdir(path)
    mgr.unmount("lost")


def test_refresh_resets_counts_and_relocks(mgr):
    vol = mgr.create("r1")
    mgr.create("r2")
    mgr.mount("r1")
    mgr.state.conn.execute("UPDATE volumes SET lock_id=NULL WHERE name='r2'")
    mgr.locks.free_all()  # the lock table as after a reboot
    os.mkdir(os.path.join(mgr.volume_path, ".trash-deadbeef"))
    mgr.refresh()
    assert mgr.get("r1").state.mount_count == 0
    owners = {owner: lid for lid, _kind, owner in mgr.locks.allocated()}
    assert owners["r1"] == vol.lock_id
    assert owners["r2"] == mgr.get("r2").lock_id
    assert owners["r2"] is not None
    assert mgr.get("r2").config.lock_id == owners["r2"]
    assert not os.path.exists(os.path.join(mgr.volume_path, ".trash-deadbeef"))


def _killed_create(tmp: str) -> None:
    m = _open(pathlib.Path(tmp))
    with m.state.tx():
        vdir = os.path.join(m.volume_path, "victim")
        os.makedirs(m.volume_path, exist_ok=True)
        m._make_dirs("victim", vdir, os.path.join(vdir, "_data"), None, None)
        m.locks.allocate("volume", "victim")
        os.kill(os.getpid(), signal.SIGKILL)  # between mkdir and commit


def test_create_killed_mid_transaction(tmp_path, mgr):
    mgr.create("bystander")
    ctx = multiprocessing.get_context("fork")
    p = ctx.Process(target=_killed_create, args=(str(tmp_path),))
    p.start()
    p.join(30)
    assert p.exitcode == -signal.SIGKILL
    assert not mgr.exists("victim")  # the uncommitted record died with the process
    assert [owner for _lid, _kind, owner in mgr.locks.allocated()] == ["bystander"]
    assert os.path.isdir(os.path.join(mgr.volume_path, "victim", "_data"))  # orphan directory...
    mgr.create("victim")  # ...adopted by the next create
    assert mgr.mount("victim") == mgr.data_dir("victim")
    mgr.unmount("victim")


@needs_root
def test_refresh_makes_tmpfs_fresh_again(mgr):
    mgr.create("tmpr", options={"type": "tmpfs", "device": "tmpfs"})
    mgr.mount("tmpr")
    mgr.copy_up("tmpr", "/nonexistent")
    assert not mgr.get("tmpr").state.needs_copy_up
    sys_umount(mgr.data_dir("tmpr"), volmod.MNT_DETACH)  # what a reboot does
    mgr.refresh()
    assert mgr.get("tmpr").state.mount_count == 0
    assert mgr.get("tmpr").state.needs_copy_up and mgr.get("tmpr").state.needs_chown


def test_namespace_isolation(tmp_path, mgr):
    mgr.create("shared-db")
    ns = VolumeManager(mgr.state, mgr.locks, volume_path=mgr.volume_path, namespace="ns1")
    ns.create("mine")
    assert [v.name for v in ns.list()] == ["mine"]
    assert not ns.exists("shared-db")
    assert ns.get("mine").namespace == "ns1"
    assert {v.name for v in mgr.list()} == {"shared-db", "mine"}


# ------------------------------------------------------------------------------------------
# in use / force / prune
# ------------------------------------------------------------------------------------------
def test_remove_refused_while_used_and_force(mgr):
    mgr.create("busy")
    cid = "ab" * 32
    ctr = _add_container(mgr.state, cid, ["busy"])
    with pytest.raises(VolumeInUse, match='volume "busy" is being used by the following container.*' + cid):
        mgr.remove("busy")
    with pytest.raises(VolumeInUse, match="no way to remove them"):
        mgr.remove("busy", force=True)
    assert mgr.exists("busy")

    seen = []

    def remove_users(ids):
        seen.append(list(ids))
        mgr.state.remove("container", ctr)
        return ids

    res = mgr.remove("busy", force=True, remove_users=remove_users)
    assert seen == [[cid]]
    assert res.containers == [cid]
    assert not mgr.exists("busy")


def test_force_callback_that_leaves_users(mgr):
    mgr.create("sticky")
    _add_container(mgr.state, "cd" * 32, ["sticky"])
    with pytest.raises(VolumeInUse, match="still used"):
        mgr.remove("sticky", force=True, remove_users=lambda ids: [])
    assert mgr.exists("sticky")


def test_prune(mgr):
    for n in ("a", "b", "c", "d"):
        mgr.create(n, labels={"keep": "yes"} if n == "b" else {"env": "test"})
    _add_container(mgr.state, "ef" * 32, ["a"])
    mgr.mount("d")  # mounted by someone: not pruned
    assert mgr.prune(labels={"env": "test"}) == ["c"]
    assert mgr.prune(exclude_labels=["keep"]) == []
    mgr.unmount("d")
    assert mgr.prune(exclude_labels={"keep": "yes"}) == ["d"]
    assert mgr.prune() == ["b"]
    assert [v.name for v in mgr.list()] == ["a"]


# ------------------------------------------------------------------------------------------
# mounts
# ------------------------------------------------------------------------------------------
@needs_root
def test_tmpfs_size_is_real_and_counted(mgr):
    mgr.create("scratch", options={"type": "tmpfs", "device": "tmpfs", "o": "size=16m,mode=1777,nodev"})
    data = mgr.data_dir("scratch")
    path = mgr.mount("scratch")
    assert path == data and is_mount_point(data)
    vfs = os.statvfs(path)
    assert vfs.f_blocks * vfs.f_frsize == 16 * MiB
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o1777
    entry = [e for e in mount_table() if e.point == data][0]
    assert (entry.fstype, entry.source) == ("tmpfs", "tmpfs") and "nodev" in entry.options

    assert mgr.mount("scratch") == path
    assert _count_mounts(data) == 1 and mgr.inspect("scratch")["MountCount"] == 2
    assert mgr.unmount("scratch") == 1 and is_mount_point(data)
    assert mgr.unmount("scratch") == 0 and not is_mount_point(data)
    assert mgr.unmount("scratch") == 0  # idempotent


@needs_root
def test_tmpfs_uid_gid_and_top_level_size(mgr):
    mgr.create("owned", options={"type": "tmpfs", "device": "tmpfs", "size": "4m", "o": "uid=1000,gid=1000"})
    path = mgr.mount("owned")
    try:
        st_ = os.stat(path)
        assert (st_.st_uid, st_.st_gid) == (1000, 1000)
        vfs = os.statvfs(path)
        assert vfs.f_blocks * vfs.f_frsize == 4 * MiB
    finally:
        mgr.unmount("owned")


@needs_root
def test_mount_drift_is_repaired(mgr):
    mgr.create("drift", options={"type": "tmpfs", "device": "tmpfs"})
    data = mgr.mount("drift")
    sys_umount(data, volmod.MNT_DETACH)  # someone unmounted it behind our back
    assert mgr.mount("drift") == data and is_mount_point(data) and _count_mounts(data) == 1
    assert mgr.unmount("drift", force=True) == 0 and not is_mount_point(data)


@needs_root
def test_bind_volume_and_removal_keeps_host_data(tmp_path, mgr):
    host = tmp_path / "hostdir"
    host.mkdir()
    (host / "hello.txt").write_text("from host")
    mgr.create("bindvol", options={"type": "none", "device": str(host), "o": "bind"})
    path = mgr.mount("bindvol")
    assert pathlib.Path(path, "hello.txt").read_text() == "from host"
    with open(os.path.join(path, "new.txt"), "w") as f:
        f.write("from volume")
    assert (host / "new.txt").read_text() == "from volume"
    # removal of a still-mounted bind volume must unmount first, never delete the host's files
    mgr.remove("bindvol")
    assert not is_mount_point(path)
    assert sorted(os.listdir(host)) == ["hello.txt", "new.txt"]


@needs_root
def test_read_only_bind(tmp_path, mgr):
    host = tmp_path / "ro"
    host.mkdir()
    mgr.create("robind", options={"type": "bind", "device": str(host), "o": "bind,ro"})
    path = mgr.mount("robind")
    try:
        with pytest.raises(OSError) as exc:
            open(os.path.join(path, "x"), "w").close()
        assert exc.value.errno == 30  # EROFS
    finally:
        mgr.unmount("robind")


@needs_root
def test_bind_source_gone_is_storage_error(tmp_path, mgr):
    host = tmp_path / "gone"
    host.mkdir()
    mgr.create("gonebind", options={"type": "none", "device": str(host), "o": "bind"})
    host.rmdir()
    with pytest.raises(StorageError, match='volume "gonebind": bind source device=.* is not a directory'):
        mgr.mount("gonebind")
    assert mgr.get("gonebind").state.mount_count == 0


def _loop_device(img: str):
    subprocess.run(["truncate", "-s", "16M", img], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True, capture_output=True)
    res = subprocess.run(["losetup", "-f", "--show", img], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        pytest.skip("no loop device: %s" % res.stderr.strip())
    return res.stdout.strip()


@needs_root
@pytest.mark.skipif(not shutil.which("mkfs.ext4") or not shutil.which("losetup"), reason="e2fsprogs/losetup")
def test_ext4_block_device_volume(tmp_path, mgr):
    dev = _loop_device(str(tmp_path / "fs.img"))
    try:
        mgr.create("blk", options={"type": "ext4", "device": dev, "o": "noatime,uid=1000"})
        path = mgr.mount("blk")
        try:
            assert os.path.isdir(os.path.join(path, "lost+found"))
            assert os.stat(path).st_uid == 1000  # ext4 has no uid= option: the root is chowned
            src = tmp_path / "img"
            (src / "etc").mkdir(parents=True)
            (src / "etc" / "conf").write_text("c")
            assert mgr.copy_up("blk", str(src)) == 2  # lost+found does not make it "non-empty"
        finally:
            mgr.unmount("blk")
        assert not is_mount_point(path)
        with pytest.raises(StorageError, match='volume "bad": mounting .* failed'):
            mgr.create("bad", options={"type": "xfs", "device": dev})
            mgr.mount("bad")
    finally:
        _cleanup_mounts(str(tmp_path))
        subprocess.run(["losetup", "-d", dev], check=False)


@needs_root
@pytest.mark.skipif(not shutil.which("mkfs.ext4"), reason="e2fsprogs")
def test_image_file_device_uses_mount_helper(tmp_path, mgr):
    img = str(tmp_path / "file.img")
    subprocess.run(["truncate", "-s", "16M", img], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True, capture_output=True)
    mgr.create("imgvol", options={"type": "ext4", "device": img})
    try:
        path = mgr.mount("imgvol")
        assert os.path.isdir(os.path.join(path, "lost+found"))
    finally:
        mgr.unmount("imgvol", force=True)
        _cleanup_mounts(str(tmp_path))
    assert not is_mount_point(mgr.data_dir("imgvol"))


def _worker(tmp: str, name: str, ops: str, n: int, q) -> None:
    try:
        m = _open(pathlib.Path(tmp))
        for i in range(n):
            if ops == "mount":
                m.mount(name)
            elif ops == "unmount":
                m.unmount(name)
            else:
                m.mount(name) if i % 2 == 0 else m.unmount(name)
        m.state.close()
        q.put("ok")
    except BaseException as exc:  # report to the parent instead of dying silently
        q.put(repr(exc))


def _run_workers(tmp_path, name, ops, n, procs=2):
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    ps = [ctx.Process(target=_worker, args=(str(tmp_path), name, ops, n, q)) for _i in range(procs)]
    for p in ps:
        p.start()
    results = [q.get(timeout=120) for _i in ps]
    for p in ps:
        p.join(30)
    assert results == ["ok"] * procs


@needs_root
def test_mount_count_across_processes(tmp_path, mgr):
    mgr.create("shared", options={"type": "tmpfs", "device": "tmpfs", "o": "size=1m"})
    data = mgr.data_dir("shared")
    _run_workers(tmp_path, "shared", "mount", 25)
    assert mgr.get("shared").state.mount_count == 50
    assert _count_mounts(data) == 1
    _run_workers(tmp_path, "shared", "both", 40)  # 20 mount + 20 unmount each: net zero
    assert mgr.get("shared").state.mount_count == 50 and _count_mounts(data) == 1
    _run_workers(tmp_path, "shared", "unmount", 25)
    assert mgr.get("shared").state.mount_count == 0
    assert _count_mounts(data) == 0


# ------------------------------------------------------------------------------------------
# copy-up
# ------------------------------------------------------------------------------------------
def _image_tree(base) -> str:
    src = base / "image" / "var" / "lib" / "app"
    (src / "sub" / "deep").mkdir(parents=True)
    (src / "empty").mkdir()
    (src / "file.txt").write_text("content")
    os.chmod(src / "file.txt", 0o640)
    (src / "tool").write_bytes(b"\x7fELF")
    os.chmod(src / "tool", 0o4755)
    (src / "sub" / "deep" / "x").write_text("deep")
    os.chmod(src / "sub", 0o750)
    os.symlink("file.txt", src / "rel-link")
    os.symlink("/etc/shadow", src / "abs-link")
    os.symlink("../../../../../../../../etc", src / "escape-link")
    os.link(src / "file.txt", src / "hard.txt")
    os.mkfifo(src / "fifo", 0o600)
    if ROOT:
        os.chown(src / "file.txt", 1000, 1000)
        os.lchown(src / "rel-link", 1000, 1001)
        os.chown(src / "sub", 1234, 5678)
    os.utime(src / "sub" / "deep" / "x", (1_000_000_000, 1_000_000_000))
    os.chmod(src, 0o751)
    return str(src)


def _snapshot(root: str):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            s = os.lstat(p)
            rel = os.path.relpath(p, root)
            entry = (stat.S_IFMT(s.st_mode), stat.S_IMODE(s.st_mode), s.st_uid, s.st_gid)
            if stat.S_ISLNK(s.st_mode):
                entry += (os.readlink(p),)
            elif stat.S_ISREG(s.st_mode):
                entry += (pathlib.Path(p).read_bytes(), s.st_mtime_ns, s.st_nlink)
            out[rel] = entry
    return out


def test_copy_up_preserves_tree(tmp_path, mgr):
    src = _image_tree(tmp_path)
    vol = mgr.create("appdata")
    assert vol.state.needs_copy_up
    n = mgr.copy_up("appdata", src)
    assert n == 11
    data = mgr.data_dir("appdata")
    assert _snapshot(data) == _snapshot(src)
    assert os.readlink(os.path.join(data, "abs-link")) == "/etc/shadow"  # copied as a link, not followed
    assert os.path.samefile(os.path.join(data, "file.txt"), os.path.join(data, "hard.txt"))
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o751  # volume root takes the image dir's mode
    st_ = mgr.get("appdata").state
    assert not st_.needs_copy_up and not st_.needs_chown and st_.mount_count == 0
    assert mgr.copy_up("appdata", src) == 0  # only on first use


def test_copy_up_skips_nonempty_and_nocopy(tmp_path, mgr):
    src = _image_tree(tmp_path)
    mgr.create("full")
    with open(os.path.join(mgr.data_dir("full"), "mine"), "w") as f:
        f.write("user data")
    assert mgr.copy_up("full", src) == 0
    assert os.listdir(mgr.data_dir("full")) == ["mine"]
    assert not mgr.get("full").state.needs_copy_up

    mgr.create("nocp", options={"nocopy": ""})
    assert mgr.copy_up("nocp", src) == 0
    assert os.listdir(mgr.data_dir("nocp")) == []


def test_copy_up_missing_source_clears_flag(tmp_path, mgr):
    mgr.create("nosrc")
    assert mgr.copy_up("nosrc", str(tmp_path / "does-not-exist")) == 0
    assert not mgr.get("nosrc").state.needs_copy_up


def test_copy_up_restarts_interrupted_copy(tmp_path, mgr):
    src = _image_tree(tmp_path)
    vol = mgr.create("half")
    with open(os.path.join(mgr.data_dir("half"), "partial"), "w") as f:
        f.write("half copied")
    vol.state.copy_up_in_progress = True
    mgr.state.save_state("volume", "half", vol.state.to_dict())
    assert mgr.copy_up("half", src) == 11
    assert "partial" not in os.listdir(mgr.data_dir("half"))


def test_copy_up_with_root_stays_inside(tmp_path, mgr):
    rootfs = tmp_path / "rootfs"
    (rootfs / "real").mkdir(parents=True)
    (rootfs / "real" / "inside").write_text("in")
    os.symlink("/../../../real", rootfs / "data")  # absolute and escaping: resolves to <rootfs>/real
    assert secure_join(str(rootfs), "/data") == str(rootfs / "real")
    assert secure_join(str(rootfs), "../../../etc") == str(rootfs / "etc")
    mgr.create("rooted")
    assert mgr.copy_up("rooted", "/data", root=str(rootfs)) == 1
    assert os.listdir(mgr.data_dir("rooted")) == ["inside"]


@needs_root
def test_copy_up_into_tmpfs_volume(tmp_path, mgr):
    src = _image_tree(tmp_path)
    mgr.create("tmpcp", options={"type": "tmpfs", "device": "tmpfs", "o": "size=2m"})
    path = mgr.mount("tmpcp")
    try:
        assert mgr.copy_up("tmpcp", src) == 11
        assert sorted(os.listdir(path)) == sorted(os.listdir(src))
        assert mgr.get("tmpcp").state.mount_count == 1  # copy-up's own mount was given back
        assert not mgr.get("tmpcp").state.needs_copy_up
    finally:
        mgr.unmount("tmpcp")
    assert not is_mount_point(path)
    # the content went with the tmpfs: the next first use copies the image content again
    assert mgr.get("tmpcp").state.needs_copy_up
    path = mgr.mount("tmpcp")
    try:
        assert os.listdir(path) == []
        assert mgr.copy_up("tmpcp", src) == 11
    finally:
        mgr.unmount("tmpcp")


def test_fix_ownership(mgr):
    mgr.create("chowned")
    assert mgr.fix_ownership("chowned", 1000, 1000) is True
    assert os.stat(mgr.data_dir("chowned")).st_uid == 1000
    assert mgr.fix_ownership("chowned", 0, 0) is False  # only once


def test_copy_tree_never_writes_through_symlinks(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    os.symlink(str(tmp_path / "victim"), src / "link")
    dst = tmp_path / "dst"
    dst.mkdir()
    copy_tree(str(src), str(dst))
    assert os.path.islink(dst / "link") and not os.path.exists(tmp_path / "victim")


@needs_root
def test_user_hold_is_taken_once_and_lost_mounts_are_made_again(mgr):
    """state: mounted / unmounted: one reference of the user beside the containers', idempotent."""
    mgr.create("held", options={"type": "tmpfs", "device": "tmpfs", "o": "size=1m"})
    data = mgr.data_dir("held")
    assert mgr.hold("held") == (True, data) and mgr.hold("held") == (False, data)
    assert mgr.get("held").state.mount_count == 1 and mgr.held("held") and is_mount_point(data)
    assert mgr.mount("held") == data  # a container's reference beside it
    assert mgr.release("held") and not mgr.release("held")
    assert is_mount_point(data) and mgr.get("held").state.mount_count == 1  # the container still uses it
    assert mgr.unmount("held") == 0 and not is_mount_point(data)
    assert mgr.hold("held") == (True, data)
    sys_umount(data, volmod.MNT_DETACH)  # unmounted behind our back: taken (and mounted) again
    assert not mgr.held("held") and mgr.hold("held") == (True, data) and is_mount_point(data)
    assert mgr.get("held").state.mount_count == 1
    mgr.refresh()  # a reboot drops every reference, the user's too
    assert not mgr.get("held").state.user_mounted
    mgr.unmount("held", force=True)


def test_user_hold_of_a_plain_local_volume(mgr):
    mgr.create("plain")
    assert mgr.hold("plain") == (True, mgr.data_dir("plain")) and not mgr.hold("plain")[0]
    assert mgr.release("plain") and mgr.get("plain").state.mount_count == 0
