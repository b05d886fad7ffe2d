# SPDX-License-Identifier: GPL-3.0-or-later
"""Rootless detection and the per-user engine paths (host/userpaths.py)."""
from __future__ import annotations

import os

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import UnsafePath
from ansible_collections.libpod.engine.plugins.module_utils.engine.host import userpaths


@pytest.mark.parametrize("text,want", [
    ("         0          0 4294967295\n", None),          # the initial namespace: real root
    ("         0       1000          1\n         1     100000      65536\n", 1000),  # the engine's userns
    ("         1     100000      65536\n", None),          # no uid 0 mapped
    ("", None),
])
def test_host_uid_of_ns_root(text, want):
    assert userpaths.host_uid_of_ns_root(text) == want


def test_rootless_uid(tmp_path):
    ident = tmp_path / "ident"
    ident.write_text("0 0 4294967295\n")
    mapped = tmp_path / "mapped"
    mapped.write_text("0 1000 1\n1 100000 65536\n")
    assert userpaths.rootless_uid(euid=1000, uid_map=str(ident)) == 1000
    assert userpaths.rootless_uid(euid=0, uid_map=str(ident)) is None
    assert userpaths.rootless_uid(euid=0, uid_map=str(mapped)) == 1000  # inside the engine's own namespace
    assert userpaths.rootless_uid(euid=0, uid_map=str(tmp_path / "missing")) is None


def test_root_is_not_rootless():
    assert userpaths.rootless_uid() is None  # the unit tests run as root
    assert userpaths.current() is None
    assert userpaths.registry_dir() == "/run/libpod-engine"


def test_runtime_dir_prefers_xdg_runtime_dir(tmp_path):
    warnings = []
    assert userpaths.runtime_dir(1234, {"XDG_RUNTIME_DIR": "/run/user/1234/"}, warnings) == "/run/user/1234"
    assert warnings == []


def test_runtime_dir_uses_run_user_when_it_is_the_users_and_private(tmp_path):
    run_user = tmp_path / "run-user"
    (run_user / "1234").mkdir(parents=True, mode=0o700)
    os.chmod(run_user / "1234", 0o700)
    warnings = []
    got = userpaths.runtime_dir(1234, {}, warnings, run_user=str(run_user), tmp=str(tmp_path), self_uid=os.geteuid())
    assert got == str(run_user / "1234") and warnings == []


@pytest.mark.parametrize("why", ["missing", "mode", "owner"])
def test_runtime_dir_falls_back_below_tmp_with_a_warning(tmp_path, why):
    run_user = tmp_path / "run-user"
    run_user.mkdir()
    if why != "missing":
        (run_user / "1234").mkdir(mode=0o755)
        os.chmod(run_user / "1234", 0o755 if why == "mode" else 0o700)
    tmp = tmp_path / "tmp"
    tmp.mkdir(mode=0o700)
    warnings = []
    got = userpaths.runtime_dir(1234, {}, warnings, run_user=str(run_user), tmp=str(tmp),
                                self_uid=os.geteuid() + (1 if why == "owner" else 0))
    assert got == str(tmp / "libpod-engine-1234")
    assert os.path.isdir(got) and (os.stat(got).st_mode & 0o777) == 0o700
    assert len(warnings) == 1 and "XDG_RUNTIME_DIR is not set" in warnings[0] and got in warnings[0]


def test_runtime_dir_fallback_refuses_a_dir_another_user_took(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir(mode=0o700)
    (tmp / "libpod-engine-1234").mkdir(mode=0o777)
    os.chmod(tmp / "libpod-engine-1234", 0o777)
    with pytest.raises(UnsafePath):
        userpaths.runtime_dir(1234, {}, [], run_user=str(tmp_path / "none"), tmp=str(tmp))


def test_user_dirs_follow_home_and_xdg(tmp_path):
    env = {"HOME": "/home/app", "XDG_RUNTIME_DIR": "/run/user/1234"}
    d = userpaths.user_dirs(1234, env)
    assert d.static_dir == "/home/app/.local/share/libpod-engine"
    assert d.tmp_dir == "/run/user/1234/libpod-engine"
    assert d.config_file == "/home/app/.config/libpod-engine/containers.conf"
    assert d.pause_pid_file == "/run/user/1234/libpod-engine/pause.pid"
    assert d.defaults() == {"static_dir": d.static_dir, "tmp_dir": d.tmp_dir,
                            "volume_path": "/home/app/.local/share/libpod-engine/volumes"}
    env.update(XDG_DATA_HOME="/data/app", XDG_CONFIG_HOME="/cfg/app")
    d = userpaths.user_dirs(1234, env)
    assert d.static_dir == "/data/app/libpod-engine"
    assert d.config_file == "/cfg/app/libpod-engine/containers.conf"
    assert d.registry_dir == "/run/user/1234/libpod-engine-roots"
