# SPDX-License-Identifier: GPL-3.0-or-later
"""The OFD byte locks the numbered locks are made of (locks.py), and the exit command's check of
a removed container, with the standard library only.

conmon runs the exit command of every container that exits, also of one a task removes
(``state: absent`` kills it). That command then imported the whole engine (~90 ms of CPU), waited
for the container's lock while the task removed it, and found nothing left to do. The check below
finds the container's lock number in the state DB, waits for that lock to be free and looks again:
a container that is gone by then needs nothing (the remover cleaned it up under the same lock), and
only a container still there costs the engine's import.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import struct
from typing import Optional

F_OFD_GETLK = 36
F_OFD_SETLK = 37
F_OFD_SETLKW = 38

#: the state DB in the static dir, the lock file in the tmp dir
DB_FILE = "state.db"
LOCK_FILE = "locks"


def flock(kind: int, start: int, length: int = 1) -> bytes:
    """struct flock on Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid."""
    return struct.pack("hhqqi4x", kind, os.SEEK_SET, start, length, 0)


def _container_lock_id(db_path: str, ctr_id: str) -> Optional[int]:
    """The container's lock number, -1 when it is not in the DB (raises on any DB trouble)."""
    conn = sqlite3.connect("file:%s?mode=rw" % db_path, uri=True, timeout=30)
    try:
        row = conn.execute("SELECT lock_id FROM containers WHERE id=?", (ctr_id,)).fetchone()
    finally:
        conn.close()
    return -1 if row is None else row[0]


def container_removed(static_dir: str, tmp_dir: str, ctr_id: str) -> bool:
    """True when container ``ctr_id`` is not in the state DB, or is no longer there once its lock
    is free (waits for a remover holding it). False when it is still there or anything is unclear
    (then the full cleanup decides, with its own errors)."""
    db_path = os.path.join(static_dir, DB_FILE)
    try:
        lock_id = _container_lock_id(db_path, ctr_id)
        if lock_id == -1:
            return True
        if not isinstance(lock_id, int):
            return False
        fd = os.open(os.path.join(tmp_dir, LOCK_FILE), os.O_RDWR | os.O_CLOEXEC)
        try:
            fcntl.fcntl(fd, F_OFD_SETLKW, flock(fcntl.F_WRLCK, lock_id))
        finally:
            os.close(fd)  # releases it: the cleanup takes the lock again itself
        return _container_lock_id(db_path, ctr_id) == -1
    except (OSError, sqlite3.Error):
        return False
