# SPDX-License-Identifier: GPL-3.0-or-later
"""The small files a container owns (hosts, hostname, resolv.conf, .containerenv) and user lookup.

The four files live in the container's RunDir and are bind-mounted into it (libpod
§2.3), so they can be rewritten while the image stays untouched. User resolution reads
the rootfs's /etc/passwd and /etc/group; the rootfs comes from an image we do not trust,
so every path inside it is resolved with ``secure_join`` (symlinks are followed as if
the rootfs were "/": they can never lead out of it) and files are opened with
O_NOFOLLOW, size-capped and only when regular.
"""
from __future__ import annotations

import errno
import ipaddress
import os
import stat
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ..base.errors import InvalidArg, StorageError
from ..host.files import write_atomic
from ..host.paths import secure_join
from ..parse.values import (
    parse_add_host,
    parse_dns_options,
    parse_dns_search,
    parse_dns_servers,
    reject_control,
)

__all__ = [
    "ExecUser", "secure_join", "read_rootfs_file", "parse_passwd", "parse_group", "resolve_user",
    "ensure_workdir", "container_hostname", "hostname_content", "hosts_content",
    "resolv_conf_content", "containerenv_content", "write_run_file", "EtcFiles",
    "DEFAULT_DNS_SERVERS",
]

_MAX_ETC_FILE = 8 * 1024 * 1024
#: podman's fallback when the host has only local resolvers (c/common resolvconf).
DEFAULT_DNS_SERVERS = ("8.8.8.8", "8.8.4.4")
_MAX_UID = 2**32 - 2


# --------------------------------------------------------------------------- files of the rootfs

def read_rootfs_file(rootfs: str, path: str, limit: int = _MAX_ETC_FILE) -> Optional[str]:
    """Text of a regular file inside the rootfs, or None when it is missing, not regular or a
    symlink loop (what the container's own libc would see as ELOOP)."""
    try:
        real = secure_join(rootfs, path)
    except StorageError:
        return None
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | os.O_NOCTTY
    try:
        fd = os.open(real, flags)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.EISDIR):
            return None
        raise StorageError("cannot read %s in the container's rootfs: %s" % (path, e.strerror))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks: List[bytes] = []
        total = 0
        while total <= limit:
            b = os.read(fd, 65536)
            if not b:
                break
            chunks.append(b)
            total += len(b)
        if total > limit:
            raise StorageError("%s in the container's rootfs is larger than %d bytes" % (path, limit))
        return b"".join(chunks).decode("utf-8", errors="replace")
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- users

@dataclass
class PasswdEntry:
    """A line of the image's /etc/passwd (the fields the process user needs)."""

    name: str
    uid: int
    gid: int
    home: str


@dataclass
class GroupEntry:
    """A line of the image's /etc/group."""

    name: str
    gid: int
    members: List[str] = field(default_factory=list)


@dataclass
class ExecUser:
    """The process user of a container, as the OCI spec wants it (plus HOME for the env)."""

    uid: int = 0
    gid: int = 0
    additional_gids: List[int] = field(default_factory=list)
    home: str = "/"
    name: Optional[str] = None


def _id(text: str) -> Optional[int]:
    t = text.strip()
    if not t.isdigit():
        return None
    n = int(t)
    return n if n <= _MAX_UID else None


def parse_passwd(text: str) -> List[PasswdEntry]:
    """name:pw:uid:gid:gecos:home:shell lines; malformed lines are skipped (as libc does)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) < 4:
            continue
        uid, gid = _id(parts[2]), _id(parts[3])
        if uid is None or gid is None or not parts[0]:
            continue
        home = parts[5] if len(parts) > 5 and parts[5] else "/"
        out.append(PasswdEntry(parts[0], uid, gid, home))
    return out


def parse_group(text: str) -> List[GroupEntry]:
    """name:pw:gid:member,member lines; malformed lines are skipped."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) < 3:
            continue
        gid = _id(parts[2])
        if gid is None or not parts[0]:
            continue
        members = [m.strip() for m in parts[3].split(",") if m.strip()] if len(parts) > 3 else []
        out.append(GroupEntry(parts[0], gid, members))
    return out


def resolve_user(rootfs: Optional[str], user: Optional[str],
                 read_file: Optional[Callable[[str], Optional[str]]] = None) -> ExecUser:
    """uid/gid/groups/HOME for "", "1000", "app", "app:staff", "1000:1000" from the rootfs's files.

    As runc's GetExecUser (which podman uses): a numeric uid not in /etc/passwd is allowed
    (gid 0, HOME "/"), an unknown *name* is an error; supplementary groups are added only
    when no group was given explicitly; the primary gid is in additional_gids too.
    ``read_file`` reads a file of the container's root instead of ``rootfs`` (check mode reads
    the image's layers without mounting them).
    """
    if read_file is None:
        def read_file(path: str) -> Optional[str]:
            return read_rootfs_file(rootfs, path)

    spec = (user or "").strip()
    if not spec:
        spec = "0"
    uspec, sep, gspec = spec.partition(":")
    if not uspec:
        uspec = "0"
    if sep and not gspec:
        raise InvalidArg("invalid user %r: empty group after ':'" % user, hint="expected USER[:GROUP]")
    passwd = parse_passwd(read_file("/etc/passwd") or "")
    groups: Optional[List[GroupEntry]] = None

    def load_groups() -> List[GroupEntry]:
        nonlocal groups
        if groups is None:
            groups = parse_group(read_file("/etc/group") or "")
        return groups

    uid = _id(uspec)
    entry: Optional[PasswdEntry]
    if uid is not None:
        entry = next((p for p in passwd if p.uid == uid), None)
    else:
        entry = next((p for p in passwd if p.name == uspec), None)
        if entry is None:
            raise InvalidArg("user %r not found in the image's /etc/passwd" % uspec,
                             hint="use a numeric uid (e.g. 1000 or 1000:1000) or a user the image defines")
        uid = entry.uid
    gid = entry.gid if entry else 0
    home = entry.home if entry else "/"
    name = entry.name if entry else None

    if sep:
        g = _id(gspec)
        if g is None:
            ge = next((x for x in load_groups() if x.name == gspec), None)
            if ge is None:
                raise InvalidArg("group %r not found in the image's /etc/group" % gspec,
                                 hint="use a numeric gid or a group the image defines")
            g = ge.gid
        gid = g
        extra: List[int] = [gid]
    else:
        extra = [gid]
        if name:
            for ge in load_groups():
                if name in ge.members and ge.gid not in extra:
                    extra.append(ge.gid)
    return ExecUser(uid=uid, gid=gid, additional_gids=extra, home=home, name=name)


def ensure_workdir(rootfs: str, workdir: str, uid: int, gid: int) -> str:
    """Create a missing working directory inside the rootfs (0755, owned by the user), as podman
    does for an image's WorkingDir; returns the host path. Never writes outside the rootfs."""
    real = secure_join(rootfs, workdir)
    if os.path.isdir(real):
        return real
    root = os.path.abspath(rootfs)
    rel = os.path.relpath(real, root)
    cur = root
    for comp in rel.split(os.sep):
        cur = os.path.join(cur, comp)
        try:
            os.mkdir(cur, 0o755)
            os.chown(cur, uid, gid)
        except FileExistsError:
            if os.path.islink(cur) or not os.path.isdir(cur):
                raise StorageError("cannot create working directory %s: %s exists and is not a directory"
                                   % (workdir, os.path.relpath(cur, root)))
    return real


# --------------------------------------------------------------------------- hostname

def container_hostname(config: Dict, shared_hostname: Optional[str] = None) -> str:
    """The container's host name: the one of a joined UTS namespace, else declared, else id[:12]."""
    if shared_hostname:
        return shared_hostname
    return config.get("hostname") or str(config.get("id", ""))[:12]


def hostname_content(hostname: str) -> str:
    """/etc/hostname: the name without a trailing newline (as podman writes it)."""
    return reject_control(hostname, "hostname")


# --------------------------------------------------------------------------- /etc/hosts

_DEFAULT_LOCALHOST = (
    ("127.0.0.1", ["localhost", "localhost.localdomain", "localhost4", "localhost4.localdomain4"]),
    ("::1", ["localhost", "localhost.localdomain", "localhost6", "localhost6.localdomain6"]),
)


def _parse_hosts(text: str) -> List[Tuple[str, List[str]]]:
    out = []
    for raw in text.splitlines():
        fields = raw.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        out.append((fields[0], fields[1:]))
    return out


def _read_host_file(path: Optional[str]) -> str:
    if not path:
        return ""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(_MAX_ETC_FILE)
    except OSError:
        return ""


def hosts_content(*, hostname: str, name: str = "", ips: Sequence[str] = (),
                  add_hosts: Iterable[str] = (), base_hosts: Optional[str] = None,
                  base_hosts_file: Optional[str] = "/etc/hosts",
                  host_gateway_ip: Optional[str] = None) -> str:
    """/etc/hosts: --add-host entries, the host's entries, host.containers.internal, then the container.

    add_host entries come first so they win a lookup (first match); the base is the host's
    file (or ``base_hosts`` text); without any localhost entry the usual ones are added. A
    container without an IP (network none) maps its names to 127.0.0.1 and ::1.
    """
    for value, param in ((hostname, "hostname"), (name, "name")):
        reject_control(value, param)  # each is written into a line of the file
    entries: List[Tuple[str, List[str]]] = []
    for item in add_hosts:
        hname, ip = parse_add_host(item)
        if ip == "host-gateway":
            if not host_gateway_ip:
                raise InvalidArg("invalid add_host %r: no host gateway known for this network" % item,
                                 hint="give an IP address instead of host-gateway")
            ip = host_gateway_ip
        entries.append((ip, [hname]))
    base = _parse_hosts(base_hosts if base_hosts is not None else _read_host_file(base_hosts_file))
    if not any("localhost" in names for _unused, names in base):
        base = [(ip, list(n)) for ip, n in _DEFAULT_LOCALHOST] + base
    entries.extend(base)
    defined = {n for _unused, names in entries for n in names}
    if host_gateway_ip and "host.containers.internal" not in defined:
        entries.append((host_gateway_ip, ["host.containers.internal"]))
    own = [hostname] + ([name] if name and name != hostname else [])
    if ips:
        entries.extend((str(ipaddress.ip_address(ip)), list(own)) for ip in ips)
    else:
        entries.extend([("127.0.0.1", list(own)), ("::1", list(own))])
    lines: List[str] = []
    for ip, names in entries:
        line = "%s\t%s" % (ip, " ".join(names))
        if line not in lines:
            lines.append(line)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- resolv.conf

def _is_local_resolver(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def resolv_conf_content(*, dns: Sequence[str] = (), dns_search: Sequence[str] = (),
                        dns_option: Sequence[str] = (), base_resolv: Optional[str] = None,
                        base_resolv_file: Optional[str] = "/etc/resolv.conf",
                        network_dns: Sequence[str] = (), network_search: Sequence[str] = (),
                        keep_local: bool = False) -> str:
    """resolv.conf as podman builds it: declared values replace the host's, localhost resolvers
    are dropped (unreachable from a private netns) unless ``keep_local`` (host network), and an
    empty list falls back to 8.8.8.8/8.8.4.4. ``dns_search: ["."]`` means no search list."""
    text = base_resolv if base_resolv is not None else _read_host_file(base_resolv_file)
    host_ns: List[str] = []
    host_search: List[str] = []
    host_opts: List[str] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(fields) < 2:
            continue
        if fields[0] == "nameserver":
            host_ns.append(fields[1])
        elif fields[0] == "search":
            host_search = fields[1:]
        elif fields[0] == "domain" and not host_search:
            host_search = fields[1:2]
        elif fields[0] == "options":
            host_opts.extend(fields[1:])
    # each value becomes part of a line: validated here too, whatever path it came by
    dns = parse_dns_servers(list(dns), "dns server")
    dns_search = parse_dns_search(list(dns_search), "dns_search")
    dns_option = parse_dns_options(list(dns_option), "dns_option")
    servers = list(dns) if dns else [s for s in host_ns if keep_local or not _is_local_resolver(s)]
    if not servers and not network_dns:
        servers = list(DEFAULT_DNS_SERVERS)
    servers = list(network_dns) + [s for s in servers if s not in network_dns]
    if list(dns_search) == ["."]:
        search: List[str] = []
    else:
        search = list(dns_search) if dns_search else host_search
    search = list(network_search) + [s for s in search if s not in network_search]
    opts = list(dns_option) if dns_option else host_opts
    out = []
    if search:
        out.append("search " + " ".join(search))
    out.extend("nameserver " + s for s in servers)
    if opts:
        out.append("options " + " ".join(opts))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- .containerenv

def containerenv_content(*, privileged: bool, name: str = "", ctr_id: str = "", image: str = "",
                         image_id: str = "", engine: str = "libpod-engine", rootless: bool = False) -> str:
    """/run/.containerenv: empty, except for privileged containers (they could see the host anyway)."""
    if not privileged:
        return ""

    def q(v: str) -> str:
        return '"%s"' % str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")

    return ("engine=%s\nname=%s\nid=%s\nimage=%s\nimageid=%s\nrootless=%d\n"
            % (q(engine), q(name), q(ctr_id), q(image), q(image_id), 1 if rootless else 0))


# --------------------------------------------------------------------------- writing

def write_run_file(run_dir: str, name: str, content: str, mode: int = 0o644) -> str:
    """Atomically (tmp + rename) write one RunDir file; returns its path."""
    if "/" in name or name in ("", ".", ".."):
        raise InvalidArg("invalid run file name %r" % name)
    path = os.path.join(run_dir, name)
    try:
        write_atomic(path, content, mode=mode)
    except OSError as e:
        raise StorageError("cannot write %s: %s" % (path, e.strerror or e))
    return path


@dataclass
class EtcFiles:
    """The four RunDir files of a container; ``write`` puts them where spec.py bind-mounts them."""

    hosts: str
    hostname: str
    resolv_conf: str
    containerenv: str = ""

    def write(self, run_dir: str) -> Dict[str, str]:
        os.makedirs(run_dir, mode=0o700, exist_ok=True)
        return {
            "hosts": write_run_file(run_dir, "hosts", self.hosts),
            "hostname": write_run_file(run_dir, "hostname", self.hostname),
            "resolv.conf": write_run_file(run_dir, "resolv.conf", self.resolv_conf),
            ".containerenv": write_run_file(run_dir, ".containerenv", self.containerenv),
        }


# --------------------------------------------------------------------------- peers in /etc/hosts

_PEER_MARK = "# libpod-engine peer "
#: how much of a hosts file the engine reads back: the container can write the file (it is its own
#: /etc/hosts), so a grown one is cut to its leading lines within this size, never read whole
MAX_HOSTS_FILE = 1 << 20


def _pread_all(fd: int, limit: int) -> bytes:
    chunks: List[bytes] = []
    got = 0
    while got < limit:
        b = os.pread(fd, min(65536, limit - got), got)
        if not b:
            break
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def hosts_set_peer(path: str, peer_id: str, ip: Optional[str], names: Sequence[str],
                   warn: Optional[Callable[[str], None]] = None) -> bool:
    """Add (ip given) or drop (ip None) a peer container's line in a running container's hosts file.

    The file is bind-mounted into the container, so it is edited in place (same inode);
    a rename would leave the container looking at the old file. False if the file is gone.
    At most MAX_HOSTS_FILE bytes are read: a larger file (the container wrote it) is cut to
    its complete lines within that size, with a warning through ``warn``.
    """
    mark = (_PEER_MARK + peer_id).encode()
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        size = st.st_size
        if not stat.S_ISREG(st.st_mode):
            if warn:
                warn("%s is not a regular file; peer %s not written to it" % (path, peer_id[:12]))
            return False
        data = _pread_all(fd, MAX_HOSTS_FILE + 1)
        if len(data) > MAX_HOSTS_FILE or size > MAX_HOSTS_FILE:
            data = data[:MAX_HOSTS_FILE]
            data = data[:data.rfind(b"\n") + 1]
            if warn:
                warn("%s had grown to %d bytes (the container wrote it), more than the %d read back; cut to "
                     "its first %d bytes of lines" % (path, max(size, len(data)), MAX_HOSTS_FILE, len(data)))
        lines = [ln for ln in data.splitlines() if not ln.endswith(mark)]
        if ip:
            lines.append(("%s\t%s\t" % (ip, " ".join(names))).encode() + mark)
        out = memoryview(b"\n".join(lines) + b"\n")
        pos = 0
        while pos < len(out):
            pos += os.pwrite(fd, out[pos:], pos)
        os.ftruncate(fd, len(out))
    except OSError as e:
        if warn:
            warn("cannot update %s with peer %s: %s" % (path, peer_id[:12], e.strerror or e))
        return False
    finally:
        os.close(fd)
    return True
