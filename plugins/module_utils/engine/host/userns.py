# SPDX-License-Identifier: GPL-3.0-or-later
"""The rootless user namespace: created once, kept by a pause process, joined by every module.

As podman's pkg/rootless: the first engine process of a user forks a child that unshares a user
and a mount namespace; the parent maps it with ``newuidmap``/``newgidmap`` (Debian package
``uidmap``: setuid helpers that grant only the ranges of /etc/subuid and /etc/subgid), the user's
own uid/gid at 0 and its subordinate ranges from 1 on; the child then execs ``catatonit -P``
(pause mode), which holds both namespaces while no engine process runs. Its pid goes to
``<tmp dir>/pause.pid`` (podman's rootless pause.pid). Every engine process, the first included,
then joins the pause process's namespaces with setns(2) before it touches storage: layers it
unpacks land on the mapped host IDs, mounts it makes stay in the shared mount namespace, and
conmon and the OCI runtime it starts run inside it.

A pause pid that is dead, or now another program (reboot, kill), is replaced by a new pause
process: that is the refresh-after-reboot path. setns into a user namespace needs a
single-threaded process (the kernel refuses otherwise); module processes are.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from ..base.errors import EngineError
from ..parse.idmap import IDMap
from .libc import errno_error, libc
from .proc import argv
from .subids import user_subids

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
PAUSE_CANDIDATES = ("/usr/libexec/podman/catatonit", "/usr/bin/catatonit", "/usr/local/bin/catatonit")
PAUSE_NAME = "catatonit"


class UserNamespaceError(EngineError):
    """The rootless user namespace cannot be created or joined."""

    kind = "rootless_userns"


@dataclass
class Joined:
    """What joining did: the pause pid, whether it was created now, the mappings in force."""

    pause_pid: int
    created: bool
    uid_map: List[Tuple[int, int, int]]
    gid_map: List[Tuple[int, int, int]]


def map_args(pid: int, own_id: int, ranges: Sequence[IDMap]) -> List[str]:
    """newuidmap/newgidmap arguments after the program: own id at 0, the subordinate ranges from 1."""
    args = [str(pid), "0", str(own_id), "1"]
    for r in ranges:
        args += [str(r.container_id + 1), str(r.host_id), str(r.size)]
    return args


def parse_map_text(text: str) -> List[Tuple[int, int, int]]:
    """/proc/PID/uid_map (or gid_map) as (inside, outside, count) triples."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            out.append((int(parts[0]), int(parts[1]), int(parts[2])))
    return out


def parse_pid_text(text: str) -> Optional[int]:
    """The pid of a pause.pid file, or None when it holds no positive number."""
    text = text.strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def find_pause_binary(candidates: Sequence[str] = PAUSE_CANDIDATES) -> str:
    for path in list(candidates) + [shutil.which(PAUSE_NAME) or ""]:
        if path and os.access(path, os.X_OK):
            return path
    raise UserNamespaceError("rootless: no catatonit found to keep the user namespace (looked in %s and $PATH)"
                             % ", ".join(candidates), hint="install catatonit (apt-get install catatonit)")


def _ns_link(pid: object, kind: str) -> str:
    try:
        return os.readlink("/proc/%s/ns/%s" % (pid, kind))
    except OSError:
        return ""


def read_pause_pid(pid_file: str) -> Optional[int]:
    try:
        with open(pid_file, encoding="ascii") as f:
            return parse_pid_text(f.read())
    except (OSError, UnicodeDecodeError):
        return None


def pause_alive(pid: int, host_uid: int) -> bool:
    """``pid`` is a pause process of this user in a user namespace other than ours (not a pid reused
    after a reboot by another program or user)."""
    try:
        st = os.stat("/proc/%d" % pid)
    except OSError:
        return False
    args = argv(pid)
    # inside our own namespace the user's processes show as uid 0 (host root's as the overflow uid)
    owners = {host_uid} | ({0} if os.geteuid() == 0 else set())
    if st.st_uid not in owners or len(args) < 2 or os.path.basename(args[0]) != PAUSE_NAME \
            or args[1] != "-P":  # not a container's catatonit init (that one runs with "--")
        return False
    return _ns_link(pid, "user") != ""  # a zombie (killed, not reaped) has no namespaces any more


def _run_map(tool: str, args: List[str]) -> None:
    exe = shutil.which(tool) or "/usr/bin/" + tool
    try:
        proc = subprocess.run([exe] + args, capture_output=True, text=True, check=False, timeout=30)
    except OSError as exc:
        raise UserNamespaceError("rootless: cannot run %s: %s" % (tool, exc.strerror),
                                 hint="install the uidmap package (newuidmap, newgidmap)") from None
    if proc.returncode != 0:
        raise UserNamespaceError("rootless: %s %s failed: %s" % (tool, " ".join(args), proc.stderr.strip()),
                                 hint="check the user's ranges in /etc/subuid and /etc/subgid and that %s is "
                                      "setuid root (or has cap_setuid/cap_setgid)" % exe)


def _child(ready_w: int, go_r: int, pause: str) -> None:  # pragma: no cover - runs in the forked child
    code = 1
    try:
        os.setsid()
        if libc().unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
            os.write(ready_w, b"E%d" % (errno_error("unshare").errno or 0))
            os._exit(2)
        os.write(ready_w, b"1")
        os.close(ready_w)
        if os.read(go_r, 1) != b"1":
            os._exit(3)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, 65536)
        os.execv(pause, [pause, "-P"])
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        pass
    os._exit(code)


def create_pause(pid_file: str, *, host_uid: int, host_gid: int, uids: Sequence[IDMap], gids: Sequence[IDMap],
                 pause: str) -> int:
    """Fork the pause process in a new user+mount namespace, map it, write its pid; return the pid."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(ready_r)
        os.close(go_w)
        _child(ready_w, go_r, pause)
    os.close(ready_w)
    os.close(go_r)
    try:
        msg = os.read(ready_r, 32)
        if msg != b"1":
            code = int(msg[1:] or b"0") if msg.startswith(b"E") else 0
            raise UserNamespaceError("rootless: cannot create a user namespace: %s" % (
                os.strerror(code) if code else "the child exited"),
                hint="check that unprivileged user namespaces are enabled (sysctl kernel.unprivileged_userns_clone=1, "
                     "user.max_user_namespaces > 0)")
        _run_map("newuidmap", map_args(pid, host_uid, uids))
        _run_map("newgidmap", map_args(pid, host_gid, gids))
        os.write(go_w, b"1")
    except BaseException:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(ready_r)
        os.close(go_w)
    tmp = "%s.%d.tmp" % (pid_file, os.getpid())
    with open(tmp, "w", encoding="ascii") as f:
        f.write("%d" % pid)
    os.rename(tmp, pid_file)
    return pid


def join(pid: int) -> None:
    """setns into the user, then the mount namespace of ``pid`` (the cwd is kept when it still exists)."""
    if threading.active_count() > 1:
        raise UserNamespaceError("rootless: cannot join the user namespace from a multi-threaded process",
                                 hint="report this as a bug of libpod.engine")
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = "/"
    fds = []
    try:
        for kind in ("user", "mnt"):
            fds.append(os.open("/proc/%d/ns/%s" % (pid, kind), os.O_RDONLY | os.O_CLOEXEC))
        for fd, flag, kind in zip(fds, (CLONE_NEWUSER, CLONE_NEWNS), ("user", "mnt")):
            if libc().setns(fd, flag) != 0:
                raise errno_error("setns(%s namespace of pause process %d)" % (kind, pid))
    except OSError as exc:
        raise UserNamespaceError("rootless: cannot join the namespaces of pause process %d: %s" % (pid, exc),
                                 hint="remove the pause.pid file (a new pause process is made)") from None
    finally:
        for fd in fds:
            os.close(fd)
    try:
        os.chdir(cwd)
    except OSError:
        os.chdir("/")


def in_joined_namespace(pid: int) -> bool:
    return _ns_link("self", "user") == _ns_link(pid, "user") != ""


def ensure(pid_file: str, host_uid: int, host_gid: int, create: bool = True) -> Optional[Joined]:
    """Join the user's pause process (made first when missing or dead). None when ``create`` is False
    and there is no live pause process (check mode / read-only: nothing is created)."""
    lock_fd = -1
    if create:
        os.makedirs(os.path.dirname(pid_file), mode=0o700, exist_ok=True)
        lock_fd = os.open(pid_file + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
    try:
        pid = read_pause_pid(pid_file)
        created = False
        if pid is None or not pause_alive(pid, host_uid):
            if not create:
                return None
            uids, gids = user_subids(host_uid)  # NoSubordinateIDs names /etc/subuid and usermod
            pid = create_pause(pid_file, host_uid=host_uid, host_gid=host_gid, uids=uids, gids=gids,
                               pause=find_pause_binary())
            created = True
        if not in_joined_namespace(pid):
            join(pid)
    finally:
        if lock_fd >= 0:
            os.close(lock_fd)
    return Joined(pause_pid=pid, created=created, uid_map=current_map("uid"), gid_map=current_map("gid"))


def current_map(kind: str) -> List[Tuple[int, int, int]]:
    try:
        with open("/proc/self/%s_map" % kind, encoding="ascii") as f:
            return parse_map_text(f.read())
    except OSError:
        return []


def stop_pause_pid(pid: int, host_uid: int) -> bool:
    """Kill the pause process (system reset, as podman's stopPauseProcess); True when one was killed.
    The resetting process itself stays in the namespace until it exits."""
    if not pause_alive(pid, host_uid):
        return False
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        return False
    return True
