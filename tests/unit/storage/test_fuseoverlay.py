# SPDX-License-Identifier: GPL-3.0-or-later
"""storage/fuseoverlay.py and its use by RootfsStore: which overlay a root uses (forced
mount_program, native, fuse-overlayfs fallback, none), the per-root probe cache, and real
fuse-overlayfs mounts as root (unmounted by umount2, the daemon gone)."""
from __future__ import annotations

import io
import os

import pytest
from helpers.images import busybox_layer, sha256, unmount_all_under

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import StorageError
from ansible_collections.libpod.engine.plugins.module_utils.engine.host import mounts
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import argvs, wait_pid_gone
from ansible_collections.libpod.engine.plugins.module_utils.engine.storage import fuseoverlay, layers
from ansible_collections.libpod.engine.plugins.module_utils.engine.storage import rootfs as storage

CID = "e" * 64
FUSE_OVERLAYFS = "/usr/bin/fuse-overlayfs"


def _native(ok: bool):
    calls = []

    def probe():
        calls.append(1)
        return (ok, "" if ok else "overlay cannot mount on /g: Operation not permitted")
    probe.calls = calls
    return probe


def _exe(tmp_path, name="fuse-overlayfs"):
    p = tmp_path / name
    p.write_text("#!/bin/sh\n")
    p.chmod(0o755)
    return str(p)


def test_forced_mount_program_skips_the_native_probe(tmp_path):
    probe = _native(True)
    c = fuseoverlay.choose("/opt/fo", probe, dev=str(tmp_path / "nodev"))
    assert (c.kind, c.program) == (fuseoverlay.FUSE, "/opt/fo")
    assert not probe.calls


def test_native_first_then_fuse_then_none(tmp_path):
    dev = tmp_path / "fuse"
    dev.write_text("")
    prog = _exe(tmp_path)
    assert fuseoverlay.choose("", _native(True), default_program=prog, dev=str(dev)).kind == fuseoverlay.NATIVE
    c = fuseoverlay.choose("", _native(False), default_program=prog, dev=str(dev))
    assert (c.kind, c.program) == (fuseoverlay.FUSE, prog)
    assert "Operation not permitted" in c.reason and prog in c.reason
    c = fuseoverlay.choose("", _native(False), default_program=str(tmp_path / "missing"), dev=str(dev))
    assert c.kind == "" and "is not installed" in c.reason
    c = fuseoverlay.choose("", _native(False), default_program=prog, dev=str(tmp_path / "nodev"))
    assert c.kind == "" and "cannot open" in c.reason


def test_no_overlay_is_vfs_by_default_and_an_error_when_overlay_was_asked_for(tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "overlay_supported", lambda root, cache_dir="": (False, "no overlay here"))
    monkeypatch.setattr(fuseoverlay, "DEFAULT_PROGRAM", str(tmp_path / "missing"))
    rs = storage.RootfsStore(str(tmp_path / "g"))
    assert rs.driver == "vfs" and rs.overlay_kind == ""
    assert "no overlay here" in rs.fallback_reason and "apt-get install fuse-overlayfs" in rs.fallback_reason
    with pytest.raises(StorageError) as e:
        _unused = storage.RootfsStore(str(tmp_path / "g"), strict=True).driver
    assert "graph driver overlay cannot be used" in str(e.value) and 'graph_driver = "vfs"' in e.value.hint


def test_native_verdict_is_cached_in_the_run_root(tmp_path, monkeypatch):
    graph, run = str(tmp_path / "g"), str(tmp_path / "run")
    if os.geteuid() != 0:
        pytest.skip("the real probe needs root")
    storage._overlay_support.clear()
    assert storage.overlay_supported(graph, run) == (True, "")
    storage._overlay_support.clear()
    # a later process (empty in-process cache) reads the root's verdict instead of mounting again
    monkeypatch.setattr(storage, "_mount_legacy", lambda *a: pytest.fail("probed again"))
    assert storage.overlay_supported(graph, run) == (True, "")
    storage._overlay_support.clear()
    with open(os.path.join(run, storage.PROBE_CACHE), "w") as f:
        f.write('{"graph_root": "%s", "native": false, "reason": "refused"}' % os.path.realpath(graph))
    assert storage.overlay_supported(graph, run) == (False, "refused")
    storage._overlay_support.clear()


def test_check_names_the_fix(tmp_path):
    with pytest.raises(StorageError) as e:
        fuseoverlay.check(str(tmp_path / "nope"))
    assert "is not installed" in str(e.value) and "mount_program" in e.value.hint
    with pytest.raises(StorageError) as e:
        fuseoverlay.check(_exe(tmp_path), dev=str(tmp_path / "nodev"))
    assert "cannot open" in str(e.value) and "chmod 0666 /dev/fuse" in e.value.hint


def fstypes(point: str):
    return [m.fstype for m in mounts.mount_table() if m.point == point]


def _fuse_pids(target: str):
    for pid, args in argvs():  # a zombie's argv is []
        if args and args[0].endswith("fuse-overlayfs") and target in args:
            yield pid


@pytest.mark.skipif(os.geteuid() != 0 or not os.access(FUSE_OVERLAYFS, os.X_OK), reason="needs root and fuse-overlayfs")
def test_root_with_mount_program_mounts_through_fuse_overlayfs(tmp_path):
    graph = str(tmp_path / "g")
    try:
        tar = busybox_layer(str(tmp_path / "bb"))
        lower, _unused = layers.install_layer(io.BytesIO(tar), os.path.join(graph, "layers"), sha256(tar))
        rs = storage.RootfsStore(graph, run_root=str(tmp_path / "run"), mount_program=FUSE_OVERLAYFS)
        assert (rs.driver, rs.overlay_kind) == ("overlay", "fuse-overlayfs")
        merged = rs.mount(CID, [os.path.join(lower, "diff")])
        assert fstypes(merged) == ["fuse.fuse-overlayfs"]
        assert os.path.isfile(os.path.join(merged, "bin", "busybox"))
        with open(os.path.join(merged, "written"), "w") as f:
            f.write("x")
        assert os.path.isfile(os.path.join(graph, "containers", CID, "upper", "written"))
        # the kind stays with the container: a store without mount_program mounts it through FUSE again
        daemons = list(_fuse_pids(merged))
        assert len(daemons) == 1
        rs.unmount(CID)
        assert not rs.mounted(CID)
        assert wait_pid_gone(daemons[0], 30), "the fuse-overlayfs daemon ends with its mount"
        plain = storage.RootfsStore(graph, run_root=str(tmp_path / "run"))
        assert plain.mount_program_of(CID) == FUSE_OVERLAYFS
        plain.mount(CID, [os.path.join(lower, "diff")])
        assert fstypes(merged) == ["fuse.fuse-overlayfs"]
        plain.remove(CID)
        assert not os.path.exists(os.path.join(graph, "containers", CID))
    finally:
        unmount_all_under(str(tmp_path))


@pytest.mark.skipif(os.geteuid() != 0 or not os.access(FUSE_OVERLAYFS, os.X_OK), reason="needs root and fuse-overlayfs")
def test_native_refused_falls_back_to_fuse_overlayfs(tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "overlay_supported", lambda root, cache_dir="": (False, "overlay refused: test"))
    graph = str(tmp_path / "g")
    try:
        rs = storage.RootfsStore(graph)
        assert (rs.driver, rs.overlay_kind, rs.overlay.program) == ("overlay", "fuse-overlayfs", FUSE_OVERLAYFS)
        assert "overlay refused: test" in rs.overlay.reason
        os.makedirs(os.path.join(graph, "empty-lower"))
        merged = rs.mount(CID, [os.path.join(graph, "empty-lower")])
        assert fstypes(merged) == ["fuse.fuse-overlayfs"]
        rs.remove(CID)
    finally:
        unmount_all_under(str(tmp_path))


def test_known_overlay_never_probes(tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "overlay_supported", lambda *a: pytest.fail("probed"))
    graph, run = str(tmp_path / "g"), str(tmp_path / "run")
    storage._overlay_support.pop(os.path.realpath(graph), None)
    assert storage.RootfsStore(graph, run_root=run).known_overlay() is None
    assert storage.RootfsStore(graph, driver="vfs", run_root=run).known_overlay().kind == ""
    forced = storage.RootfsStore(graph, run_root=run, mount_program="/opt/fo").known_overlay()
    assert (forced.kind, forced.program) == (fuseoverlay.FUSE, "/opt/fo")
    os.makedirs(run)
    with open(os.path.join(run, storage.PROBE_CACHE), "w") as f:
        f.write('{"graph_root": "%s", "native": true, "reason": ""}' % os.path.realpath(graph))
    assert storage.RootfsStore(graph, run_root=run).known_overlay().kind == fuseoverlay.NATIVE
    storage._overlay_support.pop(os.path.realpath(graph), None)
