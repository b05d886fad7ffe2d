# SPDX-License-Identifier: GPL-3.0-or-later
"""Container names on DNS-enabled networks, served by aardvark-dns as netavark drives it.

aardvark-dns reads a config directory with one file per network, named after it: the first
line lists the addresses to listen on (the network's gateway), every other line is
``<container id> <IPv4s> <IPv6s> <names>`` (comma-separated lists, an empty one is an empty
field). It answers a query from a container with the entries of the networks that container
is on, forwards other names to the host's resolvers, writes ``aardvark.pid`` into the
directory and re-reads everything on SIGHUP.

Each engine root has its own directory (``<tmp_dir>/aardvark``) and its own server, which
listens only on its own networks' gateways: several roots on one host never clash. The
files are rebuilt from the running containers' recorded status (not patched line by line),
so a crash never leaves a stale name behind for long; the server stops when the last file goes.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ..base.errors import NetworkError
from ..host.files import write_atomic
from ..host.proc import argv, pid_alive

#: where distributions install it (podman's helper_binaries_dir), then $PATH
AARDVARK_PATHS = ("/usr/libexec/podman/aardvark-dns", "/usr/lib/podman/aardvark-dns",
                  "/usr/local/libexec/podman/aardvark-dns", "/usr/local/lib/podman/aardvark-dns")
PID_FILE = "aardvark.pid"
#: the search domain podman gives containers on DNS-enabled networks
SEARCH_DOMAIN = "dns.podman"

Entry = Tuple[str, Sequence[str], Sequence[str], Sequence[str]]  # (ctr id, ipv4s, ipv6s, names)


def find_binary(candidates: Sequence[str] = AARDVARK_PATHS) -> Optional[str]:
    for path in candidates:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("aardvark-dns")


def render(listen: Sequence[str], entries: Iterable[Entry]) -> str:
    """The text of one network's config file (the format netavark writes)."""
    lines = [",".join(listen)]
    for ctr_id, ipv4, ipv6, names in entries:
        lines.append("%s %s %s %s" % (ctr_id, ",".join(ipv4), ",".join(ipv6), ",".join(names)))
    return "\n".join(lines) + "\n"


def entry_names(name: str, aliases: Iterable[str]) -> List[str]:
    """The names a container answers to on a network: its name, then its aliases, once each."""
    out: List[str] = []
    for n in [name, *aliases]:
        if n and n not in out:
            out.append(n)
    return out


class Aardvark:
    """One engine root's aardvark-dns: its config directory and its process."""

    def __init__(self, config_dir: str, binary: Optional[str]):
        self.config_dir = config_dir
        self.binary = binary

    @property
    def available(self) -> bool:
        return bool(self.binary)

    def _pid(self) -> int:
        try:
            with open(os.path.join(self.config_dir, PID_FILE)) as fh:
                pid = int(fh.read().strip() or 0)
        except (OSError, ValueError):
            return 0
        return pid if pid > 0 and pid_alive(pid) and self._is_ours(pid) else 0

    def _is_ours(self, pid: int) -> bool:
        """The pid file may outlive its process (a reboot, a kill): check the command line."""
        return self.config_dir in argv(pid)

    def networks(self) -> List[str]:
        if not os.path.isdir(self.config_dir):
            return []
        return sorted(n for n in os.listdir(self.config_dir) if n != PID_FILE and not n.startswith("."))

    def write(self, network: str, listen: Sequence[str], entries: List[Entry]) -> bool:
        """Write (or, without entries, delete) the network's file; True if it changed."""
        path = os.path.join(self.config_dir, network)
        if not entries:
            try:
                os.unlink(path)
                return True
            except FileNotFoundError:
                return False
        text = render(listen, entries)
        try:
            with open(path) as fh:
                if fh.read() == text:
                    return False
        except OSError:
            pass
        os.makedirs(self.config_dir, mode=0o700, exist_ok=True)
        write_atomic(path, text, mode=0o644)
        return True

    def apply(self) -> None:
        """Start the server if there is a file and none runs, reload it, or stop it when no file is left."""
        pid = self._pid()
        if not self.networks():
            if pid:
                self.stop()
            return
        if pid:
            os.kill(pid, signal.SIGHUP)
            return
        if not self.binary:
            return
        # `run` daemonizes: the parent returns once the server listens and has written its pid file
        try:
            proc = subprocess.run([self.binary, "--config", self.config_dir, "-p", "53", "run"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  start_new_session=True, timeout=30, check=False, close_fds=True)
        except (OSError, subprocess.SubprocessError) as err:
            raise NetworkError("cannot start aardvark-dns (%s): %s" % (self.binary, err),
                               hint="check the binary, or disable DNS on the network (disable_dns: true)")
        if proc.returncode != 0:
            msg = proc.stderr.decode(errors="replace").strip().splitlines()
            raise NetworkError("aardvark-dns failed to start (exit %d): %s"
                               % (proc.returncode, msg[-1] if msg else "no message"),
                               hint="is something else listening on port 53 of the network's gateway?")

    def stop(self) -> None:
        pid = self._pid()
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            os.unlink(os.path.join(self.config_dir, PID_FILE))
        except FileNotFoundError:
            pass

    def remove_all(self) -> None:
        """Every file and the server (system reset, tests)."""
        for name in self.networks():
            try:
                os.unlink(os.path.join(self.config_dir, name))
            except FileNotFoundError:
                pass
        self.stop()


def network_entries(records: Iterable, network: str, running: Sequence[str]) -> List[Entry]:
    """The entries of ``network`` from container records (their recorded network status):
    only containers whose status is in ``running``, in name order."""
    out: List[Entry] = []
    for rec in sorted(records, key=lambda r: r.name):
        if rec.state.get("status") not in running:
            continue
        blk = ((rec.state.get("network_status") or {}).get("networks") or {}).get(network)
        if not blk or not blk.get("ip"):
            continue
        attach = ((rec.config.get("network") or {}).get("attach") or {}).get(network) or {}
        ip6 = [blk["ip6"]] if blk.get("ip6") else []  # dual stack: AAAA answers
        out.append((rec.id, [blk["ip"]], ip6, entry_names(rec.name, attach.get("aliases") or [])))
    return out


def dns_servers(status: Dict, dns_networks: Iterable[str]) -> List[str]:
    """The gateways a container's resolv.conf names: those of its DNS-enabled networks, in order
    (a dual-stack network's IPv4 gateway, then its IPv6 one, as podman writes them)."""
    wanted = set(dns_networks)
    out: List[str] = []
    for name, blk in (status.get("networks") or {}).items():
        if name not in wanted:
            continue
        for gw in (blk.get("gateway"), blk.get("gateway6")):
            if gw and gw not in out:
                out.append(gw)
    return out
