# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks a container task can make before it changes anything, in check mode and in real runs.

Check mode promises to predict failures that can be seen without side effects; a real
run that fails here has not created, removed or started anything yet. Each check
gives the same error the start would give, earlier:

- a bind mount whose host source does not exist;
- a publish host IP that is not an address of this host;
- a user name the image's /etc/passwd does not know;
- a command that is neither a path to an executable nor on PATH in the image.

The image checks read the image's layers (no mount); a path that a declared mount covers
is not checked (the mount decides what the container will see).
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional

from ..engine.base.errors import InvalidArg
from ..engine.oci.resources import check_combinations
from ..engine.oci.spechost import check_host_options, check_no_cgroups
from ..engine.oci.specvalues import DEFAULT_PATH, command_args
from .container_options import OPTIONS

if TYPE_CHECKING:  # annotations only: preflight() runs before a create, never on a no-op
    from ..engine.storage.layerview import LayerView


def _bind_sources(declared: Mapping[str, Any]) -> None:
    for param in ("volume", "mount"):
        for m in declared.get(param) or []:
            src = m.get("source") or ""
            if m.get("type") == "bind" and src.startswith("/") and not os.path.exists(src):
                raise InvalidArg("%s: bind source %s does not exist (for %s)" % (param, src, m["destination"]),
                                 hint="create the host path first, or use a named volume")


def preflight_publish(declared: Mapping[str, Any]) -> None:
    """The publish host IPs (an in-place publish change checks only these)."""
    if not declared.get("publish"):
        return
    from ..engine.network.portmap import check_host_ip  # noqa: PLC0415 - networking only when ports are published

    for p in declared.get("publish") or []:
        spec = "%s:%s:%s/%s" % (p["host_ip"], p["host_port"] or "", p["container_port"], p["protocol"])
        check_host_ip(spec, p["host_ip"])


def _covered(path: str, destinations: List[str]) -> bool:
    """True when a declared mount decides what the container sees at ``path``."""
    path = os.path.normpath(path)
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in destinations)


def _env_path(declared: Mapping[str, Any], image_config: Mapping[str, Any]) -> str:
    env: Dict[str, str] = {"PATH": DEFAULT_PATH}
    for item in image_config.get("Env") or []:
        key, _sep, value = str(item).partition("=")
        env[key] = value
    env.update(declared.get("env") or {})
    return env["PATH"]


def _command(view: LayerView, declared: Mapping[str, Any], image_config: Mapping[str, Any],
             destinations: List[str]) -> None:
    args = command_args(declared, image_config)
    if not args:
        return  # the spec refuses it with its own message at create
    prog = args[0]
    if "/" in prog:
        if not prog.startswith("/") or _covered(prog, destinations):
            return  # relative to the working directory, or on a mount: decided at start
        candidates = [prog]
    else:
        dirs = [d for d in _env_path(declared, image_config).split(":") if d.startswith("/")]
        if any(_covered(d, destinations) for d in dirs):
            return
        candidates = [os.path.join(d, prog) for d in dirs]
    if not any(view.is_executable(c) for c in candidates):
        raise InvalidArg('command "%s" not found in the image (%s)'
                         % (prog, "no executable file" if "/" in prog else "not on PATH %s" % ":".join(
                             os.path.dirname(c) for c in candidates)),
                         hint="check command/entrypoint against the image's content and PATH")


def _user(view: LayerView, declared: Mapping[str, Any], image_config: Mapping[str, Any],
          destinations: List[str]) -> None:
    user = declared.get("user") or image_config.get("User") or ""
    if not user or any(_covered(p, destinations) for p in ("/etc/passwd", "/etc/group")):
        return
    if declared.get("hostuser") and declared.get("passwd") is not False:
        from ..engine.oci.userfiles import host_user  # noqa: PLC0415 - the host's passwd only when asked

        u = host_user(declared["hostuser"])
        if user.partition(":")[0] in (u.pw_name, str(u.pw_uid)):
            return  # the host user's entry is added at start
    from ..engine.oci.etcfiles import resolve_user  # noqa: PLC0415 - /etc readers only before a create

    resolve_user(None, user, read_file=view.read_text)  # raises "user ... not found in the image's /etc/passwd"


def _host_options(rt, declared: Mapping[str, Any]) -> None:
    """Resource combinations and what this host cannot apply (cgroup v1/v2, devices, AppArmor, ...)."""
    cfg = OPTIONS.config_values(declared)
    check_combinations(cfg)
    runtime = declared.get("oci_runtime") or getattr(rt, "default_runtime", "")
    check_host_options(cfg, runtime)
    if cfg.get("cgroups") == "disabled":
        entry = rt.runtimes.get(runtime)
        check_no_cgroups(dict(cfg, pod=declared.get("pod")), runtime, entry.path if entry else "",
                         rt.cfg.get("engine", "runtime_supports_nocgroups"))


def preflight(rt, declared: Mapping[str, Any], image: Optional[Any]) -> None:
    """Raise the error a create + start of ``declared`` would hit, where that needs no side effect.

    ``image`` None (check mode before a pull) skips the checks that read the image.
    """
    _bind_sources(declared)
    preflight_publish(declared)
    _host_options(rt, declared)
    if image is None or getattr(image, "is_rootfs", False):
        return  # no image read yet (check mode before a pull), or a rootfs directory (used as it is)
    destinations = [os.path.normpath(m["destination"])
                    for m in (declared.get("volume") or []) + (declared.get("mount") or [])
                    + (declared.get("tmpfs") or [])]
    view = rt.images.view(image)
    image_config = rt.images.image_config(image)
    _user(view, declared, image_config, destinations)
    _command(view, declared, image_config, destinations)
