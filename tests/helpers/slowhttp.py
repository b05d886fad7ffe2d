# SPDX-License-Identifier: GPL-3.0-or-later
"""A hostile registry for tests: answers /v2/, then trickles bytes slowly (issue 22 item 7)."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler

from .registries import LoopbackHTTP

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class Trickle(LoopbackHTTP):
    """A registry on 127.0.0.1 that answers /v2/ and then trickles one byte every ``every`` seconds,
    in the body ("body") or in the headers ("headers"). Bounded: each answer stops after ``limit``
    bytes or when the server is stopped."""

    def __init__(self, mode: str, every: float = 0.2, limit: int = 2000):
        self.mode, self.every, self.limit = mode, every, limit
        self.stop = threading.Event()
        super().__init__()

    def _stopping(self) -> None:
        self.stop.set()

    def _handler(self):
        srv = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == "/v2/":
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                    return
                if srv.mode == "headers":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", OCI_MANIFEST)
                    self.send_header("Content-Length", str(srv.limit))
                    self.end_headers()
                for _i in range(srv.limit):
                    if srv.stop.wait(srv.every):
                        return
                    try:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    except OSError:
                        return

            do_HEAD = do_GET

        return H
