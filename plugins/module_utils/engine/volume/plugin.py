# SPDX-License-Identifier: GPL-3.0-or-later
"""Client of the Docker volume plugin protocol, after libpod's plugin/volume_api.go.

A plugin is an HTTP/1.1 server on a unix socket; every call is a POST of a JSON body
and every reply is JSON, an error being any non-200 status or a non-empty ``Err``.
The HTTP exchange is written here by hand (not http.client) so that one deadline
bounds the whole call: a plugin that accepts and then never answers, or answers a
byte at a time, costs at most ``timeout`` seconds, never a hung Ansible task.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import socket
import time
from typing import Any, Dict, List, Optional

from ..base.errors import PluginNoSuchVolume, VolumePluginError

#: Content type of the plugin protocol (v1.1 for requests, replies use v1 or plain JSON).
CONTENT_TYPE = "application/vnd.docker.plugins.v1.1+json"

#: Caller ID sent with Mount/Unmount. We keep our own mount counter and call the plugin
#: only on the first mount and the last unmount, so one fixed ID is enough (as podman
#: does); it differs from podman's so a plugin shared by both engines never mixes their
#: references.
MOUNT_ID = hashlib.sha256(b"libpod-engine\n").hexdigest()

DEFAULT_TIMEOUT = 5.0

#: Replies larger than this are refused (a broken plugin must not exhaust memory).
MAX_REPLY = 8 * 1024 * 1024

# Err texts that mean "the plugin does not know this volume" (no standard code exists).
_NOT_FOUND = re.compile(r"no such volume|not found|does not exist|unknown volume", re.IGNORECASE)


class _Timeout(Exception):
    pass


class VolumePlugin:
    """One volume plugin: its name (the volume ``driver``), socket and call timeout."""

    def __init__(self, name: str, socket_path: str, *, timeout: float = DEFAULT_TIMEOUT):
        if timeout <= 0:
            raise VolumePluginError(
                'volume plugin "%s": timeout must be > 0 seconds, got %r' % (name, timeout),
                hint="set [engine] volume_plugin_timeout or the volume's o=timeout= to a positive number")
        self.name = name
        self.socket_path = socket_path
        self.timeout = float(timeout)
        self._activated = False

    # -- public protocol --------------------------------------------------------------------
    def activate(self) -> List[str]:
        """Handshake; refuses a plugin that does not implement VolumeDriver."""
        reply = self._call("Plugin.Activate", {}, activate=False)
        implements = reply.get("Implements") or []
        if not isinstance(implements, list) or "VolumeDriver" not in implements:
            raise VolumePluginError(
                'volume plugin "%s" (socket %s) is not a volume driver: Plugin.Activate returned Implements=%r'
                % (self.name, self.socket_path, implements),
                hint="point [engine.volume_plugins] %s at a socket of a VolumeDriver plugin" % self.name)
        self._activated = True
        return implements

    def create(self, volume: str, opts: Optional[Dict[str, str]] = None) -> None:
        self._call("VolumeDriver.Create", {"Name": volume, "Opts": dict(opts or {})}, volume=volume)

    def remove(self, volume: str) -> None:
        self._call("VolumeDriver.Remove", {"Name": volume}, volume=volume)

    def mount(self, volume: str, mount_id: str = MOUNT_ID) -> str:
        """Mount and return the host path the plugin chose (its ``Mountpoint``)."""
        reply = self._call("VolumeDriver.Mount", {"Name": volume, "ID": mount_id}, volume=volume)
        path = reply.get("Mountpoint")
        if not isinstance(path, str) or not path.startswith("/"):
            raise VolumePluginError(
                'volume plugin "%s" (socket %s): VolumeDriver.Mount of volume "%s" returned no absolute '
                "Mountpoint (got %r)" % (self.name, self.socket_path, volume, path),
                hint="fix the plugin; the engine cannot bind an unknown path into containers")
        return path

    def unmount(self, volume: str, mount_id: str = MOUNT_ID) -> None:
        self._call("VolumeDriver.Unmount", {"Name": volume, "ID": mount_id}, volume=volume)

    def path(self, volume: str) -> str:
        reply = self._call("VolumeDriver.Path", {"Name": volume}, volume=volume)
        return str(reply.get("Mountpoint") or "")

    def get(self, volume: str) -> Dict[str, Any]:
        """The plugin's view of one volume: {Name, Mountpoint, CreatedAt?, Status?}."""
        reply = self._call("VolumeDriver.Get", {"Name": volume}, volume=volume)
        vol = reply.get("Volume")
        if not isinstance(vol, dict):
            raise VolumePluginError(
                'volume plugin "%s" (socket %s): VolumeDriver.Get of volume "%s" returned no Volume object'
                % (self.name, self.socket_path, volume))
        return vol

    def list(self) -> List[Dict[str, Any]]:
        reply = self._call("VolumeDriver.List", {})
        vols = reply.get("Volumes") or []
        if not isinstance(vols, list):
            raise VolumePluginError('volume plugin "%s" (socket %s): VolumeDriver.List returned Volumes=%r'
                                    % (self.name, self.socket_path, vols))
        return [v for v in vols if isinstance(v, dict)]

    def capabilities(self) -> Dict[str, Any]:
        reply = self._call("VolumeDriver.Capabilities", {})
        caps = reply.get("Capabilities")
        return caps if isinstance(caps, dict) else {}

    # -- plumbing ---------------------------------------------------------------------------
    def _where(self, op: str, volume: Optional[str]) -> str:
        what = ' of volume "%s"' % volume if volume else ""
        return 'volume plugin "%s" (socket %s): %s%s' % (self.name, self.socket_path, op, what)

    def _call(self, op: str, payload: Dict[str, Any], *, volume: Optional[str] = None,
              activate: bool = True) -> Dict[str, Any]:
        if activate and not self._activated:
            self.activate()
        deadline = time.monotonic() + self.timeout
        status, body = self._exchange(op, payload, deadline, volume)
        try:
            reply = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (UnicodeDecodeError, ValueError):
            raise VolumePluginError("%s: reply is not JSON (HTTP %d): %r" % (self._where(op, volume), status,
                                                                             body[:200]),
                                    hint="the socket may belong to something that is not a Docker volume plugin")
        if not isinstance(reply, dict):
            reply = {}
        err = reply.get("Err")
        if status != 200 or err:
            text = str(err) if err else "HTTP status %d" % status
            cls = PluginNoSuchVolume if volume and _NOT_FOUND.search(text) else VolumePluginError
            raise cls("%s failed: %s" % (self._where(op, volume), text))
        return reply

    def _connect(self, op: str, deadline: float, volume: Optional[str]) -> socket.socket:
        """Connect, retrying refused/missing sockets until the deadline: a plugin may be (re)starting."""
        delay = 0.02
        last_errno = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if last_errno:
                    reason = "no such socket" if last_errno == errno.ENOENT else "nothing listens on it"
                    raise VolumePluginError(
                        "%s: plugin not reachable for %.1fs (%s)" % (self._where(op, volume), self.timeout, reason),
                        hint="start the plugin or fix its socket path in [engine.volume_plugins]")
                raise VolumePluginError(
                    "%s: no connection within %.1fs" % (self._where(op, volume), self.timeout),
                    hint="check that the plugin is running, or raise volume_plugin_timeout")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
            try:
                sock.settimeout(remaining)
                sock.connect(self.socket_path)
                return sock
            except socket.timeout:
                sock.close()
                last_errno = 0
                continue  # deadline reached: reported at the top of the loop
            except OSError as exc:
                sock.close()
                if exc.errno not in (errno.ECONNREFUSED, errno.ENOENT, errno.EAGAIN):
                    raise VolumePluginError("%s: cannot connect: %s" % (self._where(op, volume),
                                                                        os.strerror(exc.errno or 0) or exc),
                                            hint="check the socket path in [engine.volume_plugins]")
                last_errno = exc.errno
                time.sleep(max(0.0, min(delay, deadline - time.monotonic())))
                delay = min(delay * 2, 0.5)

    def _exchange(self, op: str, payload: Dict[str, Any], deadline: float,
                  volume: Optional[str]) -> tuple:
        body = json.dumps(payload).encode("utf-8")
        head = ("POST /%s HTTP/1.1\r\nHost: plugin\r\nUser-Agent: libpod-engine\r\n"
                "Accept: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                % (op, CONTENT_TYPE, CONTENT_TYPE, len(body))).encode("ascii")
        sock = self._connect(op, deadline, volume)
        try:
            reader = _Reader(sock, deadline)
            reader.sendall(head + body)
            return _read_response(reader)
        except _Timeout:
            raise VolumePluginError(
                "%s: no reply within %.1fs" % (self._where(op, volume), self.timeout),
                hint="the plugin accepted the call but did not answer; check its logs, or raise "
                     "volume_plugin_timeout (per volume: o=timeout=SECONDS)")
        except _BadReply as exc:
            raise VolumePluginError("%s: malformed HTTP reply: %s" % (self._where(op, volume), exc),
                                    hint="the socket may belong to something that is not a Docker volume plugin")
        except OSError as exc:
            raise VolumePluginError("%s: connection failed: %s" % (self._where(op, volume), exc),
                                    hint="the plugin may have crashed; check its logs")
        finally:
            sock.close()


class _BadReply(Exception):
    pass


class _Reader:
    """Buffered socket reads where every recv/send is bounded by one deadline."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.sock = sock
        self.deadline = deadline
        self.buf = b""
        self.eof = False
        self.total = 0

    def _arm(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise _Timeout()
        self.sock.settimeout(remaining)

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self._arm()
            try:
                n = self.sock.send(view)
            except socket.timeout:
                raise _Timeout()
            view = view[n:]

    def _fill(self) -> bool:
        if self.eof:
            return False
        self._arm()
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise _Timeout()
        if not chunk:
            self.eof = True
            return False
        self.total += len(chunk)
        if self.total > MAX_REPLY:
            raise _BadReply("reply larger than %d bytes" % MAX_REPLY)
        self.buf += chunk
        return True

    def readline(self) -> bytes:
        while b"\r\n" not in self.buf:
            if len(self.buf) > 65536:
                raise _BadReply("header line too long")
            if not self._fill():
                raise _BadReply("connection closed in the middle of the headers")
        line, _unused, self.buf = self.buf.partition(b"\r\n")
        return line

    def read(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise _BadReply("connection closed after %d of %d body bytes" % (len(self.buf), n))
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_all(self) -> bytes:
        while self._fill():
            pass
        data, self.buf = self.buf, b""
        return data


def _read_response(reader: _Reader) -> tuple:
    """Parse one HTTP/1.x response: (status, body); handles length, chunked and close."""
    while True:
        status_line = reader.readline()
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise _BadReply("bad status line %r" % status_line[:80])
        status = int(parts[1])
        headers: Dict[str, str] = {}
        while True:
            line = reader.readline()
            if not line:
                break
            key, sep, value = line.partition(b":")
            if not sep:
                raise _BadReply("bad header line %r" % line[:80])
            headers[key.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        if 100 <= status < 200:
            continue  # 100 Continue and friends: the real reply follows
        break
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = b""
        while True:
            size_line = reader.readline().split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise _BadReply("bad chunk size %r" % size_line[:20])
            if size == 0:
                while reader.readline():  # trailers
                    pass
                return status, body
            body += reader.read(size)
            reader.read(2)
    if "content-length" in headers:
        try:
            length = int(headers["content-length"])
        except ValueError:
            raise _BadReply("bad Content-Length %r" % headers["content-length"])
        if length < 0 or length > MAX_REPLY:
            raise _BadReply("Content-Length %d out of range" % length)
        return status, reader.read(length)
    return status, reader.read_all()
