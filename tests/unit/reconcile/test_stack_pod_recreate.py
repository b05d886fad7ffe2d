# SPDX-License-Identifier: GPL-3.0-or-later
"""A stack run that recreates a pod: the members the stack declares (``_stack_redeclared``) are removed
with the old pod and created once, by their own entries, with their new spec; a member made outside the
stack is recreated into the new pod with its settings, as a pod task does. A container step that fails
puts the member back (started again if it was running). A real engine root (vfs); the tests of a running
member really start it (root, this VM)."""
from __future__ import annotations

import json
import os

import pytest
from helpers.images import busybox_image, write_oci_archive
from helpers.roots import throwaway_root
from helpers.teardown import teardown_all

from ansible_collections.libpod.engine.plugins.module_utils.engine.base import faults
from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import EngineError
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import pid_alive
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects import pod as podmod
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.container import Container, find_container
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.pod import find_pod
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.repair import repair
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import open_runtime
from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions
from ansible_collections.libpod.engine.plugins.module_utils.reconcile import pod as rp
from ansible_collections.libpod.engine.plugins.module_utils.reconcile import stack as rs
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container import reconcile_container
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS
from ansible_collections.libpod.engine.plugins.modules.stack import entry_validator

IMAGE = "localhost/busybox:latest"


class _Module:
    def __init__(self):
        self.no_log_values = set()


@pytest.fixture
def rt(tmp_path, monkeypatch):
    monkeypatch.setattr(faults, "_HELD", {})  # the intents this process holds: this root's only
    overrides, env = throwaway_root(tmp_path)
    runtime = open_runtime(OpenOptions(overrides=overrides, env=env))
    img = busybox_image(str(tmp_path / "bb"), config={"Cmd": ["sh"]})
    runtime.images.pull("oci-archive:" + write_oci_archive(str(tmp_path / "bb.tar"), [(img, IMAGE)]))
    try:
        yield runtime
    finally:
        runtime.shutdown()


def _member(name, **kw):
    return dict({"name": name, "image": IMAGE, "pod": "rp", "command": ["sleep", "1000"], "state": "created"}, **kw)


def _stack(rt, containers, check_mode=False, reconcilers=None, **pod):
    params = {"label": "rp", "state": "present", "prune": False, "networks": [], "volumes": [],
              "pods": [dict({"name": "rp", "infra": False, "state": "created"}, **pod)],
              "containers": json.loads(json.dumps(containers))}
    res = rs.reconcile_stack(rt, params, check_mode, validate=entry_validator(_Module()), reconcilers=reconcilers)
    return res.as_module_result(diff=False)


def _creates(rt, name):
    return [e for e in rt.events.find(type_="container", status="create") if e.get("Name") == name]


def _env(rt, name):
    return rt.state.find("container", name).config["declared"]["env"]


def test_a_redeclared_member_is_created_once_with_its_new_spec(rt):
    first = _stack(rt, [_member("rm", env={"V": "old"})])
    assert first["changed"] and len(_creates(rt, "rm")) == 1
    old_id = rt.state.find("container", "rm").id

    res = _stack(rt, [_member("rm", env={"V": "new"})], recreate=True)
    creates = _creates(rt, "rm")
    assert len(creates) == 2, creates  # the first run's, then this run's one (not one with the old env first)
    assert [a for a in res["actions"] if "rm" in a] == [
        "recreated pod rp: recreate requested (containers rm removed with it, for their stack entries)",
        "recreated rm: env changed; pod rp was recreated"], res["actions"]
    new = rt.state.find("container", "rm")
    assert new.id != old_id and new.id == creates[-1]["ID"] and _env(rt, "rm") == {"V": "new"}
    assert new.config["pod"] == rt.state.find("pod", "rp").id

    same = _stack(rt, [_member("rm", env={"V": "new"})])
    assert not same["changed"], same["actions"]


def test_a_member_made_outside_the_stack_is_recreated_into_the_new_pod(rt):
    _stack(rt, [_member("in", env={"V": "1"})])
    outside = {o.name: None for o in OPTIONS.options}  # a container task: no stack label
    outside.update(_member("out", env={"V": "mine"}), pull="missing", recreate=False, force_restart=False,
                   insecure_registry=False)
    assert reconcile_container(rt, outside).changed
    res = _stack(rt, [_member("in", env={"V": "2"})], recreate=True)
    assert [a for a in res["actions"] if a.startswith("recreated pod")] == [
        "recreated pod rp: recreate requested (containers out recreated into it; containers in removed with it, "
        "for their stack entries)"], res["actions"]
    assert len(_creates(rt, "out")) == 2 and _env(rt, "out") == {"V": "mine"}
    assert len(_creates(rt, "in")) == 2 and _env(rt, "in") == {"V": "2"}


def test_a_member_whose_entry_fails_after_the_pod_recreate_is_put_back(rt):
    _stack(rt, [_member("fm", env={"V": "old"}, volume=["/data"])])
    vols = _anonymous(rt, "fm")
    with pytest.raises(EngineError) as err:
        _stack(rt, [_member("fm", env={"V": "new"}, volume=["/data"], image="localhost/missing:latest", pull="never")],
               recreate=True)
    note = "container fm was put back into pod rp with its old settings (not started: it was not running)"
    assert note in err.value.msg, err.value.msg
    back = rt.state.find("container", "fm")
    assert back is not None and back.config["pod"] == rt.state.find("pod", "rp").id and _env(rt, "fm") == {"V": "old"}
    assert _anonymous(rt, "fm") == vols  # its data kept
    assert faults.pending(rt.state) == []


class _Killed(BaseException):
    """The module process dying between the pod step and the container step (no handler runs)."""


def test_a_run_killed_before_the_member_is_made_again_has_it_made_by_the_repair(rt, monkeypatch):
    _stack(rt, [_member("km", env={"V": "old"})])
    assert faults.pending(rt.state) == []

    def killed(*_args, **_kw):
        raise _Killed()
    with pytest.raises(_Killed):
        _stack(rt, [_member("km", env={"V": "new"})], reconcilers={"container": killed}, recreate=True)
    assert rt.state.find("container", "km") is None and len(faults.pending(rt.state)) == 1
    monkeypatch.setattr(faults, "owner_alive", lambda _entry: False)  # its owner is gone: the next open repairs
    assert any("recreated member km" in a for a in repair(rt))
    back = rt.state.find("container", "km")
    assert back.config["pod"] == rt.state.find("pod", "rp").id and _env(rt, "km") == {"V": "old"}
    assert faults.pending(rt.state) == []


def _anonymous(rt, name):
    return [m["source"] for m in rt.state.find("container", name).config["mounts"] if m.get("anonymous")]


def test_a_successful_run_leaves_no_intent_and_no_volume_behind(rt):
    """The old member's anonymous volume, kept by the pod's recreate for a put back, goes with it (as with
    a container's own recreate): not left unused."""
    _stack(rt, [_member("ok", env={"V": "old"}, volume=["/data"])])
    old_vols = _anonymous(rt, "ok")
    assert len(old_vols) == 1 and rt.state.count("volume") == 1
    res = _stack(rt, [_member("ok", env={"V": "new"}, volume=["/data"])], recreate=True)
    assert faults.pending(rt.state) == [] and _env(rt, "ok") == {"V": "new"} and not res.get("warnings")
    new_vols = _anonymous(rt, "ok")
    assert len(new_vols) == 1 and new_vols != old_vols and rt.state.count("volume") == 1


def test_check_mode_predicts_the_member_recreated_once(rt):
    _stack(rt, [_member("cm", env={"V": "old"}), _member("same")])
    planned = _stack(rt, [_member("cm", env={"V": "new"}), _member("same")], check_mode=True, recreate=True)
    assert planned["actions"] == [
        "recreate pod rp: recreate requested (containers cm, same removed with it, for their stack entries)",
        "recreate cm: env changed; pod rp was recreated", "recreate same: pod rp was recreated"], planned["actions"]
    done = _stack(rt, [_member("cm", env={"V": "new"}), _member("same")], recreate=True)
    assert done["actions"] == [a.replace("recreate ", "recreated ", 1) for a in planned["actions"]], done["actions"]


def test_a_pod_step_that_fails_after_its_recreate_has_the_member_put_back(rt, monkeypatch):
    _stack(rt, [_member("pm", env={"V": "old"})])

    def failing(*_args, **_kw):
        raise EngineError("cannot start the pod")
    monkeypatch.setattr(rp, "_run_state", failing)
    with pytest.raises(EngineError) as err:
        _stack(rt, [_member("pm", env={"V": "new"})], recreate=True)
    note = "container pm was put back into pod rp with its old settings (not started: it was not running)"
    assert note in err.value.msg, err.value.msg
    assert _env(rt, "pm") == {"V": "old"} and faults.pending(rt.state) == []


# -- a member that was running before the failed run runs again (containers really start: root, this VM) --
needs_runtime = pytest.mark.skipif(os.geteuid() != 0 or not os.path.isfile("/usr/bin/catatonit"),
                                   reason="needs root (containers really run) and catatonit (the pod's infra)")


@pytest.fixture
def running(rt):
    """The rt fixture, every container stopped and removed at the end (none of this test left running)."""
    try:
        yield rt
    finally:
        teardown_all(rt)


def _failing_update(rt, name):
    """A stack run that recreates the pod (infra, no network) and whose container step for ``name``
    fails (its new image is missing)."""
    with pytest.raises(EngineError) as err:
        _stack(rt, [_member(name, env={"V": "new"}, state="started", image="localhost/missing:latest", pull="never")],
               recreate=True, infra=True, network="none", timeout=0)
    return err.value.msg


def _running(rt, name):
    """(State.Running, the process alive) of a container, after its state is folded in."""
    ctr = find_container(rt, name)
    with ctr.locked():
        ctr.sync()
    state = ctr.inspect()["State"]
    return state["Running"], bool(state["Pid"]) and pid_alive(state["Pid"])


@needs_runtime
def test_a_put_back_member_that_was_running_runs_again(running):
    rt = running
    _stack(rt, [_member("run", env={"V": "old"}, state="started")], infra=True, network="none")
    assert _running(rt, "run") == (True, True)
    msg = _failing_update(rt, "run")
    assert "container run was put back into pod rp with its old settings and started again" in msg, msg
    assert "not started" not in msg, msg
    assert _running(rt, "run") == (True, True) and _env(rt, "run") == {"V": "old"}
    pod = find_pod(rt, "rp")
    assert find_container(rt, "run").config["pod"] == pod.id and pod.infra().status == "running"
    assert faults.pending(rt.state) == []


@needs_runtime
def test_a_put_back_member_that_cannot_start_is_kept_and_the_note_says_why(running, monkeypatch):
    rt = running
    _stack(rt, [_member("nos", env={"V": "old"}, state="started")], infra=True, network="none")
    assert _running(rt, "nos") == (True, True)
    real_start = Container.start

    def start(self, *args, **kw):
        if self.name == "nos":
            raise EngineError("no start today")
        return real_start(self, *args, **kw)
    monkeypatch.setattr(Container, "start", start)
    msg = _failing_update(rt, "nos")
    assert "container nos was put back into pod rp with its old settings, not started: " in msg, msg
    assert "no start today" in msg, msg
    back = find_container(rt, "nos")
    assert back is not None and back.status != "running" and _env(rt, "nos") == {"V": "old"}
    assert faults.pending(rt.state) == []


@needs_runtime
def test_a_pod_that_cannot_be_made_anew_is_put_back_with_its_running_members_started(running):
    """recreate_pod's own failure path (the new pod cannot be made): the old pod and its members come
    back, and those that were running run again (the infra first)."""
    rt = running
    _stack(rt, [_member("up", state="started"), _member("idle")], infra=True, network="none")
    pod = find_pod(rt, "rp")
    bad = dict(pod.config, infra_name="-invalid name-")  # fails only when the new infra container is made
    with pytest.raises(EngineError, match="recreating pod rp") as err:
        podmod.recreate_pod(rt, pod, bad, infra_image=rt.images.get(pod.config["infra_image_id"]), timeout=0)
    assert err.value.msg.endswith("; the old pod and its containers were put back and up started again"), err.value.msg
    assert _running(rt, "up") == (True, True) and find_container(rt, "idle").status != "running"
    back = find_pod(rt, "rp")
    assert back.infra().status == "running" and find_container(rt, "up").config["pod"] == back.id


@needs_runtime
def test_check_mode_of_a_started_pod_recreate_predicts_the_real_actions(running):
    """state started: the recreated pod's start is its infra and the members it keeps; the members the
    stack declares anew are made (and started) by their own steps, so the pod's start does not list them."""
    rt = running
    pod = dict(infra=True, infra_name="rp-infra", network="none", timeout=0, state="started")
    _stack(rt, [_member("cm", env={"V": "old"}), _member("same")], **pod)
    outside = {o.name: None for o in OPTIONS.options}  # a container task: no stack label, kept by the pod
    outside.update(_member("out"), pull="missing", recreate=False, force_restart=False, insecure_registry=False)
    assert reconcile_container(rt, outside).changed
    members = [_member("cm", env={"V": "new"}), _member("same", state="started")]
    planned = _stack(rt, members, check_mode=True, recreate=True, **pod)
    done = _stack(rt, members, recreate=True, **pod)
    assert "started pod rp (rp-infra, out)" in done["actions"], done["actions"]
    assert done["actions"] == [a.replace("recreate ", "recreated ", 1).replace("start ", "started ", 1)
                               for a in planned["actions"]], (planned["actions"], done["actions"])
