# SPDX-License-Identifier: GPL-3.0-or-later
"""storage.py: real overlay mounts (legacy and new mount API), vfs copies, cleanup."""
from __future__ import annotations

import io
import os
import stat
import time

import pytest
from helpers.images import (
    E,
    build_image,
    busybox_layer,
    sha256,
    tar_from_entries,
    tree_snapshot,
    unmount_all_under,
    write_oci_archive,
)

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg, StorageError
from ansible_collections.libpod.engine.plugins.module_utils.engine.host import mounts
from ansible_collections.libpod.engine.plugins.module_utils.engine.image.store import ImageStore
from ansible_collections.libpod.engine.plugins.module_utils.engine.storage import layers
from ansible_collections.libpod.engine.plugins.module_utils.engine.storage import rootfs as storage
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounts need root")

CID = "c" * 64
CID2 = "d" * 64


def read(*parts: str) -> str:
    with open(os.path.join(*parts)) as f:
        return f.read()


def in_proc_mounts(path: str) -> bool:
    return os.path.realpath(path) in mounts.mount_points()


@pytest.fixture
def graph(tmp_path):
    root = tmp_path / "graph"
    root.mkdir()
    yield str(root)
    unmount_all_under(str(tmp_path))
    assert not mounts.mount_points(str(tmp_path))


@pytest.fixture(scope="module")
def bb_tar(tmp_path_factory):
    return busybox_layer(str(tmp_path_factory.mktemp("bb")))


def install(graph: str, tar: bytes) -> str:
    path, _unused = layers.install_layer(io.BytesIO(tar), os.path.join(graph, "layers"), sha256(tar))
    return os.path.join(path, "diff")


def test_overlay_mount_unmount_remove(graph, bb_tar):
    lower = install(graph, bb_tar)
    rs = storage.RootfsStore(graph)
    assert rs.driver == "overlay"
    merged = rs.mount(CID, [lower])
    assert merged == os.path.join(graph, "containers", CID, "merged")
    assert in_proc_mounts(merged) and rs.mounted(CID)
    assert os.path.isfile(os.path.join(merged, "bin", "busybox"))
    assert rs.mount(CID, [lower]) == merged  # idempotent: still one mount
    assert mounts.mount_points(os.path.realpath(merged)) == [os.path.realpath(merged)]
    with open(os.path.join(merged, "etc", "written"), "w") as f:
        f.write("x")
    assert os.path.exists(os.path.join(graph, "containers", CID, "upper", "etc", "written"))
    assert not os.path.exists(os.path.join(lower, "etc", "written"))  # lower stays untouched
    userdata = os.path.join(graph, "containers", CID, "userdata")
    os.makedirs(userdata)
    rs.unmount(CID)
    assert not in_proc_mounts(merged) and not rs.mounted(CID)
    rs.unmount(CID)  # idempotent
    assert os.path.isdir(userdata)  # unmount keeps the container layer's userdata
    # remount sees the container's earlier writes
    merged = rs.mount(CID, [lower])
    assert os.path.exists(os.path.join(merged, "etc", "written"))
    rs.remove(CID)
    assert not os.path.exists(os.path.join(graph, "containers", CID))
    assert not in_proc_mounts(merged)
    rs.remove(CID)  # idempotent


def test_busy_unmount_detaches_lazily(graph, bb_tar):
    rs = storage.RootfsStore(graph)
    merged = rs.mount(CID, [install(graph, bb_tar)])
    fd = os.open(os.path.join(merged, "bin", "busybox"), os.O_RDONLY)
    cwd = os.getcwd()
    os.chdir(merged)  # makes a plain umount fail with EBUSY
    try:
        rs.unmount(CID)
        assert not in_proc_mounts(merged)
    finally:
        os.chdir(cwd)
        os.close(fd)


def _two_layer_tars():
    base = tar_from_entries([
        E("a", "dir"), E("a/file1", data=b"1"), E("a/file2", data=b"2"),
        E("d", "dir"), E("d/old", data=b"old"), E("d/sub", "dir"), E("d/sub/deep", data=b"deep"),
        E("keep", data=b"keep"), E("linkdir", "symlink", target="/etc"),
    ])
    top = tar_from_entries([
        E("a", "dir"), E("a/.wh.file1"),
        E("d", "dir"), E("d/.wh..wh..opq"), E("d/new", data=b"new"),
        E(".wh.keep-not-there"),
        E("linkdir", "dir"), E("linkdir/file", data=b"in a real dir now"),
    ])
    return base, top


EXPECTED_MERGED = {"a", "a/file2", "d", "d/new", "keep", "linkdir", "linkdir/file"}


def _names(root):
    return {rel for rel, entry in tree_snapshot(root).items()}


def test_whiteouts_through_image_store_and_overlay(graph, tmp_path):
    base, top = _two_layer_tars()
    img = build_image([base, top], config={"Cmd": ["sh"]})
    write_oci_archive(str(tmp_path / "two.tar"), [(img, "localhost/two:latest")])
    st = State(str(tmp_path / "state.db"))
    store = ImageStore(st, graph)
    image = store.pull("oci-archive:%s" % (tmp_path / "two.tar"))
    assert image.layers == [d.split(":")[1] for d in img.diff_ids]
    rs = storage.RootfsStore(graph)
    merged = rs.mount(CID, store.layer_dirs(image))
    assert _names(merged) == EXPECTED_MERGED
    assert read(merged, "a", "file2") == "2"
    assert not os.path.islink(os.path.join(merged, "linkdir"))
    # the vfs driver builds the same tree from the same layer dirs
    vfs = storage.RootfsStore(graph, driver="vfs")
    assert vfs.driver == "vfs"
    vmerged = vfs.mount(CID2, store.layer_dirs(image))
    assert not in_proc_mounts(vmerged)
    assert tree_snapshot(vmerged) == tree_snapshot(merged)
    assert vfs.mounted(CID2)
    vfs.unmount(CID2)  # no-op for vfs
    vfs.remove(CID2)
    assert not os.path.exists(os.path.dirname(vmerged))
    rs.remove(CID)
    st.close()


def test_vfs_matches_overlay_for_busybox(graph, bb_tar):
    lower = install(graph, bb_tar)
    ov = storage.RootfsStore(graph).mount(CID, [lower])
    vfs = storage.RootfsStore(graph, driver="vfs").mount(CID2, [lower])
    assert tree_snapshot(vfs, mtimes=True) == tree_snapshot(ov, mtimes=True)


def test_driver_falls_back_to_vfs(graph, bb_tar, monkeypatch):
    monkeypatch.setattr(storage, "overlay_supported",
                        lambda root, cache_dir="": (False, "overlay cannot mount here: test"))
    monkeypatch.setattr(storage.fuseoverlay, "DEFAULT_PROGRAM", os.path.join(graph, "no-fuse-overlayfs"))
    rs = storage.RootfsStore(graph)
    assert rs.driver == "vfs"
    assert "test" in rs.fallback_reason
    merged = rs.mount(CID, [install(graph, bb_tar)])
    assert os.path.isfile(os.path.join(merged, "bin", "busybox"))
    assert not in_proc_mounts(merged)
    # a container keeps the driver it was created with, even if detection changes later
    monkeypatch.setattr(storage, "overlay_supported", lambda root, cache_dir="": (True, ""))
    assert storage.RootfsStore(graph).mounted(CID)
    assert storage.RootfsStore(graph).mount(CID, [install(graph, bb_tar)]) == merged
    assert not in_proc_mounts(merged)


def test_overlay_probe_is_real(graph):
    storage._overlay_support.clear()
    ok, why = storage.overlay_supported(graph)
    assert ok, why
    assert os.listdir(graph) == []  # the probe cleans up after itself


def test_deep_image_uses_new_mount_api(graph):
    lowers = []
    for i in range(60):
        tar = tar_from_entries([E("layer-%02d" % i, data=b"%d" % i), E("top", data=b"%d" % i)])
        lowers.append(install(graph, tar))
    opts = storage.overlay_options(list(reversed(lowers)), "u", "w")
    assert len(opts) > os.sysconf("SC_PAGE_SIZE")
    rs = storage.RootfsStore(graph)
    merged = rs.mount(CID, lowers)
    assert in_proc_mounts(merged)
    assert read(merged, "top") == "59"  # last layer is on top
    assert len([n for n in os.listdir(merged) if n.startswith("layer-")]) == 60
    rs.unmount(CID)
    assert not in_proc_mounts(merged)


def test_odd_characters_in_paths(tmp_path):
    root = tmp_path / "g,raph:with\\odd"
    root.mkdir()
    try:
        lower = install(str(root), tar_from_entries([E("f", data=b"odd")]))
        rs = storage.RootfsStore(str(root))
        merged = rs.mount(CID, [lower])
        assert read(merged, "f") == "odd"
        assert rs.mounted(CID)
        rs.unmount(CID)
        assert not rs.mounted(CID)
    finally:
        unmount_all_under(str(tmp_path))


def test_mount_path_choice(graph):
    lower = install(graph, tar_from_entries([E("f", data=b"1")]))
    for d in ("u", "w", "m"):
        os.makedirs(os.path.join(graph, d))
    used = storage.mount_overlay(os.path.join(graph, "m"), [lower], os.path.join(graph, "u"),
                                 os.path.join(graph, "w"))
    assert used == "mount"
    storage.unmount_path(os.path.join(graph, "m"))
    assert not in_proc_mounts(os.path.join(graph, "m"))


def test_empty_image_and_bad_ids(graph):
    rs = storage.RootfsStore(graph)
    merged = rs.mount(CID, [])
    assert os.listdir(merged) == []
    for bad in ("../../etc", "C" * 64, "c" * 63, "c" * 64 + "/..", "", None):
        with pytest.raises(InvalidArg):
            rs.mount(bad, [])
    with pytest.raises(StorageError, match="missing"):
        rs.mount(CID2, [os.path.join(graph, "nope")])
    with pytest.raises(InvalidArg):
        storage.RootfsStore(graph, driver="btrfs")
    assert rs.list() == [CID]  # nothing was created for the failed one


def test_mount_timing(graph, bb_tar, record_property):
    lower = install(graph, bb_tar)
    rs = storage.RootfsStore(graph)
    rs.create(CID, [lower])
    assert rs.driver == "overlay"
    times = []
    for _i in range(20):
        t0 = time.perf_counter()
        rs.mount(CID, [lower])
        t1 = time.perf_counter()
        rs.unmount(CID)
        times.append((t1 - t0, time.perf_counter() - t1))
    times.sort()
    med = times[len(times) // 2]
    record_property("overlay_mount_ms", round(med[0] * 1000, 3))
    record_property("overlay_unmount_ms", round(med[1] * 1000, 3))
    print("overlay mount %.2f ms, unmount %.2f ms (median of 20)" % (med[0] * 1000, med[1] * 1000))
    assert stat.S_ISDIR(os.lstat(rs.merged_dir(CID)).st_mode)
