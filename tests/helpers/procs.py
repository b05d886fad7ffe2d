# SPDX-License-Identifier: GPL-3.0-or-later
"""Waiting for a process the test just started to show its command line.

Popen returns once exec closed its pipe, which is before the kernel sets up the new argv:
``/proc/PID/cmdline`` reads empty (or the parent's) in that window, often enough on a loaded CI
machine to make a test that reads it right away flaky. Reads go through host.proc.argv, the
engine's one reader of a command line.
"""
from __future__ import annotations

import time
from typing import Callable, List

from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import argv

#: seconds a started process may take to show its argv (a loaded 2-core CI machine is slow)
ARGV_TIMEOUT = 10.0


def wait_argv(pid: int, ready: Callable[[List[str]], bool], timeout: float = ARGV_TIMEOUT) -> List[str]:
    """argv(pid) once ``ready`` holds for it, else its last reading when ``timeout`` is up (the
    caller's assertion on it then says what was there)."""
    deadline = time.monotonic() + timeout
    args = argv(pid)
    while not ready(args) and time.monotonic() < deadline:
        time.sleep(0.005)
        args = argv(pid)
    return args
