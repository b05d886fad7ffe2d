"""network.netns.lo_only: which saved network statuses a cleanup may undo by removing the netns file
alone (mode none); anything with a network, a port or a joined namespace goes through the manager."""
from __future__ import annotations

from ansible_collections.libpod.engine.plugins.module_utils.engine.network.netns import lo_only, remove_netns

NONE = {"netns": "/run/x/netns/abc", "networks": {}, "ports": [], "hostname": "", "aliases": []}


def test_the_status_of_mode_none_is_lo_only():
    assert lo_only(NONE)


def test_a_network_a_port_a_join_or_no_status_is_not():
    assert not lo_only(dict(NONE, networks={"lpebench": {"ip": "10.0.0.2"}}))
    assert not lo_only(dict(NONE, ports=[{"host_port": 8080}]))
    assert not lo_only(dict(NONE, joined="0123"))
    # pasta/slirp4netns without published ports: the tool must be stopped by the manager's teardown
    assert not lo_only(dict(NONE, usermode={"mode": "pasta", "pid": 4242}))
    assert not lo_only(dict(NONE, netns=""))
    assert not lo_only({k: v for k, v in NONE.items() if k != "networks"})
    assert not lo_only(None)


def test_remove_netns_deletes_a_plain_file_and_tolerates_a_missing_one(tmp_path):
    path = tmp_path / "ctr"
    path.write_text("")
    assert remove_netns(str(path)) is True
    assert not path.exists()
    assert remove_netns(str(path)) is False
