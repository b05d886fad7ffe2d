# SPDX-License-Identifier: GPL-3.0-or-later
"""Process checks: is a PID alive (zombies count as dead), wait for an exit, what a PID runs
(its argv: the one reader of ``/proc/<pid>/cmdline``), whose conmon is it."""
from __future__ import annotations

import os
import select
import signal
import time
from typing import Iterator, List, Optional, Tuple


def pid_alive(pid: int) -> bool:
    """kill(pid, 0): cheap liveness check (0.5 us); a zombie is dead (it exited, nobody reaped it
    yet: conmon and containers are reparented to pid 1, which may reap late or never)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except FileNotFoundError:
        return False  # reaped meanwhile
    except (OSError, IndexError):
        return True


def _pidfd(pid: int) -> Optional[int]:
    """A pidfd of ``pid`` to wait on (-1 where pidfds are unavailable), None when it is gone."""
    if not hasattr(os, "pidfd_open"):
        return -1
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        return None
    except OSError:
        return -1


def wait_pid_gone(pid: int, timeout: float, interval: float = 0.1) -> bool:
    """Wait until ``pid`` has exited; True if it did within ``timeout``.

    Uses a pidfd (wakes at the exit) where possible; otherwise polls kill(pid, 0) like
    podman, starting fast and backing off to ``interval``.
    """
    pidfd = _pidfd(pid) if pid_alive(pid) else None
    if pidfd is None:
        return True
    deadline = time.monotonic() + timeout
    try:
        if pidfd >= 0:
            while True:
                left = deadline - time.monotonic()
                try:
                    ready, _unused, _unused = select.select([pidfd], [], [], max(0.0, left))
                except InterruptedError:
                    continue
                if ready:
                    return True
                if left <= 0:
                    return False
        step = 0.002
        while pid_alive(pid):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(step, left))
            step = min(step * 2, interval)
        return True
    finally:
        if pidfd >= 0:
            os.close(pidfd)


def read_int(path: str) -> Optional[int]:
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _cmdline(pid: int) -> Optional[List[str]]:
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if not data:
        return []
    args = data.decode("utf-8", "surrogateescape").split("\0")
    if data.endswith(b"\0"):
        args.pop()
    return args


def argv(pid: int) -> List[str]:
    """The arguments ``pid`` runs with (``/proc/PID/cmdline``), [] when it is gone, unreadable,
    a zombie or a kernel thread. Only the empty element after the final NUL is dropped: an empty
    argument stays, so positions (argv[1], argv[2]) keep their meaning. Decoded with
    "surrogateescape", like os.fsdecode: a str compares equal exactly when the bytes did (paths
    of the engine, ids), and os.fsencode gives the bytes back; show it with printable()."""
    return _cmdline(pid) or []


def argvs() -> Iterator[Tuple[int, List[str]]]:
    """(pid, argv) of every live process ([] for zombies and kernel threads), unreadable ones
    (gone meanwhile) skipped."""
    for name in os.listdir("/proc"):
        if name.isdigit():
            args = _cmdline(int(name))
            if args is not None:
                yield int(name), args


def printable(text: str) -> str:
    """``text`` from argv() for messages and results: bytes that are not UTF-8 as U+FFFD (what
    decoding the raw bytes with "replace" gives), never lone surrogates that JSON or a terminal
    would refuse."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def is_conmon(pid: int, ctr_id: str) -> bool:
    """Is ``pid`` the conmon of ``ctr_id``? (guards against a recycled pid)."""
    args = argv(pid)
    return bool(args) and os.path.basename(args[0]) == "conmon" and ctr_id in args


def kill_wait(pid: int, timeout: float) -> bool:
    """SIGKILL ``pid`` and wait until it is gone; True if it went within ``timeout``."""
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    return wait_pid_gone(pid, timeout)


def exe_of(pid: int) -> str:
    """The binary ``pid`` runs (``/proc/PID/exe``), "" when it is gone or unreadable."""
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return ""


def _tree_sleeps(pid: int) -> bool:
    """Every thread of ``pid`` and of all its descendants sleeps interruptibly (state S): the tree
    waits for something (a timer, a socket, input), it is not on its way to an exit. A child in
    another state (running, disk wait, zombie) or a tree that changed under us counts as not."""
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            tids = os.listdir("/proc/%d/task" % p)
            for tid in tids:
                with open("/proc/%d/task/%s/stat" % (p, tid), "rb") as f:
                    if f.read().rsplit(b")", 1)[-1].split()[0] != b"S":
                        return False
                with open("/proc/%d/task/%s/children" % (p, tid), "rb") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, IndexError, ValueError):
            return False
    return True


def exited_or_settled(pid: int, timeout: float, init_exe: str = "") -> Optional[bool]:
    """Right after a container's start: True once ``pid`` has exited, False as soon as it has
    exec'd its command (its binary is no longer ``init_exe``, the runtime's) and its whole process
    tree sleeps waiting for something, None when neither happened within ``timeout`` (a busy
    process). A healthy service settles within milliseconds, so this seldom waits the timeout.

    Waits on a pidfd (wakes at the exit), re-checking the tree at 1, 2, 4 ... 10 ms."""
    pidfd = _pidfd(pid) if pid_alive(pid) else None
    if pidfd is None:
        return True
    deadline = time.monotonic() + timeout
    step = 0.001
    try:
        while True:
            if (not init_exe or exe_of(pid) not in ("", init_exe)) and _tree_sleeps(pid):
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            wait = min(step, left)
            step = min(step * 2, 0.01)
            if pidfd >= 0:
                try:
                    ready, _unused, _unused = select.select([pidfd], [], [], wait)
                except InterruptedError:
                    continue
                if ready:
                    return True
            else:
                time.sleep(wait)
                if not pid_alive(pid):
                    return True
    finally:
        if pidfd >= 0:
            os.close(pidfd)
