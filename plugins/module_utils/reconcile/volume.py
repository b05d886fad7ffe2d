# SPDX-License-Identifier: GPL-3.0-or-later
"""Reconcile one named volume: the task's declared spec vs the one stored with the volume.

A volume cannot be changed in place (podman has no ``volume update``): any difference in
``driver``, ``label``, ``options``, ``uid`` or ``gid`` recreates it, which empties a local
volume. Containers that use the volume (in any state) block a recreate or a removal
unless ``force`` is set; then they are removed first and the actions say so.

Order of decisions:
1. the name is checked before anything is read or written (``../x`` never reaches a path);
2. absent: remove if it exists (users first, with force);
3. present: normalise the task into the declared spec, compare it with the stored one
   (volumes created without one, e.g. implicitly by a container, are compared through the
   spec their config implies), then validate the new spec *before* removing the old volume,
   so a bad task never destroys a good volume;
4. check mode computes the same plan, including the refusals, and stops before the first
   mutation;
5. mounted/unmounted act after that: a volume this run creates or recreates holds no reference
   of the user, so mounted mounts it (again) and unmounted has nothing to drop; check mode
   predicts the same from the plan (_predict_mount_state).
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Optional

from ..engine.base.errors import EngineError, InvalidArg, NoSuchVolume, VolumeInUse
from ..engine.parse import values as parse
from ..engine.volume.manager import LOCAL_DRIVER, plan_local, plugin_options, validate_name
from .options import NOT_COMPARED, Option, OptionTable, reasons
from .result import Result

STATES = ("present", "mounted", "unmounted", "absent")

#: option keys that are flags for every driver (the engine strips them before calling a plugin)
_FLAGS_ALL = ("copy", "nocopy")
#: and for the local driver only (a plugin gets noquota verbatim)
_FLAGS_LOCAL = ("noquota",)
_TRUE = ("", "true", "yes", "1")
_FALSE = ("false", "no", "0")
#: UIDs/GIDs the kernel accepts (2**32-1 is "no change")
_ID_MAX = 2**32 - 2

_OPTIONS_FORM = 'a list of "key=value" strings (e.g. ["type=tmpfs", "device=tmpfs", "o=size=16m"]) or a dict'


# ------------------------------------------------------------------------------------------
# normalisation (pure)
# ------------------------------------------------------------------------------------------
def _driver(value: Any, ctx: Any = None) -> str:
    if not isinstance(value, str):
        raise InvalidArg("volume parameter driver must be a string, got %r" % (value,),
                         hint="use local, or the name of a plugin under [engine.volume_plugins]")
    return value.strip() or LOCAL_DRIVER


def _labels(value: Any, ctx: Any = None) -> Dict[str, str]:
    return parse.parse_labels(value, "label")


def normalize_o(value: str) -> str:
    """The o= mount options as written, whitespace removed: ' size=16m , mode = 0755' -> 'size=16m,mode=0755'.

    Order and case are kept: the kernel sees them in that order and a later entry wins.
    """
    items = []
    for raw in value.split(","):
        item = raw.strip()
        if not item:
            continue
        key, sep, val = item.partition("=")
        items.append("%s=%s" % (key.strip(), val.strip()) if sep else key)
    return ",".join(items)


def _option_value(key: str, value: Any) -> Optional[str]:
    """One option value as a string; None means "not given" (a flag set to false)."""
    if value is None or value is True:
        return ""
    if value is False:
        return None
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        raise InvalidArg('volume parameter options: value of "%s" must be a string or number, got %s'
                         % (key, type(value).__name__), hint="give it as %s" % _OPTIONS_FORM)
    if "\x00" in value:
        raise InvalidArg('volume parameter options: value of "%s" contains a NUL byte' % key, hint="remove it")
    return value.strip()


def normalize_options(value: Any, driver: str = LOCAL_DRIVER) -> Dict[str, str]:
    """options as podman's ``--opt`` list (or a dict) -> {key: value}, the form that is stored and compared.

    Keys are a set (their order never matters); ``o=`` keeps its order (normalize_o);
    ``copy``/``nocopy`` (and ``noquota`` for the local driver) given as true become ``""``
    and given as false are dropped, so ``nocopy``, ``nocopy=true`` and ``{nocopy: true}``
    are the same declared value.
    """
    if value is None:
        return {}
    if isinstance(value, str):
        value = [value]
    pairs: List[tuple] = []
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, (list, tuple)):
        for item in value:
            if not isinstance(item, str):
                raise InvalidArg("volume parameter options: entry %r is not a string" % (item,),
                                 hint="give %s" % _OPTIONS_FORM)
            key, sep, val = item.strip().partition("=")
            pairs.append((key, val if sep else True))
    else:
        raise InvalidArg("volume parameter options must be %s, got %s" % (_OPTIONS_FORM, type(value).__name__))
    flags = _FLAGS_ALL + (_FLAGS_LOCAL if driver == LOCAL_DRIVER else ())
    out: Dict[str, str] = {}
    seen = set()
    for raw_key, raw_val in pairs:
        if not isinstance(raw_key, str) or not raw_key.strip():
            raise InvalidArg("volume parameter options: option names must be non-empty strings, got %r" % (raw_key,),
                             hint="give %s" % _OPTIONS_FORM)
        key = raw_key.strip()
        if key in seen:
            raise InvalidArg('volume parameter options: "%s" is given twice' % key,
                             hint="give it once; several mount options go into one o=, comma-separated "
                                  "(o=size=16m,mode=0755)")
        seen.add(key)
        text = _option_value(key, raw_val)
        if text is None:
            continue
        if key in flags:
            low = text.lower()
            if low in _FALSE:
                continue
            if low in _TRUE:
                text = ""
        elif key == "o":
            text = normalize_o(text)
            if not text:
                continue
        out[key] = text
    return out


def _options(value: Any, ctx: Any = None) -> Dict[str, str]:
    driver = (ctx or {}).get("driver") or LOCAL_DRIVER
    return normalize_options(value, driver)


def _id(param: str):
    def norm(value: Any, ctx: Any = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _ID_MAX:
            raise InvalidArg("volume parameter %s must be a numeric ID between 0 and %d, got %r"
                             % (param, _ID_MAX, value), hint="user and group names are not resolved; give the number")
        return value
    return norm


OPTIONS = OptionTable([
    Option("name", required=True, update=NOT_COMPARED),
    Option("state", choices=STATES, arg_default="present", update=NOT_COMPARED),
    Option("recreate", type="bool", arg_default=False, update=NOT_COMPARED),
    Option("force", type="bool", arg_default=False, update=NOT_COMPARED),
    Option("driver", arg_default=LOCAL_DRIVER, default=LOCAL_DRIVER, normalise=_driver),
    Option("label", type="dict", aliases=("labels",), default={}, normalise=_labels),
    Option("options", type="raw", default={}, normalise=_options),
    Option("uid", type="int", normalise=_id("uid")),
    Option("gid", type="int", normalise=_id("gid")),
])


def _fold_owner(spec: Dict[str, Any]) -> Dict[str, Any]:
    """Local driver: ``uid=N``/``gid=N`` in options and the uid/gid parameters are one declared value.

    They move from options to ``uid``/``gid``, so ``options: [uid=1000]`` and ``uid: 1000`` compare
    equal (as the peer compares Options without uid/gid). Both given and different is an error.
    """
    if spec["driver"] != LOCAL_DRIVER:
        return spec
    opts = dict(spec["options"])
    for key in ("uid", "gid"):
        if key not in opts:
            continue
        raw = opts.pop(key)
        try:
            num = int(raw.strip(), 10)
        except ValueError:
            num = -1
        if not 0 <= num <= _ID_MAX:
            raise InvalidArg("volume parameter options: %s=%s is not a numeric ID" % (key, raw),
                             hint="give a number between 0 and %d (names are not resolved)" % _ID_MAX)
        if spec.get(key) is not None and spec[key] != num:
            raise InvalidArg("volume parameters %s: %d and options %s=%s disagree" % (key, spec[key], key, raw),
                             hint="give the owner once, either as %s or in options" % key)
        spec[key] = num
    spec["options"] = opts
    return spec


def declared_spec(params: Mapping[str, Any]) -> Dict[str, Any]:
    """Task parameters -> the declared spec that is stored with the volume and compared."""
    driver = _driver(params.get("driver") or LOCAL_DRIVER)
    return _fold_owner(OPTIONS.declared(dict(params, driver=driver), ctx={"driver": driver}))


def _declares_nothing(params: Mapping[str, Any]) -> bool:
    """Only name, state and action flags (``driver`` has an argument default: local = omitted)."""
    return all(params.get(o.name) is None for o in OPTIONS.compared() if o.name != "driver") \
        and (params.get("driver") or LOCAL_DRIVER) == LOCAL_DRIVER


def declared_from_config(config: Any) -> Dict[str, Any]:
    """The spec a stored volume config implies, for volumes created without a declared spec."""
    stored = getattr(config, "declared", None)
    if stored is not None:
        return dict(stored)
    spec = {"driver": config.driver, "label": dict(config.labels),
            "options": normalize_options(dict(config.options), config.driver), "uid": None, "gid": None}
    try:
        return _fold_owner(spec)
    except InvalidArg:
        return spec  # stored by other rules: compared as it is (a task then recreates it)


def engine_options(declared: Mapping[str, Any]) -> Dict[str, str]:
    """The options handed to VolumeManager.create: ``options`` plus ``uid``/``gid`` as the local driver takes them."""
    opts = dict(declared["options"])
    for key in ("uid", "gid"):
        want = declared.get(key)
        if want is None:
            continue
        if declared["driver"] != LOCAL_DRIVER:
            raise InvalidArg("volume parameter %s applies to the local driver only (driver is %s)"
                             % (key, declared["driver"]),
                             hint="remove %s, or pass what the plugin understands in options" % key)
        opts[key] = str(want)  # declared_spec moved any options uid=/gid= here
    return opts


def validate_spec(name: str, declared: Mapping[str, Any], plugins: Mapping[str, str]) -> Dict[str, str]:
    """Everything VolumeManager.create would refuse, checked without creating anything.

    Returns the engine options. Used before an old volume is removed for a recreate and in
    check mode, so that both report a bad task the way a real create would.
    """
    driver = declared["driver"]
    if driver != LOCAL_DRIVER and driver not in plugins:
        known = ", ".join([LOCAL_DRIVER] + sorted(plugins))
        raise InvalidArg('volume "%s": driver "%s" is not available; known drivers: %s' % (name, driver, known),
                         hint="use one of them, or add the plugin's socket under [engine.volume_plugins]")
    opts = engine_options(declared)
    if driver == LOCAL_DRIVER:
        plan = plan_local(name, opts)
        if plan.mount is not None and plan.mount.bind and not os.path.isdir(plan.mount.source):
            raise InvalidArg('volume "%s": option device=%s is not an existing directory' % (name, plan.mount.source),
                             hint="create the host directory first, or fix device=")
    else:
        plugin_options(name, opts)
    return opts


def differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> List[str]:
    return OPTIONS.differences(before, after)


def diff(before: Mapping[str, Any], after: Mapping[str, Any], names: List[str]) -> Dict[str, Dict[str, Any]]:
    return OPTIONS.diff(before, after, names)


# ------------------------------------------------------------------------------------------
# reconcile
# ------------------------------------------------------------------------------------------
def _container_names(rt, ids: List[str]) -> List[str]:
    names = []
    for cid in ids:
        rec = rt.state.find("container", cid)
        names.append(rec.name if rec is not None else cid[:12])
    return names


def _users_remover(rt):
    """remove_users callback for VolumeManager.remove: force-remove each container, return their names."""

    def remove(ids: List[str]) -> List[str]:
        from ..engine.objects.container import Container  # noqa: PLC0415 - only when users must go

        gone = []
        for cid in ids:
            rec = rt.state.find("container", cid)
            if rec is None:
                continue  # removed meanwhile
            Container(rt, rec).remove(force=True)
            gone.append(rec.name)
        return gone

    return remove


def _refuse_in_use(name: str, users: List[str], doing: str) -> None:
    raise VolumeInUse('volume "%s" %s but is used by container(s) %s' % (name, doing, ", ".join(users)),
                      hint="remove those containers first, or set force: true, which removes them "
                           "(in any state) before the volume")


def _remove(rt, name: str, users: List[str], check_mode: bool, res: Result) -> None:
    verb = "remove" if check_mode else "removed"
    if check_mode:
        if users:
            res.act("remove container(s) %s (using volume %s)" % (", ".join(users), name))
        res.act("remove volume %s" % name)
        return
    removal = rt.volumes.remove(name, force=bool(users), remove_users=_users_remover(rt))
    if removal.containers:
        res.act("%s container(s) %s (using volume %s)" % (verb, ", ".join(removal.containers), name))
    res.act("%s volume %s" % (verb, name))
    res.warnings.extend(removal.warnings)
    rt.event("volume", "remove", id=name, name=name)


def reconcile_volume(rt, params: Mapping[str, Any], check_mode: bool = False) -> Result:
    res = Result(kind="volume")
    try:
        state = params.get("state") or "present"
        if state == "unmounted" and rt.volumes.find(validate_name(params.get("name"))) is None:
            raise NoSuchVolume("no such volume %s to unmount" % params.get("name"),
                               hint="create it first (state: present or mounted)")
        made = _reconcile(rt, params, check_mode, res)
        if state in ("mounted", "unmounted"):
            if check_mode:
                _predict_mount_state(rt.volumes, params["name"], state, made, res)
            else:
                _mount_state(rt.volumes, params["name"], state, res)
    except EngineError as err:
        err.actions = list(res.actions)  # what was done before the failure
        raise
    return res


def _mount_state(vols, name: str, state: str, res: Result) -> None:
    """mounted: the user's reference on the volume (podman volume mount), taken once, the mount point
    returned; unmounted: that reference dropped (the volume stays mounted while containers use it)."""
    if state == "mounted":
        taken, point = vols.hold(name)
        if taken:
            res.act("mounted volume %s at %s" % (name, point))
        res.extra["mount_point"] = point
    elif vols.get(name).state.user_mounted:
        vols.release(name)
        res.act("unmounted volume %s" % name)
    res.obj = vols.inspect(name)


def _predict_mount_state(vols, name: str, state: str, made: Optional[str], res: Result) -> None:
    """Check mode: what _mount_state will do after the real _reconcile. A volume that run creates or
    recreates (``made`` = its driver) holds no reference of the user yet: mounted takes one (mounts it
    again after a recreate), unmounted has none to drop."""
    vol = vols.find(name)
    if state == "mounted":
        if made == LOCAL_DRIVER or (made is None and not vol.uses_plugin):
            point = vols.data_dir(name)  # where _mount_locked mounts a local volume
        else:
            point = vol.state.mount_point if made is None else ""  # a plugin says where when it mounts
        if made is not None or not vols.held(name):
            res.act("mount volume %s at %s" % (name, point) if point else "mount volume %s" % name)
        res.extra["mount_point"] = point
    elif made is None and vol.state.user_mounted:
        res.act("unmount volume %s" % name)
    if vol is not None:
        res.obj = vols.inspect(name)  # as it is now, also when it would be recreated


def _reconcile(rt, params: Mapping[str, Any], check_mode: bool, res: Result) -> Optional[str]:
    """Remove, create or recreate the volume as declared; returns the driver of the volume this run
    creates or recreates (would, in check mode), None when it keeps or removes the volume."""
    name = validate_name(params.get("name"))
    state = params.get("state") or "present"
    force = bool(params.get("force"))
    vols = rt.volumes
    vol = vols.find(name)

    if state == "absent":
        if vol is None:
            return None
        users = _container_names(rt, vols.users(name))
        if users and not force:
            _refuse_in_use(name, users, "cannot be removed")
        _remove(rt, name, users, check_mode, res)
        res.before, res.after = {"exists": True}, {"exists": False}
        return None

    if vol is not None and _declares_nothing(params):
        # the one omission rule (docs/index.md): name and state only act on the volume as declared
        declared = declared_from_config(vol.config)
    else:
        declared = declared_spec(params)
    if vol is None:
        opts = validate_spec(name, declared, vols.plugins)
        res.before, res.after = {"exists": False}, {"exists": True}
        if check_mode:
            res.act("create volume %s" % name)
            return declared["driver"]
        vols.create(name, driver=declared["driver"], labels=declared["label"], options=opts, declared=declared)
        rt.event("volume", "create", id=name, name=name)
        res.act("created volume %s" % name)
        res.obj = vols.inspect(name)
        return declared["driver"]

    old = declared_from_config(vol.config)
    names = differences(old, declared)
    why = [reasons(names)] if names else []
    if params.get("recreate"):
        why.append("recreate requested")
    if not why:
        res.obj = vols.inspect(name)
        return None
    if names:
        d = diff(old, declared, names)
        res.before, res.after = d["before"], d["after"]
    users = _container_names(rt, vols.users(name))
    if users and not force:
        _refuse_in_use(name, users, "must be recreated (%s)" % "; ".join(why))
    opts = validate_spec(name, declared, vols.plugins)  # before the old volume goes
    if check_mode:
        if users:
            res.act("remove container(s) %s (using volume %s)" % (", ".join(users), name))
        res.act("recreate volume %s: %s" % (name, "; ".join(why)))
        res.obj = vols.inspect(name)
        return declared["driver"]
    removal = vols.remove(name, force=bool(users), remove_users=_users_remover(rt))
    if removal.containers:
        res.act("removed container(s) %s (using volume %s)" % (", ".join(removal.containers), name))
    res.warnings.extend(removal.warnings)
    rt.event("volume", "remove", id=name, name=name)
    try:
        vols.create(name, driver=declared["driver"], labels=declared["label"], options=opts, declared=declared)
    except EngineError:
        res.act("removed volume %s (creating it again failed)" % name)
        raise
    rt.event("volume", "create", id=name, name=name)
    res.act("recreated volume %s: %s" % (name, "; ".join(why)))
    res.obj = vols.inspect(name)
    return declared["driver"]
