# SPDX-License-Identifier: GPL-3.0-or-later
"""A ``network: none`` container's start makes its lo-only netns without the network manager
(issue 20: the manager's import and set-up cost ~8 ms of CPU per start); the undo of a failed
start removes it again. Real namespaces (root), no container process."""
from __future__ import annotations

import os
import uuid
from types import SimpleNamespace

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.network import netns
from ansible_collections.libpod.engine.plugins.module_utils.engine.network.manager import remove_netns_dir
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.container import Container

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")


class _Runtime:
    """Only what the network-none start path may touch."""

    def __init__(self, tmp_dir: str):
        self.tmp_dir = tmp_dir

    @property
    def network(self):
        raise AssertionError("the network manager was used for network mode none")


def _container(tmp_dir: str, network: dict) -> Container:
    rec = SimpleNamespace(id=uuid.uuid4().hex + uuid.uuid4().hex, name="none", config={"network": network}, state={})
    return Container(_Runtime(tmp_dir), rec)


def test_network_none_start_needs_no_manager(tmp_path):
    ctr = _container(str(tmp_path), {"mode": "none"})
    undo = []
    try:
        path, status, ips = ctr._setup_network(undo)
        assert path == os.path.join(str(tmp_path), "netns", ctr.id) and netns.is_nsfs(path)
        assert netns.lo_only(status) and ips == []
        assert [what for what, _fn in undo] == ["network"]
        undo[0][1]()  # what a failed start runs
        assert not os.path.lexists(path)
    finally:
        remove_netns_dir(str(tmp_path / "netns"))


def test_leftover_netns_goes_to_the_manager(tmp_path):
    """A netns file already there (a crash between set-up and start): the manager's setup, which
    checks it, keeps or redoes it."""
    ctr = _container(str(tmp_path), {"mode": "none"})
    os.makedirs(str(tmp_path / "netns"))
    open(str(tmp_path / "netns" / ctr.id), "w").close()
    with pytest.raises(AssertionError, match="network manager was used"):
        ctr._setup_network([])
