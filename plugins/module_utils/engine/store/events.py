# SPDX-License-Identifier: GPL-3.0-or-later
"""Events log, after libpod's file eventer: one JSON object a line.

Fields as podman's events.Event JSON (ID, Image, Name, Status, Time, Type,
Attributes, ContainerExitCode). Each event is one O_APPEND write, so concurrent
writers never interleave within a line. The ``none`` logger drops events.

The log lives in the tmp dir (RAM): past ``events_logfile_max_size`` it is rotated as
podman does, keeping its newest half and noting the rotation as a ``log-rotation`` event.
Writers hold a shared flock on the log's directory, the rotation an exclusive one, so no
event goes to a file that is being replaced.
"""
from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional

from ..base.clock import rfc3339_nano
from ..base.errors import InvalidArg
from ..host.files import write_atomic


@dataclass
class Event:
    """One event, as podman's events.Event (to_json gives its log line)."""

    type: str            # container, pod, volume, image, network, system
    status: str          # create, init, start, died, cleanup, remove, refresh, renumber, ...
    id: str = ""
    name: str = ""
    image: str = ""
    attributes: Dict[str, str] = field(default_factory=dict)
    exit_code: Optional[int] = None
    time: float = field(default_factory=time.time)

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"ID": self.id, "Name": self.name, "Image": self.image,
                               "Status": self.status, "Time": rfc3339_nano(self.time), "Type": self.type,
                               "Attributes": self.attributes}
        if self.exit_code is not None:
            out["ContainerExitCode"] = self.exit_code
        return out


class Eventer:
    """Writes and reads the events log (logger ``file``) or drops events (``none``)."""

    def __init__(self, logger: str, path: str, max_size: int = 0):
        if logger not in ("file", "none", "journald"):
            raise InvalidArg("[engine] events_logger = %r: expected file, journald or none" % logger)
        # journald needs the systemd journal socket; without it we keep the file log.
        if logger == "journald" and not os.path.exists("/run/systemd/journal/socket"):
            logger = "file"
        self.logger = logger
        self.path = path
        self.max_size = max_size  # bytes; 0 = no limit

    def write(self, event: Event) -> None:
        if self.logger == "none":
            return
        line = (json.dumps(event.to_json(), separators=(",", ":")) + "\n").encode()
        if self.logger == "journald":  # pragma: no cover - no journald on the test hosts
            self._journal(event, line)
            return
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        size = self._append(line)
        if self.max_size and size > self.max_size:
            self._rotate()

    def _dir_lock(self, kind: int) -> int:
        fd = os.open(os.path.dirname(self.path) or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, kind)
        except OSError:
            os.close(fd)
            raise
        return fd

    def _append(self, line: bytes) -> int:
        """Append one line (shared lock: never into a file being rotated); returns the new size."""
        lock = self._dir_lock(fcntl.LOCK_SH)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                os.write(fd, line)
                return os.fstat(fd).st_size
            finally:
                os.close(fd)
        finally:
            os.close(lock)

    def _rotate(self) -> None:
        """Keep the newest half of the log (from a line start), then a log-rotation event."""
        lock = self._dir_lock(fcntl.LOCK_EX)
        try:
            try:
                with open(self.path, "rb") as f:
                    size = os.fstat(f.fileno()).st_size
                    if size <= self.max_size:
                        return  # another writer rotated it meanwhile
                    f.seek(size - self.max_size // 2)
                    f.readline()  # drop the partial first line
                    tail = f.read()
            except FileNotFoundError:
                return
            note = Event(type="system", status="log-rotation",
                         attributes={"io.podman.event.rotate": "end", "dropped_bytes": str(size - len(tail))})
            write_atomic(self.path, tail + (json.dumps(note.to_json(), separators=(",", ":")) + "\n").encode(),
                         mode=0o600)
        finally:
            os.close(lock)

    def _journal(self, event: Event, line: bytes) -> None:  # pragma: no cover
        import socket  # noqa: PLC0415

        msg = b"MESSAGE=" + line.rstrip(b"\n") + b"\nSYSLOG_IDENTIFIER=libpod-engine\n"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(msg, "/run/systemd/journal/socket")

    def read(self) -> Iterator[Dict[str, Any]]:
        try:
            with open(self.path, encoding="utf-8") as f:
                for raw in f:
                    line = raw.strip()
                    if line:
                        try:
                            yield json.loads(line)
                        except ValueError:
                            continue  # a torn line from a killed writer
        except FileNotFoundError:
            return

    def find(self, type_: Optional[str] = None, status: Optional[str] = None) -> List[Dict[str, Any]]:
        return [e for e in self.read()
                if (type_ is None or e.get("Type") == type_) and (status is None or e.get("Status") == status)]
