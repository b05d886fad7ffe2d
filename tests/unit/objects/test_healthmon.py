# SPDX-License-Identifier: GPL-3.0-or-later
"""The health monitor is killed only when the pid really is that container's monitor."""
from __future__ import annotations

import os
import subprocess
import sys

from ansible_collections.libpod.engine.plugins.module_utils.engine.objects import healthmon
from ansible_collections.libpod.engine.tests.helpers.procs import wait_argv

CTR_ID = "ab" * 32


class FakeCtr:
    def __init__(self, pid):
        self.id = CTR_ID
        self.state = {healthmon.PID_KEY: pid}


def _spawn(*args):
    """A sleeper whose command line is already readable: Popen returns once exec closed its
    pipe, which is before the kernel sets up the new argv (/proc/PID/cmdline reads empty in that
    window, seen on a loaded CI machine)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", *args])
    wait_argv(proc.pid, lambda a: args[-1] in a)
    return proc


def test_stop_kills_the_monitor_and_never_a_recycled_pid_or_itself():
    other = _spawn("unrelated")
    mon = _spawn("healthcheck", CTR_ID)
    try:
        ctr = FakeCtr(other.pid)
        healthmon.stop(ctr)
        assert other.poll() is None and ctr.state[healthmon.PID_KEY] == 0
        healthmon.stop(FakeCtr(os.getpid()))  # a monitor restarting its container: not itself
        healthmon.stop(FakeCtr(mon.pid))
        assert mon.wait(timeout=10) == -9
    finally:
        for p in (other, mon):
            p.kill()
            p.wait()
