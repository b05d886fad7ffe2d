# SPDX-License-Identifier: GPL-3.0-or-later
"""Safe unpacking of one image layer (a tar, plain, gzip or zstd) into a directory.

A layer comes from whoever built the image, so every entry is treated as hostile.
The result is an overlay "diff" directory: OCI whiteouts become overlay whiteouts.

Policy (what podman/c/storage do, except where noted):

* Names are normalised. A leading ``/`` is stripped, as podman does (``/abs/x`` lands at
  ``<root>/abs/x``, never at ``/abs/x``). A name whose normalised form leaves the root
  (``../etc/x``, ``a/../../x``) is refused with UnsafeLayer.
* Every parent component is opened relative to its parent's fd with ``O_NOFOLLOW``. An
  entry below a symlink is refused, even if the symlink points inside the root
  (podman would resolve it inside a chroot). Tars made from a real filesystem never do
  this, and refusing keeps the rule simple: extraction never follows a symlink.
* Symlinks are created verbatim and may point anywhere: they are resolved inside the
  container later.
* A hardlink must name an entry extracted earlier from this layer, reached without
  symlinks, and that entry must not be a directory.
* Devices are created when running as root (as podman does) and skipped otherwise.
  Fifos are created.
* OCI whiteouts: ``.wh.<name>`` becomes a char device 0/0 named ``<name>``, unless this
  layer already holds ``<name>`` (a whiteout only hides lower layers). ``.wh..wh..opq``
  becomes ``trusted.overlay.opaque=y`` on its directory. Other ``.wh..wh.*`` (aufs
  metadata) are skipped.
* Modes, mtimes and (as root) uid/gid are kept. From PAX ``SCHILY.xattr.*`` only
  ``user.*`` and ``security.capability`` are applied. ``trusted.overlay.*`` from a tar
  is never applied, because it could forge opaque dirs or redirects.
* If an entry declares more bytes than the filesystem has free, the layer is refused
  before anything is written.

The digest of the bytes read and the diff_id (sha256 of the uncompressed tar) are
computed while streaming and checked after the last byte. The caller unpacks into a
private temporary directory and removes it on any error (``install_layer`` does that).
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import posixpath
import shutil
import stat
import tempfile
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from ..base import faults
from ..base.errors import DigestMismatch, ImageError, UnsafeLayer
from ..base.lazyre import lazy_compile
from ..host import userpaths
from ..host.files import rmtree
from ..host.libc import libc
from . import tarsplit
from .digest import hex_of

if TYPE_CHECKING:  # annotations only: unpack_layer imports tarfile when a layer is unpacked
    import tarfile

CHUNK = 1 << 16
#: entries larger than this are checked against the free space before writing
SPACE_CHECK_MIN = 64 << 20
OPAQUE_XATTR = "trusted.overlay.opaque"
WHITEOUT_PREFIX = ".wh."
WHITEOUT_OPAQUE = ".wh..wh..opq"
#: xattrs taken from a layer's PAX headers; everything else is dropped
ALLOWED_XATTR_PREFIXES = ("user.", "security.capability")

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

# magic numbers at the start of a layer blob
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)


@dataclass
class LayerStats:
    """What unpacking one layer measured; recorded in the ``layers`` table."""

    diff_id: str  # "sha256:<hex>" of the uncompressed tar
    digest: str  # "sha256:<hex>" of the bytes read (the compressed blob)
    compressed_size: int  # bytes read from the stream
    uncompressed_size: int  # bytes of the tar itself (c/storage's diff size)
    size: int  # bytes of regular-file content written
    entries: int
    compression: str  # "gzip", "zstd" or "none"
    skipped_devices: int = 0


def detect_compression(head: bytes) -> str:
    """Name the compression of a blob from its first bytes ("none" for a plain tar)."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return "none"


class _Reader:
    """Reads a stream while hashing and counting it; optionally caps its length."""

    def __init__(self, stream: IO[bytes], limit: Optional[int] = None, what: str = "layer"):
        self.stream = stream
        self.hash = hashlib.sha256()
        self.count = 0
        self.limit = limit
        self.what = what
        self._pushback = b""

    def peek(self, n: int) -> bytes:
        while len(self._pushback) < n:
            chunk = self.stream.read(n - len(self._pushback))
            if not chunk:
                break
            self._pushback += chunk
        return self._pushback[:n]

    def read(self, n: int = -1) -> bytes:
        if self._pushback:
            if n is None or n < 0 or n >= len(self._pushback):
                data, self._pushback = self._pushback, b""
            else:
                data, self._pushback = self._pushback[:n], self._pushback[n:]
        else:
            data = self.stream.read(CHUNK if n is None or n < 0 else n)
        if data:
            self.count += len(data)
            if self.limit is not None and self.count > self.limit:
                raise DigestMismatch("%s is longer than its declared size of %d bytes" % (self.what, self.limit),
                                     hint="the source is corrupt or was changed; fetch it again")
            self.hash.update(data)
        return data

    def drain(self) -> None:
        while self.read(CHUNK):
            pass

    def digest(self) -> str:
        return "sha256:" + self.hash.hexdigest()


def _fd_path(fd: int, name: str = "") -> str:
    """A path that reaches ``name`` inside the directory open as ``fd``."""
    base = "/proc/self/fd/%d" % fd
    return base + "/" + name if name else base


class _Extractor:
    """Applies tar members below ``root`` without ever following a symlink."""

    def __init__(self, root: str, layer: str):
        self.root = root
        self.layer = layer
        self.root_fd = os.open(root, _DIR_FLAGS)
        self.is_root = os.geteuid() == 0
        # uid 0 of the rootless user namespace chowns onto the mapped IDs, but the kernel refuses it
        # device nodes (as containers/storage in a user namespace, they are skipped and counted)
        self.can_mknod = self.is_root and userpaths.rootless_uid() is None
        self.dirs: Dict[str, tarfile.TarInfo] = {}
        self.size = 0
        self.entries = 0
        self.skipped_devices = 0
        # one-entry cache of the last parent directory (tars group entries by dir)
        self._cache: Optional[Tuple[Tuple[str, ...], int]] = None

    def close(self) -> None:
        self._drop_cache()
        os.close(self.root_fd)

    # -- paths ----------------------------------------------------------------------------
    def _unsafe(self, entry: str, why: str) -> UnsafeLayer:
        return UnsafeLayer("layer %s: entry %r %s; refused" % (self.layer, entry, why),
                           hint="the image is malformed or malicious; rebuild it or use another image")

    def clean(self, name: str, entry: str) -> Tuple[str, ...]:
        """Normalised components of ``name`` relative to the root (empty = the root)."""
        stripped = name.lstrip("/")
        if not stripped:
            return ()
        norm = posixpath.normpath(stripped)
        if norm == ".":
            return ()
        if norm == ".." or norm.startswith("../"):
            raise self._unsafe(entry, "leaves the layer root (normalised to %r)" % norm)
        return tuple(norm.split("/"))

    def _drop_cache(self) -> None:
        if self._cache is not None:
            os.close(self._cache[1])
            self._cache = None

    def walk(self, parts: Tuple[str, ...], entry: str, create: bool) -> int:
        """Open the directory ``parts`` (creating missing ones if asked); caller closes."""
        if self._cache is not None and self._cache[0] == parts:
            return os.dup(self._cache[1])
        fd = os.dup(self.root_fd)
        try:
            for i, comp in enumerate(parts):
                try:
                    nfd = os.open(comp, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise self._unsafe(entry, "refers to %r, which this layer has not created (yet)"
                                           % "/".join(parts[: i + 1]))
                    os.mkdir(comp, 0o755, dir_fd=fd)
                    nfd = os.open(comp, _DIR_FLAGS, dir_fd=fd)
                except OSError as e:
                    if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                        raise
                    st = os.stat(comp, dir_fd=fd, follow_symlinks=False)
                    where = "/".join(parts[: i + 1])
                    if stat.S_ISLNK(st.st_mode):
                        target = os.readlink(comp, dir_fd=fd)
                        raise self._unsafe(entry, "goes through symlink %r (-> %r); writing through symlinks"
                                           " is not allowed" % (where, target))
                    raise ImageError("layer %s: entry %r: parent %r is not a directory" % (self.layer, entry, where),
                                     hint="the layer is malformed")
                os.close(fd)
                fd = nfd
        except BaseException:
            os.close(fd)
            raise
        self._drop_cache()
        self._cache = (parts, os.dup(fd))
        return fd

    @staticmethod
    def _lstat(name: str, dir_fd: int) -> Optional[os.stat_result]:
        try:
            return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def _remove(self, name: str, dir_fd: int, st: os.stat_result) -> None:
        if stat.S_ISDIR(st.st_mode):
            self._drop_cache()
            rmtree(_fd_path(dir_fd, name))
        else:
            os.unlink(name, dir_fd=dir_fd)

    # -- metadata -------------------------------------------------------------------------
    def _xattrs(self, member: tarfile.TarInfo) -> List[Tuple[str, bytes]]:
        out = []
        for key, value in member.pax_headers.items():
            if not key.startswith("SCHILY.xattr."):
                continue
            name = key[len("SCHILY.xattr."):]
            if name.startswith(ALLOWED_XATTR_PREFIXES):
                out.append((name, value.encode("utf-8", "surrogateescape")))
        return out

    def _meta_fd(self, fd: int, member: tarfile.TarInfo, entry: str) -> None:
        """Owner, mode, xattrs and mtime of a file or directory open as ``fd``."""
        if self.is_root:
            os.fchown(fd, member.uid, member.gid)
        os.fchmod(fd, member.mode & 0o7777)
        for name, value in self._xattrs(member):
            try:
                os.setxattr(fd, name, value)
            except OSError as e:
                if e.errno not in (errno.ENOTSUP, errno.EPERM):
                    raise
        ns = int(member.mtime * 1_000_000_000)
        os.utime(fd, ns=(ns, ns))

    # -- entries --------------------------------------------------------------------------
    def apply(self, tf: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        entry = member.name
        self.entries += 1
        parts = self.clean(member.name, entry)
        if not parts:
            if not member.isdir():
                raise self._unsafe(entry, "replaces the layer root with a non-directory")
            self.dirs[""] = member
            return
        base = parts[-1]
        if base.startswith(WHITEOUT_PREFIX):
            self._whiteout(parts, entry)
            return
        if member.size > SPACE_CHECK_MIN and member.isreg():
            vfs = os.statvfs(self.root_fd)
            free = vfs.f_bavail * vfs.f_frsize
            if member.size > free:
                raise self._unsafe(entry, "declares %d bytes but only %d bytes are free" % (member.size, free))
        pfd = self.walk(parts[:-1], entry, create=True)
        try:
            existing = self._lstat(base, pfd)
            if member.isdir():
                if existing is not None and not stat.S_ISDIR(existing.st_mode):
                    self._remove(base, pfd, existing)
                    existing = None
                if existing is None:
                    os.mkdir(base, 0o700, dir_fd=pfd)
                self.dirs["/".join(parts)] = member
                return
            if member.islnk():
                self._hardlink(parts, member, pfd, existing, entry)
                return
            if existing is not None:
                self._remove(base, pfd, existing)
            if member.isreg():
                self._file(tf, member, base, pfd)
            elif member.issym():
                os.symlink(member.linkname, base, dir_fd=pfd)
                if self.is_root:
                    os.chown(base, member.uid, member.gid, dir_fd=pfd, follow_symlinks=False)
                ns = int(member.mtime * 1_000_000_000)
                os.utime(base, ns=(ns, ns), dir_fd=pfd, follow_symlinks=False)
            elif member.ischr() or member.isblk() or member.isfifo():
                self._special(member, base, pfd)
            else:
                raise ImageError("layer %s: entry %r has unsupported tar type %r" % (self.layer, entry, member.type),
                                 hint="only files, dirs, links, devices and fifos can be unpacked")
        finally:
            os.close(pfd)

    def _file(self, tf: tarfile.TarFile, member: tarfile.TarInfo, base: str, pfd: int) -> None:
        fd = os.open(base, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=pfd)
        try:
            src = tf.extractfile(member)
            if src is not None:
                with os.fdopen(os.dup(fd), "wb", closefd=True) as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
            self.size += member.size
            self._meta_fd(fd, member, member.name)
        finally:
            os.close(fd)

    def _special(self, member: tarfile.TarInfo, base: str, pfd: int) -> None:
        mode = member.mode & 0o7777
        if member.isfifo():
            os.mkfifo(base, mode, dir_fd=pfd)
        elif not self.can_mknod:
            self.skipped_devices += 1
            return
        else:
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
            os.mknod(base, kind | mode, os.makedev(member.devmajor, member.devminor), dir_fd=pfd)
        if self.is_root:
            os.chown(base, member.uid, member.gid, dir_fd=pfd, follow_symlinks=False)
        os.chmod(base, mode, dir_fd=pfd)
        ns = int(member.mtime * 1_000_000_000)
        os.utime(base, ns=(ns, ns), dir_fd=pfd, follow_symlinks=False)

    def _hardlink(self, parts: Tuple[str, ...], member: tarfile.TarInfo, pfd: int,
                  existing: Optional[os.stat_result], entry: str) -> None:
        tentry = "%s (hardlink to %r)" % (entry, member.linkname)
        tparts = self.clean(member.linkname, tentry)
        if not tparts:
            raise self._unsafe(entry, "is a hardlink to the layer root")
        if tparts == parts:
            return
        tfd = self.walk(tparts[:-1], tentry, create=False)
        try:
            tst = self._lstat(tparts[-1], tfd)
            if tst is None:
                raise self._unsafe(entry, "is a hardlink to %r, which this layer has not created (yet)"
                                   % member.linkname)
            if stat.S_ISDIR(tst.st_mode):
                raise self._unsafe(entry, "is a hardlink to directory %r" % member.linkname)
            if existing is not None:
                self._remove(parts[-1], pfd, existing)
            os.link(tparts[-1], parts[-1], src_dir_fd=tfd, dst_dir_fd=pfd, follow_symlinks=False)
        finally:
            os.close(tfd)

    def _whiteout(self, parts: Tuple[str, ...], entry: str) -> None:
        base = parts[-1]
        pfd = self.walk(parts[:-1], entry, create=True)
        try:
            if base == WHITEOUT_OPAQUE:
                try:
                    os.setxattr(pfd, OPAQUE_XATTR, b"y")
                except OSError as e:
                    raise ImageError("layer %s: cannot mark %r opaque: %s" % (self.layer, "/".join(parts[:-1]) or "/",
                                                                              e.strerror),
                                     hint="the graph root's filesystem must support trusted.* xattrs (run as root)")
                return
            if base.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
                return  # aufs metadata (.wh..wh.plnk, ...): meaningless here
            target = base[len(WHITEOUT_PREFIX):]
            if target in ("", ".", ".."):
                raise self._unsafe(entry, "is a whiteout for %r" % target)
            if self._lstat(target, pfd) is not None:
                return  # a whiteout hides lower layers only, never this layer's own entry
            try:
                os.mknod(target, stat.S_IFCHR, os.makedev(0, 0), dir_fd=pfd)
            except OSError as e:
                raise ImageError("layer %s: cannot create whiteout for %r: %s"
                                 % (self.layer, "/".join(parts[:-1] + (target,)), e.strerror),
                                 hint="overlay whiteouts (char device 0/0) need root or kernel >= 5.8")
        finally:
            os.close(pfd)

    def finish(self) -> None:
        """Directory modes and mtimes last (children change mtimes; 0555 dirs block writes)."""
        self._drop_cache()
        for rel in sorted(self.dirs, key=lambda r: r.count("/") + (1 if r else 0), reverse=True):
            member = self.dirs[rel]
            parts = tuple(rel.split("/")) if rel else ()
            try:
                if parts:
                    pfd = self.walk(parts[:-1], member.name, create=False)
                    try:
                        fd = os.open(parts[-1], _DIR_FLAGS, dir_fd=pfd)
                    finally:
                        os.close(pfd)
                else:
                    fd = os.dup(self.root_fd)
            except (OSError, ImageError):
                continue  # replaced later by a non-directory or a symlink: nothing to do
            try:
                self._meta_fd(fd, member, member.name)
            finally:
                os.close(fd)
        self._drop_cache()


def _digest_first(raw: _Reader, expected_digest: Optional[str], name: str) -> None:
    """A corrupt stream with a known digest: report the digest mismatch (the root cause)."""
    if not expected_digest:
        return
    try:
        raw.drain()
    except (OSError, EOFError):
        return  # the source itself failed (truncated archive, network): keep the first error
    if raw.digest() != expected_digest:
        raise DigestMismatch("layer %s: content digest is %s, expected %s" % (name, raw.digest(), expected_digest),
                             hint="the blob is corrupt or was changed; fetch it again")


class ZstdError(Exception):
    """A corrupt zstd stream (zstandard.ZstdError is re-raised as this, so that the module is optional)."""


class _ZstdStream:
    """zstandard's stream reader with its errors as ZstdError."""

    def __init__(self, reader: Any, zstd_error: type):
        self.reader = reader
        self.zstd_error = zstd_error

    def read(self, n: int = -1) -> bytes:
        try:
            return self.reader.read(n)
        except self.zstd_error as e:
            raise ZstdError(str(e))


def zstd_reader(raw: IO[bytes], name: str) -> IO[bytes]:
    """A decompressing reader of a zstd layer (all frames: zstd:chunked has many); ImageError naming
    the package when ``zstandard`` is not installed."""
    try:
        # imported here: optional (only zstd layers need it) and ~20 ms to import
        import zstandard  # noqa: PLC0415
    except ImportError:
        raise ImageError("layer %s is zstd-compressed and the Python package zstandard is not installed" % name,
                         hint="install it on the managed node (pip install zstandard, or apt-get install "
                              "python3-zstandard / dnf install python3-zstandard)")
    reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    return _ZstdStream(reader, zstandard.ZstdError)  # type: ignore[return-value]


def unpack_layer(stream: IO[bytes], dest: str, *, name: str = "layer", media_type: str = "",
                 expected_digest: Optional[str] = None, expected_size: Optional[int] = None,
                 expected_diff_id: Optional[str] = None, split_out: Optional[IO[bytes]] = None) -> LayerStats:
    """Unpack a layer stream into the existing, empty directory ``dest``.

    ``split_out``: where the layer's tar-split is written (tarsplit.py), so that the exact tar
    can be rebuilt from ``dest`` when the image is saved.

    ``name`` (usually the layer digest) is used in error messages. Digest, size and
    diff_id are checked after the whole stream was read; on any error ``dest`` may hold
    a partial tree that the caller must remove (``install_layer`` does).
    """
    # deferred: hex_of/rmtree/stale_temp_names are on every task's path, unpacking is not
    import gzip  # noqa: PLC0415
    import tarfile  # noqa: PLC0415
    import zlib  # noqa: PLC0415

    raw = _Reader(stream, limit=expected_size, what="layer %s" % name)
    compression = detect_compression(raw.peek(6))
    if compression not in ("gzip", "zstd", "none"):
        raise ImageError("layer %s is %s-compressed, which is not supported" % (name, compression),
                         hint="push the image with gzip, zstd or uncompressed layers")
    tar_in = raw
    if compression == "gzip":
        tar_in = _Reader(gzip.GzipFile(fileobj=raw, mode="rb"), what="layer %s" % name)  # type: ignore[arg-type]
    elif compression == "zstd":
        tar_in = _Reader(zstd_reader(raw, name), what="layer %s" % name)
    ex = _Extractor(dest, name)
    current = "(archive header)"
    rec = tarsplit.Recorder(tar_in, split_out) if split_out is not None else None
    try:
        with tarfile.open(fileobj=rec or tar_in, mode="r|", bufsize=CHUNK) as tf:  # type: ignore[call-overload]
            for member in tf:
                current = member.name
                try:
                    if rec is not None and member.isreg() and member.size:
                        parts = ex.clean(member.name, member.name)
                        if parts and not parts[-1].startswith(WHITEOUT_PREFIX):  # whiteout data stays raw
                            rec.file(member.offset_data, member.size, "/".join(parts))
                    ex.apply(tf, member)
                except (OverflowError, ValueError) as e:  # absurd uid/mtime/device, NUL in a PAX name
                    raise ImageError("layer %s: entry %r has an invalid header field: %s" % (name, current, e),
                                     hint="the layer is malformed")
            current = "(end of archive)"
            ex.finish()
        (rec or tar_in).drain()
        if rec is not None:
            rec.finish()
        if tar_in is not raw:
            raw.drain()
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, ZstdError) as e:
        _digest_first(raw, expected_digest, name)
        raise ImageError("layer %s is truncated or corrupt at entry %r: %s" % (name, current, e),
                         hint="the archive or download is incomplete; fetch or build it again")
    except OSError as e:
        raise ImageError("layer %s: cannot unpack entry %r into %s: %s" % (name, current, dest, e),
                         hint="check free space and permissions of the graph root")
    finally:
        ex.close()
    digest = raw.digest()
    diff_id = tar_in.digest()
    if expected_size is not None and raw.count != expected_size:
        raise DigestMismatch("layer %s: read %d bytes, expected %d" % (name, raw.count, expected_size),
                             hint="the source is corrupt or was changed; fetch it again")
    if expected_digest and digest != expected_digest:
        raise DigestMismatch("layer %s: content digest is %s, expected %s" % (name, digest, expected_digest),
                             hint="the blob is corrupt or was changed; fetch it again")
    if expected_diff_id and diff_id != expected_diff_id:
        raise DigestMismatch("layer %s: uncompressed digest (diff_id) is %s, but the image config says %s"
                             % (name, diff_id, expected_diff_id),
                             hint="the image config does not match its layers; rebuild the image")
    return LayerStats(diff_id=diff_id, digest=digest, compressed_size=raw.count,
                      uncompressed_size=tar_in.count, size=ex.size,
                      entries=ex.entries, compression=compression, skipped_devices=ex.skipped_devices)


def syncfs(path: str) -> None:
    """Flush the filesystem holding ``path`` so a renamed layer is complete after a crash."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        libc().syncfs(fd)
    finally:
        os.close(fd)


TMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"
_TMP_OWNER_RE = lazy_compile(r"^\.tmp-(?:[0-9a-f]{12}-)?(\d+)\.(\d+)-")
_TRASH_OWNER_RE = lazy_compile(r"^\.trash-[0-9a-f]{1,64}-(\d+)-\d+\Z")


def stale_temp_names(names: List[str]) -> List[str]:
    """The temp/trash names (``.tmp-<x>-<pid>.<start>-<rand>``, ``.trash-<x>-<pid>-<ns>``) whose
    owner process is gone: a killed import's partial layer. Names without an owner are not judged
    (prune_layers removes those by age)."""
    out = []
    for name in names:
        m = _TMP_OWNER_RE.match(name) or _TRASH_OWNER_RE.match(name)
        if m and not faults.tag_alive("%s.%s" % (m.group(1), m.group(2) if m.lastindex == 2 else 0)):
            out.append(name)
    return out


def install_layer(stream: IO[bytes], layers_root: str, diff_id: str, *, name: str = "", media_type: str = "",
                  expected_digest: Optional[str] = None, expected_size: Optional[int] = None,
                  sync: bool = True) -> Tuple[str, Optional[LayerStats]]:
    """Unpack a layer to ``<layers_root>/<diffid-hex>/diff`` atomically.

    Returns (layer dir, stats); stats is None when the layer was already there. The tree
    is built in a private temp dir and renamed into place, so a half-unpacked layer is
    never visible; a concurrent process that wins the rename is fine (ours is dropped).
    """
    hexid = hex_of(diff_id)
    final = os.path.join(layers_root, hexid)
    if os.path.isdir(os.path.join(final, "diff")):
        return final, None
    import gzip  # noqa: PLC0415 - deferred: installing a layer is not on every task's path

    os.makedirs(layers_root, mode=0o700, exist_ok=True)
    # the owner in the name: the next run's repair removes what a killed import left (stale_temp_names)
    tmp = tempfile.mkdtemp(prefix="%s%s-%s-" % (TMP_PREFIX, hexid[:12], faults.owner_tag()), dir=layers_root)
    try:
        diff = os.path.join(tmp, "diff")
        os.mkdir(diff, 0o755)
        split = gzip.open(os.path.join(tmp, tarsplit.FILE_NAME), "wb", compresslevel=1)  # noqa: SIM115
        try:
            stats = unpack_layer(stream, diff, name=name or diff_id, media_type=media_type,
                                 expected_digest=expected_digest, expected_size=expected_size,
                                 expected_diff_id="sha256:" + hexid, split_out=split)
        except BaseException:
            with contextlib.suppress(OSError):  # the unpack error is the one to report (e.g. ENOSPC)
                split.close()
            raise
        try:
            split.close()
        except OSError as e:
            raise ImageError("layer %s: cannot write its tar-split into %s: %s" % (name or diff_id, tmp, e.strerror),
                             hint="check free space and permissions of the graph root")
        faults.point("image.import.after_unpack")
        if sync:
            syncfs(tmp)
        try:
            os.rename(tmp, final)
        except OSError as e:
            if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            rmtree(tmp)  # another process installed the same layer first
        return final, stats
    except BaseException:
        rmtree(tmp)
        raise
