# SPDX-License-Identifier: GPL-3.0-or-later
"""Accept rules in the host's own forward chains when their policy is drop (hardened hosts).

Our rules live in our own tables, and in nftables an ``accept`` in one base chain does not end the
evaluation of another base chain on the same hook, while a ``drop`` anywhere is final: a host whose
``FORWARD`` chain (iptables-nft: ``table ip filter``; native nft: for example ``table inet filter``)
has ``policy drop`` drops every forwarded packet of our containers. As netavark's iptables driver
does, we then insert accept rules into that chain, per non-internal network and subnet:

* ``daddr SUBNET ct state established,related accept`` (replies to the containers),
* ``daddr SUBNET ct status dnat accept`` (published ports reached from outside),
* ``saddr SUBNET accept`` (the containers' own traffic out).

Each rule carries the comment ``libpod-engine root=<tag> bridge=<bridge> network=<name>`` (``tag``:
a hash of the engine root's static dir), so that exactly ours are removed when the network goes away
(its bridge and chains are deleted: last container removed, network removed, ``system_reset``),
whatever the chain's policy is by then. Nothing is touched on a host without such a chain.
"""
from __future__ import annotations

import hashlib
from typing import Any, Dict, Iterable, List, Tuple

FAMILIES = ("ip", "ip6", "inet")
PREFIX = "libpod-engine root="


def root_tag(static_dir: str) -> str:
    return hashlib.sha256(static_dir.encode()).hexdigest()[:12]


def comment(tag: str, bridge: str, network: str) -> str:
    return ("%s%s bridge=%s network=%s" % (PREFIX, tag, bridge, network))[:120]


def owner_prefix(tag: str, bridge: str = "") -> str:
    """The comment prefix of the rules of one network (bridge) or of the whole root."""
    return "%s%s bridge=%s network=" % (PREFIX, tag, bridge) if bridge else "%s%s " % (PREFIX, tag)


def forward_chains(nft, own_table: str, *, drop_only: bool) -> List[Tuple[str, str, str]]:
    """(family, table, chain) of the host's base chains on the forward hook (ours excluded)."""
    out = []
    for obj in nft.list_json("list chains"):
        c = obj.get("chain")
        if not c or c.get("hook") != "forward" or c.get("family") not in FAMILIES or c.get("table") == own_table:
            continue
        if drop_only and c.get("policy") != "drop":
            continue
        out.append((c["family"], c["table"], c["name"]))
    return out


def _rules(nft, family: str, table: str, chain: str) -> List[Dict[str, Any]]:
    return [o["rule"] for o in nft.list_json("list chain %s %s %s" % (family, table, chain)) if "rule" in o]


def ensure_lines(nft, own_table: str, text: str, subnets: Iterable[str]) -> List[str]:
    """nft commands inserting the accept rules tagged ``text`` into every host forward chain
    with policy drop that does not have them yet ([] when there is none: the common case)."""
    subnets = list(subnets)
    lines: List[str] = []
    for family, table, chain in forward_chains(nft, own_table, drop_only=True):
        if any(r.get("comment") == text for r in _rules(nft, family, table, chain)):
            continue
        for subnet in subnets:
            ip = "ip6" if ":" in subnet else "ip"
            if family not in (ip, "inet"):
                continue
            where = "insert rule %s %s %s" % (family, table, chain)
            lines += ['%s %s saddr %s accept comment "%s"' % (where, ip, subnet, text),
                      '%s %s daddr %s ct status dnat accept comment "%s"' % (where, ip, subnet, text),
                      '%s %s daddr %s ct state established,related accept comment "%s"' % (where, ip, subnet, text)]
    return lines


def delete_lines(nft, own_table: str, prefix: str) -> List[str]:
    """nft commands deleting every rule whose comment starts with ``prefix`` from the host's
    forward chains (any policy: it may have changed since)."""
    lines = []
    for family, table, chain in forward_chains(nft, own_table, drop_only=False):
        for r in _rules(nft, family, table, chain):
            if str(r.get("comment") or "").startswith(prefix):
                lines.append("delete rule %s %s %s handle %d" % (family, table, chain, r["handle"]))
    return lines
