# SPDX-License-Identifier: GPL-3.0-or-later
"""IPv4 leases in the state DB (ipam.py), including concurrent allocation from processes."""
import multiprocessing

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg, NetworkError
from ansible_collections.libpod.engine.plugins.module_utils.engine.network.ipam import (
    IPAM,
    PORT_CLAIMS,
    check_gateway,
    default_gateway,
    parse_subnet,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State


@pytest.fixture()
def state(tmp_path):
    s = State(str(tmp_path / "state.db"))
    yield s
    s.close()


def test_subnet_and_gateway_checks():
    assert str(parse_subnet("10.90.0.5/24")) == "10.90.0.0/24"
    assert default_gateway("10.90.0.0/24") == "10.90.0.1"
    assert check_gateway("10.90.0.0/24", "10.90.0.254") == "10.90.0.254"
    for bad in ("nope", "10.90.0.0/33", "fd00::/64", "10.90.0.0/31"):
        with pytest.raises(InvalidArg):
            parse_subnet(bad)
    for bad in ("10.91.0.1", "10.90.0.0", "10.90.0.255", "x"):
        with pytest.raises(InvalidArg):
            check_gateway("10.90.0.0/24", bad)


def test_sequential_skips_gateway_and_is_idempotent(state):
    ipam = IPAM(state)
    ips = [ipam.allocate("n", "10.213.0.0/24", "c%d" % i) for i in range(3)]
    assert ips == ["10.213.0.2", "10.213.0.3", "10.213.0.4"]
    assert ipam.allocate("n", "10.213.0.0/24", "c1") == "10.213.0.3"  # same container, same lease
    assert ipam.lease_of("c1", "n") == "10.213.0.3"
    # a gateway elsewhere is skipped, the first host address becomes usable
    assert ipam.allocate("g", "10.213.1.0/24", "c0", gateway="10.213.1.3") == "10.213.1.1"
    assert ipam.allocate("g", "10.213.1.0/24", "c1", gateway="10.213.1.3") == "10.213.1.2"
    assert ipam.allocate("g", "10.213.1.0/24", "c2", gateway="10.213.1.3") == "10.213.1.4"


def test_released_address_not_reused_at_once_then_wraps(state):
    ipam = IPAM(state)
    net = "10.213.0.0/29"  # hosts .1-.6, gateway .1 -> .2-.6
    got = [ipam.allocate("n", net, "c%d" % i) for i in range(5)]
    assert got == ["10.213.0.%d" % i for i in range(2, 7)]
    with pytest.raises(NetworkError) as exc:
        ipam.allocate("n", net, "c5")
    assert "network n (subnet 10.213.0.0/29)" in str(exc.value) and "no free IP" in str(exc.value)
    assert exc.value.hint
    assert ipam.release("c1") == 1
    assert ipam.release("c3") == 1
    assert ipam.allocate("n", net, "c6") == "10.213.0.3"  # wrapped around past .6, first free
    assert ipam.allocate("n", net, "c7") == "10.213.0.5"
    assert ipam.release("nobody") == 0


def test_cursor_continues_after_release(state):
    ipam = IPAM(state)
    a = ipam.allocate("n", "10.213.0.0/24", "a")
    ipam.release("a")
    b = ipam.allocate("n", "10.213.0.0/24", "b")
    assert (a, b) == ("10.213.0.2", "10.213.0.3")


def test_static_requests(state):
    ipam = IPAM(state)
    assert ipam.allocate("n", "10.213.0.0/24", "a", requested="10.213.0.50") == "10.213.0.50"
    with pytest.raises(NetworkError, match="already leased to container b"[:-1]):
        ipam.allocate("n", "10.213.0.0/24", "b", requested="10.213.0.50")
    for bad in ("10.213.0.1", "10.213.0.255", "10.9.9.9", "x"):
        with pytest.raises(InvalidArg):
            ipam.allocate("n", "10.213.0.0/24", "b", requested=bad)
    # a different request moves the container's lease
    assert ipam.allocate("n", "10.213.0.0/24", "a", requested="10.213.0.51") == "10.213.0.51"
    assert [lease.ip for lease in ipam.leases("n")] == ["10.213.0.51"]


def test_leases_orphans_and_clear(state):
    ipam = IPAM(state)
    ipam.allocate("n1", "10.213.0.0/24", "a")
    ipam.allocate("n2", "10.213.1.0/24", "a")
    ipam.allocate("n1", "10.213.0.0/24", "b")
    with state.tx():
        state.conn.execute("INSERT INTO ip_leases VALUES(?,?,?)", (PORT_CLAIMS, "tcp/80/0.0.0.0/80", "b"))
    assert {lease.container_id for lease in ipam.leases()} == {"a", "b"}  # port claims are not IP leases
    assert ipam.users("n1") == ["a", "b"]
    gone = ipam.release_orphans({"a"})
    assert sorted((g.network, g.container_id) for g in gone) == [(PORT_CLAIMS, "b"), ("n1", "b")]
    assert len(ipam.leases(ctr_id="a")) == 2
    ipam.clear()
    assert ipam.leases() == []


def _worker(db, wid, n, start, out):
    s = State(db)
    s.tune()
    ipam = IPAM(s)
    start.wait(10)
    got = [ipam.allocate("conc", "10.213.0.0/24", "w%d-%d" % (wid, i)) for i in range(n)]
    s.close()
    out.put(got)


def test_concurrent_allocation_never_duplicates(tmp_path):
    db = str(tmp_path / "state.db")
    State(db).close()
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(db, w, 25, start, out)) for w in range(4)]
    for p in procs:
        p.start()
    start.set()
    results = [out.get(timeout=60) for _i in procs]
    for p in procs:
        p.join(10)
        assert p.exitcode == 0
    ips = [ip for r in results for ip in r]
    assert len(ips) == 100 and len(set(ips)) == 100
    assert "10.213.0.1" not in ips
    s = State(db)
    assert len(IPAM(s).leases("conc")) == 100
    s.close()


def test_ip_range_limits_automatic_addresses_not_static_ones(state):
    ipam = IPAM(state)
    # the range's own network address is a host of the subnet; the subnet's broadcast is not
    got = [ipam.allocate("n", "10.9.0.0/24", "c%d" % i, ip_range="10.9.0.252/30") for i in range(3)]
    assert got == ["10.9.0.252", "10.9.0.253", "10.9.0.254"]
    with pytest.raises(NetworkError, match="no free IP"):
        ipam.allocate("n", "10.9.0.0/24", "c9", ip_range="10.9.0.252/30")
    assert ipam.allocate("n", "10.9.0.0/24", "c8", requested="10.9.0.7", ip_range="10.9.0.252/30") == "10.9.0.7"
