# SPDX-License-Identifier: GPL-3.0-or-later
"""Atomic file replacement (a reader sees the old file or the new one, never a torn write) and
removal of a file or a tree that may already be gone."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import Optional, Union


def write_atomic(path: str, data: Union[str, bytes], *, mode: Optional[int] = 0o644, keep_existing: bool = False,
                 fsync: bool = False, tmp_prefix: Optional[str] = None) -> None:
    """Replace ``path`` with ``data`` through a private temp file in the same directory + rename.

    ``mode``: the new file's mode; with ``keep_existing`` an existing file keeps its mode and
    owner. ``fsync``: flush the data before the rename (files that must survive a crash). The
    temp file is created O_EXCL (mkstemp), so a planted symlink is never followed; it is removed
    on any failure. ``tmp_prefix`` names the temp file (e.g. with its owner, so that a repair can
    tell a dead writer's leftover from a live one). Raises OSError: callers wrap it in their own
    error with a hint.
    """
    parent = os.path.dirname(os.path.abspath(path))
    st: Optional[os.stat_result] = None
    if keep_existing:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            st = None
    fd, tmp = tempfile.mkstemp(prefix=tmp_prefix or ".%s." % os.path.basename(path),
                               suffix="" if tmp_prefix else ".tmp", dir=parent)
    try:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        with os.fdopen(fd, "wb") as f:
            if st is not None:
                os.fchmod(f.fileno(), st.st_mode & 0o7777)
                try:
                    os.fchown(f.fileno(), st.st_uid, st.st_gid)
                except OSError:
                    pass
            elif mode is not None:
                os.fchmod(f.fileno(), mode)
            f.write(raw)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def remove_file(path: str) -> bool:
    """Unlink ``path``; False if there was nothing to remove (other errors are raised)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def rmtree(path: str) -> None:
    """rm -rf that also copes with read-only directories; missing is fine."""

    def onerror(func, p, exc_info):
        err = exc_info[1]
        if isinstance(err, FileNotFoundError):
            return
        parent = os.path.dirname(p)
        try:
            os.chmod(parent, 0o700)
            func(p)
        except FileNotFoundError:
            pass

    if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
        os.unlink(path)
        return
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=lambda f, p, e: onerror(f, p, (type(e), e, None)))
    else:
        shutil.rmtree(path, onerror=onerror)
