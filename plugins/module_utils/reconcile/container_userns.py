# SPDX-License-Identifier: GPL-3.0-or-later
"""userns, uidmap, gidmap, subuidname, subgidname → the container record's userns/uidmap/gidmap.

As podman: a gidmap defaults to the uidmap (and the other way round), a subgidname to the
subuidname; a user namespace mode other than the host's excludes explicit mappings. The
ranges of a subordinate-ID name are read now (the record keeps the mapping it ran with);
an ``auto`` block is allocated when the container is created (objects/container.py).
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from ..engine.base.errors import InvalidArg
from ..engine.host.autons import name_ranges
from ..engine.objects.userns import joined_maps
from ..engine.parse.idmap import format_idmaps


def userns_values(declared: Mapping[str, Any], pod_id: Optional[str] = None) -> Dict[str, Any]:
    """The record fields; raises InvalidArg for contradicting options."""
    mode = declared.get("userns")
    uidmap: List[str] = list(declared.get("uidmap") or [])
    gidmap: List[str] = list(declared.get("gidmap") or [])
    subuid, subgid = declared.get("subuidname"), declared.get("subgidname")
    explicit = [n for n, v in (("uidmap", uidmap), ("gidmap", gidmap), ("subuidname", subuid),
                               ("subgidname", subgid)) if v]
    if mode and explicit:
        raise InvalidArg("userns: %s cannot be combined with %s" % (mode, ", ".join(explicit)),
                         hint="use either userns or explicit mappings (uidmap/gidmap, subuidname/subgidname)")
    if (uidmap or gidmap) and (subuid or subgid):
        raise InvalidArg("uidmap/gidmap cannot be combined with subuidname/subgidname",
                         hint="give the mapping one way")
    if pod_id and (mode or explicit):
        raise InvalidArg("a container in a pod cannot have a user namespace of its own (%s)"
                         % ", ".join(explicit or ["userns"]),
                         hint="drop the option, or run the container outside the pod")
    if subuid or subgid:
        uidmap = format_idmaps(name_ranges(subuid or subgid, "uid", "subuidname"))
        gidmap = format_idmaps(name_ranges(subgid or subuid, "gid", "subgidname"))
    if mode and mode.startswith("ns:"):  # the joined namespace's own mappings: its rootfs is shifted through them
        uidmap, gidmap = joined_maps(mode[3:])
    uidmap, gidmap = uidmap or gidmap, gidmap or uidmap
    return {"userns": mode, "uidmap": uidmap, "gidmap": gidmap}
