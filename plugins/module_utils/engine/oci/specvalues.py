# SPDX-License-Identifier: GPL-3.0-or-later
"""What the OCI spec derives from a container's config and its image, as values: the command, the
environment, the stop signal, systemd mode, the bounding capabilities.

Apart from spec.py (which re-exports them) because inspect and the option comparison need them on
every task, and spec.py's spec builder, seccomp and the resource, device and ID-mapping code it
imports cost ~4 ms to load that a no-op task does not need (issue 20).
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ..base.errors import InvalidArg
from ..parse.values import known_capabilities, normalize_capabilities, parse_env, parse_signal

#: containers.conf default_capabilities as shipped with podman 4.3 (reference §3.1).
DEFAULT_CAPABILITIES: Tuple[str, ...] = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
    "CAP_SYS_CHROOT",
)
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _proc_status_caps(key: str) -> Optional[int]:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _caps_from_mask(mask: Optional[int]) -> List[str]:
    known = known_capabilities()
    if mask is None:
        return list(known)
    return [c for bit, c in enumerate(known) if mask >> bit & 1]


def host_bounding_caps() -> List[str]:
    """The engine's own bounding set: what ``privileged`` gives (containers and exec)."""
    return _caps_from_mask(_proc_status_caps("CapBnd"))


def merge_capabilities(base: Sequence[str], add: Sequence[str], drop: Sequence[str],
                       all_caps: Sequence[str]) -> List[str]:
    """podman's MergeCapabilities: base ∪ add − drop, with "ALL" on either side; sorted."""
    add_n = normalize_capabilities(list(add), "cap_add")
    drop_n = normalize_capabilities(list(drop), "cap_drop")
    if "ALL" in drop_n:
        if "ALL" in add_n:
            raise InvalidArg("invalid cap_add/cap_drop: ALL cannot be both added and dropped")
        return sorted(c for c in add_n if c in all_caps)
    both = set(add_n) & set(drop_n)
    if both:
        raise InvalidArg("invalid cap_add/cap_drop: %s both added and dropped" % ", ".join(sorted(both)),
                         hint="remove it from one of the lists")
    caps = set(all_caps) if "ALL" in add_n else set(normalize_capabilities(list(base), "default_capabilities"))
    caps |= {c for c in add_n if c != "ALL"}
    caps -= set(drop_n)
    return sorted(c for c in caps if c in all_caps)


def bounding_capabilities(cfg: Mapping[str, Any], default_caps: Sequence[str],
                          host_caps: Optional[Sequence[str]] = None) -> List[str]:
    """The container's bounding set (inspect's BoundingCaps): the defaults (the host's set when privileged)
    with cap_add / cap_drop, limited to what the host's bounding set holds."""
    host_bnd = list(host_caps) if host_caps is not None else _caps_from_mask(_proc_status_caps("CapBnd"))
    base = host_bnd if cfg.get("privileged") else list(default_caps)
    return merge_capabilities(base, cfg.get("cap_add") or [], cfg.get("cap_drop") or [], host_bnd)


def _image_list(value: Any) -> List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def command_args(config: Mapping[str, Any], image: Mapping[str, Any]) -> List[str]:
    """podman's merge: user entrypoint replaces the image's and drops its Cmd; user command
    replaces the image Cmd; args = entrypoint + cmd."""
    user_ep = config.get("entrypoint")
    user_cmd = config.get("command")
    entrypoint = _image_list(user_ep) if user_ep is not None else _image_list(image.get("Entrypoint"))
    if user_cmd is not None:
        cmd = _image_list(user_cmd)
    elif user_ep is not None:
        cmd = []
    else:
        cmd = _image_list(image.get("Cmd"))
    # --entrypoint "" means "no entrypoint"
    if entrypoint == [""]:
        entrypoint = []
    return entrypoint + cmd


def effective_stop_signal(config: Dict[str, Any], image_config: Dict[str, Any]) -> int:
    """The signal a stop sends: the declared one, else the image's STOPSIGNAL, else SIGTERM."""
    if config.get("stop_signal"):
        return parse_signal(config["stop_signal"], "stop_signal")
    if systemd_mode(config, image_config):
        return SYSTEMD_STOP_SIGNAL
    if image_config.get("StopSignal"):
        return parse_signal(image_config["StopSignal"], "image StopSignal")
    return 15


def effective_env(default_env: Union[Dict[str, str], List[str]], image_config: Dict[str, Any],
                  env: Dict[str, str]) -> Dict[str, str]:
    """The process environment as podman builds it: base, containers.conf env, image Env, declared env."""
    out: Dict[str, str] = {"PATH": DEFAULT_PATH, "TERM": "xterm", "container": "podman"}
    out.update(parse_env(default_env, "default_env"))
    for item in _image_list(image_config.get("Env")):
        k, sep, v = item.partition("=")
        if sep and k:
            out[k] = v
    out.update(parse_env(env or {}, "env"))
    return out


#: the commands that make ``systemd: true`` run a container in systemd mode (podman's list)
SYSTEMD_COMMANDS = ("/sbin/init", "/usr/sbin/init", "/usr/local/sbin/init", "/lib/systemd/systemd",
                    "/usr/lib/systemd/systemd", "systemd")
#: systemd mode: tmpfs mounts (podman's), and SIGRTMIN+3 to stop
SYSTEMD_TMPFS = ("/run", "/run/lock", "/tmp", "/var/log/journal")
SYSTEMD_STOP_SIGNAL = 37


def systemd_mode(config: Mapping[str, Any], image: Mapping[str, Any]) -> bool:
    """``systemd: always``, or ``true`` (the default) with systemd or init as the command."""
    mode = str(config.get("systemd") or "true")
    if mode == "always":
        return True
    if mode != "true":
        return False
    args = command_args(config, image)
    return bool(args) and (args[0] in SYSTEMD_COMMANDS or os.path.basename(args[0]) == "systemd")
