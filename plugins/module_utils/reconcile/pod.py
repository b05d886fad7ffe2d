# SPDX-License-Identifier: GPL-3.0-or-later
"""Reconcile one pod: desired (task or Kubernetes manifest) vs actual (DB + runtime), then act.

1. absent: remove it; its containers only with ``force`` (else the task fails naming them).
2. the declared spec vs the one stored with the pod (exact), and the infra image.
3. recreate only for what needs it; the pod's containers are recreated into the new pod with
   their own specs and come back in the run state they had (in a stack run, those the stack declares
   go with the old pod: their container steps make them anew). Labels and the restart policy
   are stored, the pod cgroup's limits changed in place.
4. a manifest's containers are reconciled like container tasks (named ``<pod>-<name>``);
   members the manifest no longer lists are removed.
5. the run state: started / stopped / restarted, each reported only when something changed.
Check mode computes the same plan and stops before the first mutation.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence

from ..engine.base.errors import CtrInUse, EngineError, InvalidArg, NameInUse
from ..engine.base.names import validate_name
from ..engine.image.infra import infra_image_name
from ..engine.objects.container import PAUSED, RUNNING
from ..engine.objects.pod import (
    KUBE_EMPTYDIR_LABEL,
    Pod,
    check_members_for,
    create_pod,
    find_pod,
    recreate_pod,
    validate_pod_config,
)
from ..engine.parse.values import format_signal, parse_signal
from .container_params import ignored_warnings
from .options import IN_PLACE, reasons
from .pod_options import OPTIONS, SPEC_OPTIONS
from .pod_spec import conf_infra_defaults, declared_spec, infra_image_for, pod_config  # noqa: F401 - re-exported
from .result import Result, short


def _statuses(pod: Pod, sync: bool) -> List[Any]:
    return pod.synced() if sync else pod.containers()


def _kube_prepare(rt, kube, check_mode: bool, res: Result) -> None:
    """hostPath dirs/files to create, emptyDir volumes (labelled with the pod's name)."""
    for path, kind in kube.create_paths:
        if os.path.exists(path):
            continue
        if not check_mode:
            if kind == "dir":
                os.makedirs(path, mode=0o755, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path) or "/", mode=0o755, exist_ok=True)
                with open(path, "a"):
                    pass
        what = "directory" if kind == "dir" else "file"
        res.act("%s host %s %s" % ("created" if not check_mode else "create", what, path))
    for vol, labels in kube.emptydirs.items():
        if rt.state.find("volume", vol) is not None:
            continue
        if not check_mode:
            rt.volumes.create(vol, labels=labels)
        res.act("%s volume %s (emptyDir)" % ("created" if not check_mode else "create", vol))


def _kube_containers(rt, kube, pod: Optional[Pod], pod_state: str, *, check_mode: bool, res: Result) -> None:
    from .container import reconcile_container  # noqa: PLC0415

    wanted = [c["name"] for c in kube.containers]
    if pod is None:  # check mode, the pod does not exist yet
        for name in wanted:
            res.act("create container %s" % name)
        return
    diffs_before: Dict[str, Any] = {}
    diffs_after: Dict[str, Any] = {}
    for params in kube.containers:
        cparams = dict(params, state="stopped" if pod_state == "stopped" else "present")
        sub = reconcile_container(rt, cparams, check_mode=check_mode)
        if sub.changed:
            res.actions.extend(sub.actions)
            res.changed = True
        if sub.before or sub.after:
            diffs_before[params["name"]] = sub.before
            diffs_after[params["name"]] = sub.after
        res.warnings.extend(w for w in sub.warnings if w not in res.warnings)
    for ctr in pod.members():
        if ctr.name not in wanted:
            if not check_mode:
                ctr.remove(force=True, timeout=None)
            res.act("%s container %s (not in the definition)" % ("removed" if not check_mode else "remove", ctr.name))
            diffs_before[ctr.name], diffs_after[ctr.name] = {"exists": True}, {"exists": False}
    if diffs_before or diffs_after:
        res.before["containers"] = diffs_before
        res.after["containers"] = diffs_after


class _Planned(NamedTuple):
    """A container of a pod that check mode would recreate: made anew, so not running."""

    name: str
    status: str = "created"


def _recreated_containers(pod: Pod, config: Mapping[str, Any], kept: Sequence[str]) -> List[_Planned]:
    """What check mode's run state reads instead of a pod it would recreate: the new pod's infra and the
    members it keeps, all just created (the members a stack declares anew are its container steps')."""
    out = [_Planned(name) for name in kept]
    if config.get("infra"):
        out.insert(0, _Planned(config.get("infra_name") or "the new infra container"))
    return out


def _run_state(pod: Pod, state: str, params: Mapping[str, Any], check_mode: bool, res: Result,
               *, planned: Optional[Sequence[Any]] = None) -> None:
    """``planned``: in check mode, the containers of the pod as it will be (a recreate), else its own."""
    timeout = params.get("timeout")
    if check_mode and planned is None:
        planned = pod.containers()
    if state in ("killed", "paused", "unpaused"):
        _freeze_state(pod, state, params, check_mode, res, planned=planned)
    elif state == "started":
        if check_mode:
            paused = [c.name for c in planned if c.status == PAUSED]
            todo = [c.name for c in planned if c.status not in (RUNNING, PAUSED)]
            if paused:
                res.act("unpause pod %s (%s)" % (pod.name, ", ".join(paused)))
            if todo:
                res.act("start pod %s (%s)" % (pod.name, ", ".join(todo)))
            return
        resumed = pod.unpause()
        if resumed:
            res.act("unpaused pod %s (%s)" % (pod.name, ", ".join(resumed)))
        started = pod.start()
        if started:
            res.act("started pod %s (%s)" % (pod.name, ", ".join(started)))
    elif state == "stopped":
        if check_mode:
            todo = [c.name for c in planned if c.status in (RUNNING, "created", "paused")]
            if todo:
                res.act("stop pod %s (%s)" % (pod.name, ", ".join(todo)))
            return
        stopped = pod.stop(timeout)
        if stopped:
            res.act("stopped pod %s (%s)" % (pod.name, ", ".join(stopped)))
    elif state == "restarted":
        if check_mode:
            todo = [c.name for c in planned]
            if todo:
                res.act("restart pod %s (%s)" % (pod.name, ", ".join(todo)))
            return
        stopped, started = pod.restart(timeout)
        if stopped or started:
            res.act("restarted pod %s (stopped: %s; started: %s)" % (pod.name, ", ".join(stopped) or "none",
                                                                     ", ".join(started) or "none"))


#: seconds state killed waits for each container to exit when the task gives no timeout
KILL_WAIT = 10


def _freeze_state(pod: Pod, state: str, params: Mapping[str, Any], check_mode: bool, res: Result,
                  *, planned: Optional[Sequence[Any]] = None) -> None:
    """killed: ``signal`` (default KILL, as podman pod kill) to every running container; paused: start
    what does not run, then freeze everything; unpaused: thaw what is frozen. Each only where needed."""
    ctrs = planned if planned is not None else pod.containers()
    if state == "killed":
        sig = parse_signal(params.get("signal") or "KILL", "signal")
        if check_mode:
            todo = [c.name for c in ctrs if c.status in (RUNNING, PAUSED)]
            if todo:
                res.act("kill pod %s with %s (%s)" % (pod.name, format_signal(sig), ", ".join(todo)))
            return
        timeout = params.get("timeout")
        done = pod.kill(sig, KILL_WAIT if timeout is None else timeout)
        if done:
            res.act("killed pod %s with %s (%s)" % (pod.name, format_signal(sig), ", ".join(done)))
    elif state == "paused":
        if check_mode:
            todo = [c.name for c in ctrs if c.status != PAUSED]
            if todo:
                res.act("pause pod %s (%s)" % (pod.name, ", ".join(todo)))
            return
        started = pod.start()
        if started:
            res.act("started pod %s (%s)" % (pod.name, ", ".join(started)))
        done = pod.pause()
        if done:
            res.act("paused pod %s (%s)" % (pod.name, ", ".join(done)))
    else:
        if check_mode:
            todo = [c.name for c in ctrs if c.status == PAUSED]
            if todo:
                res.act("unpause pod %s (%s)" % (pod.name, ", ".join(todo)))
            return
        done = pod.unpause()
        if done:
            res.act("unpaused pod %s (%s)" % (pod.name, ", ".join(done)))


def _refuse_members(pod: Pod) -> None:
    members = pod.members()
    if members:
        raise CtrInUse("pod %s has containers %s and cannot be removed without force"
                       % (pod.name, ", ".join(c.name for c in members)),
                       hint="remove those containers first, or set force: true to stop and remove them with the pod")


def reconcile_pod(rt, params: Mapping[str, Any], check_mode: bool = False) -> Result:
    res = Result(kind="pod")
    try:
        return _reconcile_pod(rt, params, check_mode, res)
    except EngineError as err:
        if res.handed:  # a step after the recreate failed: the stack run puts these members back
            err.handed = dict(res.handed)
        raise


def _reconcile_pod(rt, params: Mapping[str, Any], check_mode: bool, res: Result) -> Result:
    res.warnings += ignored_warnings(params)
    params = dict(params)
    kube = None
    if params.get("definition") is not None:
        from .kube import load_manifest, manifest_to_specs  # noqa: PLC0415

        given = [k for k in SPEC_OPTIONS if params.get(k) is not None]
        if given:
            raise InvalidArg("definition: cannot be combined with %s (the manifest declares the whole pod)"
                             % ", ".join(given), hint="put them in the manifest, or drop definition")
        kube = manifest_to_specs(load_manifest(params["definition"]), KUBE_EMPTYDIR_LABEL)
        if params.get("name") and params["name"] != kube.name:
            raise InvalidArg("name: %s differs from the definition's metadata.name %s" % (params["name"], kube.name),
                             hint="drop name, or make them equal")
        params.update(kube.pod)
        res.warnings.extend(kube.warnings)
    if not params.get("name"):
        raise InvalidArg("name: the pod needs a name", hint="give name, or a definition with metadata.name")
    name = validate_name(params["name"], "name", "pod")
    state = params.get("state") or "created"
    timeout = params.get("timeout")
    if params.get("signal") is not None:
        parse_signal(params["signal"], "signal")  # a bad signal fails the task before anything changes
    pod = find_pod(rt, name)
    if pod is not None and pod.name != name:
        pod = None  # the name matched an ID prefix of another pod: not ours

    if state == "absent":
        if pod is not None:
            members = [c.name for c in pod.members()]
            if members and not params.get("force"):
                _refuse_members(pod)
            if not check_mode:
                pod.remove(force=bool(params.get("force")), timeout=timeout)
            res.act("%s pod %s%s" % ("removed" if not check_mode else "remove", name,
                                     " with containers %s" % ", ".join(members) if members else ""))
            res.before, res.after = {"exists": True}, {"exists": False}
        return res

    if pod is None:
        taken = rt.state.lookup_name(name)
        if taken is not None:
            raise NameInUse('name: "%s" is in use by %s %s (pods and containers share one name space)'
                            % (name, taken[0], short(taken[1])), hint="choose another name for the pod")
    if pod is not None and kube is None and all(params.get(k) is None for k in SPEC_OPTIONS):
        # only name, state and action flags: act on the pod as it was declared (start/stop by name)
        declared = dict(OPTIONS.declared({}), **(pod.config.get("declared") or {}))
    else:
        declared = conf_infra_defaults(rt, declared_spec(params))
    config = pod_config(declared, rt)
    validate_pod_config(dict(config, name=name))
    if config["mounts"]:
        from .container import _ensure_volumes  # noqa: PLC0415 - only for pods with volumes

        _ensure_volumes(rt, config["mounts"], check_mode, res)
    image = infra_image_for(rt, declared, check_mode, res)

    recreate_reasons: List[str] = []
    in_place: List[str] = []
    planned: Optional[List[_Planned]] = None  # check mode: the containers of the pod it would recreate
    if pod is not None:
        old = pod.config.get("declared") or {}
        names = OPTIONS.differences(old, declared)
        recreate_names = OPTIONS.needs_recreate(names)
        in_place = [n for n in names if n not in recreate_names]
        if recreate_names:
            recreate_reasons.append(reasons(recreate_names))
        if image is not None and image.id != pod.config.get("infra_image_id"):
            recreate_reasons.append("infra image changed: %s is now %s (pod has %s)" % (
                declared.get("infra_image") or infra_image_name(), short(image.id),
                short(pod.config.get("infra_image_id"))))
        if declared["infra"] and pod.infra() is None:
            recreate_reasons.append("its infra container is missing")
        if params.get("recreate"):
            recreate_reasons.append("recreate requested")
        res.before.update({n: old.get(n, OPTIONS.by_name[n].default) for n in names})
        res.after.update({n: declared.get(n) for n in names})

    def verb(done: str, todo: str) -> str:
        return todo if check_mode else done

    if pod is None:
        res.before, res.after = {"exists": False}, {"exists": True}
        if not check_mode:
            pod = create_pod(rt, config, name=name, infra_image=image)
        res.act("%s pod %s" % (verb("created", "create"), name))
    elif recreate_reasons:
        # a stack run declares some members anew (reconcile/stack.py REDECLARED): they go with the old pod
        # and their container step makes them once, with their new spec; the others come back as they were
        redeclared = params.get("_stack_redeclared") or ()
        members = pod.members()
        kept = [c.name for c in members if c.name not in redeclared]
        left = [c for c in members if c.name in redeclared]
        parts = ["containers %s recreated into it" % ", ".join(kept)] if kept else []
        if left:
            parts.append("containers %s removed with it, for their stack entries" % ", ".join(c.name for c in left))
        with_members = " (%s)" % "; ".join(parts) if parts else ""
        # what the new pod refuses on a member, refused before it changes (a stack run checked its own)
        check_members_for(pod, config, redeclared=redeclared)
        if check_mode:
            res.handed = {c.name: {"pod": name, "config": c.config, "running": c.status == RUNNING} for c in left}
            planned = _recreated_containers(pod, config, kept)
        else:
            if image is None and declared["infra"]:
                raise InvalidArg("pod %s: no infra image to recreate it with" % name)
            pod, restore, gone = recreate_pod(rt, pod, config, infra_image=image, timeout=timeout,
                                              leave=[c.name for c in left])
            res.handed = {n: {"pod": name, "config": cfg, "running": running} for n, cfg, running in gone}
            if state not in ("started", "restarted", "stopped", "killed"):
                for ctr_name, was_running in restore:
                    if was_running:
                        from ..engine.objects.container import get_container  # noqa: PLC0415

                        get_container(rt, ctr_name).start()
        res.act("%s pod %s: %s%s" % (verb("recreated", "recreate"), name, "; ".join(recreate_reasons), with_members))
    elif in_place:
        changes = {OPTIONS.by_name[n].config_field: declared[n] for n in in_place if OPTIONS.by_name[n].config_field}
        if "label_file" in in_place:
            changes["labels"] = config["labels"]
        changes["declared"] = declared
        live = [n for n in in_place if OPTIONS.by_name[n].update == IN_PLACE]
        if not check_mode:
            pod.update(changes)
        res.act("%s pod %s in place: %s" % (verb("updated", "update"), name,
                                            ", ".join(live + [n for n in in_place if n not in live])))

    if kube is not None:
        _kube_prepare(rt, kube, check_mode, res)
        _kube_containers(rt, kube, pod, state, check_mode=check_mode, res=res)
    if pod is None:  # check mode, would be created
        if state in ("started", "restarted", "paused"):
            res.act("start pod %s" % name)
        if state == "paused":
            res.act("pause pod %s" % name)
        return res
    _run_state(pod, state, params, check_mode, res, planned=planned)
    res.obj = pod.inspect(_statuses(pod, sync=not check_mode))
    return res


def generate_kube(rt, pod: Pod):
    """(manifest, warnings) for an existing pod, as ``podman generate kube``."""
    from .container_options import OPTIONS as CTR_OPTIONS  # noqa: PLC0415
    from .container_options import created_env_file_values  # noqa: PLC0415
    from .kube import generate  # noqa: PLC0415

    warnings: List[str] = []
    members = []
    for ctr in pod.members():
        declared = ctr.config.get("declared")
        if not declared:
            warnings.append("container %s has no declared spec and was left out" % ctr.name)
            continue
        members.append((ctr.name, dict(declared, env_file=created_env_file_values(ctr.config))))
    emptydirs = {}
    if rt.state.count("volume"):
        for vol in rt.volumes.list(labels={KUBE_EMPTYDIR_LABEL: pod.name}):
            prefix = pod.name + "-"
            emptydirs[vol.name] = vol.name[len(prefix):] if vol.name.startswith(prefix) else vol.name
    doc, more = generate(pod.name, pod.config.get("declared") or {}, members, emptydirs=emptydirs,
                         pod_defaults={o.name: o.default for o in OPTIONS.compared()},
                         container_defaults={o.name: o.default for o in CTR_OPTIONS.compared()})
    return doc, warnings + more
