# SPDX-License-Identifier: GPL-3.0-or-later
"""What a container's start does not need (issue 20): a ``network: none`` container makes its lo-only
netns without the network manager (its import and set-up cost ~8 ms of CPU per start; the undo of a
failed start removes the netns again: real namespaces, root), and one without a healthcheck does
not import the health monitor."""
from __future__ import annotations

import os
import subprocess
import sys
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


def test_no_healthcheck_no_health_monitor_import():
    """In a fresh interpreter (a module process): the start's health step for a container whose
    healthcheck is disabled returns without importing the monitor."""
    pkg = "ansible_collections.libpod.engine.plugins.module_utils.engine"
    code = ("import sys\nfrom types import SimpleNamespace\nfrom %s.objects.container import Container\n"
            "rec = SimpleNamespace(id='c' * 64, name='x', config={'healthcheck_set': True, 'healthcheck': None}, "
            "state={})\nContainer(None, rec)._start_health_monitor()\n"
            "print(sorted(m for m in sys.modules if m.endswith(('.healthmon', '.objects.health'))))\n" % pkg)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=":".join(sys.path)))
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr
