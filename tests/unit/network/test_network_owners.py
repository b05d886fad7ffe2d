# SPDX-License-Identifier: GPL-3.0-or-later
"""Default networks of two roots (DB records and host registry claims only: no bridge is made)."""
from __future__ import annotations

import uuid

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import RootConflict
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.roots import RootId
from ansible_collections.libpod.engine.plugins.module_utils.engine.network import registry
from ansible_collections.libpod.engine.plugins.module_utils.engine.network.manager import NetworkManager
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State

MADE = []


@pytest.fixture(autouse=True)
def _drop_claims():
    """Remove the networks (and so the host registry claims) the test's managers made."""
    yield
    while MADE:
        mgr = MADE.pop()
        for net in mgr.list_networks():
            mgr.remove_network(net["name"], force=True)


def _manager(tmp_path, name, prefix, subnet, warnings, **kw):
    static = tmp_path / name
    static.mkdir()
    state = State(str(static / "state.db"))
    mgr = NetworkManager(state, tmp_dir=str(static / "tmp"), default_subnet=subnet, bridge_prefix=prefix,
                         root=RootId.of(str(static)), warn=warnings.append, **kw)
    MADE.append(mgr)
    return mgr


@pytest.fixture
def prefix():
    """A bridge prefix no other test or root uses."""
    return "q" + uuid.uuid4().hex[:5]


@pytest.fixture
def net24():
    """``net24(i)``: the i-th of 4 consecutive /24s of a random block (no other root's)."""
    base = 16 * (uuid.uuid4().int % 16)

    def pick(i: int) -> str:
        return "10.213.%d.0/24" % (base + i)

    return pick


def test_explicit_settings_of_another_root_are_refused(tmp_path, prefix, net24):
    warnings = []
    a = _manager(tmp_path, "a", prefix, net24(0), warnings)
    a.ensure_network()
    b = _manager(tmp_path, "b", prefix, net24(1), warnings)
    with pytest.raises(RootConflict) as err:
        b.ensure_network()
    assert a.root.static_dir in str(err.value) and "bridge_prefix" in str(err.value)
    c = _manager(tmp_path, "c", prefix[:-1] + "z", net24(0).replace(".0/24", ".128/25"), warnings)
    with pytest.raises(RootConflict) as err:
        c.ensure_network()
    assert a.root.static_dir in str(err.value) and "default_subnet" in str(err.value)
    assert not warnings


def test_default_settings_move_to_a_free_bridge_and_subnet_with_a_warning(tmp_path, prefix, net24):
    warnings = []
    a = _manager(tmp_path, "a", prefix, net24(0), warnings, auto_bridge=True, auto_subnet=True)
    net_a = a.ensure_network()
    b = _manager(tmp_path, "b", prefix, net24(0), warnings, auto_bridge=True, auto_subnet=True)
    net_b = b.ensure_network()
    assert net_a["network_interface"] != net_b["network_interface"]
    assert net_a["subnets"][0]["subnet"] != net_b["subnets"][0]["subnet"]
    assert len(warnings) == 1 and a.root.static_dir in warnings[0] and net_b["network_interface"] in warnings[0]
    assert registry.claim_of(net_b["network_interface"]).static_dir == b.root.static_dir
    b.remove_network("engine")
    assert registry.claim_of(net_b["network_interface"]) is None
    assert registry.claim_of(net_a["network_interface"]).static_dir == a.root.static_dir


def test_unclaimed_bridge_is_adopted_only_when_it_is_this_roots_own(tmp_path, prefix, net24):
    """An upgrade: a bridge made before bridges had owners carries our gateway and no foreign veth
    (adopted); a bridge of that name without our gateway is someone else's (refused)."""
    import subprocess  # noqa: PLC0415

    warnings = []
    plain = _manager(tmp_path, "old", prefix, net24(0), warnings)
    plain.root = None  # the record as an engine without the registry wrote it
    rec = plain.ensure_network()
    plain.root = RootId.of(str(tmp_path / "old"))
    bridge, gateway = rec["network_interface"], rec["subnets"][0]["gateway"]
    subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
    try:
        subprocess.run(["ip", "addr", "add", gateway + "/24", "dev", bridge], check=True)
        net = plain._network("engine")  # noqa: SLF001
        plain._ensure_bridge(net)  # noqa: SLF001 - adopted and claimed
        assert registry.claim_of(bridge).static_dir == plain.root.static_dir
        # the same bridge name, recorded by another root with another gateway: not adopted
        other = _manager(tmp_path, "other", prefix, net24(1), warnings)
        other.root = None
        rec2 = other.ensure_network()
        other.root = RootId.of(str(tmp_path / "other"))
        assert rec2["network_interface"] == bridge
        with pytest.raises(RootConflict) as err:
            other._ensure_bridge(other._network("engine"))  # noqa: SLF001
        assert plain.root.static_dir in str(err.value)
    finally:
        subprocess.run(["ip", "link", "del", bridge], check=False)
