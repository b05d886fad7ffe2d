# SPDX-License-Identifier: GPL-3.0-or-later
"""Reconcile a stack: lists of networks, volumes, pods and containers in one runtime open.

A stack is named by a label value: every object it declares gets the label
``io.libpod-engine.stack=<name>`` added to its own ``label`` option, and that label is how
a later run finds the objects the lists no longer declare (``prune``) or everything of the
stack (``state: absent``). Each object is reconciled by its own module's reconcile function
(``reconcile_network``, ``reconcile_volume``, ``reconcile_pod``, ``reconcile_container``) with the same parameters
the module takes, so the rules (what is compared, what recreates) are exactly the modules'.

Order, so that nothing is removed or created before what it depends on:

1. every entry is checked first (names, duplicates, option values normalised, references
   between entries), so a bad entry fails the run before anything is touched;
2. containers to remove (declared ``state: absent``, or pruned);
3. networks, volumes, then pods, then containers that should exist, in list order, except that a
   container comes after the stack's container it joins (``network: container:NAME``); when
   that one is recreated (a new image, a rotated secret...), the joining one is recreated
   after it, since the namespace it was in has gone; a pod recreated there takes the members the
   stack declares with it, their own entries make them again (reconcile_container, REPLACED), and
   a run that fails first puts them back (_put_back);
4. pods to remove, then volumes, then networks to remove (declared absent, or pruned). A pod,
   volume or network still used by a container that is not removed by this run is refused, naming it.

Check mode runs the same plan through the reconcile functions' own check mode. Until something
of the run changed, a container entry is first held against one read of the stack's records
(reconcile/container_unchanged.py): an unchanged one gets reconcile_container's no-op result
without taking its lock, anything else goes through reconcile_container.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ..engine.base.errors import EngineError, InvalidArg, wrap
from ..engine.base.names import validate_name
from ..engine.parse import values as parse

#: the label that marks an object as part of a stack; its value is the stack's name
STACK_LABEL = "io.libpod-engine.stack"

KINDS = ("network", "volume", "pod", "container")
#: module parameter of each kind's list
LIST_PARAM = {"network": "networks", "volume": "volumes", "pod": "pods", "container": "containers"}
#: the option that holds an entry's labels (the network module's is ``labels``, alias ``label``)
LABEL_PARAM = {"network": "labels"}
STATES = ("present", "absent")

Reconciler = Callable[..., Any]
#: validate(kind, item, where) -> the module parameters of one entry (aliases resolved, defaults filled)
Validator = Callable[[str, Mapping[str, Any], str], Dict[str, Any]]


def _default_reconciler(kind: str) -> Reconciler:
    """The kind's reconcile function, imported when a stack first has such an object (a stack of
    containers does not load the network and volume managers: ~17 ms of imports)."""
    # imports kept here for their cost: only the kinds a stack run meets are loaded
    if kind == "container":
        from .container import reconcile_container  # noqa: PLC0415

        return reconcile_container
    if kind == "network":
        from .network import reconcile_network  # noqa: PLC0415

        return reconcile_network
    if kind == "pod":
        from .pod import reconcile_pod  # noqa: PLC0415

        return reconcile_pod
    from .volume import reconcile_volume  # noqa: PLC0415

    return reconcile_volume


class _Reconcilers(dict):
    """kind -> reconcile function: the given ones, else the kind's own, imported on first use."""

    def __missing__(self, kind: str) -> Reconciler:
        func = self[kind] = _default_reconciler(kind)
        return func


# ------------------------------------------------------------------------------------------
# entries
# ------------------------------------------------------------------------------------------
@dataclass
class Entry:
    """One object of the stack: what to pass to its reconcile function."""

    kind: str
    name: str
    params: Dict[str, Any]
    where: str                     # "containers[3]": for messages
    absent: bool = False
    pruned: bool = False           # not declared any more: removed because of prune / state=absent
    declared: Optional[Dict[str, Any]] = None  # normalised spec (present entries; filled by the check)
    alike: Optional[str] = None    # the entry but for its name, as JSON: entries alike share a declared spec


@dataclass
class StackResult:
    """What one stack run did; ``as_module_result`` is the module's return value."""

    name: str
    changed: bool = False
    actions: List[str] = field(default_factory=list)
    results: List[Dict[str, Any]] = field(default_factory=list)
    pruned: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    before: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    after: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    objects: Dict[str, Dict[str, Any]] = field(default_factory=lambda: {LIST_PARAM[k]: {} for k in KINDS})

    def add(self, entry: Entry, sub: Any, diff_key: Optional[str] = None) -> None:
        """Fold one reconcile Result into the stack's result."""
        group = LIST_PARAM[entry.kind]
        item = {"kind": entry.kind, "name": entry.name, "changed": bool(sub.changed),
                "actions": list(sub.actions)}
        if entry.pruned:
            item["pruned"] = True
        summary = _summary(entry.kind, sub.obj)
        if summary and entry.kind == "container" and entry.params.get("pod"):
            summary["pod"] = entry.params["pod"]
        if summary:
            item.update(summary)
            self.objects[group][entry.name] = summary
        else:
            self.objects[group].pop(entry.name, None)
        if sub.before or sub.after:
            self.before.setdefault(group, {})[entry.name] = sub.before
            self.after.setdefault(group, {})[entry.name] = sub.after
            item["diff"] = {"before": sub.before, "after": sub.after}
        if sub.changed or "diff" in item:
            # an unchanged object is in ``stack`` alone: 500 unchanged entries listed twice cost
            # the controller ~0.05 s of result handling per run (bench/bench_stack.py)
            self.results.append(item)
        if sub.changed:
            self.changed = True
            for action in sub.actions:
                if action not in self.actions:  # e.g. a volume both declared and implied by a container
                    self.actions.append(action)
        if entry.pruned and sub.changed:
            self.pruned.append("%s %s" % (entry.kind, entry.name))
        for warning in getattr(sub, "warnings", None) or []:
            text = "%s %s: %s" % (entry.kind, entry.name, warning)
            if text not in self.warnings:
                self.warnings.append(text)

    def as_module_result(self, diff: bool) -> Dict[str, Any]:
        results = self.results if diff else [{k: v for k, v in r.items() if k != "diff"} for r in self.results]
        out: Dict[str, Any] = {"changed": self.changed, "actions": self.actions, "results": results,
                               "pruned": self.pruned, "stack": dict(self.objects, name=self.name)}
        if diff and (self.before or self.after):
            out["diff"] = {"before": self.before, "after": self.after}
        return out


def _summary(kind: str, obj: Mapping[str, Any]) -> Dict[str, Any]:
    """A short view of an object after the run (the *_info modules give the whole of it)."""
    if not obj:
        return {}
    if kind == "container":
        state = obj.get("State") or {}
        return {"id": obj.get("Id"), "status": state.get("Status")}
    if kind == "pod":
        return {"id": obj.get("Id"), "status": obj.get("State"),
                "containers": [c.get("Name") for c in obj.get("Containers") or []]}
    if kind == "network":
        return {"id": obj.get("id"), "network_interface": obj.get("network_interface"),
                "subnets": [s.get("subnet") for s in obj.get("subnets") or []]}
    return {"mountpoint": obj.get("Mountpoint"), "driver": obj.get("Driver")}


def stack_name(value: Any) -> str:
    return validate_name(value if isinstance(value, str) else "", "label", "stack")


def with_stack_label(params: Mapping[str, Any], stack: str, where: str, key: str = "label") -> Dict[str, Any]:
    """The entry's parameters with the stack label added to its ``label`` option (``key``)."""
    out = dict(params)
    labels = parse.parse_labels(params.get(key) or {}, "%s.%s" % (where, key))
    if labels.get(STACK_LABEL, stack) != stack:
        raise InvalidArg("%s: label %s=%s differs from the stack's name %s"
                         % (where, STACK_LABEL, labels[STACK_LABEL], stack),
                         hint="leave %s out: the stack sets it" % STACK_LABEL)
    labels[STACK_LABEL] = stack
    out[key] = labels
    return out


def _alike(raw: Mapping[str, Any]) -> Optional[str]:
    """An entry as written but for its name, as JSON (None when it is not plain JSON): entries with
    the same text declare the same spec, which has no name."""
    try:
        return json.dumps({k: v for k, v in raw.items() if k != "name"}, sort_keys=True)
    except (TypeError, ValueError):
        return None


def collect(params: Mapping[str, Any], validate: Optional[Validator] = None) -> List[Entry]:
    """Module parameters -> the declared entries, validated, named and labelled."""
    stack = stack_name(params.get("label"))
    entries: List[Entry] = []
    for kind in KINDS:
        seen: Dict[str, str] = {}
        for index, raw in enumerate(params.get(LIST_PARAM[kind]) or []):
            where = "%s[%d]" % (LIST_PARAM[kind], index)
            if not isinstance(raw, Mapping):
                raise InvalidArg("%s: expected a dict of %s parameters, got %s" % (where, kind, type(raw).__name__))
            if "engine_options" in raw:
                raise InvalidArg("%s: engine_options is set once for the whole stack" % where,
                                 hint="move it to the stack's own engine_options")
            item = validate(kind, raw, where) if validate is not None else dict(raw)
            if kind == "pod" and item.get("definition") is not None:
                raise InvalidArg("%s: a pod from a Kubernetes definition cannot be part of a stack" % where,
                                 hint="use libpod.engine.pod for it, or declare the pod and its containers here")
            name = item.get("name")
            if not name:
                raise InvalidArg("%s: every entry of a stack needs a name" % where)
            validate_name(name, "%s.name" % where, kind)
            if name in seen:
                raise InvalidArg("%s: %s %s is declared twice (also in %s)" % (where, kind, name, seen[name]),
                                 hint="give each %s once" % kind)
            seen[name] = where
            if not (kind == "container" and item.get("image") is None):
                # a container entry without image acts on the container by name (the module's rule):
                # it declares nothing, the stack label included
                if kind in LABEL_PARAM and "label" in item and LABEL_PARAM[kind] not in item:
                    item[LABEL_PARAM[kind]] = item.pop("label")  # the alias (validation resolves it)
                item = with_stack_label(item, stack, where, LABEL_PARAM.get(kind, "label"))
            where = "%s (%s)" % (where, name)
            entries.append(Entry(kind, name, item, where, absent=item.get("state") == "absent",
                                 alike=_alike(raw)))
    return entries


# ------------------------------------------------------------------------------------------
# what exists
# ------------------------------------------------------------------------------------------
def labelled(rt, stack: str) -> Dict[str, List[str]]:
    """Names of the stack's objects that exist now, by kind (creation order; no infra containers)."""
    out: Dict[str, List[str]] = {}
    for kind in KINDS:
        if kind == "network":
            out[kind] = [n["name"] for n in _network_records(rt) if (n.get("labels") or {}).get(STACK_LABEL) == stack]
            continue
        out[kind] = [name for name, infra in rt.state.names_with_label(kind, STACK_LABEL, stack)
                     if not (kind == "container" and infra)]
    return out


def _network_records(rt) -> List[Dict[str, Any]]:
    """The stored networks (the DB rows: no network manager for a stack without any)."""
    from ..engine.store.state import loads  # noqa: PLC0415 - only for stacks

    return [loads(cfg) for (cfg,) in rt.state.query("SELECT config FROM networks ORDER BY name")]


def _users(rt, kind: str, name: str) -> Optional[List[str]]:
    """Containers that keep a pod (members), a volume or a network (users) in use; None if it does not exist."""
    if kind == "network":
        from ..engine.objects import netattach  # noqa: PLC0415 - only for stacks with networks

        if not any(n["name"] == name for n in _network_records(rt)):
            return None
        return [rec.name for rec in netattach.users(rt, name)]
    if kind == "pod":
        rec = rt.state.find("pod", name)
        if rec is None or rec.name != name:
            return None
        return [c.name for c in rt.state.list("container", pod_id=rec.id) if not c.config.get("is_infra")]
    if rt.state.find("volume", name) is None:
        return None
    out = []
    for cid in rt.state.volume_users(name):
        rec = rt.state.find("container", cid)
        if rec is not None:
            out.append(rec.name)
    return out


# ------------------------------------------------------------------------------------------
# the checks before anything is touched
# ------------------------------------------------------------------------------------------
def _declared(kind: str, params: Mapping[str, Any]) -> Dict[str, Any]:
    if kind == "container":
        from .container_options import OPTIONS  # noqa: PLC0415

        if params.get("image") is None:
            return {}  # acts on the existing container as declared before (the module's rule)
        return OPTIONS.declared(params)
    if kind == "pod":
        from .pod import declared_spec  # noqa: PLC0415

        return declared_spec(params)
    if kind == "network":
        from .network import declared_spec as network_spec  # noqa: PLC0415

        return network_spec(params)
    from .volume import declared_spec as volume_spec  # noqa: PLC0415

    return volume_spec(params)


def check(entries: Sequence[Entry], removed: Mapping[str, Sequence[str]]) -> None:
    """Normalise every entry that should exist and check references against what is removed.
    Containers declared alike share one spec object (500 alike entries: ~24 ms -> ~3 ms), which
    every reader leaves as it is (reconcile_container works on a copy)."""
    shared: Dict[str, Dict[str, Any]] = {}
    for e in entries:
        if e.absent:
            continue
        if e.kind == "container" and e.alike is not None and e.alike in shared:
            e.declared = shared[e.alike]
            continue
        try:
            e.declared = _declared(e.kind, e.params)
        except EngineError as err:
            raise wrap(err, e.where)
        if e.kind == "container" and e.alike is not None:
            shared[e.alike] = e.declared
    for e in entries:
        if e.kind != "container" or e.absent or not e.declared:
            continue
        pod = e.declared.get("pod")
        if pod and pod in removed["pod"]:
            raise InvalidArg("%s: joins pod %s, which this run removes" % (e.where, pod),
                             hint="keep the pod in the stack's pods (without state: absent), or drop pod:")
        for m in e.declared.get("volume", []) + e.declared.get("mount", []):
            if m.get("type") == "volume" and m.get("source") in removed["volume"]:
                raise InvalidArg("%s: uses volume %s, which this run removes" % (e.where, m["source"]),
                                 hint="keep the volume in the stack's volumes (without state: absent)")
        net = e.declared.get("network") or {}
        for name in net.get("networks") or [] if net.get("mode", "bridge") == "bridge" else []:
            if name in removed["network"]:
                raise InvalidArg("%s: is on network %s, which this run removes" % (e.where, name),
                                 hint="keep the network in the stack's networks (without state: absent)")
    _check_members(entries)


def _check_members(entries: Sequence[Entry]) -> None:
    """A container joining a pod of the stack: the member rules against the pod as the stack declares it
    (what the reconcile of the container would refuse only after the pod was made or changed)."""
    pods = {e.name: e.declared for e in entries if e.kind == "pod" and not e.absent and e.declared is not None}
    members = [e for e in entries if e.kind == "container" and not e.absent and e.declared
               and e.declared.get("pod") in pods]
    if not members:
        return
    # imported here for its cost (the pod objects and what they use): only stacks with pods and members
    from ..engine.objects.pod import declared_pod, member_settings, refuse_member_config  # noqa: PLC0415

    for e in members:
        pod = e.declared["pod"]
        try:
            refuse_member_config(declared_pod(pod, pods[pod]), member_settings(e.declared), e.name)
        except EngineError as err:
            raise wrap(err, e.where)


# ------------------------------------------------------------------------------------------
# the run
# ------------------------------------------------------------------------------------------
def plan(entries: Sequence[Entry], existing: Mapping[str, Sequence[str]], *, prune: bool,
         state: str) -> List[Tuple[str, List[Entry]]]:
    """The phases of a run, in order: (phase, entries)."""
    declared = {k: {e.name for e in entries if e.kind == k} for k in KINDS}
    gone: Dict[str, List[Entry]] = {k: [] for k in KINDS}
    if state == "absent":
        for kind in KINDS:
            gone[kind] = [Entry(kind, n, {"name": n, "state": "absent"}, "%s %s" % (kind, n), absent=True,
                                pruned=True) for n in existing.get(kind, ())]
        return [("remove", gone["container"]), ("remove", gone["pod"]), ("remove", gone["volume"]),
                ("remove", gone["network"])]
    for kind in KINDS:
        gone[kind] = [e for e in entries if e.kind == kind and e.absent]
        if prune:
            gone[kind] += [Entry(kind, n, {"name": n, "state": "absent"}, "%s %s (pruned)" % (kind, n),
                                 absent=True, pruned=True)
                           for n in existing.get(kind, ()) if n not in declared[kind]]
    present = [e for kind in KINDS for e in entries if e.kind == kind and not e.absent]
    return [("remove", gone["container"]), ("apply", present), ("remove", gone["pod"]), ("remove", gone["volume"]),
            ("remove", gone["network"])]


def reconcile_stack(rt, params: Mapping[str, Any], check_mode: bool = False, *,
                    validate: Optional[Validator] = None,
                    reconcilers: Optional[Mapping[str, Reconciler]] = None) -> StackResult:
    """Reconcile the volumes, pods and containers of ``params`` (the stack module's parameters).

    ``validate`` turns one list entry into its module's parameters (the stack module passes
    Ansible's argument spec validation); ``reconcilers`` replaces the per-kind reconcile
    functions (tests).
    """
    stack = stack_name(params.get("label"))
    state = params.get("state") or "present"
    if state not in STATES:
        raise InvalidArg("state: expected one of %s, got %r" % (", ".join(STATES), state))
    prune = bool(params.get("prune"))
    given = dict(reconcilers or {})
    funcs = _Reconcilers(given)
    unchanged = None
    res = StackResult(name=stack)

    entries = collect(params, validate) if state == "present" else []
    existing = labelled(rt, stack)
    phases = plan(entries, existing, prune=prune, state=state)
    removed = {k: {e.name for _p, es in phases for e in es if e.kind == k and e.absent} for k in KINDS}
    check(entries, removed)
    phases = [(phase, dependency_order(todo) if phase == "apply" else todo) for phase, todo in phases]
    removed_containers = removed["container"]
    stack_containers = sorted({e.name for _p, es in phases for e in es if e.kind == "container"})
    recreated: set = set()
    handed: Dict[str, Dict[str, Any]] = {}  # members a pod recreate removed, for their container step
    planned_pods = {e.name for e in entries if e.kind == "pod" and not e.absent}

    for phase, todo in phases:
        for entry in todo:
            call = dict(entry.params)
            if entry.kind == "container":
                call[SUMMARY_ONLY] = True  # the result keeps only its id and status (_summary)
                call[STACK_MEMBERS] = stack_containers
                if entry.declared:
                    call[DECLARED] = entry.declared  # normalised by check(): not again per container
                if phase == "apply" and entry.name in handed:
                    call[REPLACED] = handed[entry.name]
            if entry.kind == "pod" and phase == "apply":
                call[REDECLARED] = sorted(e.name for e in todo if e.kind == "container" and e.declared
                                          and e.declared.get("pod") == entry.name)
            joined = _joins(entry)
            if phase == "apply" and joined in recreated:
                call[RECREATED_DEPENDENCY] = joined  # its namespace is gone: the container module recreates it
            if phase == "remove" and entry.kind in ("pod", "volume", "network") and not call.get("force"):
                # members/users that this run removes (already gone, or only planned in check
                # mode) do not block; any other container does, and the refusal names it
                users = _users(rt, entry.kind, entry.name)
                if users and set(users) <= removed_containers:
                    call["force"] = True
            sub = None
            if entry.kind == "container" and phase == "apply" and not res.changed and "container" not in given \
                    and REPLACED not in call:
                # nothing changed yet: the records read at once tell the unchanged containers (issue 20)
                if unchanged is None:
                    from .container_unchanged import UnchangedContainers  # noqa: PLC0415 - stacks only

                    unchanged = UnchangedContainers(rt, STACK_LABEL, stack)
                sub = unchanged.result(call)
            try:
                if sub is None:
                    sub = funcs[entry.kind](rt, call, check_mode=check_mode)
            except EngineError as err:
                done = list(res.actions) + list(getattr(err, "actions", None) or [])
                err = wrap(err, "stack %s: %s" % (stack, entry.where))
                handed.update(getattr(err, "handed", None) or {})  # a pod step that failed after its recreate
                if not check_mode and handed:
                    err.msg += "".join("; " + note for note in _put_back(rt, handed))
                err.actions = done
                raise err
            handed.update(getattr(sub, "handed", None) or {})
            if check_mode and entry.kind == "container" and entry.params.get("pod") in planned_pods:
                # the container module's "not there yet" warning: this run creates the pod first
                sub.warnings = [w for w in sub.warnings
                                if w != "pod %s does not exist (yet)" % entry.params["pod"]]
            if entry.kind == "container" and any(a.startswith(("recreated ", "recreate ")) for a in sub.actions):
                recreated.add(entry.name)
            res.add(entry, sub)
    if handed and not check_mode:
        # every member a pod recreate left out was made by its entry; one that was not is put back
        res.warnings += _put_back(rt, handed)
    return res


#: reconcile_container parameter set by a stack run: the container this one joins was just recreated
RECREATED_DEPENDENCY = "_recreated_dependency"
#: reconcile_container parameter set by a stack run: show only Id and State.Status (what _summary keeps)
SUMMARY_ONLY = "_summary_only"
#: reconcile_pod parameter set by a stack run: the pod's members the stack declares (checked against the
#: declared pod by check()): a recreate removes them with the old pod (Result.handed) and their container
#: step makes them once, with their new spec (REPLACED); their old settings are not checked
REDECLARED = "_stack_redeclared"
#: reconcile_container parameter set by a stack run: {"pod", "config", "running"} of the container as it was
#: before its pod's recreate removed it (REDECLARED), compared with its entry as if it still existed
REPLACED = "_replaced"
#: reconcile_container parameter set by a stack run: the stack's container names (reconcile/container.py)
STACK_MEMBERS = "_stack_members"
#: reconcile_container parameter set by a stack run: the entry's declared spec, made by check() from the
#: same parameters (OPTIONS.declared), so that a 500-container stack does not normalise each twice
DECLARED = "_declared"


def _put_back(rt, handed: Mapping[str, Mapping[str, Any]]) -> List[str]:
    """A run failed after a pod recreate removed members for their container steps: those not made
    (yet) are put back into the pod with their old settings (no container is lost), and those that
    were running are started again, in the pod's start order; what to tell about them. One that cannot
    be put back keeps its pod's intent journal open: the repair at the next runtime open makes it again."""
    from ..engine.objects.pod import restart_members, restore_member  # noqa: PLC0415 - only after a failure

    notes: Dict[str, str] = {}
    failed = set()
    ran: Dict[str, List[str]] = {}
    for name, old in handed.items():
        if rt.state.lookup_name(name) is not None:
            continue
        where = "container %s was put back into pod %s with its old settings" % (name, old["pod"])
        try:
            restore_member(rt, old["pod"], name, old["config"])
        except EngineError as exc:
            failed.add(old["pod"])
            notes[name] = "container %s could not be put back into pod %s (the next run repairs it): %s" % (
                name, old["pod"], exc)
            continue
        if old.get("running"):
            ran.setdefault(old["pod"], []).append(name)
            notes[name] = where + " and started again"
        else:
            notes[name] = where + " (not started: it was not running)"
    for pod, names in ran.items():
        for name, why in restart_members(rt, pod, names).items():
            if name in notes:  # (the pod's infra, started first, is no member of ``handed``)
                notes[name] = "container %s was put back into pod %s with its old settings, not started: %s" % (
                    name, pod, why)
    _end_recreates(rt, {n: h for n, h in handed.items() if h["pod"] not in failed})
    return list(notes.values())


def _end_recreates(rt, handed: Mapping[str, Mapping[str, Any]]) -> None:
    """The pods whose left-out members are all made again: their recreate intents are done."""
    from ..engine.objects.pod import end_recreate  # noqa: PLC0415 - only after a pod recreate

    for pod in sorted({h["pod"] for h in handed.values()}):
        end_recreate(rt, pod)


def _joins(entry: Entry) -> Optional[str]:
    """The container whose namespaces a container entry joins (network: container:NAME), if any."""
    if entry.kind != "container" or not entry.declared:
        return None
    net = entry.declared.get("network") or {}
    return net.get("container") if net.get("mode") == "container" else None


def dependency_order(todo: Sequence[Entry]) -> List[Entry]:
    """List order, except that a container comes after the stack's container it joins
    (``network: container:NAME``), so that a dependency is created, or recreated (a new image, a
    rotated secret), before its dependents; a dependent of a recreated container is recreated too."""
    names = {e.name for e in todo if e.kind == "container"}
    out: List[Entry] = []
    placed: set = set()
    waiting = list(todo)
    while waiting:
        for i, e in enumerate(waiting):
            dep = _joins(e)
            if dep is None or dep not in names or dep in placed or dep == e.name:
                out.append(waiting.pop(i))
                if e.kind == "container":
                    placed.add(e.name)
                break
        else:
            raise InvalidArg("containers %s join each other's network (network: container:NAME) in a cycle"
                             % ", ".join(e.name for e in waiting), hint="one of them must own its network")
    return out
