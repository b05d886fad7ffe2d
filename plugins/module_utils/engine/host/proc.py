# SPDX-License-Identifier: GPL-3.0-or-later
"""Process checks: is a PID alive (zombies count as dead), wait for an exit, whose conmon is it."""
from __future__ import annotations

import os
import select
import signal
import time
from typing import Optional


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


def wait_pid_gone(pid: int, timeout: float, interval: float = 0.1) -> bool:
    """Wait until ``pid`` has exited; True if it did within ``timeout``.

    Uses a pidfd (wakes at the exit) where possible; otherwise polls kill(pid, 0) like
    podman, starting fast and backing off to ``interval``.
    """
    if not pid_alive(pid):
        return True
    pidfd = -1
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            return True
        except OSError:
            pidfd = -1
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


def is_conmon(pid: int, ctr_id: str) -> bool:
    """Is ``pid`` the conmon of ``ctr_id``? (guards against a recycled pid)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    return bool(argv) and os.path.basename(argv[0]) == b"conmon" and ctr_id.encode() in argv


def kill_wait(pid: int, timeout: float) -> bool:
    """SIGKILL ``pid`` and wait until it is gone; True if it went within ``timeout``."""
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    return wait_pid_gone(pid, timeout)
