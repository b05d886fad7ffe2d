# SPDX-License-Identifier: GPL-3.0-or-later
"""Accept rules in the host's forward chains with policy drop: only there, only once, only ours deleted."""
from __future__ import annotations

from ansible_collections.libpod.engine.plugins.module_utils.engine.network import hostfw


class FakeNft:
    def __init__(self, chains, rules):
        self.chains, self.rules = chains, rules

    def list_json(self, what):
        if what == "list chains":
            return [{"chain": c} for c in self.chains]
        family, table, chain = what.split()[2:]
        return [{"rule": r} for r in self.rules.get((family, table, chain), [])]


def _chain(family, table, name, policy, hook="forward"):
    return {"family": family, "table": table, "name": name, "hook": hook, "policy": policy}


TAG = hostfw.root_tag("/srv/root-a")


def test_rules_only_for_drop_forward_chains_of_the_host_and_per_family():
    nft = FakeNft([_chain("ip", "filter", "FORWARD", "drop"), _chain("inet", "fw", "forward", "drop"),
                   _chain("ip", "filter", "INPUT", "drop", hook="input"), _chain("ip", "nat", "POSTROUTING", "accept"),
                   _chain("ip", "libpod_engine", "n_lpe1_fwd", "drop")], {})
    text = hostfw.comment(TAG, "lpe1", "web")
    lines = hostfw.ensure_lines(nft, "libpod_engine", text, ["10.1.0.0/24", "fd00::/64"])
    assert all(text in ln for ln in lines)
    ip_filter = [ln for ln in lines if " ip filter FORWARD " in ln]
    assert len(ip_filter) == 3 and not any("fd00::" in ln for ln in ip_filter)  # ip family: IPv4 only
    assert len([ln for ln in lines if " inet fw forward " in ln]) == 6
    assert not any(" INPUT " in ln or " nat " in ln or " libpod_engine " in ln for ln in lines)
    assert 'ip daddr 10.1.0.0/24 ct state established,related accept' in " ".join(lines)
    assert hostfw.ensure_lines(FakeNft([_chain("ip", "filter", "FORWARD", "accept")], {}), "libpod_engine",
                               text, ["10.1.0.0/24"]) == []


def test_present_rules_are_not_added_twice_and_only_ours_are_deleted():
    fwd = ("ip", "filter", "FORWARD")
    mine, other_net = hostfw.comment(TAG, "lpe1", "web"), hostfw.comment(TAG, "lpe10", "db")
    other_root = hostfw.comment(hostfw.root_tag("/srv/root-b"), "lpe1", "web")
    rules = {fwd: [{"handle": 4, "comment": mine}, {"handle": 5, "comment": other_net},
                   {"handle": 6, "comment": other_root}, {"handle": 7, "comment": "host rule"}, {"handle": 8}]}
    nft = FakeNft([_chain("ip", "filter", "FORWARD", "accept")], rules)  # policy changed since: still deleted
    assert hostfw.ensure_lines(FakeNft([_chain("ip", "filter", "FORWARD", "drop")], rules), "libpod_engine",
                               mine, ["10.1.0.0/24"]) == []
    assert hostfw.delete_lines(nft, "libpod_engine", hostfw.owner_prefix(TAG, "lpe1")) == [
        "delete rule ip filter FORWARD handle 4"]
    assert hostfw.delete_lines(nft, "libpod_engine", hostfw.owner_prefix(TAG)) == [
        "delete rule ip filter FORWARD handle 4", "delete rule ip filter FORWARD handle 5"]
