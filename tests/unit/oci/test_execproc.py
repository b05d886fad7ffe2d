# SPDX-License-Identifier: GPL-3.0-or-later
"""The exec process is the container's process with only args/env/user/cwd (and privileged) changed."""
from __future__ import annotations

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci.etcfiles import ExecUser
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci.execproc import exec_process, merge_env

BASE = {"terminal": True, "user": {"uid": 0, "gid": 0, "umask": 18}, "args": ["sleep", "1"],
        "env": ["PATH=/bin", "HOME=/root"], "cwd": "/", "noNewPrivileges": True,
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "capabilities": {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]}}


def test_keeps_the_containers_limits():
    p = exec_process(BASE, ["id"])
    assert p["args"] == ["id"] and p["terminal"] is False
    assert p["noNewPrivileges"] is True and p["rlimits"] == BASE["rlimits"]
    assert p["capabilities"] == {k: ["CAP_CHOWN"] for k in ("bounding", "effective", "permitted")}
    assert BASE["args"] == ["sleep", "1"]  # the base is not modified


def test_no_caps_container_stays_without_caps():
    base = dict(BASE, capabilities={"bounding": [], "effective": [], "permitted": []})
    p = exec_process(base, ["chown", "1", "/x"], all_caps=["CAP_CHOWN", "CAP_SYS_ADMIN"])
    assert p["capabilities"] == {"bounding": [], "effective": [], "permitted": []}
    priv = exec_process(base, ["id"], privileged=True, all_caps=["CAP_CHOWN", "CAP_SYS_ADMIN"])
    assert priv["capabilities"]["effective"] == ["CAP_CHOWN", "CAP_SYS_ADMIN"]


def test_non_root_user_gets_only_added_caps_and_its_home():
    p = exec_process(BASE, ["id"], user=ExecUser(uid=1000, gid=1000, home="/home/app"), cap_add=[])
    assert p["user"]["uid"] == 1000 and p["user"]["umask"] == 18
    assert p["capabilities"]["effective"] == [] and p["capabilities"]["bounding"] == ["CAP_CHOWN"]
    assert "HOME=/home/app" in p["env"]
    p = exec_process(BASE, ["id"], user=ExecUser(uid=1000, gid=1000), cap_add=["CAP_CHOWN"])
    assert p["capabilities"]["ambient"] == ["CAP_CHOWN"]


def test_env_overrides_and_bad_input():
    assert merge_env(["A=1", "B=2"], {"A": "x", "C": "3"}) == ["A=x", "B=2", "C=3"]
    with pytest.raises(InvalidArg, match="env"):
        merge_env([], {"A=B": "1"})
    with pytest.raises(InvalidArg, match="command"):
        exec_process(BASE, [])
    with pytest.raises(InvalidArg, match="workdir"):
        exec_process(BASE, ["id"], cwd="relative")
