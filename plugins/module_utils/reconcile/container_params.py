# SPDX-License-Identifier: GPL-3.0-or-later
"""Normalisers of the container options added for containers.podman parity (issue 23): process
and init, networking syntax, lifecycle, logging, and the podman-CLI-only parameters.

The Option rows themselves are in container_options.py (one table); what the values do when a
container is built is in container_build.py.
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Mapping, Optional

from ..engine.base.errors import InvalidArg
from ..engine.base.lazyre import lazy_compile
from ..engine.parse import values as parse

ZONEINFO = "/usr/share/zoneinfo"
SYSTEMD_MODES = ("true", "false", "always")
SDNOTIFY_MODES = ("container", "conmon", "ignore", "healthy")
IMAGE_VOLUME_MODES = ("bind", "tmpfs", "ignore")
LOG_DRIVERS = ("k8s-file", "journald", "json-file", "passthrough", "none")
JOURNALD_SOCKET = "/run/systemd/journal/socket"

#: parameters of the podman CLI (not of a container): accepted so playbooks run unchanged, and
#: ignored with a warning when set to something else than the peer's default
CLI_ONLY = {"executable": "podman", "debug": False, "cmd_args": None, "detach": True, "sig_proxy": None,
            "image_strict": None, "log_level": None}
#: the peer's systemd unit / quadlet generation: the engine's own boot integration instead
UNIT_FILES = ("generate_systemd", "quadlet_dir", "quadlet_filename", "quadlet_file_mode", "quadlet_options")


def systemd_mode(value: Any, ctx: Any) -> str:
    """true / false / always (podman --systemd); YAML booleans as true / false."""
    text = str(value).lower() if not isinstance(value, bool) else ("true" if value else "false")
    if text not in SYSTEMD_MODES:
        raise InvalidArg("invalid systemd %r" % (value,),
                         hint="true (systemd mode when the command is systemd or init), false, or always")
    return text


def timezone(value: Any, ctx: Any) -> str:
    """``local`` or a zone of the host's zoneinfo (checked now: the file is bind-mounted at start)."""
    tz = str(value)
    if tz == "local":
        return tz
    if not tz or tz.startswith("/") or ".." in tz.split("/") or not os.path.isfile(os.path.join(ZONEINFO, tz)):
        raise InvalidArg("invalid timezone %r: no such zone in %s" % (tz, ZONEINFO),
                         hint="an area-based zone such as Europe/Paris, or local (the host's)")
    return tz


def timezone_file(tz: Optional[str]) -> Optional[str]:
    """The host file bind-mounted at /etc/localtime for a declared timezone."""
    if not tz:
        return None
    if tz == "local":
        path = os.path.realpath("/etc/localtime")
        if not os.path.isfile(path):
            raise InvalidArg("timezone: local, but the host has no /etc/localtime",
                             hint="name a zone, e.g. timezone: Etc/UTC")
        return path
    return os.path.join(ZONEINFO, tz)


def env_merge(value: Any, ctx: Any) -> Dict[str, str]:
    """``{PATH: "/opt/bin:${PATH}"}``: values that may refer to the image's variables."""
    return parse.parse_env(value, "env_merge")


_REF = lazy_compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def merged_env(merge: Mapping[str, str], base: Mapping[str, str]) -> Dict[str, str]:
    """env_merge values with ``${VAR}`` / ``$VAR`` replaced from ``base`` (image and default env)."""
    return {k: _REF.sub(lambda m: base.get(m.group(1) or m.group(2), ""), v) for k, v in merge.items()}


def env_names(value: Any, ctx: Any) -> List[str]:
    names = []
    for item in value:
        name = str(item)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", name):
            raise InvalidArg("invalid unsetenv %r: not a variable name" % name, hint="for example unsetenv: [TERM]")
        names.append(name)
    return sorted(set(names))


def label_file(value: Any, ctx: Any) -> Dict[str, str]:
    """A file of ``key=value`` lines read now: the labels themselves are declared (and compared)."""
    path = str(value)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(1024 * 1024)
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArg("label_file %s: cannot read it: %s" % (path, exc),
                         hint="the path of a readable file of key=value lines on the managed host")
    lines = [ln.strip() for ln in text.splitlines()]
    return parse.parse_labels([ln for ln in lines if ln and not ln.startswith("#")], "label_file")


def expose(value: Any, ctx: Any) -> List[str]:
    """``80``, ``80/udp``, ``8000-8002`` → sorted ``port/proto`` entries, one per port."""
    out = set()
    for item in value:
        text = str(item).strip().lower()
        port, _sep, proto = text.partition("/")
        proto = proto or "tcp"
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", port)
        if proto not in ("tcp", "udp", "sctp") or not m:
            raise InvalidArg("invalid expose %r" % (item,), hint="PORT[-PORT][/tcp|udp|sctp], e.g. 8080 or 53/udp")
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        if not 1 <= first <= last <= 65535:
            raise InvalidArg("invalid expose %r: ports are 1-65535, low to high" % (item,))
        out.update("%d/%s" % (p, proto) for p in range(first, last + 1))
    return sorted(out, key=lambda e: (e.split("/")[1], int(e.split("/")[0])))


def hosts_file(value: Any, ctx: Any) -> str:
    text = str(value)
    if text not in ("none", "image") and not text.startswith("/"):
        raise InvalidArg("invalid hosts_file %r" % text, hint="an absolute path, image, or none")
    return text


def requires(value: Any, ctx: Any) -> List[str]:
    return sorted({str(v) for v in value})


def volumes_from(value: Any, ctx: Any) -> List[str]:
    out = []
    for item in value:
        name, _sep, mode = str(item).partition(":")
        if not name or any(o not in ("ro", "rw", "z", "Z") for o in mode.split(",") if mode):
            raise InvalidArg("invalid volumes_from %r" % (item,), hint="CONTAINER[:ro|rw]")
        out.append(str(item))
    return out


def log_driver(value: Any, ctx: Any) -> str:
    """json-file is k8s-file (as podman); journald needs the host's journal socket."""
    driver = "k8s-file" if value == "json-file" else str(value)
    if driver == "journald" and not os.path.exists(JOURNALD_SOCKET):
        raise InvalidArg("log_driver: journald, but this host has no journal (%s is missing)" % JOURNALD_SOCKET,
                         hint="use k8s-file (the default), or none")
    return driver


def seconds(param: str):
    """A stop time in seconds as the peer's strings: "10", 10; -1 = wait forever (None: the default)."""
    def norm(value: Any) -> Optional[int]:
        if value is None:
            return None
        try:
            num = int(str(value).strip())
        except ValueError:
            raise InvalidArg("invalid %s %r: expected whole seconds" % (param, value), hint="e.g. %s: 10" % param)
        if num < -1:
            raise InvalidArg("invalid %s %r: -1 (wait forever) or more" % (param, value))
        return 2 ** 31 if num == -1 else num
    return norm


def ignored_warnings(params: Mapping[str, Any]) -> List[str]:
    """Warnings for the podman-CLI parameters and the unit-file generation a task sets."""
    out = []
    for name, default in CLI_ONLY.items():
        value = params.get(name)
        if value is not None and value != default:
            out.append("%s is a podman CLI parameter: libpod.engine runs no podman command, %s: %r is ignored"
                       % (name, name, value))
    for name in UNIT_FILES:
        if params.get(name):
            out.append("%s is ignored: libpod.engine writes no systemd unit or quadlet file; containers with a "
                       "restart_policy are started again at boot by runtime_config restart_on_boot (a boot hook of "
                       "the engine, not a systemd service per container)" % name)
            break
    return out
