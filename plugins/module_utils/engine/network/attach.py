# SPDX-License-Identifier: GPL-3.0-or-later
"""Connect a running container's netns to one more network, or disconnect it, in place
(``podman network connect/disconnect``): the process keeps running, only one veth pair,
one lease and the network's rules change.
"""
from __future__ import annotations

import errno
import os
from typing import Any, Dict, Optional

from ..base.errors import NetworkError
from . import portmap
from .manager import _IFA_F_NODAD, NetworkManager, _in_thread, _is_nsfs, _netns_socket, _v6_status
from .rtnl import NetlinkError


def _free_ifname(nsr) -> str:
    names = {link["ifname"] for link in nsr.links()}
    n = 0
    while "eth%d" % n in names:
        n += 1
    return "eth%d" % n


def connect(mgr: NetworkManager, ctr_id: str, network: str, *, static_ip: Optional[str] = None,
            mac: Optional[str] = None, ifname: Optional[str] = None,
            static_ip6: Optional[str] = None) -> Dict[str, Any]:
    """Add an interface on ``network`` to the container's live netns; its status block.

    The default route is not touched (the first network keeps it), as podman does.
    """
    path = mgr.netns_path(ctr_id)
    if not _is_nsfs(path):
        raise NetworkError("container %s has no network namespace to connect" % ctr_id[:12],
                           hint="start the container; a stopped one joins its networks at the next start")
    net = mgr._network(network)
    ip = mgr.ipam.allocate(net.name, net.subnet, ctr_id, gateway=net.gateway, requested=static_ip,
                           ip_range=net.ip_range)
    ip6 = mgr.ipam.allocate(net.name, net.subnet6, ctr_id, gateway=net.gateway6,
                            requested=static_ip6) if net.subnet6 else None
    try:
        br = mgr._ensure_bridge(net)
        host_if, mac = mgr.veth_name(ctr_id, net.name), mac or mgr.mac_address(ctr_id, net.name)
        nsr = mgr._ns_ipr(_in_thread(_netns_socket, path))
        nsfd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            ifname = ifname or _free_ifname(nsr)
            ipr = mgr._host()
            ipr.replace_veth(host_if, br, ifname, peer_netns_fd=nsfd, peer_mac=mac, mtu=net.mtu or None)
            idx = nsr.link_index(ifname)
            if idx is None:
                raise NetworkError("container %s: interface %s vanished while being connected" % (ctr_id[:12], ifname))
            nsr.add_address(idx, ip, net.prefix_len)
            if ip6:
                nsr.add_address(idx, ip6, net.prefix_len6, flags=_IFA_F_NODAD)
            nsr.set_up(idx)
        finally:
            os.close(nsfd)
            nsr.close()
        mgr.nft.run("\n".join(_net_lines(mgr, net)) + "\n", what="rules of network %s" % net.name)
        mgr._host_sysctls([net], [])
    except BaseException as err:
        disconnect(mgr, ctr_id, net.name)
        if isinstance(err, (OSError, ValueError)):
            raise NetworkError("container %s: connecting to network %s failed: %s" % (ctr_id[:12], net.name, err))
        raise
    out = {"ip": ip, "prefix_len": net.prefix_len, "gateway": net.gateway, "mac": mac, "interface": ifname,
           "bridge": net.bridge, "subnet": net.subnet, "host_interface": host_if}
    if ip6:
        out.update(_v6_status(net, ip6))
    return out


def _net_lines(mgr: NetworkManager, net) -> list:
    lines = portmap.net_rules(mgr.nft_table, net.name, net.bridge, net.subnet, internal=net.internal,
                              isolate=net.isolate)
    if net.subnet6:
        lines += portmap.net_rules(mgr.nft_table, net.name, net.bridge, net.subnet6, internal=net.internal,
                                   isolate=net.isolate, family="ip6")
    return lines


def disconnect(mgr: NetworkManager, ctr_id: str, network: str) -> bool:
    """Remove the container's interface on ``network`` (its host veth: the peer goes with it) and
    its lease. True if there was one. Works whether or not the network record still exists."""
    host_if = mgr.veth_name(ctr_id, network)
    found = False
    if os.path.exists("/sys/class/net/" + host_if):
        try:
            mgr._host().delete_link(name=host_if)
            found = True
        except NetlinkError as err:
            if err.code != errno.ENODEV:
                raise NetworkError("cannot delete %s (container %s on network %s): %s"
                                   % (host_if, ctr_id[:12], network, err))
    return bool(mgr.ipam.release(ctr_id, network)) or found
