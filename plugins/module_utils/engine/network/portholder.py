# SPDX-License-Identifier: GPL-3.0-or-later
"""Keep every published host port bound for the container's lifetime, as podman's conmon does.

DNAT publishing binds no socket, so without a holder another engine root or any program could
bind the port (or publish it again) while our container serves it. podman opens each port's
socket and hands it to conmon. Here a tiny holder process per container keeps the sockets:
``sleep infinity`` started with the bound (TCP: listening) sockets as inherited fds and with
``argv[0] = <tmp_dir>/ports/<ctr id>``, so that ``/proc`` names it (port_owner, reset, the test
harness). Measured on the 2-core CI VM (20 runs, under load): bind + spawn ~13 ms median, release
(kill + wait) ~5 ms, 1.7 MB RSS per holder (mostly shared libc pages), only for containers that
publish ports; no bytes ever reach the sockets (DNAT rewrites the packets before the socket
lookup). conmon cannot be used as is: the ports must stay reserved while the container is
stopped-but-not-yet-cleaned-up, and conmon passes ``--preserve-fds`` on to the container.

The holder is started after the ports are claimed in the DB (portmap.claim_ports) and killed by
the network teardown (stop, exit command, remove, reset), which releases the ports.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from typing import Any, Dict, Iterable, List, Optional

from ..host.roots import read_json, write_json

SLEEP_CANDIDATES = ("/usr/bin/sleep", "/bin/sleep")


def _dir(tmp_dir: str) -> str:
    return os.path.join(tmp_dir, "ports")


def _argv0(tmp_dir: str, ctr_id: str) -> str:
    return os.path.join(_dir(tmp_dir), ctr_id)


def _info_path(tmp_dir: str, ctr_id: str) -> str:
    return _argv0(tmp_dir, ctr_id) + ".json"


def _argv(pid: int) -> List[str]:
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def _is_holder(pid: int, argv0: str) -> bool:
    """The pid is alive (not a zombie) and is our holder (no pid reuse)."""
    argv = _argv(pid)
    return bool(argv) and argv[0] == argv0


def port_keys(mappings: Iterable[Any]) -> List[str]:
    """``tcp/8080/127.0.0.1`` per host port: what the holder keeps bound."""
    return sorted({"%s/%d/%s" % (m.protocol, m.host_port, m.host_ip) for m in mappings if m.host_port})


def holding(tmp_dir: str, ctr_id: str, keys: List[str]) -> bool:
    """Whether a live holder of the container already keeps exactly ``keys``."""
    info = read_json(_info_path(tmp_dir, ctr_id))
    return bool(info) and info.get("ports") == keys and _is_holder(int(info.get("pid") or 0),
                                                                   _argv0(tmp_dir, ctr_id))


def spawn(tmp_dir: str, ctr_id: str, socks: List[socket.socket], keys: List[str], info: Dict[str, Any]) -> int:
    """Start the holder with ``socks`` (bound) as inherited fds; returns its pid."""
    os.makedirs(_dir(tmp_dir), mode=0o700, exist_ok=True)
    sleep = next((p for p in SLEEP_CANDIDATES if os.access(p, os.X_OK)), None) or shutil.which("sleep")
    if not sleep:
        raise OSError("no sleep binary found to hold the published ports")
    proc = subprocess.Popen([_argv0(tmp_dir, ctr_id), "infinity"], executable=sleep,
                            pass_fds=[s.fileno() for s in socks], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    # Popen returns once the child called exec (vfork), before the kernel shows the new argv:
    # wait for it, or a check right after this (holding) would not recognise our own holder
    deadline = time.monotonic() + 2.0
    while not _argv(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    write_json(_info_path(tmp_dir, ctr_id), dict(info, ports=keys, pid=proc.pid), mode=0o600)
    return proc.pid


def release(tmp_dir: str, ctr_id: str, wait: float = 2.0) -> bool:
    """Kill the container's holder (the ports are free when this returns); True if there was one."""
    path = _info_path(tmp_dir, ctr_id)
    info = read_json(path)
    found = False
    pid = int((info or {}).get("pid") or 0)
    if pid and _is_holder(pid, _argv0(tmp_dir, ctr_id)):
        found = True
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    break  # our child: reaped
            except ChildProcessError:
                pass  # started by another process: it becomes a zombie, its fds closed
            if not _is_holder(pid, _argv0(tmp_dir, ctr_id)):
                break
            time.sleep(0.005)
    try:
        os.unlink(path)
        found = True
    except FileNotFoundError:
        pass
    return found


def held(tmp_dir: str) -> List[str]:
    """Container IDs with a holder record in this root."""
    try:
        return sorted(n[:-5] for n in os.listdir(_dir(tmp_dir)) if n.endswith(".json"))
    except OSError:
        return []


def describe(pid: int) -> Optional[str]:
    """'container NAME (ID) of engine root R' if ``pid`` is a holder of some engine root."""
    argv = _argv(pid)
    if not argv or os.path.basename(os.path.dirname(argv[0])) != "ports":
        return None
    info = read_json(argv[0] + ".json") or {}
    if not info:
        return None
    return "container %s (%s) of engine root %s" % (info.get("name") or "?", os.path.basename(argv[0])[:12],
                                                    info.get("root") or "?")
