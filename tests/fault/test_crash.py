# SPDX-License-Identifier: GPL-3.0-or-later
"""kill -9 of the module process at every named fault point (engine/faults.py), then the same
declared state again: the host must converge with nothing leaked and no volume data lost.

Each scenario: a setup run (a volume holding a witness file, the objects the fault needs), a run
with LIBPOD_ENGINE_FAULT=<point> that must die by SIGKILL, then the declared tasks twice (the
second pass must change nothing), the leak check (tests/fault/leaks.py) and the witness.
"""
from __future__ import annotations

import os

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.faults import POINTS

from .scenario import LOOP, containers, converge, finish, free_port, module_steps, query, run_module, write_witness

CREATE = ["container.create.after_db_insert", "container.create.after_storage", "container.create.after_commit"]
START = ["container.start.after_rootfs", "container.start.after_volumes", "container.start.after_network",
         "container.start.after_conmon_create", "container.start.after_runtime_start"]
STOP = ["container.stop.after_kill"]
REMOVE = ["container.remove.after_stop", "container.remove.after_storage", "container.remove.after_db_delete"]
VOLUME = ["volume.remove.after_unmount", "volume.remove.after_record_delete"]
POD = ["pod.recreate.after_remove", "pod.recreate.after_create"]
IMPORT = ["image.import.after_unpack"]
#: LPE_FAULT_REPEAT=N runs every crash scenario N times (each a fresh engine root)
REPEAT = max(1, int(os.environ.get("LPE_FAULT_REPEAT", "1")))


def _points(points):
    return [pytest.param(p, id="%s-%d" % (p, i) if REPEAT > 1 else p) for p in points for i in range(REPEAT)]


def test_every_point_is_exercised():
    assert sorted(CREATE + START + STOP + REMOVE + VOLUME + POD + IMPORT) == sorted(POINTS)


def _victim(image, port, state="started"):
    return {"name": "victim", "image": image, "command": LOOP, "timeout": 2, "state": state,
            "volume": ["keep:/data", "/scratch"], "publish": ["127.0.0.1:%d:80" % port]}


def _task(module, args):
    return {"name": "%s %s" % (module, args["name"]), "libpod.engine.%s" % module: args}


def _crash(env, module, args, point):
    res = run_module(env, module, args, fault=point)
    assert res.killed, "fault point %s did not fire: %r" % (point, res)


def _running(env, name):
    ctr = containers(env).get(name)
    if ctr is None:
        return ["container %s does not exist" % name]
    if ctr["state"]["status"] != "running":
        return ["container %s is %s, not running" % (name, ctr["state"]["status"])]
    return []


def _setup(env, steps):
    module_steps(env, [("volume", {"name": "keep"})])
    write_witness(env, "keep", "kept")
    module_steps(env, steps)


@pytest.mark.parametrize("point", _points(CREATE + START))
def test_crash_create_start(point, engine_env, image):
    port = free_port()
    _setup(engine_env, [("container", _victim(image, port, "created"))] if point in START else [])
    _crash(engine_env, "container", _victim(image, port), point)
    res, first, problems = converge(engine_env, [_task("container", _victim(image, port))])
    finish("crash %s" % point, engine_env, problems=problems, data={"keep": "kept"},
           check=lambda: _running(engine_env, "victim"))


@pytest.mark.parametrize("point", _points(IMPORT))
def test_crash_import(point, engine_env, image):
    """The image import of a create killed half-way: its partial layer must not stay (issue 22)."""
    port = free_port()
    _setup(engine_env, [])
    _crash(engine_env, "container", _victim(image, port), point)
    res, first, problems = converge(engine_env, [_task("container", _victim(image, port))])
    finish("crash %s" % point, engine_env, problems=problems, data={"keep": "kept"},
           check=lambda: _running(engine_env, "victim"))


@pytest.mark.parametrize("point", _points(STOP))
def test_crash_stop(point, engine_env, image):
    port = free_port()
    _setup(engine_env, [("container", _victim(image, port))])
    _crash(engine_env, "container", _victim(image, port, "stopped"), point)
    res, first, problems = converge(engine_env, [_task("container", _victim(image, port, "stopped"))])

    def check():
        st = containers(engine_env)["victim"]["state"]
        return [] if st["status"] == "exited" else ["victim is %s, not exited" % st["status"]]

    finish("crash %s" % point, engine_env, problems=problems, data={"keep": "kept"}, check=check)


@pytest.mark.parametrize("point", _points(REMOVE))
def test_crash_remove(point, engine_env, image):
    port = free_port()
    _setup(engine_env, [("container", _victim(image, port))])
    absent = {"name": "victim", "state": "absent", "timeout": 2}
    _crash(engine_env, "container", absent, point)
    res, first, problems = converge(engine_env, [_task("container", absent)])

    def check():
        out = ["victim still exists"] if "victim" in containers(engine_env) else []
        out += ["anonymous volume %s left" % n[:12] for (n,) in query(
            engine_env, "SELECT name FROM volumes WHERE json_extract(config, '$.anonymous')")]
        return out

    finish("crash %s" % point, engine_env, problems=problems, data={"keep": "kept"}, check=check)


@pytest.mark.parametrize("point", _points(VOLUME))
def test_crash_volume_remove(point, engine_env):
    _setup(engine_env, [("volume", {"name": "gone"})])
    write_witness(engine_env, "gone", "x")
    absent = {"name": "gone", "state": "absent"}
    _crash(engine_env, "volume", absent, point)
    res, first, problems = converge(engine_env, [_task("volume", absent)])

    def check():
        out = ["volume gone still has a record"] if query(engine_env, "SELECT 1 FROM volumes WHERE name='gone'") else []
        if os.path.lexists(os.path.join(engine_env.paths["volume_path"], "gone")):
            out.append("volume gone still has its directory")
        return out

    finish("crash %s" % point, engine_env, problems=problems, data={"keep": "kept"}, check=check)


@pytest.mark.parametrize("point", _points(POD))
def test_crash_pod_recreate(point, engine_env, image):
    def pod(hostname):
        return {"name": "pp", "state": "started", "hostname": hostname}

    member = {"name": "member", "image": image, "command": LOOP, "timeout": 2, "pod": "pp", "volume": ["keep:/data"]}
    _setup(engine_env, [("pod", pod("old-host")), ("container", member)])
    _crash(engine_env, "pod", pod("new-host"), point)
    res, first, problems = converge(engine_env, [_task("pod", pod("new-host")), _task("container", member)])

    def check():
        pods = dict(query(engine_env, "SELECT name, config FROM pods"))
        if "pp" not in pods:
            return ["pod pp does not exist"]
        out = _running(engine_env, "member")
        pod_id = query(engine_env, "SELECT id FROM pods WHERE name='pp'")[0][0]
        if containers(engine_env).get("member", {}).get("config", {}).get("pod") != pod_id:
            out.append("member is not in the new pod")
        if '"new-host"' not in pods["pp"]:
            out.append("pod pp does not have the new hostname")
        return out

    finish("crash %s" % point, engine_env, problems=problems, data={"keep": "kept"}, check=check)
