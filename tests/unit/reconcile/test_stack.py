# SPDX-License-Identifier: GPL-3.0-or-later
"""reconcile/stack.py: entries, labels, the order of a run, pruning and errors, with fake
reconcile functions and a fake state (the real modules run in tests/integration/test_stack.py)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import CtrInUse, InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.reconcile import stack as rs
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.result import Result

IMG = "localhost/busybox:latest"


# ------------------------------------------------------------------------------------------
# fakes
# ------------------------------------------------------------------------------------------
@dataclass
class Rec:
    name: str
    config: Dict[str, Any]
    id: str = ""
    pod_id: Optional[str] = None

    def __post_init__(self):
        self.id = self.id or "id-" + self.name


@dataclass
class FakeState:
    objs: Dict[str, List[Rec]] = field(default_factory=lambda: dict(container=[], pod=[], volume=[], network=[]))
    users: Dict[str, List[str]] = field(default_factory=dict)   # volume -> container ids

    def query(self, sql):
        assert sql.startswith("SELECT config FROM networks")
        return [(json.dumps({"name": r.name, "labels": r.config["labels"]}),) for r in self.objs["network"]]

    def list(self, kind, pod_id=None):
        return [r for r in self.objs[kind] if pod_id is None or r.pod_id == pod_id]

    def find(self, kind, ref):
        return next((r for r in self.objs[kind] if ref in (r.name, r.id)), None)

    def names_with_label(self, kind, label, value):
        return [(r.name, bool(r.config.get("is_infra"))) for r in self.objs[kind]
                if (r.config.get("labels") or {}).get(label) == value]

    def volume_users(self, name):
        return list(self.users.get(name, []))


class FakeCfg:
    def get(self, section, key):
        assert (section, key) == ("network", "default_network")
        return "engine"


class FakeRuntime:
    def __init__(self):
        self.state = FakeState()
        self.cfg = FakeCfg()

    def add(self, kind, name, stack=None, pod=None, **config):
        labels = {rs.STACK_LABEL: stack} if stack else {}
        rec = Rec(name, dict(config, labels=labels), pod_id=("id-" + pod) if pod else None)
        self.state.objs[kind].append(rec)
        return rec


class Recorder:
    """Per-kind reconcile functions that record their calls and remove what state=absent names."""

    def __init__(self, rt, changed=True, fail_on=None):
        self.rt, self.changed, self.fail_on = rt, changed, fail_on
        self.calls: List[tuple] = []

    def __getitem__(self, kind):
        def reconcile(rt, params, check_mode=False):
            self.calls.append((kind, params["name"], params.get("state"), bool(params.get("force")), check_mode))
            if self.fail_on == (kind, params["name"]):
                err = CtrInUse("%s %s is busy" % (kind, params["name"]))
                err.actions = ["half done"]
                raise err
            res = Result(kind=kind)
            if params.get("state") == "absent":
                if not check_mode:
                    rt.state.objs[kind] = [r for r in rt.state.objs[kind] if r.name != params["name"]]
                res.act("removed %s" % params["name"])
                res.before, res.after = {"exists": True}, {"exists": False}
            elif self.changed:
                res.act("created %s" % params["name"])
                res.obj = {"Id": "x", "State": {"Status": "running"}} if kind == "container" else {"Id": "p"}
            return res

        return reconcile

    def keys(self):
        return rs.KINDS


def run(rt, params, check_mode=False, **kw):
    rec = Recorder(rt, **kw)
    res = rs.reconcile_stack(rt, params, check_mode, reconcilers={k: rec[k] for k in rs.KINDS})
    return res, rec.calls


# ------------------------------------------------------------------------------------------
# entries
# ------------------------------------------------------------------------------------------
def test_every_entry_gets_the_stack_label_and_keeps_its_own():
    entries = rs.collect({"label": "web", "volumes": [{"name": "v", "label": {"a": "1"}}],
                          "containers": [{"name": "c", "image": IMG, "label": ["b=2"]}]})
    assert [(e.kind, e.name) for e in entries] == [("volume", "v"), ("container", "c")]
    assert entries[0].params["label"] == {"a": "1", rs.STACK_LABEL: "web"}
    assert entries[1].params["label"] == {"b": "2", rs.STACK_LABEL: "web"}


def test_an_entry_may_repeat_the_stack_label_but_not_change_it():
    rs.collect({"label": "web", "volumes": [{"name": "v", "label": {rs.STACK_LABEL: "web"}}]})
    with pytest.raises(InvalidArg, match=r"volumes\[0\].*differs from the stack's name web"):
        rs.collect({"label": "web", "volumes": [{"name": "v", "label": {rs.STACK_LABEL: "db"}}]})


@pytest.mark.parametrize("params, match", [
    ({"label": ""}, "must not be empty"),
    ({"label": "a b"}, "invalid stack name"),
    ({"label": "s", "containers": [{"name": "c", "image": IMG}, {"name": "c", "image": IMG}]},
     r"containers\[1\]: container c is declared twice \(also in containers\[0\]\)"),
    ({"label": "s", "pods": [{"name": "p", "definition": {"kind": "Pod"}}]}, "Kubernetes definition"),
    ({"label": "s", "volumes": [{"label": {"a": "b"}}]}, r"volumes\[0\]: every entry of a stack needs a name"),
    ({"label": "s", "volumes": [{"name": "../x"}]}, "invalid volume name"),
    ({"label": "s", "volumes": ["v"]}, r"volumes\[0\]: expected a dict"),
    ({"label": "s", "volumes": [{"name": "v", "engine_options": {}}]}, "once for the whole stack"),
])
def test_bad_entries_are_refused(params, match):
    with pytest.raises(InvalidArg, match=match):
        rs.collect(params)


def test_the_validator_sees_each_entry_with_its_place():
    seen = []

    def validate(kind, item, where):
        seen.append((kind, where))
        return dict(item, state=item.get("state") or "present")

    entries = rs.collect({"label": "s", "volumes": [{"name": "v"}], "pods": [{"name": "p"}],
                          "containers": [{"name": "c", "image": IMG}]}, validate)
    assert seen == [("volume", "volumes[0]"), ("pod", "pods[0]"), ("container", "containers[0]")]
    assert entries[0].params["state"] == "present"


# ------------------------------------------------------------------------------------------
# order
# ------------------------------------------------------------------------------------------
STACK = {
    "label": "web",
    # declared in the "wrong" order on purpose: the kinds are still done volumes, pods, containers
    "containers": [{"name": "httpd", "image": IMG, "pod": "web", "volume": ["site:/srv"]},
                   {"name": "old", "state": "absent"}],
    "pods": [{"name": "web", "state": "started", "publish": ["127.0.0.1:8080:8080"]}],
    "volumes": [{"name": "site"}, {"name": "cache", "state": "absent"}],
}


def test_a_run_removes_containers_first_then_creates_in_dependency_order_then_removes_pods_and_volumes():
    rt = FakeRuntime()
    res, calls = run(rt, STACK)
    assert [(k, n, s) for k, n, s, _f, _c in calls] == [
        ("container", "old", "absent"),
        ("volume", "site", None), ("pod", "web", "started"), ("container", "httpd", None),
        ("volume", "cache", "absent"),
    ]
    assert res.changed
    assert res.actions == ["removed old", "created site", "created web", "created httpd", "removed cache"]
    assert res.pruned == []  # declared absent is not "pruned"


def test_check_mode_is_passed_to_every_reconcile():
    rt = FakeRuntime()
    _res, calls = run(rt, STACK, check_mode=True)
    assert {c[4] for c in calls} == {True}


def test_prune_removes_only_undeclared_objects_of_this_stack():
    rt = FakeRuntime()
    rt.add("container", "httpd", stack="web")
    rt.add("container", "leftover", stack="web")
    rt.add("container", "other", stack="db")      # another stack
    rt.add("container", "plain")                  # no stack
    rt.add("container", "web-infra", stack="web", is_infra=True)  # never by itself
    rt.add("pod", "web", stack="web")
    rt.add("pod", "oldpod", stack="web")
    rt.add("volume", "site", stack="web")
    rt.add("volume", "oldvol", stack="web")
    res, calls = run(rt, dict(STACK, prune=True), changed=False)
    removed = [(k, n) for k, n, s, _f, _c in calls if s == "absent"]
    assert removed == [("container", "old"), ("container", "leftover"), ("pod", "oldpod"),
                       ("volume", "cache"), ("volume", "oldvol")]
    assert res.pruned == ["container leftover", "pod oldpod", "volume oldvol"]
    # without prune they stay
    _res, calls = run(rt, STACK, changed=False)
    assert ("container", "leftover") not in [(k, n) for k, n, s, _f, _c in calls if s == "absent"]


def test_state_absent_removes_every_object_of_the_stack_whatever_the_lists_say():
    rt = FakeRuntime()
    rt.add("volume", "site", stack="web")
    rt.add("pod", "web", stack="web")
    rt.add("container", "httpd", stack="web", pod="web")
    rt.add("container", "other", stack="db")
    res, calls = run(rt, dict(STACK, state="absent"))
    assert [(k, n, s) for k, n, s, _f, _c in calls] == [
        ("container", "httpd", "absent"), ("pod", "web", "absent"), ("volume", "site", "absent")]
    assert res.pruned == ["container httpd", "pod web", "volume site"]
    assert [r.name for r in rt.state.objs["container"]] == ["other"]


def test_a_pod_or_volume_whose_users_this_run_removes_is_removed_with_force_even_in_check_mode():
    rt = FakeRuntime()
    rt.add("pod", "web", stack="web")
    rt.add("container", "httpd", stack="web", pod="web")
    rt.add("volume", "site", stack="web")
    rt.state.users["site"] = ["id-httpd"]
    _res, calls = run(rt, {"label": "web", "prune": True}, check_mode=True)
    forced = [(k, n, f) for k, n, _s, f, _c in calls]
    assert forced == [("container", "httpd", False), ("pod", "web", True), ("volume", "site", True)]


def test_a_pod_with_a_member_outside_the_stack_is_not_forced():
    rt = FakeRuntime()
    rt.add("pod", "web", stack="web")
    rt.add("container", "stranger", pod="web")
    _res, calls = run(rt, {"label": "web", "prune": True})
    assert calls == [("pod", "web", "absent", False, False)]  # the pod module then refuses, naming it


@pytest.mark.parametrize("change, match", [
    ({"pods": [{"name": "web", "state": "absent"}]}, r"containers\[0\] \(httpd\): joins pod web, which this run"),
    ({"volumes": [{"name": "site", "state": "absent"}]}, r"containers\[0\] \(httpd\): uses volume site"),
])
def test_a_container_that_needs_what_the_run_removes_fails_before_anything(change, match):
    rt = FakeRuntime()
    params = dict(STACK, **change)
    params["containers"] = [STACK["containers"][0]]
    with pytest.raises(InvalidArg, match=match):
        run(rt, params)


def test_a_pruned_volume_still_used_by_a_declared_container_fails_before_anything():
    rt = FakeRuntime()
    rt.add("volume", "gone", stack="web")
    params = {"label": "web", "prune": True,
              "containers": [{"name": "c", "image": IMG, "volume": ["gone:/data"]}]}
    rec = Recorder(rt)
    with pytest.raises(InvalidArg, match="uses volume gone, which this run removes"):
        rs.reconcile_stack(rt, params, reconcilers={k: rec[k] for k in rs.KINDS})
    assert rec.calls == []


def test_a_bad_option_value_fails_before_anything_naming_the_entry():
    rt = FakeRuntime()
    params = {"label": "web", "volumes": [{"name": "site"}],
              "containers": [{"name": "c", "image": IMG, "publish": ["not-a-port"]}]}
    rec = Recorder(rt)
    with pytest.raises(InvalidArg, match=r"containers\[0\] \(c\): "):
        rs.reconcile_stack(rt, params, reconcilers={k: rec[k] for k in rs.KINDS})
    assert rec.calls == []


def test_a_failure_names_the_stack_and_entry_and_keeps_what_was_done():
    rt = FakeRuntime()
    rec = Recorder(rt, fail_on=("pod", "web"))
    with pytest.raises(CtrInUse) as exc:
        rs.reconcile_stack(rt, STACK, reconcilers={k: rec[k] for k in rs.KINDS})
    assert str(exc.value).startswith("stack web: pods[0] (web): pod web is busy")
    assert exc.value.actions == ["removed old", "created site", "half done"]


# ------------------------------------------------------------------------------------------
# result
# ------------------------------------------------------------------------------------------
def test_result_has_per_object_views_and_diffs_only_in_diff_mode():
    rt = FakeRuntime()
    res, _calls = run(rt, STACK)
    plain = res.as_module_result(diff=False)
    assert "diff" not in plain and all("diff" not in r for r in plain["results"])
    assert plain["stack"]["containers"] == {"httpd": {"id": "x", "status": "running", "pod": "web"}}
    assert plain["stack"]["name"] == "web"
    with_diff = res.as_module_result(diff=True)
    assert with_diff["diff"] == {"before": {"containers": {"old": {"exists": True}},
                                            "volumes": {"cache": {"exists": True}}},
                                 "after": {"containers": {"old": {"exists": False}},
                                           "volumes": {"cache": {"exists": False}}}}
    assert [r["name"] for r in with_diff["results"] if "diff" in r] == ["old", "cache"]


def test_an_unchanged_object_is_in_stack_but_not_in_results():
    """results lists what changed; every object, changed or not, is in stack (issue 20: a no-op
    stack of 500 containers returned each view twice)."""
    rt = FakeRuntime()

    def reconcile(rt, params, check_mode=False):
        res = Result(kind="container")
        if params["name"] == "new":
            res.act("created new")
        res.obj = {"Id": "id-" + params["name"], "State": {"Status": "running"}}
        return res

    params = {"label": "web", "containers": [{"name": "same", "image": IMG}, {"name": "new", "image": IMG}]}
    res = rs.reconcile_stack(rt, params, reconcilers={"container": reconcile})
    out = res.as_module_result(diff=False)
    assert out["changed"] and out["actions"] == ["created new"]
    assert [(r["name"], r["changed"], r["id"]) for r in out["results"]] == [("new", True, "id-new")]
    assert out["stack"]["containers"] == {"same": {"id": "id-same", "status": "running"},
                                          "new": {"id": "id-new", "status": "running"}}


def test_an_unchanged_stack_reports_no_change():
    rt = FakeRuntime()
    res, _calls = run(rt, {"label": "web", "volumes": [{"name": "site"}]}, changed=False)
    assert not res.changed and res.actions == [] and res.as_module_result(True).get("diff") is None


def test_check_mode_drops_the_warning_about_a_pod_that_the_stack_creates_first():
    rt = FakeRuntime()
    rec = Recorder(rt)
    container = rec["container"]

    def with_warning(rt_, params, check_mode=False):
        res = container(rt_, params, check_mode)
        res.warnings = ["pod %s does not exist (yet)" % params["pod"], "something else"]
        return res

    funcs = {"volume": rec["volume"], "pod": rec["pod"], "container": with_warning}
    params = {"label": "web", "pods": [{"name": "web"}],
              "containers": [{"name": "a", "image": IMG, "pod": "web"}, {"name": "b", "image": IMG, "pod": "other"}]}
    res = rs.reconcile_stack(rt, params, True, reconcilers=funcs)
    assert res.warnings == ["container a: something else", "container b: pod other does not exist (yet)",
                            "container b: something else"]


def test_a_container_comes_after_the_one_it_joins_and_is_recreated_after_it():
    """Issue 17: a rotated secret (or any recreate) of a container that others join (network:
    container:NAME) recreates the joining ones after it, in dependency order."""
    rt = FakeRuntime()
    calls: List[tuple] = []

    def container(rt_, params, check_mode=False):
        calls.append((params["name"], params.get(rs.RECREATED_DEPENDENCY)))
        res = Result(kind="container")
        if params["name"] == "db" or params.get(rs.RECREATED_DEPENDENCY):
            res.act("recreated %s: secret db-pass changed" % params["name"])
        return res

    params = {"label": "app", "containers": [
        {"name": "sidecar", "image": IMG, "network": "container:proxy"},
        {"name": "proxy", "image": IMG, "network": "container:db"},
        {"name": "db", "image": IMG},
        {"name": "other", "image": IMG}]}
    noop = Recorder(rt, changed=False)
    funcs = {"volume": noop["volume"], "pod": noop["pod"], "container": container}
    res = rs.reconcile_stack(rt, params, reconcilers=funcs)
    assert calls == [("db", None), ("proxy", "db"), ("sidecar", "proxy"), ("other", None)]
    assert res.actions == ["recreated db: secret db-pass changed", "recreated proxy: secret db-pass changed",
                           "recreated sidecar: secret db-pass changed"]
    with pytest.raises(InvalidArg, match="in a cycle"):
        rs.reconcile_stack(rt, {"label": "app", "containers": [
            {"name": "a", "image": IMG, "network": "container:b"},
            {"name": "b", "image": IMG, "network": "container:a"}]}, reconcilers={k: noop[k] for k in rs.KINDS})


def test_containers_are_asked_for_their_summary_only_pods_and_volumes_are_not():
    """The stack keeps only a container's id and status: the container module need not build its inspect."""
    rt = FakeRuntime()
    seen = []

    def recorder(kind):
        def reconcile(_rt, params, check_mode=False):
            seen.append((kind, params.get(rs.SUMMARY_ONLY)))
            return Result(kind=kind)
        return reconcile

    funcs = {k: recorder(k) for k in rs.KINDS}
    rs.reconcile_stack(rt, {"label": "web", "volumes": [{"name": "v"}], "pods": [{"name": "p"}],
                            "containers": [{"name": "c", "image": IMG}]}, reconcilers=funcs)
    assert seen == [("volume", None), ("pod", None), ("container", True)]


def test_containers_get_the_spec_the_check_normalised():
    """Normalised once per entry (check, before anything is touched), not again by the container module."""
    rt = FakeRuntime()
    seen = []

    def container(_rt, params, check_mode=False):
        seen.append(params.get(rs.DECLARED))
        return Result(kind="container")

    funcs = dict(Recorder(rt), container=container)
    entries = [{"name": "c", "image": IMG, "env": {"A": "1"}}, {"name": "byname"}]
    rs.reconcile_stack(rt, {"label": "web", "containers": entries}, reconcilers=funcs)
    assert seen[0]["env"] == {"A": "1"} and seen[0]["label"] == {rs.STACK_LABEL: "web"} and seen[0]["image"] == IMG
    assert seen[1] is None  # no image: acts on the container as declared before, nothing to normalise


def test_containers_declared_alike_share_one_spec_others_get_their_own():
    """Normalised once for entries that differ only in their name (the spec has no name)."""
    entries = rs.collect({"label": "web", "containers": [
        {"name": "a", "image": IMG, "env": {"A": "1"}}, {"name": "b", "image": IMG, "env": {"A": "1"}},
        {"name": "c", "image": IMG, "env": {"A": "2"}}],
        "volumes": [{"name": "v1"}, {"name": "v2"}]})
    rs.check(entries, {"container": set(), "pod": set(), "volume": set(), "network": set()})
    a, b, c = [e for e in entries if e.kind == "container"]
    assert a.declared is b.declared and a.declared is not c.declared
    assert a.declared["env"] == {"A": "1"} and c.declared["env"] == {"A": "2"}
    v1, v2 = [e for e in entries if e.kind == "volume"]
    assert v1.declared is not v2.declared  # a volume's spec is not shared


# ------------------------------------------------------------------------------------------
# networks (issue 16)
# ------------------------------------------------------------------------------------------
NET_STACK = {
    "label": "web",
    "networks": [{"name": "back", "label": {"tier": "back"}}],
    "containers": [{"name": "api", "image": IMG, "network": ["back"]}],
}


def test_networks_are_labelled_created_first_and_removed_last():
    entries = rs.collect(NET_STACK)
    assert entries[0].kind == "network" and entries[0].params["labels"] == {"tier": "back", rs.STACK_LABEL: "web"}
    assert "label" not in entries[0].params  # the network module's option is labels (alias label)
    rt = FakeRuntime()
    _res, calls = run(rt, NET_STACK)
    assert [c[:2] for c in calls] == [("network", "back"), ("container", "api")]
    rt.add("network", "back", stack="web")
    rt.add("network", "old", stack="web")
    rt.add("network", "theirs", stack="db")
    rt.add("container", "api", stack="web", network={"mode": "bridge", "networks": ["back"]})
    rt.add("volume", "site", stack="web")
    res, calls = run(rt, {"label": "web", "state": "absent"})
    assert [(k, n, s) for k, n, s, _f, _c in calls] == [
        ("container", "api", "absent"), ("volume", "site", "absent"), ("network", "back", "absent"),
        ("network", "old", "absent")]
    assert res.pruned[-2:] == ["network back", "network old"]
    assert res.as_module_result(False)["stack"]["networks"] == {}


def test_a_pruned_network_whose_users_this_run_removes_is_forced_a_foreign_user_is_not():
    rt = FakeRuntime()
    rt.add("network", "back", stack="web")
    rt.add("container", "api", stack="web", network={"mode": "bridge", "networks": ["back"]})
    _res, calls = run(rt, {"label": "web", "prune": True}, check_mode=True)
    assert [(k, n, f) for k, n, _s, f, _c in calls] == [("container", "api", False), ("network", "back", True)]
    rt = FakeRuntime()
    rt.add("network", "back", stack="web")
    rt.add("container", "stranger", network={"mode": "bridge", "networks": ["back"]})
    _res, calls = run(rt, {"label": "web", "prune": True})
    assert calls == [("network", "back", "absent", False, False)]  # the network module refuses, naming it


def test_a_container_on_a_network_the_run_removes_fails_before_anything():
    params = dict(NET_STACK, networks=[{"name": "back", "state": "absent"}])
    with pytest.raises(InvalidArg, match=r"containers\[0\] \(api\): is on network back, which this run removes"):
        run(FakeRuntime(), params)


@pytest.mark.parametrize("pod, member, match", [
    ({"no_hosts": True}, {"add_host": ["db:10.0.0.1"]}, "add_host: container c joins pod web, which has no_hosts"),
    ({"no_hosts": True}, {"hosts_file": "image"}, "hosts_file: container c joins pod web, which has no_hosts"),
    ({}, {"hostname": "own"}, "hostname: container c shares the UTS namespace of pod web"),
    ({"share": "net"}, {"publish": ["8080:80"]}, "publish: container c joins pod web"),
    ({"share": "net"}, {"network": ["back"]}, "network: container c joins pod web"),
])
def test_a_member_the_declared_pod_refuses_fails_the_stack_before_anything(pod, member, match):
    rt = FakeRuntime()
    params = {"label": "web", "pods": [dict(pod, name="web")],
              "containers": [{"name": "ok", "image": IMG, "pod": "web"},
                             dict(member, name="c", image=IMG, pod="web")]}
    rec = Recorder(rt)
    with pytest.raises(InvalidArg, match=r"containers\[1\] \(c\): " + match):
        rs.reconcile_stack(rt, params, reconcilers={k: rec[k] for k in rs.KINDS})
    assert rec.calls == []
    # the same member in a pod that lets it have its own: the stack runs
    lenient = {"label": "web", "pods": [{"name": "web", "share": "ipc"}], "containers": params["containers"]}
    rs.reconcile_stack(rt, lenient, reconcilers={k: rec[k] for k in rs.KINDS})
    assert [c[:2] for c in rec.calls] == [("pod", "web"), ("container", "ok"), ("container", "c")]


def test_a_pod_is_told_which_of_its_members_the_stack_declares_anew():
    # a recreated pod checks its existing members' settings against its new config, except those the
    # stack declares anew: they were checked against the declared pod and are recreated after it
    rt = FakeRuntime()
    seen = {}

    def pod(rt, params, check_mode=False):
        seen[params["name"]] = params.get(rs.REDECLARED)
        return Result(kind="pod")

    rec = Recorder(rt)
    params = {"label": "web", "pods": [{"name": "web"}, {"name": "db"}],
              "containers": [{"name": "b", "image": IMG, "pod": "web"}, {"name": "a", "image": IMG, "pod": "web"},
                             {"name": "alone", "image": IMG}, {"name": "byname", "pod": "web"}]}
    rs.reconcile_stack(rt, params, reconcilers=dict({k: rec[k] for k in rs.KINDS}, pod=pod))
    assert seen == {"web": ["a", "b"], "db": []}
