# SPDX-License-Identifier: GPL-3.0-or-later
"""A container's process or its conmon killed outside the engine's control.

The state must read back as what happened (exited, with the code the kernel gave, or -1 when no
monitor was left to see it), the restart policy must be honoured (by conmon's exit command, or
by the next reconcile when the monitor died too), and nothing may be left behind.
"""
from __future__ import annotations

import os
import signal
import time

from .leaks import pid_alive
from .scenario import LOOP, containers, converge, finish, module_steps, run_module


def _task(spec):
    return {"name": "container %s" % spec["name"], "libpod.engine.container": spec}


def _wait(env, name, pred, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        ctr = containers(env).get(name)
        if ctr is not None and pred(ctr["state"]):
            return ctr["state"]
        time.sleep(0.2)
    return containers(env).get(name, {}).get("state")


def _kill(pid):
    os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 10
    while pid_alive(pid) and time.time() < deadline:
        time.sleep(0.05)


def _info(env, name):
    res = run_module(env, "container_info", {"name": [name]})
    assert not res.failed, res
    return res.result["containers"][0]["State"]


def test_process_killed_restart_no(engine_env, image):
    spec = {"name": "plain", "image": image, "command": LOOP, "timeout": 2}
    module_steps(engine_env, [("container", spec)])
    st = containers(engine_env)["plain"]["state"]
    _kill(st["pid"])
    problems = []
    after = _wait(engine_env, "plain", lambda s: s["status"] == "exited")
    if after["status"] != "exited" or after["exit_code"] != 137:
        problems.append("after SIGKILL: %s, exit code %s (exited, 137 expected)" % (after["status"],
                                                                                    after["exit_code"]))
    info = _info(engine_env, "plain")
    if info["Status"] != "exited" or info["ExitCode"] != 137:
        problems.append("container_info says %s/%s" % (info["Status"], info["ExitCode"]))
    res, first, again = converge(engine_env, [_task(spec)])
    problems += again
    if not any("had exited with code 137" in a for t in first for a in t.get("actions") or []):
        problems.append("the reconcile did not say it restarted an exited container: %s"
                        % [t.get("actions") for t in first])
    finish("killed: container process (restart no)", engine_env, problems=problems)


def test_process_killed_restart_always(engine_env, image):
    spec = {"name": "always", "image": image, "command": LOOP, "timeout": 2, "restart_policy": "always",
            "volume": ["keep:/data"]}
    module_steps(engine_env, [("container", spec)])
    before = containers(engine_env)["always"]["state"]
    _kill(before["pid"])
    problems = []
    after = _wait(engine_env, "always", lambda s: s["status"] == "running" and s["pid"] != before["pid"])
    if after["status"] != "running" or after["restart_count"] != 1:
        problems.append("restart policy always: %s, restart count %s" % (after["status"], after["restart_count"]))
    res, first, again = converge(engine_env, [_task(spec)])
    problems += again
    if any(t.changed for t in first):
        problems.append("the exit command restarted it, yet the reconcile changed %s" % first[0].get("actions"))
    finish("killed: container process (restart always)", engine_env, problems=problems)


def test_exits_on_failure_retries(engine_env, image):
    spec = {"name": "flaky", "image": image, "command": ["sh", "-c", "exit 3"], "timeout": 2,
            "restart_policy": "on-failure:2"}
    module_steps(engine_env, [("container", spec)])
    problems = []
    after = _wait(engine_env, "flaky", lambda s: s["status"] == "exited" and s["restart_count"] == 2)
    if after["status"] != "exited" or after["exit_code"] != 3 or after["restart_count"] != 2:
        problems.append("on-failure:2: %s, exit code %s, restart count %s (exited, 3, 2 expected)"
                        % (after["status"], after["exit_code"], after["restart_count"]))
    time.sleep(1.0)  # no third restart
    if containers(engine_env)["flaky"]["state"]["restart_count"] != 2:
        problems.append("restarted more than max_retries")
    res, first, again = converge(engine_env, [_task(dict(spec, state="present"))])
    problems += again
    finish("killed: exits with code 3 (restart on-failure:2)", engine_env, problems=problems)


def test_conmon_killed(engine_env, image):
    spec = {"name": "orphan", "image": image, "command": LOOP, "timeout": 2, "publish": []}
    module_steps(engine_env, [("container", spec)])
    st = containers(engine_env)["orphan"]["state"]
    _kill(st["conmon_pid"])
    problems = []
    info = _info(engine_env, "orphan")
    if info["Status"] != "running" or not pid_alive(st["pid"]):
        problems.append("with conmon gone but its process alive the container must read as running, not %s"
                        % info["Status"])
    stopped = dict(spec, state="stopped")
    res, first, again = converge(engine_env, [_task(stopped)])
    problems += again
    after = containers(engine_env)["orphan"]["state"]
    if after["status"] != "exited" or pid_alive(st["pid"]):
        problems.append("stop without conmon: %s, process alive %s" % (after["status"], pid_alive(st["pid"])))
    finish("killed: conmon only, then stopped", engine_env, problems=problems)


def test_conmon_and_process_killed(engine_env, image):
    spec = {"name": "gone", "image": image, "command": LOOP, "timeout": 2, "restart_policy": "always",
            "volume": ["keep:/data"]}
    module_steps(engine_env, [("container", spec)])
    st = containers(engine_env)["gone"]["state"]
    _kill(st["conmon_pid"])   # the monitor first: nobody writes an exit file or runs the exit command
    _kill(st["pid"])
    problems = []
    info = _info(engine_env, "gone")
    if info["Status"] not in ("stopped", "exited") or info["ExitCode"] != -1:
        problems.append("monitor and process gone: %s, exit code %s (stopped/exited, -1 expected)"
                        % (info["Status"], info["ExitCode"]))
    res, first, again = converge(engine_env, [_task(spec)])
    problems += again
    after = containers(engine_env)["gone"]["state"]
    if after["status"] != "running":
        problems.append("restart_policy always with no monitor left: the next reconcile must start it, it is %s"
                        % after["status"])
    finish("killed: conmon and process (restart always)", engine_env, problems=problems)
