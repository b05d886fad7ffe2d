# SPDX-License-Identifier: GPL-3.0-or-later
"""Room kept beside the state DB so that a full disk does not lock the engine out.

In WAL mode even a read needs the ``-shm`` and ``-wal`` files, which SQLite creates when the
first connection opens and deletes when the last one closes; on a full filesystem that open
fails ("disk I/O error") and so would every module, including the ``state: absent`` that could
free space. The engine therefore keeps a reserve file (``state.db.reserve``, a few MiB of
allocated blocks) next to the DB: when opening the DB fails for lack of space, the reserve is
released and the open retried, and the task (with a warning) can inspect and remove. The
reserve is laid down again by a later open once the filesystem has room for it.
"""
from __future__ import annotations

import os

#: bytes kept in reserve: -shm (32 KiB) plus WAL pages for a few removals
RESERVE_SIZE = 4 << 20
#: lay the reserve down again only with this much more free than the reserve itself
REFILL_MARGIN = 4 * RESERVE_SIZE


def reserve_path(db_path: str) -> str:
    return db_path + ".reserve"


def ensure(db_path: str) -> bool:
    """Create the reserve when it is missing and there is room to spare; True when one exists after."""
    path = reserve_path(db_path)
    if os.path.exists(path):
        return True
    try:
        st = os.statvfs(os.path.dirname(path))
        if st.f_bavail * st.f_frsize < RESERVE_SIZE + REFILL_MARGIN:
            return False
        tmp = path + ".tmp%d" % os.getpid()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            try:
                os.posix_fallocate(fd, 0, RESERVE_SIZE)
            except OSError:  # a filesystem without fallocate: real blocks, written
                chunk = b"\0" * (1 << 20)
                for _i in range(RESERVE_SIZE // len(chunk)):
                    os.write(fd, chunk)
        finally:
            os.close(fd)
        os.rename(tmp, path)
        return True
    except OSError:
        try:
            os.unlink(path + ".tmp%d" % os.getpid())
        except OSError:
            pass
        return False


def release(db_path: str) -> bool:
    """Delete the reserve; True when there was one to give back."""
    try:
        os.unlink(reserve_path(db_path))
        return True
    except OSError:
        return False
