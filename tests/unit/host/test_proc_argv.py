"""host.proc.argv/argvs: the one reader of /proc/<pid>/cmdline (every site that asks "is this pid
ours?" uses it); an empty argument keeps its position, undecodable bytes survive exactly."""
from __future__ import annotations

import os
import subprocess

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import argv, argvs, printable
from ansible_collections.libpod.engine.tests.helpers.procs import wait_argv

# argv[0] with a byte that is not UTF-8, an empty argument in the middle ($0 of the script);
# the shell waits on its stdin, no child
ARGV = [b"/tmp/lpe-argv-\xff/holder", b"-c", b"read x", b"", b"last"]


@pytest.fixture
def child():
    proc = subprocess.Popen(ARGV, executable="/bin/sh", stdin=subprocess.PIPE)
    wait_argv(proc.pid, lambda a: a == [os.fsdecode(x) for x in ARGV])
    yield proc
    proc.kill()
    proc.communicate()


def test_argv_keeps_empty_arguments_and_exact_bytes(child):
    args = argv(child.pid)
    assert len(args) == 5  # only the element after the final NUL is dropped
    assert args[3] == "" and args[4] == "last"
    assert [os.fsencode(a) for a in args] == ARGV
    assert printable(args[0]) == "/tmp/lpe-argv-\ufffd/holder"


def test_argv_of_a_process_that_is_gone_is_empty(child):
    child.kill()
    child.communicate()
    assert argv(child.pid) == []
    assert argv(2 ** 22 + 1) == []  # above pid_max's limit: never a process


def test_argv_of_a_zombie_is_empty():
    proc = subprocess.Popen(["true"])
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: a zombie
    try:
        assert argv(proc.pid) == []
    finally:
        proc.wait()


def test_argvs_lists_every_process_with_its_argv(child):
    found = dict(argvs())
    assert found[child.pid] == argv(child.pid)
    assert found[os.getpid()] == argv(os.getpid()) != []
    assert all(isinstance(pid, int) for pid in found)
