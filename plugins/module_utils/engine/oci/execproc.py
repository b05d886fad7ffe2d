# SPDX-License-Identifier: GPL-3.0-or-later
"""The OCI process of an exec session, after podman's prepareProcessExec.

An exec'd command runs with the container's own process spec (read back from the bundle's
config.json): its capabilities, rlimits, noNewPrivileges, apparmor/selinux labels and
umask. Only args, env, user, cwd and (privileged) the capability set differ. Seccomp and the
cgroup are the container's (the runtime joins them on ``exec``), so an exec never gets more
than the container has unless ``privileged`` is asked for, as with ``podman exec``.
"""
from __future__ import annotations

import copy
import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ..base.errors import InvalidArg, OCIRuntimeError
from .etcfiles import ExecUser

_CAP_SETS = ("bounding", "effective", "permitted", "inheritable", "ambient")


def read_bundle_process(bundle: str) -> Dict[str, Any]:
    """The ``process`` object of the running container's config.json."""
    path = os.path.join(bundle, "config.json")
    try:
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
    except (OSError, ValueError) as e:
        raise OCIRuntimeError("cannot read the container's OCI spec %s: %s" % (path, e),
                              hint="the container must be running (started by this engine)")
    proc = spec.get("process")
    if not isinstance(proc, dict):
        raise OCIRuntimeError("the container's OCI spec %s has no process" % path)
    return proc


def merge_env(base: Sequence[str], extra: Mapping[str, str]) -> List[str]:
    """The container's env with ``extra`` overriding by name (order kept, new names last)."""
    out: Dict[str, str] = {}
    for item in base:
        k, _unused, v = item.partition("=")
        out[k] = v
    for k, v in extra.items():
        if not k or "=" in k:
            raise InvalidArg("env: invalid variable name %r" % k, hint="names must not be empty or contain '='")
        out[k] = v
    return ["%s=%s" % kv for kv in out.items()]


def exec_process(base: Mapping[str, Any], args: Sequence[str], *, env: Optional[Mapping[str, str]] = None,
                 user: Optional[ExecUser] = None, cwd: Optional[str] = None, privileged: bool = False,
                 all_caps: Sequence[str] = (), cap_add: Sequence[str] = ()) -> Dict[str, Any]:
    """The process spec for ``runtime exec --process``.

    ``user`` None keeps the container's user. A non-root user gets only the container's
    explicitly added capabilities (as for the container's own process); ``privileged`` gives
    every capability of ``all_caps`` (the host's bounding set), as ``podman exec --privileged``.
    """
    if not args:
        raise InvalidArg("command: must not be empty", hint="give the command to run, e.g. command: [id, -u]")
    proc = copy.deepcopy(dict(base))
    proc["args"] = [str(a) for a in args]
    proc["terminal"] = False
    proc.pop("consoleSize", None)
    envl = list(proc.get("env") or [])
    if user is not None:
        u = dict(proc.get("user") or {})
        u.update(uid=user.uid, gid=user.gid)
        if user.additional_gids:
            u["additionalGids"] = list(user.additional_gids)
        else:
            u.pop("additionalGids", None)
        proc["user"] = u
        envl = merge_env(envl, {"HOME": user.home or "/"})
    if env:
        envl = merge_env(envl, {str(k): str(v) for k, v in env.items()})
    proc["env"] = envl
    if cwd:
        if not cwd.startswith("/"):
            raise InvalidArg("workdir: %r is not an absolute path" % cwd, hint="give an absolute path in the container")
        proc["cwd"] = os.path.normpath(cwd)
    caps = dict(proc.get("capabilities") or {})
    bounding = list(caps.get("bounding") or [])
    if privileged:
        full = sorted(set(all_caps) | set(bounding))
        caps = {k: list(full) for k in ("bounding", "effective", "permitted")}
    uid = int((proc.get("user") or {}).get("uid", 0))
    if uid != 0:
        allowed = set(caps.get("bounding") or [])
        added = sorted(c for c in cap_add if c in allowed) if not privileged else sorted(allowed)
        if "ALL" in cap_add:
            added = sorted(allowed)
        caps = dict(bounding=list(caps.get("bounding") or []))
        for k in ("effective", "permitted", "inheritable", "ambient"):
            caps[k] = list(added)
    else:  # root gets the whole bounding set, as the container's own root process does
        caps = {k: list(caps.get("bounding") or []) for k in ("bounding", "effective", "permitted")}
    proc["capabilities"] = {k: caps[k] for k in _CAP_SETS if k in caps}
    return proc
