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
import errno
import os
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..base.errors import EngineError
from ..parse.values import CPU_PERIOD
from .libc import libc
from .mounts import CLONE_NEWNS, MNT_DETACH, MOUNTINFO, MS_REC, MS_SLAVE, mount_table

DEFAULT_ROOT = "/sys/fs/cgroup"


def _mounts(mountinfo: str = MOUNTINFO) -> List[Tuple[str, str]]:
    """(mount point, fs type) for every mount of this process, in mount order."""
    try:
        return [(e.point, e.fstype) for e in mount_table(mountinfo)]
    except OSError:
        return []


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


def cgroup_mounts(mountinfo: str = MOUNTINFO) -> List[str]:
    """Mount points of every cgroup hierarchy (each v1 one, and the unified one)."""
    return [m for m, t in _mounts(mountinfo) if t in ("cgroup", "cgroup2")]


def remove_cgroup(cgroup: str, *, mountinfo: str = MOUNTINFO) -> List[str]:
    """rmdir ``cgroup`` (a cgroupfs path such as /libpod-engine/libpod-<id>) and its empty children in
    every hierarchy; returns the dirs that stay (a cgroup with processes cannot be removed).

    Only rmdir: a cgroup that still has tasks or children in use is never touched.
    """
    rel = cgroup.strip("/")
    if not rel or ".." in rel.split("/") or ":" in rel:  # ":" = systemd slice notation, not a path
        return []
    left = []
    for mnt in cgroup_mounts(mountinfo):
        path = os.path.join(mnt, rel)
        if not os.path.isdir(path) or os.path.islink(path):
            continue
        for dirpath, dirnames, _files in os.walk(path, topdown=False):
            for d in dirnames:
                try:
                    os.rmdir(os.path.join(dirpath, d))
                except OSError:
                    pass
        try:
            os.rmdir(path)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                left.append(path)
    return left


def swap_accounting(root: str = DEFAULT_ROOT) -> bool:
    """True when the memory controller limits memory+swap (always on v2; v1 needs memsw files)."""
    if os.path.exists(os.path.join(root, "cgroup.controllers")):
        return True
    return os.path.exists(os.path.join(root, "memory", "memory.memsw.limit_in_bytes"))


# --- the private mount namespace ------------------------------------------------------

def private_cgroup_mount_ns(root: str = DEFAULT_ROOT) -> Callable[[], None]:
    """Return a ``preexec_fn`` that moves the child into a mount namespace without
    ``<root>/unified``.

    The child calls unshare(CLONE_NEWNS), makes "/" recursively slave (so nothing it
    unmounts propagates back to the host, while host mounts still flow in), then detaches
    the unified mount. The host keeps its mounts. libc is resolved here, before fork,
    so the child does no dlopen. Raises OSError in the child (subprocess turns it into a
    SubprocessError in the parent).
    """
    lib = libc()
    unified = os.path.join(root, "unified").encode()

    def preexec() -> None:
        if lib.unshare(CLONE_NEWNS) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "unshare(CLONE_NEWNS): " + os.strerror(e))
        if lib.mount(None, b"/", None, MS_REC | MS_SLAVE, None) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "mount --make-rslave /: " + os.strerror(e))
        if lib.umount2(unified, MNT_DETACH) != 0:
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
                lib = libc()
                if lib.setns(fd, CLONE_NEWNS) != 0:
                    e = ctypes.get_errno()
                    raise OSError(e, "setns(%s): %s" % (ns_id, os.strerror(e)))
        finally:
            os.close(fd)
        # setns keeps the old cwd/root pointing into the other namespace: re-anchor them
        os.chdir("/")
        return True
    raise OSError(2, "no process is in mount namespace %s" % ns_id)


# -- pod cgroups (cgroupfs): where a pod's limits live ----------------------------------------
def _write(path: str, value: str) -> None:
    try:
        with open(path, "w") as f:
            f.write(value)
    except OSError as exc:
        raise EngineError("cannot write %s to %s: %s" % (value, path, exc.strerror or exc),
                          hint="check the limit against the pod's current use and the host's cgroups")


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return ""


def _v2_weight(shares: int) -> int:
    """cgroup v1 cpu.shares -> v2 cpu.weight (the conversion runc and crun use)."""
    return 1 + ((shares - 2) * 9999) // 262142


def _makedirs_v1(root: str, path: str) -> None:
    """mkdir -p of a v1 cgroup; a new cpuset dir starts empty, so it gets its parent's CPUs and nodes."""
    parent = os.path.dirname(path)
    if not os.path.isdir(parent) and parent.startswith(root.rstrip("/") + "/"):
        _makedirs_v1(root, parent)
    os.makedirs(path, exist_ok=True)
    for key in ("cpuset.cpus", "cpuset.mems"):
        mine = os.path.join(path, key)
        if os.path.exists(mine) and not _read(mine):
            _write(mine, _read(os.path.join(parent, key)))


#: OCI blockIO throttle keys -> (v1 file, v2 io.max key)
_THROTTLES = (("throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps"),
              ("throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps"),
              ("throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops"),
              ("throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops"))


def _throttle_writes_v1(path: str, block: Dict[str, Any]) -> List[Tuple[str, str]]:
    """The throttle lines to write: the wanted rates, and rate 0 (no limit) for devices no longer listed."""
    writes = []
    for key, name, _v2 in _THROTTLES:
        wanted = {"%d:%d" % (d["major"], d["minor"]): d["rate"] for d in block.get(key) or []}
        had = [ln.split()[0] for ln in _read(os.path.join(path, name)).splitlines() if ln.strip()]
        writes += [(name, "%s 0" % dev) for dev in had if dev not in wanted]
        writes += [(name, "%s %d" % (dev, rate)) for dev, rate in sorted(wanted.items())]
    return writes


def _io_max_v2(path: str, block: Dict[str, Any]) -> List[str]:
    """io.max lines: every device with a limit now or before (``max`` lifts one)."""
    devices: Dict[str, Dict[str, str]] = {}
    for line in _read(os.path.join(path, "io.max")).splitlines():
        if line.strip():
            devices[line.split()[0]] = {}
    for key, _v1, v2 in _THROTTLES:
        for d in block.get(key) or []:
            devices.setdefault("%d:%d" % (d["major"], d["minor"]), {})[v2] = str(d["rate"])
    return ["%s %s" % (dev, " ".join("%s=%s" % (k, limits.get(k, "max")) for _a, _b, k in _THROTTLES))
            for dev, limits in sorted(devices.items())]


def set_cgroup_resources(cgroup: str, resources: Dict[str, Any], root: str = DEFAULT_ROOT) -> List[str]:
    """Create the pod cgroup where limits go and write an OCI ``linux.resources`` payload into it
    (memory limit/swap, cpu quota/period/shares/cpus/mems; cgroupfs, v1 or v2); the dirs used.

    The payload comes from the one translation of the options (oci/resources.linux_resources), so
    a pod's limits mean what a container's mean. Without limits nothing is created (runc makes the
    parents it needs); a key left out of the payload is reset (-1 / max / 1024 / the parent's cpuset),
    so an existing cgroup whose limits were dropped gets them lifted.
    """
    rel = cgroup.strip("/")
    mem = resources.get("memory") or {}
    cpu = resources.get("cpu") or {}
    limit, swap = mem.get("limit") or -1, mem.get("swap") or -1
    quota, period = cpu.get("quota") or -1, cpu.get("period") or CPU_PERIOD
    shares = cpu.get("shares") or 1024
    block = resources.get("blockIO") or {}
    wanted = bool(mem or cpu or block)
    used: List[str] = []
    if cgroup_mode(root) == "v2":
        path = os.path.join(root, rel)
        if not wanted and not os.path.isdir(path):
            return used
        if not os.path.isdir(path):
            parts = rel.split("/")
            for i in range(len(parts)):
                parent = os.path.join(root, *parts[:i]) if i else root
                for ctl in ("+cpu", "+cpuset", "+memory", "+pids"):
                    try:
                        _write(os.path.join(parent, "cgroup.subtree_control"), ctl)
                    except EngineError:
                        pass
            os.makedirs(path, exist_ok=True)
        _write(os.path.join(path, "cpu.max"), "%s %d" % (quota if quota > 0 else "max", period))
        _write(os.path.join(path, "cpu.weight"), str(_v2_weight(shares)))
        _write(os.path.join(path, "memory.max"), str(limit) if limit > 0 else "max")
        if os.path.exists(os.path.join(path, "memory.swap.max")):
            over = swap - limit if swap > 0 and limit > 0 else -1
            _write(os.path.join(path, "memory.swap.max"), str(over) if over >= 0 else "max")
        for key in ("cpus", "mems"):
            if os.path.exists(os.path.join(path, "cpuset." + key)):
                _write(os.path.join(path, "cpuset." + key), str(cpu.get(key) or ""))
        for line in _io_max_v2(path, block):
            _write(os.path.join(path, "io.max"), line)
        return [path]
    targets: List[Tuple[str, Optional[List[Tuple[str, str]]]]] = []
    for ctl in v1_controllers(root):
        names = ctl.split(",")
        path = os.path.join(root, ctl, rel)
        if "memory" in names:
            writes = [("memory.limit_in_bytes", str(limit))]
            if os.path.exists(os.path.join(root, ctl, "memory.memsw.limit_in_bytes")):
                # memory <= memory+swap at every step: lift memsw, set memory, then memsw
                writes = [("memory.memsw.limit_in_bytes", "-1")] + writes + [("memory.memsw.limit_in_bytes", str(swap))]
            targets.append((path, writes))
        if "cpu" in names:
            targets.append((path, [("cpu.cfs_period_us", str(period)), ("cpu.cfs_quota_us", str(quota)),
                                   ("cpu.shares", str(shares))]))
        if "blkio" in names:
            targets.append((path, None))  # the throttles: computed against the files once the dir exists
        if "cpuset" in names:
            parent = os.path.dirname(path)
            targets.append((path, [("cpuset." + key, str(cpu.get(key) or _read(os.path.join(parent, "cpuset." + key))
                                                         or _read(os.path.join(root, ctl, "cpuset." + key))))
                                   for key in ("cpus", "mems")]))
    for path, writes in targets:
        if not os.path.isdir(path):
            if not wanted:
                continue
            _makedirs_v1(root, path)
        if writes is None:
            writes = _throttle_writes_v1(path, block)
        for name, value in writes:
            _write(os.path.join(path, name), value)
        if path not in used:
            used.append(path)
    return used
