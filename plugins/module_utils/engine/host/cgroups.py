# SPDX-License-Identifier: GPL-3.0-or-later
"""cgroup mode detection (v1 / v2 / hybrid) and the crun-on-hybrid workaround.

libpod asks ``cgroups.IsCgroup2UnifiedMode()``; we also need to know about *hybrid*
hosts (v1 controllers, cgroup2 mounted at ``/sys/fs/cgroup/unified``), because crun 1.x
reads ``unified/cgroup.controllers`` before it looks at the cgroup manager and refuses
to run anything when that file is not empty ("cgroups in hybrid mode not supported").
The fix is to run crun in a private mount namespace where the unified mount is gone:
see :func:`private_cgroup_mount_ns` (used by ``oci.OCIRuntime`` as a ``preexec_fn``).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
from typing import Callable, List, Optional, Tuple

CLONE_NEWNS = 0x00020000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MNT_DETACH = 2

DEFAULT_ROOT = "/sys/fs/cgroup"
MOUNTINFO = "/proc/self/mountinfo"


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as 3-digit octal (\\040)."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        code = field[i + 1 : i + 4]
        if field[i] == "\\" and len(code) == 3 and code.isdigit():
            out.append(chr(int(code, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _mounts(mountinfo: str = MOUNTINFO) -> List[Tuple[str, str]]:
    """(mount point, fs type) for every mount of this process, in mount order."""
    out = []
    try:
        with open(mountinfo) as f:
            for line in f:
                fields = line.split()
                if "-" in fields:
                    out.append((_unescape(fields[4]), fields[fields.index("-") + 1]))
    except OSError:
        pass
    return out


def _fs_type(path: str, mounts: Optional[List[Tuple[str, str]]] = None) -> Optional[str]:
    """The fs type of the topmost mount *at* ``path`` (None if it is not a mount point).

    Python has no statfs(2); the mount table gives the same answer for a mount point.
    """
    found = None
    for mnt, fstype in _mounts() if mounts is None else mounts:
        if mnt == path:
            found = fstype
    return found


def cgroup_mode(root: str = DEFAULT_ROOT, *, mountinfo: str = MOUNTINFO) -> str:
    """Return "v2" (unified), "hybrid" (v1 + cgroup2 at <root>/unified) or "v1".

    Like libpod's IsCgroup2UnifiedMode, a cgroup2 filesystem mounted at ``root`` means v2;
    anything else is v1, and v1 with a cgroup2 mount at ``<root>/unified`` is hybrid.
    """
    root = os.path.normpath(root)
    mounts = _mounts(mountinfo)
    if _fs_type(root, mounts) == "cgroup2":
        return "v2"
    if _fs_type(os.path.join(root, "unified"), mounts) == "cgroup2":
        return "hybrid"
    return "v1"


def unified_controllers(root: str = DEFAULT_ROOT, *, mountinfo: str = MOUNTINFO) -> List[str]:
    """Controllers listed in the cgroup2 hierarchy's cgroup.controllers (v2 or hybrid)."""
    mode = cgroup_mode(root, mountinfo=mountinfo)
    if mode == "v1":
        return []
    path = os.path.join(root, "unified" if mode == "hybrid" else "", "cgroup.controllers")
    try:
        with open(path) as f:
            return f.read().split()
    except OSError:
        return []


def crun_needs_private_mount_ns(root: str = DEFAULT_ROOT, *, mountinfo: str = MOUNTINFO) -> bool:
    """True on a hybrid host whose unified hierarchy has controllers: crun 1.8 refuses it."""
    return cgroup_mode(root, mountinfo=mountinfo) == "hybrid" and bool(
        unified_controllers(root, mountinfo=mountinfo)
    )


def v1_controllers(root: str = DEFAULT_ROOT, *, mountinfo: str = MOUNTINFO) -> List[str]:
    """Mounted v1 hierarchies under ``root`` (cpu, memory, pids, systemd...)."""
    root = os.path.normpath(root)
    return [os.path.basename(m) for m, t in _mounts(mountinfo) if t == "cgroup" and os.path.dirname(m) == root]


def swap_accounting(root: str = DEFAULT_ROOT) -> bool:
    """True when the memory controller limits memory+swap (always on v2; v1 needs memsw files)."""
    if os.path.exists(os.path.join(root, "cgroup.controllers")):
        return True
    return os.path.exists(os.path.join(root, "memory", "memory.memsw.limit_in_bytes"))


# --- the private mount namespace ------------------------------------------------------

_libc = None


def _get_libc():
    global _libc
    if _libc is None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.unshare.argtypes = [ctypes.c_int]
        libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
        libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
        _libc = libc
    return _libc


def private_cgroup_mount_ns(root: str = DEFAULT_ROOT) -> Callable[[], None]:
    """Return a ``preexec_fn`` that moves the child into a mount namespace without
    ``<root>/unified``.

    The child calls unshare(CLONE_NEWNS), makes "/" recursively slave (so nothing it
    unmounts propagates back to the host, while host mounts still flow in), then detaches
    the unified mount. The host keeps its mounts. libc is resolved here, before fork,
    so the child does no dlopen. Raises OSError in the child (subprocess turns it into a
    SubprocessError in the parent).
    """
    libc = _get_libc()
    unified = os.path.join(root, "unified").encode()

    def preexec() -> None:
        if libc.unshare(CLONE_NEWNS) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "unshare(CLONE_NEWNS): " + os.strerror(e))
        if libc.mount(None, b"/", None, MS_REC | MS_SLAVE, None) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "mount --make-rslave /: " + os.strerror(e))
        if libc.umount2(unified, MNT_DETACH) != 0:
            e = ctypes.get_errno()
            if e not in (errno.EINVAL, errno.ENOENT):  # not mounted / no such dir: nothing to hide
                raise OSError(e, "umount2(%s): %s" % (unified.decode(), os.strerror(e)))

    return preexec


def mount_ns_id(pid: str = "self") -> str:
    """The mount namespace of a process, e.g. ``mnt:[4026531841]``."""
    return os.readlink("/proc/%s/ns/mnt" % pid)


def enter_mount_ns_of(ns_id: str) -> bool:
    """setns() into the mount namespace ``ns_id`` (as from :func:`mount_ns_id`).

    Why: conmon, and therefore the exit command it runs, lives in the private namespace
    when crun needs one; the cleanup must unmount storage in the *host* namespace. The
    namespace is found through PID 1 first, else through any process that is in it.
    Returns False when already there; raises OSError when no process holds it.
    """
    if mount_ns_id() == ns_id:
        return False
    candidates = ["1"] + [p for p in os.listdir("/proc") if p.isdigit() and p != "1"]
    for pid in candidates:
        try:
            if mount_ns_id(pid) != ns_id:
                continue
            fd = os.open("/proc/%s/ns/mnt" % pid, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            if hasattr(os, "setns"):  # Python 3.12+
                os.setns(fd, CLONE_NEWNS)
            else:
                libc = _get_libc()
                libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
                if libc.setns(fd, CLONE_NEWNS) != 0:
                    e = ctypes.get_errno()
                    raise OSError(e, "setns(%s): %s" % (ns_id, os.strerror(e)))
        finally:
            os.close(fd)
        # setns keeps the old cwd/root pointing into the other namespace: re-anchor them
        os.chdir("/")
        return True
    raise OSError(2, "no process is in mount namespace %s" % ns_id)
