# SPDX-License-Identifier: GPL-3.0-or-later
"""A small Docker volume plugin for tests: http.server on a unix socket, in a thread.

Volumes are directories under ``<root>/volumes/<name>``; Mount hands out that
directory and counts references per caller ID, Remove refuses a mounted volume.
Every call is recorded in ``calls`` so tests can assert what the engine sent.

``mode="hang"`` accepts connections and never answers (to test client timeouts);
``fail={"VolumeDriver.Create": "disk full"}`` makes one endpoint reply with an Err;
``hang_ops={"VolumeDriver.Mount"}`` makes those endpoints read the request and then
not answer until stop() (or 30 s).
Everything is bounded: request bodies (1 MiB), per-connection read time, and stop(),
which closes held connections and joins the thread with a timeout.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any, Dict, List, Optional, Set, Tuple

_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}")
MAX_BODY = 1 << 20


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    plugin: VolumePluginServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # a client that stops sending is dropped

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep tests quiet
        return

    def address_string(self) -> str:  # unix sockets have no peer address
        return "unix"

    def do_POST(self) -> None:
        plugin: VolumePluginServer = self.server.plugin  # type: ignore[attr-defined]
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._reply(400, {"Err": "bad Content-Length"})
            return
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except ValueError:
            self._reply(400, {"Err": "request body is not JSON"})
            return
        op = self.path.lstrip("/")
        if op in plugin.hang_ops:
            plugin.calls.append((op, body if isinstance(body, dict) else {}))
            plugin._stop.wait(30)
            return
        status, reply = plugin.handle(op, body if isinstance(body, dict) else {})
        self._reply(status, reply)

    def _reply(self, status: int, obj: Dict[str, Any]) -> None:
        data = json.dumps(obj).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.docker.plugins.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True


class VolumePluginServer:
    """Start with start() or as a context manager; stop() is bounded and idempotent."""

    def __init__(self, root: str, socket_path: str, *, mode: str = "normal",
                 fail: Optional[Dict[str, str]] = None, implements: Optional[List[str]] = None,
                 hang_ops: Optional[Set[str]] = None):
        if mode not in ("normal", "hang"):
            raise ValueError("mode must be normal or hang")
        self.root = root
        self.socket_path = socket_path
        self.mode = mode
        self.fail = dict(fail or {})
        self.hang_ops = set(hang_ops or ())
        self.implements = implements if implements is not None else ["VolumeDriver"]
        self.calls: List[Tuple[str, Dict[str, Any]]] = []
        self.volumes: Dict[str, Dict[str, Any]] = {}  # name -> {"opts":…, "mounts": {id: n}}
        self._lock = threading.Lock()
        self._server: Optional[_Server] = None
        self._hang_sock: Optional[socket.socket] = None
        self._held: List[socket.socket] = []
        self._thread: Optional[threading.Thread] = None
        self._stop = threading.Event()
        os.makedirs(os.path.join(root, "volumes"), exist_ok=True)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> VolumePluginServer:
        if os.path.lexists(self.socket_path):
            os.unlink(self.socket_path)
        if self.mode == "hang":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(self.socket_path)
            sock.listen(16)
            sock.settimeout(0.05)
            self._hang_sock = sock
            self._thread = threading.Thread(target=self._hang_loop, name="plugin-hang", daemon=True)
        else:
            self._server = _Server(self.socket_path, _Handler)
            self._server.plugin = self
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="plugin-server", daemon=True)
        self._thread.start()
        return self

    def _hang_loop(self) -> None:
        assert self._hang_sock is not None
        while not self._stop.is_set():
            try:
                conn, _unused = self._hang_sock.accept()
            except (socket.timeout, OSError):
                continue
            self._held.append(conn)  # keep it open, never read or answer

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._hang_sock is not None:
            self._hang_sock.close()
            self._hang_sock = None
        for conn in self._held:
            conn.close()
        self._held.clear()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if os.path.lexists(self.socket_path):
            os.unlink(self.socket_path)

    def __enter__(self) -> VolumePluginServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- protocol -----------------------------------------------------------------------------
    def ops(self) -> List[str]:
        return [op for op, _unused in self.calls]

    def _dir(self, name: str) -> str:
        return os.path.join(self.root, "volumes", name)

    def handle(self, op: str, body: Dict[str, Any]) -> Tuple[int, Dict[str, Any]]:
        with self._lock:
            self.calls.append((op, body))
            if op in self.fail:
                return 500, {"Err": self.fail[op]}
            if op == "Plugin.Activate":
                return 200, {"Implements": self.implements}
            if op == "VolumeDriver.Capabilities":
                return 200, {"Capabilities": {"Scope": "local"}}
            if op == "VolumeDriver.List":
                return 200, {"Err": "", "Volumes": [{"Name": n, "Mountpoint": self._mountpoint(n)}
                                                    for n in sorted(self.volumes)]}
            name = body.get("Name")
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                return 400, {"Err": "invalid volume name %r" % (name,)}
            if op == "VolumeDriver.Create":
                if name not in self.volumes:
                    os.makedirs(self._dir(name), exist_ok=True)
                    self.volumes[name] = {"opts": body.get("Opts") or {}, "mounts": {}}
                return 200, {"Err": ""}
            vol = self.volumes.get(name)
            if vol is None:
                return 404, {"Err": "no such volume: %s" % name}
            if op == "VolumeDriver.Remove":
                if vol["mounts"]:
                    return 409, {"Err": "volume %s is in use" % name}
                del self.volumes[name]
                _rmtree(self._dir(name))
                return 200, {"Err": ""}
            if op == "VolumeDriver.Get":
                return 200, {"Err": "", "Volume": {"Name": name, "Mountpoint": self._mountpoint(name),
                                                   "Status": {"opts": vol["opts"]}}}
            if op == "VolumeDriver.Path":
                return 200, {"Err": "", "Mountpoint": self._mountpoint(name)}
            if op == "VolumeDriver.Mount":
                mid = str(body.get("ID") or "")
                vol["mounts"][mid] = vol["mounts"].get(mid, 0) + 1
                return 200, {"Err": "", "Mountpoint": self._dir(name)}
            if op == "VolumeDriver.Unmount":
                mid = str(body.get("ID") or "")
                if not vol["mounts"].get(mid):
                    return 409, {"Err": "volume %s is not mounted by %s" % (name, mid)}
                vol["mounts"][mid] -= 1
                if not vol["mounts"][mid]:
                    del vol["mounts"][mid]
                return 200, {"Err": ""}
            return 404, {"Err": "unknown endpoint %s" % op}

    def _mountpoint(self, name: str) -> str:
        vol = self.volumes.get(name)
        return self._dir(name) if vol and vol["mounts"] else ""


def _rmtree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
