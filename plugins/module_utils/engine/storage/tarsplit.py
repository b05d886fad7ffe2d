# SPDX-License-Identifier: GPL-3.0-or-later
"""Tar-split: what a layer tar holds besides file contents, so the exact tar can be rebuilt.

Layer blobs are not kept (the store unpacks them straight from the source stream). To save
an image again (``podman save``) with the same layer digests, and so the same image ID, the
layer tar must be reproduced byte for byte. As c/storage's ``tar-split``, the unpacker
records the tar stream with the regular files' data left out (headers, PAX records,
padding, end blocks), plus for each file the path and size of its content in the unpacked
``diff`` dir. ``rebuild`` streams the recorded bytes and the file contents back in order; the
result is checked against the layer's diff_id by the caller.

File format (``layers/<id>/tar-split.gz``, gzip): records ``R`` + 8-byte big-endian length
+ raw bytes, and ``F`` + 4-byte length + UTF-8 path + 8-byte size.
"""
from __future__ import annotations

import os
import struct
from typing import IO, Iterator, Optional

from ..base.errors import ImageError

FILE_NAME = "tar-split.gz"
CHUNK = 1 << 16
_RAW = b"R"
_FILE = b"F"


class Recorder:
    """Sits between the uncompressed layer stream and tarfile; writes the tar-split to ``out``.

    ``file(offset_data, size, path)`` is called for each regular file before its data is read.
    Bytes that are not file data are kept in ``pending`` until they are known to be headers.
    """

    def __init__(self, stream: IO[bytes], out: IO[bytes]):
        self.stream = stream
        self.out = out
        self.pos = 0  # absolute offset of the next byte read from stream
        self.pending = bytearray()  # unclassified bytes, starting at pending_start
        self.pending_start = 0
        self.skip_until = 0  # bytes before this offset are file data: not recorded

    def read(self, n: int = -1) -> bytes:
        data = self.stream.read(n)
        if data:
            start = self.pos
            self.pos += len(data)
            if start < self.skip_until:
                drop = min(len(data), self.skip_until - start)
                data_kept = data[drop:]
                if data_kept:
                    self._keep(start + drop, data_kept)
            else:
                self._keep(start, data)
        return data

    def _keep(self, offset: int, data: bytes) -> None:
        if not self.pending:
            self.pending_start = offset
        self.pending += data

    def _emit_raw(self, upto: int) -> None:
        """Write pending bytes before absolute offset ``upto`` as one raw record."""
        n = max(0, min(upto - self.pending_start, len(self.pending)))
        if n:
            self.out.write(_RAW + struct.pack(">Q", n) + bytes(self.pending[:n]))
            del self.pending[:n]
        self.pending_start += n

    def file(self, offset_data: int, size: int, path: str) -> None:
        """A regular file's data lies at [offset_data, offset_data + size) of the tar stream."""
        self._emit_raw(offset_data)
        name = path.encode("utf-8", "surrogateescape")
        self.out.write(_FILE + struct.pack(">I", len(name)) + name + struct.pack(">Q", size))
        end = offset_data + size
        # data read ahead by tarfile's buffer is already pending: drop it
        if self.pending:
            drop = max(0, min(end - self.pending_start, len(self.pending)))
            del self.pending[:drop]
            self.pending_start += drop
        self.skip_until = end

    def drain(self) -> None:
        while self.read(CHUNK):
            pass

    def finish(self) -> None:
        self._emit_raw(self.pending_start + len(self.pending))


def records(path: str) -> Iterator[tuple]:
    """("raw", bytes) and ("file", path, size) records of a tar-split file, in order."""
    import gzip  # noqa: PLC0415 - deferred: only a save reads tar-split (not on every task's path)

    with gzip.open(path, "rb") as f:
        while True:
            tag = f.read(1)
            if not tag:
                return
            if tag == _RAW:
                (n,) = struct.unpack(">Q", _exact(f, 8, path))
                yield ("raw", _exact(f, n, path))
            elif tag == _FILE:
                (n,) = struct.unpack(">I", _exact(f, 4, path))
                name = _exact(f, n, path).decode("utf-8", "surrogateescape")
                (size,) = struct.unpack(">Q", _exact(f, 8, path))
                yield ("file", name, size)
            else:
                raise ImageError("tar-split %s is corrupt (record type %r)" % (path, tag),
                                 hint="pull or import the image again")


def _exact(f: IO[bytes], n: int, path: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise ImageError("tar-split %s is truncated" % path, hint="pull or import the image again")
    return data


def tar_size(path: str) -> int:
    """The size in bytes of the tar that ``rebuild`` produces."""
    total = 0
    for rec in records(path):
        total += len(rec[1]) if rec[0] == "raw" else rec[2]
    return total


def _open_content(diff: str, rel: str) -> IO[bytes]:
    """Open a file of the unpacked layer without following any symlink (O_NOFOLLOW per component)."""
    fd = os.open(diff, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        parts = [p for p in rel.split("/") if p and p != "."]
        if not parts or ".." in parts:
            raise ImageError("tar-split names an unsafe path %r" % rel)
        for comp in parts[:-1]:
            nfd = os.open(comp, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = nfd
        ffd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
    finally:
        os.close(fd)
    return os.fdopen(ffd, "rb")


def rebuild(split: str, diff: str, what: Optional[str] = None) -> Iterator[bytes]:
    """The original layer tar, in chunks: recorded bytes plus file contents from ``diff``."""
    what = what or diff
    for rec in records(split):
        if rec[0] == "raw":
            yield rec[1]
            continue
        _unused, rel, size = rec
        try:
            f = _open_content(diff, rel)
        except OSError as e:
            raise ImageError("layer %s: cannot read %s to rebuild the layer tar: %s" % (what, rel, e.strerror),
                             hint="the unpacked layer was changed; pull or import the image again")
        with f:
            left = size
            while left:
                chunk = f.read(min(CHUNK, left))
                if not chunk:
                    raise ImageError("layer %s: %s is shorter than recorded (%d bytes)" % (what, rel, size),
                                     hint="the unpacked layer was changed; pull or import the image again")
                left -= len(chunk)
                yield chunk
