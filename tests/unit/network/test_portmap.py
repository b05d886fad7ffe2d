# SPDX-License-Identifier: GPL-3.0-or-later
"""publish parsing, host port claims and the nft rule text (portmap.py)."""
import os
import socket
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import (
    InvalidArg,
    NetworkError,
    PortInUse,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.network import portmap
from ansible_collections.libpod.engine.plugins.module_utils.engine.network.portmap import PortMapping, parse_publish
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State


def m(host_ip="0.0.0.0", host_port=0, container_port=80, protocol="tcp"):
    return {"host_ip": host_ip, "host_port": host_port, "container_port": container_port, "protocol": protocol}


# -- parse_publish ---------------------------------------------------------------------------

@pytest.mark.parametrize("spec, expected", [
    ("80", [m()]),
    (80, [m()]),
    ("80/udp", [m(protocol="udp")]),
    ("8080:80", [m(host_port=8080)]),
    ("127.0.0.1:8080:80", [m("127.0.0.1", 8080)]),
    ("127.0.0.1::80", [m("127.0.0.1", 0)]),
    ("0:80", [m()]),
    (" 8080 : 80 /TCP ", [m(host_port=8080)]),
    ("8080:80/tcp,udp", [m(host_port=8080), m(host_port=8080, protocol="udp")]),
    ("8080-8081:80-81", [m(host_port=8080), m(host_port=8081, container_port=81)]),
    ("8080:80-81", [m(host_port=8080), m(host_port=8081, container_port=81)]),
    ("80-81", [m(), m(container_port=81)]),
    ("10.0.0.1:53:53/udp", [m("10.0.0.1", 53, 53, "udp")]),
    ({"container_port": 80}, [m()]),
    ({"host_ip": "127.0.0.1", "host_port": "8080", "container_port": 80, "protocol": "udp"},
     [m("127.0.0.1", 8080, 80, "udp")]),
    ({"host_ip": None, "host_port": None, "container_port": "80-81"}, [m(), m(container_port=81)]),
    ("[::1]:8080:80", [m("::1", 8080, 80)]),
    ("[::]::80/udp", [m("::", 0, 80, "udp")]),
    ({"host_ip": "[0:0::1]", "host_port": 1, "container_port": 2}, [m("::1", 1, 2)]),
])
def test_parse_publish(spec, expected):
    assert parse_publish(spec) == expected


@pytest.mark.parametrize("spec, words", [
    ("", "empty"),
    ("abc", "not a port"),
    ("0", "out of range"),
    ("65536", "out of range"),
    ("8080:0", "out of range"),
    ("80/sctp", "protocol"),
    ("80/", "protocol"),
    ("::1:8080:80", "[::1]:8080:80"),
    ("[::1]8080:80", "[ADDR]:hostPort"),
    ("[::1]:80", "[ADDR]:hostPort"),
    ("[zz::1]:8080:80", "not an IPv6"),
    ("300.1.1.1:8080:80", "not an IPv4"),
    ("localhost:8080:80", "not an IPv4"),
    ("8080-8082:80-81", "differ in length"),
    ("8080-8081:80", "differ in length"),
    ("82-80", "ends before"),
    ("1-2-3", "not a port or a port range"),
    ("65535:80-81", "exceeds 65535"),
    ("0-5:80-85", "out of range"),
    (True, "not a port"),
    (None, "string or a dict"),
    (["80"], "string or a dict"),
    ({"container_port": None}, "required"),
    ({"container_port": 80, "hostport": 1}, "unknown keys"),
    ({"container_port": 80.5}, "number or a string"),
    ({"container_port": True}, "number or a string"),
])
def test_parse_publish_errors(spec, words):
    with pytest.raises(InvalidArg) as exc:
        parse_publish(spec)
    assert words in str(exc.value)
    assert "publish" in str(exc.value)
    assert exc.value.hint  # says how to write it


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=40),
                 st.from_regex(r"\A([0-9.]{0,16}:)?[0-9-]{0,12}(:[0-9-]{0,12})?(/[a-z,]{0,9})?\Z")))
def test_parse_publish_never_raises_other_errors(spec):
    try:
        out = parse_publish(spec)
    except InvalidArg:
        return
    for entry in out:
        assert set(entry) == {"host_ip", "host_port", "container_port", "protocol"}
        assert 0 <= entry["host_port"] <= 65535 and 1 <= entry["container_port"] <= 65535
        assert entry["protocol"] in ("tcp", "udp")


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["host_ip", "host_port", "container_port", "protocol", "x"]),
                       st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12), st.floats())))
def test_parse_publish_dicts_never_raise_other_errors(spec):
    try:
        parse_publish(spec)
    except InvalidArg:
        pass


def test_normalize_refuses_same_host_port_twice():
    with pytest.raises(InvalidArg, match="8080/tcp is also published"):
        portmap.normalize_publish(["8080:80", "127.0.0.1:8080:81"])
    # different protocol, different address, or random ports are fine; exact duplicates collapse
    out = portmap.normalize_publish(["8080:80", "8080:80/udp", "80", "81", "8080:80"])
    assert [p.spec() for p in out] == ["0.0.0.0:8080:80/tcp", "0.0.0.0:8080:80/udp", "0.0.0.0::80/tcp",
                                       "0.0.0.0::81/tcp"]
    assert len(portmap.normalize_publish(["127.0.0.1:8080:80", "127.0.0.2:8080:80"])) == 2


# -- claims in the DB and host checks --------------------------------------------------------

@pytest.fixture()
def state(tmp_path):
    s = State(str(tmp_path / "state.db"))
    yield s
    s.close()


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pm(spec):
    return portmap.normalize_publish([spec])


def test_claims_conflict_between_containers(state):
    port = free_port()
    got = portmap.claim_ports(state, "ctrA", pm("127.0.0.1:%d:80" % port))
    assert got == [PortMapping("127.0.0.1", port, 80, "tcp")]
    # same port on 0.0.0.0 overlaps 127.0.0.1
    for spec in ("%d:80" % port, "127.0.0.1:%d:81" % port):
        with pytest.raises(PortInUse) as exc:
            portmap.check_ports(state, "ctrB", pm(spec))
        assert "ctrA" in str(exc.value) and str(port) in str(exc.value) and "choose another host port" in str(exc.value)
        with pytest.raises(PortInUse):
            portmap.claim_ports(state, "ctrB", pm(spec))
    # other address, other protocol: fine
    portmap.check_ports(state, "ctrB", pm("127.0.0.2:%d:80" % port))
    portmap.check_ports(state, "ctrB", pm("127.0.0.1:%d:80/udp" % port))
    # the owner may re-claim (idempotent), then release
    assert portmap.claim_ports(state, "ctrA", pm("127.0.0.1:%d:80" % port)) == got
    assert portmap.claimed_ports(state, "ctrA") == got
    assert portmap.release_ports(state, "ctrA") == 1
    portmap.check_ports(state, "ctrB", pm("%d:80" % port))


def test_random_port_assigned_and_kept(state):
    first = portmap.claim_ports(state, "ctrA", pm("127.0.0.1::80"))
    assert first[0].host_port > 0 and first[0].container_port == 80
    again = portmap.claim_ports(state, "ctrA", pm("127.0.0.1::80"))
    assert again == first
    with pytest.raises(PortInUse):
        portmap.check_ports(state, "ctrB", pm("127.0.0.1:%d:80" % first[0].host_port))


def test_host_socket_detected_with_owner(state):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        with pytest.raises(PortInUse) as exc:
            portmap.check_ports(state, "ctrA", pm("127.0.0.1:%d:80" % port))
        msg = str(exc.value)
        assert "127.0.0.1:%d:80/tcp" % port in msg and "pid %d" % os.getpid() in msg
        assert "choose another host port" in msg
        with pytest.raises(PortInUse):  # 0.0.0.0 covers 127.0.0.1
            portmap.claim_ports(state, "ctrA", pm("%d:80" % port))
        assert portmap.claimed_ports(state, "ctrA") == []  # the transaction rolled back
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.bind(("127.0.0.1", 0))
        uport = u.getsockname()[1]
        with pytest.raises(PortInUse):
            portmap.check_ports(state, "ctrA", pm("127.0.0.1:%d:53/udp" % uport))
        portmap.check_ports(state, "ctrA", pm("127.0.0.1:%d:53/tcp" % uport))


def test_host_ip_not_local(state):
    with pytest.raises(NetworkError, match="not an address of this host"):
        portmap.check_ports(state, "ctrA", pm("192.0.2.254:%d:80" % free_port()))


# -- nft rule text -----------------------------------------------------------------------------

def test_rule_text():
    rules = portmap.ctr_rules("t", "abc", [PortMapping("0.0.0.0", 8080, 80, "tcp"),
                                           PortMapping("127.0.0.1", 5353, 53, "udp")], "10.213.0.2")
    text = "\n".join(rules)
    assert "add chain ip t c_abc_pre { type nat hook prerouting priority -100; policy accept; }" in text
    assert "add chain ip t c_abc_out { type nat hook output priority -100; policy accept; }" in text
    assert "fib daddr type local tcp dport 8080 dnat to 10.213.0.2:80" in text
    assert "ip daddr 127.0.0.1 udp dport 5353 dnat to 10.213.0.2:53" in text
    assert text.count("flush chain ip t") == 2
    assert "dnat to [" not in text  # no IPv6 address in the container: its ip6 chains are deleted
    assert "delete chain ip6 t c_abc_pre" in text
    net = "\n".join(portmap.net_rules("t", "n1", "lpet1", "10.213.1.0/24"))
    assert ('ip saddr 10.213.1.0/24 ip daddr != 10.213.1.0/24 ip daddr != 224.0.0.0/4 oifname != "lpet1" '
            'masquerade') in net
    assert 'oifname "lpet1" ct status dnat ip saddr { 127.0.0.0/8, 10.213.1.0/24 } masquerade' in net
    assert "outbound" not in "\n".join(portmap.net_rules("t", "n1", "lpet1", "10.213.1.0/24", internal=True))
    assert portmap.chain_owner("c_abc_pre") == ("container", "abc")
    assert portmap.chain_owner("n_lpet1_post") == ("network", "lpet1")
    assert portmap.chain_owner("c__pre") is None and portmap.chain_owner("other") is None
    assert portmap.needs_route_localnet([PortMapping("0.0.0.0", 1, 1)])
    assert portmap.needs_route_localnet([PortMapping("127.0.0.5", 1, 1)])
    assert not portmap.needs_route_localnet([PortMapping("10.1.1.1", 1, 1)])


def test_ipv6_rules_on_a_dual_stack_network():
    """A container with an IPv6 address gets ip6 DNAT for IPv6 host addresses and for all-address
    ports (netavark does both); ::1 stays the proxy's and is excluded from the output hook."""
    ports = [PortMapping("0.0.0.0", 8080, 80, "tcp"), PortMapping("fd00::1", 8443, 443, "tcp"),
             PortMapping("127.0.0.1", 5353, 53, "udp"), PortMapping("::1", 8081, 81, "tcp")]
    rules = "\n".join(portmap.ctr_rules("t", "abc", ports, "10.213.0.2", "fd10::2"))
    assert "add rule ip t c_abc_pre fib daddr type local tcp dport 8080 dnat to 10.213.0.2:80" in rules
    assert "add rule ip6 t c_abc_pre fib daddr type local tcp dport 8080 dnat to [fd10::2]:80" in rules
    assert "add rule ip6 t c_abc_out fib daddr type local ip6 daddr != ::1 tcp dport 8080 dnat to [fd10::2]:80" in rules
    assert "add rule ip6 t c_abc_pre ip6 daddr fd00::1 tcp dport 8443 dnat to [fd10::2]:443" in rules
    assert "ip daddr fd00::1" not in rules and "dport 5353 dnat to [" not in rules
    assert "8081" not in rules
    assert "delete chain" not in rules


def test_no_ip6_family_on_a_kernel_without_ipv6(monkeypatch):
    """ipv6.disable=1: teardown and IPv4-only rules never touch the ip6 nft family (it may not work)."""
    monkeypatch.setattr(portmap, "kernel_has_ipv6", lambda: False)
    rules = portmap.ctr_rules("t", "abc", [PortMapping("0.0.0.0", 8080, 80, "tcp")], "10.213.0.2")
    assert "ip6" not in "\n".join(rules) and "ip6" not in "\n".join(portmap.ctr_delete("t", "abc"))
    monkeypatch.setattr(portmap, "kernel_has_ipv6", lambda: True)
    assert "delete chain ip6 t c_abc_pre" in "\n".join(portmap.ctr_delete("t", "abc"))


def test_names_are_checked():
    for bad in ("", "a b", "a;b", "-x", "x}", 'x"'):
        with pytest.raises(InvalidArg):
            portmap.check_name("container ID", bad)


# -- nft runner against the kernel (own table, removed afterwards) -----------------------------

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for nftables")


@needs_root
@pytest.mark.parametrize("backend", ["lib", "cli"])
def test_nft_backends(backend):
    try:
        nft = portmap.Nft(backend)
        nft.available()
        nft.using  # noqa: B018 - loads the backend
    except NetworkError as err:
        pytest.skip(str(err))
    table = "lpe_t%d_%s" % (os.getpid(), backend)
    try:
        nft.run("\n".join(portmap.ctr_rules(table, "abc", [PortMapping("127.0.0.1", 18080, 80)], "10.213.250.2"))
                + "\n", what="test")
        assert sorted(nft.chain_names("ip", table)) == ["c_abc_out", "c_abc_pre"]
        nft.run("\n".join(portmap.ctr_delete(table, "abc")) + "\n", what="test")
        nft.run("\n".join(portmap.ctr_delete(table, "abc")) + "\n", what="test again")  # idempotent
        assert nft.chain_names("ip", table) == []
        with pytest.raises(NetworkError, match="nftables: bad rule failed"):
            nft.run("add rule ip %s nosuchchain counter\n" % table, what="bad rule")
    finally:
        nft.run("\n".join(portmap.table_delete(table)) + "\n", what="cleanup")
    assert nft.list_table("ip", table) is None
    out = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=False).stdout
    assert table not in out


def test_ipv6_host_addresses_are_refused_where_ports_are_set_up(tmp_path):
    """Issue 23.7: accepted by the parser; served on a dual-stack network (ip6 DNAT) and on ::1
    (the userspace proxy); refused elsewhere, naming the network."""
    from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import NetworkError
    from ansible_collections.libpod.engine.plugins.module_utils.engine.network.portmap import (
        PortMapping,
        refuse_ipv6,
    )

    refuse_ipv6([PortMapping("127.0.0.1", 8080, 80), PortMapping("::1", 8080, 80)])
    with pytest.raises(NetworkError) as exc:
        refuse_ipv6([PortMapping("::", 8080, 80)])
    assert "publish [::]:8080:80/tcp: an IPv6 host address needs an IPv6 address in the container" in exc.value.msg
    with pytest.raises(NetworkError) as exc:
        refuse_ipv6([PortMapping("fd00::5", 8080, 80)], "web")
    assert "network web has no IPv6 subnet" in exc.value.msg and "ipv6: true" in exc.value.hint
    assert "127.0.0.1:8080:80" in exc.value.hint


def test_random_port_kept_across_restart_and_recreate_of_the_same_name(state):
    """publish: "80" picks a host port once: a restart (claims released) or a recreate (a new
    container ID with the same name) gets the same port again while it is free."""
    def add_ctr(cid, name):
        with state.tx():
            state.conn.execute("INSERT INTO containers(id, name, config, state, created) VALUES(?,?,?,?,0)",
                               (cid, name, "{}", "{}"))

    def drop_ctr(cid):
        with state.tx():
            state.conn.execute("DELETE FROM containers WHERE id=?", (cid,))

    add_ctr("ctrA", "web")
    first = portmap.claim_ports(state, "ctrA", pm("127.0.0.1::80"))
    portmap.release_ports(state, "ctrA")  # stop
    assert portmap.claim_ports(state, "ctrA", pm("127.0.0.1::80")) == first  # start again
    portmap.release_ports(state, "ctrA")
    drop_ctr("ctrA")  # recreate: new ID, same name
    add_ctr("ctrB", "web")
    assert portmap.claim_ports(state, "ctrB", pm("127.0.0.1::80")) == first
    # another container's claim on it wins: then a new random port
    portmap.release_ports(state, "ctrB")
    add_ctr("ctrC", "other")
    portmap.claim_ports(state, "ctrC", pm("127.0.0.1:%d:81" % first[0].host_port))
    assert portmap.claim_ports(state, "ctrB", pm("127.0.0.1::80")) != first
