# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles libpod.engine.host and libpod.engine.stack, through ansible-playbook on localhost.

The host role runs for real only in ``pip`` mode against the venv that runs these tests (the
system packages are those scripts/setup.sh installed, so nothing new is installed); the
``distro`` mode runs in check mode only and must not install anything.
"""
from __future__ import annotations

import os
import subprocess
import sys

from .helpers import cleanup_engine_env, make_engine_env

HOST_ROLE = "libpod.engine.host"
STACK_ROLE = "libpod.engine.stack"


def _role(name: str, **role_vars) -> dict:
    return {"ansible.builtin.include_role": {"name": name}, "vars": role_vars}


def _installed() -> str:
    """dpkg's view of the installed packages (to show that check mode installed nothing)."""
    try:
        return subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Status}\n"], capture_output=True, text=True,
                              check=False).stdout
    except OSError:
        return ""


def _host_vars(**extra) -> dict:
    base = {
        "host_python_libraries": "pip",
        "host_venv": sys.prefix,            # the venv running the tests: it has the libraries
        "host_apt_cache_valid_time": 10 ** 9,  # never refresh the apt cache in a test
    }
    base.update(extra)
    return base


def test_host_role_check_mode_installs_nothing(engine_env, playbook):
    before = _installed()
    res = playbook([_role(HOST_ROLE, host_python_libraries="distro", host_apt_cache_valid_time=10 ** 9,
                          host_runtime_config={"engine": {"stop_timeout": 7}})], check=True)
    assert res.ok, res.log
    assert _installed() == before
    with open(engine_env.conf, encoding="utf-8") as f:
        assert "stop_timeout" not in f.read()


def test_host_role_is_idempotent_and_writes_runtime_config(engine_env, playbook):
    tasks = [
        _role(HOST_ROLE, **_host_vars(host_runtime_config={"engine": {"stop_timeout": 7}})),
        {"ansible.builtin.debug": {"var": "host_python_interpreter"}},
    ]
    res = playbook(tasks)
    assert res.ok, res.log
    config_task = res.task("libpod.engine.host : Write the engine's containers.conf settings")
    assert config_task.changed, config_task.result
    assert res.task("ansible.builtin.debug")["host_python_interpreter"] == sys.prefix + "/bin/python"
    with open(engine_env.conf, encoding="utf-8") as f:
        assert "stop_timeout = 7" in f.read()

    res = playbook(tasks)
    assert res.ok, res.log
    assert res.changed == 0, [(t.name, t.result.get("actions")) for t in res.tasks if t.changed]


def test_host_role_refuses_bad_variables(engine_env, playbook):
    res = playbook([dict(_role(HOST_ROLE, **_host_vars(host_oci_runtimes=["kata"])), ignore_errors=True)])
    failed = [t for t in res.tasks if t.failed]
    assert failed and "kata" in (failed[0].msg or ""), res.log


def test_host_role_names_a_missing_library(engine_env, playbook, tmp_path):
    # an interpreter without the libraries: the role's check fails and names them
    venv = tmp_path / "empty-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    res = playbook([dict(_role(HOST_ROLE, host_python_libraries="none", host_apt_cache_valid_time=10 ** 9),
                         ignore_errors=True)],
                   play_vars={"ansible_python_interpreter": str(venv / "bin" / "python")})
    failed = [t for t in res.tasks if t.failed]
    assert failed, res.log
    msg = failed[0].msg or ""
    assert str(venv / "bin" / "python") in msg and "jsonschema" in msg and "tomlkit" in msg, msg


def test_stack_role_applies_reruns_and_removes(engine_env, playbook, busybox_archive):
    img = "oci-archive:" + busybox_archive
    role_vars = {
        "stack_name": "rolestack",
        "stack_volumes": [{"name": "rs-data"}],
        "stack_containers": [{"name": "rs-sleeper", "image": img, "command": ["sleep", "1000"], "init": True,
                              "network": "none", "volume": ["rs-data:/data"]}],
    }
    show = {"ansible.builtin.debug": {"var": "stack_result.stack"}}
    res = playbook([_role(STACK_ROLE, **role_vars), show])
    assert res.ok, res.log
    stack = res.task("ansible.builtin.debug")["stack_result.stack"]
    assert stack["containers"]["rs-sleeper"]["status"] == "running"
    assert list(stack["volumes"]) == ["rs-data"]

    res = playbook([_role(STACK_ROLE, **role_vars)], check=True, diff=True)
    assert res.ok, res.log
    assert res.changed == 0
    res = playbook([_role(STACK_ROLE, **role_vars)])
    assert res.ok, res.log
    assert res.changed == 0

    res = playbook([_role(STACK_ROLE, stack_name="rolestack", stack_state="absent"), show])
    assert res.ok, res.log
    stack = res.task("ansible.builtin.debug")["stack_result.stack"]
    assert stack == {"name": "rolestack", "networks": {}, "volumes": {}, "pods": {}, "containers": {}}
    assert sorted(res.task("libpod.engine.stack : Reconcile the stack rolestack")["pruned"]) == [
        "container rs-sleeper", "volume rs-data"]


def test_stack_role_requires_a_name(engine_env, playbook):
    res = playbook([dict(_role(STACK_ROLE, stack_volumes=[{"name": "x"}]), ignore_errors=True)])
    failed = [t for t in res.tasks if t.failed]
    assert failed and "stack_name" in (failed[0].msg or ""), res.log


def test_roles_let_module_defaults_through(engine_env, playbook, tmp_path):
    # module_defaults point the engine modules at a second throw-away root (and runtime_config at
    # another file): the roles must not override them with explicit values (issue 14 item 7)
    (tmp_path / "other").mkdir()
    other = make_engine_env(tmp_path / "other")
    paths = other.paths
    other_options = {"engine": {"static_dir": paths["static_dir"], "tmp_dir": paths["tmp_dir"],
                                "volume_path": paths["volume_path"]},
                     "storage": {"graph_root": paths["graph_root"]}}
    defaults = {"group/libpod.engine.all": {"engine_options": other_options},
                "libpod.engine.runtime_config": {"path": other.conf}}
    try:
        res = playbook([_role(STACK_ROLE, stack_name="mdstack", stack_volumes=[{"name": "md-data"}]),
                        _role(HOST_ROLE, **_host_vars(host_runtime_config={"engine": {"stop_timeout": 9}}))],
                       module_defaults=defaults)
        assert res.ok, res.log
        assert os.path.isdir(os.path.join(paths["volume_path"], "md-data")), res.log
        assert not os.path.exists(os.path.join(engine_env.paths["volume_path"], "md-data"))
        with open(other.conf, encoding="utf-8") as f:
            assert "stop_timeout = 9" in f.read()
        with open(engine_env.conf, encoding="utf-8") as f:
            assert "stop_timeout" not in f.read()
    finally:
        cleanup_engine_env(other)


def test_host_role_gives_rootless_users_subordinate_ids(engine_env, playbook):
    """host_rootless_users: a user without ranges gets the next free block, a re-run changes nothing."""
    import pwd
    import random

    name = "lpe-role-%05d" % random.randrange(100000)
    # a system user: Debian's useradd gives ordinary users a range of their own already
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    try:
        def ranges(path):
            with open(path, encoding="utf-8") as f:
                rows = [ln.strip().split(":") for ln in f if ln.count(":") == 2]
            return rows, [(int(r[1]), int(r[2])) for r in rows if r[0] == name]

        others, mine = ranges("/etc/subuid")
        assert mine == []
        top = max([100000] + [int(r[1]) + int(r[2]) for r in others])
        tasks = [_role(HOST_ROLE, **_host_vars(host_rootless_users=[name]))]
        res = playbook(tasks)
        assert res.ok, res.log
        for path in ("/etc/subuid", "/etc/subgid"):
            assert ranges(path)[1] == [(top, 65536)], (path, ranges(path)[1])
        res = playbook(tasks)
        assert res.ok, res.log
        assert res.changed == 0, [(t.name, t.result) for t in res.tasks if t.changed]
        assert pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], check=False)
        for path in ("/etc/subuid", "/etc/subgid"):  # userdel removes the ranges; make sure
            subprocess.run(["sed", "-i", "/^%s:/d" % name, path], check=False)
