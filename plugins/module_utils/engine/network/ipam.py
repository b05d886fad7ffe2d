# SPDX-License-Identifier: GPL-3.0-or-later
"""IPv4 address management in the state DB (table ``ip_leases``), after podman's ipam.db.

Podman keeps per-boot leases in a BoltDB on tmpfs and walks sequentially from the last
address handed out, skipping the gateway and wrapping around, so a released address is
not reused at once (stale ARP/conntrack entries in peers). We do the same with SQLite:
every allocation runs inside ``State.tx()`` (BEGIN IMMEDIATE), so two module processes
serialise on the DB and can never lease the same address. The DB refresh after a reboot
deletes every lease (``State.refresh``), as ipam.db vanishes with /run.

The walk cursor ("last IP") lives in the ``meta`` table under ``ipam/last/<network>``;
``ip_leases`` has no room for it.

Published host ports are claimed in the same table (see portmap.py) under the reserved
network name ``PORT_CLAIMS``, which no real network can have (network names start with
an alphanumeric character).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable, List, Optional, Set

from ..base.errors import InvalidArg, NetworkError

#: ``ip_leases.network`` value for host port claims (never a valid network name)
PORT_CLAIMS = "#ports"
_CURSOR_KEY = "ipam/last/%s"


@dataclass
class Lease:
    """One row of ``ip_leases``."""

    network: str
    ip: str
    container_id: str


def parse_subnet(subnet: str, *, what: str = "subnet") -> ipaddress.IPv4Network:
    """An IPv4 subnet with room for a gateway and at least one container (prefix <= 30)."""
    try:
        net = ipaddress.ip_network(str(subnet).strip(), strict=False)
    except ValueError as err:
        raise InvalidArg("%s %r is not a valid CIDR subnet: %s" % (what, subnet, err),
                         hint="use the form 10.90.0.0/24")
    if not isinstance(net, ipaddress.IPv4Network):
        raise InvalidArg("%s %s: only IPv4 subnets are supported" % (what, subnet),
                         hint="use an IPv4 subnet such as 10.90.0.0/24")
    if net.prefixlen > 30:
        raise InvalidArg("%s %s is too small: it needs room for a gateway and containers" % (what, net),
                         hint="use a prefix length of 30 or less, e.g. /24")
    return net


def parse_subnet6(subnet: str, *, what: str = "ipv6_subnet") -> ipaddress.IPv6Network:
    """An IPv6 subnet with room for a gateway and containers (prefix <= 120)."""
    try:
        net = ipaddress.ip_network(str(subnet).strip(), strict=False)
    except ValueError as err:
        raise InvalidArg("%s %r is not a valid CIDR subnet: %s" % (what, subnet, err),
                         hint="use the form fd00:90::/64")
    if not isinstance(net, ipaddress.IPv6Network):
        raise InvalidArg("%s %s is not an IPv6 subnet" % (what, subnet),
                         hint="use an IPv6 subnet such as fd00:90::/64")
    if net.prefixlen > 120:
        raise InvalidArg("%s %s is too small" % (what, net), hint="use a prefix length of 120 or less, e.g. /64")
    return net


def check_gateway6(subnet6: str, gateway6: str) -> str:
    """The IPv6 gateway must be a host address inside the IPv6 subnet."""
    net = parse_subnet6(subnet6)
    try:
        gw = ipaddress.IPv6Address(str(gateway6).strip())
    except ValueError:
        raise InvalidArg("ipv6_gateway %r is not an IPv6 address" % (gateway6,),
                         hint="e.g. %s" % (net.network_address + 1))
    if gw not in net or gw == net.network_address:
        raise InvalidArg("ipv6_gateway %s is not a host address of %s" % (gw, net),
                         hint="e.g. %s" % (net.network_address + 1))
    return str(gw)


def _family_net(subnet: str):
    """The parsed subnet of either family (IPv6 subnets contain ':')."""
    return parse_subnet6(subnet) if ":" in str(subnet) else parse_subnet(subnet)


def default_gateway(subnet: str) -> str:
    """The gateway podman picks: the first host address of the subnet."""
    net = parse_subnet(subnet)
    return str(net.network_address + 1)


def check_gateway(subnet: str, gateway: str) -> str:
    """The gateway must be a host address inside the subnet."""
    net = parse_subnet(subnet)
    try:
        gw = ipaddress.IPv4Address(str(gateway).strip())
    except ValueError:
        raise InvalidArg("gateway %r is not an IPv4 address" % (gateway,),
                         hint="use a host address of subnet %s, e.g. %s" % (net, net.network_address + 1))
    if gw not in net or gw in (net.network_address, net.broadcast_address):
        raise InvalidArg("gateway %s is not a host address of subnet %s" % (gw, net),
                         hint="use e.g. %s" % (net.network_address + 1))
    return str(gw)


def check_ip_range(subnet: str, ip_range: str) -> str:
    """``ip_range`` (addresses handed out automatically) must be a CIDR inside the subnet."""
    net = parse_subnet(subnet)
    try:
        rng = ipaddress.ip_network(str(ip_range).strip(), strict=False)
    except ValueError as err:
        raise InvalidArg("ip_range %r is not a valid CIDR range: %s" % (ip_range, err),
                         hint="use a CIDR inside subnet %s, e.g. %s" % (net, net))
    if not isinstance(rng, ipaddress.IPv4Network) or not rng.subnet_of(net):
        raise InvalidArg("ip_range %s is not inside subnet %s" % (rng, net),
                         hint="use a CIDR inside the subnet, e.g. %s" % next(net.subnets(1)))
    return str(rng)


class IPAM:
    """Leases in ``ip_leases``; every method is one short transaction."""

    def __init__(self, state):
        self.state = state

    # -- queries -------------------------------------------------------------------------
    def lease_of(self, ctr_id: str, network: str, version: int = 4) -> Optional[str]:
        """The container's address on the network (``version`` 6: its IPv6 one; both share the
        network's rows, told apart by the ':' of IPv6 addresses)."""
        op = "LIKE" if version == 6 else "NOT LIKE"
        row = self.state.conn.execute(
            "SELECT ip FROM ip_leases WHERE network=? AND container_id=? AND ip %s '%%:%%'" % op,
            (network, ctr_id)).fetchone()
        return row[0] if row else None

    def leases(self, network: Optional[str] = None, ctr_id: Optional[str] = None) -> List[Lease]:
        """IP leases (not port claims), optionally for one network and/or container."""
        sql = "SELECT network, ip, container_id FROM ip_leases WHERE network<>?"
        args: list = [PORT_CLAIMS]
        if network is not None:
            sql += " AND network=?"
            args.append(network)
        if ctr_id is not None:
            sql += " AND container_id=?"
            args.append(ctr_id)
        rows = self.state.conn.execute(sql + " ORDER BY network, ip", tuple(args)).fetchall()
        return [Lease(*r) for r in rows]

    def users(self, network: str) -> List[str]:
        rows = self.state.conn.execute(
            "SELECT DISTINCT container_id FROM ip_leases WHERE network=? ORDER BY container_id",
            (network,)).fetchall()
        return [r[0] for r in rows]

    # -- allocation ----------------------------------------------------------------------
    def allocate(self, network: str, subnet: str, ctr_id: str, *, gateway: Optional[str] = None,
                 requested: Optional[str] = None, ip_range: Optional[str] = None) -> str:
        """Lease an address of ``subnet`` to ``ctr_id`` (the same one again if it has one).

        Sequential from after the last address handed out on this network, skipping the
        gateway, the network and broadcast addresses and leased ones; wraps around.
        """
        net = _family_net(subnet)
        v = net.version
        gw = ipaddress.ip_address(gateway) if gateway else net.network_address + 1
        conn = self.state.conn
        with self.state.tx():
            mine = self.lease_of(ctr_id, network, v)
            if mine is not None and (requested is None or requested == mine):
                return mine
            if mine is not None:
                conn.execute("DELETE FROM ip_leases WHERE network=? AND container_id=? AND ip=?",
                             (network, ctr_id, mine))
            taken: Set[int] = {int(ipaddress.ip_address(r[0])) for r in conn.execute(
                "SELECT ip FROM ip_leases WHERE network=?", (network,)) if (":" in r[0]) == (v == 6)}
            if requested is not None:
                ip = self._check_requested(network, net, gw, requested, taken)
            else:
                ip = self._next_free(network, net, gw, taken, ip_range)
            conn.execute("INSERT INTO ip_leases(network, ip, container_id) VALUES(?,?,?)",
                         (network, str(ip), ctr_id))
            conn.execute("INSERT INTO meta(key, value) VALUES(?,?) "
                         "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                         ((_CURSOR_KEY % network) + ("/6" if v == 6 else ""), str(ip)))
        return str(ip)

    def _check_requested(self, network: str, net: ipaddress.IPv4Network, gw: ipaddress.IPv4Address,
                         requested: str, taken: Set[int]) -> ipaddress.IPv4Address:
        try:
            ip = ipaddress.ip_address(str(requested).strip())
            if ip.version != net.version:
                raise ValueError(requested)
        except ValueError:
            raise InvalidArg("static IP %r for network %s is not an IPv%d address" % (requested, network, net.version))
        if ip not in net or ip in (net.network_address, net.broadcast_address, gw):
            raise InvalidArg("static IP %s is not a free host address of network %s (subnet %s, gateway %s)"
                             % (ip, network, net, gw), hint="choose an address inside %s" % net)
        if int(ip) in taken:
            row = self.state.conn.execute("SELECT container_id FROM ip_leases WHERE network=? AND ip=?",
                                          (network, str(ip))).fetchone()
            raise NetworkError("static IP %s on network %s is already leased to container %s"
                               % (ip, network, row[0][:12] if row else "?"),
                               hint="choose another address or remove that container")
        return ip

    def _next_free(self, network: str, net: ipaddress.IPv4Network, gw: ipaddress.IPv4Address,
                   taken: Set[int], ip_range: Optional[str] = None) -> ipaddress.IPv4Address:
        first = int(net.network_address) + 1
        last = int(net.broadcast_address) - 1
        if ip_range and net.version == 4:  # the pool handed out automatically (static ones anywhere in the subnet)
            rng = ipaddress.IPv4Network(ip_range, strict=False)
            first, last = max(first, int(rng.network_address)), min(last, int(rng.broadcast_address))
        size = last - first + 1
        cursor_txt = self.state.conn.execute("SELECT value FROM meta WHERE key=?", (
            (_CURSOR_KEY % network) + ("/6" if net.version == 6 else ""),)).fetchone()
        start = first
        if cursor_txt:
            try:
                cur = int(ipaddress.ip_address(cursor_txt[0]))
                if first <= cur <= last:
                    start = cur + 1 if cur < last else first
            except ValueError:
                pass
        gw_int = int(gw)
        for step in range(size):
            cand = first + (start - first + step) % size
            if cand != gw_int and cand not in taken:
                return ipaddress.ip_address(cand) if net.version == 4 else ipaddress.IPv6Address(cand)
        raise NetworkError(
            "network %s (subnet %s): no free IP address left, %d of %d addresses are leased"
            % (network, net, len(taken), size - 1),
            hint="remove unused containers or use a network with a larger subnet")

    # -- release -------------------------------------------------------------------------
    def release(self, ctr_id: str, network: Optional[str] = None) -> int:
        """Drop the container's IP leases (one network or all); returns how many."""
        with self.state.tx():
            if network is None:
                cur = self.state.conn.execute(
                    "DELETE FROM ip_leases WHERE container_id=? AND network<>?", (ctr_id, PORT_CLAIMS))
            else:
                cur = self.state.conn.execute(
                    "DELETE FROM ip_leases WHERE container_id=? AND network=?", (ctr_id, network))
            return cur.rowcount

    def release_network(self, network: str) -> int:
        with self.state.tx():
            cur = self.state.conn.execute("DELETE FROM ip_leases WHERE network=?", (network,))
            keys = (_CURSOR_KEY % network, (_CURSOR_KEY % network) + "/6")
            self.state.conn.execute("DELETE FROM meta WHERE key IN (?, ?)", keys)
            return cur.rowcount

    def release_orphans(self, live_ctr_ids: Iterable[str]) -> List[Lease]:
        """Delete leases and port claims of containers not in ``live_ctr_ids``."""
        live = set(live_ctr_ids)
        with self.state.tx():
            rows = self.state.conn.execute("SELECT network, ip, container_id FROM ip_leases").fetchall()
            gone = [Lease(*r) for r in rows if r[2] not in live]
            self.state.conn.executemany("DELETE FROM ip_leases WHERE network=? AND ip=?",
                                        [(g.network, g.ip) for g in gone])
        return gone

    def clear(self) -> None:
        """After a reboot: no lease survives (State.refresh does this too)."""
        with self.state.tx():
            self.state.conn.execute("DELETE FROM ip_leases")
