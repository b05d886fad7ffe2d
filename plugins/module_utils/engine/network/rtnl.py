# SPDX-License-Identifier: GPL-3.0-or-later
"""The few rtnetlink requests the network path makes, on a plain NETLINK_ROUTE socket.

Bridges, veth pairs (the peer moved into the container's netns with its index, MAC and MTU),
addresses, default routes, link deletion and the link/address dumps. pyroute2 did this before;
importing it cost 110-250 ms per task on this machine (it pulls in asyncio, multiprocessing and
ssl), more than the network work itself. Messages follow linux/rtnetlink.h and linux/if_link.h.
"""
from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct
from typing import Any, Dict, Iterator, List, Optional, Tuple

__all__ = ["NetlinkError", "Rtnl"]

# message types and flags (linux/netlink.h, linux/rtnetlink.h)
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_RTM_NEWLINK, _RTM_DELLINK, _RTM_GETLINK = 16, 17, 18
_RTM_NEWADDR, _RTM_GETADDR, _RTM_NEWROUTE = 20, 22, 24
_F_REQUEST, _F_ACK, _F_EXCL, _F_CREATE, _F_DUMP = 0x1, 0x4, 0x200, 0x400, 0x300
# attributes
_IFLA_ADDRESS, _IFLA_IFNAME, _IFLA_MTU, _IFLA_MASTER, _IFLA_LINKINFO, _IFLA_NET_NS_FD = 1, 3, 4, 10, 18, 28
_IFLA_INFO_KIND, _IFLA_INFO_DATA, _VETH_INFO_PEER = 1, 2, 1
_IFA_ADDRESS, _IFA_LOCAL, _IFA_BROADCAST, _IFA_FLAGS = 1, 2, 4, 8
_RTA_GATEWAY = 5
_IFF_UP = 0x1
_RT_TABLE_MAIN, _RTPROT_BOOT, _RTN_UNICAST = 254, 3, 1

_HDR = struct.Struct("=IHHII")        # nlmsghdr: len, type, flags, seq, pid
_IFINFO = struct.Struct("=BxHiII")    # ifinfomsg: family, type, index, flags, change
_IFADDR = struct.Struct("=BBBBI")     # ifaddrmsg: family, prefixlen, flags, scope, index
_RTMSG = struct.Struct("=BBBBBBBBI")  # rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
_ATTR = struct.Struct("=HH")


class NetlinkError(OSError):
    """A request the kernel refused; ``code`` is the errno (as pyroute2's error of that name)."""

    @property
    def code(self) -> int:
        return self.errno or 0


def _attr(kind: int, data: bytes) -> bytes:
    raw = _ATTR.pack(_ATTR.size + len(data), kind) + data
    return raw + b"\0" * (-len(raw) % 4)


def _name(value: str) -> bytes:
    return value.encode() + b"\0"


def _u32(value: int) -> bytes:
    return struct.pack("=I", value)


def _mac(value: str) -> bytes:
    return bytes(int(part, 16) for part in value.split(":"))


def _parse_attrs(data: bytes) -> Dict[int, bytes]:
    out: Dict[int, bytes] = {}
    pos = 0
    while pos + _ATTR.size <= len(data):
        length, kind = _ATTR.unpack_from(data, pos)
        if length < _ATTR.size:
            break
        out.setdefault(kind & 0x3FFF, data[pos + _ATTR.size:pos + length])
        pos += (length + 3) & ~3
    return out


def _ip(address: str) -> Tuple[int, bytes]:
    ip = ipaddress.ip_address(address)
    return (socket.AF_INET6 if ip.version == 6 else socket.AF_INET), ip.packed


class Rtnl:
    """One NETLINK_ROUTE socket: of the calling thread's netns, or ``sock`` (opened in another)."""

    def __init__(self, sock: Optional[socket.socket] = None):
        self.sock = sock or socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0)
        self.sock.bind((0, 0))
        self._seq = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Rtnl:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- transport ------------------------------------------------------------------------
    def _send(self, kind: int, flags: int, body: bytes) -> int:
        self._seq += 1
        self.sock.send(_HDR.pack(_HDR.size + len(body), kind, flags | _F_REQUEST, self._seq, 0) + body)
        return self._seq

    def _replies(self, seq: int) -> Iterator[Tuple[int, bytes]]:
        """(type, payload) of the answers to ``seq`` until the ACK or the end of a dump."""
        while True:
            data = self.sock.recv(1 << 16)
            if not data:
                return
            pos = 0
            while pos + _HDR.size <= len(data):
                length, kind, _flags, mseq, _pid = _HDR.unpack_from(data, pos)
                payload = data[pos + _HDR.size:pos + length]
                pos += (length + 3) & ~3
                if mseq != seq:
                    continue
                if kind == _NLMSG_DONE:
                    return
                if kind == _NLMSG_ERROR:
                    code = -struct.unpack_from("=i", payload)[0]
                    if code:
                        raise NetlinkError(code, os.strerror(code))
                    return
                yield kind, payload

    def _request(self, kind: int, flags: int, body: bytes) -> None:
        for _reply in self._replies(self._send(kind, flags | _F_ACK, body)):
            pass

    def _dump(self, kind: int, body: bytes) -> Iterator[Tuple[int, bytes]]:
        return self._replies(self._send(kind, _F_DUMP, body))

    # -- links ----------------------------------------------------------------------------
    def add_bridge(self, name: str, mtu: Optional[int] = None) -> None:
        attrs = _attr(_IFLA_IFNAME, _name(name)) + (_attr(_IFLA_MTU, _u32(mtu)) if mtu else b"")
        attrs += _attr(_IFLA_LINKINFO, _attr(_IFLA_INFO_KIND, _name("bridge")))
        self._request(_RTM_NEWLINK, _F_CREATE | _F_EXCL, _IFINFO.pack(0, 0, 0, 0, 0) + attrs)

    def add_veth(self, name: str, master: int, peer: str, *, peer_netns_fd: int, peer_mac: str,
                 mtu: Optional[int] = None) -> None:
        """A veth pair, up, ``name`` on bridge ``master``; the peer created in the netns of
        ``peer_netns_fd`` with its MAC set, down, with the next free index of that netns."""
        mtu_attr = _attr(_IFLA_MTU, _u32(mtu)) if mtu else b""
        peer_msg = _IFINFO.pack(0, 0, 0, 0, 0) + _attr(_IFLA_IFNAME, _name(peer)) + \
            _attr(_IFLA_NET_NS_FD, _u32(peer_netns_fd)) + _attr(_IFLA_ADDRESS, _mac(peer_mac)) + mtu_attr
        info = _attr(_IFLA_INFO_KIND, _name("veth")) + _attr(_IFLA_INFO_DATA, _attr(_VETH_INFO_PEER, peer_msg))
        attrs = _attr(_IFLA_IFNAME, _name(name)) + _attr(_IFLA_MASTER, _u32(master)) + mtu_attr + \
            _attr(_IFLA_LINKINFO, info)
        self._request(_RTM_NEWLINK, _F_CREATE | _F_EXCL, _IFINFO.pack(0, 0, 0, _IFF_UP, _IFF_UP) + attrs)

    def replace_veth(self, name: str, master: int, peer: str, *, peer_netns_fd: int, peer_mac: str,
                     mtu: Optional[int] = None) -> None:
        """add_veth; a host side of that name left by a crashed setup (its netns still held
        somewhere) is deleted first."""
        try:
            self.add_veth(name, master, peer, peer_netns_fd=peer_netns_fd, peer_mac=peer_mac, mtu=mtu)
        except NetlinkError as err:
            if err.code != errno.EEXIST:
                raise
            self.delete_link(name=name)
            self.add_veth(name, master, peer, peer_netns_fd=peer_netns_fd, peer_mac=peer_mac, mtu=mtu)

    def delete_link(self, *, name: Optional[str] = None, index: int = 0) -> None:
        attrs = _attr(_IFLA_IFNAME, _name(name)) if name else b""
        self._request(_RTM_DELLINK, 0, _IFINFO.pack(0, 0, index, 0, 0) + attrs)

    def set_up(self, index: int) -> None:
        self._request(_RTM_NEWLINK, 0, _IFINFO.pack(0, 0, index, _IFF_UP, _IFF_UP))

    def links(self) -> List[Dict[str, Any]]:
        """Every link: ``index``, ``ifname``, ``master`` (0: none), ``mtu``."""
        out = []
        for _kind, payload in self._dump(_RTM_GETLINK, _IFINFO.pack(0, 0, 0, 0, 0)):
            _fam, _type, index, _flags, _change = _IFINFO.unpack_from(payload)
            attrs = _parse_attrs(payload[_IFINFO.size:])
            master, mtu = attrs.get(_IFLA_MASTER), attrs.get(_IFLA_MTU)
            out.append({"index": index, "ifname": attrs.get(_IFLA_IFNAME, b"").rstrip(b"\0").decode(),
                        "master": struct.unpack("=I", master)[0] if master else 0,
                        "mtu": struct.unpack("=I", mtu)[0] if mtu else 0})
        return out

    def link_index(self, name: str) -> Optional[int]:
        """The index of ``name`` in this socket's netns, None if there is none."""
        try:
            replies = list(self._replies(self._send(_RTM_GETLINK, _F_ACK, _IFINFO.pack(0, 0, 0, 0, 0)
                                                    + _attr(_IFLA_IFNAME, _name(name)))))
        except NetlinkError as err:
            if err.code == errno.ENODEV:
                return None
            raise
        return _IFINFO.unpack_from(replies[0][1])[2] if replies else None

    # -- addresses and routes -------------------------------------------------------------
    def add_address(self, index: int, address: str, prefixlen: int, flags: int = 0) -> None:
        """``address/prefixlen`` on link ``index`` (IPv4: with its broadcast address, as ``ip addr
        add ... brd +``); EEXIST if it is there."""
        family, packed = _ip(address)
        attrs = _attr(_IFA_LOCAL, packed) + _attr(_IFA_ADDRESS, packed) if family == socket.AF_INET \
            else _attr(_IFA_ADDRESS, packed)
        if family == socket.AF_INET and prefixlen < 31:
            net = ipaddress.ip_network("%s/%d" % (address, prefixlen), strict=False)
            attrs += _attr(_IFA_BROADCAST, net.broadcast_address.packed)
        if flags:
            attrs += _attr(_IFA_FLAGS, _u32(flags))
        self._request(_RTM_NEWADDR, _F_CREATE | _F_EXCL,
                      _IFADDR.pack(family, prefixlen, flags & 0xFF, 0, index) + attrs)

    def addresses(self, family: int) -> List[Dict[str, Any]]:
        """Addresses of one family: ``index``, ``address``, ``prefixlen``."""
        out = []
        for _kind, payload in self._dump(_RTM_GETADDR, _IFADDR.pack(family, 0, 0, 0, 0)):
            fam, prefixlen, _flags, _scope, index = _IFADDR.unpack_from(payload)
            attrs = _parse_attrs(payload[_IFADDR.size:])
            raw = attrs.get(_IFA_LOCAL) or attrs.get(_IFA_ADDRESS)
            if fam == family and raw:
                out.append({"index": index, "address": socket.inet_ntop(fam, raw), "prefixlen": prefixlen})
        return out

    def add_default_route(self, gateway: str) -> None:
        family, packed = _ip(gateway)
        self._request(_RTM_NEWROUTE, _F_CREATE | _F_EXCL,
                      _RTMSG.pack(family, 0, 0, 0, _RT_TABLE_MAIN, _RTPROT_BOOT, 0, _RTN_UNICAST, 0)
                      + _attr(_RTA_GATEWAY, packed))
