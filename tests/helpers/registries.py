# SPDX-License-Identifier: GPL-3.0-or-later
"""Registry servers shared by tests/unit/image/test_registry.py, tests/integration/test_registries.py
and the fault suite: real docker-registry servers (started and stopped together), the
registries.conf blocks of a mirrored registry, and the base of our own loopback HTTP fronts."""
from __future__ import annotations

import contextlib
import os
import threading
from http.server import ThreadingHTTPServer
from typing import Iterator, Sequence

import pytest

from .images import REGISTRY_BIN, RegistryServer


@contextlib.contextmanager
def docker_registries(*servers: RegistryServer) -> Iterator[Sequence[RegistryServer]]:
    """Start the servers in order (skips the test without docker-registry); stop every one
    afterwards, also when a later one did not come up."""
    if not os.path.exists(REGISTRY_BIN):
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in reversed(servers):
            server.stop()


def mirrored_conf(origin: str, dead: str) -> str:
    """registries.conf blocks (insecure, all of them): ``origin`` with the unreachable ``dead``
    as its mirror (the fallback to the origin), and the prefix mirrored.example.com located at
    ``dead`` with ``origin`` as its mirror (served by the mirror)."""
    return """
[[registry]]
location = "%(origin)s"
insecure = true
[[registry.mirror]]
location = "%(dead)s"
insecure = true

[[registry]]
prefix = "mirrored.example.com"
location = "%(dead)s"
insecure = true
[[registry.mirror]]
location = "%(origin)s"
insecure = true
""" % {"origin": origin, "dead": dead}


class LoopbackHTTP:
    """A threaded HTTP server on 127.0.0.1 (a free port) serving ``self._handler()``'s class,
    as a context manager; ``host`` is ``127.0.0.1:PORT``."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.host = "127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self):
        raise NotImplementedError

    def _stopping(self) -> None:
        """Called first on exit (e.g. to end answers that are still trickling)."""

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stopping()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
