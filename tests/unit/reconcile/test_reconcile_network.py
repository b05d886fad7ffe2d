# SPDX-License-Identifier: GPL-3.0-or-later
"""Declared spec of libpod.engine.network and the container's per-network settings (pure)."""
import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.network.ipam import check_ip_range
from ansible_collections.libpod.engine.plugins.module_utils.engine.network.record import Network, range_bounds
from ansible_collections.libpod.engine.plugins.module_utils.reconcile import container_options as co
from ansible_collections.libpod.engine.plugins.module_utils.reconcile import network as rn


def test_declared_spec_normalises_and_omitted_means_default():
    spec = rn.declared_spec({"name": "n", "subnet": "10.89.3.7/24", "options": ["mtu=1400", "isolate"],
                             "labels": {"a": "b"}})
    assert spec["subnet"] == "10.89.3.0/24" and spec["options"] == {"mtu": "1400", "isolate": "true"}
    assert spec["internal"] is False and spec["disable_dns"] is False and spec["driver"] == "bridge"
    same = rn.declared_spec({"name": "n", "subnet": "10.89.3.0/24", "options": {"mtu": "1400", "isolate": True},
                             "labels": {"a": "b"}})
    assert rn.OPTIONS.differences(spec, same) == []
    assert rn.OPTIONS.differences(spec, dict(same, labels={})) == ["labels"]
    # isolate false is the same as omitting it
    assert rn.normalize_options({"isolate": False}) == {}


@pytest.mark.parametrize("params, match", [
    ({"gateway": "10.89.0.1"}, "gateway needs subnet"),
    ({"ip_range": "10.89.0.0/25"}, "ip_range needs subnet"),
    ({"subnet": "10.89.0.0/24", "gateway": "10.90.0.1"}, "not a host address"),
    ({"subnet": "10.89.0.0/24", "ip_range": "10.90.0.0/25"}, "not inside subnet"),
    ({"options": {"mtu": 10}}, "mtu"),
    ({"options": {"vlan": 3}}, "unknown option"),
    ({"subnet": "fd00::/64"}, "only IPv4"),
])
def test_declared_spec_refuses_bad_values(params, match):
    with pytest.raises(InvalidArg, match=match):
        rn.declared_spec(dict(params, name="n"))


def test_implicit_network_compares_equal_to_a_bare_task():
    net = Network(name="engine", id="x", bridge="lpe0", subnet="10.90.0.0/24", gateway="10.90.0.1")
    bare = rn.declared_spec({"name": "engine", "disable_dns": True})
    assert rn.OPTIONS.differences(rn.declared_from_record(net), bare) == []


def test_ip_range_bounds_and_inspect_shape():
    assert check_ip_range("10.89.0.0/24", "10.89.0.128/25") == "10.89.0.128/25"
    assert range_bounds("10.89.0.0/24", "10.89.0.0/24") == ("10.89.0.1", "10.89.0.254")
    net = Network(name="n", id="i", bridge="b", subnet="10.89.0.0/24", gateway="10.89.0.1", ip_range="10.89.0.128/25",
                  declared={"x": 1})
    out = net.inspect()
    assert out["subnets"] == [{"subnet": "10.89.0.0/24", "gateway": "10.89.0.1",
                               "lease_range": {"start_ip": "10.89.0.128", "end_ip": "10.89.0.254"}}]
    assert "declared" not in out and Network.from_dict(net.to_dict()) == net


def test_container_network_long_form():
    got = co._network(["a", {"name": "b", "aliases": ["db"], "ip": "10.0.0.5", "mac_address": "92:D0:C6:0A:29:33",
                             "interface_name": "back0"}], None)
    assert got == {"mode": "bridge", "networks": ["a", "b"], "attach": {
        "b": {"aliases": ["db"], "ip": "10.0.0.5", "mac_address": "92:d0:c6:0a:29:33", "interface_name": "back0"}}}
    assert co._network(["a", "b"], None) == {"mode": "bridge", "networks": ["a", "b"]}
    with pytest.raises(InvalidArg, match="twice"):
        co._network(["a", {"name": "a"}], None)
    with pytest.raises(InvalidArg, match="may only have"):
        co._network([{"name": "a", "ipv4": "1.2.3.4"}], None)
    with pytest.raises(InvalidArg, match="unicast"):
        co._network([{"name": "a", "mac_address": "01:00:00:00:00:01"}], None)


def test_top_level_ip_and_aliases_go_to_the_first_network():
    net = co.fold_attach({"mode": "bridge", "networks": []}, "engine", ip="10.90.0.9", aliases=["x"])
    assert net["attach"] == {"engine": {"ip": "10.90.0.9", "aliases": ["x"]}}
    with pytest.raises(InvalidArg, match="both"):
        co.fold_attach({"mode": "bridge", "networks": ["a"], "attach": {"a": {"ip": "10.0.0.2"}}}, "e", ip="10.0.0.3")
    with pytest.raises(InvalidArg, match="need a bridge network"):
        co.fold_attach({"mode": "host", "networks": []}, "e", ip="10.0.0.3")
    with pytest.raises(InvalidArg, match="ip6 '10.0.0.5' is not an IPv6 address"):
        co.fold_attach({"mode": "bridge", "networks": []}, "e", ip6="10.0.0.5")
    net = co.fold_attach({"mode": "bridge", "networks": []}, "engine", ip6="FD00::5")
    assert net["attach"] == {"engine": {"ip6": "fd00::5"}}


def test_a_reserved_network_name_is_refused_before_anything_even_in_check_mode():
    """The module's check mode predicted 'create network private' that the real run refused."""
    import pytest

    from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
    from ansible_collections.libpod.engine.plugins.module_utils.engine.network.manager import check_network_name
    from ansible_collections.libpod.engine.plugins.module_utils.reconcile.network import reconcile_network

    with pytest.raises(InvalidArg, match="reserved for a network mode"):
        check_network_name("private")
    check_network_name("backend")
    with pytest.raises(InvalidArg, match="reserved for a network mode"):  # before the runtime is touched
        reconcile_network(None, {"name": "private", "state": "present"}, check_mode=True)


def test_network_modes_pasta_and_slirp4netns_parse_and_compare_stably():
    assert co._network("pasta", None) == {"mode": "pasta", "networks": [], "options": []}
    assert co._network("pasta:--ipv4-only,-a,10.0.2.0", None)["options"] == ["--ipv4-only", "-a", "10.0.2.0"]
    assert co._network(["slirp4netns:mtu=65520"], None) == co._network("slirp4netns", None)
    a = co._network("slirp4netns:mtu=1500,allow_host_loopback=true", None)
    assert a == co._network("slirp4netns:allow_host_loopback=yes,mtu=1500", None)
    assert co.OPTIONS.differences({"network": a}, {"network": co._network("slirp4netns", None)}) == ["network"]
    with pytest.raises(InvalidArg, match="no options after the colon"):
        co._network("pasta:", None)
    with pytest.raises(InvalidArg, match="cannot be combined"):
        co._network(["pasta", "backend"], None)
    with pytest.raises(InvalidArg, match="cannot be combined"):
        co._network(["slirp4netns:mtu=1500", "backend"], None)
