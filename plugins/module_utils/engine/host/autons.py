# SPDX-License-Identifier: GPL-3.0-or-later
"""``userns: auto``: a free block of the IDs /etc/subuid and /etc/subgid grant the user ``containers``.

As podman run as root: the block is the first one of ``size`` IDs inside the granted ranges that
overlaps no other container's auto block. The blocks in use are the caller's to supply (the
containers' records in the state DB, read inside the transaction that stores the new one), so
that a block is recorded with its container and freed when the container is removed.
``LIBPOD_ENGINE_SUBUID`` / ``LIBPOD_ENGINE_SUBGID`` name other files (tests).
"""
from __future__ import annotations

import os
from typing import List, Optional, Sequence, Tuple

from ..base.errors import InvalidArg
from ..parse.idmap import IDMap
from .subids import SUBGID_FILE, SUBUID_FILE, subid_ranges

__all__ = ["AUTO_USER", "subid_file", "free_block", "auto_maps", "name_ranges"]

AUTO_USER = "containers"


def subid_file(kind: str) -> str:
    """/etc/subuid (kind "uid") or /etc/subgid, or the file the environment names instead."""
    if kind == "uid":
        return os.environ.get("LIBPOD_ENGINE_SUBUID") or SUBUID_FILE
    return os.environ.get("LIBPOD_ENGINE_SUBGID") or SUBGID_FILE


def name_ranges(name: str, kind: str, param: str) -> List[IDMap]:
    """The ranges of ``name`` as a mapping (container 0 = the first granted ID); a clear error when none."""
    path = subid_file(kind)
    ranges = subid_ranges(name, None, path)
    if not ranges:
        flag = "--add-subuids" if kind == "uid" else "--add-subgids"
        raise InvalidArg("%s: user %s has no subordinate %sIDs in %s" % (param, name, kind.upper()[0], path),
                         hint="grant a range as root: usermod %s 100000-165535 %s" % (flag, name))
    return ranges


def free_block(granted: Sequence[IDMap], used: Sequence[Tuple[int, int]], size: int) -> Optional[int]:
    """The lowest host ID starting ``size`` free IDs inside one granted range, or None."""
    taken = sorted(used)
    for r in sorted(granted, key=lambda m: m.host_id):
        start, end = r.host_id, r.host_id + r.size
        for u_start, u_size in taken:
            if u_start + u_size <= start or u_start >= end:
                continue
            if u_start - start >= size:
                return start
            start = max(start, u_start + u_size)
        if end - start >= size:
            return start
    return None


def auto_maps(host_start: int, size: int, extra: Sequence[IDMap]) -> List[IDMap]:
    """Container IDs [0, size) onto [host_start, +size), minus the container IDs ``extra`` maps, plus ``extra``."""
    holes = sorted((m.container_id, m.container_id + m.size) for m in extra)
    out: List[IDMap] = []
    cid, hid = 0, host_start
    for h_start, h_end in holes + [(size, size)]:
        if h_start > cid and cid < size:
            n = min(h_start, size) - cid
            out.append(IDMap(cid, hid, n))
            hid += n
        cid = max(cid, h_end)
    return out + list(extra)
