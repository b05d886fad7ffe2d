# SPDX-License-Identifier: GPL-3.0-or-later
"""rtnl.py: the rtnetlink requests of the network path, against the kernel in throw-away network
namespaces (a thread that unshares its netns: nothing touches the host's), and the attribute
encoding on its own."""
from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import threading

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.host.libc import libc
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.mounts import CLONE_NEWNET
from ansible_collections.libpod.engine.plugins.module_utils.engine.network import rtnl
from ansible_collections.libpod.engine.plugins.module_utils.engine.network.manager import _in_thread

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces")


def test_attributes_are_padded_and_parsed_back():
    raw = rtnl._attr(3, rtnl._name("eth0")) + rtnl._attr(4, rtnl._u32(1500)) + \
        rtnl._attr(1, rtnl._mac("02:aa:bb:cc:dd:ee"))
    assert len(raw) % 4 == 0
    attrs = rtnl._parse_attrs(raw)
    assert attrs[3] == b"eth0\0" and attrs[4] == (1500).to_bytes(4, "little")
    assert attrs[1] == bytes.fromhex("02aabbccddee")
    nested = rtnl._parse_attrs(rtnl._attr(18 | 0x8000, rtnl._attr(1, b"veth\0")))  # NLA_F_NESTED is masked
    assert rtnl._parse_attrs(nested[18]) == {1: b"veth\0"}
    assert rtnl.NetlinkError(errno.EEXIST, "File exists").code == errno.EEXIST


def _in_new_netns(fn):
    """Run ``fn()`` in a thread with a network namespace of its own (the manager's thread runner)."""
    def run():
        if libc().unshare(CLONE_NEWNET) != 0:
            raise OSError(errno.EPERM, "unshare(CLONE_NEWNET)")
        return fn()
    return _in_thread(run)


@needs_root
def test_bridge_veth_addresses_routes_and_errors(tmp_path):
    """What a container setup does: a bridge with a gateway, a veth pair whose peer is created in
    another netns with its index and MAC, addresses of both families, default routes, the dumps,
    and the errors the callers handle (EEXIST, ENODEV)."""
    def work():
        own_ns = "/proc/self/task/%d/ns/net" % threading.get_native_id()
        # the peer's netns: a second namespace held by a child process
        holder = subprocess.Popen(["unshare", "--net", "sleep", "60"])
        try:
            for _i in range(200):
                if os.readlink("/proc/%d/ns/net" % holder.pid) != os.readlink(own_ns):
                    break
                threading.Event().wait(0.01)
            nsfd = os.open("/proc/%d/ns/net" % holder.pid, os.O_RDONLY)
            with rtnl.Rtnl() as nl:
                nl.add_bridge("rtbr0", mtu=1400)
                with pytest.raises(rtnl.NetlinkError) as exc:
                    nl.add_bridge("rtbr0")
                assert exc.value.code == errno.EEXIST
                br = nl.link_index("rtbr0")
                assert br and nl.link_index("nosuch0") is None
                nl.add_address(br, "10.77.0.1", 24)
                nl.add_address(br, "fd77::1", 64, flags=0x02)
                with pytest.raises(rtnl.NetlinkError) as exc:
                    nl.add_address(br, "10.77.0.1", 24)
                assert exc.value.code == errno.EEXIST
                nl.set_up(br)
                nl.add_veth("rtv0", br, "eth0", peer_netns_fd=nsfd, peer_mac="02:11:22:33:44:55", mtu=1400)
                links = {link["ifname"]: link for link in nl.links()}
                assert links["rtv0"]["master"] == br and links["rtbr0"]["master"] == 0
                v4 = {(a["index"], a["address"], a["prefixlen"]) for a in nl.addresses(socket.AF_INET)}
                assert (br, "10.77.0.1", 24) in v4
                assert any(a["address"] == "fd77::1" for a in nl.addresses(socket.AF_INET6))
                assert links["rtv0"]["mtu"] == links["rtbr0"]["mtu"] == 1400
            peer = subprocess.run(["nsenter", "--net=/proc/%d/ns/net" % holder.pid, "ip", "-o", "link", "show",
                                   "eth0"], capture_output=True, text=True, check=True).stdout
            assert peer.startswith("2: eth0@") and "02:11:22:33:44:55" in peer and "mtu 1400" in peer, peer
            # inside the peer's netns through a socket opened there (as the manager's _netns_socket)
            out = subprocess.run(["nsenter", "--net=/proc/%d/ns/net" % holder.pid, sys.executable, "-c", _PEER_SIDE],
                                 capture_output=True, text=True, check=False, env=dict(os.environ))
            assert out.returncode == 0, out.stderr
            assert "default via 10.77.0.1" in out.stdout and "default via fd77::1" in out.stdout, out.stdout
            with rtnl.Rtnl() as nl:
                nl.delete_link(name="rtv0")  # the peer goes with it
                with pytest.raises(rtnl.NetlinkError) as exc:
                    nl.delete_link(name="rtv0")
                assert exc.value.code == errno.ENODEV
                nl.delete_link(index=nl.link_index("rtbr0"))
                assert nl.link_index("rtbr0") is None
            os.close(nsfd)
        finally:
            holder.kill()
            holder.wait()

    _in_new_netns(work)


_PEER_SIDE = """
import socket, subprocess, sys
sys.path[:0] = %r
from ansible_collections.libpod.engine.plugins.module_utils.engine.network.rtnl import Rtnl
with Rtnl() as nl:
    idx = nl.link_index("eth0")
    nl.add_address(idx, "10.77.0.2", 24)
    nl.add_address(idx, "fd77::2", 64, flags=0x02)
    nl.set_up(idx)
    nl.add_default_route("10.77.0.1")
    nl.add_default_route("fd77::1")
print(subprocess.run(["ip", "route"], capture_output=True, text=True).stdout)
print(subprocess.run(["ip", "-6", "route"], capture_output=True, text=True).stdout)
""" % ([p for p in sys.path if p],)
