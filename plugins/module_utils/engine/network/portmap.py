# SPDX-License-Identifier: GPL-3.0-or-later
"""Port publishing: parse ``publish`` specs, claim host ports, and the nftables rules.

Rules live in our own table (``table ip <nft_table>``, IPv4 only) so nothing else on the
host is touched. Every object owns its own *base* chains in that table:

* a container ``C``: ``c_<C>_pre`` (nat prerouting, DNAT of traffic arriving for a
  published port) and ``c_<C>_out`` (nat output, DNAT of locally generated traffic,
  e.g. ``curl 127.0.0.1:8080`` on the host);
* a network on bridge ``B``: ``n_<B>_post`` (nat postrouting: masquerade of the subnet
  leaving through other interfaces, and of DNATed loopback/hairpin connections entering
  the bridge, so replies come back through the host).

Adding or removing one container is one atomic nft transaction on its own chains: no
rule handles, no shared dispatch chain, no listing before a delete. A delete that must
not fail when the chain is already gone uses ``add chain`` + ``flush`` + ``delete`` in the
same transaction (nft 1.0.6 has no ``destroy``). NAT chains only see the first packet of
a connection, so one base chain per container costs nothing on established flows; the
kernel stops at the first chain that sets up a binding, and our per-container matches
are disjoint because host ports are claimed exclusively (below).

nft is driven through libnftables (``libnftables.so.1``, part of the ``nftables`` package)
with ctypes: ~0.2-1 ms per transaction against ~3-20 ms for ``nft -f -`` in a subprocess
(the Debian ``python3-nftables`` binding is not importable from a non-Debian Python).
``nft`` on PATH is the fallback.

Host ports are claimed in the DB (``ip_leases`` rows under the reserved network
``#ports``, key ``<proto>/<port>/<host ip>``) inside ``State.tx()``, so two containers of
ours never get the same port, and a bind test catches ports held by host processes.
"""
from __future__ import annotations

import errno
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
from dataclasses import asdict, dataclass
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from ..base.errors import InvalidArg, NetworkError, PortInUse
from . import loopproxy, portholder
from .ipam import PORT_CLAIMS

PROTOCOLS = ("tcp", "udp")
ANY_IP = "0.0.0.0"
_PORT_RE = re.compile(r"^[0-9]{1,5}$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class PortMapping:
    """One published port; ``host_port`` 0 = pick a free one at setup (podman ``-p 80``)."""

    host_ip: str
    host_port: int
    container_port: int
    protocol: str = "tcp"

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    def spec(self) -> str:
        """The mapping as a ``publish`` string, for messages."""
        host = self.host_port if self.host_port else ""
        ip = "[%s]" % self.host_ip if ":" in self.host_ip else self.host_ip
        return "%s:%s:%d/%s" % (ip, host, self.container_port, self.protocol)

    def overlaps(self, other: PortMapping) -> bool:
        """Same host port and protocol on the same address (0.0.0.0 overlaps every address)."""
        return (self.protocol == other.protocol and self.host_port == other.host_port and self.host_port != 0
                and (self.host_ip == other.host_ip or ANY_IP in (self.host_ip, other.host_ip)))


# -- parsing ------------------------------------------------------------------------------

def _bad(spec: Any, why: str) -> InvalidArg:
    return InvalidArg("publish %r: %s" % (spec, why),
                      hint="use [hostIP:][hostPort:]containerPort[/tcp|udp], e.g. 127.0.0.1:8080:80/tcp "
                           "or 8080-8081:80-81")


def _port_range(spec: Any, text: str, what: str, *, allow_zero: bool) -> Tuple[int, int]:
    """``"80"`` -> (80, 80); ``"80-82"`` -> (80, 82)."""
    parts = text.split("-")
    if len(parts) > 2:
        raise _bad(spec, "%s %r is not a port or a port range" % (what, text))
    values = []
    for raw in parts:
        p = raw.strip()
        if not _PORT_RE.fullmatch(p):
            raise _bad(spec, "%s %r is not a port number" % (what, text))
        v = int(p)
        if v > 65535 or (v == 0 and not (allow_zero and len(parts) == 1)):
            raise _bad(spec, "%s %s is out of range 1-65535" % (what, p))
        values.append(v)
    start, end = values[0], values[-1]
    if end < start:
        raise _bad(spec, "%s range %r ends before it starts" % (what, text))
    return start, end


def _host_ip(spec: Any, text: str) -> str:
    text = text.strip()
    if not text:
        return ANY_IP
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        # ::1 is served by loopproxy.py; the others need a dual-stack network (refuse_ipv6 at setup)
        try:
            return str(ipaddress.IPv6Address(text))
        except ValueError:
            raise _bad(spec, "host IP %r is not an IPv6 address" % text)
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise _bad(spec, "host IP %r is not an IPv4 address" % text)


def _protocols(spec: Any, text: str) -> List[str]:
    protos = []
    for raw in text.split(","):
        p = raw.strip().lower()
        if p not in PROTOCOLS:
            raise _bad(spec, "protocol %r is not supported (tcp or udp)" % p)
        if p not in protos:
            protos.append(p)
    return protos


def _expand(spec: Any, host_ip: str, host: Optional[Tuple[int, int]], ctr: Tuple[int, int],
            protos: List[str]) -> List[Dict[str, Any]]:
    count = ctr[1] - ctr[0] + 1
    if host is None or host == (0, 0):
        hosts = [0] * count
    elif host[0] == host[1] and count > 1:
        # podman: "8080:80-82" publishes 8080-8082
        if host[0] + count - 1 > 65535:
            raise _bad(spec, "host port range %d-%d exceeds 65535" % (host[0], host[0] + count - 1))
        hosts = list(range(host[0], host[0] + count))
    elif host[1] - host[0] + 1 != count:
        raise _bad(spec, "host port range %d-%d and container port range %d-%d differ in length"
                   % (host[0], host[1], ctr[0], ctr[1]))
    else:
        hosts = list(range(host[0], host[1] + 1))
    return [PortMapping(host_ip, hp, cp, proto).to_dict()
            for proto in protos for hp, cp in zip(hosts, range(ctr[0], ctr[1] + 1))]


def _parse_str(spec: str) -> List[Dict[str, Any]]:
    text = spec.strip()
    if not text:
        raise _bad(spec, "empty")
    bracket_ip = None
    if text.startswith("["):
        # [IPv6]:hostPort:containerPort (podman's form)
        ip_txt, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise _bad(spec, "an IPv6 host address is written [ADDR]:hostPort:containerPort")
        bracket_ip, text = _host_ip(spec, "[%s]" % ip_txt), rest[1:]
    elif "[" in text or text.count(":") > 2:
        raise _bad(spec, "too many ':' (write an IPv6 host address in brackets: [::1]:8080:80)")
    proto_txt = "tcp"
    if "/" in text:
        text, proto_txt = text.rsplit("/", 1)
    protos = _protocols(spec, proto_txt)
    parts = text.split(":")
    host_ip, host_txt = ANY_IP, ""
    if bracket_ip is not None:
        if len(parts) != 2:
            raise _bad(spec, "an IPv6 host address is written [ADDR]:hostPort:containerPort")
        host_ip, host_txt, ctr_txt = bracket_ip, parts[0], parts[1]
    elif len(parts) == 3:
        host_ip, host_txt, ctr_txt = _host_ip(spec, parts[0]), parts[1], parts[2]
    elif len(parts) == 2:
        host_txt, ctr_txt = parts
    else:
        ctr_txt = parts[0]
    ctr = _port_range(spec, ctr_txt, "container port", allow_zero=False)
    host = _port_range(spec, host_txt, "host port", allow_zero=True) if host_txt.strip() else None
    return _expand(spec, host_ip, host, ctr, protos)


_DICT_KEYS = {"host_ip", "host_port", "container_port", "protocol"}


def _parse_dict(spec: Dict[str, Any]) -> List[Dict[str, Any]]:
    unknown = set(spec) - _DICT_KEYS
    if unknown:
        raise _bad(spec, "unknown keys %s (expected %s)" % (", ".join(sorted(map(str, unknown))),
                                                            ", ".join(sorted(_DICT_KEYS))))
    if spec.get("container_port") in (None, ""):
        raise _bad(spec, "container_port is required")

    def text(key: str) -> str:
        v = spec.get(key)
        if v is None:
            return ""
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            raise _bad(spec, "%s must be a number or a string" % key)
        return str(v)

    host_ip = _host_ip(spec, text("host_ip")) if text("host_ip") else ANY_IP
    protos = _protocols(spec, text("protocol") or "tcp")
    ctr = _port_range(spec, text("container_port"), "container port", allow_zero=False)
    host_txt = text("host_port").strip()
    host = _port_range(spec, host_txt, "host port", allow_zero=True) if host_txt else None
    return _expand(spec, host_ip, host, ctr, protos)


def parse_publish(spec: Union[str, int, Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One ``publish`` entry -> normalised mappings ``[{host_ip, host_port, container_port, protocol}]``.

    Accepts ``[hostIP:][hostPort:]containerPort[/tcp|udp|tcp,udp]`` with ranges
    (``8080-8081:80-81``), a bare container port (host port 0 = random at setup, as
    podman), or a dict with those keys. Ranges are expanded to one mapping per port.
    Raises only InvalidArg.
    """
    if isinstance(spec, bool):
        raise _bad(spec, "not a port specification")
    if isinstance(spec, int):
        spec = str(spec)
    if isinstance(spec, str):
        return _parse_str(spec)
    if isinstance(spec, dict):
        return _parse_dict(spec)
    raise _bad(spec, "must be a string or a dict, not %s" % type(spec).__name__)


def normalize_publish(publish: Optional[Iterable[Union[str, int, Dict[str, Any]]]]) -> List[PortMapping]:
    """Parse a whole ``publish`` list and refuse the same host port twice."""
    out: List[PortMapping] = []
    for entry in publish or ():
        for m in parse_publish(entry):
            pm = PortMapping(**m)
            if pm in out:
                continue
            for prev in out:
                if pm.overlaps(prev):
                    raise InvalidArg("publish %s: host port %d/%s is also published by %s"
                                     % (pm.spec(), pm.host_port, pm.protocol, prev.spec()),
                                     hint="publish each host port only once")
            out.append(pm)
    return out


# -- host port checks ---------------------------------------------------------------------

def _socket_inodes(proto: str, port: int) -> List[str]:
    """Inodes of sockets bound to ``port`` (listening ones for tcp), from /proc/net."""
    inodes = []
    for name in (proto, proto + "6"):
        try:
            with open("/proc/net/" + name) as fh:
                next(fh, None)
                for line in fh:
                    f = line.split()
                    if len(f) < 10:
                        continue
                    if int(f[1].rsplit(":", 1)[1], 16) != port:
                        continue
                    if proto == "tcp" and f[3] != "0A":
                        continue
                    inodes.append(f[9])
        except (OSError, ValueError, IndexError):
            continue
    return inodes


def port_owner(proto: str, port: int) -> Optional[str]:
    """Best effort: 'process NAME (pid N)' holding the port; only used for error messages."""
    wanted = {"socket:[%s]" % i for i in _socket_inodes(proto, port)}
    if not wanted:
        return None
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    for pid in pids:
        fd_dir = "/proc/%s/fd" % pid
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(os.path.join(fd_dir, fd)) in wanted:
                    held = portholder.describe(int(pid))  # a container of an engine root
                    if held:
                        return held
                    with open("/proc/%s/comm" % pid) as fh:
                        return "process %s (pid %s)" % (fh.read().strip(), pid)
            except OSError:
                continue
    return None


def _socket(host_ip: str, proto: str) -> socket.socket:
    """An unbound socket of the host IP's family (IPv6: v6 only, never the IPv4 side too)."""
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    if ":" not in host_ip:
        return socket.socket(socket.AF_INET, kind)
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    return s


def _bind_test(host_ip: str, port: int, proto: str) -> Optional[OSError]:
    """Try to bind the host port; the error if that fails (None = free)."""
    with _socket(host_ip, proto) as s:
        if proto == "tcp":
            # ignore TIME_WAIT leftovers; a listener still makes bind fail
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host_ip, port))
        except OSError as err:
            return err
    return None


def check_host_ip(spec: str, host_ip: str) -> None:
    """Refuse a publish host IP that is not an address of this host (binds port 0: no side effect)."""
    if host_ip in (ANY_IP, ""):
        return
    err = _bind_test(host_ip, 0, "tcp")
    if err is not None and err.errno == errno.EADDRNOTAVAIL:
        raise NetworkError("publish %s: host IP %s is not an address of this host" % (spec, host_ip),
                           hint="use 0.0.0.0, 127.0.0.1 or an address configured on the host")


def check_host_port(ctr_id: str, m: PortMapping) -> None:
    """Raise PortInUse if a host socket holds the port, NetworkError if the IP is not local."""
    err = _bind_test(m.host_ip, m.host_port, m.protocol)
    if err is not None:
        raise _port_error(ctr_id, m, err)


def bind_port(ctr_id: str, m: PortMapping) -> socket.socket:
    """The bound (TCP: listening) socket that reserves the host port (see portholder.py)."""
    s = _socket(m.host_ip, m.protocol)
    try:
        if m.protocol == "tcp":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT leftovers only
        s.bind((m.host_ip, m.host_port))
        if m.protocol == "tcp":
            s.listen(1)  # a listener also keeps out binders that set SO_REUSEADDR
    except OSError as err:
        s.close()
        raise _port_error(ctr_id, m, err)
    return s


def _port_error(ctr_id: str, m: PortMapping, err: OSError) -> NetworkError:
    """The error for a failed bind of a published host port (PortInUse names the owner)."""
    if err.errno == errno.EADDRNOTAVAIL:
        return NetworkError("container %s: publish %s: host IP %s is not an address of this host"
                            % (ctr_id[:12], m.spec(), m.host_ip),
                            hint="use 0.0.0.0, 127.0.0.1 or an address configured on the host")
    if err.errno in (errno.EADDRINUSE, errno.EACCES):
        owner = port_owner(m.protocol, m.host_port) or "another socket on the host"
        return PortInUse("container %s: publish %s: host port %d/%s is already in use by %s"
                         % (ctr_id[:12], m.spec(), m.host_port, m.protocol, owner),
                         hint="choose another host port")
    return NetworkError("container %s: publish %s: cannot check host port %d: %s"
                        % (ctr_id[:12], m.spec(), m.host_port, err.strerror or err))


def free_host_port(host_ip: str, proto: str) -> int:
    """A host port free now (the kernel picks it): random ports, and publish_all ports."""
    with _socket(host_ip, proto) as s:
        try:
            s.bind((host_ip, 0))
        except OSError as err:
            raise NetworkError("cannot pick a free host port on %s/%s: %s" % (host_ip, proto, err.strerror or err),
                               hint="give the host port explicitly")
        return s.getsockname()[1]


# -- claims in the DB -------------------------------------------------------------------

def _claim_key(m: PortMapping) -> str:
    """``tcp/8080/127.0.0.1/80``: host part first, so one index range finds a host port."""
    return "%s/%d/%s/%d" % (m.protocol, m.host_port, m.host_ip, m.container_port)


def _from_key(key: str) -> PortMapping:
    proto, port, host_ip, ctr_port = key.split("/", 3)
    return PortMapping(host_ip, int(port), int(ctr_port), proto)


def _db_conflict(conn, ctr_id: str, m: PortMapping) -> Optional[str]:
    """The container (another one) that already claims this host port, if any."""
    prefix = "%s/%d/" % (m.protocol, m.host_port)
    rows = conn.execute("SELECT ip, container_id FROM ip_leases WHERE network=? AND ip>=? AND ip<? "
                        "AND container_id<>?", (PORT_CLAIMS, prefix, prefix + "~", ctr_id)).fetchall()
    for key, owner in rows:
        other_ip = key.split("/", 3)[2]
        if ANY_IP in (other_ip, m.host_ip) or other_ip == m.host_ip:
            return owner
    return None


def _in_use_by_ctr(ctr_id: str, m: PortMapping, owner: str) -> PortInUse:
    return PortInUse("container %s: publish %s: host port %d/%s is already published by container %s"
                     % (ctr_id[:12], m.spec(), m.host_port, m.protocol, owner[:12]),
                     hint="choose another host port or remove that container")


def _own_claims(conn, ctr_id: str) -> List[PortMapping]:
    return [_from_key(r[0]) for r in conn.execute(
        "SELECT ip FROM ip_leases WHERE network=? AND container_id=? ORDER BY ip", (PORT_CLAIMS, ctr_id))]


def _host_part(m: PortMapping) -> Tuple[str, int, str]:
    return m.protocol, m.host_port, m.host_ip


def refuse_ipv6(mappings: Iterable[PortMapping], network: str = "") -> None:
    """IPv6 host addresses need an IPv6 address in the container to DNAT to: a dual-stack bridge
    network (``network``, the container's first network). ``::1`` is served by the userspace proxy
    (loopproxy.py) on any network. Refused before anything is set up."""
    for m in mappings:
        if ":" in m.host_ip and not loopproxy.proxied(m):
            where = ("network %s has no IPv6 subnet" % network) if network else \
                "this network mode has no IPv6 forwarding"
            raise NetworkError("publish %s: an IPv6 host address needs an IPv6 address in the container, and %s"
                               % (m.spec(), where),
                               hint="use a network with ipv6: true, publish on [::1]:%s:%d, on an IPv4 address "
                               "(127.0.0.1:%s:%d) or on all addresses (%s:%d)"
                               % (m.host_port or "", m.container_port, m.host_port or "", m.container_port,
                                  m.host_port or "", m.container_port))


def check_ports(state, ctr_id: str, mappings: Iterable[PortMapping], *, check_host: bool = True) -> None:
    """Conflicts with other containers of ours (DB claims) and with host sockets; claims nothing."""
    mappings = list(mappings)
    own = {_host_part(m) for m in _own_claims(state.conn, ctr_id)}
    for m in mappings:
        if m.host_port == 0:
            continue
        owner = _db_conflict(state.conn, ctr_id, m)
        if owner:
            raise _in_use_by_ctr(ctr_id, m, owner)
        # our own DNAT does not bind the port, so skip only ports this container already holds
        if check_host and _host_part(m) not in own:
            check_host_port(ctr_id, m)


def claim_ports(state, ctr_id: str, mappings: Iterable[PortMapping], *,
                check_host: bool = True) -> List[PortMapping]:
    """Claim every host port for ``ctr_id`` in one transaction.

    Random ports (host_port 0) are picked here; a container that already holds a random
    port for the same container port keeps it (idempotent re-setup), and a restart or a
    recreate of a container of the same name gets the port it had again while it is free.
    """
    mappings = list(mappings)
    conn = state.conn
    out: List[PortMapping] = []
    with state.tx():
        row = conn.execute("SELECT name FROM containers WHERE id=?", (ctr_id,)).fetchone()
        name = row[0] if row else None
        old = _own_claims(conn, ctr_id)
        old_hosts = {_host_part(m) for m in old}
        conn.execute("DELETE FROM ip_leases WHERE network=? AND container_id=?", (PORT_CLAIMS, ctr_id))
        for want in mappings:
            m = want
            if m.host_port == 0:
                reuse = [o for o in old if (o.host_ip, o.container_port, o.protocol)
                         == (m.host_ip, m.container_port, m.protocol)
                         and not any(o.overlaps(t) for t in out) and not _db_conflict(conn, ctr_id, o)]
                m = reuse[0] if reuse else (_remembered(conn, ctr_id, name, m, out)
                                            or _pick_random(conn, ctr_id, m, out))
                if name is not None:
                    conn.execute("INSERT INTO meta(key, value) VALUES(?,?) "
                                 "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                                 (_random_key(name, want), str(m.host_port)))
            else:
                owner = _db_conflict(conn, ctr_id, m)
                if owner:
                    raise _in_use_by_ctr(ctr_id, m, owner)
                if check_host and _host_part(m) not in old_hosts:
                    check_host_port(ctr_id, m)
            conn.execute("INSERT INTO ip_leases(network, ip, container_id) VALUES(?,?,?)",
                         (PORT_CLAIMS, _claim_key(m), ctr_id))
            out.append(m)
    return out


def _random_key(name: str, m: PortMapping) -> str:
    return "ports/random/%s/%s/%d/%s" % (name, m.host_ip, m.container_port, m.protocol)


def _remembered(conn, ctr_id: str, name: Optional[str], m: PortMapping,
                taken: List[PortMapping]) -> Optional[PortMapping]:
    """The random host port a container of this name had for this mapping, if still free."""
    if name is None:
        return None
    row = conn.execute("SELECT value FROM meta WHERE key=?", (_random_key(name, m),)).fetchone()
    try:
        cand = PortMapping(m.host_ip, int(row[0]), m.container_port, m.protocol) if row else None
    except ValueError:
        return None
    if cand is None or _db_conflict(conn, ctr_id, cand) or any(cand.overlaps(t) for t in taken) \
            or _bind_test(m.host_ip, cand.host_port, m.protocol) is not None:
        return None
    return cand


def _pick_random(conn, ctr_id: str, m: PortMapping, taken: List[PortMapping]) -> PortMapping:
    for _i in range(64):
        cand = PortMapping(m.host_ip, free_host_port(m.host_ip, m.protocol), m.container_port, m.protocol)
        if not _db_conflict(conn, ctr_id, cand) and not any(cand.overlaps(t) for t in taken):
            return cand
    raise PortInUse("container %s: publish %s: found no free random host port" % (ctr_id[:12], m.spec()),
                    hint="give the host port explicitly")


def release_ports(state, ctr_id: str) -> int:
    with state.tx():
        return state.conn.execute("DELETE FROM ip_leases WHERE network=? AND container_id=?",
                                  (PORT_CLAIMS, ctr_id)).rowcount


def claimed_ports(state, ctr_id: str) -> List[PortMapping]:
    """The host ports the container holds, as mappings."""
    return _own_claims(state.conn, ctr_id)


# -- nftables -------------------------------------------------------------------------------

_NFT_CTX_OUTPUT_JSON = 1 << 4


class Nft:
    """Runs nft scripts through libnftables (ctypes), else the ``nft`` binary."""

    def __init__(self, backend: str = "auto"):
        if backend not in ("auto", "lib", "cli", "none"):
            raise InvalidArg("nft backend %r: use auto, lib or cli" % backend)
        self.backend = backend
        self._lib = None
        self._ctx = None
        self._cli: Optional[str] = None
        self._ready = False

    def _setup(self) -> None:
        if self._ready:
            return
        if self.backend == "none":  # rootless: the host's nftables belong to root (no rule of ours can exist)
            raise NetworkError("a rootless engine cannot write the host's nftables rules",
                               hint="rootless containers use network: none (or pasta / slirp4netns when available)")
        if self.backend in ("auto", "lib"):
            try:
                self._load_lib()
            except OSError:
                if self.backend == "lib":
                    raise NetworkError("cannot load libnftables.so.1", hint="install the nftables package")
        if self._ctx is None:
            self._cli = shutil.which("nft") or next(
                (p for p in ("/usr/sbin/nft", "/sbin/nft") if os.access(p, os.X_OK)), None)
            if self._cli is None:
                raise NetworkError("nftables is not available (neither libnftables.so.1 nor nft found)",
                                   hint="install the nftables package")
        self._ready = True

    def _load_lib(self) -> None:
        import ctypes
        lib = ctypes.CDLL("libnftables.so.1")
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        for fn in ("nft_ctx_buffer_output", "nft_ctx_buffer_error"):
            getattr(lib, fn).argtypes = [ctypes.c_void_p]
            getattr(lib, fn).restype = ctypes.c_int
        for fn in ("nft_ctx_get_output_buffer", "nft_ctx_get_error_buffer"):
            getattr(lib, fn).argtypes = [ctypes.c_void_p]
            getattr(lib, fn).restype = ctypes.c_char_p
        lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.nft_run_cmd_from_buffer.restype = ctypes.c_int
        lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
        lib.nft_ctx_output_set_flags.restype = None
        ctx = lib.nft_ctx_new(0)
        if not ctx:
            raise OSError("nft_ctx_new failed")
        lib.nft_ctx_buffer_output(ctx)
        lib.nft_ctx_buffer_error(ctx)
        self._lib, self._ctx = lib, ctx

    def available(self) -> bool:
        """False when neither libnftables nor nft exists (then no rule of ours can exist)."""
        try:
            self._setup()
        except NetworkError:
            return False
        return True

    @property
    def using(self) -> str:
        self._setup()
        return "libnftables" if self._ctx is not None else self._cli or "?"

    def _exec(self, script: str, json_out: bool = False) -> Tuple[int, str, str]:
        self._setup()
        if self._ctx is not None:
            lib = self._lib
            lib.nft_ctx_output_set_flags(self._ctx, _NFT_CTX_OUTPUT_JSON if json_out else 0)
            rc = lib.nft_run_cmd_from_buffer(self._ctx, script.encode())
            out = lib.nft_ctx_get_output_buffer(self._ctx) or b""
            err = lib.nft_ctx_get_error_buffer(self._ctx) or b""
            return rc, out.decode(errors="replace"), err.decode(errors="replace")
        # nft 1.0.6 prints nothing for "-j -f -": a JSON listing goes on the command line
        args = [self._cli, "-j"] + script.split() if json_out else [self._cli, "-f", "-"]
        try:
            proc = subprocess.run(args, input=b"" if json_out else script.encode(), capture_output=True, check=False,
                                  timeout=30)
        except (OSError, subprocess.SubprocessError) as err:
            return 1, "", str(err)
        return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")

    def run(self, script: str, *, what: str) -> str:
        rc, out, err = self._exec(script)
        if rc != 0:
            raise NetworkError("nftables: %s failed: %s" % (what, err.strip() or "exit code %d" % rc),
                               hint="check that the nf_tables/nft_nat/nft_fib kernel modules are available")
        return out

    def list_table(self, family: str, table: str) -> Optional[List[Dict[str, Any]]]:
        """The table's objects (nft JSON ``nftables`` list), or None if it does not exist."""
        rc, out, _err = self._exec("list table %s %s" % (family, table), json_out=True)
        if rc != 0:
            return None
        try:
            return json.loads(out).get("nftables", [])
        except ValueError:
            return None

    def list_json(self, what: str) -> List[Dict[str, Any]]:
        """The objects of an nft ``list ...`` command (JSON); [] when it fails (e.g. no such table)."""
        rc, out, _err = self._exec(what, json_out=True)
        if rc != 0:
            return []
        try:
            return json.loads(out).get("nftables", [])
        except ValueError:
            return []

    def chain_names(self, family: str, table: str) -> List[str]:
        objs = self.list_table(family, table) or []
        return [o["chain"]["name"] for o in objs if "chain" in o]


def check_name(kind: str, name: str) -> str:
    """Names used inside nft identifiers: [A-Za-z0-9][A-Za-z0-9_.-]*."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or len(name) > 128:
        raise InvalidArg("%s %r: only letters, digits, '_', '.' and '-' are allowed" % (kind, name))
    return name


def ctr_chains(ctr_id: str) -> Tuple[str, str]:
    return "c_%s_pre" % ctr_id, "c_%s_out" % ctr_id


def net_chain(bridge: str) -> str:
    return "n_%s_post" % bridge


def net_fwd_chain(bridge: str) -> str:
    return "n_%s_fwd" % bridge


def chain_owner(chain: str) -> Optional[Tuple[str, str]]:
    """``("container", id)`` / ``("network", bridge)`` for one of our chain names."""
    for kind, prefix, suffixes in (("container", "c_", ("_pre", "_out")), ("network", "n_", ("_post", "_fwd"))):
        if chain.startswith(prefix):
            for suf in suffixes:
                if chain.endswith(suf) and len(chain) > len(prefix) + len(suf):
                    return kind, chain[len(prefix):-len(suf)]
    return None


_NAT_HOOKS = {"pre": ("prerouting", -100), "out": ("output", -100), "post": ("postrouting", 100)}


def _chain_decl(table: str, chain: str, hook: str, family: str = "ip") -> str:
    name, prio = _NAT_HOOKS[hook]
    return "add chain %s %s %s { type nat hook %s priority %d; policy accept; }" % (family, table, chain, name, prio)


def _dnat_match(m: PortMapping, family: str, hook: str) -> str:
    if m.host_ip != ANY_IP:
        return "%s daddr %s" % (family, m.host_ip)
    if family == "ip6" and hook == "out":
        return "fib daddr type local ip6 daddr != ::1"  # ::1 cannot be DNATed: the proxy's (loopproxy.py)
    return "fib daddr type local"


def ctr_rules(table: str, ctr_id: str, mappings: Iterable[PortMapping], ctr_ip: str, ctr_ip6: str = "") -> List[str]:
    """(Re)create the container's DNAT chains atomically (flush + add), in our ``ip`` table for
    IPv4 and all-address host IPs, and in our ``ip6`` table for IPv6 host addresses and, when the
    container has an IPv6 address (``ctr_ip6``: a dual-stack network), all-address host IPs too, as
    netavark. ``[::1]`` ports are the proxy's (loopproxy.py), not DNATed."""
    mappings = [m for m in mappings if not loopproxy.proxied(m)]
    per_family = [("ip", ctr_ip, [m for m in mappings if ":" not in m.host_ip])]
    if ctr_ip6:
        per_family.append(("ip6", ctr_ip6, [m for m in mappings if ":" in m.host_ip or m.host_ip == ANY_IP]))
    lines: List[str] = []
    for family, target, todo in per_family:
        lines.append("add table %s %s" % (family, table))
        to = ("[%s]" % target) if family == "ip6" else target
        for chain, hook in zip(ctr_chains(ctr_id), ("pre", "out")):
            lines.append(_chain_decl(table, chain, hook, family))
            lines.append("flush chain %s %s %s" % (family, table, chain))
            for m in todo:
                lines.append('add rule %s %s %s %s %s dport %d dnat to %s:%d comment "%s %s"'
                             % (family, table, chain, _dnat_match(m, family, hook), m.protocol, m.host_port,
                                to, m.container_port, ctr_id[:12], m.spec()))
    if not ctr_ip6 and kernel_has_ipv6():
        lines += _ctr_delete_family(table, ctr_id, "ip6")
    return lines


def kernel_has_ipv6() -> bool:
    """False on a kernel booted with ipv6.disable=1: no container has an IPv6 address there, so no
    ip6 chain of ours can exist, and the ip6 nft family is not touched at all."""
    return os.path.isdir("/proc/sys/net/ipv6")


def _ctr_delete_family(table: str, ctr_id: str, family: str) -> List[str]:
    lines = ["add table %s %s" % (family, table)]
    for chain, hook in zip(ctr_chains(ctr_id), ("pre", "out")):
        lines += [_chain_decl(table, chain, hook, family), "flush chain %s %s %s" % (family, table, chain),
                  "delete chain %s %s %s" % (family, table, chain)]
    return lines


def ctr_delete(table: str, ctr_id: str) -> List[str]:
    """Delete the container's chains of both families, whether or not they exist."""
    lines = _ctr_delete_family(table, ctr_id, "ip")
    return lines + _ctr_delete_family(table, ctr_id, "ip6") if kernel_has_ipv6() else lines


def net_rules(table: str, network: str, bridge: str, subnet: str, *, internal: bool = False,
              isolate: bool = False, family: str = "ip") -> List[str]:
    """Masquerade for the network: outbound NAT, and DNATed loopback/hairpin connections.

    ``isolate``: a filter chain refuses new connections into the bridge from any other interface
    (other networks, the host's uplinks) except published ports (DNATed); ``internal``: no NAT,
    and the same chain drops everything forwarded between the bridge and any other interface.
    ``family`` ``ip6``: the same chains in our ``ip6`` table for a dual-stack network's IPv6 subnet.
    """
    chain, fwd, t = net_chain(bridge), net_fwd_chain(bridge), "%s %s" % (family, table)
    lines = ["add table " + t, _chain_decl(table, chain, "post", family), "flush chain %s %s" % (t, chain),
             "add chain %s %s { type filter hook forward priority 0; policy accept; }" % (t, fwd),
             "flush chain %s %s" % (t, fwd)]
    if internal:
        lines += ['add rule %s %s iifname "%s" oifname != "%s" drop comment "network %s internal"'
                  % (t, fwd, bridge, bridge, network),
                  'add rule %s %s oifname "%s" iifname != "%s" drop comment "network %s internal"'
                  % (t, fwd, bridge, bridge, network)]
    elif isolate:
        lines.append('add rule %s %s oifname "%s" iifname != "%s" ct state new ct status != dnat drop '
                     'comment "network %s isolate"' % (t, fwd, bridge, bridge, network))
    ip, multicast, loopback = ("ip6", "ff00::/8", "::1") if family == "ip6" else ("ip", "224.0.0.0/4", "127.0.0.0/8")
    if not internal:
        lines.append('add rule %s %s %s saddr %s %s daddr != %s %s daddr != %s oifname != "%s" '
                     'masquerade comment "network %s outbound"'
                     % (t, chain, ip, subnet, ip, subnet, ip, multicast, bridge, network))
    lines.append('add rule %s %s oifname "%s" ct status dnat %s saddr { %s, %s } masquerade '
                 'comment "network %s loopback and hairpin"' % (t, chain, bridge, ip, loopback, subnet, network))
    return lines


def net_delete(table: str, bridge: str, family: str = "ip") -> List[str]:
    chain, fwd, t = net_chain(bridge), net_fwd_chain(bridge), "%s %s" % (family, table)
    return ["add table " + t, _chain_decl(table, chain, "post", family), "flush chain %s %s" % (t, chain),
            "delete chain %s %s" % (t, chain),
            "add chain %s %s { type filter hook forward priority 0; policy accept; }" % (t, fwd),
            "flush chain %s %s" % (t, fwd), "delete chain %s %s" % (t, fwd)]


def table_delete(table: str) -> List[str]:
    return ["add table ip %s" % table, "delete table ip %s" % table,
            "add table ip6 %s" % table, "delete table ip6 %s" % table]


def needs_route_localnet(mappings: Iterable[PortMapping]) -> bool:
    """Loopback DNAT into the bridge needs route_localnet=1 on it (netavark sets it too)."""
    return any(m.host_ip == ANY_IP or (":" not in m.host_ip and ipaddress.IPv4Address(m.host_ip).is_loopback)
               for m in mappings)
