# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure parsers of the container options that reach the host: cgroup resources, devices,
namespace modes, security options (podman run's --cpuset-cpus, --device, --ipc, --security-opt ...).

Each returns the normalised declared value (so two spellings of one setting compare equal)
and refuses a bad value with an InvalidArg naming the parameter and the expected form.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional

from ..base.errors import InvalidArg
from ..base.lazyre import lazy_compile
from .values import parse_size

_CPUSET = lazy_compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")


def _bad(param: str, value: Any, expected: str) -> InvalidArg:
    return InvalidArg("invalid %s %r" % (param, value), hint="expected %s" % expected)


def parse_int_range(value: Any, param: str, low: int, high: Optional[int] = None) -> int:
    """An integer in [low, high] (bools and other types refused)."""
    if isinstance(value, str) and re.match(r"^-?\d+$", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bounds = "from %d to %d" % (low, high) if high is not None else ">= %d" % low
        raise _bad(param, value, "an integer %s" % bounds)
    return value


def parse_cpuset(value: Any, param: str) -> str:
    """``0-2,4``: CPUs or memory nodes as the cpuset files take them."""
    text = str(value).replace(" ", "")
    if not _CPUSET.match(text):
        raise _bad(param, value, "a list of numbers and ranges such as 0-2,4")
    for part in text.split(","):
        lo, _sep, hi = part.partition("-")
        if hi and int(hi) < int(lo):
            raise _bad(param, value, "ranges low-high with low <= high")
    return text


def parse_memory_swap(value: Any, param: str = "memory_swap") -> int:
    """memory+swap in bytes, or -1 for unlimited swap."""
    if value in (-1, "-1"):
        return -1
    return parse_size(value, param)


def _split_device_value(item: Any, param: str, expected: str) -> List[str]:
    text = str(item)
    path, sep, rate = text.rpartition(":")
    if not sep or not path.startswith("/dev/") or not rate:
        raise _bad(param, item, expected)
    return [path, rate]


def parse_throttles(values: Any, param: str, *, size: bool) -> List[Dict[str, Any]]:
    """``/dev/sda:10mb`` (bytes/s) or ``/dev/sda:100`` (IO/s) per device, sorted by path."""
    expected = "a list of /dev/PATH:RATE%s" % (" (a size such as 1mb)" if size else " (operations per second)")
    if isinstance(values, str):
        values = [values]
    out: Dict[str, int] = {}
    for item in values or []:
        path, rate = _split_device_value(item, param, expected)
        out[path] = parse_size(rate, param) if size else parse_int_range(rate, param, 0)
    return [{"path": p, "rate": out[p]} for p in sorted(out)]


def parse_weight_devices(value: Any, param: str = "blkio_weight_device") -> List[Dict[str, Any]]:
    """``{/dev/sda: 200}`` (the peer's dict) or a list of ``/dev/sda:200``."""
    expected = "a dict of /dev/PATH to a weight 10-1000, or a list of /dev/PATH:WEIGHT"
    items = ["%s:%s" % kv for kv in value.items()] if isinstance(value, Mapping) else \
        ([value] if isinstance(value, str) else list(value or []))
    out: Dict[str, int] = {}
    for item in items:
        path, weight = _split_device_value(item, param, expected)
        out[path] = parse_int_range(weight, param, 10, 1000)
    return [{"path": p, "weight": out[p]} for p in sorted(out)]


_PERMS = lazy_compile(r"^[rwm]{1,3}$")


def parse_device(value: Any, param: str = "device") -> Dict[str, str]:
    """``HOST[:CONTAINER][:PERMISSIONS]`` as podman's --device (permissions of r, w, m)."""
    parts = str(value).split(":")
    expected = "HOST[:CONTAINER][:rwm], HOST an absolute device path, e.g. /dev/fuse or /dev/null:/dev/mynull:r"
    perms = "rwm"
    if len(parts) > 1 and _PERMS.match(parts[-1]) and not parts[-1].startswith("/"):
        perms = parts.pop()
    if len(parts) > 2 or not parts[0].startswith("/") or (len(parts) == 2 and not parts[1].startswith("/")):
        raise _bad(param, value, expected)
    if len(set(perms)) != len(perms):
        raise _bad(param, value, expected)
    host = parts[0]
    return {"host": host, "container": parts[1] if len(parts) == 2 else host,
            "permissions": "".join(c for c in "rwm" if c in perms)}


_CGROUP_RULE = lazy_compile(r"^([acb]) (\d+|\*):(\d+|\*) ([rwm]{1,3})$")


def parse_device_cgroup_rules(value: Any, param: str = "device_cgroup_rule") -> List[str]:
    """``c 1:3 mr`` rules (type a/b/c, major:minor or ``*``, access r/w/m), normalised and sorted."""
    items = [value] if isinstance(value, str) else list(value or [])
    out = set()
    for item in items:
        m = _CGROUP_RULE.match(" ".join(str(item).split()))
        if not m:
            raise _bad(param, item, "TYPE MAJOR:MINOR ACCESS such as 'c 1:3 mr' or 'b *:* rwm'")
        out.add("%s %s:%s %s" % (m.group(1), m.group(2), m.group(3), "".join(c for c in "rwm" if c in m.group(4))))
    return sorted(out)


def device_cgroup_rule(rule: str) -> Dict[str, Any]:
    """One normalised rule as an OCI linux.resources.devices entry (allow)."""
    kind, nums, access = rule.split(" ")
    major, minor = nums.split(":")
    out: Dict[str, Any] = {"allow": True, "type": kind, "access": access}
    if major != "*":
        out["major"] = int(major)
    if minor != "*":
        out["minor"] = int(minor)
    return out


def parse_namespace_mode(value: Any, param: str, extra: tuple = ()) -> Optional[str]:
    """``host``, ``private``, ``container:NAME`` (and ``extra`` modes); "" = the default."""
    text = str(value).strip()
    if text in ("", "default"):
        return None
    if text in ("host", "private") + tuple(extra):
        return text
    if text.startswith("container:") and len(text) > len("container:"):
        return text
    raise _bad(param, value, "one of %s or container:NAME" % ", ".join(("host", "private") + tuple(extra)))


def parse_umask(value: Any, param: str = "umask") -> str:
    """An octal umask as a 4-digit string (``0022``); an int is read as the octal digits written."""
    text = str(value).strip()
    if not re.match(r"^0?[0-7]{1,4}$", text) or int(text, 8) > 0o7777:
        raise _bad(param, value, "an octal mask such as 0022 or 077 (quote it in YAML)")
    return "%04o" % int(text, 8)


def parse_group_add(value: Any, param: str = "group_add") -> List[str]:
    """Group names or numeric GIDs, in the order given without repeats."""
    items = [value] if isinstance(value, (str, int)) else list(value or [])
    out: List[str] = []
    for item in items:
        text = str(item).strip()
        if not text or ":" in text or text == "keep-groups":
            raise _bad(param, item, "group names or GIDs (keep-groups is for rootless podman only)")
        if text not in out:
            out.append(text)
    return out


#: security_opt keys: what each normalises to
_SECURITY_FORM = ("seccomp=PROFILE.json|unconfined, apparmor=PROFILE|unconfined, label=disable|type:T|level:L|"
                  "user:U|role:R|filetype:T|nested, no-new-privileges[=true|false], mask=PATH[:PATH], "
                  "unmask=PATH[:PATH]|ALL, proc-opts=OPT[,OPT]")


def parse_security_opt(value: Any, param: str = "security_opt") -> Dict[str, Any]:
    """podman's --security-opt list as one record (later entries win, lists are merged)."""
    items = [value] if isinstance(value, str) else list(value or [])
    out: Dict[str, Any] = {}
    for item in items:
        text = str(item).strip()
        key, sep, val = text.partition("=")
        if not sep and ":" in text and key not in ("no-new-privileges",):
            key, _s, val = text.partition(":")  # docker's older seccomp:PATH spelling
            sep = "="
        if key == "no-new-privileges":
            if val not in ("", "true", "false"):
                raise _bad(param, item, _SECURITY_FORM)
            out["no_new_privileges"] = val != "false"
        elif key in ("seccomp", "apparmor") and sep and val:
            out[key] = val
        elif key == "label" and sep and val:
            if val in ("disable", "nested") or re.match(r"^(type|level|user|role|filetype):.+$", val):
                out.setdefault("label", [])
                if val not in out["label"]:
                    out["label"].append(val)
            else:
                raise _bad(param, item, _SECURITY_FORM)
        elif key in ("mask", "unmask") and sep and val:
            paths = [p for p in val.split(":") if p]
            if not all(p.startswith("/") or (key == "unmask" and p == "ALL") for p in paths):
                raise _bad(param, item, "absolute paths separated by ':'" + (" or ALL" if key == "unmask" else ""))
            out.setdefault(key, [])
            out[key] += [p for p in paths if p not in out[key]]
        elif key == "proc-opts" and sep and val:
            out["proc_opts"] = [o for o in val.split(",") if o]
        else:
            raise _bad(param, item, _SECURITY_FORM)
    return out
