# SPDX-License-Identifier: GPL-3.0-or-later
"""The harness itself: real ansible-playbook runs, parsed results, engine root lifecycle."""
from __future__ import annotations

import os
import sys

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import roots
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import OpenOptions, open_runtime

from .helpers import cleanup_engine_env, make_engine_env, run_playbook


def test_ping_result_is_parsed(engine_env):
    res = run_playbook(engine_env, "- ansible.builtin.ping:\n")
    assert res.rc == 0, res.log
    assert len(res.tasks) == 1, res.log
    task = res.tasks[0]
    assert task.action == "ansible.builtin.ping"
    assert task.host == "localhost"
    assert task.status == "ok"
    assert not task.changed and not task.failed
    assert task["ping"] == "pong"
    assert res.stats["localhost"]["ok"] == 1
    assert res.stats["localhost"]["failures"] == 0
    assert res.changed == 0


def test_modules_run_with_engine_env(engine_env):
    """Modules see LIBPOD_ENGINE_CONF and run on the test interpreter; extra vars arrive."""
    res = run_playbook(
        engine_env,
        [
            {
                "name": "read env",
                "ansible.builtin.command": {"argv": ["sh", "-c", 'echo "$LIBPOD_ENGINE_CONF"']},
                "changed_when": False,
            },
            {"name": "show var", "ansible.builtin.debug": {"msg": "{{ greeting }}"}},
            {"name": "interpreter", "ansible.builtin.setup": {"gather_subset": ["!all"]}},
        ],
        extra_vars={"greeting": "hello"},
    )
    assert res.rc == 0, res.log
    assert res.task("read env")["stdout"] == engine_env.conf
    assert res.task("show var").msg == "hello"
    assert res.task("interpreter")["ansible_facts"]["ansible_python"]["executable"] == sys.executable
    with open(engine_env.conf, encoding="utf-8") as f:
        conf = f.read()
    for key in ("static_dir", "tmp_dir", "volume_path", "graph_root"):
        assert '%s = "%s"' % (key, engine_env.paths[key]) in conf


def test_engine_uses_the_test_root(engine_env):
    """The containers.conf written by the harness is the one the engine reads."""
    res = run_playbook(engine_env, "- libpod.engine.runtime_info:\n")
    assert res.rc == 0, res.log
    info = res.tasks[0]["info"]
    assert info["config_files"] == [engine_env.conf]
    for key in ("static_dir", "tmp_dir", "graph_root", "volume_path"):
        assert info["store"][key] == engine_env.paths[key]


def test_failure_is_reported(engine_env):
    res = run_playbook(
        engine_env,
        """
- name: tolerated
  ansible.builtin.fail:
    msg: first
  ignore_errors: true
- name: boom
  ansible.builtin.fail:
    msg: second
- name: never reached
  ansible.builtin.ping:
""",
    )
    assert res.rc == 2, res.log
    assert [t.name for t in res.tasks] == ["tolerated", "boom"]
    assert res.task("tolerated").status == "ignored"
    assert res.task("boom").failed and res.task("boom").msg == "second"
    assert res.stats["localhost"]["failures"] == 1


def test_check_and_diff(engine_env, tmp_path):
    target = tmp_path / "file.txt"
    tasks = [{"name": "write", "ansible.builtin.copy": {"dest": str(target), "content": "hi\n"}}]
    res = run_playbook(engine_env, tasks, check=True, diff=True)
    assert res.rc == 0, res.log
    assert res.task("write").changed
    assert not target.exists()
    assert res.task("write")["diff"], res.log
    res = run_playbook(engine_env, tasks)
    assert res.rc == 0 and res.task("write").changed, res.log
    res = run_playbook(engine_env, tasks)
    assert res.rc == 0 and not res.task("write").changed, res.log


def test_cleanup_removes_engine_root(tmp_path):
    env = make_engine_env(tmp_path)
    for key in ("graph_root", "volume_path", "tmp_dir"):
        os.makedirs(os.path.join(env.paths[key], "x"))
    assert cleanup_engine_env(env) == []
    assert not os.path.exists(env.paths["static_dir"])
    assert not os.path.exists(env.paths["tmp_dir"])
    assert os.path.exists(env.conf)


def test_cleanup_unregisters_the_engine_root(tmp_path):
    """A removed root leaves no entry in the host's roots registry (system_reset's forget_root)."""
    env = make_engine_env(tmp_path)
    rt = open_runtime(OpenOptions(env={"LIBPOD_ENGINE_CONF": env.conf}))
    try:
        entry = roots._entry_path(os.path.join(roots.REGISTRY_DIR, "roots"), rt.root_id)
    finally:
        rt.shutdown()
    assert (roots.read_json(entry) or {}).get("static_dir") == rt.root_id.static_dir  # registered
    assert cleanup_engine_env(env) == []
    assert not os.path.exists(entry)
