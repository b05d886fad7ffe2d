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

A container that publishes on the IPv6 loopback gets loopproxy.py as its holder instead of
``sleep`` (``python -I .../loopproxy.py <tmp_dir>/ports/<ctr id> ...``): it holds the same
sockets and also relays its routes; the holder's name is then its fourth argument.
"""
from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import time
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ..host.files import remove_file
from ..host.proc import argv as proc_argv
from ..host.proc import pid_alive
from ..host.roots import read_json, write_json
from . import loopproxy

SLEEP_CANDIDATES = ("/usr/bin/sleep", "/bin/sleep")


def _dir(tmp_dir: str) -> str:
    return os.path.join(tmp_dir, "ports")


def _argv0(tmp_dir: str, ctr_id: str) -> str:
    return os.path.join(_dir(tmp_dir), ctr_id)


def _info_path(tmp_dir: str, ctr_id: str) -> str:
    return _argv0(tmp_dir, ctr_id) + ".json"


def holder_name(argv: List[str]) -> str:
    """The holder's name in its argv: argv[0] of a ``sleep`` holder, the argument after the
    script of a proxy holder (``python -I .../loopproxy.py NAME ...``); "" for anything else."""
    if len(argv) >= 4 and os.path.basename(argv[2]) == loopproxy.SCRIPT:
        return argv[3]
    return argv[0] if argv else ""


def _is_holder(pid: int, argv0: str) -> bool:
    """The pid is alive (not a zombie) and is our holder (no pid reuse)."""
    return holder_name(proc_argv(pid)) == argv0


def port_keys(mappings: Iterable[Any]) -> List[str]:
    """``tcp/8080/127.0.0.1`` per host port: what the holder keeps bound."""
    return sorted({"%s/%d/%s" % (m.protocol, m.host_port, m.host_ip) for m in mappings if m.host_port})


def holding(tmp_dir: str, ctr_id: str, keys: List[str]) -> bool:
    """Whether a live holder of the container already keeps exactly ``keys``."""
    info = read_json(_info_path(tmp_dir, ctr_id))
    return bool(info) and info.get("ports") == keys and _is_holder(int(info.get("pid") or 0),
                                                                   _argv0(tmp_dir, ctr_id))


def spawn(tmp_dir: str, ctr_id: str, socks: List[socket.socket], keys: List[str], info: Dict[str, Any], *,
          proxy: Optional[List[str]] = None, routes: Optional[List[Tuple[int, str, int]]] = None) -> int:
    """Start the holder with ``socks`` (bound) as inherited fds; returns its pid.

    ``routes`` (index into ``socks``, target IP, target port): the holder is the proxy run by the
    argv prefix ``proxy`` (interpreter and loopproxy.py), and relays those sockets."""
    os.makedirs(_dir(tmp_dir), mode=0o700, exist_ok=True)
    if routes:
        return _spawn_proxy(tmp_dir, ctr_id, socks, keys, info, proxy=list(proxy or []), routes=routes)
    sleep = next((p for p in SLEEP_CANDIDATES if os.access(p, os.X_OK)), None) or shutil.which("sleep")
    if not sleep:
        raise OSError("no sleep binary found to hold the published ports")
    proc = subprocess.Popen([_argv0(tmp_dir, ctr_id), "infinity"], executable=sleep,
                            pass_fds=[s.fileno() for s in socks], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    # Popen returns once the child called exec (vfork), before the kernel shows the new argv:
    # wait for it, or a check right after this (holding) would not recognise our own holder
    deadline = time.monotonic() + 2.0
    while not proc_argv(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    write_json(_info_path(tmp_dir, ctr_id), dict(info, ports=keys, pid=proc.pid), mode=0o600)
    return proc.pid


def _spawn_proxy(tmp_dir: str, ctr_id: str, socks: List[socket.socket], keys: List[str], info: Dict[str, Any], *,
                 proxy: List[str], routes: List[Tuple[int, str, int]]) -> int:
    """The proxy holder: it answers on its ready pipe once it serves (or dies saying why)."""
    if len(proxy) < 2 or os.path.basename(proxy[-1]) != loopproxy.SCRIPT:
        raise OSError("no proxy command for ports published on the IPv6 loopback")
    rfd, wfd = os.pipe()
    try:
        argv = proxy + [_argv0(tmp_dir, ctr_id), str(wfd)]
        for i, ip, port in routes:
            proto = "tcp" if socks[i].type == socket.SOCK_STREAM else "udp"
            argv.append(loopproxy.route(proto, socks[i].fileno(), ip, port))
        proc = subprocess.Popen(argv, pass_fds=[s.fileno() for s in socks] + [wfd], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        os.close(wfd)
        wfd = -1
        answer = b""
        # "ok\n", or EOF when the proxy died; a proxy silent for 30 s is as good as dead
        while len(answer) < 3 and select.select([rfd], [], [], 30)[0]:
            chunk = os.read(rfd, 3 - len(answer))
            if not chunk:
                break
            answer += chunk
        if answer != b"ok\n":
            proc.kill()
            err = proc.communicate()[1].decode("utf-8", "replace").strip()
            raise OSError("the port proxy %s did not start: %s" % (" ".join(proxy), err[-500:] or "no output"))
    finally:
        for fd in (rfd, wfd):
            if fd >= 0:
                os.close(fd)
    if proc.stderr:
        proc.stderr.close()
    write_json(_info_path(tmp_dir, ctr_id), dict(info, ports=keys, pid=proc.pid), mode=0o600)
    return proc.pid


def release(tmp_dir: str, ctr_id: str, wait: float = 10.0) -> bool:
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
            # not "no longer our holder": the cmdline empties (exit_mm) before the kernel closes
            # the process's fds (exit_files); only a zombie or a gone process has freed the ports
            if not pid_alive(pid):
                break
            time.sleep(0.005)
    return remove_file(path) or found


def held(tmp_dir: str) -> List[str]:
    """Container IDs with a holder record in this root."""
    try:
        return sorted(n[:-5] for n in os.listdir(_dir(tmp_dir)) if n.endswith(".json"))
    except OSError:
        return []


def describe(pid: int) -> Optional[str]:
    """'container NAME (ID) of engine root R' if ``pid`` is a holder of some engine root."""
    name = holder_name(proc_argv(pid))
    if not name or os.path.basename(os.path.dirname(name)) != "ports":
        return None
    info = read_json(name + ".json") or {}
    if not info:
        return None
    return "container %s (%s) of engine root %s" % (info.get("name") or "?", os.path.basename(name)[:12],
                                                    info.get("root") or "?")
