# SPDX-License-Identifier: GPL-3.0-or-later
"""Reconcile one container: desired (task) vs actual (DB + runtime), then act.

Order of decisions, each reported as an action with its reason:
1. absent: stop and remove if it exists.
2. the declared spec of the task vs the one stored with the container (exact);
   the image the reference resolves to now vs the container's image ID.
3. recreate only for options that need it; in-place updates for the others.
4. then the runtime state: started / stopped / restarted, including drift
   (a container that should run but exited is started, and says with which code).
Check mode computes the same plan and stops before the first mutation.
"""
from __future__ import annotations

import copy
import time
from typing import Any, Dict, List, Mapping, Optional

from ..engine.base.errors import CtrInUse, EngineError, InvalidArg, NameInUse, NoSuchImage
from ..engine.base.names import validate_name
from ..engine.base.status import display_status
from ..engine.objects.container import (
    RUNNING,
    Container,
    create_container,
    dependents,
    find_container,
    namespace_joiners,
    remove_anonymous_volumes,
)
from ..engine.objects.imagepull import pull as pull_image
from ..engine.parse.health import healthcheck_argv
from ..engine.parse.health import resolve as resolve_healthcheck
from . import container_build
from .container_compare import drop_equivalent
from .container_options import NEW_POD, OPTIONS, env_file_values, fold_attach
from .container_params import ignored_warnings, seconds
from .container_secrets import check_secrets, refreshable, secret_changes, secret_digests
from .options import IN_PLACE, reasons
from .result import Result, pull_summary, short

RUNNING_STATES = ("started", "restarted")


def _resolve_image(rt, ref: str, params: Mapping[str, Any], check_mode: bool, res: Result):
    """The image the reference means now, pulling per policy; None in check mode when a pull is due."""
    images = rt.images
    pull = params.get("pull") or "missing"
    local = images.resolve(ref)
    if pull == "never":
        if local is None and check_mode:
            # --check of a playbook whose earlier image task is only predicted: say so, do not fail
            res.warnings.append("check mode: image %s is not in the local store (pull: never); an earlier task "
                                "may import it, a real run fails if none does" % ref)
            return None
        if local is None:
            raise NoSuchImage("image %s is not in the local store and pull is never" % ref,
                              hint="import it first, or set pull: missing")
        return local
    auth, insecure, platform = _auth(params), _insecure(params), _platform(params)
    if pull == "missing" and local is not None and platform is None:
        return local  # what needs_pull answers here, without resolving the name again
    # pull: newer asks the registry as the pull would (plain HTTP, credentials), else it cannot see a moved tag
    if not images.needs_pull(ref, pull, insecure=insecure, auth=auth, platform=platform):
        return local
    if check_mode:
        res.act("pull image %s" % ref)
        return local  # the best guess: what we have (may be None)
    before = local.id if local else None
    started = time.monotonic()
    img = pull_image(rt, ref, insecure=insecure, auth=auth, platform=platform)
    if img.id != before:
        res.act("pulled image %s (%s)" % (ref, pull_summary(img, time.monotonic() - started)))
    return img


def _auth(params: Mapping[str, Any]):
    """registry_username/password, else the peer's creds (USER:PASSWORD), else its authfile."""
    if params.get("registry_username"):
        return (params["registry_username"], params.get("registry_password") or "")
    if params.get("creds"):
        user, sep, password = str(params["creds"]).partition(":")
        if not sep or not user:
            raise InvalidArg("invalid creds: expected USERNAME:PASSWORD", hint="or registry_username/registry_password")
        return (user, password)
    if params.get("authfile"):
        return {"authfile": params["authfile"]}
    return None


def _insecure(params: Mapping[str, Any]) -> bool:
    """insecure_registry, or the peer's tls_verify: false."""
    return bool(params.get("insecure_registry")) or params.get("tls_verify") is False


def _platform(params: Mapping[str, Any]) -> Optional[str]:
    """platform (os/arch[/variant]), or the peer's os / arch / variant over the host's."""
    if params.get("platform"):
        return params["platform"]
    if not any(params.get(k) for k in ("os", "arch", "variant")):
        return None
    from ..engine.image.reference import host_platform  # noqa: PLC0415 - only when a platform is asked for

    host = host_platform()
    parts = [params.get("os") or host["os"], params.get("arch") or host["architecture"]]
    variant = params.get("variant") if params.get("arch") or params.get("variant") else host.get("variant")
    return "/".join(parts + ([variant] if variant else []))


def _ensure_volumes(rt, mounts: List[Dict[str, Any]], check_mode: bool, res: Result) -> List[str]:
    """Named volumes a container uses are created with defaults when missing (as podman); the
    names of those this call created."""
    made: List[str] = []
    for m in mounts:
        if m["type"] != "volume":
            continue
        if not m["source"]:
            continue  # anonymous: created with the container
        if rt.state.find("volume", m["source"]) is None:
            if check_mode:
                res.act("create volume %s" % m["source"])
            else:
                try:
                    rt.volumes.create(m["source"])
                except NameInUse:
                    continue  # a concurrent task created it meanwhile: it exists, as declared
                made.append(m["source"])
                res.act("created volume %s" % m["source"])
    return made


def _anonymous_volumes(rt, mounts: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    from ..engine.base.names import new_id  # noqa: PLC0415

    out = []
    for m in mounts:
        if m["type"] == "volume" and not m["source"]:
            vol = new_id()
            rt.volumes.create(vol, anonymous=True)
            out.append(dict(m, source=vol, anonymous=True))
        else:
            out.append(m)
    return out


def _remove(rt, ctr: Container, params: Mapping[str, Any], check_mode: bool, res: Result,
            *, seen: Optional[set] = None) -> None:
    """state: absent with the peer's delete_* flags: delete_depend removes the containers that need
    this one first, recursively (requires, network: container:), delete_time is the stop timeout, delete_volumes:
    false keeps its anonymous volumes, force_delete: false refuses to stop a running container."""
    timeout = seconds("delete_time")(params.get("delete_time"))
    timeout = params.get("timeout") if timeout is None else timeout
    force = params.get("force_delete") is not False
    volumes = params.get("delete_volumes") is not False
    seen = {ctr.id} if seen is None else seen
    if not params.get("delete_depend"):
        # podman refuses too: the dependents would keep (or, for pid, lose) namespaces of a removed container
        # set by a stack run (reconcile/stack.py STACK_MEMBERS): it removes or keeps its own, checked there
        handled = set(params.get("_stack_members") or ())
        deps = [d.name for d in dependents(rt, ctr) if d.name not in handled]
        if deps:
            raise CtrInUse("container %s has dependent containers which must be removed before it: %s"
                           % (ctr.name, ", ".join(sorted(deps))),
                           hint="remove them first, or set delete_depend: true to remove them with it")
    if params.get("delete_depend"):
        for dep in dependents(rt, ctr):
            if dep.id in seen:
                continue
            seen.add(dep.id)
            _remove(rt, dep, params, check_mode, res, seen=seen)  # and what depends on it, first
            res.act("removed %s (delete_depend: it depends on %s)" % (dep.name, ctr.name))
    if not check_mode:
        ctr.remove(force=force, timeout=timeout, volumes=volumes)


def _check_name_free(rt, name: str) -> None:
    """Containers and pods share one name space: a pod's name is refused for a new container."""
    taken = rt.state.lookup_name(name)
    if taken is not None and taken[0] != "container":
        raise NameInUse('name "%s" is in use by %s %s (pods and containers share one name space)'
                        % (name, taken[0], short(taken[1])), hint="choose another name for the container")


def _check_self_reference(declared: Dict[str, Any], name: str, ctr: Optional[Container]) -> None:
    """network: container:<itself> would join a namespace that does not exist yet."""
    target = (declared.get("network") or {}).get("container")
    if target and (target == name or (ctr is not None and len(target) >= 3 and ctr.id.startswith(target))):
        raise InvalidArg("network: container:%s refers to the container %s itself" % (target, name),
                         hint="name another container whose network namespace to join")


def _replaced_image_config(rt, config: Mapping[str, Any]) -> Dict[str, Any]:
    """Container.image_config of a container that is gone (a stack's REPLACED): by its config's image ID."""
    try:
        return _image_config(rt, rt.images.resolve(config["image_id"])) if config.get("image_id") else {}
    except EngineError:
        return {}


#: the options that say which networks a container is on, and how
NETWORK_OPTIONS = {"network", "network_aliases", "ip", "ip6", "mac_address"}


def _network_in_place(rt, config: Mapping[str, Any], old: Mapping[str, Any], declared: Mapping[str, Any]) -> bool:
    """Only the bridge networks (or their per-network settings) changed: connect/disconnect in place,
    as ``podman network connect``, unless published ports would have to move to another network."""
    if config.get("pod") or declared.get("pod"):
        return False
    before, after = config.get("network") or {}, _network_config(rt, declared)
    if before.get("mode", "bridge") != "bridge" or after.get("mode", "bridge") != "bridge":
        return False
    default = rt.cfg.get("network", "default_network")
    first_before = (before.get("networks") or [default])[0]
    first_after = (after.get("networks") or [default])[0]
    same_first = first_before == first_after and \
        (before.get("attach") or {}).get(first_before) == (after.get("attach") or {}).get(first_after)
    return same_first or not (declared.get("publish") or old.get("publish"))


def _network_unset(declared: Mapping[str, Any]) -> bool:
    """No network declared, nor any setting on one (ip, ip6, mac_address, network_aliases)."""
    return declared["network"] == OPTIONS.by_name["network"].default \
        and not any(declared.get(k) for k in ("network_aliases", "ip", "ip6", "mac_address"))


def _network_config(rt, declared: Mapping[str, Any], pod_id: Optional[str] = None) -> Dict[str, Any]:
    """The declared network with the top-level ip/mac_address/network_aliases folded in. An undeclared
    network is the pod's for a pod member (mode pod: the infra's namespace, rootless or not); outside a
    pod a rootless engine has no bridge networks: ``[network] default_rootless_network_cmd`` (slirp4netns
    or pasta), as podman's rootless default."""
    net = declared["network"]
    if _network_unset(declared) and pod_id:
        return {"mode": "pod", "networks": []}
    if getattr(rt, "rootless", False) and _network_unset(declared):
        return {"mode": rt.cfg.get("network", "default_rootless_network_cmd"), "networks": [], "options": []}
    return fold_attach(net, rt.cfg.get("network", "default_network"),
                       aliases=declared.get("network_aliases"), ip=declared.get("ip"), ip6=declared.get("ip6"),
                       mac_address=declared.get("mac_address"))


def _userns_values(declared: Dict[str, Any], pod_id: Optional[str]) -> Dict[str, Any]:
    # Imported where used, as preflight: only a create or recreate needs them (with the OCI spec's
    # host checks, the resource limits and the user namespace code), a no-op task does not (issue 20).
    from .container_userns import userns_values  # noqa: PLC0415

    return userns_values(declared, pod_id)


def build_config(rt, declared: Dict[str, Any], image, pod_id: Optional[str],
                 previous: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """The container config record (base/records.ContainerConfig) from a declared spec and its image
    (``previous``: the config of the container it replaces, whose publish_all ports it keeps)."""
    image_config = _image_config(rt, image)
    own = declared["volume"] + declared["mount"] + declared["tmpfs"]
    own += container_build.extra_mounts(rt, declared, image_config, [m["destination"] for m in own])
    mounts = sorted(own, key=lambda m: m["destination"])
    seen = set()
    for m in mounts:
        if m["destination"] in seen:
            raise InvalidArg("volume/mount/tmpfs: two mounts at %s" % m["destination"],
                             hint="give each container path once across volume, mount and tmpfs")
        seen.add(m["destination"])
    network = _network_config(rt, declared, pod_id)
    values = OPTIONS.config_values(declared)  # the rows that fill a field as they are
    captured = container_build.host_env(declared)
    default_env = dict(item.partition("=")[::2] for item in rt.cfg.get("containers", "env"))
    merged = container_build.env_merge_values(declared, image_config, default_env, captured)
    values.update(
        image_id=image.id, pod=pod_id, mounts=mounts, network=network, host_env=captured,
        env=dict(env_file_values(declared), **dict(merged, **declared["env"])),
        labels=dict(declared.get("label_file") or {}, **declared["label"]),
        publish=declared["publish"] + container_build.publish_all_ports(declared, image_config, previous),
        log=container_build.log_config(declared),
        secret_digests=secret_digests(rt, declared.get("secrets") or []),
        declared=declared,
        **_userns_values(declared, pod_id),
        **_rootfs_values(image),
    )
    health = _healthcheck_config(rt, declared, image)
    values.update(healthcheck=health.get("healthcheck"), healthcheck_set=bool(health))
    # imported here: building the record classes costs ~5 ms, and a no-op task never needs them
    from ..engine.base.records import ContainerConfig  # noqa: PLC0415

    return ContainerConfig(**values).to_dict()


HEALTH_OPTIONS = ("healthcheck", "healthcheck_interval", "healthcheck_timeout", "healthcheck_start_period",
                  "healthcheck_retries", "healthcheck_on_failure")


def _healthcheck_config(rt, declared: Dict[str, Any], image) -> Dict[str, Any]:
    """``{"healthcheck": ...}`` when the task sets a healthcheck option (else the image's applies)."""
    opts = {k: declared.get(k) for k in HEALTH_OPTIONS}
    if declared.get("no_healthcheck"):
        given = [k for k, v in opts.items()
                 if v is not None and not (k == "healthcheck" and healthcheck_argv(v) is None)]
        if given:
            raise InvalidArg("no_healthcheck: true conflicts with %s" % ", ".join(given),
                             hint="remove no_healthcheck, or remove %s" % ", ".join(given))
        return {"healthcheck": None}
    if all(v is None for v in opts.values()):
        return {}
    return {"healthcheck": resolve_healthcheck(opts, _image_config(rt, image))}


def _image_config(rt, image) -> Dict[str, Any]:
    """The image's config section; {} for a container run from a directory (rootfs)."""
    return {} if getattr(image, "is_rootfs", False) else rt.images.image_config(image)


def _rootfs_values(image) -> Dict[str, Any]:
    """The config fields of a container run from a directory (reconcile/container_rootfs.py)."""
    if not getattr(image, "is_rootfs", False):
        return {}
    return {"rootfs": image.path, "rootfs_overlay": image.overlay}


def _new_pod(rt, params: Mapping[str, Any], declared: Dict[str, Any], check_mode: bool, res: Result) -> bool:
    """``pod: new:NAME``: create the pod (the pod module's defaults) when it is missing, as podman
    run --pod new:NAME; an existing pod of that name is used as it is. True if it is (or would be) made."""
    raw = params.get("pod")
    if not (isinstance(raw, str) and raw.startswith(NEW_POD)) or rt.state.find("pod", declared["pod"]) is not None:
        return False
    from .pod_spec import create_default_pod  # noqa: PLC0415 - only for new:NAME

    create_default_pod(rt, declared["pod"], check_mode, res)
    return True


def _pod_id(rt, declared: Dict[str, Any], name: str = "", check_mode: bool = False,
            res: Optional[Result] = None, *, new_pod: bool = False) -> Optional[str]:
    if not declared.get("pod"):
        return None
    pod = rt.state.find("pod", declared["pod"])
    if pod is None:
        if check_mode and new_pod:
            return None  # created by this task (new:NAME), which check mode only predicts
        if check_mode and res is not None:  # created by an earlier task of the same (checked) play
            res.warnings.append("pod %s does not exist (yet)" % declared["pod"])
            return None
        from ..engine.base.errors import NoSuchPod  # noqa: PLC0415

        raise NoSuchPod("pod %s: no such pod" % declared["pod"], hint="create it with libpod.engine.pod first")
    from ..engine.objects.pod import check_member_config, member_settings  # noqa: PLC0415 - the infra's is refused

    check_member_config(rt, pod.id, member_settings(declared), name)
    return pod.id


def reconcile_container(rt, params: Mapping[str, Any], check_mode: bool = False) -> Result:
    if params.get("state") == "healthy":
        return _healthy(rt, params, check_mode)
    res = Result(kind="container")
    res.warnings += ignored_warnings(params)
    name = validate_name(params["name"], "name", "container")
    state = params.get("state") or "started"
    # only what taking the lock needs: the lock reads the record (once, fresh, as it must anyway)
    key = rt.state.find_key("container", name)
    if key is not None and key.name != name:
        key = None  # the name matched an ID prefix of another container: not ours
    if key is not None and key.config.get("is_infra"):
        raise InvalidArg("name: %s is the infra container of a pod" % name,
                         hint="manage it through libpod.engine.pod (its pod's state, publish, ...)")
    ctr = Container(rt, key) if key is not None else None
    if ctr is not None:
        with ctr.locked():
            ctr.sync()

    if state == "absent":
        if ctr is not None:
            _remove(rt, ctr, params, check_mode, res)
            res.act("removed %s" % name)
            res.before, res.after = {"exists": True}, {"exists": False}
        return res

    if ctr is None:
        _check_name_free(rt, name)  # also in check mode: a pod of that name makes the create fail
    if params.get("image") is None and ctr is None:
        raise InvalidArg("image: container %s does not exist, so an image is needed to create it" % name,
                         hint="add image: to the task")
    effective = dict(params)
    if params.get("image") is None:
        # one rule for every module (docs/index.md, Idempotency rules): a task that declares
        # nothing acts on the object as declared; one that declares something declares it whole
        given = [o.name for o in OPTIONS.compared() if params.get(o.name) is not None]
        if given:
            raise InvalidArg("image: container %s is declared without an image but with %s" % (name, ", ".join(given)),
                             hint="add image: to declare the whole container (omitted options mean their "
                                  "defaults), or drop %s to act on it by name as it was declared" % ", ".join(given))
        # act on the existing container as declared before (start/stop by name)
        effective = dict(ctr.config.get("declared") or {}, **{k: v for k, v in params.items()
                                                              if k in ("name", "state", "timeout")})
        declared = dict(ctr.config["declared"])
    else:
        # a stack run has normalised the entry already, to check it before anything is touched
        # (reconcile/stack.py DECLARED): the same function of the same parameters, not done twice;
        # copied, since entries declared alike share it
        declared = copy.deepcopy(params["_declared"]) if params.get("_declared") else OPTIONS.declared(params)
        if declared.get("rootfs"):
            from . import container_rootfs  # noqa: PLC0415 - only containers run from a directory

            declared["image"] = container_rootfs.canonical(declared["image"])
    _check_self_reference(declared, name, ctr)
    _network_config(rt, declared)  # bad addresses are refused before anything changes
    if params.get("image") is not None:
        res.warnings += check_secrets(rt, declared, check_mode)
    if params.get("cert_dir"):  # TLS files of this task's pulls (access.py; not loaded on a no-op)
        rt.images.access.cert_dir = params["cert_dir"]
    if declared.get("rootfs"):
        from . import container_rootfs  # noqa: PLC0415 - only containers run from a directory

        image = container_rootfs.rootfs_image(declared, check_mode, res.warnings)
    else:
        image = _resolve_image(rt, declared["image"], dict(effective, pull=params.get("pull")), check_mode, res)
    new_pod = _new_pod(rt, params, declared, check_mode, res)
    pod_id = _pod_id(rt, declared, name, check_mode, res, new_pod=new_pod)
    # a stack run whose pod step removed this member with its recreated pod (reconcile/stack.py REPLACED):
    # compared as the container it was, so that it is recreated (once), not made as a new one
    replaced = params.get("_replaced")
    old_config = ctr.config if ctr is not None else replaced["config"] if replaced else None

    recreate_reasons: List[str] = []
    in_place: List[str] = []
    refresh: List[str] = []
    if old_config is not None:
        old = old_config.get("declared") or {}
        names = OPTIONS.differences(old, declared)
        if names and not (declared.get("rootfs") or old.get("rootfs")):  # a directory's path: as written
            old_image_config = ctr.image_config() if ctr is not None else _replaced_image_config(rt, old_config)
            names = drop_equivalent(rt, names, old, declared, old_image_config=old_image_config, new_image=image)
        recreate_names = OPTIONS.needs_recreate(names)
        if NETWORK_OPTIONS & set(recreate_names) and _network_in_place(rt, old_config, old, declared):
            recreate_names = [n for n in recreate_names if n not in NETWORK_OPTIONS]
        in_place = [n for n in names if n not in recreate_names]
        if recreate_names:
            recreate_reasons.append(reasons(recreate_names))
        if image is not None and image.id != old_config.get("image_id"):
            recreate_reasons.append("image changed: %s now resolves to %s (container has %s)"
                                    % (declared["image"], short(image.id), short(old_config.get("image_id"))))
            names = names + ["image_id"]
        if pod_id and (old_config.get("pod") != pod_id or replaced) and "pod" not in names:
            recreate_reasons.append("pod %s was recreated" % declared["pod"])
        if params.get("recreate"):
            recreate_reasons.append("recreate requested")
        if params.get("_recreated_dependency"):  # set by a stack run (reconcile/stack.py)
            recreate_reasons.append("container %s, whose network it joins, was recreated"
                                    % params["_recreated_dependency"])
        rotated = secret_changes(rt, old_config)
        refresh = refreshable(old_config, rotated)
        if recreate_reasons or len(refresh) != len(rotated):
            refresh = []  # a recreate (or an env/file secret) picks up every new value anyway
        recreate_reasons += [r for r in rotated if not refresh]
        if recreate_reasons and in_place:  # applied by the recreate: still part of the reason
            recreate_reasons.append("%s changed too" % ", ".join(in_place))
        before = {n: OPTIONS.by_name[n].shown(old.get(n, OPTIONS.by_name[n].default)) if n in OPTIONS.by_name
                  else old_config.get(n) for n in names}
        after = {n: OPTIONS.by_name[n].shown(declared.get(n)) if n in OPTIONS.by_name
                 else (image.id if image else None) for n in names}
        res.before.update(before)
        res.after.update(after)

    # what create + start would refuse, found before anything changes (and in check mode)
    if ctr is None or recreate_reasons:
        from .preflight import preflight  # noqa: PLC0415 - see _userns_values

        preflight(rt, declared, image)
    elif "publish" in in_place:
        from .preflight import preflight_publish  # noqa: PLC0415 - see _userns_values

        preflight_publish(declared)
    made_volumes = _ensure_volumes(rt, declared["volume"] + declared["mount"], check_mode, res)

    was_running = ctr.status == RUNNING if ctr is not None else bool(replaced and replaced["running"])
    if ctr is None or recreate_reasons:
        if image is None:
            # check mode and the image would be pulled first
            res.act(("recreate %s: %s" % (name, "; ".join(recreate_reasons))) if old_config else "create %s" % name)
            if old_config is None:
                res.before, res.after = {"exists": False}, {"exists": True}
            if state in RUNNING_STATES or (was_running and state in ("present", "created")):
                res.act("start %s" % name)
            return res
        previous = old_config
        joiners = _running_joiners(rt, ctr, params) if ctr is not None else []
        if old_config is not None:
            if ctr is not None and not check_mode:
                ctr.remove(force=True, timeout=params.get("timeout"))
            verb = "recreated" if not check_mode else "recreate"
            action = "%s %s: %s" % (verb, name, "; ".join(recreate_reasons))
        else:
            res.before, res.after = {"exists": False}, {"exists": True}
            action = "created %s" % name if not check_mode else "create %s" % name
        if check_mode:
            res.act(action)
        else:
            config = build_config(rt, declared, image, pod_id, previous=previous)
            config["mounts"] = _anonymous_volumes(rt, config["mounts"])
            try:
                ctr = create_container(rt, config, name=name)
            except NameInUse:
                taken = rt.state.lookup_name(name)
                if old_config is not None or taken is None or taken[0] != "container":
                    raise  # only a container made by a concurrent task is reconciled against
                return _created_meanwhile(rt, params, config, res)
            if replaced and previous is replaced["config"]:
                # the anonymous volumes of the member its pod's recreate removed were kept for a put back
                # (reconcile/stack.py _put_back): they go now, as with a container's own recreate
                remove_anonymous_volumes(rt, previous)
            res.act(action)
        start = state in RUNNING_STATES or (was_running and state in ("present", "created"))
        try:
            started = start and (check_mode or ctr.start())  # False: a concurrent task started it first
        except EngineError as exc:
            if not recreate_reasons:
                _undo_create(rt, ctr, made_volumes, exc)
            raise
        if started:
            res.act("started %s" % name if not check_mode else "start %s" % name)
            if not check_mode:
                check_still_running(ctr, res)
        _restart_joiners(joiners, name, started or (check_mode and start), params, res, check_mode=check_mode)
        if ctr is not None:
            res.obj = _shown(ctr, params)  # check mode: the container as it is now, untouched
        return res

    if in_place:
        changes = {OPTIONS.by_name[n].config_field: declared[n] for n in in_place if OPTIONS.by_name[n].config_field}
        if "publish" in changes and ctr.config.get("publish_all"):
            changes["publish"] = changes["publish"] + container_build.publish_all_ports(
                declared, ctr.image_config(), ctr.config)
        if NETWORK_OPTIONS & set(in_place):
            changes["network"] = _network_config(rt, declared)
        changes["declared"] = declared
        live = [n for n in in_place if OPTIONS.by_name[n].update == IN_PLACE]
        if not check_mode:
            ctr.update(changes)
        res.act("%s %s in place: %s" % ("updated" if not check_mode else "update", name,
                                        ", ".join(live + [n for n in in_place if n not in live])))
    if refresh:
        # directory secrets (Kubernetes secret volumes) swapped atomically in the running container
        if not check_mode:
            ctr.refresh_secrets(refresh, secret_digests(rt, ctr.config.get("secrets") or [], missing_ok=True))
        res.act("%s %s: %s" % ("updated" if not check_mode else "update", name,
                               "; ".join("secret %s refreshed in place" % n for n in refresh)))

    _apply_run_state(ctr, state, params, check_mode, res)
    res.obj = _shown(ctr, params)
    return res


def _shown(ctr: Container, params: Mapping[str, Any]) -> Dict[str, Any]:
    """What the result shows of the container: the inspect, or only its ID and status for a stack run,
    which keeps no more of it (reconcile/stack.py _summary; 500 full inspects cost ~0.15 s)."""
    if params.get("_summary_only"):  # set by a stack run (reconcile/stack.py SUMMARY_ONLY)
        return {"Id": ctr.id, "State": {"Status": display_status(ctr.state.get("status", ""))}}
    return shown_inspect(ctr)


#: what a task result shows instead of a value read from env_file
HIDDEN_ENV_VALUE = "<from env_file>"


def shown_inspect(ctr: Container) -> Dict[str, Any]:
    """The container as a task result shows it: env_file values (often secrets, and results and
    diffs get logged) replaced by a marker; the declared env_file is its path, names and hash."""
    obj = ctr.inspect()
    declared = ctr.config.get("declared") or {}
    if isinstance(obj.get("Declared"), dict):
        obj["Declared"] = OPTIONS.shown(obj["Declared"])
    rec = declared.get("env_file") or {}
    hidden = set(rec.get("keys", ()) if "sha256" in rec else rec) - set(declared.get("env") or {})
    config = obj.get("Config") or {}
    if hidden and isinstance(config.get("Env"), list):
        config["Env"] = [e if e.partition("=")[0] not in hidden else "%s=%s" % (e.partition("=")[0], HIDDEN_ENV_VALUE)
                         for e in config["Env"]]
    return obj


#: log lines shown when a container dies right after its start
EARLY_EXIT_LOG_LINES = 20


def _running_joiners(rt, ctr: Container, params: Mapping[str, Any]) -> List[tuple]:
    """(container, namespaces) of the running containers in namespaces of ``ctr``, before it is recreated."""
    handled = set(params.get("_stack_members") or ())  # a stack run (reconcile/stack.py STACK_MEMBERS)
    out = []
    for dep, kinds in namespace_joiners(rt, ctr):
        if dep.name in handled and "network" in kinds:
            continue  # the stack recreates it after ``ctr`` (reconcile/stack.py)
        with dep.locked():
            dep.sync()
        if dep.status == RUNNING:
            out.append((dep, kinds))
    return out


def _restart_joiners(joiners: List[tuple], name: str, started: bool, params: Mapping[str, Any],
                     res: Result, *, check_mode: bool) -> None:
    """Containers in namespaces of a recreated container join the new ones by restarting (the
    namespaces are looked up at start); otherwise they keep the torn-down network namespace, and
    a pid namespace's members die with its init."""
    for dep, kinds in joiners:
        why = "it joins the namespaces of %s (%s), which is recreated" % (name, ", ".join(kinds))
        if not started:
            res.warnings.append("%s: %s and not started; start %s, then restart %s" % (dep.name, why, name, dep.name))
            continue
        if not check_mode:
            dep.restart(params.get("timeout"))
        res.act("%s %s: %s" % ("restarted" if not check_mode else "restart", dep.name, why))


def check_still_running(ctr: Container, res: Result) -> None:
    """A container that exited right after this task started it: a warning with its exit code and
    last log lines, instead of a silent ``started``. Not a failure: as ``podman run -d``, the start
    itself succeeded, and one-shot containers (and restart policies) are legitimate."""
    code = ctr.exited_early()
    if code is None:
        return
    lines = [ln["line"] for ln in ctr.logs(EARLY_EXIT_LOG_LINES)]
    tail = (": its last log lines:\n" + "\n".join(lines)) if lines else "; it logged nothing"
    res.warnings.append("container %s exited with code %d right after it started%s" % (ctr.name, code, tail))


def _healthy(rt, params: Mapping[str, Any], check_mode: bool) -> Result:
    """``state: healthy``: converge as ``started``, then wait until the healthcheck passes."""
    res = reconcile_container(rt, dict(params, state="started"), check_mode)
    if check_mode:
        return res
    ctr = find_container(rt, params["name"])
    timeout = params.get("wait_healthy_timeout")
    deadline = time.monotonic() + (120 if timeout is None else timeout)
    while True:
        with ctr.locked():
            ctr.sync()
            status, st = ctr.status, ctr.state
            if ctr.health_config() is None:
                err = InvalidArg("state: healthy, but container %s has no healthcheck" % ctr.name,
                                 hint="set healthcheck (or use an image with a HEALTHCHECK), or use state: started")
                break
            health = st.get("health") or {}
            if status != RUNNING:
                lines = [ln["line"] for ln in ctr.logs(EARLY_EXIT_LOG_LINES)]
                err = EngineError("container %s exited (code %s) before it became healthy; its last log lines:\n%s"
                                  % (ctr.name, st.get("exit_code"), "\n".join(lines)))
                break
            if health.get("Status") == "healthy":
                res.obj = shown_inspect(ctr)
                return res
        if time.monotonic() >= deadline:
            last = (health.get("Log") or [{}])[-1]
            err = EngineError("container %s is not healthy after %s s (health: %s, failing streak %s); last check: "
                              "exit code %s, output: %s" % (ctr.name, timeout, health.get("Status", "starting"),
                                                            health.get("FailingStreak", 0), last.get("ExitCode"),
                                                            last.get("Output", "")),
                              hint="raise wait_healthy_timeout, or check the healthcheck command")
            break
        time.sleep(0.25)
    err.actions = list(res.actions)
    raise err


def _undo_create(rt, ctr: Container, volumes: List[str], exc: EngineError) -> None:
    """A container this task created could not start: remove it and the volumes made for it, so a
    failed task leaves nothing behind (a bad sysctl, a host port in use, ...)."""
    try:
        ctr.remove(force=True, timeout=0)
        for vol in volumes:
            if not rt.state.volume_users(vol):
                rt.volumes.remove(vol)
    except EngineError as undo_exc:
        exc.msg += " (removing the new container %s again failed too: %s)" % (ctr.name, undo_exc)
        return
    exc.msg += " (the new container %s was not kept)" % ctr.name


def _created_meanwhile(rt, params: Mapping[str, Any], config: Dict[str, Any], res: Result) -> Result:
    """A concurrent task created the container between our lookup and our create: drop the
    anonymous volumes made for our attempt and reconcile against the container that exists."""
    for m in config["mounts"]:
        if m["type"] == "volume" and m.get("anonymous"):
            rt.volumes.remove(m["source"])
    again = reconcile_container(rt, params)
    again.actions[:0] = res.actions
    again.changed = again.changed or res.changed
    again.warnings[:0] = res.warnings
    return again


def _killed_note(killed: str) -> str:
    """The actions' note for a stop that hit its timeout and had to kill."""
    return " (%s)" % killed if killed else ""


def _first(*values: Optional[int]) -> Optional[int]:
    return next((v for v in values if v is not None), None)


def _apply_run_state(ctr: Container, state: str, params: Mapping[str, Any], check_mode: bool, res: Result) -> None:
    running = ctr.status == RUNNING
    timeout = params.get("timeout")
    restart_timeout = seconds("restart_time")(params.get("restart_time"))
    if state == "started":
        if not running:
            why = ""
            if ctr.status == "exited":
                why = " (had exited with code %s)" % ctr.state.get("exit_code")
            if check_mode or ctr.start():  # False: a concurrent task started it meanwhile
                res.act("%s %s%s" % ("started" if not check_mode else "start", ctr.name, why))
                if not check_mode:
                    check_still_running(ctr, res)
                res.before.setdefault("running", False)
                res.after["running"] = True
        elif params.get("force_restart"):
            killed = ctr.restart(_first(restart_timeout, timeout)) if not check_mode else ""
            res.act("%s %s (force_restart)%s" % ("restarted" if not check_mode else "restart", ctr.name,
                                                 _killed_note(killed)))
    elif state == "restarted":
        killed = ctr.restart(_first(restart_timeout, timeout)) if not check_mode else ""
        res.act("%s %s%s" % ("restarted" if not check_mode else "restart", ctr.name, _killed_note(killed)))
    elif state == "stopped":
        # exited, a restart to come (backoff wait, or the exit command has not run yet)
        pending = not running and bool(ctr.state.get("restarting") or ctr.state.get("restart_policy_match"))
        if (running or pending or ctr.status in ("created", "paused")) and (check_mode or ctr.stop(timeout)):
            why = " (cancelled its pending restart)" if pending else ""
            if not check_mode:
                why += _killed_note(ctr.state.get("stop_killed") if not pending else "")
            res.act("%s %s%s" % ("stopped" if not check_mode else "stop", ctr.name, why))  # (not if stopped meanwhile)
            res.before["running"], res.after["running"] = True, False
            if ctr.config.get("auto_remove"):  # rm: removed once stopped (here, not later by the exit command)
                if not check_mode:
                    ctr.remove_after_exit()
                res.act("%s %s (rm)" % ("removed" if not check_mode else "remove", ctr.name))
    elif state in ("present", "created") and params.get("force_restart") and running:
        killed = ctr.restart(_first(restart_timeout, timeout)) if not check_mode else ""
        res.act("%s %s (force_restart)%s" % ("restarted" if not check_mode else "restart", ctr.name,
                                             _killed_note(killed)))
