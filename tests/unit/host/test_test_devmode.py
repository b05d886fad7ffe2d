# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/helpers/devmode: two processes opening up one "device" (a scratch file here) in any
interleaving, or one of them killed with SIGKILL, leave it at the mode it had before."""
from __future__ import annotations

import multiprocessing
import os
import signal

import pytest

from ansible_collections.libpod.engine.tests.helpers.devmode import DeviceMode, device_mode, settle_stale

ORIGINAL = 0o600
OPEN = 0o666
REPLY_TIMEOUT = 60  # a deadline for a hung child, not a timing assumption


def _worker(conn, path: str, state_dir: str) -> None:
    holder = DeviceMode(path, OPEN, state_dir)
    while True:
        cmd = conn.recv()
        if cmd == "quit":
            conn.send(cmd)
            return
        getattr(holder, cmd)()
        conn.send(cmd)


class Run:
    """One test run in its own process, told step by step what to do (enter / exit)."""

    def __init__(self, path: str, state_dir: str) -> None:
        self.conn, child = multiprocessing.get_context("fork").Pipe()
        self.proc = multiprocessing.get_context("fork").Process(target=_worker, args=(child, path, state_dir),
                                                                daemon=True)
        self.proc.start()

    def do(self, cmd: str) -> None:
        self.conn.send(cmd)
        assert self.conn.poll(REPLY_TIMEOUT), "worker did not answer %s" % cmd
        assert self.conn.recv() == cmd

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.join(REPLY_TIMEOUT)  # reaped: its pid is gone
        assert self.proc.exitcode == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc.is_alive():
            self.conn.send("quit")
            self.proc.join(REPLY_TIMEOUT)
        if self.proc.is_alive():
            self.kill()


@pytest.fixture
def device(tmp_path):
    dev = tmp_path / "tun"
    dev.write_text("")
    os.chmod(dev, ORIGINAL)
    runs = []

    def run():
        runs.append(Run(str(dev), str(tmp_path / "state")))
        return runs[-1]
    yield str(dev), run
    for r in runs:
        r.stop()


def mode(path: str) -> int:
    return os.stat(path).st_mode & 0o7777


@pytest.mark.parametrize("order", ["AB-AB", "AB-BA"])
def test_interleaved_runs_end_at_the_original_mode(device, order):
    path, run = device
    a, b = run(), run()
    a.do("enter")
    b.do("enter")
    assert mode(path) == OPEN
    first, last = (a, b) if order == "AB-AB" else (b, a)
    first.do("exit")
    assert mode(path) == OPEN  # the other run still needs it
    last.do("exit")
    assert mode(path) == ORIGINAL


@pytest.mark.parametrize("others_enter_before_the_kill", [True, False])
def test_a_killed_run_does_not_leave_its_mode(device, others_enter_before_the_kill):
    """A is killed while holding the device (its tag stays in the record): B's exit still puts the
    original back, whether B entered before or after the kill."""
    path, run = device
    a, b = run(), run()
    a.do("enter")
    if others_enter_before_the_kill:
        b.do("enter")
    a.kill()
    assert mode(path) == OPEN
    if not others_enter_before_the_kill:
        b.do("enter")
    b.do("exit")
    assert mode(path) == ORIGINAL


def test_a_killed_last_run_is_settled_at_the_end_of_a_session(device, tmp_path):
    """No run left to exit: the session's settle_stale puts the original back; a live holder keeps it open."""
    path, run = device
    state = str(tmp_path / "state")
    a, b = run(), run()
    a.do("enter")
    b.do("enter")
    a.kill()
    assert settle_stale(state) == [] and mode(path) == OPEN  # b still holds it
    b.kill()
    assert settle_stale(state) == [path] and mode(path) == ORIGINAL
    assert settle_stale(state) == [] and not [n for n in os.listdir(state) if n.endswith(".json")]


def test_same_process_nested_and_exit_without_enter(tmp_path):
    dev = tmp_path / "fuse"
    dev.write_text("")
    os.chmod(dev, 0o640)
    state = str(tmp_path / "state")
    DeviceMode(str(dev), OPEN, state).exit()  # never entered: nothing changes
    assert mode(str(dev)) == 0o640
    with device_mode(str(dev), OPEN, state):
        with device_mode(str(dev), OPEN, state):
            assert mode(str(dev)) == OPEN
        assert mode(str(dev)) == OPEN
    assert mode(str(dev)) == 0o640
    assert not os.path.exists(DeviceMode(str(dev), OPEN, state).record_path)
