"""host.proc.exited_or_settled: after a start, tell an exit from a process tree that waits for
something (the start check no longer sleeps a fixed grace for a healthy container)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import exe_of, exited_or_settled

BUSY = [sys.executable, "-c", "while True: pass"]


@pytest.fixture
def spawn():
    procs = []

    def run(argv):
        procs.append(subprocess.Popen(argv, start_new_session=True))
        return procs[-1]

    yield run
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.wait()


def test_a_sleeping_process_has_settled(spawn):
    p = spawn(["sleep", "30"])
    assert exited_or_settled(p.pid, 30) is False


def test_a_shell_waiting_for_a_sleeping_child_has_settled(spawn):
    p = spawn(["sh", "-c", "sleep 30; exit 3"])
    assert exited_or_settled(p.pid, 30) is False


def test_a_command_that_fails_at_once_has_exited(spawn):
    p = spawn(["sh", "-c", "echo failing >&2; exit 3"])
    assert exited_or_settled(p.pid, 30) is True


def test_a_busy_process_is_neither_within_the_timeout(spawn):
    p = spawn(BUSY)
    assert exited_or_settled(p.pid, 0.1) is None


def test_a_shell_waiting_for_a_busy_child_has_not_settled(spawn):
    p = spawn(["sh", "-c", "%s -c 'while True: pass'; exit 3" % sys.executable])
    assert exited_or_settled(p.pid, 0.1) is None


def test_a_process_still_running_the_runtime_binary_has_not_settled(spawn):
    """Before the start execs the command the process is the runtime's init: not the container yet."""
    p = spawn(["sleep", "30"])
    assert exited_or_settled(p.pid, 0.1, init_exe=exe_of(p.pid)) is None


def test_a_gone_pid_has_exited():
    p = subprocess.Popen(["true"])
    p.wait()
    assert exited_or_settled(p.pid, 30) is True
