# SPDX-License-Identifier: GPL-3.0-or-later
"""NetworkManager against the real kernel: netns, bridge, veth, nftables DNAT/masquerade.

Every test gets its own network (bridge ``lpet<n>``, subnet ``10.213.<n>.0/24``, nft table
``lpe_t<pid>_<n>``, netns files under tmp_path) and removes all of it in a finalizer,
even when it fails. Traffic only goes to 127.0.0.1 and to addresses inside the
namespaces and the bridge the test made.
"""
import ipaddress
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import (
    InvalidArg,
    NetworkError,
    NoSuchNetwork,
    PortInUse,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.host import mounts
from ansible_collections.libpod.engine.plugins.module_utils.engine.network import manager as netmod
from ansible_collections.libpod.engine.plugins.module_utils.engine.network import netns
from ansible_collections.libpod.engine.plugins.module_utils.engine.network.manager import NetworkManager
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, bridges, nftables)"),
    pytest.mark.skipif(not shutil.which("busybox") or not shutil.which("nsenter"), reason="needs busybox, nsenter"),
    pytest.mark.timeout(120),
]


def sh(*args, check=False):
    return subprocess.run(args, capture_output=True, text=True, check=check)


def links():
    return set(os.listdir("/sys/class/net"))


def host_routes():
    return [r for _d, r in netmod._host_routes()]


def pick_n(used=()):
    """A test network number whose bridge does not exist and whose subnet is not routed."""
    routes = host_routes()
    nums = list(range(1, 250))
    random.shuffle(nums)
    for n in nums:
        sub = ipaddress.IPv4Network("10.213.%d.0/24" % n)
        if n not in used and "lpet%d" % n not in links() and not any(sub.overlaps(r) for r in routes):
            return n
    pytest.skip("no free test subnet in 10.213.0.0/16")


def new_id():
    return uuid.uuid4().hex + uuid.uuid4().hex


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Env:
    """One test's manager, network names and everything to remove afterwards."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.nums = []
        self.ctrs = []
        self.procs = []
        self.state = State(str(tmp_path / "state.db"))
        self.state.tune()
        self.n = self.add_num()
        self.table = "lpe_t%d_%d" % (os.getpid(), self.n)
        self.net = "t%d" % self.n
        self.nm = self.manager()
        self.nm.ensure_network(self.net, subnet=self.subnet(self.n), bridge="lpet%d" % self.n)

    def manager(self, **kw):
        kw.setdefault("manage_ip_forward", False)
        return NetworkManager(self.state, tmp_dir=str(self.tmp), default_network="t%d" % self.n,
                              default_subnet=self.subnet(self.n), bridge_prefix="lpet", nft_table=self.table, **kw)

    def add_num(self):
        n = pick_n(self.nums)
        self.nums.append(n)
        return n

    @staticmethod
    def subnet(n):
        return "10.213.%d.0/24" % n

    def ctr(self):
        cid = new_id()
        self.ctrs.append(cid)
        return cid

    def run_in(self, status, *args, **kw):
        return subprocess.run(["nsenter", "--net=" + status["netns"], *args], capture_output=True, text=True,
                              check=False, timeout=kw.get("timeout", 20))

    def httpd(self, status, text="hello from the container\n", port=80):
        www = self.tmp / ("www%d" % len(self.procs))
        www.mkdir()
        (www / "index.html").write_text(text)
        p = subprocess.Popen(["nsenter", "--net=" + status["netns"], "busybox", "httpd", "-f", "-p", str(port),
                              "-h", str(www)])
        self.procs.append(p)
        ip = list(status["networks"].values())[0]["ip"]
        for _i in range(100):  # wait until it listens (probe from the host over the bridge)
            try:
                with socket.create_connection((ip, port), timeout=0.2):
                    return p
            except OSError:
                time.sleep(0.05)
        raise AssertionError("httpd did not come up in %s" % status["netns"])

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
        for cid in self.ctrs:
            try:
                self.nm.teardown(cid)
            except Exception:  # noqa: BLE001 - keep cleaning
                pass
            for n in self.nums:
                v = self.nm.veth_name(cid, "t%d" % n)
                if v in links():
                    sh("ip", "link", "del", v)
        for n in self.nums:
            if "lpet%d" % n in links():
                sh("ip", "link", "del", "lpet%d" % n)
        sh("nft", "delete", "table", "ip", self.table)
        sh("nft", "delete", "table", "ip6", self.table)
        netmod.remove_netns_dir(str(self.tmp / "netns"))
        self.nm.close()
        self.state.close()


@pytest.fixture()
def env(tmp_path):
    e = Env(tmp_path)
    try:
        yield e
    finally:
        e.close()
    # nothing of ours is left in the kernel
    assert not {"lpet%d" % n for n in e.nums} & links()
    assert e.table not in sh("nft", "list", "tables").stdout


def wait_gone(name, timeout=3.0):
    """veths disappear asynchronously once their netns is gone."""
    end = time.time() + timeout
    while name in links() and time.time() < end:
        time.sleep(0.02)
    return name not in links()


def ping(env, status, ip):
    return env.run_in(status, "busybox", "ping", "-c1", "-W2", ip)


# -- tests -------------------------------------------------------------------------------------

def test_module_import_does_not_load_pyroute2():
    """The network path speaks rtnetlink itself (rtnl.py): importing the package loads no pyroute2
    (110-250 ms per task), and no engine file imports it."""
    build = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                         ".build", "collections")
    code = ("import sys; sys.path.insert(0, %r); "
            "import ansible_collections.libpod.engine.plugins.module_utils.engine.network.manager; "
            "import ansible_collections.libpod.engine.plugins.module_utils.engine.network.attach; "
            "print('pyroute2' in sys.modules)" % build)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    engine = os.path.dirname(netmod.__file__.rsplit(os.sep, 1)[0])
    for base, _dirs, files in os.walk(engine):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(base, name), encoding="utf-8") as fh:
                    text = fh.read()
                assert "import pyroute2" not in text and "from pyroute2" not in text, name


def test_network_records(env):
    nm = env.nm
    rec = nm.get_network(env.net)
    assert rec["network_interface"] == "lpet%d" % env.n
    assert rec["subnets"] == [{"subnet": env.subnet(env.n), "gateway": "10.213.%d.1" % env.n}]
    assert nm.ensure_network(env.net) == rec  # idempotent
    assert nm.get_network(rec["id"]) == rec
    with pytest.raises(InvalidArg, match="already exists with subnet"):
        nm.ensure_network(env.net, subnet="10.213.251.0/24")
    n2 = env.add_num()
    with pytest.raises(NetworkError, match="overlaps network"):
        nm.ensure_network("other", subnet="10.213.%d.128/25" % env.n, bridge="lpet%d" % n2)
    eth_route = next((r for d, r in netmod._host_routes() if not d.startswith("lpe")), None)
    if eth_route is not None:
        with pytest.raises(NetworkError, match="overlaps the host route"):
            nm.ensure_network("other", subnet=str(eth_route), bridge="lpet%d" % n2)
    with pytest.raises(InvalidArg, match="must start with 'lpet'"):
        nm.ensure_network("other", subnet=env.subnet(n2), bridge="eth0")
    with pytest.raises(InvalidArg, match="reserved"):
        nm.ensure_network("host")
    with pytest.raises(InvalidArg):
        nm.ensure_network("bad name")
    with pytest.raises(NoSuchNetwork):
        nm.get_network("nope")
    other = nm.ensure_network("other", subnet=env.subnet(n2), bridge="lpet%d" % n2)
    assert [r["name"] for r in nm.list_networks()] == sorted(["other", env.net])
    nm.remove_network("other")
    with pytest.raises(NoSuchNetwork):
        nm.remove_network("other")
    assert other["id"] not in [r["id"] for r in nm.list_networks()]


def test_two_containers_ping_and_status(env):
    a_id, b_id = env.ctr(), env.ctr()
    a = env.nm.setup(a_id, networks=[env.net], publish=[])
    b = env.nm.setup(b_id, networks=[env.net], publish=[])
    na, nb = a["networks"][env.net], b["networks"][env.net]
    assert a["netns"] == str(env.tmp / "netns" / a_id)
    assert (na["ip"], nb["ip"]) == ("10.213.%d.2" % env.n, "10.213.%d.3" % env.n)
    assert na["gateway"] == "10.213.%d.1" % env.n and na["prefix_len"] == 24
    assert na["interface"] == "eth0" and na["bridge"] == "lpet%d" % env.n
    assert ping(env, a, nb["ip"]).returncode == 0
    assert ping(env, b, na["ip"]).returncode == 0
    assert ping(env, a, na["gateway"]).returncode == 0
    show = env.run_in(a, "ip", "-o", "addr", "show", "dev", "eth0").stdout
    assert "%s/24" % na["ip"] in show
    assert "default via %s dev eth0" % na["gateway"] in env.run_in(a, "ip", "route").stdout
    assert na["mac"] in env.run_in(a, "ip", "link", "show", "eth0").stdout
    assert na["host_interface"] in links()
    # the veth hangs on our bridge
    assert os.path.realpath("/sys/class/net/%s/master" % na["host_interface"]).endswith("/lpet%d" % env.n)
    # the netns dir is a shared bind mount, so unmounts reach copies in other mount namespaces
    nsdir = os.path.realpath(str(env.tmp / "netns"))
    mine = [e for e in mounts.mount_table() if e.point == nsdir]
    assert mine and any(f.startswith("shared:") for f in mine[-1].optional)


def test_published_port_loopback_and_hairpin(env):
    a_id, b_id = env.ctr(), env.ctr()
    port, port2 = free_port(), free_port()
    a = env.nm.setup(a_id, networks=[env.net], publish=["127.0.0.1:%d:80" % port, "%d:80" % port2, "80"])
    b = env.nm.setup(b_id, networks=[env.net], publish=[])
    env.httpd(a)
    # host -> 127.0.0.1:<port> -> DNAT (output chain) -> container
    assert urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5).read() == b"hello from the container\n"
    # 0.0.0.0 publish also answers on loopback
    assert urllib.request.urlopen("http://127.0.0.1:%d/" % port2, timeout=5).read() == b"hello from the container\n"
    # the random host port was assigned and works
    rnd = [p for p in a["ports"] if p["container_port"] == 80 and p["host_port"] not in (port, port2)]
    assert len(rnd) == 1 and rnd[0]["host_port"] > 0
    assert urllib.request.urlopen("http://127.0.0.1:%d/" % rnd[0]["host_port"], timeout=5).read()
    bridge = "lpet%d" % env.n
    with open("/proc/sys/net/ipv4/conf/%s/route_localnet" % bridge) as fh:
        assert fh.read().strip() == "1"
    # hairpin: container B reaches A through the published 0.0.0.0 port on the gateway address
    gw = a["networks"][env.net]["gateway"]
    out = env.run_in(b, "busybox", "wget", "-q", "-O", "-",  # (-T segfaults in busybox 1.35)
                     "http://%s:%d/" % (gw, port2))
    assert out.returncode == 0, out.stderr
    assert out.stdout == "hello from the container\n"
    rules = sh("nft", "list", "table", "ip", env.table).stdout
    assert "c_%s_pre" % a_id in rules and "c_%s_out" % a_id in rules
    assert "c_%s_" % b_id not in rules  # no ports, no chains


def test_port_in_use_by_host_socket(env):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        cid = env.ctr()
        with pytest.raises(PortInUse) as exc:
            env.nm.check_ports(cid, ["127.0.0.1:%d:80" % port])
        assert "pid %d" % os.getpid() in str(exc.value) and "choose another host port" in str(exc.value)
        with pytest.raises(PortInUse):
            env.nm.setup(cid, networks=[env.net], publish=["%d:80" % port])
    # the failed setup left nothing behind
    assert not os.path.exists(env.nm.netns_path(cid))
    assert env.nm.ipam.leases(ctr_id=cid) == []
    assert "c_%s_" % cid not in sh("nft", "list", "table", "ip", env.table).stdout


def test_port_in_use_by_other_container(env):
    a_id, b_id = env.ctr(), env.ctr()
    port = free_port()
    env.nm.setup(a_id, networks=[env.net], publish=["%d:80" % port])
    for spec in ("127.0.0.1:%d:8080" % port, "%d:81" % port):
        with pytest.raises(PortInUse) as exc:
            env.nm.check_ports(b_id, [spec])
        assert "published by container %s" % a_id[:12] in str(exc.value)
        with pytest.raises(PortInUse):
            env.nm.setup(b_id, networks=[env.net], publish=[spec])
    assert not os.path.exists(env.nm.netns_path(b_id))
    env.nm.check_ports(b_id, ["%d:80/udp" % port])  # other protocol is free
    env.nm.teardown(a_id)
    env.nm.check_ports(b_id, ["%d:80" % port])  # released with the container


def test_teardown_leaves_nothing(env):
    cid = env.ctr()
    status = env.nm.setup(cid, networks=[env.net], publish=["127.0.0.1:%d:80" % free_port()])
    veth = status["networks"][env.net]["host_interface"]
    assert veth in links()
    env.nm.teardown(cid, status)
    assert not os.path.exists(status["netns"])
    assert wait_gone(veth), "veth %s still there" % veth
    assert "c_%s_" % cid not in sh("nft", "list", "table", "ip", env.table).stdout
    assert env.state.query("SELECT * FROM ip_leases WHERE container_id=?", (cid,)) == []
    assert cid not in sh("ip", "netns").stdout
    env.nm.teardown(cid)  # idempotent, without status
    env.nm.teardown(env.ctr())  # never set up


def test_setup_is_idempotent_and_repairs(env):
    cid = env.ctr()
    port = free_port()
    first = env.nm.setup(cid, networks=[env.net], publish=["127.0.0.1:%d:80" % port, "81"])
    assert env.nm.setup(cid, networks=[env.net], publish=["127.0.0.1:%d:80" % port, "81"]) == first
    # break it: the interface disappears inside the netns
    assert env.run_in(first, "ip", "link", "del", "eth0").returncode == 0
    fixed = env.nm.setup(cid, networks=[env.net], publish=["127.0.0.1:%d:80" % port, "81"])
    assert fixed["networks"][env.net]["ip"]
    assert ping(env, fixed, fixed["networks"][env.net]["gateway"]).returncode == 0
    env.httpd(fixed)
    assert urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5).read()


def test_setup_none_and_join(env):
    cid = env.ctr()
    st = env.nm.setup_none(cid)
    assert st["networks"] == {} and st["ports"] == []
    out = env.run_in(st, "ip", "-o", "link").stdout
    assert [ln.split(":")[1].strip() for ln in out.splitlines()] == ["lo"]
    assert "127.0.0.1" in env.run_in(st, "ip", "-o", "addr").stdout
    assert env.nm.join(cid)["netns"] == st["netns"]
    with pytest.raises(NetworkError, match="has no network namespace"):
        env.nm.join(new_id())
    with pytest.raises(InvalidArg, match="without a network"):
        env.nm.setup(env.ctr(), networks=[], publish=["80"])
    assert env.nm.setup(cid, networks=[], publish=[]) == st  # idempotent


def test_setup_lo_only_is_setup_none_without_the_manager(env):
    """network none at a container's start (netns.setup_lo_only, issue 20): what setup_none makes
    and returns, on the same shared netns dir; the manager takes it as its own setup."""
    cid = env.ctr()
    st = netns.setup_lo_only(str(env.tmp), cid)
    ref = env.nm.setup_none(env.ctr())
    assert st == dict(ref, netns=st["netns"]) and st["netns"] == env.nm.netns_path(cid)
    assert netns.is_nsfs(st["netns"]) and netns.lo_only(st)
    out = env.run_in(st, "ip", "-o", "link").stdout
    assert [ln.split(":")[1].strip() for ln in out.splitlines()] == ["lo"] and "UP" in out
    assert "127.0.0.1" in env.run_in(st, "ip", "-o", "addr").stdout
    nsdir = [e for e in mounts.mount_table() if e.point == str(env.tmp / "netns")]
    assert nsdir and all(any(f.startswith("shared:") for f in e.optional) for e in nsdir)
    # a netns file already there: the manager decides (keeps a healthy one, redoes a broken one)
    assert netns.setup_lo_only(str(env.tmp), cid) is None
    assert env.nm.setup(cid, networks=[], publish=[]) == st
    assert netns.remove_netns(st["netns"]) and not os.path.lexists(st["netns"])


def test_two_networks(env):
    n2 = env.add_num()
    env.nm.ensure_network("t%d" % n2, subnet=env.subnet(n2), bridge="lpet%d" % n2)
    a_id, b_id = env.ctr(), env.ctr()
    a = env.nm.setup(a_id, networks=[env.net, "t%d" % n2])
    b = env.nm.setup(b_id, networks=["t%d" % n2])
    assert a["networks"]["t%d" % n2]["interface"] == "eth1"
    assert "default via 10.213.%d.1 dev eth0" % env.n in env.run_in(a, "ip", "route").stdout
    assert ping(env, a, b["networks"]["t%d" % n2]["ip"]).returncode == 0
    with pytest.raises(NetworkError, match="in use by container"):
        env.nm.remove_network("t%d" % n2)
    env.nm.remove_network("t%d" % n2, force=True)
    assert "lpet%d" % n2 not in links()
    with pytest.raises(NoSuchNetwork):
        env.nm.setup(env.ctr(), networks=["t%d" % n2])


def test_setup_failure_rolls_back(env):
    cid = env.ctr()
    with pytest.raises(InvalidArg):
        env.nm.setup(cid, networks=[env.net], static_ips={env.net: "10.9.9.9"})
    with pytest.raises(InvalidArg):
        env.nm.setup(cid, networks=[env.net, env.net])
    assert not os.path.exists(env.nm.netns_path(cid))
    assert env.nm.ipam.leases(ctr_id=cid) == []
    st = env.nm.setup(cid, networks=[env.net], static_ips={env.net: "10.213.%d.77" % env.n})
    assert st["networks"][env.net]["ip"] == "10.213.%d.77" % env.n


def test_cleanup_orphans_after_crash(env):
    live_id, dead_id, held_id = env.ctr(), env.ctr(), env.ctr()
    env.nm.setup(live_id, networks=[env.net])
    dead = env.nm.setup(dead_id, networks=[env.net], publish=["127.0.0.1:%d:80" % free_port()])
    held = env.nm.setup(held_id, networks=[env.net])
    # a process keeps the "held" netns alive after its file is gone: its veth stays on the bridge
    holder = subprocess.Popen(["nsenter", "--net=" + held["netns"], "sleep", "60"])
    env.procs.append(holder)
    time.sleep(0.2)
    # crash: the engine forgot both containers (status dropped, records deleted)
    removed = env.nm.cleanup_orphans({live_id})
    text = "\n".join(removed)
    assert "netns %s" % dead["netns"] in text and "netns %s" % held["netns"] in text
    assert "nft chains of container %s" % dead_id in text
    assert "lease %s %s" % (env.net, dead["networks"][env.net]["ip"]) in text
    assert "veth %s" % held["networks"][env.net]["host_interface"] in text
    assert os.listdir(env.tmp / "netns") == [live_id]
    assert wait_gone(dead["networks"][env.net]["host_interface"])
    assert held["networks"][env.net]["host_interface"] not in links()
    assert "c_%s_" % dead_id not in sh("nft", "list", "table", "ip", env.table).stdout
    assert {lease.container_id for lease in env.nm.ipam.leases()} == {live_id}
    assert env.nm.cleanup_orphans({live_id}) == []  # nothing left to do


def test_refresh_clears_leases(env):
    cid = env.ctr()
    env.nm.setup(cid, networks=[env.net], publish=["%d:80" % free_port()])
    env.nm.teardown(cid)
    env.nm.ipam.allocate(env.net, env.subnet(env.n), "stale")
    (env.tmp / "netns" / "stale").write_text("")  # a plain file, as after a reboot
    env.nm.refresh()
    assert env.state.query("SELECT * FROM ip_leases") == []
    assert not (env.tmp / "netns" / "stale").exists()


def test_default_network_created_lazily_and_ip_forward(env, tmp_path):
    with open("/proc/sys/net/ipv4/ip_forward") as fh:
        before = fh.read().strip()
    n = env.add_num()
    name = "d%d" % n
    # own prefix: the default network's bridge is <prefix>0
    nm = NetworkManager(env.state, tmp_dir=str(tmp_path), default_network=name,
                        default_subnet=env.subnet(n), bridge_prefix="lpetd", nft_table=env.table)
    cid = env.ctr()
    try:
        if "lpetd0" in links():
            pytest.skip("lpetd0 exists (another test run?)")
        with pytest.raises(NoSuchNetwork):
            nm.get_network(name)
        st = nm.setup(cid, networks=[name])
        assert st["networks"][name]["bridge"] == "lpetd0"
        assert st["networks"][name]["host_interface"].startswith("lpetdv")
        assert nm.get_network(name)["subnets"][0]["subnet"] == env.subnet(n)
        with open("/proc/sys/net/ipv4/ip_forward") as fh:
            assert fh.read().strip() == "1"
        nm.teardown(cid)
        nm.remove_network(name)
        assert "lpetd0" not in links()
    finally:
        with open("/proc/sys/net/ipv4/ip_forward", "w") as fh:
            fh.write(before)
        nm.teardown(cid)
        if "lpetd0" in links():
            sh("ip", "link", "del", "lpetd0")
        nm.close()


def test_cli_backend(env):
    nm = env.manager(nft_backend="cli")
    try:
        cid = env.ctr()
        port = free_port()
        st = nm.setup(cid, networks=[env.net], publish=["127.0.0.1:%d:80" % port])
        env.httpd(st)
        assert urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5).read()
        nm.teardown(cid)
        assert "c_%s_" % cid not in sh("nft", "list", "table", "ip", env.table).stdout
    finally:
        nm.close()


@pytest.mark.skipif(not (shutil.which("pasta") and shutil.which("slirp4netns")), reason="needs passt and slirp4netns")
def test_usermode_tools_follow_teardown_orphan_cleanup_and_refresh(env):
    from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import pid_alive
    from ansible_collections.libpod.engine.plugins.module_utils.engine.network import usermode

    live_id, dead_id, stale_id = env.ctr(), env.ctr(), env.ctr()
    live = env.nm.setup_usermode(live_id, "pasta", [], ["127.0.0.1:%d:80" % free_port()])
    # (the test's tmp dir makes the API socket path longer than an AF_UNIX address: still published)
    dead = env.nm.setup_usermode(dead_id, "slirp4netns", [], ["127.0.0.1:%d:80" % free_port()])
    assert live["usermode"]["mode"] == "pasta" and live["ports"][0]["container_port"] == 80
    assert dead["usermode"]["ip"] == "10.0.2.100" and "tap0" in env.run_in(dead, "ip", "-o", "link").stdout
    pids = {c: usermode.running(str(env.tmp), c)["pid"] for c in (live_id, dead_id)}
    # the engine forgot dead_id (crash): its tool goes with its netns, the live one stays
    assert "network tool of %s" % dead_id[:12] in env.nm.cleanup_orphans({live_id})
    assert usermode.running(str(env.tmp), dead_id) is None and not pid_alive(pids[dead_id])
    assert usermode.running(str(env.tmp), live_id) is not None
    env.nm.teardown(live_id)
    assert usermode.recorded(str(env.tmp)) == [] and not pid_alive(pids[live_id])
    # after a reboot a record whose pid is now another process: forgotten, the process untouched
    other = subprocess.Popen(["sleep", "60"])
    env.procs.append(other)
    os.makedirs(env.tmp / "usermode", exist_ok=True)
    (env.tmp / "usermode" / (stale_id + ".json")).write_text('{"pid": %d, "netns": "/gone"}' % other.pid)
    env.nm.refresh()
    assert usermode.recorded(str(env.tmp)) == [] and other.poll() is None
