# SPDX-License-Identifier: GPL-3.0-or-later
"""The rootless user namespace's pure parts (host/userns.py); the live path runs in
tests/integration/test_rootless.py as a throw-away user."""
from __future__ import annotations

import os

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import subids, userns
from ansible_collections.libpod.engine.plugins.module_utils.engine.parse.idmap import IDMap, parse_subid_text
from ansible_collections.libpod.engine.tests.helpers.procs import wait_argv


def test_map_args_put_the_own_id_at_0_and_the_ranges_after_it():
    ranges = parse_subid_text("app:100000:65536\nother:1:2\napp:300000:10\n", "app")
    assert userns.map_args(42, 1000, ranges) == ["42", "0", "1000", "1", "1", "100000", "65536",
                                                 "65537", "300000", "10"]
    assert userns.map_args(42, 1000, []) == ["42", "0", "1000", "1"]
    assert ranges[0] == IDMap(0, 100000, 65536)


def test_parse_map_text():
    text = "         0       1000          1\n         1     100000      65536\n"
    assert userns.parse_map_text(text) == [(0, 1000, 1), (1, 100000, 65536)]
    assert userns.parse_map_text("garbage\n") == []


@pytest.mark.parametrize("text,want", [("123\n", 123), ("", None), ("abc", None), ("0", None), ("-5", None)])
def test_parse_pid_text(text, want):
    assert userns.parse_pid_text(text) == want


def test_a_pid_that_is_not_a_pause_process_is_not_alive(tmp_path):
    assert not userns.pause_alive(os.getpid(), os.getuid())  # python, not catatonit
    assert not userns.pause_alive(2 ** 22 + 1, os.getuid())  # above pid_max: no such process
    assert userns.read_pause_pid(str(tmp_path / "pause.pid")) is None


def test_read_only_ensure_creates_nothing(tmp_path):
    pid_file = tmp_path / "run" / "pause.pid"
    assert userns.ensure(str(pid_file), 1234, 1234, create=False) is None
    assert not (tmp_path / "run").exists()


def test_missing_subordinate_ids_is_the_clear_error(tmp_path, monkeypatch):
    empty = tmp_path / "subuid"
    empty.write_text("someoneelse:100000:65536\n")

    def no_ranges(uid):
        return subids.user_subids(uid, subuid_file=str(empty), subgid_file=str(empty))

    monkeypatch.setattr(userns, "user_subids", no_ranges)
    pid_file = tmp_path / "pause.pid"
    pid_file.write_text("999999999")  # a stale pid: a new namespace is needed
    with pytest.raises(subids.NoSubordinateIDs) as exc:
        userns.ensure(str(pid_file), os.getuid(), os.getgid())
    assert str(empty) in str(exc.value) and "usermod --add-subuids" in exc.value.hint


def test_no_catatonit_names_the_package(monkeypatch):
    monkeypatch.setattr(userns.shutil, "which", lambda name: None)
    with pytest.raises(userns.UserNamespaceError) as exc:
        userns.find_pause_binary(("/nonexistent/catatonit",))
    assert "catatonit" in exc.value.hint


def test_a_catatonit_that_is_not_a_pause_process_is_not_alive(tmp_path):
    """A stale pause.pid reused by a container's catatonit init (``catatonit -- cmd``) is not joined."""
    import shutil
    import subprocess

    exe = shutil.which("catatonit") or "/usr/libexec/podman/catatonit"
    if not os.access(exe, os.X_OK):
        pytest.skip("no catatonit")
    init = subprocess.Popen([exe, "--", "sleep", "30"], stdin=subprocess.DEVNULL)
    pause = subprocess.Popen([exe, "-P"], stdin=subprocess.DEVNULL)
    try:
        for p in (init, pause):  # until both have exec'd catatonit (a loaded host is slow to exec)
            wait_argv(p.pid, lambda a: a[:1] != [] and os.path.basename(a[0]) == "catatonit")
        assert not userns.pause_alive(init.pid, os.getuid())
        assert userns.pause_alive(pause.pid, os.getuid())
    finally:
        for p in (init, pause):
            p.kill()
            p.wait()
