# SPDX-License-Identifier: GPL-3.0-or-later
"""Regression tests for the defects the fault suite found, at the smallest scale that shows each
(an in-process runtime, nothing started, vfs storage). The end-to-end scenarios that found them are
named in each docstring; they stay the acceptance tests.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base import faults
from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import EngineError, InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import pid_alive
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.container import find_container
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import open_runtime
from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions
from ansible_collections.libpod.engine.plugins.module_utils.reconcile import container as rec_ctr
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS
from ansible_collections.libpod.engine.tests.helpers.roots import throwaway_root
from ansible_collections.libpod.engine.tests.integration.helpers import COLLECTIONS

from .scenario import LOOP


@pytest.fixture
def rt(tmp_path):
    overrides, env = throwaway_root(tmp_path)
    runtime = open_runtime(OpenOptions(overrides=overrides, env=env))
    yield runtime
    runtime.shutdown()


def _params(image, **kw):
    p = {k: None for k in OPTIONS.by_name}
    p.update(name="c", image=image, command=LOOP, state="created", volume=["named:/data", "/anon"])
    p.update(kw)
    return p


# -- faults.py --------------------------------------------------------------------------------------
def test_fault_point_fires_only_when_named():
    code = ("from ansible_collections.libpod.engine.plugins.module_utils.engine.base import faults\n"
            "faults.point('a.b'); print('alive', flush=True); faults.point('c.d'); print('unreachable')\n")
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    for wanted, out, rc in (("", "alive\nunreachable\n", 0), ("x.y,c.d", "alive\n", -signal.SIGKILL),
                            ("a.b", "", -signal.SIGKILL), ("a.bc", "alive\nunreachable\n", 0)):
        proc = subprocess.run([sys.executable, "-c", code], env=dict(env, LIBPOD_ENGINE_FAULT=wanted),
                              capture_output=True, text=True, timeout=60, check=False)
        assert (proc.stdout, proc.returncode) == (out, rc), (wanted, proc.stderr)


def test_journal_nests_and_names_its_owner(rt):
    faults.begin(rt.state, "container", "x" * 64, "remove", volumes=["v"])
    faults.begin(rt.state, "container", "x" * 64, "stop")          # nested: the outer entry stays
    faults.end(rt.state, "container", "x" * 64)
    (key, _raw, entry), = faults.pending(rt.state)
    assert entry["op"] == "remove" and entry["volumes"] == ["v"] and faults.owner_alive(entry)
    faults.end(rt.state, "container", "x" * 64)
    assert not faults.any_pending(rt.state)
    dead = subprocess.Popen(["true"])
    dead.wait()
    assert not faults.owner_alive({"pid": dead.pid, "start": 1, "boot": faults.boot_id()})
    assert not faults.owner_alive({"pid": os.getpid(), "start": faults.proc_start(os.getpid()), "boot": "other"})


# -- oci.pid_alive: a zombie is not alive (test_killed: conmon and process killed read as running) ---------
def test_zombie_is_not_alive():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        deadline = time.time() + 5
        while time.time() < deadline:
            with open("/proc/%d/stat" % pid, "rb") as f:
                if f.read().rsplit(b")", 1)[-1].split()[0] == b"Z":
                    break
            time.sleep(0.01)
        assert not pid_alive(pid)
    finally:
        os.waitpid(pid, 0)
    assert pid_alive(os.getpid())


# -- options: values of the wrong shape are invalid arguments (test_hostile fuzzing) ------------------------
@pytest.mark.parametrize("opt,value", [("network", True), ("add_host", True), ("env_file", "/tmp/a\x00b"),
                                       ("log_opt", {"max_size": [1]}), ("dns", False), ("publish", True),
                                       ("volume", True), ("mount", True)])
def test_wrong_shapes_are_invalid_arguments(opt, value):
    with pytest.raises(InvalidArg, match=opt):
        OPTIONS.declared({opt: value})


# -- reconcile races (test_concurrency: five playbooks at once) -------------------------------------------
@pytest.fixture
def image(rt, busybox_archive):
    return rt.images.pull("oci-archive:" + busybox_archive)


def test_volume_created_meanwhile_is_no_error(rt, image, monkeypatch):
    rt.volumes.create("named")
    real = rt.state.find
    monkeypatch.setattr(rt.state, "find", lambda kind, ref: None if kind == "volume" else real(kind, ref))
    res = rec_ctr.Result(kind="container")
    assert rec_ctr._ensure_volumes(rt, [{"type": "volume", "source": "named"}], False, res) == []
    assert res.actions == []


def test_container_created_meanwhile_is_reconciled_not_failed(rt, image, monkeypatch):
    ref = image.id
    first = rec_ctr.reconcile_container(rt, _params(ref))
    assert first.actions[-1] == "created c"
    anon = [v.name for v in rt.volumes.list(anonymous=True)]
    calls = []

    def late_find(rt_, name):  # the other task's container is not there yet when we look
        calls.append(name)
        return None if len(calls) == 1 else find_container(rt_, name)

    monkeypatch.setattr(rec_ctr, "find_container", late_find)
    again = rec_ctr.reconcile_container(rt, _params(ref))
    assert not again.changed and again.actions == []
    assert [v.name for v in rt.volumes.list(anonymous=True)] == anon   # ours were dropped again


def test_start_by_another_task_is_not_reported(rt, image, monkeypatch):
    rec_ctr.reconcile_container(rt, _params(image.id))
    monkeypatch.setattr(rec_ctr.Container, "start", lambda self: False)  # it was running when we got the lock
    res = rec_ctr.reconcile_container(rt, _params(image.id, state="started"))
    assert res.actions == [] and not res.changed


# -- remove: record and lock number go in one transaction (a crash between them leaked the lock row) -----
def test_remove_frees_record_and_lock_together(rt, image, monkeypatch):
    rec_ctr.reconcile_container(rt, _params(image.id, volume=[]))
    ctr = find_container(rt, "c")

    def crash(lock_id):
        raise EngineError("simulated crash between the record delete and the lock release")

    monkeypatch.setattr(rt.locks, "free", crash)
    with pytest.raises(EngineError):
        ctr.remove(force=True)
    assert rt.state.find("container", "c") is not None
    assert rt.state.query("SELECT owner_id FROM locks")[0][0] == ctr.id
    monkeypatch.undo()
    from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.repair import repair

    faults._HELD.clear()  # this process "died": its intent is an orphan for the repair
    with rt.state.tx():
        rt.state.conn.execute("UPDATE meta SET value=json_set(value, '$.pid', 999999999) WHERE key LIKE 'dirty/%'")
    done = repair(rt)
    assert any("finished its removal" in a for a in done), done
    assert rt.state.find("container", "c") is None and rt.state.query("SELECT COUNT(*) FROM locks")[0][0] == 0


def test_repair_is_not_run_for_a_live_owner(rt):
    faults.begin(rt.state, "volume", "busy", "remove")
    from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.repair import repair

    assert repair(rt) == [] and faults.any_pending(rt.state)
    faults.end(rt.state, "volume", "busy")
