# SPDX-License-Identifier: GPL-3.0-or-later
"""Network modes pasta / slirp4netns: options, the tools' argv, the port check, stop (pure or local)."""
import os
import subprocess
import sys

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg, NetworkError
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.roots import write_json
from ansible_collections.libpod.engine.plugins.module_utils.engine.network import usermode as um
from ansible_collections.libpod.engine.plugins.module_utils.engine.network.portmap import PortMapping
from ansible_collections.libpod.engine.tests.helpers.procs import wait_argv

NS = "/run/x/netns/abc"


def test_pasta_options_keep_their_order_and_refuse_what_the_engine_sets():
    assert um.parse_options("pasta", "--ipv4-only,-a,10.0.2.0") == ["--ipv4-only", "-a", "10.0.2.0"]
    assert um.parse_options("pasta", "") == []
    for bad in ("--netns,/x", "-f", "--pid=/x", "--config-net"):
        with pytest.raises(InvalidArg, match="set by the engine"):
            um.parse_options("pasta", bad)
    with pytest.raises(InvalidArg, match="empty option"):
        um.parse_options("pasta", "-4,,-a")


def test_slirp_options_are_normalised_so_that_defaults_compare_equal():
    assert um.parse_options("slirp4netns", "mtu=65520,enable_ipv6=true") == []
    assert um.parse_options("slirp4netns", "mtu=1500,allow_host_loopback=yes") == \
        um.parse_options("slirp4netns", "allow_host_loopback=1,mtu=01500") == ["allow_host_loopback=true", "mtu=1500"]
    assert um.parse_options("slirp4netns", "cidr=10.0.3.7/24") == ["cidr=10.0.3.0/24"]


@pytest.mark.parametrize("text, match", [
    ("mtu", "KEY=VALUE"), ("color=red", "known key"), ("mtu=10", "MTU"), ("allow_host_loopback=maybe", "true or false"),
    ("cidr=10.0.2.0/30", "/25"), ("port_handler=rootlessport", "not"), ("outbound_addr=eth0x", "IP address"),
])
def test_slirp_bad_options_name_the_problem(text, match):
    with pytest.raises(InvalidArg, match=match):
        um.parse_options("slirp4netns", text)


def test_pasta_args_podman_defaults_ports_and_root():
    ports = [PortMapping("127.0.0.1", 18080, 80), PortMapping("0.0.0.0", 5353, 53, "udp")]
    args = um.pasta_args(NS, [], ports, pid_file="/p", euid=0)
    assert args == ["--config-net", "-t", "127.0.0.1/18080-18080:80-80", "-u", "5353-5353:53-53",
                    "-T", "none", "-U", "none", "--no-map-gw", "--quiet", "--netns", NS, "--pid", "/p",
                    "--runas", "0"]
    # no ports: nothing forwarded; unprivileged: no --runas
    args = um.pasta_args(NS, [], [], pid_file="/p", euid=1000)
    assert args[:9] == ["--config-net", "-t", "none", "-u", "none", "-T", "none", "-U", "none"]
    assert "--runas" not in args


def test_pasta_args_user_options_win():
    args = um.pasta_args(NS, ["--map-gw", "-T", "5432", "--ipv4-only"], [], pid_file="/p", euid=1000)
    assert "--map-gw" not in args and "--no-map-gw" not in args  # podman's pseudo option
    assert args.count("-T") == 1 and args[args.index("-T") + 1] == "5432"
    assert "--ipv4-only" in args
    assert um.pasta_args(NS, ["--no-map-gw"], [], pid_file="/p", euid=1000).count("--no-map-gw") == 1


def test_slirp_args_podman_defaults_and_options():
    args = um.slirp_args(NS, [], ready_fd=5, api_socket="/a.sock")
    assert args == ["--configure", "--mtu=65520", "--disable-host-loopback", "--enable-ipv6", "--enable-sandbox",
                    "--enable-seccomp", "--ready-fd=5", "--api-socket", "/a.sock", "--netns-type=path", NS, "tap0"]
    opts = um.parse_options("slirp4netns", "allow_host_loopback=true,enable_ipv6=false,cidr=10.0.3.0/24,mtu=1500,"
                                           "outbound_addr=192.0.2.2")
    args = um.slirp_args(NS, opts, ready_fd=5, api_socket="/a.sock")
    assert "--disable-host-loopback" not in args and "--enable-ipv6" not in args
    assert {"--mtu=1500", "--cidr=10.0.3.0/24", "--outbound-addr=192.0.2.2"} <= set(args)
    assert um.slirp_address(opts) == {"ip": "10.0.3.100", "gateway": "10.0.3.2", "prefix_len": 24}
    assert um.status("slirp4netns", [])["ip"] == "10.0.2.100" and um.status("pasta", []) == {"mode": "pasta"}


def test_unprivileged_ports_refused_only_when_unprivileged():
    ports = [PortMapping("127.0.0.1", 80, 80), PortMapping("127.0.0.1", 8080, 80)]
    um.check_unprivileged_ports(ports, 0, 1024)  # root: fine
    um.check_unprivileged_ports(ports, 1000, 0)  # sysctl at 0: fine
    with pytest.raises(InvalidArg, match=r"port\(s\) 80 are below net.ipv4.ip_unprivileged_port_start \(1024\)"):
        um.check_unprivileged_ports(ports, 1000, 1024)


def test_slirp_hostfwd_request_and_error():
    seen = []

    def call(api, req):
        seen.append((api, req))
        return {"return": {"id": 1}}

    um._hostfwd("/a.sock", PortMapping("127.0.0.1", 18080, 80), call)
    assert seen == [("/a.sock", {"execute": "add_hostfwd", "arguments": {
        "proto": "tcp", "host_addr": "127.0.0.1", "host_port": 18080, "guest_port": 80}})]
    with pytest.raises(NetworkError, match="cannot publish 127.0.0.1:18080:80/tcp: bind failed"):
        um._hostfwd("/a.sock", PortMapping("127.0.0.1", 18080, 80), lambda a, r: {"error": {"desc": "bind failed"}})


def test_stop_kills_only_the_recorded_tool_and_forgets_it(tmp_path):
    tmp = str(tmp_path)
    os.makedirs(os.path.join(tmp, "usermode"))
    ns = str(tmp_path / "netns" / "c1")
    tool = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", ns])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        wait_argv(tool.pid, lambda a: ns in a)  # running() recognises the tool by its argv
        write_json(os.path.join(tmp, "usermode", "c1.json"), {"pid": tool.pid, "netns": ns, "mode": "pasta"})
        # a recycled pid (another process) is never signalled
        write_json(os.path.join(tmp, "usermode", "c2.json"), {"pid": other.pid, "netns": ns + "x", "mode": "pasta"})
        assert um.recorded(tmp) == ["c1", "c2"]
        assert um.running(tmp, "c1") is not None and um.running(tmp, "c2") is None
        assert um.stop(tmp, "c1") and um.stop(tmp, "c2")
        assert tool.wait(timeout=5) is not None
        assert other.poll() is None
        assert um.recorded(tmp) == [] and not um.stop(tmp, "c1")
    finally:
        for p in (tool, other):
            p.kill()
            p.wait()


def test_a_record_without_netns_is_never_ours(tmp_path):
    """host.proc.argv keeps empty arguments: a record lacking its netns path must not match a
    process that has one (the "" of the record is not a netns path)."""
    tmp = str(tmp_path)
    os.makedirs(os.path.join(tmp, "usermode"))
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", ""])
    try:
        write_json(os.path.join(tmp, "usermode", "c1.json"), {"pid": other.pid, "mode": "pasta"})
        assert wait_argv(other.pid, lambda a: "" in a)[-1] == ""
        assert um.running(tmp, "c1") is None
    finally:
        other.kill()
        other.wait()


def test_missing_tool_names_the_package(monkeypatch):
    monkeypatch.setattr(um.shutil, "which", lambda name: None)
    monkeypatch.setattr(um.os, "access", lambda path, mode: False)
    with pytest.raises(NetworkError, match="apt-get install passt"):
        um.find_binary("pasta")


def test_an_unusable_tun_device_is_named_for_unprivileged_engines(tmp_path):
    dev = tmp_path / "tun"
    dev.write_text("")
    um.check_tun("pasta", 0, str(dev))  # root opens it whatever its mode
    os.chmod(dev, 0o666)
    um.check_tun("slirp4netns", 1000, str(dev))
    if os.geteuid() == 0:
        return  # root's os.access ignores the mode: the refusal is checked as a user in test_rootless.py
    os.chmod(dev, 0o000)
    with pytest.raises(NetworkError, match="chmod 0666"):
        um.check_tun("pasta", 1000, str(dev))
