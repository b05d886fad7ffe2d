# SPDX-License-Identifier: GPL-3.0-or-later
"""Copying a file or a tree idempotently, by content checksum, without following symlinks.

The source is read with O_NOFOLLOW and walked without following links (a symlink is copied
as a symlink, never as what it points at). Each destination path is handed to ``resolve``,
which for a container is host/paths.secure_join under the container's root: a symlink in
the destination can never lead outside it. Files are written to an O_EXCL temp file in the
resolved parent and renamed over the target, so a planted symlink at the target is replaced,
not followed. A file already there with the same content, mode (and owner, when given) is
left alone: that is what makes a second run report no change.
"""
from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from ..base.errors import InvalidArg, StorageError

_CHUNK = 1 << 20


@dataclass
class CopyOptions:
    """``mode``: for every copied file (None: keep the source's; directories always keep theirs); ``uid``/``gid``:
    owner (None: the writer's, i.e. root); ``force``: replace files that differ."""

    mode: Optional[int] = None
    uid: Optional[int] = None
    gid: Optional[int] = None
    force: bool = True
    check_mode: bool = False
    changed: List[str] = field(default_factory=list)


def digest(path: str) -> str:
    """sha256 of a regular file, opened without following a symlink."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    h = hashlib.sha256()
    with os.fdopen(fd, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _lstat(path: str) -> Optional[os.stat_result]:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _owner_ok(st: os.stat_result, opts: CopyOptions) -> bool:
    return (opts.uid is None or st.st_uid == opts.uid) and (opts.gid is None or st.st_gid == opts.gid)


def _chown(fd_or_path, opts: CopyOptions, follow: bool = True) -> None:
    if opts.uid is None and opts.gid is None:
        return
    uid = -1 if opts.uid is None else opts.uid
    gid = -1 if opts.gid is None else opts.gid
    if isinstance(fd_or_path, int):
        os.fchown(fd_or_path, uid, gid)
    else:
        os.chown(fd_or_path, uid, gid, follow_symlinks=follow)


def _copy_file(src: str, src_st: os.stat_result, dst: str, label: str, opts: CopyOptions) -> None:
    want = opts.mode if opts.mode is not None else stat.S_IMODE(src_st.st_mode)
    cur = _lstat(dst)
    if cur is not None:
        if stat.S_ISDIR(cur.st_mode):
            raise InvalidArg("cannot copy file %s over the directory %s" % (src, label),
                             hint="remove the directory, or give dest as DIR/ to copy into it")
        if not opts.force:
            return
        if (stat.S_ISREG(cur.st_mode) and cur.st_size == src_st.st_size and stat.S_IMODE(cur.st_mode) == want
                and _owner_ok(cur, opts) and digest(dst) == digest(src)):
            return
    opts.changed.append(label)
    if opts.check_mode:
        return
    sfd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    fd, tmp = tempfile.mkstemp(prefix=".lpe-copy.", dir=os.path.dirname(dst))
    try:
        with os.fdopen(sfd, "rb") as fin, os.fdopen(fd, "wb") as fout:
            for chunk in iter(lambda: fin.read(_CHUNK), b""):
                fout.write(chunk)
            fout.flush()
            _chown(fout.fileno(), opts)
            os.fchmod(fout.fileno(), want)
        os.replace(tmp, dst)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _copy_link(src: str, dst: str, label: str, opts: CopyOptions) -> None:
    target = os.readlink(src)
    cur = _lstat(dst)
    if cur is not None:
        if stat.S_ISDIR(cur.st_mode):
            raise InvalidArg("cannot copy symlink %s over the directory %s" % (src, label))
        if not opts.force or (stat.S_ISLNK(cur.st_mode) and os.readlink(dst) == target):
            return
    opts.changed.append(label)
    if opts.check_mode:
        return
    tmp = os.path.join(os.path.dirname(dst), ".lpe-link.%s" % os.urandom(6).hex())
    os.symlink(target, tmp)
    try:
        _chown(tmp, opts, follow=False)
        os.replace(tmp, dst)
    except BaseException:
        os.unlink(tmp)
        raise


def _ensure_dir(dst: str, mode: int, label: str, opts: CopyOptions) -> None:
    cur = _lstat(dst)
    if cur is None:
        opts.changed.append(label)
        if opts.check_mode:
            return
        os.mkdir(dst, 0o700)
        _chown(dst, opts, follow=False)
        os.chmod(dst, mode)
        return
    if not stat.S_ISDIR(cur.st_mode):
        raise InvalidArg("cannot copy a directory over %s: it exists and is not a directory" % label,
                         hint="remove it first")
    if stat.S_IMODE(cur.st_mode) != mode or not _owner_ok(cur, opts):
        opts.changed.append(label)
        if not opts.check_mode:
            _chown(dst, opts, follow=False)
            os.chmod(dst, mode)


def copy_tree(src: str, dest: str, resolve: Callable[[str], str], opts: CopyOptions) -> List[str]:
    """Copy host path ``src`` (file, symlink or directory) to ``dest`` (a path ``resolve`` maps
    to a safe host path). ``dest`` is the final name: a directory's contents go into ``dest``.
    Returns the destination paths that changed (or would, in check mode)."""
    st = _lstat(src)
    if st is None:
        raise InvalidArg("src: %s does not exist" % src)
    if stat.S_ISDIR(st.st_mode):
        _walk(src, dest, resolve, opts)
    else:
        _entry(src, st, dest, resolve, opts)
    return opts.changed


def _parent_ok(dst: str, label: str, opts: CopyOptions) -> bool:
    parent = os.path.dirname(dst)
    if os.path.isdir(parent) and not os.path.islink(parent):
        return True
    if opts.check_mode:
        return False  # created by the run: the file is new
    raise StorageError("cannot copy to %s: its directory does not exist" % label,
                       hint="create the parent directory first (copy a directory, or run mkdir -p)")


def _place(resolve: Callable[[str], str], dest: str) -> str:
    """The host path for ``dest`` with its directory resolved but not its last component: a
    symlink at the destination is replaced, never written through."""
    parent, name = os.path.split(dest.rstrip("/") or "/")
    if not name:
        raise InvalidArg("dest: %r names no file" % dest)
    return os.path.join(resolve(parent or "/"), name)


def _entry(src: str, st: os.stat_result, dest: str, resolve: Callable[[str], str], opts: CopyOptions) -> None:
    dst = _place(resolve, dest)
    if not _parent_ok(dst, dest, opts):
        opts.changed.append(dest)
        return
    if stat.S_ISLNK(st.st_mode):
        _copy_link(src, dst, dest, opts)
    elif stat.S_ISREG(st.st_mode):
        _copy_file(src, st, dst, dest, opts)
    # sockets, fifos, devices: skipped, as podman cp skips what it cannot archive meaningfully


def _walk(src: str, dest: str, resolve: Callable[[str], str], opts: CopyOptions) -> None:
    st = os.lstat(src)
    top = resolve(dest)
    mode = stat.S_IMODE(st.st_mode)  # directories keep the source's mode; ``mode`` is for files
    if not _parent_ok(top, dest, opts):
        opts.changed.append(dest)
        return
    _ensure_dir(top, mode, dest, opts)
    if opts.check_mode and _lstat(top) is None:
        return  # everything below is new
    for name in sorted(os.listdir(src)):
        s = os.path.join(src, name)
        d = dest.rstrip("/") + "/" + name
        sst = os.lstat(s)
        if stat.S_ISDIR(sst.st_mode):
            _walk(s, d, resolve, opts)
        else:
            _entry(s, sst, d, resolve, opts)
