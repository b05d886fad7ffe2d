# SPDX-License-Identifier: GPL-3.0-or-later
"""Numbered locks: lock N is byte N of one lock file, taken with an OFD lock.

libpod keeps N robust mutexes in shared memory; from Python the file-lock manager
is the natural equivalent (libpod's lock_type "file"). Open file description
(OFD) locks, unlike POSIX lockf, exclude between file descriptors of one process
and are not dropped when some other descriptor of the file is closed. The kernel
releases them when the holder dies, so a killed module never leaves a lock held.
Which numbers are taken is recorded in the state DB (table ``locks``), inside the
same transaction that creates the object.
"""
from __future__ import annotations

import errno
import fcntl
import os
import struct
import time
from typing import List, Optional, Tuple

from ..base.errors import LockError, LockExhausted
from .state import State

F_OFD_GETLK = 36
F_OFD_SETLK = 37
F_OFD_SETLKW = 38


def _flock(kind: int, start: int, length: int = 1) -> bytes:
    # struct flock on Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid
    return struct.pack("hhqqi4x", kind, os.SEEK_SET, start, length, 0)


class Lock:
    """One numbered lock; use as a context manager. Not re-entrant."""

    def __init__(self, path: str, lock_id: int):
        self.path = path
        self.lock_id = lock_id
        self._fd: Optional[int] = None

    def acquire(self, timeout: Optional[float] = None) -> None:
        if self._fd is not None:
            raise LockError("lock %d is already held by this handle" % self.lock_id)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            if timeout is None:
                fcntl.fcntl(fd, F_OFD_SETLKW, _flock(fcntl.F_WRLCK, self.lock_id))
            else:
                deadline = time.monotonic() + timeout
                while True:
                    try:
                        fcntl.fcntl(fd, F_OFD_SETLK, _flock(fcntl.F_WRLCK, self.lock_id))
                        break
                    except OSError as exc:
                        if exc.errno not in (errno.EAGAIN, errno.EACCES):
                            raise
                        if time.monotonic() >= deadline:
                            raise LockError("timed out after %.1fs waiting for lock %d (%s)"
                                            % (timeout, self.lock_id, self.path),
                                            hint="another engine process holds it; retry when it finished")
                        time.sleep(0.01)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            fcntl.fcntl(self._fd, F_OFD_SETLK, _flock(fcntl.F_UNLCK, self.lock_id))
        finally:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> Lock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def is_locked(path: str, lock_id: int) -> bool:
    """True when some other open file description holds lock ``lock_id``."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        res = fcntl.fcntl(fd, F_OFD_GETLK, _flock(fcntl.F_WRLCK, lock_id))
        return struct.unpack("hhqqi4x", res)[0] != fcntl.F_UNLCK
    finally:
        os.close(fd)


class LockManager:
    """Allocates lock numbers in the DB and hands out Lock objects."""

    def __init__(self, state: State, path: str, num_locks: int, create: bool = True):
        self.state = state
        self.path = path
        self.num_locks = num_locks
        if create and not os.path.exists(path):
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            os.close(fd)

    def highest(self) -> int:
        """The highest lock number an object holds (-1: none)."""
        row = self.state.query("SELECT MAX(lock_id) FROM locks")
        return -1 if not row or row[0][0] is None else int(row[0][0])

    def lock(self, lock_id: int) -> Lock:
        return Lock(self.path, lock_id)

    def allocated(self) -> List[Tuple[int, str, str]]:
        return [tuple(r) for r in self.state.query("SELECT lock_id, owner_kind, owner_id FROM locks ORDER BY lock_id")]

    def allocate(self, owner_kind: str, owner_id: str) -> int:
        """Take the lowest free number (AllocateLock); call inside the object's creation tx."""
        with self.state.tx() as conn:
            taken = [r[0] for r in conn.execute(
                "SELECT lock_id FROM locks WHERE lock_id < ? ORDER BY lock_id", (self.num_locks,))]
            free = 0
            for n in taken:
                if n != free:
                    break
                free += 1
            if free >= self.num_locks:
                raise LockExhausted(
                    "allocation failed; exceeded num_locks (%d) while creating %s %s"
                    % (self.num_locks, owner_kind, owner_id[:12]),
                    hint="raise [engine] num_locks with runtime_config, then renumber locks")
            conn.execute("INSERT INTO locks(lock_id, owner_kind, owner_id) VALUES(?,?,?)",
                         (free, owner_kind, owner_id))
        return free

    def retrieve(self, lock_id: int, owner_kind: str, owner_id: str) -> None:
        """AllocateAndRetrieveLock: re-mark a known number (refresh after reboot)."""
        with self.state.tx() as conn:
            conn.execute("INSERT INTO locks(lock_id, owner_kind, owner_id) VALUES(?,?,?) "
                         "ON CONFLICT(lock_id) DO UPDATE SET owner_kind=excluded.owner_kind, "
                         "owner_id=excluded.owner_id", (lock_id, owner_kind, owner_id))

    def free(self, lock_id: Optional[int]) -> None:
        if lock_id is None:
            return
        with self.state.tx() as conn:
            conn.execute("DELETE FROM locks WHERE lock_id=?", (lock_id,))

    def free_all(self) -> None:
        with self.state.tx() as conn:
            conn.execute("DELETE FROM locks")
