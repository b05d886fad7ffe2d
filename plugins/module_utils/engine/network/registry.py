# SPDX-License-Identifier: GPL-3.0-or-later
"""Host-wide owners of bridges and subnets, so that engine roots never share or delete each other's.

One JSON file per bridge in ``/run/libpod-engine/networks/`` (a tmpfs, like the bridges
themselves), written under a flock before the bridge is created: ``{static_dir, network,
bridge, subnet}``. A root uses only bridges whose file names it, deletes only those, and
refuses a subnet that overlaps another root's. A file whose root has no DB any more is stale
and dropped. netavark keeps no such registry (one podman per host); several roots need one.
"""
from __future__ import annotations

import ipaddress
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Dict, Iterator, List, Optional

from ..host.roots import REGISTRY_DIR, RootId, read_json, registry_lock, write_json

FOLDER = "networks"


@dataclass(frozen=True)
class NetClaim:
    """A bridge (and its subnet) that one root's network uses."""

    static_dir: str
    network: str
    bridge: str
    subnet: str

    def describe(self) -> str:
        return "network %s (bridge %s, subnet %s) of engine root %s" % (
            self.network, self.bridge, self.subnet, self.static_dir)

    def overlaps(self, subnet: str) -> bool:
        try:
            return ipaddress.IPv4Network(self.subnet).overlaps(ipaddress.IPv4Network(subnet))
        except ValueError:
            return False


class Claims:
    """The live claims, read under the registry lock (see :func:`locked`)."""

    def __init__(self, folder: str, me: RootId):
        self.folder = folder
        self.me = me
        self.by_bridge: Dict[str, NetClaim] = {}
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".json"):
                continue
            doc = read_json(os.path.join(folder, name))
            try:
                claim = NetClaim(**{k: doc[k] for k in ("static_dir", "network", "bridge", "subnet")})
            except (KeyError, TypeError):
                continue
            if claim.static_dir != me.static_dir and not RootId.of(claim.static_dir).alive():
                try:
                    os.unlink(os.path.join(folder, name))  # its root is gone
                except OSError:
                    pass
                continue
            self.by_bridge[claim.bridge] = claim

    def others(self) -> List[NetClaim]:
        return [c for c in self.by_bridge.values() if c.static_dir != self.me.static_dir]

    def mine(self, bridge: str) -> bool:
        c = self.by_bridge.get(bridge)
        return c is not None and c.static_dir == self.me.static_dir

    def bridge_owner(self, bridge: str) -> Optional[NetClaim]:
        c = self.by_bridge.get(bridge)
        return c if c is not None and c.static_dir != self.me.static_dir else None

    def subnet_owner(self, subnet: str) -> Optional[NetClaim]:
        return next((c for c in self.others() if c.overlaps(subnet)), None)

    def write(self, network: str, bridge: str, subnet: str) -> None:
        claim = NetClaim(self.me.static_dir, network, bridge, subnet)
        write_json(os.path.join(self.folder, bridge + ".json"), asdict(claim))
        self.by_bridge[bridge] = claim

    def remove(self, bridge: str) -> None:
        if self.mine(bridge):
            try:
                os.unlink(os.path.join(self.folder, bridge + ".json"))
            except FileNotFoundError:
                pass
            del self.by_bridge[bridge]


@contextmanager
def locked(me: RootId, registry: str = REGISTRY_DIR) -> Iterator[Claims]:
    """The claims, under the host-wide lock: check and write in one critical section."""
    with registry_lock(FOLDER, registry) as folder:
        yield Claims(folder, me)


def claim_of(bridge: str, registry: str = REGISTRY_DIR) -> Optional[NetClaim]:
    """Lock-free read of one bridge's claim (the common case: it is ours)."""
    doc = read_json(os.path.join(registry, FOLDER, bridge + ".json"))
    try:
        return NetClaim(**{k: doc[k] for k in ("static_dir", "network", "bridge", "subnet")}) if doc else None
    except (KeyError, TypeError):
        return None
