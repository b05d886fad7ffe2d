# SPDX-License-Identifier: GPL-3.0-or-later
"""The holder process keeps published ports bound until released, and names its container."""
from __future__ import annotations

import socket

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import PortInUse
from ansible_collections.libpod.engine.plugins.module_utils.engine.network import portholder, portmap


def _free() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_holder_reserves_the_port_until_released(tmp_path):
    tmp = str(tmp_path)
    m = portmap.PortMapping("127.0.0.1", _free(), 80, "tcp")
    ctr = "a" * 64
    sock = portmap.bind_port(ctr, m)
    try:
        portholder.spawn(tmp, ctr, [sock], portholder.port_keys([m]), {"root": "/srv/root-a", "name": "web"})
    finally:
        sock.close()
    try:
        assert portholder.holding(tmp, ctr, portholder.port_keys([m]))
        with pytest.raises(PortInUse) as err:
            portmap.check_host_port("b" * 64, m)
        assert "container web" in str(err.value) and "/srv/root-a" in str(err.value)
    finally:
        assert portholder.release(tmp, ctr)
    portmap.bind_port("b" * 64, m).close()  # free again
    assert portholder.held(tmp) == []


def test_a_holder_is_recognised_right_after_spawn(tmp_path):
    """Popen returns when the child execs (vfork), before /proc/PID/cmdline shows the new argv:
    half of the checks made right after the spawn missed our own holder before spawn waited for it."""
    ctr = "c" * 64
    for _i in range(20):
        m = portmap.PortMapping("127.0.0.1", _free(), 80, "tcp")
        sock = portmap.bind_port(ctr, m)
        try:
            portholder.spawn(str(tmp_path), ctr, [sock], portholder.port_keys([m]), {"root": "/r", "name": "c"})
        finally:
            sock.close()
        try:
            assert portholder.holding(str(tmp_path), ctr, portholder.port_keys([m]))
        finally:
            assert portholder.release(str(tmp_path), ctr)
