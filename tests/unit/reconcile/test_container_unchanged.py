# SPDX-License-Identifier: GPL-3.0-or-later
"""reconcile/container_unchanged.py: a stack's no-op told from one read of its records gives exactly
what reconcile_container gives, takes no container lock, and declines every entry it does not cover.

A real engine root (vfs) with created containers; each case runs the same stack twice, with the
one-read check and without it (``reconcilers={"container": reconcile_container}`` turns it off), and
compares the module results."""
from __future__ import annotations

import json
import os
import subprocess

import pytest
from helpers.images import busybox_image, write_oci_archive
from helpers.roots import throwaway_root

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import open_runtime
from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions
from ansible_collections.libpod.engine.plugins.module_utils.reconcile import container as rc
from ansible_collections.libpod.engine.plugins.module_utils.reconcile import stack as rs
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_unchanged import _run_state_holds
from ansible_collections.libpod.engine.plugins.modules.stack import entry_validator

IMAGE = "localhost/busybox:latest"
OTHER = "localhost/busybox:other"


class _Module:
    def __init__(self):
        self.no_log_values = set()


def _entry(name, **kw):
    return dict({"name": name, "image": IMAGE, "command": ["sleep", "1000"], "network": "none",
                 "state": "created"}, **kw)


BASE = [_entry("plain"), _entry("withvol", volume=["eqvol:/data"], env={"A": "1"}),
        _entry("stopped", state="stopped"), _entry("labelled", label={"x": "y"}, hostname="h1")]


@pytest.fixture
def rt(tmp_path):
    overrides, env = throwaway_root(tmp_path)
    runtime = open_runtime(OpenOptions(overrides=overrides, env=env))
    for tag, cmd in ((IMAGE, ["sh"]), (OTHER, ["true"])):
        img = busybox_image(str(tmp_path / tag.rsplit(":", 1)[1]), config={"Cmd": cmd})
        runtime.images.pull("oci-archive:" + write_oci_archive(str(tmp_path / ("%s.tar" % cmd[0])), [(img, tag)]))
    try:
        yield runtime
    finally:
        runtime.shutdown()


@pytest.fixture
def calls(monkeypatch):
    """The names reconcile_container was called for (the stack imports it on first use)."""
    seen = []
    real = rc.reconcile_container

    def spy(rt, params, check_mode=False):
        seen.append(params["name"])
        return real(rt, params, check_mode)

    monkeypatch.setattr(rc, "reconcile_container", spy)
    return seen


def _run(rt, containers, check_mode=False, fast=True):
    params = {"label": "eq", "state": "present", "prune": False, "networks": [], "volumes": [], "pods": [],
              "containers": json.loads(json.dumps(containers))}
    reconcilers = None if fast else {"container": rc.reconcile_container}
    res = rs.reconcile_stack(rt, params, check_mode, validate=entry_validator(_Module()), reconcilers=reconcilers)
    return res.as_module_result(diff=True)


def test_a_no_op_stack_takes_no_container_lock_and_reports_what_the_reconcile_does(rt, calls):
    first = _run(rt, BASE)
    assert first["changed"] and calls == [e["name"] for e in BASE]
    for check_mode in (True, False):
        del calls[:]
        fast = _run(rt, BASE, check_mode=check_mode)
        assert calls == [] and not fast["changed"], (calls, fast["actions"])
        full = _run(rt, BASE, check_mode=check_mode, fast=False)
        assert fast == full
        assert {c["status"] for c in fast["stack"]["containers"].values()} == {"created"}  # never started


CHANGES = {
    "an option": (1, {"env": {"A": "2"}}),
    "another image": (0, {"image": OTHER}),
    "recreate": (0, {"recreate": True}),
    "state started": (0, {"state": "started"}),
    "state restarted": (2, {"state": "restarted"}),
    "a named volume more": (3, {"volume": ["eqvol2:/more"]}),
    "force_restart": (0, {"force_restart": True}),
}


@pytest.mark.parametrize("case", sorted(CHANGES))
def test_an_entry_it_does_not_cover_goes_through_the_reconcile_with_the_same_result(rt, calls, case):
    index, change = CHANGES[case]
    _run(rt, BASE)
    changed = [dict(e, **change) if i == index else e for i, e in enumerate(BASE)]
    del calls[:]
    fast = _run(rt, changed, check_mode=True)
    assert BASE[index]["name"] in calls
    assert fast == _run(rt, changed, check_mode=True, fast=False)


def test_the_spec_alike_entries_share_is_left_as_it_is_by_creates_and_recreates(rt, monkeypatch):
    """Entries declared alike share one declared spec (reconcile/stack.py check): reconcile_container
    works on a copy, so a create or recreate of one cannot change what the next one is compared with."""
    alike = [_entry("a1", volume=["eqvol:/data", "/anon"], publish=["127.0.0.1::80"], env={"A": "1"},
                    network="bridge"), _entry("a2", volume=["eqvol:/data", "/anon"], publish=["127.0.0.1::80"],
                                              env={"A": "1"}, network="bridge")]
    seen = []
    real = rc.reconcile_container

    def spy(rt, params, check_mode=False):
        before = json.dumps(params["_declared"], sort_keys=True)
        res = real(rt, params, check_mode)
        seen.append((params["_declared"], before, json.dumps(params["_declared"], sort_keys=True)))
        return res

    monkeypatch.setattr(rc, "reconcile_container", spy)
    for entries in (alike, [dict(e, env={"A": "2"}) for e in alike]):  # create, then recreate
        del seen[:]
        assert _run(rt, entries)["changed"]
        assert seen[0][0] is seen[1][0] and all(before == after for _d, before, after in seen)


def test_a_bad_value_the_reconcile_refuses_on_a_no_op_is_still_refused(rt, calls):
    """creds is checked by every reconcile, a pull or not: the one-read check leaves it to the reconcile."""
    _run(rt, BASE)
    bad = [dict(BASE[0], creds="nocolon")] + BASE[1:]
    for fast in (True, False):
        with pytest.raises(InvalidArg, match="invalid creds"):
            _run(rt, bad, fast=fast)


def test_after_a_change_the_rest_of_the_run_goes_through_the_reconcile(rt, calls):
    _run(rt, BASE)
    changed = [dict(BASE[0], env={"B": "1"})] + BASE[1:]
    del calls[:]
    res = _run(rt, changed)
    assert res["changed"] and calls == [e["name"] for e in BASE]
    del calls[:]
    assert not _run(rt, changed)["changed"] and calls == []


def test_a_named_volume_gone_from_the_db_is_made_again_by_the_reconcile(rt, calls):
    _run(rt, BASE)
    with rt.state.tx():
        rt.state.conn.execute("DELETE FROM volumes WHERE name='eqvol'")
    del calls[:]
    res = _run(rt, BASE)
    assert calls == [e["name"] for e in BASE[1:]], calls  # after the change, the rest too
    assert res["actions"] == ["created volume eqvol"]


def _record_running(rt, name, **state):
    rec = rt.state.find("container", name)
    rt.state.save_state("container", rec.id, dict(rec.state, status="running", **state))
    return rec


def _dead_pid():
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("how", ["process gone without an exit file", "exit file written"])
def test_a_container_recorded_running_that_has_exited_is_synced_by_the_reconcile(rt, calls, how):
    """The one read is a snapshot: an exit to fold in (conmon's file, or conmon and the process gone)
    is the reconcile's, under the lock, and the result shows the container as it really is."""
    _run(rt, BASE)
    dead = _dead_pid()
    rec = _record_running(rt, "plain", conmon_pid=dead, pid=dead)
    if how == "exit file written":
        rec = _record_running(rt, "plain", conmon_pid=os.getpid(), pid=os.getpid())
        os.makedirs(rt.exit_dir, exist_ok=True)
        with open(os.path.join(rt.exit_dir, rec.id), "w") as f:
            f.write("3")
    del calls[:]
    res = _run(rt, BASE)
    assert calls == ["plain"]
    assert res["stack"]["containers"]["plain"]["status"] in ("exited", "stopped")
    assert rt.state.find("container", "plain").state["status"] != "running"


def test_a_container_recorded_running_whose_process_lives_is_a_no_op_for_state_started(rt, calls):
    _run(rt, BASE)
    _record_running(rt, "plain", conmon_pid=os.getpid(), pid=os.getpid())
    started = [dict(BASE[0], state="started")] + BASE[1:]
    del calls[:]
    res = _run(rt, started, check_mode=True)
    assert calls == [] and not res["changed"]
    assert res["stack"]["containers"]["plain"]["status"] == "running"


@pytest.mark.parametrize("state, st, holds", [
    ("started", {"status": "running"}, True),
    ("started", {"status": "exited"}, False),
    ("started", {"status": "paused"}, False),
    ("stopped", {"status": "exited"}, True),
    ("stopped", {"status": "stopped"}, True),
    ("stopped", {"status": "running"}, False),
    ("stopped", {"status": "created"}, False),
    ("stopped", {"status": "paused"}, False),
    ("stopped", {"status": "exited", "restart_policy_match": True}, False),
    ("stopped", {"status": "exited", "restarting": True}, False),
    ("present", {"status": "exited"}, True),
    ("created", {"status": "running"}, True),
])
def test_the_run_state_it_calls_unchanged_is_the_one_the_reconcile_leaves(state, st, holds):
    assert _run_state_holds({"state": state}, st) is holds
