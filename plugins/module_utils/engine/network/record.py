# SPDX-License-Identifier: GPL-3.0-or-later
"""A network record as stored in ``networks.config``: netavark's JSON shape (``podman network inspect``).

Kept apart from the manager so readers (network_info, reconcile) need no kernel code.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

#: network options the engine understands (``podman network create --opt``)
KNOWN_OPTIONS = ("mtu", "isolate")


@dataclass
class Network:
    """A bridge network. ``declared`` is the module's declared spec (None: made implicitly)."""

    name: str
    id: str
    bridge: str
    subnet: str
    gateway: str
    internal: bool = False
    driver: str = "bridge"
    created: str = ""
    options: Dict[str, str] = field(default_factory=dict)
    ip_range: Optional[str] = None
    dns_enabled: bool = False
    labels: Dict[str, str] = field(default_factory=dict)
    declared: Optional[Dict[str, Any]] = None
    #: dual stack: the IPv6 subnet and its gateway (None: IPv4 only)
    subnet6: Optional[str] = None
    gateway6: Optional[str] = None

    @property
    def prefix_len(self) -> int:
        return ipaddress.IPv4Network(self.subnet).prefixlen

    @property
    def prefix_len6(self) -> int:
        return ipaddress.IPv6Network(self.subnet6).prefixlen if self.subnet6 else 0

    @property
    def mtu(self) -> int:
        """The MTU option (0: the kernel's default)."""
        try:
            return int(self.options.get("mtu") or 0)
        except ValueError:
            return 0

    @property
    def isolate(self) -> bool:
        return str(self.options.get("isolate", "")).lower() in ("true", "1", "yes")

    def lease_range(self) -> Optional[Tuple[str, str]]:
        """(first, last) host address handed out automatically, from ``ip_range``."""
        if not self.ip_range:
            return None
        return range_bounds(self.subnet, self.ip_range)

    def to_dict(self) -> Dict[str, Any]:
        sub: Dict[str, Any] = {"subnet": self.subnet, "gateway": self.gateway}
        bounds = self.lease_range()
        if bounds:
            sub["lease_range"] = {"start_ip": bounds[0], "end_ip": bounds[1]}
        subs = [sub]
        if self.subnet6:
            subs.append({"subnet": self.subnet6, "gateway": self.gateway6})
        out = {"name": self.name, "id": self.id, "driver": self.driver, "network_interface": self.bridge,
               "created": self.created, "subnets": subs, "ipv6_enabled": bool(self.subnet6), "internal": self.internal,
               "dns_enabled": self.dns_enabled, "labels": dict(self.labels), "options": dict(self.options),
               "ipam_options": {"driver": "host-local"}}
        if self.ip_range:
            out["ip_range"] = self.ip_range
        if self.declared is not None:
            out["declared"] = dict(self.declared)
        return out

    def inspect(self) -> Dict[str, Any]:
        """``podman network inspect`` keys (the stored record without the engine's own ones)."""
        out = self.to_dict()
        out.pop("declared", None)
        out.pop("ip_range", None)
        return out

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> Network:
        subs = d.get("subnets") or [{}]
        sub = next((s for s in subs if ":" not in s.get("subnet", "")), subs[0])
        sub6 = next((s for s in subs if ":" in s.get("subnet", "")), {})
        return cls(subnet6=sub6.get("subnet"), gateway6=sub6.get("gateway"),
                   name=d["name"], id=d["id"], bridge=d["network_interface"], subnet=sub["subnet"],
                   gateway=sub["gateway"], internal=bool(d.get("internal")), driver=d.get("driver", "bridge"),
                   created=d.get("created", ""), options=dict(d.get("options") or {}),
                   ip_range=d.get("ip_range"), dns_enabled=bool(d.get("dns_enabled")),
                   labels=dict(d.get("labels") or {}), declared=d.get("declared"))


def range_bounds(subnet: str, ip_range: str) -> Tuple[str, str]:
    """First and last usable host address of ``ip_range`` (a CIDR inside ``subnet``)."""
    net = ipaddress.IPv4Network(subnet)
    rng = ipaddress.IPv4Network(ip_range, strict=False)
    first = max(int(rng.network_address), int(net.network_address) + 1)
    last = min(int(rng.broadcast_address), int(net.broadcast_address) - 1)
    return str(ipaddress.IPv4Address(first)), str(ipaddress.IPv4Address(last))
