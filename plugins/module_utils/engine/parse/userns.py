# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``userns`` option of a container run by root, parsed into one canonical record.

podman's modes: ``host`` (and ``""``/``private`` without mappings: the host's user namespace,
what podman run as root does), ``auto[:size=N,uidmapping=C:H:S,gidmapping=C:H:S]`` (a free
range of the IDs /etc/subuid grants the user ``containers``), ``ns:/path`` (join an existing
user namespace). ``keep-id`` and ``nomap`` are rootless modes: podman refuses them as root
with the messages used here. Pure parsing; the allocation of an auto range is host/autons.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional

from ..base.errors import InvalidArg
from .idmap import IDMap, format_idmaps, parse_idmap

__all__ = ["UsernsMode", "parse_userns", "AUTO_MIN_SIZE"]

#: podman's (containers/storage's) smallest automatic user namespace
AUTO_MIN_SIZE = 1024

_HINT = "one of host, private, auto[:size=N,uidmapping=C:H:S,gidmapping=C:H:S], ns:/path"


@dataclass(frozen=True)
class UsernsMode:
    """``mode``: host | auto | ns; ``size`` (auto, 0 = from the image), extra mappings (auto), ``path`` (ns)."""

    mode: str = "host"
    size: int = 0
    uidmapping: List[IDMap] = field(default_factory=list)
    gidmapping: List[IDMap] = field(default_factory=list)
    path: str = ""

    def canonical(self) -> Optional[str]:
        """The stored, compared form; None for the host's namespace (the default)."""
        if self.mode == "ns":
            return "ns:" + self.path
        if self.mode != "auto":
            return None
        opts = (["size=%d" % self.size] if self.size else []) + \
            ["uidmapping=" + m for m in format_idmaps(self.uidmapping)] + \
            ["gidmapping=" + m for m in format_idmaps(self.gidmapping)]
        return "auto" + (":" + ",".join(opts) if opts else "")


def _auto(opts: str) -> UsernsMode:
    size = 0
    uids: List[IDMap] = []
    gids: List[IDMap] = []
    for item in [o.strip() for o in opts.split(",") if o.strip()]:
        key, sep, val = item.partition("=")
        if not sep:
            raise InvalidArg("userns: auto option %r needs a value" % item, hint="e.g. auto:size=65536")
        if key == "size":
            if not val.isdigit() or int(val) < 1:
                raise InvalidArg("userns: auto size %r is not a positive number" % val, hint="e.g. auto:size=65536")
            size = int(val)
        elif key == "uidmapping":
            uids.append(parse_idmap(val, "userns auto uidmapping"))
        elif key == "gidmapping":
            gids.append(parse_idmap(val, "userns auto gidmapping"))
        else:
            raise InvalidArg("userns: unknown auto option %r" % key, hint="size, uidmapping or gidmapping")
    return UsernsMode("auto", size, uids, gids)


def parse_userns(value: Any, param: str = "userns") -> UsernsMode:
    """One ``userns`` value; rootless-only and unknown modes raise InvalidArg naming ``param``."""
    text = "" if value is None else str(value).strip()
    if text in ("", "host", "private"):
        return UsernsMode()
    name, _sep, opts = text.partition(":")
    if name in ("keep-id", "nomap"):  # podman's own words, as root
        raise InvalidArg("%s: %s is only supported in rootless mode" % (param, name),
                         hint="this engine runs as root: use uidmap/gidmap, userns: auto, or drop %s" % param)
    if name == "auto":
        return _auto(opts)
    if name == "ns":
        if not opts.startswith("/"):
            raise InvalidArg("%s: ns:%s is not an absolute path of a user namespace" % (param, opts),
                             hint="e.g. ns:/proc/1234/ns/user")
        return UsernsMode("ns", path=opts)
    if name == "container":
        raise InvalidArg("%s: container:%s is not supported: join the other container's namespace by path"
                         % (param, opts), hint="ns:/proc/<its pid>/ns/user")
    raise InvalidArg("invalid %s %r" % (param, value), hint=_HINT)
