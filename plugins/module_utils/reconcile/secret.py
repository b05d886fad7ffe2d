# SPDX-License-Identifier: GPL-3.0-or-later
"""Reconcile one secret: idempotent by content without keeping the content.

The task's data is hashed with the engine's key (HMAC) and compared with the hash stored
with the secret: same data, no change; new data is stored under the same ID and the
containers that use the secret are named (their next container task recreates them, or
refreshes a secret volume in place).
Labels change in place; a different driver or driver_opts moves the data to a new secret.
The data never appears in actions, the diff, the returned secret or the events.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping

from ..engine.base.errors import EngineError, InvalidArg, SecretInUse
from ..engine.parse import values as parse
from ..engine.secret.drivers import DRIVERS, driver_for
from ..engine.secret.manager import check_data, validate_secret_name
from .result import Result

STATES = ("present", "absent")
HIDDEN_BEFORE = "(previous value, not shown)"
HIDDEN_AFTER = "(new value, not shown)"

ARGUMENT_SPEC: Dict[str, Any] = {
    "name": {"type": "str", "required": True},
    "state": {"type": "str", "choices": list(STATES), "default": "present"},
    "data": {"type": "str", "no_log": True},
    "path": {"type": "path"},
    "driver": {"type": "str", "choices": list(DRIVERS), "default": "file"},
    "driver_opts": {"type": "dict"},
    "labels": {"type": "dict", "aliases": ["label"]},
    "force": {"type": "bool", "default": False},
}
MUTUALLY_EXCLUSIVE = [["data", "path"]]


def _data(params: Mapping[str, Any]) -> bytes:
    if params.get("data") is not None:
        return check_data(params["data"].encode("utf-8", "surrogateescape"))
    path = params.get("path")
    if not path:
        raise InvalidArg("secret %s: state present needs data or path" % params.get("name"),
                         hint="give the value as data (it is never logged), or path to a file on the managed node")
    try:
        with open(path, "rb") as f:
            return check_data(f.read())
    except OSError as exc:
        raise InvalidArg("secret parameter path: cannot read %s: %s" % (path, exc.strerror or exc),
                         hint="give the path of a readable file on the managed node")


def _driver_opts(params: Mapping[str, Any]) -> Dict[str, str]:
    opts = params.get("driver_opts") or {}
    return {str(k): str(v) for k, v in opts.items()}


def _users_note(users: List[str]) -> str:
    if not users:
        return ""
    return (" (used by container(s) %s: their next container task recreates them, or refreshes a secret volume "
            "in place)" % ", ".join(users))


def reconcile_secret(rt, params: Mapping[str, Any], check_mode: bool = False) -> Result:
    res = Result(kind="secret")
    try:
        _reconcile(rt, params, check_mode, res)
    except EngineError as err:
        err.actions = list(res.actions)
        raise
    return res


def _reconcile(rt, params: Mapping[str, Any], check_mode: bool, res: Result) -> None:
    name = validate_secret_name(params.get("name"))
    mgr = rt.secrets
    sec = mgr.find(name)
    if sec is not None and sec.name != name:
        sec = None  # the name matched another secret's ID prefix
    verb = (lambda done, todo: todo) if check_mode else (lambda done, todo: done)

    if (params.get("state") or "present") == "absent":
        if sec is None:
            return
        users = mgr.users(name)
        if users and not params.get("force"):
            raise SecretInUse('secret "%s" cannot be removed: container(s) %s use it' % (name, ", ".join(users)),
                              hint="remove those containers (or their secrets option) first, or set force: true "
                                   "(they then fail to start until the secret exists again)")
        if not check_mode:
            mgr.remove(sec)
            rt.event("secret", "remove", id=sec.id, name=name)
        res.act("%s secret %s%s" % (verb("removed", "remove"), name,
                                    " (still named by container(s) %s)" % ", ".join(users) if users else ""))
        res.before, res.after = {"exists": True}, {"exists": False}
        return

    data = _data(params)
    driver = params.get("driver") or "file"
    opts = _driver_opts(params)
    driver_for(driver, opts, mgr.root)  # validates driver_opts before anything changes
    labels = parse.parse_labels(params.get("labels") or {}, "labels")

    if sec is not None and (sec.driver != driver or sec.options != opts):
        what = "driver" if sec.driver != driver else "driver_opts"
        res.before = {"driver": sec.driver, "driver_opts": sec.options}
        res.after = {"driver": driver, "driver_opts": opts}
        if check_mode:
            res.act("recreate secret %s: %s changed" % (name, what))
            res.obj = mgr.inspect(sec)
            return
        users = mgr.users(name)
        mgr.remove(sec)
        rt.event("secret", "remove", id=sec.id, name=name)
        sec = mgr.create(name, data, driver, opts, labels)
        rt.event("secret", "create", id=sec.id, name=name)
        res.act("recreated secret %s: %s changed%s" % (name, what, _users_note(users)))
        res.obj = mgr.inspect(sec)
        return

    if sec is None:
        res.before, res.after = {"exists": False}, {"exists": True}
        if check_mode:
            res.act("create secret %s" % name)
            return
        sec = mgr.create(name, data, driver, opts, labels)
        rt.event("secret", "create", id=sec.id, name=name)
        res.act("created secret %s" % name)
        res.obj = mgr.inspect(sec)
        return

    if mgr.digest(data, create_key=not check_mode) != sec.digest:
        res.before["data"], res.after["data"] = HIDDEN_BEFORE, HIDDEN_AFTER
        note = _users_note(mgr.users(name))
        if not check_mode:
            mgr.replace_data(sec, data)
            rt.event("secret", "update", id=sec.id, name=name)
        res.act("%s secret %s: data changed%s" % (verb("updated", "update"), name, note))
    if labels != sec.labels:
        res.before["labels"], res.after["labels"] = dict(sec.labels), labels
        if not check_mode:
            mgr.set_labels(sec, labels)
        res.act("%s secret %s in place: labels changed" % (verb("updated", "update"), name))
    res.obj = mgr.inspect(sec)
