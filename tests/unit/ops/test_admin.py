# SPDX-License-Identifier: GPL-3.0-or-later
"""reset / renumber / migrate / boot unit against a real Runtime in a temporary engine root.

Containers here are DB records only (nothing is started): the integration tests run real ones.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import (
    CtrStateInvalid,
    InvalidArg,
    LockExhausted,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.base.names import new_id
from ansible_collections.libpod.engine.plugins.module_utils.engine.config.loader import ENV_VAR
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.container import initial_state
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops import admin
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import open_runtime
from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import Record
from ansible_collections.libpod.engine.tests.helpers.procs import wait_argv

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (conmon, runtime discovery)")


class Engine:
    def __init__(self, root):
        self.root = str(root)
        self.static = os.path.join(self.root, "static")
        self.tmp = os.path.join(self.root, "run")
        self.conf = os.path.join(self.root, "containers.conf")
        self.write_conf()

    def write_conf(self, extra=""):
        with open(self.conf, "w") as f:
            f.write('[engine]\nstatic_dir = "%s"\ntmp_dir = "%s"\nnum_locks = 16\n%s'
                    % (self.static, self.tmp, extra))

    def open(self, **kw):
        return open_runtime(OpenOptions(env={ENV_VAR: self.conf}, **kw))


@pytest.fixture
def engine(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "containers.conf"))
    return Engine(tmp_path)


def add_container(rt, name, status="configured", runtime="runc", pid=0):
    cid = new_id()
    lock_id = rt.locks.allocate("container", cid)
    st = dict(initial_state(), status=status, conmon_pid=pid, pid=pid)
    rt.state.add("container", Record(id=cid, name=name, namespace="", lock_id=lock_id,
                                     config={"id": cid, "name": name, "oci_runtime": runtime, "image": "x"},
                                     state=st, created=time.time()))
    return cid


# -- paths ----------------------------------------------------------------------------------------
def test_reset_refuses_dangerous_paths(engine):
    rt = engine.open()
    try:
        admin.check_reset_paths(rt, env={})
        with pytest.raises(InvalidArg) as exc:
            admin.check_reset_paths(rt, env={"XDG_RUNTIME_DIR": engine.tmp})
        assert "same as XDG_RUNTIME_DIR" in str(exc.value) and engine.tmp in str(exc.value)
        rt.cfg.values["storage"]["graph_root"] = "/"
        with pytest.raises(InvalidArg) as exc:
            admin.check_reset_paths(rt, env={})
        assert "graph_root" in str(exc.value) and "root directory" in str(exc.value)
        rt.cfg.values["storage"]["graph_root"] = "/var/lib"
        with pytest.raises(InvalidArg) as exc:
            admin.check_reset_paths(rt, env={})
        assert "system directory" in str(exc.value)
    finally:
        rt.shutdown()


@pytest.mark.parametrize("path", ["/bin", "/usr/bin", "/sbin", "/lib", "/usr", "/var", "/usr/lib/..", "/etc/../usr"])
def test_reset_refuses_system_dirs_resolved_and_their_ancestors(engine, path):
    """issue 22.5: on merged-/usr hosts /bin resolves to /usr/bin, which was not in the list."""
    rt = engine.open()
    try:
        rt.cfg.values["engine"]["static_dir"] = path
        with pytest.raises(InvalidArg) as exc:
            admin.check_reset_paths(rt, env={})
        assert "static_dir" in str(exc.value) and "system directory" in str(exc.value)
    finally:
        rt.shutdown()


def test_reset_refuses_a_symlink_to_a_system_dir(engine, tmp_path):
    link = tmp_path / "innocent"
    link.symlink_to("/usr/bin")
    rt = engine.open()
    try:
        rt.cfg.values["engine"]["volume_path"] = str(link)
        with pytest.raises(InvalidArg) as exc:
            admin.check_reset_paths(rt, env={})
        assert "/usr/bin" in str(exc.value)
        assert admin.refused_system_path(str(tmp_path / "engine")) is None
        assert admin.refused_system_path("/var/lib/libpod-engine") is None
    finally:
        rt.shutdown()


def test_reset_and_renumber_together_are_refused(engine):
    with pytest.raises(InvalidArg) as exc:
        engine.open(reset=True, renumber=True)
    assert "reset and lock renumber" in str(exc.value)


# -- reset ----------------------------------------------------------------------------------------
def test_reset_plan_then_reset_removes_everything(engine):
    rt = engine.open()
    rt.volumes.create("data")
    rt.volumes.create("logs")
    add_container(rt, "c1", status="exited")
    rt.shutdown()
    ro = engine.open(reset=True, read_only=True)
    try:
        plan = admin.reset_plan(ro)
    finally:
        ro.shutdown()
    assert plan["containers"] == ["c1"] and plan["volumes"] == ["data", "logs"] and plan["running"] == []
    assert os.path.join(engine.static, "state.db") in plan["paths"]
    assert os.path.join(engine.tmp, "locks") in plan["paths"]
    assert plan["counts"]["volumes"] == 2 and not admin.plan_is_empty(plan)
    # a path given as a task option that differs from the DB record: warn and continue (as the seed)
    rt = engine.open(reset=True, overrides={"engine": {"volume_path": os.path.join(engine.root, "elsewhere")}})
    assert any("database configuration mismatch" in w and "storage reset may not remove all files" in w
               for w in rt.warnings)
    res = rt.admin_result
    assert not rt.valid
    assert res["removed"]["containers"] == ["c1"]
    assert sorted(res["removed"]["volumes"]) == ["data", "logs"]
    assert res["problems"] == [], res["problems"]
    assert not os.path.exists(engine.static) and not os.path.exists(engine.tmp)
    ro = engine.open(reset=True, read_only=True)
    try:
        assert admin.plan_is_empty({k: v for k, v in admin.reset_plan(ro).items() if k != "counts"})
    finally:
        ro.shutdown()
    assert not os.path.exists(engine.static) and not os.path.exists(engine.tmp)  # read-only opens create nothing


# -- renumber -------------------------------------------------------------------------------------
def _locks(rt):
    return {(kind, oid): lock_id for lock_id, kind, oid in rt.locks.allocated()}


def test_renumber_compacts_and_is_idempotent(engine):
    rt = engine.open()
    try:
        rt.volumes.create("v0")
        c1 = add_container(rt, "c1")
        rt.volumes.create("v1")
        c2 = add_container(rt, "c2")
        rt.locks.free(rt.state.get("volume", "v0").lock_id)  # a gap, and a stale row
        rt.locks.retrieve(9, "container", "gone")
        res = admin.renumber(rt, check=True)
        assert res["changed"] and res["stale_locks_freed"] == 1
        assert _locks(rt)[("container", c1)] == 1                    # check mode changed nothing
        res = admin.renumber(rt)
        assert res["objects"] == 4 and res["changed"]
        got = {rec.name: rec.lock_id for kind in ("container", "volume") for rec in rt.state.list(kind)}
        assert got == {"c1": 0, "c2": 1, "v0": 2, "v1": 3}          # containers, pods, volumes
        assert _locks(rt) == {("container", c1): 0, ("container", c2): 1, ("volume", "v0"): 2,
                              ("volume", "v1"): 3}
        assert rt.volumes.get("v1").lock_id == 3
        assert not admin.renumber(rt)["changed"]
        rt.locks.num_locks = 3
        with pytest.raises(LockExhausted) as exc:
            admin.renumber(rt)
        assert "4 containers, pods and volumes need a lock" in str(exc.value) and "at least 4" in exc.value.hint
    finally:
        rt.shutdown()


def test_renumber_refuses_running_containers_unless_forced(engine):
    rt = engine.open()
    try:
        add_container(rt, "web", status="running", pid=os.getpid())  # a live "conmon": this process
        add_container(rt, "old", status="exited")
        with pytest.raises(CtrStateInvalid) as exc:
            admin.renumber(rt, check=True)
        assert "web" in str(exc.value) and "force" in exc.value.hint
        assert admin.renumber(rt, force=True, check=True)["running"] == ["web"]
    finally:
        rt.shutdown()


# -- migrate --------------------------------------------------------------------------------------
def test_migrate_rewrites_the_runtime(engine):
    rt = engine.open()
    try:
        if "crun" not in rt.runtimes or "runc" not in rt.runtimes:
            pytest.skip("needs runc and crun")
        with pytest.raises(InvalidArg) as exc:
            admin.migrate(rt, "nosuch")
        assert 'change to runtime "nosuch" requested but no such runtime is defined' in str(exc.value)
        a = add_container(rt, "a", runtime="runc")
        add_container(rt, "b", runtime="crun")
        plan = admin.migrate(rt, "crun", check=True)
        assert plan["migrated"] == ["a"] and plan["stopped"] == [] and plan["from"] == {"a": "runc"}
        assert rt.state.get("container", a).config["oci_runtime"] == "runc"
        res = admin.migrate(rt, "crun")
        assert res["migrated"] == ["a"] and res["changed"]
        assert rt.state.get("container", a).config["oci_runtime"] == "crun"
        assert not admin.migrate(rt, "crun")["changed"]
    finally:
        rt.shutdown()


# -- boot unit ------------------------------------------------------------------------------------
def test_boot_unit_without_systemd_changes_nothing(engine, tmp_path):
    rt = engine.open()
    try:
        res = admin.ensure_boot_unit(rt, True, unit_dir=str(tmp_path / "units"),
                                     booted=(False, "systemd is not PID 1 on this host (PID 1 is init)"))
        assert not res["changed"] and not res["installed"] and not res["systemd"]
        assert "PID 1 is init" in res["message"] and "boot" in res["message"]
        assert not os.path.exists(str(tmp_path / "units"))
        booted, why = admin.systemd_booted()
        assert booted or "systemd is not PID 1" in why
    finally:
        rt.shutdown()


def test_boot_unit_without_systemd_gives_the_full_boot_command(engine, tmp_path):
    """The user must be able to paste the command into the host's init system: the whole argv."""
    rt = engine.open()
    try:
        for check in (True, False):
            res = admin.ensure_boot_unit(rt, True, check=check, unit_dir=str(tmp_path / "units"),
                                         booted=(False, "systemd is not PID 1 on this host (PID 1 is init)"))
            argv = admin.boot_command(rt, check=check)
            assert argv[-1] == "boot" and argv[2].endswith("run.py")
            assert res["boot_command"] == argv
            assert " ".join(shlex.quote(a) for a in argv) in res["message"]
            assert "--set engine.static_dir=%s" % rt.static_dir in res["message"]
    finally:
        rt.shutdown()


def test_boot_unit_with_systemd(engine, tmp_path):
    units = str(tmp_path / "units")
    os.makedirs(units)
    rt = engine.open()
    try:
        kw = {"unit_dir": units, "booted": (True, ""), "systemctl": "/bin/true", "env": {ENV_VAR: engine.conf}}
        res = admin.ensure_boot_unit(rt, True, check=True, **kw)
        assert res["changed"] and os.listdir(units) == []
        assert not os.path.exists(os.path.join(engine.static, "lib"))   # check mode made no engine copy
        check_text = res["text"]
        res = admin.ensure_boot_unit(rt, True, **kw)
        assert res["changed"] and res["installed"]
        assert res["text"] == check_text                                 # check mode predicted the unit
        name = admin.boot_unit_name(engine.static)
        assert name.startswith("libpod-engine-restart-") and res["path"] == os.path.join(units, name)
        with open(res["path"]) as f:
            text = f.read()
        assert "Type=oneshot" in text and "WantedBy=default.target" in text
        assert "Environment=LIBPOD_ENGINE_CONF=%s" % engine.conf in text
        exec_line = [ln for ln in text.splitlines() if ln.startswith("ExecStart=")][0]
        assert exec_line.endswith(" boot") and "--set engine.static_dir=%s" % engine.static in exec_line
        run_py = exec_line.split()[2]
        assert os.path.isfile(run_py)           # the engine copy the unit runs exists
        assert not admin.ensure_boot_unit(rt, True, **kw)["changed"]
        res = admin.ensure_boot_unit(rt, False, **kw)
        assert res["changed"] and not os.path.exists(res["path"])
        assert not admin.ensure_boot_unit(rt, False, **kw)["changed"]
    finally:
        rt.shutdown()
    assert admin.boot_unit_name("/var/lib/libpod-engine") == "libpod-engine-restart.service"


def test_boot_command_runs(engine):
    """The unit's command is the engine CLI's boot: it refreshes and starts nothing here."""
    rt = engine.open()
    try:
        argv = admin.boot_command(rt)
    finally:
        rt.shutdown()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, **{ENV_VAR: engine.conf}))
    assert proc.returncode == 0, proc.stderr


def test_sd_quote():
    assert admin._sd_quote("/usr/bin/python3") == "/usr/bin/python3"
    assert admin._sd_quote("a b") == '"a b"'
    assert admin._sd_quote('x"$%') == '"x\\"$$%%"'


# -- helpers ----------------------------------------------------------------------------------------
def _found(root: str, pid: int) -> list:
    """engine_processes' row of ``pid`` once /proc shows its argv (Popen returns before)."""
    deadline = time.time() + 5
    found: list = []
    while time.time() < deadline and not found:
        found = [p for p in admin.engine_processes([root]) if p[0] == pid]
        time.sleep(0.01)
    return found


def test_engine_processes_show_the_command_line_as_text(tmp_path):
    """Empty arguments left out, bytes that are not UTF-8 as U+FFFD (the line goes into results)."""
    root = str(tmp_path / "root")
    proc = subprocess.Popen([b"/tmp/lpe-\xff/x", b"-c", b"read x", b"", os.fsencode(root)], executable="/bin/sh",
                            stdin=subprocess.PIPE)
    try:
        assert _found(root, proc.pid) == [(proc.pid, "sh", "/tmp/lpe-\ufffd/x -c read x " + root)]
    finally:
        proc.kill()
        proc.communicate()


def test_engine_processes_match_whole_path_components(tmp_path):
    root = str(tmp_path / "root")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "--set",
                             "engine.static_dir=%s" % root])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", root + "2/x"])
    try:
        assert _found(root, proc.pid)
        wait_argv(other.pid, lambda a: a[-1:] == [root + "2/x"])  # else not found only for lack of an argv
        assert not [p for p in admin.engine_processes([root]) if p[0] == other.pid]
        killed, others = admin._wait_processes([root], str(tmp_path / "static"), 0.2)
        assert killed == [] and any(str(proc.pid) in o for o in others)   # not a helper of ours: left alone
    finally:
        proc.kill()
        other.kill()
        proc.wait()
        other.wait()
    assert json.dumps(admin.PROTECTED)
