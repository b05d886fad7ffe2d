# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared steps of the fault scenarios: crash a run, converge, measure, record."""
from __future__ import annotations

import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
from typing import Callable, Dict, List, Optional

from ansible_collections.libpod.engine.tests.integration.helpers import COLLECTIONS, run_playbook

from .leaks import db_path, find_leaks
from .report import REPORT

LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
FAULT_ENV = "LIBPOD_ENGINE_FAULT"


def free_port() -> int:
    """A TCP port nobody listens on (127.0.0.1), from a range other tests rarely use."""
    for _i in range(200):
        port = random.randrange(20000, 45000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def container_task(name: str, image: str, **params) -> dict:
    spec = {"name": name, "image": image, "command": LOOP, "timeout": 2}
    spec.update(params)
    return {"name": "container %s" % name, "libpod.engine.container": spec}


def witness_task(env, volume: str, content: str) -> dict:
    """An Ansible copy into a volume's data dir (a piece of data that must survive)."""
    return {"name": "witness in %s" % volume,
            "ansible.builtin.copy": {"dest": os.path.join(env.paths["volume_path"], volume, "_data", "witness"),
                                     "content": content, "mode": "0644"}}


class ModuleRun:
    """One direct module process (no ansible-playbook around it): rc and parsed result."""

    def __init__(self, module: str, rc: int, result: dict, stderr: str):
        self.module, self.rc, self.result, self.stderr = module, rc, result, stderr

    @property
    def killed(self) -> bool:
        return self.rc in (-9, 137)

    @property
    def failed(self) -> bool:
        return self.rc != 0 or bool(self.result.get("failed"))

    def __repr__(self) -> str:
        result = json.dumps(self.result)[:1500]
        return "ModuleRun(%s rc=%s result=%s stderr=%s)" % (self.module, self.rc, result, self.stderr[-1500:])


def run_module(env, module: str, args: dict, *, fault: Optional[str] = None, timeout: int = 300) -> ModuleRun:
    """Run plugins/modules/<module>.py as its own process, as AnsiballZ would run it on the host.

    Faster than a playbook (no controller) for setup steps and for the run a fault kills; the
    process is the real module, so SIGKILL at a fault point is exactly what a killed task is.
    """
    run_env = dict(env, PYTHONPATH=COLLECTIONS)
    if fault:
        run_env[FAULT_ENV] = fault
    workdir = os.path.join(env.root, "modules")
    os.makedirs(workdir, exist_ok=True)
    args_file = os.path.join(workdir, "args-%d.json" % len(os.listdir(workdir)))
    with open(args_file, "w", encoding="utf-8") as f:
        json.dump({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_tmpdir=workdir)}, f)
    proc = subprocess.run([sys.executable, "-m", "ansible_collections.libpod.engine.plugins.modules.%s" % module,
                           args_file], env=run_env, cwd=env.root, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout, check=False)
    try:
        result = json.loads(proc.stdout[proc.stdout.index("{"):]) if "{" in proc.stdout else {}
    except ValueError:
        result = {"unparsed": proc.stdout[-2000:]}
    return ModuleRun(module, proc.returncode, result, proc.stderr)


def module_steps(env, steps) -> List[ModuleRun]:
    """Run (module, args) steps in order; each must succeed."""
    out = []
    for module, args in steps:
        res = run_module(env, module, args)
        assert not res.failed, res
        out.append(res)
    return out


def write_witness(env, volume: str, content: str) -> None:
    with open(os.path.join(env.paths["volume_path"], volume, "_data", "witness"), "w", encoding="utf-8") as f:
        f.write(content)


def run_with_fault(env, tasks, fault: str):
    """Run tasks with LIBPOD_ENGINE_FAULT=fault in the modules' environment."""
    env[FAULT_ENV] = fault
    try:
        return run_playbook(env, tasks)
    finally:
        env.pop(FAULT_ENV, None)


def was_killed(res) -> bool:
    """Did a module of this run die by SIGKILL (the fault point fired)?"""
    return any(t.failed and t.get("rc") in (137, -9) for t in res.tasks)


def converge(env, tasks: List[dict]):
    """The declared tasks twice in one run: the first pass converges, the second must change nothing."""
    again = [dict(t, name="again: %s" % t.get("name", i)) for i, t in enumerate(tasks)]
    res = run_playbook(env, list(tasks) + again)
    first, second = res.tasks[:len(tasks)], res.tasks[len(tasks):]
    problems = []
    if not res.ok:
        problems.append("converge run failed: %s" % "; ".join(
            "%s: %s" % (t.name, t.msg) for t in res.tasks if t.failed) or res.log[-1500:])
    changed_again = [t.name for t in second if t.changed]
    if changed_again:
        problems.append("not idempotent after the fault: %s changed again (%s)" % (
            ", ".join(changed_again), [t.get("actions") for t in second if t.changed]))
    return res, first, problems


def lost_data(env, expected: Dict[str, str]) -> List[str]:
    """Files {volume: content} written before the fault that are gone or changed."""
    lost = []
    for vol, content in expected.items():
        path = os.path.join(env.paths["volume_path"], vol, "_data", "witness")
        try:
            with open(path, encoding="utf-8") as f:
                if f.read() != content:
                    lost.append("%s changed" % path)
        except OSError:
            lost.append("%s missing" % path)
    return lost


def query(env, sql: str, args=()) -> list:
    if not os.path.exists(db_path(env)):
        return []
    db = sqlite3.connect(db_path(env), timeout=60)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def containers(env) -> Dict[str, dict]:
    """name -> {id, state, config} from the DB."""
    return {n: {"id": i, "state": json.loads(s), "config": json.loads(c)}
            for i, n, s, c in query(env, "SELECT id, name, state, config FROM containers")}


def finish(scenario: str, env, *, problems: List[str], data: Optional[Dict[str, str]] = None,
           check: Optional[Callable[[], List[str]]] = None) -> None:
    """Measure leaks and lost data, record the scenario in the table, fail the test on any problem."""
    problems = list(problems)
    if check is not None and not problems:
        problems += check()
    leaks = find_leaks(env)
    lost = lost_data(env, data or {})
    REPORT.record(scenario, converged=not problems, leaked=len(leaks), lost=len(lost),
                  note="; ".join(problems + leaks + lost))
    assert not problems and not leaks and not lost, {"problems": problems, "leaks": leaks, "lost": lost}
