# SPDX-License-Identifier: GPL-3.0-or-later
"""Container root filesystems: overlay over the image's layer dirs, or a vfs copy.

Layout per container: ``<graph_root>/containers/<id>/{upper,work,merged}``. ``userdata/``
is also under ``<id>`` but belongs to the container layer (the OCI bundle), so
``unmount`` never touches it; only ``remove`` deletes the whole ``<id>`` directory.

* overlay: ``mount(2)`` through ctypes (0.2 ms, against 4 ms for ``mount(8)``). If the
  option string would not fit in one page (deep images, odd characters in paths), the
  new mount API is used instead (fsopen, one ``fsconfig("lowerdir+")`` per layer,
  fsmount, move_mount). This needs kernel 6.8 or newer. Or through fuse-overlayfs, when
  ``[storage] mount_program`` names it or the kernel refuses native overlay (fuseoverlay.py);
  the program is recorded in ``<id>/mount_program`` at create.
* vfs: ``merged`` is a full copy of the layers applied in order, with overlay whiteouts
  and opaque dirs applied. There is no mount, so it works anywhere, but it is slow and
  uses a lot of disk. It is used when no overlay (native or FUSE) can mount on the graph
  root's filesystem and the driver was left to the engine, or when it is asked for by name.

Whether something is mounted is read from ``/proc/self/mountinfo``, never from the DB.
"""
from __future__ import annotations

import ctypes
import errno
import os
import re
import resource
import shutil
import stat
from typing import Dict, List, Optional, Sequence, Tuple

from ..base.errors import InvalidArg, StorageError
from ..host.files import write_atomic
from ..host.libc import errno_error, libc
from ..host.mounts import MNT_DETACH, is_mount_point, mount_points
from ..host.roots import read_json, write_json
from . import fuseoverlay
from .layers import OPAQUE_XATTR, rmtree

DRIVERS = ("overlay", "vfs")
_ID_RE = re.compile(r"^[0-9a-f]{64}\Z")

# new mount API (same syscall numbers on every architecture since 5.2)
SYS_MOVE_MOUNT, SYS_FSOPEN, SYS_FSCONFIG, SYS_FSMOUNT = 429, 430, 431, 432
FSOPEN_CLOEXEC = 0x1
FSMOUNT_CLOEXEC = 0x1
FSCONFIG_SET_FLAG, FSCONFIG_SET_STRING, FSCONFIG_CMD_CREATE = 0, 1, 6
MOVE_MOUNT_F_EMPTY_PATH = 0x4
AT_FDCWD = -100

_overlay_support: Dict[str, Tuple[bool, str]] = {}
#: the native overlay verdict of a root, in its run root (as containers/storage caches its check there:
#: probed again after a reboot, which may bring another kernel)
PROBE_CACHE = "overlay-native.json"
MOUNT_PROGRAM_FILE = "mount_program"


# -- mount primitives --------------------------------------------------------------------------
def _escape_opt(path: str) -> str:
    return path.replace("\\", "\\\\").replace(":", "\\:").replace(",", "\\,")


def overlay_options(lowers: Sequence[str], upper: str, work: str, extra: Sequence[str] = ()) -> str:
    """The legacy mount(2) data string; ``lowers`` top-most first (overlay's order)."""
    opts = ["lowerdir=" + ":".join(_escape_opt(p) for p in lowers), "upperdir=" + _escape_opt(upper),
            "workdir=" + _escape_opt(work)]
    return ",".join(opts + list(extra))


def _mount_legacy(target: str, data: str) -> None:
    if libc().mount(b"overlay", target.encode(), b"overlay", 0, data.encode()) != 0:
        raise errno_error("mount overlay on %s" % target)


def _fs_messages(fd: int) -> str:
    """Messages the kernel queued on an fs context fd (why fsconfig/CMD_CREATE failed)."""
    msgs = []
    for _i in range(16):
        try:
            data = os.read(fd, 1024)
        except OSError:
            break
        if not data:
            break
        msgs.append(data.decode(errors="replace").strip())
    return "; ".join(msgs)


def _mount_newapi(target: str, lowers: Sequence[str], upper: str, work: str, extra: Sequence[str] = ()) -> None:
    """overlay through fsopen/fsconfig/fsmount/move_mount: no page-size limit on layers."""
    lib = libc()
    fsfd = lib.syscall(ctypes.c_long(SYS_FSOPEN), ctypes.c_char_p(b"overlay"), ctypes.c_uint(FSOPEN_CLOEXEC))
    if fsfd < 0:
        raise errno_error("fsopen(overlay)")

    def cfg(cmd: int, key: Optional[str], value: Optional[str]) -> None:
        r = lib.syscall(ctypes.c_long(SYS_FSCONFIG), ctypes.c_int(fsfd), ctypes.c_uint(cmd),
                        ctypes.c_char_p(key.encode() if key else None),
                        ctypes.c_char_p(value.encode() if value is not None else None), ctypes.c_int(0))
        if r < 0:
            err = errno_error("fsconfig(%s=%s)" % (key, value) if key else "fsconfig(create)")
            detail = _fs_messages(fsfd)
            if detail:
                err = OSError(err.errno, "%s [%s]" % (err.strerror, detail))
            raise err

    try:
        for d in lowers:
            cfg(FSCONFIG_SET_STRING, "lowerdir+", d)  # taken literally
        # upperdir/workdir are still unescaped by overlay ("\x" -> "x"), even via fsconfig
        cfg(FSCONFIG_SET_STRING, "upperdir", upper.replace("\\", "\\\\"))
        cfg(FSCONFIG_SET_STRING, "workdir", work.replace("\\", "\\\\"))
        for opt in extra:
            key, sep, value = opt.partition("=")
            if sep:
                cfg(FSCONFIG_SET_STRING, key, value)
            else:
                cfg(FSCONFIG_SET_FLAG, key, None)
        cfg(FSCONFIG_CMD_CREATE, None, None)
        mfd = lib.syscall(ctypes.c_long(SYS_FSMOUNT), ctypes.c_int(fsfd), ctypes.c_uint(FSMOUNT_CLOEXEC),
                          ctypes.c_uint(0))
        if mfd < 0:
            raise errno_error("fsmount(overlay)")
        try:
            r = lib.syscall(ctypes.c_long(SYS_MOVE_MOUNT), ctypes.c_int(mfd), ctypes.c_char_p(b""),
                            ctypes.c_int(AT_FDCWD), ctypes.c_char_p(target.encode()),
                            ctypes.c_uint(MOVE_MOUNT_F_EMPTY_PATH))
            if r < 0:
                raise errno_error("move_mount to %s" % target)
        finally:
            os.close(mfd)
    finally:
        os.close(fsfd)


def mount_overlay(target: str, lowers: Sequence[str], upper: str, work: str, extra: Sequence[str] = ()) -> str:
    """Mount overlay on ``target``; returns "mount" or "newapi" (which path was used)."""
    data = overlay_options(lowers, upper, work, extra)
    plain = not any(c in p for p in (*lowers, upper, work) for c in ":,\\")
    if plain and len(data.encode()) < resource.getpagesize() - 1:
        _mount_legacy(target, data)
        return "mount"
    _mount_newapi(target, lowers, upper, work, extra)
    return "newapi"


def unmount_path(path: str) -> None:
    """Unmount every mount stacked on ``path``; lazy detach if busy; not mounted is fine."""
    lib = libc()
    for _i in range(32):
        if not is_mount_point(path):
            return
        if lib.umount2(path.encode(), 0) == 0:
            continue
        e = ctypes.get_errno()
        if e in (errno.EINVAL, errno.ENOENT):
            return
        if e == errno.EBUSY and lib.umount2(path.encode(), MNT_DETACH) == 0:
            continue
        raise StorageError("cannot unmount %s: %s" % (path, os.strerror(e)),
                           hint="a process may still use the container's root filesystem")
    raise StorageError("cannot unmount %s: still mounted after 32 attempts" % path)


def known_overlay_support(graph_root: str, cache_dir: str = "") -> Optional[Tuple[bool, str]]:
    """The native overlay verdict of this process or of the root's cache, without probing (None: unknown)."""
    key = os.path.realpath(graph_root)
    if key in _overlay_support:
        return _overlay_support[key]
    doc = read_json(os.path.join(cache_dir, PROBE_CACHE)) if cache_dir else None
    if doc and doc.get("graph_root") == key and isinstance(doc.get("native"), bool):
        _overlay_support[key] = (doc["native"], str(doc.get("reason") or ""))
        return _overlay_support[key]
    return None


def overlay_supported(graph_root: str, cache_dir: str = "") -> Tuple[bool, str]:
    """Probe-mount overlay on the graph root's filesystem once per process, and once per root when
    ``cache_dir`` (the run root) keeps the verdict (as c/storage)."""
    known = known_overlay_support(graph_root, cache_dir)
    if known is not None:
        return known
    key = os.path.realpath(graph_root)
    cache = os.path.join(cache_dir, PROBE_CACHE) if cache_dir else ""
    result: Tuple[bool, str] = (True, "")
    probe = os.path.join(graph_root, ".overlay-probe-%d" % os.getpid())
    try:
        os.makedirs(graph_root, mode=0o700, exist_ok=True)
        for d in ("lower", "upper", "work", "merged"):
            os.makedirs(os.path.join(probe, d), exist_ok=True)
        try:
            _mount_legacy(os.path.join(probe, "merged"), overlay_options(
                [os.path.join(probe, "lower")], os.path.join(probe, "upper"), os.path.join(probe, "work")))
        except OSError as e:
            result = (False, "overlay cannot mount on %s: %s" % (graph_root, e.strerror))
        else:
            unmount_path(os.path.join(probe, "merged"))
    except OSError as e:
        result = (False, "overlay probe in %s failed: %s" % (graph_root, e))
    finally:
        if not is_mount_point(os.path.join(probe, "merged")):
            rmtree(probe)
    _overlay_support[key] = result
    if cache:
        try:
            os.makedirs(cache_dir, mode=0o700, exist_ok=True)
            write_json(cache, {"graph_root": key, "native": result[0], "reason": result[1]}, mode=0o600)
        except OSError:
            pass  # probed again next time
    return result


# -- vfs ---------------------------------------------------------------------------------------
def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _copy_meta(src: str, dst: str, st: os.stat_result, is_root: bool) -> None:
    if is_root:
        os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(dst, stat.S_IMODE(st.st_mode))
        try:
            for name in os.listxattr(src, follow_symlinks=False):
                if not name.startswith("trusted.overlay."):
                    os.setxattr(dst, name, os.getxattr(src, name, follow_symlinks=False), follow_symlinks=False)
        except OSError as e:
            if e.errno not in (errno.ENOTSUP, errno.EPERM):
                raise
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _clear_dir(path: str) -> None:
    for name in os.listdir(path):
        p = os.path.join(path, name)
        if os.path.isdir(p) and not os.path.islink(p):
            rmtree(p)
        else:
            os.unlink(p)


def apply_diff(src: str, dst: str, is_root: Optional[bool] = None) -> None:
    """Apply one overlay-format layer dir onto a vfs tree (whiteouts delete, opaque clears).

    Everything is lstat-based: a symlink in ``dst`` is replaced, never followed.
    """
    if is_root is None:
        is_root = os.geteuid() == 0
    links: Dict[Tuple[int, int], str] = {}
    dirs: List[Tuple[str, str, os.stat_result]] = []

    def walk(s: str, d: str) -> None:
        for entry in sorted(os.scandir(s), key=lambda e: e.name):
            sp, dp = entry.path, os.path.join(d, entry.name)
            st = entry.stat(follow_symlinks=False)
            try:
                dst_st: Optional[os.stat_result] = os.lstat(dp)
            except FileNotFoundError:
                dst_st = None
            if _is_whiteout(st):
                if dst_st is not None:
                    rmtree(dp)
                continue
            if stat.S_ISDIR(st.st_mode):
                if dst_st is not None and not stat.S_ISDIR(dst_st.st_mode):
                    os.unlink(dp)
                    dst_st = None
                if dst_st is None:
                    os.mkdir(dp, 0o700)
                else:
                    try:
                        opaque = os.getxattr(sp, OPAQUE_XATTR, follow_symlinks=False) == b"y"
                    except OSError:
                        opaque = False
                    if opaque:
                        _clear_dir(dp)
                walk(sp, dp)
                dirs.append((sp, dp, st))
                continue
            if dst_st is not None:
                rmtree(dp)
            if st.st_nlink > 1 and not stat.S_ISLNK(st.st_mode):
                first = links.get((st.st_dev, st.st_ino))
                if first is not None and os.path.lexists(first):
                    os.link(first, dp, follow_symlinks=False)
                    continue
                links[(st.st_dev, st.st_ino)] = dp
            if stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(sp), dp)
            elif stat.S_ISREG(st.st_mode):
                shutil.copyfile(sp, dp, follow_symlinks=False)
            elif stat.S_ISFIFO(st.st_mode):
                os.mkfifo(dp, stat.S_IMODE(st.st_mode))
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                os.mknod(dp, st.st_mode, st.st_rdev)
            else:
                continue  # sockets: not part of an image
            _copy_meta(sp, dp, st, is_root)

    walk(src, dst)
    for sp, dp, st in dirs:  # children first: their writes changed the parents' mtimes
        _copy_meta(sp, dp, st, is_root)


# -- the store ---------------------------------------------------------------------------------
class RootfsStore:
    """Per-container root filesystems under ``<graph_root>/containers``."""

    def __init__(self, graph_root: str, driver: str = "overlay", mount_options: Sequence[str] = (), *,
                 run_root: str = "", mount_program: str = "", strict: bool = False):
        """``run_root``: where the native overlay verdict is cached; ``mount_program``: a FUSE program
        that replaces native overlay ([storage] mount_program); ``strict``: overlay was asked for by
        name, so no overlay at all is an error instead of a vfs fallback."""
        if driver not in DRIVERS:
            raise InvalidArg("unknown graph driver %r" % driver, hint="use one of: %s" % ", ".join(DRIVERS))
        self.graph_root = os.path.abspath(graph_root)
        self.requested_driver = driver
        self.mount_options = list(mount_options)
        self.run_root = run_root
        self.mount_program = mount_program
        self.strict = strict
        self._driver: Optional[str] = None
        self._overlay: Optional[fuseoverlay.OverlayChoice] = None
        self.fallback_reason = ""

    @property
    def overlay(self) -> fuseoverlay.OverlayChoice:
        """Which overlay this root mounts new containers with (fuseoverlay.choose)."""
        if self._overlay is None:
            self._overlay = fuseoverlay.choose(self.mount_program,
                                               lambda: overlay_supported(self.graph_root, self.run_root))
        return self._overlay

    def known_overlay(self) -> Optional[fuseoverlay.OverlayChoice]:
        """The overlay choice when it is known without a probe mount (read-only callers), else None."""
        if self.requested_driver == "vfs":
            return fuseoverlay.OverlayChoice("", reason="[storage] graph_driver is vfs")
        if self._overlay is not None or self.mount_program:
            return self.overlay
        known = known_overlay_support(self.graph_root, self.run_root)
        return None if known is None else fuseoverlay.choose("", lambda: known)

    @property
    def overlay_kind(self) -> str:
        """native, fuse-overlayfs, or "" for a vfs root."""
        return self.overlay.kind if self.driver == "overlay" else ""

    @property
    def driver(self) -> str:
        """overlay if asked for and native overlay or fuse-overlayfs can mount, else vfs."""
        if self._driver is None:
            if self.requested_driver == "vfs":
                self._driver = "vfs"
            elif self.overlay.kind:
                self._driver = "overlay"
            elif self.strict:
                raise StorageError("graph driver overlay cannot be used: %s" % self.overlay.reason,
                                   hint=fuseoverlay.FIX)
            else:
                self._driver = "vfs"
                self.fallback_reason = "%s (to use overlay: %s)" % (self.overlay.reason, fuseoverlay.FIX)
        return self._driver

    # -- paths ----------------------------------------------------------------------------
    def container_dir(self, ctr_id: str) -> str:
        if not isinstance(ctr_id, str) or not _ID_RE.fullmatch(ctr_id):
            raise InvalidArg("invalid container ID %r for storage" % (ctr_id,),
                             hint="container IDs are 64 lowercase hex characters")
        return os.path.join(self.graph_root, "containers", ctr_id)

    def merged_dir(self, ctr_id: str) -> str:
        return os.path.join(self.container_dir(ctr_id), "merged")

    def _driver_of(self, ctr_id: str) -> str:
        """The driver a container was created with (recorded at create)."""
        try:
            with open(os.path.join(self.container_dir(ctr_id), "driver")) as f:
                name = f.read().strip()
            if name in DRIVERS:
                return name
        except FileNotFoundError:
            pass
        return self.driver

    @staticmethod
    def _check_layers(layer_dirs: Sequence[str]) -> List[str]:
        out = []
        for d in layer_dirs:
            if not os.path.isabs(d) or not os.path.isdir(d):
                raise StorageError("image layer directory %s is missing" % d,
                                   hint="pull the image again (its layers were removed)")
            out.append(d)
        return out

    # -- lifecycle ------------------------------------------------------------------------
    def create(self, ctr_id: str, layer_dirs: Sequence[str]) -> str:
        """Create the container's dirs (vfs: also the full copy); returns ``<id>``'s dir."""
        cdir = self.container_dir(ctr_id)
        layers = self._check_layers(layer_dirs)
        os.makedirs(os.path.join(self.graph_root, "containers"), mode=0o700, exist_ok=True)
        os.makedirs(cdir, mode=0o700, exist_ok=True)
        driver_file = os.path.join(cdir, "driver")
        if not os.path.exists(driver_file):
            if self.driver == "overlay" and self.overlay.kind == fuseoverlay.FUSE:
                write_atomic(os.path.join(cdir, MOUNT_PROGRAM_FILE), self.overlay.program + "\n")
            write_atomic(driver_file, self.driver + "\n")
        driver = self._driver_of(ctr_id)
        if driver == "overlay":
            for d in ("upper", "work", "merged"):
                os.makedirs(os.path.join(cdir, d), mode=0o755, exist_ok=True)
            if not layers:
                os.makedirs(os.path.join(cdir, "empty"), mode=0o755, exist_ok=True)
            return cdir
        merged = os.path.join(cdir, "merged")
        if not os.path.isdir(merged):
            tmp = os.path.join(cdir, "merged.tmp")
            rmtree(tmp)
            os.mkdir(tmp, 0o755)
            try:
                for d in layers:
                    apply_diff(d, tmp)
            except OSError as e:
                rmtree(tmp)
                raise StorageError("cannot build vfs root filesystem for container %s: %s" % (ctr_id[:12], e),
                                   hint="check free space on the graph root")
            os.rename(tmp, merged)
        return cdir

    def mount(self, ctr_id: str, layer_dirs: Sequence[str]) -> str:
        """Mount (or, for vfs, build) the rootfs; returns the merged path. Idempotent."""
        cdir = self.create(ctr_id, layer_dirs)
        merged = os.path.join(cdir, "merged")
        if self._driver_of(ctr_id) == "vfs" or is_mount_point(merged):
            return merged
        lowers = list(reversed(self._check_layers(layer_dirs))) or [os.path.join(cdir, "empty")]
        program = self.mount_program_of(ctr_id)
        if program:
            fuseoverlay.mount(program, merged, overlay_options(lowers, os.path.join(cdir, "upper"),
                                                               os.path.join(cdir, "work"), self.mount_options))
            return merged
        try:
            mount_overlay(merged, lowers, os.path.join(cdir, "upper"), os.path.join(cdir, "work"),
                          self.mount_options)
        except OSError as e:
            hint = "check that overlay works on %s" % self.graph_root
            if e.errno == errno.EINVAL and len(lowers) > 1:
                hint += "; images this deep need kernel >= 6.8 (fsconfig lowerdir+)"
            raise StorageError("cannot mount overlay root filesystem for container %s (%d layers) on %s: %s"
                               % (ctr_id[:12], len(lowers), merged, e.strerror or e), hint=hint)
        return merged

    def mount_program_of(self, ctr_id: str) -> str:
        """The FUSE program an overlay container was created with ("" = native overlay)."""
        try:
            with open(os.path.join(self.container_dir(ctr_id), MOUNT_PROGRAM_FILE)) as f:
                return f.read().strip()
        except FileNotFoundError:
            return ""

    def unmount(self, ctr_id: str) -> None:
        """Unmount the rootfs (lazy detach when busy); a no-op when not mounted or vfs."""
        merged = self.merged_dir(ctr_id)
        if os.path.isdir(merged) or os.path.islink(merged):
            unmount_path(merged)

    def mounted(self, ctr_id: str) -> bool:
        merged = self.merged_dir(ctr_id)
        if not os.path.isdir(merged):
            return False
        if self._driver_of(ctr_id) == "vfs":
            return True
        return is_mount_point(merged)

    def remove(self, ctr_id: str) -> None:
        """Unmount and delete ``<graph_root>/containers/<id>`` entirely (userdata too)."""
        cdir = self.container_dir(ctr_id)
        if not os.path.lexists(cdir):
            return
        self.unmount(ctr_id)
        if mount_points(os.path.realpath(cdir)):
            raise StorageError("container %s still has mounts below %s" % (ctr_id[:12], cdir),
                               hint="unmount them (e.g. volumes) before removing the container")
        rmtree(cdir)

    def list(self) -> List[str]:
        """Container IDs that have a storage directory."""
        base = os.path.join(self.graph_root, "containers")
        try:
            return sorted(n for n in os.listdir(base) if _ID_RE.fullmatch(n))
        except FileNotFoundError:
            return []
