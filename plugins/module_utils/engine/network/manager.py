# SPDX-License-Identifier: GPL-3.0-or-later
"""Bridge networking for containers, the way netavark 1.4 does it, with rtnetlink and nftables.

Per container: a network namespace bind-mounted at ``<tmp_dir>/netns/<ctr id>`` (made
before ``runc create`` and put into the OCI spec, as podman does), with ``lo`` up and,
for each network, a veth pair: ``eth<N>`` inside (address from IPAM, MAC derived from
the container ID) and ``<prefix>v<hash>`` on the host, enslaved to the network's bridge.
The first network gives the default route. Published ports are DNAT rules in our own
nft table (portmap.py). Networks are rows of the ``networks`` table; their bridges are
created lazily at the first setup, so a reboot needs nothing but the lease refresh.

Speed: the namespace is made by a short-lived thread that ``unshare(CLONE_NEWNET)``s,
opens a netlink socket (which stays bound to the new namespace) and bind-mounts its
``/proc/thread-self/ns/net``: no fork. Teardown only
unmounts the namespace: the kernel then destroys the veth pair by itself (~0.2 ms instead
of ~27 ms for a synchronous ``link del``).

The links, addresses and routes are made with our own rtnetlink requests (rtnl.py): the
library used before (pyroute2) cost 110-250 ms to import per task, more than the work.
"""
from __future__ import annotations

import datetime
import errno
import hashlib
import ipaddress
import os
import re
import socket
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set

from ..base.errors import EngineError, InvalidArg, NetworkError, NoSuchNetwork, RootConflict
from ..base.status import PAUSED, RUNNING
from ..config.schema import BRIDGE_PREFIX_PATTERN, bridge_prefix_error
from ..host.libc import errno_error, libc
from ..host.mounts import CLONE_NEWNET, MNT_DETACH, is_mount_point
from ..host.roots import RootId
from ..host.userpaths import rootless_uid
from ..store.state import dumps, loads
from . import dns, hostfw, loopproxy, portholder, portmap, registry, usermode
from .ipam import IPAM, check_gateway, check_gateway6, check_ip_range, parse_subnet, parse_subnet6
from .netns import in_thread as _in_thread
from .netns import is_nsfs as _is_nsfs
from .netns import make_netns as _make_netns
from .netns import netns_dir as _netns_dir
from .netns import remove_netns, share_netns_dir
from .portmap import Nft, PortMapping
from .record import Network
from .rtnl import NetlinkError, Rtnl

_RESERVED = {"host", "none", "bridge", "private", "container", "pod", "ns", "default", "slirp4netns", "pasta"}


def check_network_name(name: str) -> None:
    """InvalidArg unless ``name`` can name a network (the module checks it in check mode too)."""
    portmap.check_name("network name", name)
    if name in _RESERVED:
        raise InvalidArg("network name %r is reserved for a network mode" % name, hint="choose another name")


_IFNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,14}$")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _host_routes() -> List[tuple]:
    """(dev, IPv4Network) of the main routing table, from /proc (no netlink socket)."""
    out = []
    try:
        with open("/proc/net/route") as fh:
            next(fh, None)
            for line in fh:
                f = line.split()
                if len(f) < 8:
                    continue
                dest = ipaddress.IPv4Address(socket.ntohl(int(f[1], 16)))
                mask = ipaddress.IPv4Address(socket.ntohl(int(f[7], 16)))
                if int(mask) == 0:
                    continue  # default route
                out.append((f[0], ipaddress.IPv4Network("%s/%s" % (dest, mask), strict=False)))
    except (OSError, ValueError):
        pass
    return out


def _write_sysctl(path: str, value: str) -> None:
    """Write a /proc/sys value only when it differs (no needless writes)."""
    try:
        with open(path) as fh:
            if fh.read().strip() == value:
                return
        with open(path, "w") as fh:
            fh.write(value)
    except OSError as err:
        raise NetworkError("cannot set %s to %s: %s" % (path.replace("/proc/sys/", "").replace("/", "."),
                                                        value, err.strerror or err))


def _netns_socket(path: str) -> socket.socket:
    """In a thread: setns into ``path`` and open a netlink socket there."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc().setns(fd, CLONE_NEWNET) != 0:
            raise errno_error("setns(%s)" % path)
    finally:
        os.close(fd)
    return socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0)


def remove_netns_dir(netns_dir: str) -> None:
    """Unmount every netns file and the dir's own bind mount(s) (tests, system reset)."""
    if os.path.isdir(netns_dir):
        for name in os.listdir(netns_dir):
            remove_netns(os.path.join(netns_dir, name))
    for _i in range(8):  # concurrent first uses may have stacked a few bind mounts
        if not is_mount_point(netns_dir) or libc().umount2(netns_dir.encode(), MNT_DETACH) != 0:
            break


_IFA_F_NODAD = 0x02


def _v6_status(net: Network, ip6: str) -> Dict[str, Any]:
    """The IPv6 keys of a network's status block (podman: GlobalIPv6Address, IPv6Gateway...)."""
    return {"ip6": ip6, "prefix_len6": net.prefix_len6, "gateway6": net.gateway6, "subnet6": net.subnet6}


def _nl_error_code(err: BaseException) -> Optional[int]:
    return getattr(err, "code", None)


class NetworkManager:
    """Networks in the DB, per-container netns/veth/addresses/routes and port publishing."""

    def __init__(self, state, *, tmp_dir: str, default_network: str = "engine",
                 default_subnet: str = "10.90.0.0/24", bridge_prefix: str = "lpe",
                 nft_table: str = "libpod_engine", nft_backend: str = "auto", manage_ip_forward: bool = True,
                 root: Optional[RootId] = None, auto_bridge: bool = False, auto_subnet: bool = False,
                 warn: Optional[Callable[[str], None]] = None, aardvark_binary: Optional[str] = "",
                 proxy_command: Optional[Callable[[], List[str]]] = None):
        if not re.fullmatch(BRIDGE_PREFIX_PATTERN, bridge_prefix):
            raise InvalidArg(bridge_prefix_error(bridge_prefix))
        portmap.check_name("nft table", nft_table)
        self.state = state
        self.tmp_dir = tmp_dir
        self.netns_dir = _netns_dir(tmp_dir)
        self.default_network = default_network
        self.default_subnet = str(parse_subnet(default_subnet, what="default subnet"))
        self.bridge_prefix = bridge_prefix
        self.veth_prefix = bridge_prefix + "v"
        self.nft_table = nft_table
        self.manage_ip_forward = manage_ip_forward
        # host-wide ownership (registry.py); None: no registry (unit tests of one manager)
        self.root = root
        self.auto_bridge = auto_bridge  # bridge_prefix / default_subnet not set by the user:
        self.auto_subnet = auto_subnet  # the default network may move off another root's
        self._warn = warn or (lambda _msg: None)
        # argv prefix that runs loopproxy.py for [::1] publishes (the runtime's interpreter and engine copy)
        self._proxy_command = proxy_command
        self.ipam = IPAM(state)
        self.nft = Nft(nft_backend)
        self._ipr = None
        self._nsdir_ready = False
        # aardvark-dns of this root ("" = look for it; None = none: names go through /etc/hosts)
        self.dns = dns.Aardvark(os.path.join(tmp_dir, "aardvark"),
                                dns.find_binary() if aardvark_binary == "" else aardvark_binary)
        self._attach: Dict[str, Dict[str, Any]] = {}  # per-network settings of the setup in progress
        self._veth_re = re.compile("^%s[0-9a-f]+$" % re.escape(self.veth_prefix))

    # -- plumbing -------------------------------------------------------------------------
    def _host(self) -> Rtnl:
        """The host-side rtnetlink socket (opened on first use)."""
        if self._ipr is None:
            self._ipr = Rtnl()
        return self._ipr

    @staticmethod
    def _ns_ipr(sock: socket.socket) -> Rtnl:
        return Rtnl(sock)

    def close(self) -> None:
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None

    def _ensure_netns_dir(self) -> None:
        """The netns dir as a shared bind mount (netns.share_netns_dir), once per manager."""
        if self._nsdir_ready:
            return
        share_netns_dir(self.netns_dir)
        self._nsdir_ready = True

    def netns_path(self, ctr_id: str) -> str:
        return os.path.join(self.netns_dir, ctr_id)

    def veth_name(self, ctr_id: str, network: str) -> str:
        h = hashlib.sha256(("%s/%s" % (ctr_id, network)).encode()).hexdigest()
        return (self.veth_prefix + h)[:15]

    @staticmethod
    def mac_address(ctr_id: str, network: str) -> str:
        """Stable, locally administered unicast MAC for the container's interface."""
        b = bytearray(hashlib.sha256(("mac/%s/%s" % (ctr_id, network)).encode()).digest()[:6])
        b[0] = (b[0] & 0xFC) | 0x02
        return ":".join("%02x" % x for x in b)

    def _ifname(self, i: int, net: Network) -> str:
        """The container-side interface name: the declared one, else eth<N> by position."""
        return (self._attach.get(net.name) or {}).get("interface_name") or "eth%d" % i

    def _mac(self, ctr_id: str, net: Network) -> str:
        return (self._attach.get(net.name) or {}).get("mac_address") or self.mac_address(ctr_id, net.name)

    # -- networks in the DB ---------------------------------------------------------------
    def _load(self, name: str) -> Optional[Network]:
        row = self.state.conn.execute("SELECT config FROM networks WHERE name=? OR id=?", (name, name)).fetchone()
        return Network.from_dict(loads(row[0])) if row else None

    def _all(self) -> List[Network]:
        return [Network.from_dict(loads(r[0]))
                for r in self.state.conn.execute("SELECT config FROM networks ORDER BY name")]

    def _network(self, name: str) -> Network:
        net = self._load(name)
        if net is None:
            if name == self.default_network:
                return Network.from_dict(self.ensure_network(name))
            names = [n.name for n in self._all()]
            raise NoSuchNetwork("no network with name or ID %s found" % name,
                                hint="create it first; existing networks: %s" % (", ".join(names) or "none"))
        return net

    def get_network(self, name: str) -> Dict[str, Any]:
        """A network by name or ID (NoSuchNetwork if absent; the default one is not implied)."""
        net = self._load(name)
        if net is None:
            raise NoSuchNetwork("no network with name or ID %s found" % name,
                                hint="create it with ensure_network() or use %s" % self.default_network)
        return net.to_dict()

    def find(self, name: str) -> Optional[Network]:
        """The stored network of that name or ID, or None (the default one is not implied)."""
        return self._load(name)

    def list_networks(self) -> List[Dict[str, Any]]:
        return [n.to_dict() for n in self._all()]

    def ensure_network(self, name: Optional[str] = None, *, subnet: Optional[str] = None,
                       gateway: Optional[str] = None, bridge: Optional[str] = None,
                       internal: Optional[bool] = None, ip_range: Optional[str] = None,
                       dns_enabled: bool = False, labels: Optional[Dict[str, str]] = None,
                       options: Optional[Dict[str, str]] = None,
                       declared: Optional[Dict[str, Any]] = None, ipv6: bool = False,
                       subnet6: Optional[str] = None, gateway6: Optional[str] = None) -> Dict[str, Any]:
        """Create the network record if absent (the bridge comes at the first setup).

        An existing network is returned as is when the given parameters match it; a
        mismatch is an error (changing a subnet under running containers is not safe).
        """
        name = name or self.default_network
        check_network_name(name)
        with self.state.tx():
            cur = self._load(name)
            if cur is not None:
                self._check_same(cur, subnet, gateway, bridge, internal)
                return cur.to_dict()
            others = self._all()
            net_subnet = self._pick_subnet(name, subnet, others)
            gw = check_gateway(net_subnet, gateway) if gateway else str(
                ipaddress.IPv4Network(net_subnet).network_address + 1)
            br = self._pick_bridge(name, bridge, others)
            if self.root is not None:
                with registry.locked(self.root) as claims:
                    net_subnet, br = self._claim(claims, name, net_subnet, br, others,
                                                 explicit_subnet=bool(subnet), explicit_bridge=bool(bridge))
                    if gateway:
                        check_gateway(net_subnet, gateway)
                    gw = check_gateway(net_subnet, gateway) if gateway else str(
                        ipaddress.IPv4Network(net_subnet).network_address + 1)
            self._check_overlap(name, net_subnet, br, others)
            if name == self.default_network:
                nid = hashlib.sha256(("libpod.engine/network/%s" % name).encode()).hexdigest()
            else:
                nid = os.urandom(32).hex()
            if ip_range:
                check_ip_range(net_subnet, ip_range)
            net6 = gw6 = None
            if ipv6 or subnet6:
                net6 = self._pick_subnet6(name, nid, subnet6, others)
                gw6 = check_gateway6(net6, gateway6) if gateway6 else str(
                    ipaddress.IPv6Network(net6).network_address + 1)
            net = Network(name=name, id=nid, bridge=br, subnet=net_subnet, gateway=gw, subnet6=net6, gateway6=gw6,
                          internal=bool(internal), created=_now(), ip_range=ip_range or None,
                          dns_enabled=bool(dns_enabled), labels=dict(labels or {}), options=dict(options or {}),
                          declared=declared)
            self.state.conn.execute("INSERT INTO networks(name, id, config, created) VALUES(?,?,?,?)",
                                    (name, nid, dumps(net.to_dict()), time.time()))
        return net.to_dict()

    def _claim(self, claims, name: str, subnet: str, bridge: str, others: List[Network], *,
               explicit_subnet: bool, explicit_bridge: bool):
        """Record (bridge, subnet) as this root's in the host registry; another root's bridge or an
        overlapping subnet is refused, or, for the default network when the user set neither
        bridge_prefix nor default_subnet, replaced by a free one (with a warning)."""
        default = name == self.default_network
        # names and subnets the engine picked itself may move; the user's are refused
        auto_br = not explicit_bridge and (self.auto_bridge or not default)
        auto_sub = not explicit_subnet and (self.auto_subnet or not default)
        moved = []
        owner = claims.bridge_owner(bridge) or self._foreign_interface(claims, bridge)
        if owner is not None:
            if not auto_br:
                raise self._bridge_conflict(name, bridge, owner, default)
            bridge = self._free_bridge(claims, others)
            moved.append("bridge %s" % bridge)
        sub_owner = claims.subnet_owner(subnet) or self._route_owner(claims, subnet, others)
        if sub_owner is not None:
            if not auto_sub:
                raise self._subnet_conflict(name, subnet, sub_owner, default)
            subnet = self._free_subnet(claims, others)
            moved.append("subnet %s" % subnet)
        if moved and default:
            clash = owner if owner is not None else sub_owner
            self._warn("engine root %s: the default network's bridge or subnet would clash with %s; this "
                       "root uses %s instead (set [network] bridge_prefix and default_subnet to choose)"
                       % (self.root.static_dir, clash if isinstance(clash, str) else clash.describe(),
                          " and ".join(moved)))
        claims.write(name, bridge, subnet)
        return subnet, bridge

    @staticmethod
    def _foreign_interface(claims, bridge: str) -> Optional[str]:
        """An existing interface of that name that no root of ours claims: someone else's."""
        if os.path.exists("/sys/class/net/" + bridge) and bridge not in claims.by_bridge:
            return "an interface %s that this engine root did not create" % bridge
        return None

    def _route_owner(self, claims, subnet: str, others: List[Network]) -> Optional[str]:
        net = ipaddress.IPv4Network(subnet)
        ours = {o.bridge for o in others} | {b for b in claims.by_bridge if claims.mine(b)}
        for dev, route in _host_routes():
            if dev not in ours and net.overlaps(route):
                claim = claims.bridge_owner(dev)
                return claim.describe() if claim else "the host route %s on %s" % (route, dev)
        return None

    def _bridge_conflict(self, name: str, bridge: str, owner, default: bool) -> RootConflict:
        who = owner if isinstance(owner, str) else owner.describe()
        fix = ("set another [network] bridge_prefix for engine root %s (containers.conf or engine_options)"
               % self.root.static_dir if default else "give network %s another bridge name" % name)
        return RootConflict("engine root %s: network %s cannot use bridge %s: it is already used by %s"
                            % (self.root.static_dir, name, bridge, who), hint=fix)

    def _subnet_conflict(self, name: str, subnet: str, owner, default: bool) -> RootConflict:
        who = owner if isinstance(owner, str) else owner.describe()
        fix = ("set another [network] default_subnet for engine root %s (containers.conf or engine_options)"
               % self.root.static_dir if default else "give network %s another subnet" % name)
        return RootConflict("engine root %s: network %s: subnet %s overlaps %s"
                            % (self.root.static_dir, name, subnet, who), hint=fix)

    def _free_bridge(self, claims, others: List[Network]) -> str:
        taken = {n.bridge for n in others}
        n = 0
        while True:
            cand = "%s%d" % (self.bridge_prefix, n)
            if (cand not in taken and claims.bridge_owner(cand) is None
                    and self._foreign_interface(claims, cand) is None):
                return cand
            n += 1

    def _free_subnet(self, claims, others: List[Network]) -> str:
        """The first /24 from the default subnet on that no network, root or host route uses."""
        base = ipaddress.IPv4Network(self.default_subnet)
        used = ([ipaddress.IPv4Network(n.subnet) for n in others]
                + [ipaddress.IPv4Network(c.subnet) for c in claims.others()]
                + [r for d, r in _host_routes() if not claims.mine(d)])
        start = int(base.network_address)
        for i in range(4096):
            cand = ipaddress.IPv4Network(((start + i * 256) & 0xFFFFFFFF, 24))
            if not any(cand.overlaps(u) for u in used):
                return str(cand)
        raise NetworkError("no free /24 subnet after %s for the default network" % base,
                           hint="set [network] default_subnet")

    def _check_same(self, cur: Network, subnet, gateway, bridge, internal) -> None:
        diffs = []
        if subnet is not None and str(parse_subnet(subnet)) != cur.subnet:
            diffs.append("subnet %s (asked %s)" % (cur.subnet, subnet))
        if gateway is not None and gateway != cur.gateway:
            diffs.append("gateway %s (asked %s)" % (cur.gateway, gateway))
        if bridge is not None and bridge != cur.bridge:
            diffs.append("bridge %s (asked %s)" % (cur.bridge, bridge))
        if internal is not None and bool(internal) != cur.internal:
            diffs.append("internal %s (asked %s)" % (cur.internal, internal))
        if diffs:
            raise InvalidArg("network %s already exists with %s" % (cur.name, ", ".join(diffs)),
                             hint="remove the network first (no container may use it) or use another name")

    def _pick_subnet(self, name: str, subnet: Optional[str], others: List[Network]) -> str:
        if subnet:
            return str(parse_subnet(subnet))
        if name == self.default_network:
            return self.default_subnet
        # next free /24 after the default subnet (podman: default_subnet_pools in /24 steps)
        base = ipaddress.IPv4Network(self.default_subnet)
        used = [ipaddress.IPv4Network(n.subnet) for n in others] + [r for _d, r in _host_routes()]
        start = int(base.network_address) + base.num_addresses
        for i in range(256):
            cand = ipaddress.IPv4Network((start + i * 256, 24))
            if not any(cand.overlaps(u) for u in used):
                return str(cand)
        raise NetworkError("network %s: no free /24 subnet left after %s" % (name, base),
                           hint="give the subnet explicitly")

    @staticmethod
    def _pick_subnet6(name: str, nid: str, subnet6: Optional[str], others: List[Network]) -> str:
        """The declared IPv6 subnet, or a /64 of a unique local prefix derived from the network ID
        (RFC 4193: fd00::/8 with 40 pseudo-random bits), never one another network uses."""
        used = [ipaddress.IPv6Network(o.subnet6) for o in others if o.subnet6]
        if subnet6:
            net = parse_subnet6(subnet6)
            for o, u in zip([o for o in others if o.subnet6], used):
                if net.overlaps(u):
                    raise NetworkError("network %s: ipv6_subnet %s overlaps network %s (%s)" % (name, net, o.name, u),
                                       hint="choose another ipv6_subnet")
            return str(net)
        for i in range(64):
            h = hashlib.sha256(("libpod.engine/ula/%s/%d" % (nid, i)).encode()).digest()[:5]
            cand = ipaddress.IPv6Network((b"\xfd" + h + b"\0" * 10, 64))
            if not any(cand.overlaps(u) for u in used):
                return str(cand)
        raise NetworkError("network %s: no free IPv6 subnet" % name, hint="give ipv6_subnet explicitly")

    def _pick_bridge(self, name: str, bridge: Optional[str], others: List[Network]) -> str:
        taken = {n.bridge: n.name for n in others}
        if bridge:
            if not _IFNAME_RE.fullmatch(bridge) or not bridge.startswith(self.bridge_prefix):
                raise InvalidArg("network %s: bridge name %r must start with %r and have at most 15 letters, "
                                 "digits, '_' or '-'" % (name, bridge, self.bridge_prefix),
                                 hint="the engine only manages bridges it names itself")
            if bridge in taken:
                raise InvalidArg("network %s: bridge %s is already used by network %s" % (name, bridge, taken[bridge]),
                                 hint="choose another bridge name")
            return bridge
        n = 0 if name == self.default_network else 1
        if n == 0 and self.root is not None and "%s0" % self.bridge_prefix not in taken:
            return "%s0" % self.bridge_prefix  # its owner is checked by _claim (refuse or move)
        while True:
            cand = "%s%d" % (self.bridge_prefix, n)
            if cand in taken:
                pass
            elif self.root is not None:
                claim = registry.claim_of(cand)
                if (claim is None and not os.path.exists("/sys/class/net/" + cand)) or (
                        claim is not None and claim.static_dir == self.root.static_dir):
                    return cand  # free, or ours (a record lost in a reset that left the bridge)
            # a leftover interface of that name is fine only if it is one of our bridges
            elif not os.path.exists("/sys/class/net/" + cand) or os.path.isdir("/sys/class/net/%s/bridge" % cand):
                return cand
            n += 1

    @staticmethod
    def _check_overlap(name: str, subnet: str, bridge: str, others: List[Network]) -> None:
        net = ipaddress.IPv4Network(subnet)
        for o in others:
            if net.overlaps(ipaddress.IPv4Network(o.subnet)):
                raise NetworkError("network %s: subnet %s overlaps network %s (%s)" % (name, subnet, o.name, o.subnet),
                                   hint="choose another subnet")
        ours = {o.bridge for o in others} | {bridge}
        for dev, route in _host_routes():
            if dev not in ours and net.overlaps(route):
                raise NetworkError("network %s: subnet %s overlaps the host route %s on %s"
                                   % (name, subnet, route, dev), hint="choose a subnet that is not used on this host")

    def remove_network(self, name: str, force: bool = False) -> None:
        """Delete the record, its bridge and its nft chain; refuses while containers use it."""
        net = self._load(name)
        if net is None:
            raise NoSuchNetwork("no network with name or ID %s found" % name)
        users = self.ipam.users(net.name)
        if users and not force:
            raise NetworkError("network %s is in use by container(s) %s" % (net.name, ", ".join(u[:12] for u in users)),
                               hint="remove those containers first, or use force")
        self._delete_bridge(net.bridge)
        if self.nft.available():
            self._delete_net_chains(net)
        if self.root is not None:
            with registry.locked(self.root) as claims:
                claims.remove(net.bridge)
        self.ipam.release_network(net.name)
        if self.dns.write(net.name, [], []):
            self.dns.apply()
        with self.state.tx():
            self.state.conn.execute("DELETE FROM networks WHERE name=?", (net.name,))

    # -- DNS ------------------------------------------------------------------------------
    def serves_dns(self, name: str) -> bool:
        """Whether names on the network resolve through aardvark-dns (DNS enabled and installed)."""
        net = self._load(name)
        return net is not None and net.dns_enabled and self.dns.available

    def dns_sync(self, names: Iterable[str], records: Callable[[], Iterable[Any]]) -> None:
        """Rebuild the aardvark-dns files of these networks from the container records (``records()``
        is only called when a network serves DNS), then start, reload or stop the server.
        Networks without DNS (or gone) lose their file."""
        cache: List[Any] = []
        changed = False
        for name in dict.fromkeys(names):
            net = self._load(name)
            if net is None or not net.dns_enabled or not self.dns.available:
                changed |= self.dns.write(name, [], [])
                continue
            if not cache:
                cache.append(list(records()))
            # dual stack: aardvark-dns also listens on the IPv6 gateway (netavark does the same)
            listen = [net.gateway] + ([net.gateway6] if net.gateway6 else [])
            changed |= self.dns.write(name, listen, dns.network_entries(cache[0], name, (RUNNING, PAUSED)))
        if changed:
            self.dns.apply()

    def release_idle(self, name: str) -> bool:
        """Delete the bridge and nft chain of a network no container holds a lease on.

        The record stays (the bridge comes back lazily on the next setup), so removing the
        last container leaves no interface or rule of ours behind. False if still in use.
        """
        net = self._load(name)
        if net is None or self.ipam.users(net.name):
            return False
        self._delete_bridge(net.bridge)
        if self.nft.available():
            self._delete_net_chains(net)
        return True

    def _delete_net_chains(self, net: Network) -> None:
        lines = portmap.net_delete(self.nft_table, net.bridge)
        if net.subnet6:
            lines += portmap.net_delete(self.nft_table, net.bridge, "ip6")
        lines += hostfw.delete_lines(self.nft, self.nft_table, hostfw.owner_prefix(self._fw_tag(), net.bridge))
        self.nft.run("\n".join(lines) + "\n", what="delete the rules of network %s" % net.name)

    def owns_bridge(self, bridge: str) -> bool:
        """Whether the host registry names this root as the bridge's owner (always without one)."""
        if self.root is None:
            return True
        claim = registry.claim_of(bridge)
        return claim is not None and claim.static_dir == self.root.static_dir

    def remove_claimed_bridges(self) -> List[str]:
        """system_reset: the bridges the host registry says this root made but its DB no longer
        knows (a missing or damaged DB), deleted with their claims; their names. Without this the
        bridge stays, and once its claim is dropped the next start finds a foreign interface."""
        if self.root is None or rootless_uid() is not None:
            return []  # a rootless root has no bridges (nor access to the host's registry)
        with registry.locked(self.root) as claims:
            mine = sorted(b for b in claims.by_bridge if claims.mine(b))
        gone = []
        for bridge in mine:
            if os.path.isdir("/sys/class/net/%s/bridge" % bridge):
                self._delete_bridge(bridge)  # checks the claim again
                gone.append(bridge)
        with registry.locked(self.root) as claims:
            for bridge in mine:
                claims.remove(bridge)
        return gone

    def _delete_bridge(self, bridge: str) -> None:
        """Delete the bridge if it is ours: never one another root or tool created."""
        if not os.path.isdir("/sys/class/net/%s/bridge" % bridge) or not self.owns_bridge(bridge):
            return
        ipr = self._host()
        try:
            ipr.delete_link(name=bridge)
        except NetlinkError as err:
            if err.code != errno.ENODEV:
                raise NetworkError("cannot delete bridge %s: %s" % (bridge, err))

    # -- bridge ---------------------------------------------------------------------------
    def _ensure_bridge(self, net: Network) -> int:
        """Bridge up with the gateway address; created on first use (or after a reboot).

        The common case (bridge exists and is up) costs one netlink call (the address add,
        EEXIST when present): the index and flags come from if_nametoindex and sysfs.
        """
        ipr = self._host()
        if self.root is not None and not self.owns_bridge(net.bridge):
            self._reclaim(net)  # after a reboot (the registry is on a tmpfs) or a lost claim
        try:
            index = socket.if_nametoindex(net.bridge)
        except OSError:
            others = [o for o in self._all() if o.name != net.name]
            self._check_overlap(net.name, net.subnet, net.bridge, others)
            try:
                ipr.add_bridge(net.bridge, net.mtu or None)
            except NetlinkError as err:
                if err.code != errno.EEXIST:
                    raise NetworkError("network %s: cannot create bridge %s: %s" % (net.name, net.bridge, err))
            try:
                index = socket.if_nametoindex(net.bridge)
            except OSError:
                raise NetworkError("network %s: bridge %s vanished while being created" % (net.name, net.bridge))
        sysdir = "/sys/class/net/%s" % net.bridge
        if not os.path.isdir(sysdir + "/bridge"):
            raise NetworkError("network %s: interface %s exists but is not a bridge" % (net.name, net.bridge),
                               hint="delete that interface or give the network another bridge name")
        try:
            ipr.add_address(index, net.gateway, net.prefix_len)
        except NetlinkError as err:
            if err.code != errno.EEXIST:
                raise NetworkError("network %s: cannot add %s/%d to bridge %s: %s"
                                   % (net.name, net.gateway, net.prefix_len, net.bridge, err))
        if net.subnet6:
            # no duplicate address detection on the gateway (it would stay tentative for a while)
            for key in ("disable_ipv6", "accept_dad"):
                _write_sysctl("/proc/sys/net/ipv6/conf/%s/%s" % (net.bridge, key), "0")
            try:
                ipr.add_address(index, net.gateway6, net.prefix_len6)
            except NetlinkError as err:
                if err.code != errno.EEXIST:
                    raise NetworkError("network %s: cannot add %s/%d to bridge %s: %s"
                                       % (net.name, net.gateway6, net.prefix_len6, net.bridge, err))
        try:
            with open(sysdir + "/flags") as fh:
                up = int(fh.read().strip(), 16) & 1
        except (OSError, ValueError):
            up = 0
        if not up:
            ipr.set_up(index)
        return index

    def _reclaim(self, net: Network) -> None:
        """Claim a stored network's bridge and subnet again, or refuse naming their owner."""
        with registry.locked(self.root) as claims:
            if claims.mine(net.bridge):
                return
            default = net.name == self.default_network
            owner = claims.bridge_owner(net.bridge) or self._foreign_interface(claims, net.bridge)
            if isinstance(owner, str) and self._legacy_bridge_is_ours(net):
                owner = None  # made by this root before bridges had owners (an upgrade)
            if owner is not None:
                raise self._bridge_conflict(net.name, net.bridge, owner, default)
            others = [o for o in self._all() if o.name != net.name]
            sub_owner = claims.subnet_owner(net.subnet) or self._route_owner(claims, net.subnet, others)
            if sub_owner is not None:
                raise self._subnet_conflict(net.name, net.subnet, sub_owner, default)
            claims.write(net.name, net.bridge, net.subnet)

    def _legacy_bridge_is_ours(self, net: Network) -> bool:
        """An unclaimed bridge is this root's own if it carries the network's gateway and every
        port on it is a veth of one of this root's containers (none for an idle bridge)."""
        sysdir = "/sys/class/net/%s" % net.bridge
        try:
            ports = os.listdir(sysdir + "/brif")
            index = socket.if_nametoindex(net.bridge)
        except OSError:
            return False
        ids = [r[0] for r in self.state.conn.execute("SELECT id FROM containers")]
        expected = {self.veth_name(c, net.name) for c in ids}
        if any(p not in expected for p in ports):
            return False
        addrs = {a["address"] for a in self._host().addresses(socket.AF_INET) if a["index"] == index}
        return net.gateway in addrs

    def _host_sysctls(self, nets: Sequence[Network], ports: Sequence[PortMapping]) -> None:
        """Forwarding: per bridge always (hairpin DNAT is routed back into the bridge), globally
        for outbound NAT (replies arrive on the uplink); route_localnet for loopback DNAT."""
        for n in nets:
            _write_sysctl("/proc/sys/net/ipv4/conf/%s/forwarding" % n.bridge, "0" if n.internal else "1")
        if self.manage_ip_forward and any(not n.internal for n in nets):
            _write_sysctl("/proc/sys/net/ipv4/ip_forward", "1")
        if self.manage_ip_forward and any(n.subnet6 and not n.internal for n in nets):
            _write_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1")
        if ports and portmap.needs_route_localnet(ports):
            # only on our bridge: loopback-sourced DNATed packets may then leave through it
            _write_sysctl("/proc/sys/net/ipv4/conf/%s/route_localnet" % nets[0].bridge, "1")

    # -- port checks ----------------------------------------------------------------------
    def check_ports(self, ctr_id: str, publish: Iterable[Any]) -> None:
        """Before anything starts: PortInUse if a host port is held by another container or process."""
        portmap.check_name("container ID", ctr_id)
        portmap.check_ports(self.state, ctr_id, portmap.normalize_publish(publish))

    # -- setup ----------------------------------------------------------------------------
    def setup_none(self, ctr_id: str) -> Dict[str, Any]:
        """Network mode none: a netns with only ``lo`` up."""
        return self.setup(ctr_id, networks=[], publish=[])

    def setup_usermode(self, ctr_id: str, mode: str, options: Sequence[str],
                       publish: Iterable[Any] = ()) -> Dict[str, Any]:
        """Network modes pasta / slirp4netns (usermode.py): a netns with ``lo`` (as mode none), then
        the tool started on it with the published ports. On a netns that exists (a publish change
        of a running container) only the tool is restarted. Undone completely on failure."""
        portmap.check_name("container ID", ctr_id)
        mappings = portmap.normalize_publish(publish)
        # before the ports are claimed: a refused bind there would read "in use" for a low port
        usermode.check_unprivileged_ports(mappings, usermode.host_euid(), usermode.unprivileged_port_start())
        portmap.refuse_ipv6(mappings)
        path = self.netns_path(ctr_id)
        if _is_nsfs(path):
            usermode.stop(self.tmp_dir, ctr_id)  # frees its host ports before they are claimed again
            status: Dict[str, Any] = {"netns": path, "networks": {}, "ports": []}
        else:
            status = self.setup(ctr_id, networks=[], publish=[])
        try:
            ports = portmap.claim_ports(self.state, ctr_id, mappings) if mappings else []
            info = usermode.start(self.tmp_dir, ctr_id, mode, netns=path, options=options, ports=ports)
        except BaseException as err:
            try:
                self.teardown(ctr_id)
            except EngineError:
                pass
            if isinstance(err, OSError):
                raise NetworkError("container %s: starting %s failed: %s" % (ctr_id[:12], mode, err))
            raise
        tool = dict(usermode.status(mode, options), pid=info["pid"])
        status.update(ports=[p.to_dict() for p in ports], usermode=tool)
        return status

    def join(self, other_ctr_id: str) -> Dict[str, Any]:
        """Network mode container:X / pod: the other container's netns path, nothing to set up."""
        path = self.netns_path(other_ctr_id)
        if not _is_nsfs(path):
            raise NetworkError("container %s has no network namespace at %s" % (other_ctr_id[:12], path),
                               hint="start that container (or the pod's infra container) first")
        return {"netns": path, "networks": {}, "ports": [], "joined": other_ctr_id}

    def setup(self, ctr_id: str, *, networks: Sequence[str], publish: Iterable[Any] = (), hostname: str = "",
              aliases: Iterable[str] = (), static_ips: Optional[Dict[str, str]] = None,
              attach: Optional[Dict[str, Dict[str, Any]]] = None) -> Dict[str, Any]:
        """Network namespace, interfaces, addresses, routes and published ports for a container.

        ``networks=[]`` gives a netns with ``lo`` only (mode none). Idempotent: an existing
        healthy setup is kept (its ports re-applied); a broken one is torn down and redone.
        On failure everything made so far is torn down again.
        """
        portmap.check_name("container ID", ctr_id)
        names = list(networks)
        if len(set(names)) != len(names):
            raise InvalidArg("container %s: network list %s names a network twice" % (ctr_id[:12], names))
        mappings = portmap.normalize_publish(publish)
        if mappings and not names:
            raise InvalidArg("container %s: ports cannot be published without a network" % ctr_id[:12],
                             hint="use a bridge network, or drop publish for network mode none/host")
        nets = [self._network(n) for n in names]
        if nets and not nets[0].subnet6:
            portmap.refuse_ipv6(mappings, nets[0].name)
        static_ips = dict(static_ips or {})
        self._attach = {k: dict(v) for k, v in (attach or {}).items()}
        for n in nets:
            if (self._attach.get(n.name) or {}).get("ip6") and not n.subnet6:
                raise InvalidArg("container %s: ip6 %s on network %s, which has no IPv6 subnet"
                                 % (ctr_id[:12], self._attach[n.name]["ip6"], n.name),
                                 hint="create the network with ipv6: true (or ipv6_subnet), or drop ip6")
        for name, settings in self._attach.items():
            if settings.get("ip"):
                static_ips.setdefault(name, settings["ip"])
        path = self.netns_path(ctr_id)
        if _is_nsfs(path):
            status = self._healthy_status(ctr_id, nets, path)
            if status is not None:
                try:
                    ports = portmap.claim_ports(self.state, ctr_id, mappings)
                    self._hold_ports(ctr_id, ports, status["networks"][nets[0].name]["ip"] if nets else "")
                    if nets:
                        self._apply_nft(ctr_id, nets, ports, status)
                        self._host_sysctls(nets, ports)
                except BaseException:
                    self.teardown(ctr_id)
                    raise
                status.update(ports=[p.to_dict() for p in ports], hostname=hostname, aliases=list(aliases))
                return status
            self.teardown(ctr_id)
        elif os.path.lexists(path):
            remove_netns(path)  # a file left by a crash between create and bind mount
        try:
            return self._setup(ctr_id, nets, mappings, path, hostname=hostname, aliases=list(aliases),
                               static_ips=static_ips)
        except BaseException as err:
            try:
                self.teardown(ctr_id)
            except EngineError:
                pass
            if isinstance(err, EngineError):
                raise
            if isinstance(err, (OSError, ValueError)):
                raise NetworkError("container %s: network setup failed: %s" % (ctr_id[:12], err),
                                   hint="see the message; the partial setup was removed")
            raise

    def _setup(self, ctr_id: str, nets: List[Network], mappings: List[PortMapping], path: str, *,
               hostname: str, aliases: List[str], static_ips: Dict[str, str]) -> Dict[str, Any]:
        # 1. DB first: addresses and host ports (each one short BEGIN IMMEDIATE transaction)
        ips = {n.name: self.ipam.allocate(n.name, n.subnet, ctr_id, gateway=n.gateway,
                                          requested=static_ips.get(n.name), ip_range=n.ip_range) for n in nets}
        ips6 = {n.name: self.ipam.allocate(n.name, n.subnet6, ctr_id, gateway=n.gateway6,
                                           requested=(self._attach.get(n.name) or {}).get("ip6") or None)
                for n in nets if n.subnet6}
        ports = portmap.claim_ports(self.state, ctr_id, mappings) if mappings else []
        self._hold_ports(ctr_id, ports, ips[nets[0].name] if nets else "")
        # 2. kernel objects
        bridges = [self._ensure_bridge(n) for n in nets]
        self._ensure_netns_dir()
        sock = _in_thread(_make_netns, path)
        status: Dict[str, Any] = {"netns": path, "networks": {}, "ports": [p.to_dict() for p in ports],
                                  "hostname": hostname, "aliases": aliases}
        if not nets:  # mode none: lo (already up) is all there is
            sock.close()
            return status
        nsr = self._ns_ipr(sock)
        try:
            self._add_interfaces(ctr_id, nets, bridges, ips=ips, path=path, nsr=nsr, status=status, ips6=ips6)
        finally:
            nsr.close()
        # 3. firewall and sysctls
        if nets:
            self._apply_nft(ctr_id, nets, ports, status)
            self._host_sysctls(nets, ports)
        return status

    def _add_interfaces(self, ctr_id: str, nets: List[Network], bridges: List[int], *, ips: Dict[str, str],
                        path: str, nsr: Rtnl, status: Dict[str, Any], ips6: Optional[Dict[str, str]] = None) -> None:
        ipr = self._host()
        nsfd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        # the default route goes through the first network that is not internal (internal: none at all)
        route_net = next((n.name for n in nets if not n.internal), None)
        try:
            for i, (net, br) in enumerate(zip(nets, bridges)):
                host_if, ifname, mac = self.veth_name(ctr_id, net.name), self._ifname(i, net), self._mac(ctr_id, net)
                # the netns is new (lo is 1): the kernel gives the peers 2, 3... so no lookup is needed
                idx = 2 + i
                ipr.replace_veth(host_if, br, ifname, peer_netns_fd=nsfd, peer_mac=mac, mtu=net.mtu or None)
                nsr.add_address(idx, ips[net.name], net.prefix_len)
                nsr.set_up(idx)
                if net.name == route_net:
                    nsr.add_default_route(net.gateway)
                status["networks"][net.name] = {
                    "ip": ips[net.name], "prefix_len": net.prefix_len, "gateway": net.gateway, "mac": mac,
                    "interface": ifname, "bridge": net.bridge, "subnet": net.subnet, "host_interface": host_if}
                ip6 = (ips6 or {}).get(net.name)
                if ip6:
                    nsr.add_address(idx, ip6, net.prefix_len6, flags=_IFA_F_NODAD)
                    if net.name == route_net:
                        nsr.add_default_route(net.gateway6)
                    status["networks"][net.name].update(_v6_status(net, ip6))
        finally:
            os.close(nsfd)

    def _apply_nft(self, ctr_id: str, nets: List[Network], ports: List[PortMapping], status: Dict[str, Any]) -> None:
        """One nft transaction: the networks' masquerade chains and the container's DNAT chains."""
        lines: List[str] = []
        for n in nets:
            lines += portmap.net_rules(self.nft_table, n.name, n.bridge, n.subnet, internal=n.internal,
                                       isolate=n.isolate)
            if n.subnet6:
                lines += portmap.net_rules(self.nft_table, n.name, n.bridge, n.subnet6, internal=n.internal,
                                           isolate=n.isolate, family="ip6")
        if ports:
            first = status["networks"][nets[0].name]
            lines += portmap.ctr_rules(self.nft_table, ctr_id, ports, first["ip"], first.get("ip6") or "")
        else:
            lines += portmap.ctr_delete(self.nft_table, ctr_id)
        for n in nets:  # the host's forward chains with policy drop (hostfw.py)
            if not n.internal:
                lines += hostfw.ensure_lines(self.nft, self.nft_table, hostfw.comment(self._fw_tag(), n.bridge, n.name),
                                             [n.subnet] + ([n.subnet6] if n.subnet6 else []))
        self.nft.run("\n".join(lines) + "\n", what="rules for container %s" % ctr_id[:12])

    def _fw_tag(self) -> str:
        return hostfw.root_tag(self.root.static_dir if self.root else "")

    def remove_host_forward_rules(self) -> int:
        """Delete every accept rule of this root from the host's forward chains (system_reset:
        also those of networks whose record is already gone); how many."""
        if not self.nft.available():
            return 0
        lines = hostfw.delete_lines(self.nft, self.nft_table, hostfw.owner_prefix(self._fw_tag()))
        if lines:
            self.nft.run("\n".join(lines) + "\n", what="delete our rules in the host's forward chains")
        return len(lines)

    def _healthy_status(self, ctr_id: str, nets: List[Network], path: str) -> Optional[Dict[str, Any]]:
        """The status of an existing setup if every interface still has its leased address."""
        want = {}
        for i, n in enumerate(nets):
            ip = self.ipam.lease_of(ctr_id, n.name)
            if ip is None:
                return None
            want[self._ifname(i, n)] = (n, ip)
        try:
            sock = _in_thread(_netns_socket, path)
        except OSError:
            return None
        nsr = self._ns_ipr(sock)
        try:
            names = {link["index"]: link["ifname"] for link in nsr.links()}
            have = {(names.get(a["index"]), a["address"]) for a in nsr.addresses(socket.AF_INET)}
        finally:
            nsr.close()
        # extra interfaces made by the container itself are fine; ours must all be there
        if not set(want) <= set(names.values()):
            return None
        if {lease.network for lease in self.ipam.leases(ctr_id=ctr_id)} != {n.name for n in nets}:
            return None  # the network list changed: rebuild
        status: Dict[str, Any] = {"netns": path, "networks": {}, "ports": []}
        for ifname, (n, ip) in want.items():
            master = os.path.realpath("/sys/class/net/%s/master" % self.veth_name(ctr_id, n.name))
            if (ifname, ip) not in have or os.path.basename(master) != n.bridge:
                return None
            status["networks"][n.name] = {
                "ip": ip, "prefix_len": n.prefix_len, "gateway": n.gateway, "mac": self._mac(ctr_id, n),
                "interface": ifname, "bridge": n.bridge, "subnet": n.subnet,
                "host_interface": self.veth_name(ctr_id, n.name)}
            ip6 = self.ipam.lease_of(ctr_id, n.name, 6) if n.subnet6 else None
            if n.subnet6 and ip6 is None:
                return None
            if ip6:
                status["networks"][n.name].update(_v6_status(n, ip6))
        return status

    def _hold_ports(self, ctr_id: str, ports: List[PortMapping], target_ip: str) -> None:
        """Bind every published host port and hand the sockets to the container's holder process
        (portholder.py): reserved host-wide until the teardown. Kept when unchanged. Ports on
        ``[::1]`` make the holder the proxy that relays them to ``target_ip`` (loopproxy.py)."""
        keys = portholder.port_keys(ports)
        keys += ["%s>%s:%d" % (k, target_ip, m.container_port) for m in ports if loopproxy.proxied(m)
                 for k in portholder.port_keys([m])]
        if portholder.holding(self.tmp_dir, ctr_id, keys):
            return
        portholder.release(self.tmp_dir, ctr_id)
        if not keys:
            return
        socks = []
        routes = []
        try:
            for m in ports:
                if loopproxy.proxied(m):
                    routes.append((len(socks), target_ip, m.container_port))
                socks.append(portmap.bind_port(ctr_id, m))
            if routes and self._proxy_command is None:
                raise NetworkError("container %s: publish on [::1] needs the port proxy, which this engine "
                                   "cannot start" % ctr_id[:12], hint="publish on 127.0.0.1 instead")
            row = self.state.conn.execute("SELECT name FROM containers WHERE id=?", (ctr_id,)).fetchone()
            try:
                portholder.spawn(self.tmp_dir, ctr_id, socks, keys, {
                    "root": self.root.static_dir if self.root else "", "name": row[0] if row else ""},
                    proxy=self._proxy_command() if routes and self._proxy_command else None, routes=routes)
            except OSError as err:
                raise NetworkError("container %s: cannot hold the published ports: %s" % (ctr_id[:12], err),
                                   hint="see the message")
        finally:
            for sock in socks:
                sock.close()

    # -- teardown -------------------------------------------------------------------------
    def teardown(self, ctr_id: str, status: Optional[Dict[str, Any]] = None) -> None:
        """Remove the container's nft chains, its netns (the veths go with it) and its leases.

        Idempotent and needs no status: everything is found from the container ID. Only
        ``<tmp_dir>/netns/<ctr_id>`` is removed, never a joined namespace of another
        container. If a process still holds the namespace, the kernel keeps the veth
        until that process exits.
        """
        portmap.check_name("container ID", ctr_id)
        problems = []
        if self.nft.available():  # without nftables no rule can exist
            try:
                self.nft.run("\n".join(portmap.ctr_delete(self.nft_table, ctr_id)) + "\n",
                             what="delete the rules of container %s" % ctr_id[:12])
            except NetworkError as err:
                problems.append(str(err))
        usermode.stop(self.tmp_dir, ctr_id)  # pasta / slirp4netns (before its netns goes)
        try:
            remove_netns(self.netns_path(ctr_id))
        except OSError as err:
            problems.append("cannot remove %s: %s" % (self.netns_path(ctr_id), err.strerror or err))
        portholder.release(self.tmp_dir, ctr_id)  # frees the published host ports
        with self.state.tx():
            self.state.conn.execute("DELETE FROM ip_leases WHERE container_id=?", (ctr_id,))
        if problems:
            raise NetworkError("container %s: network teardown incomplete: %s" % (ctr_id[:12], "; ".join(problems)),
                               hint="run the cleanup again; leases were released")

    # -- crash recovery -------------------------------------------------------------------
    def cleanup_orphans(self, live_ctr_ids: Iterable[str]) -> List[str]:
        """Remove netns files, nft chains, leases and veths of containers that no longer exist.

        ``live_ctr_ids`` must contain every container that may own network objects (read it
        after taking the containers' locks, or the creator of a brand-new container may
        lose its netns).
        """
        live = set(live_ctr_ids)
        removed: List[str] = []
        # containers that were ours (the nft table is shared with other roots: never their chains)
        known = {r[0] for r in self.state.conn.execute("SELECT DISTINCT container_id FROM ip_leases")}
        known |= set(os.listdir(self.netns_dir)) if os.path.isdir(self.netns_dir) else set()
        known |= set(portholder.held(self.tmp_dir))
        for ctr_id in sorted(set(usermode.recorded(self.tmp_dir)) - live):
            usermode.stop(self.tmp_dir, ctr_id)
            removed.append("%s of %s" % ("network tool", ctr_id[:12]))
        for ctr_id in sorted(set(portholder.held(self.tmp_dir)) - live):
            portholder.release(self.tmp_dir, ctr_id)
            removed.append("port holder of %s" % ctr_id[:12])
        # netns files
        if os.path.isdir(self.netns_dir):
            for name in sorted(os.listdir(self.netns_dir)):
                if name not in live:
                    path = os.path.join(self.netns_dir, name)
                    try:
                        if remove_netns(path):
                            removed.append("netns %s" % path)
                    except OSError:
                        pass
        # nft chains (deleted with the add+flush+delete idiom: a concurrent delete is no error)
        bridges = {n.bridge for n in self._all()}
        lines: List[str] = []
        done: Set[tuple] = set()
        for family in ("ip", "ip6"):  # ip6: the IPv6 chains of dual-stack networks
            chains = self.nft.chain_names(family, self.nft_table) if self.nft.available() else []
            for chain in chains:
                owner = portmap.chain_owner(chain)
                if owner is None or (family,) + owner in done:
                    continue
                kind, key = owner
                if kind == "container" and family == "ip" and key not in live and (self.root is None or key in known):
                    lines += portmap.ctr_delete(self.nft_table, key)
                elif kind == "network" and key not in bridges and self._orphan_chain_is_ours(key):
                    lines += portmap.net_delete(self.nft_table, key, family)
                else:
                    continue
                done.add((family,) + owner)
                removed.append("nft chains of %s %s" % (kind, key))
        if lines:
            self.nft.run("\n".join(lines) + "\n", what="delete orphaned chains")
        # leases and port claims
        for lease in self.ipam.release_orphans(live):
            removed.append("lease %s %s (container %s)" % (lease.network, lease.ip, lease.container_id[:12]))
        # veths on our bridges whose container is gone (its netns still held elsewhere)
        if bridges and any(os.path.isdir("/sys/class/net/%s/bridge" % b) for b in bridges):
            removed += self._orphan_veths(live, bridges)
        return removed

    def _orphan_chain_is_ours(self, bridge: str) -> bool:
        """The nft table is shared by every root: a network chain is ours only if our registry
        claim names its bridge, or (no claim at all) the bridge carries our prefix."""
        if self.root is None:
            return True
        claim = registry.claim_of(bridge)
        if claim is not None:
            return claim.static_dir == self.root.static_dir
        return bridge.startswith(self.bridge_prefix)

    def _orphan_veths(self, live: Set[str], bridges: Set[str]) -> List[str]:
        nets = [n.name for n in self._all()]
        expected = {self.veth_name(c, n) for c in live for n in nets}
        ipr = self._host()
        links = ipr.links()
        by_index = {link["index"]: link["ifname"] for link in links}
        out = []
        for link in links:
            name = link["ifname"]
            master = by_index.get(link["master"])
            if master in bridges and self._veth_re.fullmatch(name) and name not in expected:
                try:
                    ipr.delete_link(index=link["index"])
                    out.append("veth %s" % name)
                except NetlinkError as err:
                    if err.code != errno.ENODEV:
                        raise NetworkError("cannot delete orphaned veth %s: %s" % (name, err))
        return out

    def refresh(self) -> None:
        """After a reboot: no lease is valid; stale netns files go; bridges come back lazily;
        records of pasta / slirp4netns go (a pid is only signalled if it is still that tool)."""
        self.ipam.clear()
        for ctr_id in usermode.recorded(self.tmp_dir):
            usermode.stop(self.tmp_dir, ctr_id)
        if os.path.isdir(self.netns_dir):
            for name in os.listdir(self.netns_dir):
                path = os.path.join(self.netns_dir, name)
                if not _is_nsfs(path):
                    try:
                        os.unlink(path)
                    except OSError:
                        pass


def parse_publish(spec):
    """Re-exported from portmap for callers that only import network."""
    return portmap.parse_publish(spec)
