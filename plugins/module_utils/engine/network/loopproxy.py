# SPDX-License-Identifier: GPL-3.0-or-later
"""A userspace proxy for ports published on the IPv6 loopback (``publish: "[::1]:8080:80"``).

IPv6 has no ``route_localnet``: a packet from ``::1`` may never leave the host, so the nft DNAT
that serves IPv4 publishes cannot send it into the bridge. podman's rootlessport and
docker-proxy answer such ports in userspace; so does this file. It is the container's port
holder (portholder.py) when the container publishes on ``::1``: started with the bound
sockets as inherited fds, it keeps every port reserved as the ``sleep`` holder does and
relays connections (TCP) and datagrams (UDP) of its routes to the container's address. It
dies with the holder (teardown on stop, exit command, remove, reset, orphan cleanup).

Run by the exit command's interpreter from the engine copy (``python -I loopproxy.py HOLDER
READY_FD ROUTE...``), it imports only the standard library. ``HOLDER`` is the holder's name
(``<tmp_dir>/ports/<ctr id>``, how /proc identifies it), a ROUTE is
``tcp/FD/TARGET_IP/TARGET_PORT``; ``ok`` written on READY_FD says the routes are served.
"""
from __future__ import annotations

import os
import selectors
import socket
import sys
import threading
import time
from typing import Any, List, Tuple

#: the file name the holder's argv carries (portholder identifies a proxy holder by it)
SCRIPT = "loopproxy.py"
#: the only host address served this way (other IPv6 host addresses are refused in portmap)
LOOPBACK6 = "::1"
UDP_IDLE = 60.0  # seconds without traffic before a UDP client's upstream socket is closed
_BUF = 65536


def proxied(mapping: Any) -> bool:
    """Whether a port mapping is served by this proxy instead of nft DNAT."""
    return mapping.host_ip == LOOPBACK6


def route(proto: str, fd: int, target_ip: str, target_port: int) -> str:
    return "%s/%d/%s/%d" % (proto, fd, target_ip, target_port)


def parse_route(text: str) -> Tuple[str, int, str, int]:
    """``tcp/3/10.88.0.5/80`` -> ("tcp", 3, "10.88.0.5", 80); ValueError when malformed."""
    proto, fd, ip, port = text.split("/")
    if proto not in ("tcp", "udp"):
        raise ValueError("protocol %r" % proto)
    return proto, int(fd), ip, int(port)


def _family(ip: str) -> int:
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def _pump(client: socket.socket, target: Tuple[str, int]) -> None:
    """Relay one TCP connection both ways until both sides closed (half-close passed on)."""
    try:
        upstream = socket.create_connection(target, timeout=10)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    peer = {client: upstream, upstream: client}
    sel = selectors.DefaultSelector()
    try:
        for s in peer:
            sel.register(s, selectors.EVENT_READ)
        open_sides = 2
        while open_sides:
            for key, _mask in sel.select():
                src = key.fileobj
                try:
                    data = src.recv(_BUF)
                except OSError:
                    data = b""
                if data:
                    try:
                        peer[src].sendall(data)
                        continue
                    except OSError:
                        return
                sel.unregister(src)
                open_sides -= 1
                try:
                    peer[src].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
    finally:
        sel.close()
        client.close()
        upstream.close()


def serve_tcp(listener: socket.socket, target: Tuple[str, int]) -> None:
    listener.listen(128)  # the holder's spawner listened with a backlog of 1
    while True:
        try:
            client, _addr = listener.accept()
        except OSError:
            time.sleep(0.05)  # EMFILE and friends: do not spin
            continue
        threading.Thread(target=_pump, args=(client, target), daemon=True).start()


def serve_udp(listener: socket.socket, target: Tuple[str, int]) -> None:
    """One upstream socket per client address (replies go back to that client), closed when idle."""
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    clients = {}  # client address -> [upstream socket, last use]
    while True:
        for key, _mask in sel.select(timeout=UDP_IDLE / 4):
            sock = key.fileobj
            try:
                data, addr = sock.recvfrom(_BUF)
            except OSError:
                continue
            now = time.monotonic()
            if sock is listener:
                entry = clients.get(addr)
                if entry is None:
                    up = socket.socket(_family(target[0]), socket.SOCK_DGRAM)
                    up.connect(target)
                    entry = clients[addr] = [up, now]
                    sel.register(up, selectors.EVENT_READ, addr)
                entry[1] = now
                try:
                    entry[0].send(data)
                except OSError:
                    pass
            else:
                clients[key.data][1] = now
                try:
                    listener.sendto(data, key.data)
                except OSError:
                    pass
        deadline = time.monotonic() - UDP_IDLE
        for addr in [a for a, e in clients.items() if e[1] < deadline]:
            up = clients.pop(addr)[0]
            sel.unregister(up)
            up.close()


def main(argv: List[str]) -> int:
    """``HOLDER READY_FD ROUTE...``: serve every route until killed."""
    if len(argv) < 2:
        sys.stderr.write("usage: loopproxy.py HOLDER READY_FD ROUTE...\n")
        return 2
    ready = int(argv[1])
    threads = []
    for text in argv[2:]:
        proto, fd, ip, port = parse_route(text)
        sock = socket.socket(fileno=fd)
        serve = serve_tcp if proto == "tcp" else serve_udp
        threads.append(threading.Thread(target=serve, args=(sock, (ip, port)), daemon=True))
    for t in threads:
        t.start()
    os.write(ready, b"ok\n")
    os.close(ready)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)  # the spawner reads stderr only until ready: nothing may block on it later
    os.close(devnull)
    while True:
        time.sleep(3600)  # the holder lives until the teardown kills it


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
