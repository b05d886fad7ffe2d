# SPDX-License-Identifier: GPL-3.0-or-later
"""User-namespace ID mappings: the one parser of mapping strings and subordinate-ID files.

Three places speak this language: ``uidmap``/``gidmap`` options ("0:100000:65536", podman's
CONTAINER:HOST:SIZE order), ``/etc/subuid`` and ``/etc/subgid`` lines ("name:start:count", as
shadow's newuidmap reads them), and the OCI spec's ``linux.uidMappings``. All of them become
``IDMap`` records here so that rootless setup, container user namespaces and storage chown
agree on one meaning of a range.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

from ..base.errors import InvalidArg

__all__ = ["IDMap", "parse_idmap", "parse_idmaps", "parse_subid_text", "host_id", "container_id",
           "to_oci", "format_idmaps", "pairs", "MAX_ID"]

#: Highest valid 32-bit ID; (uid_t)-1 is "no ID" and cannot be mapped.
MAX_ID = 2**32 - 2


@dataclass(frozen=True)
class IDMap:
    """One contiguous range: container IDs [container_id, +size) are host IDs [host_id, +size)."""

    container_id: int
    host_id: int
    size: int

    def contains_container(self, cid: int) -> bool:
        return self.container_id <= cid < self.container_id + self.size

    def contains_host(self, hid: int) -> bool:
        return self.host_id <= hid < self.host_id + self.size


def _int(param: str, text: str, value: str) -> int:
    try:
        n = int(text, 10)
    except ValueError:
        n = -1
    if n < 0 or n > MAX_ID:
        raise InvalidArg("%s: %r is not an ID mapping: %r is not an ID between 0 and %d"
                         % (param, value, text, MAX_ID),
                         hint="write CONTAINER_ID:HOST_ID:SIZE, e.g. 0:100000:65536")
    return n


def parse_idmap(value: str, param: str = "uidmap") -> IDMap:
    """``CONTAINER:HOST:SIZE`` (podman's --uidmap order) into one IDMap."""
    parts = str(value).strip().split(":")
    if len(parts) != 3:
        raise InvalidArg("%s: %r is not an ID mapping" % (param, value),
                         hint="write CONTAINER_ID:HOST_ID:SIZE, e.g. 0:100000:65536")
    cid, hid, size = (_int(param, p, value) for p in parts)
    if size < 1:
        raise InvalidArg("%s: %r maps no IDs (size 0)" % (param, value), hint="give a size of 1 or more")
    if cid + size - 1 > MAX_ID or hid + size - 1 > MAX_ID:
        raise InvalidArg("%s: %r runs past the highest ID %d" % (param, value, MAX_ID))
    return IDMap(cid, hid, size)


def parse_idmaps(values: Iterable[str], param: str = "uidmap") -> List[IDMap]:
    """Several mappings; container ranges and host ranges must not overlap (the kernel refuses)."""
    maps = [parse_idmap(v, param) for v in values]
    ordered = sorted(maps, key=lambda m: m.container_id)
    for a, b in zip(ordered, ordered[1:]):
        if b.container_id < a.container_id + a.size:
            raise InvalidArg("%s: container ranges %s and %s overlap" % (param, _fmt(a), _fmt(b)))
    by_host = sorted(maps, key=lambda m: m.host_id)
    for a, b in zip(by_host, by_host[1:]):
        if b.host_id < a.host_id + a.size:
            raise InvalidArg("%s: host ranges %s and %s overlap" % (param, _fmt(a), _fmt(b)))
    return maps


def parse_subid_text(text: str, user: str, uid: Optional[int] = None) -> List[IDMap]:
    """The ranges /etc/subuid (or /etc/subgid) grants ``user`` (by name, or by numeric ``uid``).

    Returned as IDMaps whose container_id is the position inside the granted IDs (0, then the
    sizes of the ranges before), the order newuidmap needs after the user's own ID at 0.
    Comments, blank and malformed lines are skipped, as shadow's reader does.
    """
    keys = {user} | ({str(uid)} if uid is not None else set())
    out: List[IDMap] = []
    next_cid = 0
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) != 3 or parts[0] not in keys:
            continue
        try:
            start, count = int(parts[1]), int(parts[2])
        except ValueError:
            continue
        if start < 0 or count < 1:
            continue
        out.append(IDMap(next_cid, start, count))
        next_cid += count
    return out


def host_id(maps: Sequence[IDMap], cid: int) -> Optional[int]:
    """The host ID container ID ``cid`` maps to, or None when it is unmapped."""
    for m in maps:
        if m.contains_container(cid):
            return m.host_id + (cid - m.container_id)
    return None


def container_id(maps: Sequence[IDMap], hid: int) -> Optional[int]:
    """The container ID host ID ``hid`` appears as, or None (it shows as the overflow ID)."""
    for m in maps:
        if m.contains_host(hid):
            return m.container_id + (hid - m.host_id)
    return None


def to_oci(maps: Sequence[IDMap]) -> List[dict]:
    """The OCI spec's linux.uidMappings / gidMappings entries."""
    return [{"containerID": m.container_id, "hostID": m.host_id, "size": m.size} for m in maps]


def _fmt(m: IDMap) -> str:
    return "%d:%d:%d" % (m.container_id, m.host_id, m.size)


def format_idmaps(maps: Sequence[IDMap]) -> List[str]:
    """Back to podman's CONTAINER:HOST:SIZE strings (stored declared values, inspect)."""
    return [_fmt(m) for m in maps]


def pairs(maps: Sequence[IDMap]) -> List[Tuple[int, int, int]]:
    """(container, host, size) triples, the argument order newuidmap/newgidmap take."""
    return [(m.container_id, m.host_id, m.size) for m in maps]
