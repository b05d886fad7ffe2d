# SPDX-License-Identifier: GPL-3.0-or-later
"""Dual stack: IPv6 leases beside IPv4 ones on the same network, the record's subnets list and the
ip6 nft rules."""
import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.network import portmap
from ansible_collections.libpod.engine.plugins.module_utils.engine.network.ipam import (
    IPAM,
    check_gateway6,
    parse_subnet6,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.network.record import Network
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State


@pytest.fixture()
def state(tmp_path):
    s = State(str(tmp_path / "state.db"))
    yield s
    s.close()


def test_ipv6_subnet_and_gateway_checks():
    assert str(parse_subnet6("fd00:90::5/64")) == "fd00:90::/64"
    assert check_gateway6("fd00:90::/64", "fd00:90::fe") == "fd00:90::fe"
    for bad in ("10.0.0.0/24", "fd00::/127", "x"):
        with pytest.raises(InvalidArg):
            parse_subnet6(bad)
    for bad in ("fd01::1", "fd00:90::", "10.0.0.1"):
        with pytest.raises(InvalidArg):
            check_gateway6("fd00:90::/64", bad)


def test_v4_and_v6_leases_side_by_side(state):
    ipam = IPAM(state)
    assert ipam.allocate("n", "10.213.0.0/24", "c0") == "10.213.0.2"
    assert ipam.allocate("n", "fd00:213::/64", "c0") == "fd00:213::2"
    assert ipam.allocate("n", "fd00:213::/64", "c1") == "fd00:213::3"
    assert ipam.allocate("n", "10.213.0.0/24", "c1") == "10.213.0.3"
    assert ipam.lease_of("c0", "n") == "10.213.0.2" and ipam.lease_of("c0", "n", 6) == "fd00:213::2"
    # idempotent per family; a static IPv6 replaces only the IPv6 lease
    assert ipam.allocate("n", "fd00:213::/64", "c0") == "fd00:213::2"
    assert ipam.allocate("n", "fd00:213::/64", "c0", requested="fd00:213::77") == "fd00:213::77"
    assert ipam.lease_of("c0", "n") == "10.213.0.2"
    with pytest.raises(InvalidArg, match="not an IPv6 address"):
        ipam.allocate("n", "fd00:213::/64", "c2", requested="10.213.0.9")
    assert ipam.users("n") == ["c0", "c1"]
    assert ipam.release("c0", "n") == 2
    assert ipam.release_network("n") == 2


def test_record_round_trip_lists_both_subnets():
    net = Network(name="ds", id="x", bridge="lpe1", subnet="10.1.0.0/24", gateway="10.1.0.1",
                  subnet6="fd00:1::/64", gateway6="fd00:1::1")
    d = net.to_dict()
    assert d["subnets"] == [{"subnet": "10.1.0.0/24", "gateway": "10.1.0.1"},
                            {"subnet": "fd00:1::/64", "gateway": "fd00:1::1"}] and d["ipv6_enabled"]
    back = Network.from_dict(d)
    want = ("10.1.0.0/24", "fd00:1::/64", "fd00:1::1", 64)
    assert (back.subnet, back.subnet6, back.gateway6, back.prefix_len6) == want
    v4only = Network.from_dict(dict(d, subnets=d["subnets"][:1]))
    assert v4only.subnet6 is None and not v4only.to_dict()["ipv6_enabled"]


def test_ip6_rules_use_ip6_matches():
    text = "\n".join(portmap.net_rules("t", "ds", "lpe1", "fd00:1::/64", family="ip6"))
    assert "add table ip6 t" in text and "ip6 saddr fd00:1::/64 ip6 daddr != fd00:1::/64" in text
    assert "ip6 daddr != ff00::/8" in text and "ip6 saddr { ::1, fd00:1::/64 }" in text
    assert " ip " not in text.replace("add table ip6", "")
    dele = portmap.net_delete("t", "lpe1", "ip6")
    assert dele[0] == "add table ip6 t" and "delete chain ip6 t n_lpe1_post" in dele
