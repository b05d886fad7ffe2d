# SPDX-License-Identifier: GPL-3.0-or-later
"""layers.py: safe unpacking of real and hostile layer tars into real directories."""
from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import stat
import sys

import pytest
from helpers.images import (
    CONTAINED_LAYERS,
    HOSTILE_LAYERS,
    MTIME,
    E,
    busybox_layer,
    gz,
    sha256,
    tar_from_entries,
    tree_snapshot,
    truncated_gzip_layer,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import (
    DigestMismatch,
    ImageError,
    UnsafeLayer,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.storage import layers

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="needs root (devices, ownership, trusted xattrs)")


@pytest.fixture(scope="module")
def bb(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("bb"))
    return work, busybox_layer(work)


def unpack(data: bytes, dest, **kw):
    os.makedirs(dest, exist_ok=True)
    return layers.unpack_layer(io.BytesIO(data), str(dest), **kw)


# -- real layers -------------------------------------------------------------------------------
@pytest.mark.parametrize("compressed", [True, False], ids=["gzip", "plain"])
def test_busybox_layer_roundtrip(bb, tmp_path, compressed):
    work, tar = bb
    blob = gz(tar) if compressed else tar
    stats = unpack(blob, tmp_path / "out", expected_digest=sha256(blob), expected_size=len(blob),
                   expected_diff_id=sha256(tar))
    assert stats.diff_id == sha256(tar)
    assert stats.digest == sha256(blob)
    assert stats.compression == ("gzip" if compressed else "none")
    assert stats.uncompressed_size == len(tar)
    assert stats.size >= os.path.getsize("/usr/bin/busybox")
    want = tree_snapshot(os.path.join(work, "busybox-rootfs"))
    got = tree_snapshot(str(tmp_path / "out"))
    assert got == want
    assert os.lstat(tmp_path / "out" / "bin" / "busybox").st_mtime == MTIME
    assert os.lstat(tmp_path / "out" / "bin").st_mtime == MTIME  # dir mtimes set after children


def test_digest_size_and_diff_id_are_checked(bb, tmp_path):
    _unused, tar = bb
    blob = gz(tar)
    with pytest.raises(DigestMismatch, match="content digest"):
        unpack(blob, tmp_path / "a", expected_digest=sha256(b"other"))
    with pytest.raises(DigestMismatch, match="diff_id"):
        unpack(blob, tmp_path / "b", expected_diff_id=sha256(b"other"))
    with pytest.raises(DigestMismatch, match="expected %d" % (len(blob) + 1)):
        unpack(blob, tmp_path / "c", expected_size=len(blob) + 1)
    with pytest.raises(DigestMismatch, match="longer than its declared size"):
        unpack(blob, tmp_path / "d", expected_size=len(blob) - 100)


def test_truncated_and_corrupt_input(tmp_path):
    with pytest.raises(ImageError, match="truncated or corrupt") as ei:
        unpack(truncated_gzip_layer(), tmp_path / "a")
    assert not isinstance(ei.value, UnsafeLayer)
    tar = tar_from_entries([E("big", data=os.urandom(100000))])
    with pytest.raises(ImageError, match="truncated or corrupt"):
        unpack(tar[:20000], tmp_path / "b")
    with pytest.raises(ImageError, match="truncated or corrupt"):
        unpack(b"this is not a tar archive at all" * 40, tmp_path / "c")
    with pytest.raises(ImageError, match="truncated or corrupt"):
        unpack(b"\x28\xb5\x2f\xfd" + b"\0" * 100, tmp_path / "d")


def test_zstd_layers(tmp_path, monkeypatch):
    """zstd layers (one frame or several, as zstd:chunked writes) unpack to the same tree and diff_id;
    without the zstandard package the error names it."""
    zstandard = pytest.importorskip("zstandard")
    tar = tar_from_entries([E("etc/hello", data=b"hi\n" * 1000), E("big", data=os.urandom(300000))])
    one = zstandard.ZstdCompressor().compress(tar)
    many = b"".join(zstandard.ZstdCompressor().compress(tar[i:i + 65536]) for i in range(0, len(tar), 65536))
    for i, blob in enumerate((one, many)):
        stats = unpack(blob, tmp_path / ("z%d" % i), media_type="application/vnd.oci.image.layer.v1.tar+zstd")
        assert stats.compression == "zstd" and stats.diff_id == "sha256:" + hashlib.sha256(tar).hexdigest()
        assert (tmp_path / ("z%d" % i) / "etc" / "hello").read_bytes() == b"hi\n" * 1000
    monkeypatch.setitem(sys.modules, "zstandard", None)
    with pytest.raises(ImageError, match="package zstandard is not installed"):
        unpack(one, tmp_path / "z9")


@pytest.mark.parametrize("field,value,refused", [
    ("uid", 1 << 40, ROOT), ("name", "n" * 300, True),
    ("mtime", 1 << 62, False),  # the kernel clamps it: fine
])
def test_absurd_header_fields(tmp_path, field, value, refused):
    import tarfile
    ti = tarfile.TarInfo("f")
    setattr(ti, field, value)
    ti.size = 1
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        tf.addfile(ti, io.BytesIO(b"x"))
    if refused:
        with pytest.raises(ImageError, match="entry"):
            unpack(buf.getvalue(), tmp_path / "out")
    else:
        unpack(buf.getvalue(), tmp_path / "out")


def test_empty_layer(tmp_path):
    stats = unpack(tar_from_entries([]), tmp_path / "out")
    assert stats.entries == 0
    assert os.listdir(tmp_path / "out") == []


# -- hostile layers ----------------------------------------------------------------------------
def _outside_snapshot(base):
    """Everything below ``base`` except the store, plus /etc/passwd's state."""
    seen = {}
    for dirpath, dirnames, filenames in os.walk(base):
        if "store" in dirnames and dirpath == str(base):
            dirnames.remove("store")
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            seen[p] = os.lstat(p).st_mtime_ns
    with open("/etc/passwd", "rb") as f:
        passwd = hashlib.sha256(f.read()).hexdigest()
    return seen, passwd, os.stat("/etc/passwd").st_mtime_ns, sorted(os.listdir("/"))


@pytest.mark.parametrize("name", sorted(HOSTILE_LAYERS))
@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_hostile_layer_refused_and_nothing_escapes(tmp_path, name, compressed):
    data = HOSTILE_LAYERS[name]()
    if compressed:
        data = gz(data)
    (tmp_path / "canary-dir").mkdir()
    (tmp_path / "canary-dir" / "canary").write_text("untouched")
    layers_root = tmp_path / "store" / "layers"
    layers_root.mkdir(parents=True)
    before = _outside_snapshot(tmp_path)
    with pytest.raises(UnsafeLayer) as ei:
        layers.install_layer(io.BytesIO(data), str(layers_root), sha256(b"whatever-diff-id"), name="sha256:hostile")
    assert "sha256:hostile" in str(ei.value)  # the message names the layer ...
    assert "entry" in str(ei.value)  # ... and the entry
    assert _outside_snapshot(tmp_path) == before
    assert (tmp_path / "canary-dir" / "canary").read_text() == "untouched"
    assert os.listdir(layers_root) == []  # the partial temp dir is gone
    for leftover in ("escape-dotdot", "escape-deep", "escape-rel", "escape-chain", "escape-replaced"):
        assert not os.path.lexists(tmp_path / leftover)
        assert not os.path.lexists(tmp_path / "store" / leftover)


def test_contained_absolute_path_lands_inside(tmp_path):
    unpack(CONTAINED_LAYERS["absolute"](), tmp_path / "out")
    assert (tmp_path / "out" / "abs" / "x").read_bytes() == b"inside"
    assert not os.path.exists("/abs/x")


def test_symlinks_point_anywhere_but_are_not_followed(tmp_path):
    unpack(CONTAINED_LAYERS["symlink-anywhere"](), tmp_path / "out")
    assert os.readlink(tmp_path / "out" / "etc-link") == "/etc"
    assert os.readlink(tmp_path / "out" / "up") == "../../../.."


def test_entry_replacing_a_symlink_does_not_write_through_it(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f").write_text("orig")
    data = tar_from_entries([E("l", "symlink", target=str(outside / "f")), E("l", data=b"new")])
    unpack(data, tmp_path / "out")
    assert (outside / "f").read_text() == "orig"
    assert (tmp_path / "out" / "l").read_bytes() == b"new"
    assert not os.path.islink(tmp_path / "out" / "l")


@needs_root
def test_devices_and_fifos(tmp_path):
    stats = unpack(CONTAINED_LAYERS["devices"](), tmp_path / "out")
    st = os.lstat(tmp_path / "out" / "dev" / "null")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3) and stat.S_IMODE(st.st_mode) == 0o666
    st = os.lstat(tmp_path / "out" / "dev" / "sda")
    assert stat.S_ISBLK(st.st_mode) and st.st_rdev == os.makedev(8, 0)
    assert stat.S_ISFIFO(os.lstat(tmp_path / "out" / "dev" / "pipe").st_mode)
    assert stats.skipped_devices == 0


@needs_root
def test_rootless_namespace_skips_devices_and_keeps_fifos(tmp_path, monkeypatch):
    """uid 0 of the rootless user namespace may chown but not mknod: devices are skipped, not fatal."""
    from ansible_collections.libpod.engine.plugins.module_utils.engine.host import userpaths

    monkeypatch.setattr(userpaths, "rootless_uid", lambda: 1000)
    stats = unpack(CONTAINED_LAYERS["devices"](), tmp_path / "out")
    assert not os.path.lexists(tmp_path / "out" / "dev" / "null")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "out" / "dev" / "pipe").st_mode)
    assert stats.skipped_devices == 2


# -- metadata ----------------------------------------------------------------------------------
@needs_root
def test_modes_owners_xattrs(tmp_path):
    data = tar_from_entries([
        E("ro", "dir", mode=0o555, uid=12, gid=34),
        E("ro/inside", data=b"x", mode=0o4755, uid=1000, gid=1000),
        E("caps", data=b"c", mode=0o755, xattrs={"user.note": b"hello",
                                                 "security.capability": b"\x01\x00\x00\x02" + b"\x00" * 16,
                                                 "trusted.overlay.redirect": b"/etc",
                                                 "trusted.overlay.opaque": b"y"}),
        E("link", "hardlink", target="caps"),
        E("sym", "symlink", target="caps", uid=5, gid=6),
    ])
    unpack(data, tmp_path / "out")
    out = tmp_path / "out"
    st = os.lstat(out / "ro")
    assert stat.S_IMODE(st.st_mode) == 0o555 and (st.st_uid, st.st_gid) == (12, 34)
    st = os.lstat(out / "ro" / "inside")
    assert stat.S_IMODE(st.st_mode) == 0o4755 and st.st_uid == 1000  # setuid survives chown
    assert os.getxattr(out / "caps", "user.note") == b"hello"
    assert "trusted.overlay.redirect" not in os.listxattr(out / "caps")
    assert "trusted.overlay.opaque" not in os.listxattr(out / "caps")
    assert os.lstat(out / "link").st_ino == os.lstat(out / "caps").st_ino
    assert os.lstat(out / "sym").st_uid == 5
    assert os.lstat(out / "caps").st_mtime == MTIME


def test_replacing_entries(tmp_path):
    data = tar_from_entries([
        E("a", "dir"), E("a/child", data=b"1"),
        E("a", data=b"file now"),  # dir replaced by a file
        E("b", data=b"file"), E("b", "dir"), E("b/x", data=b"2"),  # file replaced by a dir
        E("c", data=b"old"), E("c", data=b"new"),
    ])
    unpack(data, tmp_path / "out")
    assert (tmp_path / "out" / "a").read_bytes() == b"file now"
    assert (tmp_path / "out" / "b" / "x").read_bytes() == b"2"
    assert (tmp_path / "out" / "c").read_bytes() == b"new"


@needs_root
def test_whiteouts_become_overlay_whiteouts(tmp_path):
    data = tar_from_entries([
        E("d", "dir"), E("d/.wh.gone"), E("d/.wh..wh..opq"), E("d/kept", data=b"k"),
        E("d/.wh.kept"),  # same-layer entry: a whiteout only hides lower layers
        E("e/.wh..wh.plnk"),  # aufs metadata: ignored
    ])
    unpack(data, tmp_path / "out")
    st = os.lstat(tmp_path / "out" / "d" / "gone")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    assert os.getxattr(tmp_path / "out" / "d", "trusted.overlay.opaque") == b"y"
    assert (tmp_path / "out" / "d" / "kept").read_bytes() == b"k"
    assert os.listdir(tmp_path / "out" / "e") == []
    assert not any(n.startswith(".wh.") for n in os.listdir(tmp_path / "out" / "d"))


# -- atomic install ----------------------------------------------------------------------------
def test_install_layer_once_and_atomic(bb, tmp_path):
    _unused, tar = bb
    blob = gz(tar)
    root = str(tmp_path / "layers")
    path, stats = layers.install_layer(io.BytesIO(blob), root, sha256(tar), expected_digest=sha256(blob))
    assert stats is not None and os.path.isdir(os.path.join(path, "diff", "bin"))
    assert path == os.path.join(root, sha256(tar).split(":")[1])
    again, stats2 = layers.install_layer(io.BytesIO(b"not read"), root, sha256(tar))
    assert again == path and stats2 is None
    assert os.listdir(root) == [os.path.basename(path)]
    with pytest.raises(DigestMismatch):  # wrong diff_id: nothing becomes visible
        layers.install_layer(io.BytesIO(blob), root, sha256(b"x"))
    assert os.listdir(root) == [os.path.basename(path)]


def _install_worker(args):
    blob, root, diff_id = args
    path, stats = layers.install_layer(io.BytesIO(blob), root, diff_id)
    return path, stats is not None


def test_concurrent_install_of_the_same_layer(bb, tmp_path):
    _unused, tar = bb
    blob = gz(tar)
    root = str(tmp_path / "layers")
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        results = pool.map(_install_worker, [(blob, root, sha256(tar))] * 4, chunksize=1)
    assert len({p for p, _unused in results}) == 1
    assert os.listdir(root) == [sha256(tar).split(":")[1]]  # one copy, no temp dirs left


def test_invalid_diff_id_is_refused(tmp_path):
    with pytest.raises(ImageError, match="invalid digest"):
        layers.install_layer(io.BytesIO(b""), str(tmp_path), "sha256:../../etc")


# -- property: whatever the names, nothing lands outside the root -------------------------------
_component = st.sampled_from(["a", "b", "..", ".", "", "c.d", ".wh.a", "x y"])
_names = st.lists(_component, min_size=1, max_size=5).map("/".join)
_entries = st.lists(st.tuples(_names, st.sampled_from(["file", "dir", "symlink", "hardlink"]), _names),
                    min_size=1, max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=_entries)
def test_random_names_stay_inside(tmp_path_factory, entries):
    base = tmp_path_factory.mktemp("prop")
    root = base / "root"
    root.mkdir()
    tar_entries = []
    for name, kind, target in entries:
        if not name.strip("/."):
            continue
        tar_entries.append(E(name, kind, data=b"x", target=target or "a"))
    try:
        unpack(tar_from_entries(tar_entries), root)
    except (UnsafeLayer, ImageError):
        pass
    assert sorted(os.listdir(base)) == ["root"]
    for dirpath, _unused, filenames in os.walk(root):
        for n in filenames:
            real = os.path.realpath(os.path.join(dirpath, n)) if not os.path.islink(os.path.join(dirpath, n)) \
                else os.path.join(dirpath, n)
            assert real.startswith(str(root))


# -- what a killed or failed import leaves (issue 22 item 12) -----------------------------------------
def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_stale_temp_names_judge_the_owner(tmp_path):
    from ansible_collections.libpod.engine.plugins.module_utils.engine.base import faults  # noqa: PLC0415

    dead, mine = _dead_pid(), faults.owner_tag()
    names = [".tmp-%s-%d.123-abc" % ("a" * 12, dead), ".tmp-%s-%s-abc" % ("b" * 12, mine),
             ".tmp-%d.55-xyz" % dead, ".tmp-%s-xyz" % mine, ".trash-%s-%d-99" % ("c" * 12, dead),
             ".trash-%s-%d-99" % ("d" * 12, os.getpid()), ".tmp-%s-old" % ("e" * 12), "f" * 64,
             ".tmp-%d.1-infra-build-q" % dead]
    assert layers.stale_temp_names(names) == [names[0], names[2], names[4], names[8]]


@needs_root
def test_install_layer_failing_on_a_full_disk_leaves_nothing(bb, tmp_path):
    """ENOSPC half-way: the partial layer goes on the failure path (a tiny tmpfs as the store)."""
    import subprocess  # noqa: PLC0415

    root = tmp_path / "full"
    root.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(root)], check=True)
    try:
        with pytest.raises(ImageError, match="No space left"):
            layers.install_layer(io.BytesIO(bb[1]), str(root / "layers"), "sha256:" + hashlib.sha256(bb[1]).hexdigest())
        assert os.listdir(root / "layers") == []
    finally:
        subprocess.run(["umount", str(root)], check=True)
