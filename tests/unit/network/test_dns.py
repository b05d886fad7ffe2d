# SPDX-License-Identifier: GPL-3.0-or-later
"""aardvark-dns config rendering and entries (pure; the server itself runs in tests/integration/test_networks.py)."""
from types import SimpleNamespace

from ansible_collections.libpod.engine.plugins.module_utils.engine.network import dns


def rec(name, cid, status, nets, attach=None):
    return SimpleNamespace(name=name, id=cid, state={"status": status, "network_status": {"networks": nets}},
                           config={"network": {"mode": "bridge", "networks": list(nets), "attach": attach or {}}})


def test_render_matches_netavark_format():
    text = dns.render(["10.89.0.1"], [("abc", ["10.89.0.2"], [], ["web", "www"]), ("def", ["10.89.0.3"], [], ["db"])])
    # first line: listen addresses; then "<id> <ipv4s> <ipv6s> <names>" with an empty IPv6 field
    assert text == "10.89.0.1\nabc 10.89.0.2  web,www\ndef 10.89.0.3  db\n"
    assert dns.render(["10.89.0.1", "fd00::1"], []) == "10.89.0.1,fd00::1\n"


def test_entries_only_running_members_with_aliases_in_name_order():
    recs = [
        rec("zed", "z1", "running", {"a": {"ip": "10.0.0.5", "gateway": "10.0.0.1"}}),
        rec("alpha", "a1", "running", {"a": {"ip": "10.0.0.2"}, "b": {"ip": "10.1.0.2"}},
            attach={"a": {"aliases": ["db", "alpha", "db"]}}),
        rec("gone", "g1", "exited", {"a": {"ip": "10.0.0.9"}}),
        rec("other", "o1", "running", {"b": {"ip": "10.1.0.3"}}),
    ]
    assert dns.network_entries(recs, "a", ("running",)) == [
        ("a1", ["10.0.0.2"], [], ["alpha", "db"]), ("z1", ["10.0.0.5"], [], ["zed"])]
    assert [e[0] for e in dns.network_entries(recs, "b", ("running",))] == ["a1", "o1"]


def test_dns_servers_are_the_gateways_of_dns_networks_in_order():
    status = {"networks": {"a": {"gateway": "10.0.0.1"}, "b": {"gateway": "10.1.0.1"}, "c": {"gateway": "10.2.0.1"}}}
    assert dns.dns_servers(status, ["c", "a"]) == ["10.0.0.1", "10.2.0.1"]
    assert dns.dns_servers({}, ["a"]) == []


def test_a_dual_stack_network_names_its_ipv6_gateway_after_the_ipv4_one():
    status = {"networks": {"a": {"gateway": "10.0.0.1", "gateway6": "fd00::1"}, "b": {"gateway": "10.1.0.1"}}}
    assert dns.dns_servers(status, ["a", "b"]) == ["10.0.0.1", "fd00::1", "10.1.0.1"]


def test_write_is_idempotent_and_removes_empty_networks(tmp_path):
    ard = dns.Aardvark(str(tmp_path / "aardvark"), binary=None)
    entries = [("abc", ["10.89.0.2"], [], ["web"])]
    assert ard.write("net1", ["10.89.0.1"], entries) is True
    assert ard.write("net1", ["10.89.0.1"], entries) is False
    assert ard.networks() == ["net1"]
    ard.apply()  # no binary, no server: nothing to start, nothing fails
    assert ard.write("net1", ["10.89.0.1"], []) is True
    assert ard.networks() == []
    assert ard.write("net1", ["10.89.0.1"], []) is False


def test_missing_binary_means_not_available():
    assert not dns.Aardvark("/nonexistent", None).available
    assert dns.Aardvark("/nonexistent", "/usr/lib/podman/aardvark-dns").available
