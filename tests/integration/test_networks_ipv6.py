# SPDX-License-Identifier: GPL-3.0-or-later
"""Dual-stack networks: an IPv4 and an IPv6 subnet, addresses from each, IPv6 routes, ip6 masquerade
chains and aardvark-dns answering AAAA; one playbook for setup, one for removal."""
from __future__ import annotations

import hashlib
import ipaddress
import os
import signal
import socket
import subprocess
import sys

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import argvs

from .helpers import free_port, run_playbook


def _chains(family: str, prefix: str) -> list:
    out = subprocess.run(["nft", "list", "table", family, "libpod_engine"], capture_output=True, text=True,
                         check=False).stdout
    return [ln.split()[1] for ln in out.splitlines() if ln.strip().startswith("chain n_%s" % prefix)]


def _ctr_chains(family: str, ctr_id: str) -> list:
    out = subprocess.run(["nft", "list", "table", family, "libpod_engine"], capture_output=True, text=True,
                         check=False).stdout
    return sorted(ln.split()[1] for ln in out.splitlines() if ln.strip().startswith("chain c_" + ctr_id))


def test_dual_stack_network(engine_env, busybox_archive):
    prefix = engine_env.paths["bridge_prefix"]
    base = ipaddress.IPv4Network(engine_env.paths["default_subnet"])
    v4 = ipaddress.IPv4Network((int(base.network_address) + 50 * 256, 24))
    h = hashlib.sha256(prefix.encode()).digest()[:5]  # a ULA /64 of this test's own
    v6 = ipaddress.IPv6Network((b"\xfd" + h + b"\0" * 10, 64))
    static6 = str(v6.network_address + 0x77)
    img = "oci-archive:" + busybox_archive
    gw6 = str(v6.network_address + 1)
    port_all, port6 = free_port(), free_port()
    net = {"name": "ds", "subnet": str(v4), "ipv6_subnet": str(v6)}
    # published on all addresses (ip and ip6 DNAT, as netavark) and on one IPv6 host address
    web = {"name": "web6", "image": img, "state": "started", "network": [{"name": "ds", "ip6": static6}],
           "publish": ["%d:8080" % port_all, "[%s]:%d:8080" % (gw6, port6)],
           "command": ["httpd", "-f", "-p", "8080", "-h", "/etc"]}
    cli = {"name": "cli6", "image": img, "state": "started", "network": ["ds"], "cap_add": ["NET_RAW"],
           "command": ["sleep", "1000"]}
    res = run_playbook(engine_env, [
        {"name": "net", "libpod.engine.network": net},
        {"name": "net again", "libpod.engine.network": net},
        {"name": "auto", "libpod.engine.network": {"name": "ds2", "ipv6": True}},
        {"name": "cli", "libpod.engine.container": cli},  # first: the bridge (and gw6, a host address) exists after
        {"name": "web", "libpod.engine.container": web},
        {"name": "cli again", "libpod.engine.container": cli},
        {"name": "probe", "libpod.engine.container_exec": {"name": "cli6", "command": [
            "sh", "-c", "ip -6 addr show dev eth0; ip -6 route; ping -6 -c1 -W2 %s >/dev/null && echo ping6-ok; "
            "nslookup -type=AAAA web6 %s" % (static6, v4.network_address + 1)]}},
        # aardvark-dns also answers on the IPv6 gateway, which resolv.conf names after the IPv4 one
        {"name": "probe6", "libpod.engine.container_exec": {"name": "cli6", "command": [
            "sh", "-c", "cat /etc/resolv.conf; nslookup -type=AAAA web6 %s" % (v6.network_address + 1)]}},
        # a recreate of the network keeps the containers' IPv6 addresses (the declared one and the leased one)
        {"name": "recreate", "libpod.engine.network": dict(net, recreate=True)},
        {"name": "after", "libpod.engine.container_info": {"name": ["web6", "cli6"]}},
    ])
    try:
        assert res.ok, res.log
        assert res.task("net").changed and not res.task("net again").changed and not res.task("cli again").changed
        subnets = res.task("net")["network"]["subnets"]
        assert [s["subnet"] for s in subnets] == [str(v4), str(v6)] and res.task("net")["network"]["ipv6_enabled"]
        auto6 = ipaddress.ip_network(res.task("auto")["network"]["subnets"][1]["subnet"])
        assert auto6.prefixlen == 64 and auto6.subnet_of(ipaddress.IPv6Network("fd00::/8"))
        web_net = res.task("web")["container"]["NetworkSettings"]["Networks"]["ds"]
        assert web_net["GlobalIPv6Address"] == static6 and web_net["IPv6Gateway"] == str(v6.network_address + 1)
        cli_net = res.task("cli")["container"]["NetworkSettings"]["Networks"]["ds"]
        assert ipaddress.IPv6Address(cli_net["GlobalIPv6Address"]) in v6 and cli_net["GlobalIPv6PrefixLen"] == 64
        out = res.task("probe")["stdout"]
        assert cli_net["GlobalIPv6Address"] + "/64" in out and "default via %s" % (v6.network_address + 1) in out
        assert "ping6-ok" in out and static6 in out.split("web6", 1)[-1], out
        out6 = res.task("probe6")["stdout"]
        gw4, gw6 = str(v4.network_address + 1), str(v6.network_address + 1)
        assert "nameserver %s\nnameserver %s" % (gw4, gw6) in out6, out6
        assert static6 in out6.split("web6", 1)[-1], out6
        assert any(a.startswith("reconnected container(s) cli6, web6") for a in res.task("recreate")["actions"])
        after = {c["Name"]: c["NetworkSettings"]["Networks"]["ds"] for c in res.task("after")["containers"]}
        assert after["web6"]["GlobalIPv6Address"] == static6, after
        assert after["cli6"]["GlobalIPv6Address"] == cli_net["GlobalIPv6Address"], after
        assert after["cli6"]["IPAddress"] == cli_net["IPAddress"], after
        # the host reaches the container over IPv6 through the bridge
        with socket.create_connection((static6, 8080), timeout=5) as s:
            s.sendall(b"GET /hostname HTTP/1.0\r\n\r\n")
            assert b"200 OK" in s.recv(4096)
        assert set(_chains("ip6", prefix)) >= {"n_%s_post" % res.task("net")["network"]["network_interface"]}
        # published ports over IPv6: the host's address on the bridge (local, so the output hook DNATs)
        for addr, port in ((gw6, port_all), (gw6, port6), (str(v4.network_address + 1), port_all)):
            with socket.create_connection((addr, port), timeout=5) as s:
                s.sendall(b"GET /hostname HTTP/1.0\r\n\r\n")
                assert b"200 OK" in s.recv(4096), (addr, port)
        web_id = res.task("web")["container"]["Id"]
        assert _ctr_chains("ip6", web_id) == ["c_%s_out" % web_id, "c_%s_pre" % web_id]
    finally:
        res = run_playbook(engine_env, [
            {"name": "rm", "libpod.engine.container": {"name": "{{ item }}", "state": "absent"},
             "loop": ["web6", "cli6"]},
            {"name": "nets gone", "libpod.engine.network": {"name": "{{ item }}", "state": "absent"},
             "loop": ["ds", "ds2"]},
        ])
    assert res.ok, res.log
    assert _chains("ip6", prefix) == [] and _chains("ip", prefix) == []
    assert _ctr_chains("ip6", web_id) == [] and _ctr_chains("ip", web_id) == []


def _holders(env) -> list:
    """pids of processes that name this root's port holder directory (sleep holders and proxies)."""
    holders = os.path.join(env.paths["tmp_dir"], "ports") + "/"
    return [pid for pid, args in argvs() if any(holders in a for a in args)]


_PROBE = """
import socket, sys, time
port, want = int(sys.argv[1]), sys.argv[2]
deadline = time.monotonic() + 15  # httpd may still be starting: wait for it, not for the proxy
while True:
    try:
        with socket.create_connection(("::1", port), timeout=5) as s:
            s.sendall(b"GET /hostname HTTP/1.0\\r\\n\\r\\n")
            data = s.recv(4096)
        if b"200 OK" in data:
            print("served")
            sys.exit(0)
    except ConnectionRefusedError:
        if want == "refused":
            print("refused")
            sys.exit(0)
    except OSError:
        pass
    if want == "refused" or time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.1)
"""


def test_publish_on_ipv6_loopback(engine_env, busybox_archive):
    """[::1]:PORT:CTRPORT is served by the userspace proxy: started with the container, gone on stop,
    back on start, nothing left after kill -9 of conmon and remove."""
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
        port = s.getsockname()[1]
    web = {"name": "lo6", "image": "oci-archive:" + busybox_archive, "state": "started",
           "publish": ["[::1]:%d:8080" % port], "command": ["httpd", "-f", "-p", "8080", "-h", "/etc"]}

    def probe(name, want):
        return {"name": name, "ansible.builtin.command": {"argv": [sys.executable, "-c", _PROBE, str(port), want]}}

    res = run_playbook(engine_env, [
        {"name": "web", "libpod.engine.container": web},
        probe("served", "served"),
        {"name": "web again", "libpod.engine.container": web},
        {"name": "stop", "libpod.engine.container": dict(web, state="stopped")},
        probe("closed", "refused"),
        {"name": "start", "libpod.engine.container": web},
        probe("served again", "served"),
    ])
    try:
        assert res.ok, res.log
        assert res.task("web").changed and not res.task("web again").changed
        ports = res.task("start")["container"]["NetworkSettings"]["Ports"]
        assert ports["8080/tcp"] == [{"HostIp": "::1", "HostPort": str(port)}], ports
        assert len(_holders(engine_env)) == 1
        os.kill(res.task("start")["container"]["State"]["ConmonPid"], signal.SIGKILL)
    finally:
        res = run_playbook(engine_env, [{"name": "rm", "libpod.engine.container": {"name": "lo6", "state": "absent"}}])
    assert res.ok, res.log
    assert _holders(engine_env) == []
    assert [n for n in os.listdir(os.path.join(engine_env.paths["tmp_dir"], "ports")) if n.endswith(".json")] == []
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("::1", port), timeout=5)
