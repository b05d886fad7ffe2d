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
from typing import Dict, List, Optional, Tuple

from ..base.errors import LockError, LockExhausted
from ..host.proc import argv
from .ofd import F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW
from .ofd import flock as _flock
from .state import State

#: (lock file, number) -> owner, for every lock this process holds: OFD locks exclude between
#: descriptors of one process too, so taking one of these again would wait on ourselves forever
_HELD: Dict[Tuple[str, int], str] = {}


def _lock_lines(text: str, inode: int, lock_id: int) -> List[int]:
    """PIDs of the /proc/locks-format lines in ``text`` that cover byte ``lock_id`` of ``inode``."""
    pids = []
    for line in text.splitlines():
        fields = line.split()
        if "->" in fields:
            continue  # a waiter, not a holder
        for i, f in enumerate(fields):
            if f in ("OFDLCK", "POSIX") and len(fields) >= i + 6:
                try:
                    pid, ino = int(fields[i + 3]), int(fields[i + 4].rsplit(":", 1)[1])
                    start, end = int(fields[i + 5]), fields[i + 6]
                    if ino == inode and start <= lock_id and (end == "EOF" or lock_id <= int(end)):
                        pids.append(pid)
                except (ValueError, IndexError):
                    pass
                break
    return pids


def lock_holders(path: str, lock_id: int, proc: str = "/proc") -> List[int]:
    """PIDs holding byte ``lock_id`` of ``path``. /proc/locks names the taker of an OFD lock only on
    newer kernels (else -1); then the holders' /proc/<pid>/fdinfo entries are searched (error path only)."""
    try:
        inode = os.stat(path).st_ino
        with open(os.path.join(proc, "locks"), encoding="ascii", errors="replace") as f:
            pids = _lock_lines(f.read(), inode, lock_id)
    except OSError:
        return []
    if pids and all(p > 0 for p in pids):
        return pids
    found = []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        fdinfo = os.path.join(proc, entry, "fdinfo")
        try:
            fds = os.listdir(fdinfo)
        except OSError:
            continue
        for fd in fds:
            try:
                with open(os.path.join(fdinfo, fd), encoding="ascii", errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            if "lock:" in text and _lock_lines(text, inode, lock_id):
                found.append(int(entry))
                break
    return found


def _describe_holders(path: str, lock_id: int) -> str:
    out = []
    for pid in lock_holders(path, lock_id):
        # the first 200 bytes of the command line, NULs as spaces
        cmd = " ".join(argv(pid)).encode("utf-8", "surrogateescape")[:200].decode("utf-8", "replace").strip()
        out.append("pid %d%s" % (pid, " (%s)" % cmd if cmd else ""))
    return ", ".join(out) or "another process"


class Lock:
    """One numbered lock; use as a context manager. Not re-entrant: a second acquisition of a lock
    this process holds is refused at once (it could only wait on itself)."""

    def __init__(self, path: str, lock_id: int, owner: str = ""):
        self.path = path
        self.lock_id = lock_id
        #: what the lock protects ("container web"), for error messages
        self.owner = owner or "lock %d" % lock_id
        self._fd: Optional[int] = None
        self._key: Optional[Tuple[str, int]] = None

    def acquire(self, timeout: Optional[float] = None) -> None:
        if self._fd is not None:
            raise LockError("lock %d is already held by this handle" % self.lock_id)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            st = os.fstat(fd)
            key = ("%d:%d" % (st.st_dev, st.st_ino), self.lock_id)
            if key in _HELD:
                raise LockError("%s: lock %d is already held by this process (for %s): taking it again "
                                "would deadlock" % (self.owner, self.lock_id, _HELD[key]),
                                hint="an object refers to itself (e.g. network: container:<its own name>)")
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
                            raise LockError("timed out after %.1fs waiting for lock %d of %s (%s), held by %s"
                                            % (timeout, self.lock_id, self.owner, self.path,
                                               _describe_holders(self.path, self.lock_id)),
                                            hint="another engine process holds it; retry when it finished")
                        time.sleep(0.01)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._key = key
        _HELD[key] = self.owner

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            fcntl.fcntl(self._fd, F_OFD_SETLK, _flock(fcntl.F_UNLCK, self.lock_id))
        finally:
            os.close(self._fd)
            self._fd = None
            if self._key is not None:
                _HELD.pop(self._key, None)
                self._key = None

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

    def lock(self, lock_id: int, owner: str = "") -> Lock:
        return Lock(self.path, lock_id, owner)

    @staticmethod
    def holding() -> bool:
        """True while this process holds some numbered lock (the next one is a second object's)."""
        return bool(_HELD)

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
