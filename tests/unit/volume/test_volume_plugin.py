# SPDX-License-Identifier: GPL-3.0-or-later
"""Volume plugin client and plugin-backed volumes, against our own plugin server."""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import (
    InvalidArg,
    NameInUse,
    VolumePluginError,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.locks import LockManager
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State
from ansible_collections.libpod.engine.plugins.module_utils.engine.volume.manager import VolumeManager
from ansible_collections.libpod.engine.plugins.module_utils.engine.volume.plugin import (
    MOUNT_ID,
    PluginNoSuchVolume,
    VolumePlugin,
)
from ansible_collections.libpod.engine.tests.helpers.volume_plugin_server import VolumePluginServer

TIMEOUT = 0.5


@pytest.fixture
def sockdir():
    """Short directory for sockets (sun_path holds 108 bytes; pytest's tmp paths can be longer)."""
    d = tempfile.mkdtemp(prefix="vp-", dir="/tmp")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def server(tmp_path, sockdir):
    srv = VolumePluginServer(str(tmp_path / "plugin"), os.path.join(sockdir, "p.sock")).start()
    yield srv
    srv.stop()


def _mgr(tmp_path, plugins, **kw) -> VolumeManager:
    state = State(str(tmp_path / "state.db"))
    locks = LockManager(state, str(tmp_path / "locks"), 32)
    return VolumeManager(state, locks, volume_path=str(tmp_path / "volumes"), plugins=plugins, **kw)


@pytest.fixture
def mgr(tmp_path, server):
    m = _mgr(tmp_path, {"testplug": server.socket_path}, plugin_timeout=2.0)
    yield m
    m.state.close()


class _RawServer:
    """Unix socket server that answers every connection with a canned byte script."""

    def __init__(self, path: str, script, delay: float = 0.0):
        self.path = path
        self.script = script
        self.delay = delay
        self.stop_evt = threading.Event()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.sock.settimeout(0.05)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop_evt.is_set():
            try:
                conn, _unused = self.sock.accept()
            except OSError:
                continue
            try:
                conn.settimeout(2)
                conn.recv(65536)
                for piece in self.script:
                    if self.stop_evt.is_set():
                        break
                    conn.sendall(piece)
                    if self.delay:
                        time.sleep(self.delay)
            except OSError:
                pass
            finally:
                conn.close()

    def close(self):
        self.stop_evt.set()
        self.thread.join(5)
        self.sock.close()


# ------------------------------------------------------------------------------------------
# client
# ------------------------------------------------------------------------------------------
def test_client_protocol_roundtrip(server):
    c = VolumePlugin("testplug", server.socket_path, timeout=2)
    assert c.activate() == ["VolumeDriver"]
    assert c.capabilities() == {"Scope": "local"}
    c.create("v1", {"size": "1g"})
    assert server.volumes["v1"]["opts"] == {"size": "1g"}
    assert [v["Name"] for v in c.list()] == ["v1"]
    assert c.path("v1") == ""
    path = c.mount("v1")
    assert os.path.isdir(path) and c.path("v1") == path
    assert c.get("v1")["Mountpoint"] == path
    c.unmount("v1")
    c.remove("v1")
    assert "v1" not in server.volumes
    assert ("VolumeDriver.Mount", {"Name": "v1", "ID": MOUNT_ID}) in server.calls
    assert server.ops()[0] == "Plugin.Activate" and server.ops().count("Plugin.Activate") == 1


def test_client_surfaces_err(server):
    c = VolumePlugin("testplug", server.socket_path, timeout=2)
    with pytest.raises(PluginNoSuchVolume, match='volume plugin "testplug" .*VolumeDriver.Remove of volume "nope" '
                                                 "failed: no such volume: nope"):
        c.remove("nope")
    server.fail["VolumeDriver.Create"] = "disk full"
    with pytest.raises(VolumePluginError, match="VolumeDriver.Create of volume \"x\" failed: disk full") as exc:
        c.create("x")
    assert not isinstance(exc.value, PluginNoSuchVolume)
    assert server.socket_path in str(exc.value)


def test_client_rejects_non_volume_plugin(tmp_path, sockdir):
    with VolumePluginServer(str(tmp_path / "p"), os.path.join(sockdir, "a.sock"), implements=["Authz"]) as srv:
        c = VolumePlugin("authz", srv.socket_path, timeout=2)
        with pytest.raises(VolumePluginError, match="is not a volume driver"):
            c.create("v")
        assert "VolumeDriver.Create" not in srv.ops()


def test_client_dead_socket_times_out(sockdir):
    path = os.path.join(sockdir, "dead.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()  # the file stays, nobody listens
    c = VolumePlugin("deadplug", path, timeout=TIMEOUT)
    t0 = time.monotonic()
    with pytest.raises(VolumePluginError, match='volume plugin "deadplug" \\(socket .*dead.sock\\): '
                                                "Plugin.Activate: plugin not reachable for 0.5s") as exc:
        c.create("v")
    elapsed = time.monotonic() - t0
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + 1.0
    assert "nothing listens" in str(exc.value)


def test_client_missing_socket(sockdir):
    c = VolumePlugin("gone", os.path.join(sockdir, "missing.sock"), timeout=0.2)
    with pytest.raises(VolumePluginError, match="no such socket"):
        c.list()


def test_client_hung_server_times_out(tmp_path, sockdir):
    with VolumePluginServer(str(tmp_path / "p"), os.path.join(sockdir, "h.sock"), mode="hang") as srv:
        c = VolumePlugin("hung", srv.socket_path, timeout=TIMEOUT)
        t0 = time.monotonic()
        with pytest.raises(VolumePluginError, match="Plugin.Activate: no reply within 0.5s"):
            c.create("v")
        assert time.monotonic() - t0 < TIMEOUT + 1.0


def test_client_slow_drip_is_bounded(sockdir):
    """A reply trickling in one byte at a time must not extend the deadline per byte."""
    path = os.path.join(sockdir, "drip.sock")
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b" " * 100
    srv = _RawServer(path, [bytes([b]) for b in reply], delay=0.05)
    try:
        c = VolumePlugin("drip", path, timeout=TIMEOUT)
        t0 = time.monotonic()
        with pytest.raises(VolumePluginError, match="no reply within"):
            c.capabilities()
        assert time.monotonic() - t0 < TIMEOUT + 0.5
    finally:
        srv.close()


def test_client_chunked_and_malformed_replies(sockdir):
    body = b'{"Implements": ["VolumeDriver"]}'
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               + b"%x\r\n" % 10 + body[:10] + b"\r\n" + b"%x\r\n" % (len(body) - 10) + body[10:] + b"\r\n0\r\n\r\n")
    p1 = os.path.join(sockdir, "chunk.sock")
    srv = _RawServer(p1, [chunked])
    try:
        assert VolumePlugin("chunk", p1, timeout=2).activate() == ["VolumeDriver"]
    finally:
        srv.close()
    p2 = os.path.join(sockdir, "junk.sock")
    srv = _RawServer(p2, [b"SSH-2.0-OpenSSH\r\n\r\n"])
    try:
        with pytest.raises(VolumePluginError, match="malformed HTTP reply"):
            VolumePlugin("junk", p2, timeout=2).activate()
    finally:
        srv.close()
    p3 = os.path.join(sockdir, "html.sock")
    srv = _RawServer(p3, [b"HTTP/1.0 200 OK\r\n\r\n<html>hi</html>"])  # body until close
    try:
        with pytest.raises(VolumePluginError, match="reply is not JSON"):
            VolumePlugin("html", p3, timeout=2).activate()
    finally:
        srv.close()


# ------------------------------------------------------------------------------------------
# plugin-backed volumes
# ------------------------------------------------------------------------------------------
def test_plugin_volume_lifecycle(mgr, server):
    vol = mgr.create("pv", driver="testplug", options={"size": "10g", "nocopy": "", "o": "timeout=3,foo"},
                     labels={"a": "b"})
    assert server.volumes["pv"]["opts"] == {"size": "10g", "o": "foo"}  # ours stripped: nocopy, timeout
    assert vol.config.timeout == 3.0 and vol.state.needs_copy_up is False
    info = mgr.inspect("pv")
    assert info["Driver"] == "testplug" and info["Mountpoint"] == "" and info["Timeout"] == 3.0
    assert not os.path.exists(os.path.join(mgr.volume_path, "pv"))

    path = mgr.mount("pv")
    assert path == os.path.join(server.root, "volumes", "pv")
    assert mgr.mount("pv") == path
    assert server.ops().count("VolumeDriver.Mount") == 1  # we count, the plugin sees one mount
    assert mgr.inspect("pv")["Mountpoint"] == path and mgr.inspect("pv")["MountCount"] == 2
    assert mgr.unmount("pv") == 1
    assert "VolumeDriver.Unmount" not in server.ops()
    assert mgr.unmount("pv") == 0
    assert server.ops().count("VolumeDriver.Unmount") == 1
    assert mgr.inspect("pv")["Mountpoint"] == ""

    mgr.mount("pv")  # remove unmounts first
    res = mgr.remove("pv")
    assert res.volume == "pv" and "pv" not in server.volumes and not mgr.exists("pv")
    assert server.ops()[-2:] == ["VolumeDriver.Unmount", "VolumeDriver.Remove"]
    assert mgr.locks.allocated() == []


def test_plugin_copy_up(tmp_path, mgr, server):
    src = tmp_path / "img"
    src.mkdir()
    (src / "f").write_text("x")
    mgr.create("pcu", driver="testplug")
    assert mgr.copy_up("pcu", str(src)) == 1
    assert os.listdir(os.path.join(server.root, "volumes", "pcu")) == ["f"]
    assert mgr.get("pcu").state.mount_count == 0 and server.volumes["pcu"]["mounts"] == {}


def test_plugin_create_error_leaves_no_record(mgr, server):
    server.fail["VolumeDriver.Create"] = "quota exceeded"
    with pytest.raises(VolumePluginError, match='testplug.*VolumeDriver.Create of volume "pv2" failed: quota'):
        mgr.create("pv2", driver="testplug")
    assert not mgr.exists("pv2") and mgr.locks.allocated() == []


def test_plugin_create_name_in_use(mgr, server):
    mgr.create("dup")
    with pytest.raises(NameInUse):
        mgr.create("dup", driver="testplug")
    assert "VolumeDriver.Create" not in server.ops()


def test_plugin_remove_error_keeps_record(mgr, server):
    mgr.create("keep", driver="testplug")
    server.fail["VolumeDriver.Remove"] = "backend offline"
    with pytest.raises(VolumePluginError, match="backend offline"):
        mgr.remove("keep")
    assert mgr.exists("keep") and mgr.get("keep").lock_id is not None
    del server.fail["VolumeDriver.Remove"]
    mgr.remove("keep")
    assert not mgr.exists("keep")


def test_plugin_lost_volume_still_removed(mgr, server):
    mgr.create("lostpv", driver="testplug")
    del server.volumes["lostpv"]
    res = mgr.remove("lostpv")
    assert not mgr.exists("lostpv") and "had no volume" in res.warnings[0]


def test_plugin_unmount_failure_keeps_count(mgr, server):
    mgr.create("um", driver="testplug")
    mgr.mount("um")
    server.fail["VolumeDriver.Unmount"] = "busy"
    with pytest.raises(VolumePluginError, match="busy"):
        mgr.unmount("um")
    assert mgr.get("um").state.mount_count == 1
    del server.fail["VolumeDriver.Unmount"]
    assert mgr.unmount("um") == 0


def test_dead_plugin_create_times_out_db_unchanged(tmp_path, sockdir):
    path = os.path.join(sockdir, "dead.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()
    m = _mgr(tmp_path, {"deadplug": path}, plugin_timeout=TIMEOUT)
    try:
        m.create("local-one")
        before = (m.state.count("volume"), m.locks.allocated())
        t0 = time.monotonic()
        with pytest.raises(VolumePluginError, match='volume plugin "deadplug" \\(socket .*\\).*not reachable'):
            m.create("pv", driver="deadplug")
        assert time.monotonic() - t0 < TIMEOUT + 1.0
        assert (m.state.count("volume"), m.locks.allocated()) == before
        assert not m.exists("pv")
    finally:
        m.state.close()


def test_hung_plugin_mount_times_out(tmp_path, sockdir):
    srv = VolumePluginServer(str(tmp_path / "p"), os.path.join(sockdir, "hm.sock"),
                             hang_ops={"VolumeDriver.Mount"}).start()
    m = _mgr(tmp_path, {"hp": srv.socket_path}, plugin_timeout=5.0)
    try:
        m.create("slow", driver="hp", options={"o": "timeout=0.4"})
        t0 = time.monotonic()
        with pytest.raises(VolumePluginError, match='VolumeDriver.Mount of volume "slow": no reply within 0.4s'):
            m.mount("slow")
        assert time.monotonic() - t0 < 1.4
        assert m.get("slow").state.mount_count == 0
    finally:
        srv.stop()
        m.state.close()


def test_hung_plugin_server_create(tmp_path, sockdir):
    with VolumePluginServer(str(tmp_path / "p"), os.path.join(sockdir, "hh.sock"), mode="hang") as srv:
        m = _mgr(tmp_path, {"hung": srv.socket_path}, plugin_timeout=TIMEOUT)
        try:
            t0 = time.monotonic()
            with pytest.raises(VolumePluginError, match="no reply within 0.5s"):
                m.create("hv", driver="hung")
            assert time.monotonic() - t0 < TIMEOUT + 1.0
            assert m.state.count("volume") == 0
        finally:
            m.state.close()


def test_plugin_bad_timeout_option(mgr):
    with pytest.raises(InvalidArg, match='volume "t": o=timeout=abc'):
        mgr.create("t", driver="testplug", options={"o": "timeout=abc"})


def test_server_stop_is_bounded(tmp_path, sockdir):
    srv = VolumePluginServer(str(tmp_path / "p"), os.path.join(sockdir, "b.sock"),
                             hang_ops={"VolumeDriver.List"}).start()
    c = VolumePlugin("b", srv.socket_path, timeout=0.3)
    with pytest.raises(VolumePluginError):
        c.list()
    t0 = time.monotonic()
    srv.stop()
    assert time.monotonic() - t0 < 2.0
    assert not os.path.exists(srv.socket_path)
