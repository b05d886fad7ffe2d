# SPDX-License-Identifier: GPL-3.0-or-later
"""User-mode networking: network modes ``pasta[:OPTIONS]`` and ``slirp4netns[:OPTIONS]``, as podman.

The container gets a netns of its own (made by the network manager, as for mode none); the tool
is then started on that netns path before the runtime starts the container process, and gives
it a tap interface, addresses, a default route and the published ports (the tool binds the host
ports itself, so no DNAT rules and no port holder). One small table of the two tools'
differences (``TOOLS``), pure argument builders (unit-tested), and start/stop.

The tool's pid and what it serves are kept in ``<tmp_dir>/usermode/<ctr id>.json`` next to the
port holder's records: the network teardown (stop, exit command after a kill -9 of conmon,
remove, reset) and ``cleanup_orphans`` find it from the container ID alone, as the rest of the
network state. The pid is checked against ``/proc/<pid>/cmdline`` (tool binary and netns path)
before a signal, so a recycled pid is never hit. After a reboot the tmp dir (tmpfs) is empty and
the processes are gone with it.

podman's defaults kept here: pasta ``--config-net``, ``--no-map-gw`` (no way from the container
to the host's loopback through the gateway address; the option ``--map-gw`` removes it), ``-t``/
``-u`` per published port and ``none`` for each direction the options do not configure;
slirp4netns ``--configure --mtu=65520 --disable-host-loopback --enable-sandbox --enable-seccomp``,
IPv6 on, ports through its API socket (``add_hostfwd``; podman's default port handler is
rootlessport, a proxy process, which we do not have).
"""
from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

from ..base.errors import InvalidArg, NetworkError
from ..base.netmodes import USERMODE_NETWORKS
from ..host.files import remove_file
from ..host.proc import argv as proc_argv
from ..host.proc import wait_pid_gone
from ..host.roots import read_json, write_json
from ..host.userpaths import rootless_uid

PASTA = "pasta"
SLIRP = "slirp4netns"
MODES = USERMODE_NETWORKS  # (PASTA, SLIRP)

#: slirp4netns defaults of podman (``podman run --network slirp4netns:...`` keys)
SLIRP_DEFAULTS = {"allow_host_loopback": "false", "cidr": "10.0.2.0/24", "enable_ipv6": "true", "mtu": "65520",
                  "outbound_addr": "", "outbound_addr6": "", "port_handler": "slirp4netns"}
_BOOL_WORDS = {"true": "true", "1": "true", "yes": "true", "false": "false", "0": "false", "no": "false"}
#: pasta options the engine sets itself (a second value would fight ours)
_PASTA_OWN = ("--netns", "--netns-type", "-P", "--pid", "-f", "--foreground", "--runas", "--config-net")
_READY_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class Tool:
    """What differs between the two tools."""

    mode: str
    binary: str            # name looked up on PATH
    package: str           # Debian package, for the hint when it is missing


TOOLS = {PASTA: Tool(PASTA, "pasta", "passt"), SLIRP: Tool(SLIRP, "slirp4netns", "slirp4netns")}


# -- options (pure) --------------------------------------------------------------------------

def parse_options(mode: str, text: str, param: str = "network") -> List[str]:
    """``OPTIONS`` of ``pasta:OPTIONS`` / ``slirp4netns:OPTIONS`` (comma separated) -> a list.

    pasta: the words as given (their order matters to pasta), minus nothing; options the engine
    sets itself are refused. slirp4netns: ``key=value`` pairs of podman's keys, validated and
    normalised (sorted, booleans as true/false), only the non-default ones kept, so that
    ``slirp4netns:mtu=65520`` compares equal to ``slirp4netns``.
    """
    words = [w.strip() for w in text.split(",")] if text else []
    if any(not w for w in words):
        raise InvalidArg("%s: %s:%s has an empty option" % (param, mode, text),
                         hint="separate options with single commas, e.g. %s" % example(mode))
    if mode == PASTA:
        for w in words:
            if w.split("=", 1)[0] in _PASTA_OWN:
                raise InvalidArg("%s: pasta option %s is set by the engine" % (param, w),
                                 hint="drop it; the engine passes --config-net, --netns, --pid and --runas itself")
        return words
    out: Dict[str, str] = {}
    for w in words:
        key, sep, value = w.partition("=")
        if key not in SLIRP_DEFAULTS or not sep:
            raise InvalidArg("%s: slirp4netns option %r is not KEY=VALUE with a known key" % (param, w),
                             hint="keys: %s" % ", ".join(sorted(SLIRP_DEFAULTS)))
        out[key] = _slirp_value(key, value.strip(), param)
    return ["%s=%s" % (k, v) for k, v in sorted(out.items()) if v != SLIRP_DEFAULTS[k]]


def example(mode: str) -> str:
    """A valid OPTIONS example of the mode, for hints."""
    return "pasta:--ipv4-only,-a,10.0.2.0" if mode == PASTA else "slirp4netns:allow_host_loopback=true,mtu=1500"


def _slirp_value(key: str, value: str, param: str) -> str:
    def bad(why: str) -> InvalidArg:
        return InvalidArg("%s: slirp4netns %s=%s: %s" % (param, key, value, why), hint=example(SLIRP))

    if key in ("allow_host_loopback", "enable_ipv6"):
        if value.lower() not in _BOOL_WORDS:
            raise bad("not true or false")
        return _BOOL_WORDS[value.lower()]
    if key == "mtu":
        if not value.isdigit() or not 68 <= int(value) <= 65521:
            raise bad("MTU must be a number from 68 to 65521")
        return str(int(value))
    if key == "cidr":
        try:
            net = ipaddress.IPv4Network(value, strict=False)
        except ValueError:
            raise bad("not an IPv4 CIDR")
        if net.prefixlen > 25:
            raise bad("slirp4netns needs at least a /25")
        return str(net)
    if key == "port_handler":
        if value != "slirp4netns":
            raise bad("only the slirp4netns port handler is implemented (podman's rootlessport proxy is not)")
        return value
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise bad("not an IP address")
    return value


def slirp_settings(options: Sequence[str]) -> Dict[str, str]:
    """podman's defaults overlaid with the (normalised) options."""
    out = dict(SLIRP_DEFAULTS)
    out.update(o.split("=", 1) for o in options)
    return out


# -- arguments (pure) ------------------------------------------------------------------------

def _port_range(m: Any) -> str:
    spec = "%d-%d:%d-%d" % (m.host_port, m.host_port, m.container_port, m.container_port)
    if m.host_ip and m.host_ip not in ("0.0.0.0", "::"):
        return "%s/%s" % (m.host_ip, spec)
    return spec


def pasta_args(netns: str, options: Sequence[str], ports: Sequence[Any], *, pid_file: str,
               euid: int) -> List[str]:
    """pasta's argv (without the binary)."""
    opts = list(options)
    map_gw = "--map-gw" in opts
    opts = [o for o in opts if o != "--map-gw"]  # podman's pseudo option: keep the gateway mapping
    args = ["--config-net"]
    for m in ports:
        args += ["-t" if m.protocol == "tcp" else "-u", _port_range(m)]
    args += opts
    for flag, long in (("-t", "--tcp-ports"), ("-u", "--udp-ports"), ("-T", "--tcp-ns"), ("-U", "--udp-ns")):
        if flag not in args and long not in args:
            args += [flag, "none"]
    if not map_gw and "--no-map-gw" not in args:
        args.append("--no-map-gw")
    args += ["--quiet", "--netns", netns, "--pid", pid_file]
    if euid == 0:
        # pasta started as root changes to nobody, which then cannot enter a netns owned by the
        # initial user namespace (Debian 12's passt: "Couldn't switch to pasta namespaces")
        args += ["--runas", "0"]
    return args


def slirp_args(netns: str, options: Sequence[str], *, ready_fd: int, api_socket: str) -> List[str]:
    """slirp4netns' argv (without the binary)."""
    s = slirp_settings(options)
    args = ["--configure", "--mtu=%s" % s["mtu"]]
    if s["allow_host_loopback"] != "true":
        args.append("--disable-host-loopback")
    if s["cidr"] != SLIRP_DEFAULTS["cidr"]:
        args.append("--cidr=%s" % s["cidr"])
    if s["enable_ipv6"] == "true":
        args.append("--enable-ipv6")
    for key in ("outbound_addr", "outbound_addr6"):
        if s[key]:
            args.append("--%s=%s" % (key.replace("_", "-"), s[key]))
    args += ["--enable-sandbox", "--enable-seccomp", "--ready-fd=%d" % ready_fd, "--api-socket", api_socket,
             "--netns-type=path", netns, "tap0"]
    return args


def slirp_address(options: Sequence[str]) -> Dict[str, Any]:
    """The container's address, prefix and gateway under slirp4netns (.100 and .2 of its CIDR)."""
    net = ipaddress.IPv4Network(slirp_settings(options)["cidr"])
    return {"ip": str(net.network_address + 100), "gateway": str(net.network_address + 2),
            "prefix_len": net.prefixlen}


def check_unprivileged_ports(ports: Sequence[Any], euid: int, start: Optional[int]) -> None:
    """An unprivileged tool cannot bind ports below ip_unprivileged_port_start: say so first."""
    if euid == 0 or start is None:
        return
    low = sorted({m.host_port for m in ports if m.host_port and m.host_port < start})
    if low:
        raise InvalidArg("publish: host port(s) %s are below net.ipv4.ip_unprivileged_port_start (%d) and this "
                         "engine runs unprivileged" % (", ".join(map(str, low)), start),
                         hint="publish on a host port >= %d, or lower the sysctl as root" % start)


TUN = "/dev/net/tun"


def host_euid() -> int:
    """The caller's uid on the host: rootless tasks run as uid 0 of the engine's user namespace."""
    return rootless_uid() or os.geteuid()


def check_tun(mode: str, euid: int, path: str = TUN) -> None:
    """Both tools open the TUN device; an unprivileged engine cannot when the host keeps it 0600
    (Debian's udev rule makes it 0666): say so instead of the tool's "Permission denied"."""
    if euid == 0 or os.access(path, os.R_OK | os.W_OK):
        return
    raise NetworkError("network mode %s needs %s, which this unprivileged user cannot open" % (mode, path),
                       hint="make it usable by unprivileged users as Debian does (as root: chmod 0666 %s), "
                            "or use network: none" % path)


def unprivileged_port_start() -> Optional[int]:
    try:
        with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


# -- records ---------------------------------------------------------------------------------

def _dir(tmp_dir: str) -> str:
    return os.path.join(tmp_dir, "usermode")


def _record(tmp_dir: str, ctr_id: str) -> str:
    return os.path.join(_dir(tmp_dir), ctr_id + ".json")


def _is_ours(pid: int, info: Dict[str, Any]) -> bool:
    """pid is the tool started for this record (same netns path on its command line)."""
    netns = info.get("netns", "")
    return bool(netns) and netns in proc_argv(pid)


def running(tmp_dir: str, ctr_id: str) -> Optional[Dict[str, Any]]:
    """The record of the container's live tool, or None."""
    info = read_json(_record(tmp_dir, ctr_id))
    if not info or not _is_ours(int(info.get("pid") or 0), info):
        return None
    return info


def recorded(tmp_dir: str) -> List[str]:
    """Container IDs with a tool record in this root."""
    try:
        return sorted(n[:-5] for n in os.listdir(_dir(tmp_dir)) if n.endswith(".json"))
    except OSError:
        return []


def stop(tmp_dir: str, ctr_id: str) -> bool:
    """Stop the container's tool (TERM, then KILL) and drop its record; True if there was one."""
    path = _record(tmp_dir, ctr_id)
    info = read_json(path)
    if info is None:
        return False
    pid = int(info.get("pid") or 0)
    if pid and _is_ours(pid, info):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except OSError:
                break
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    break  # our child (slirp4netns started by this process): reaped
            except ChildProcessError:
                pass
            if wait_pid_gone(pid, _STOP_TIMEOUT / 2):
                break
    for p in (path, info.get("api_socket") or "", path[:-5] + ".log", path[:-5] + ".pid"):
        if p:
            remove_file(p)
    return True


# -- start -----------------------------------------------------------------------------------

def find_binary(mode: str) -> str:
    tool = TOOLS[mode]
    path = shutil.which(tool.binary) or next((p for p in ("/usr/bin/" + tool.binary, "/usr/sbin/" + tool.binary)
                                              if os.access(p, os.X_OK)), None)
    if not path:
        raise NetworkError("network mode %s needs %s, which is not installed" % (mode, tool.binary),
                           hint="install the %s package (apt-get install %s)" % (tool.package, tool.package))
    return path


def start(tmp_dir: str, ctr_id: str, mode: str, *, netns: str, options: Sequence[str], ports: Sequence[Any],
          euid: Optional[int] = None) -> Dict[str, Any]:
    """Start the tool on ``netns`` serving ``ports``; returns its record (pid, mode, ...).

    A tool already running for the container is stopped first (a restart reconfigures the tap
    interface: it disappears with the old process)."""
    euid = host_euid() if euid is None else euid
    check_unprivileged_ports(ports, euid, unprivileged_port_start())
    binary = find_binary(mode)
    check_tun(mode, euid)
    stop(tmp_dir, ctr_id)
    os.makedirs(_dir(tmp_dir), mode=0o700, exist_ok=True)
    base = _record(tmp_dir, ctr_id)[:-5]
    starter = _start_pasta if mode == PASTA else _start_slirp
    info = starter(binary, base, netns, options=options, ports=ports, euid=euid)
    info.update(mode=mode, netns=netns, options=list(options),
                ports=["%s/%d/%s" % (m.protocol, m.host_port, m.host_ip) for m in ports])
    write_json(base + ".json", info, mode=0o600)
    return info


def _log_tail(path: str) -> str:
    try:
        with open(path, errors="replace") as f:
            return " ".join(f.read().split())[-400:]
    except OSError:
        return ""


def _start_pasta(binary: str, base: str, netns: str, *, options: Sequence[str], ports: Sequence[Any],
                 euid: int) -> Dict[str, Any]:
    pid_file = base + ".pid"
    argv = [binary] + pasta_args(netns, options, ports, pid_file=pid_file, euid=euid)
    with open(base + ".log", "wb") as log:
        # pasta forks to the background once the netns is configured and the ports bound
        rc = subprocess.call(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                             timeout=_READY_TIMEOUT)
    pid = 0
    try:
        with open(pid_file) as f:
            pid = int(f.read().strip() or 0)
    except (OSError, ValueError):
        pass
    if rc != 0 or not pid:
        raise NetworkError("pasta failed (exit code %d): %s" % (rc, _log_tail(base + ".log") or "no message"),
                           hint="check the pasta options of network; published host ports must be free")
    return {"pid": pid}


def _start_slirp(binary: str, base: str, netns: str, *, options: Sequence[str], ports: Sequence[Any],
                 euid: int) -> Dict[str, Any]:
    api = base + ".sock"
    remove_file(api)
    rfd, wfd = os.pipe()
    try:
        with open(base + ".log", "wb") as log:
            # the socket by a name relative to its dir: an AF_UNIX path has at most 107 bytes
            argv = _slave_mounts_argv() + [binary] + slirp_args(netns, options, ready_fd=wfd,
                                                                api_socket=os.path.basename(api))
            proc = subprocess.Popen(argv, pass_fds=[wfd], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    start_new_session=True, cwd=os.path.dirname(api))
        os.close(wfd)
        wfd = -1
        ready = _read_ready(rfd)
    finally:
        os.close(rfd)
        if wfd >= 0:
            os.close(wfd)
    info = {"pid": proc.pid, "api_socket": api}
    if not ready:
        _kill(proc)
        raise NetworkError("slirp4netns did not come up: %s" % (_log_tail(base + ".log") or "no message"),
                           hint="check the slirp4netns options of network")
    try:
        for m in ports:
            _hostfwd(api, m)
    except NetworkError:
        _kill(proc)
        raise
    return info


def _slave_mounts_argv() -> List[str]:
    """Run slirp4netns in a mount namespace of its own whose mounts receive the host's but send
    nothing back (util-linux unshare execs it: same pid). slirp4netns --enable-sandbox unmounts
    everything in its namespace; the netns dir is a shared mount (manager._ensure_netns_dir), so
    without this the container's netns bind mount was unmounted on the host too (measured).
    Without unshare(1) the tool runs as is (the sandbox is harmless where the dir is not shared)."""
    path = shutil.which("unshare") or ("/usr/bin/unshare" if os.access("/usr/bin/unshare", os.X_OK) else "")
    return [path, "--mount", "--propagation", "slave"] if path else []


def _read_ready(fd: int) -> bool:
    import select  # noqa: PLC0415 - only when slirp4netns starts

    deadline = time.monotonic() + _READY_TIMEOUT
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return False
        data = os.read(fd, 16)
        return data.startswith(b"1")  # b"" = the process exited before it was ready


def _kill(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()


def _hostfwd(api: str, m: Any, call: Optional[Callable[[str, Dict[str, Any]], Dict[str, Any]]] = None) -> None:
    req = {"execute": "add_hostfwd", "arguments": {
        "proto": m.protocol, "host_addr": m.host_ip or "0.0.0.0", "host_port": m.host_port,
        "guest_port": m.container_port}}
    reply = (call or _api_call)(api, req)
    if "error" in reply:
        why = (reply["error"] or {}).get("desc") or reply["error"]
        raise NetworkError("slirp4netns cannot publish %s: %s" % (m.spec(), why),
                           hint="the host port must be free on that address")


def _api_call(api: str, req: Dict[str, Any]) -> Dict[str, Any]:
    dirfd = -1
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(_READY_TIMEOUT)
            if len(api.encode()) > 100:  # too long for sun_path: through the dir's fd
                dirfd = os.open(os.path.dirname(api), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                s.connect("/proc/self/fd/%d/%s" % (dirfd, os.path.basename(api)))
            else:
                s.connect(api)
            s.sendall(json.dumps(req).encode())
            s.shutdown(socket.SHUT_WR)
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        return json.loads(data.decode() or "{}")
    except (OSError, ValueError) as err:
        raise NetworkError("slirp4netns API %s: %s" % (api, err))
    finally:
        if dirfd >= 0:
            os.close(dirfd)


def status(mode: str, options: Sequence[str]) -> Dict[str, Any]:
    """The network status block of the mode (inspect): slirp4netns' fixed addresses; pasta copies
    the host's addresses and routes, so it has none of its own to show."""
    out: Dict[str, Any] = {"mode": mode}
    if mode == SLIRP:
        out.update(slirp_address(options))
    return out
