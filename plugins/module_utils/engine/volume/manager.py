# SPDX-License-Identifier: GPL-3.0-or-later
"""Named volumes, after libpod's volume.go, volume_internal.go and runtime_volume*.go.

A volume is a DB record (immutable config + mutable state, see state.py) plus, for
the ``local`` driver, the directory ``<volume_path>/<name>/_data``; other drivers are
Docker volume plugins (volume_plugin.py). Every state change happens under the
volume's numbered lock and inside a DB transaction, so module processes and conmon
exit commands running at the same time keep one correct mount count.

Ordering rules that keep a killed process harmless:
* create: directories first, record last (a crash leaves an orphan directory that the
  next create of that name adopts, never a record without data);
* remove: record first, then the directory is renamed away and deleted (a crash leaves
  a ``.trash-*`` directory that refresh/prune sweep);
* copy-up: a flag marks a copy in progress, so an interrupted copy is redone from an
  empty volume instead of leaving half the image content behind.
"""
from __future__ import annotations

import ctypes
import errno
import functools
import logging
import os
import re
import secrets
import shutil
import stat
import subprocess
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from ..base import faults
from ..base.errors import (
    EngineError,
    InvalidArg,
    NameInUse,
    NoSuchVolume,
    PluginNoSuchVolume,
    StorageError,
    VolumeInUse,
    VolumePluginError,
)
from ..host.libc import encode, libc
from ..host.mounts import (
    MNT_DETACH,
    MS_BIND,
    MS_DIRSYNC,
    MS_LAZYTIME,
    MS_MANDLOCK,
    MS_NOATIME,
    MS_NODEV,
    MS_NODIRATIME,
    MS_NOEXEC,
    MS_NOSUID,
    MS_NOSYMFOLLOW,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_RELATIME,
    MS_REMOUNT,
    MS_SHARED,
    MS_SLAVE,
    MS_STRICTATIME,
    MS_SYNCHRONOUS,
    MS_UNBINDABLE,
    UMOUNT_NOFOLLOW,
    is_mount_point,
    mount_points,
    mounts_under,
)
from ..host.paths import secure_join
from ..store.locks import LockManager
from ..store.state import Record, State, loads
from .plugin import DEFAULT_TIMEOUT, VolumePlugin

log = logging.getLogger(__name__)

LOCAL_DRIVER = "local"

#: podman's volume name rule (libpod define.NameRegex); fullmatch, so no trailing newline slips in.
NAME_PATTERN = r"[a-zA-Z0-9][a-zA-Z0-9_.-]*"
_NAME_RE = re.compile(NAME_PATTERN)
#: One path component (NAME_MAX); longer names could never become a directory.
NAME_MAX = 255

#: Option keys the local driver accepts (podman's list; size/inodes only with type=tmpfs here).
LOCAL_OPTIONS = ("copy", "device", "gid", "inodes", "noquota", "nocopy", "o", "size", "type", "uid")
_FLAG_OPTIONS = ("copy", "nocopy", "noquota")

_TRASH_PREFIX = ".trash-"


# o= entries that are mount flags: name -> (flag, set?)
_MOUNT_FLAGS: Dict[str, Tuple[int, bool]] = {
    "defaults": (0, True), "ro": (MS_RDONLY, True), "rw": (MS_RDONLY, False),
    "nosuid": (MS_NOSUID, True), "suid": (MS_NOSUID, False), "nodev": (MS_NODEV, True), "dev": (MS_NODEV, False),
    "noexec": (MS_NOEXEC, True), "exec": (MS_NOEXEC, False), "sync": (MS_SYNCHRONOUS, True),
    "async": (MS_SYNCHRONOUS, False), "dirsync": (MS_DIRSYNC, True), "mand": (MS_MANDLOCK, True),
    "nomand": (MS_MANDLOCK, False), "noatime": (MS_NOATIME, True), "atime": (MS_NOATIME, False),
    "nodiratime": (MS_NODIRATIME, True), "diratime": (MS_NODIRATIME, False), "relatime": (MS_RELATIME, True),
    "norelatime": (MS_RELATIME, False), "strictatime": (MS_STRICTATIME, True),
    "nostrictatime": (MS_STRICTATIME, False), "lazytime": (MS_LAZYTIME, True), "nolazytime": (MS_LAZYTIME, False),
    "nosymfollow": (MS_NOSYMFOLLOW, True), "symfollow": (MS_NOSYMFOLLOW, False),
}
_PROPAGATION = {
    "private": MS_PRIVATE, "rprivate": MS_PRIVATE | MS_REC, "shared": MS_SHARED, "rshared": MS_SHARED | MS_REC,
    "slave": MS_SLAVE, "rslave": MS_SLAVE | MS_REC, "unbindable": MS_UNBINDABLE,
    "runbindable": MS_UNBINDABLE | MS_REC,
}
# File systems whose mount needs a user-space helper (mount.nfs, mount.cifs, FUSE): run mount(8).
_HELPER_TYPES = ("nfs", "nfs4", "cifs", "smb3", "ceph", "glusterfs", "sshfs")
# File systems that take uid=/gid= as mount options (others get their root chowned instead).
_UIDGID_TYPES = ("tmpfs", "vfat", "msdos", "exfat", "ntfs", "ntfs3", "iso9660", "udf", "hfs", "hfsplus", "cifs",
                 "smb3", "devpts")

#: Filters accepted by list()/prune(): {"key": None (present) | "value"} or ["key", "key=value"]
LabelFilter = Union[Mapping[str, Optional[str]], Sequence[str], None]


# ------------------------------------------------------------------------------------------
# records
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VolumeConfig:
    """What was declared; never changes after create (stored as JSON in the DB)."""

    name: str
    driver: str = LOCAL_DRIVER
    labels: Dict[str, str] = field(default_factory=dict)
    options: Dict[str, str] = field(default_factory=dict)
    uid: Optional[int] = None
    gid: Optional[int] = None
    created_at: str = ""
    anonymous: bool = False
    lock_id: Optional[int] = None
    #: plugin call timeout in seconds (from o=timeout=); None = the manager's default
    timeout: Optional[float] = None
    #: the normalised spec a module declared (reconcile compares it with the next task's);
    #: None for volumes created without one (implicitly by a container, or by an older engine)
    declared: Optional[Dict[str, Any]] = None

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VolumeConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class VolumeState:
    """What changes while the volume is used; mount_count/mount_point reset at reboot."""

    mount_count: int = 0
    mount_point: str = ""
    needs_copy_up: bool = False
    needs_chown: bool = False
    copy_up_in_progress: bool = False
    #: one of mount_count is the user's (podman volume mount; the volume module's state: mounted)
    user_mounted: bool = False

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Optional[Mapping[str, Any]]) -> VolumeState:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


@dataclass
class Volume:
    """One volume as read from the DB (config + state)."""

    config: VolumeConfig
    state: VolumeState
    namespace: str = ""
    created: float = 0.0

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def driver(self) -> str:
        return self.config.driver

    @property
    def lock_id(self) -> Optional[int]:
        return self.config.lock_id

    @property
    def uses_plugin(self) -> bool:
        return self.config.driver != LOCAL_DRIVER

    def to_record(self) -> Record:
        return Record(id=self.name, name=self.name, namespace=self.namespace, lock_id=self.config.lock_id,
                      config=self.config.to_dict(), state=self.state.to_dict(), created=self.created)

    @classmethod
    def from_record(cls, rec: Record) -> Volume:
        cfg = dict(rec.config or {})
        cfg["lock_id"] = rec.lock_id  # the column is authoritative (renumber rewrites it)
        return cls(config=VolumeConfig.from_dict(cfg), state=VolumeState.from_dict(rec.state),
                   namespace=rec.namespace, created=rec.created)


@dataclass
class VolumeRemoval:
    """Result of remove(): the volume, the containers removed for it, non-fatal problems."""

    volume: str
    containers: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MountSpec:
    """How to mount a local volume with options, derived from its declared options."""

    fstype: Optional[str]
    source: str
    flags: int
    data: str
    bind: bool
    propagation: int = 0
    #: uid/gid to give the mounted root, for file systems without uid=/gid= options
    chown_root: Optional[Tuple[int, int]] = None
    #: o= as passed to mount(8) when a helper is needed
    helper_options: str = ""
    helper: bool = False


@dataclass(frozen=True)
class LocalPlan:
    """How a local volume is made: its owner, the copy-up choice and the mount to do."""

    uid: Optional[int]
    gid: Optional[int]
    nocopy: bool
    mount: Optional[MountSpec]


# ------------------------------------------------------------------------------------------
# validation and option parsing (pure functions)
# ------------------------------------------------------------------------------------------
def validate_name(name: Any) -> str:
    """Podman's name rule; it also guarantees the name is one safe path component."""
    if not isinstance(name, str) or not name:
        raise InvalidArg("volume parameter name must be a non-empty string, got %r" % (name,),
                         hint="use letters, digits, '_', '.', '-' and start with a letter or digit")
    if len(name) > NAME_MAX:
        raise InvalidArg("volume parameter name is %d characters long; at most %d are allowed (%s...)"
                         % (len(name), NAME_MAX, name[:32]), hint="choose a shorter name")
    if not _NAME_RE.fullmatch(name):
        raise InvalidArg("volume parameter name %r is invalid: it must match %s" % (name, NAME_PATTERN),
                         hint="use letters, digits, '_', '.', '-' and start with a letter or digit")
    return name


def _no_nul(vol: str, what: str, value: str) -> str:
    if "\x00" in value:
        raise InvalidArg('volume "%s": %s contains a NUL byte' % (vol, what), hint="remove it")
    return value


def normalize_options(vol: str, options: Union[Mapping[str, Any], Sequence[str], None]) -> Dict[str, str]:
    """Options as a dict of strings; also takes podman's ["key=value", "nocopy"] list form."""
    if not options:
        return {}
    out: Dict[str, str] = {}
    if isinstance(options, Mapping):
        items: Iterable[Tuple[Any, Any]] = options.items()
    elif isinstance(options, (list, tuple)):
        pairs = []
        for item in options:
            if not isinstance(item, str):
                raise InvalidArg('volume "%s": options entry %r is not a "key=value" string' % (vol, item))
            key, _unused, value = item.partition("=")
            if key in out or key in dict(pairs):
                raise InvalidArg('volume "%s": option "%s" is given twice' % (vol, key),
                                 hint="give it once (several mount options go into one o=, comma-separated)")
            pairs.append((key, value))
        items = pairs
    else:
        raise InvalidArg('volume "%s": options must be a dict or a list of "key=value", got %s'
                         % (vol, type(options).__name__))
    for raw_key, value in items:
        if not isinstance(raw_key, str) or not raw_key.strip():
            raise InvalidArg('volume "%s": option names must be non-empty strings, got %r' % (vol, raw_key))
        key = raw_key.strip()
        if value is False:
            continue  # nocopy: false == not given
        if value is None or value is True:
            text = ""
        elif isinstance(value, (str, int, float)):
            text = str(value)
        else:
            raise InvalidArg('volume "%s": option "%s" must be a string, got %s' % (vol, key, type(value).__name__))
        out[key] = _no_nul(vol, 'option "%s"' % key, text)
    return out


def normalize_labels(vol: str, labels: Optional[Mapping[str, Any]]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for key, value in (labels or {}).items():
        if not isinstance(key, str) or not key:
            raise InvalidArg('volume "%s": label names must be non-empty strings, got %r' % (vol, key))
        out[key] = _no_nul(vol, 'label "%s"' % key, "" if value is None else str(value))
    return out


def _parse_id(vol: str, what: str, value: str) -> int:
    try:
        num = int(value, 10)
    except ValueError:
        num = -1
    if not 0 <= num < 2**32 - 1:
        raise InvalidArg('volume "%s": option %s=%r is not a numeric ID' % (vol, what, value),
                         hint="give a number between 0 and 4294967294 (user names are not resolved)")
    return num


def _split_o(value: str) -> List[Tuple[str, Optional[str]]]:
    out = []
    for raw in value.split(","):
        item = raw.strip()
        if not item:
            continue
        key, sep, val = item.partition("=")
        out.append((key.strip().lower() if not sep else key.strip(), val if sep else None))
    return out


def _is_flag_set(vol: str, key: str, value: str) -> bool:
    if value.lower() in ("", "true", "yes", "1"):
        return True
    if value.lower() in ("false", "no", "0"):
        return False
    raise InvalidArg('volume "%s": option "%s" takes no value (got %r)' % (vol, key, value),
                     hint='give it as "%s" or "%s=true"' % (key, key))


def _may_chown(plan: LocalPlan) -> bool:
    """Whether first use may give the volume root an owner: not with uid/gid declared, and never
    for a bind volume (its device is the admin's host directory)."""
    return plan.uid is None and plan.gid is None and not (plan.mount is not None and plan.mount.bind)


def _is_bind(vol: Volume) -> bool:
    """A local volume whose device is a host directory (type=none / o=bind)."""
    if vol.uses_plugin:
        return False
    plan = plan_local(vol.name, vol.config.options)
    return plan.mount is not None and plan.mount.bind


def plan_local(vol: str, options: Mapping[str, str]) -> LocalPlan:
    """Validate local-driver options and derive owner, copy-up and mount (None = plain dir)."""
    unknown = sorted(k for k in options if k not in LOCAL_OPTIONS)
    if unknown:
        raise InvalidArg('volume "%s": option(s) %s not valid for the local driver; valid options: %s'
                         % (vol, ", ".join(unknown), ", ".join(LOCAL_OPTIONS)),
                         hint="remove them, or use a volume plugin driver that understands them")
    flags_given = {k: _is_flag_set(vol, k, options[k]) for k in _FLAG_OPTIONS if k in options}
    if flags_given.get("copy") and flags_given.get("nocopy"):
        raise InvalidArg('volume "%s": options copy and nocopy contradict each other' % vol, hint="give one")
    nocopy = flags_given.get("nocopy", False)

    fstype = options.get("type", "").strip()
    device = options.get("device", "").strip()
    uid = _parse_id(vol, "uid", options["uid"]) if "uid" in options else None
    gid = _parse_id(vol, "gid", options["gid"]) if "gid" in options else None
    size = options.get("size", "").strip() or None
    inodes = options.get("inodes", "").strip() or None

    flags, data, raw, propagation = 0, [], [], 0
    bind = fstype in ("none", "bind")
    rec = False
    for key, val in _split_o(options.get("o", "")):
        low = key.lower()
        if low in ("uid", "gid") and val is not None:
            num = _parse_id(vol, "o=%s" % low, val)
            declared = uid if low == "uid" else gid
            if declared is not None and declared != num:
                raise InvalidArg('volume "%s": %s=%d and o=%s=%d disagree' % (vol, low, declared, low, num),
                                 hint="give the owner once")
            if low == "uid":
                uid = num
            else:
                gid = num
            continue
        if low in ("size", "inodes", "nr_inodes", "nr_blocks") and val is not None and fstype != "tmpfs":
            raise InvalidArg('volume "%s": o=%s=%s needs a size-limited file system; XFS project quotas are not '
                             "supported by this engine" % (vol, key, val),
                             hint="use type=tmpfs device=tmpfs o=size=... (or a block device with type=ext4)")
        if low == "noquota" and val is None:
            continue
        if low == "timeout":
            raise InvalidArg('volume "%s": o=timeout= only applies to volume plugin drivers' % vol,
                             hint="remove it for the local driver")
        raw.append(key if val is None else "%s=%s" % (key, val))
        if val is None and low in _MOUNT_FLAGS:
            bit, on = _MOUNT_FLAGS[low]
            flags = (flags | bit) if on else (flags & ~bit)
        elif val is None and low in ("bind", "rbind"):
            bind = True
            rec = rec or low == "rbind"
        elif val is None and low in _PROPAGATION:
            propagation = _PROPAGATION[low]
        elif val is None and low in ("remount", "move"):
            raise InvalidArg('volume "%s": o=%s is not a volume mount option' % (vol, low), hint="remove it")
        else:
            data.append(key if val is None else "%s=%s" % (key, val))

    if (size or inodes) and fstype != "tmpfs":
        raise InvalidArg('volume "%s": option size/inodes needs XFS project quotas, which this engine does not '
                         "support" % vol, hint="for a size-limited volume use type=tmpfs device=tmpfs o=size=16m")

    if not fstype and not device and not bind:
        if raw:
            raise InvalidArg('volume "%s": mount options o=%s given without type= or device='
                             % (vol, ",".join(raw)),
                             hint="add type=tmpfs device=tmpfs, type=none device=/dir o=bind, or a device and "
                                  "its type")
        return LocalPlan(uid=uid, gid=gid, nocopy=nocopy, mount=None)

    if bind:
        if not device:
            raise InvalidArg('volume "%s": a bind volume (type=%s / o=bind) needs device=/host/directory'
                             % (vol, fstype or "none"), hint="add device=<absolute path of the host directory>")
        if not os.path.isabs(device):
            raise InvalidArg('volume "%s": option device=%s must be an absolute host path for a bind volume'
                             % (vol, device), hint="give the full path, e.g. device=/srv/data")
        if data:
            raise InvalidArg('volume "%s": o=%s has no effect on a bind volume' % (vol, ",".join(data)),
                             hint="a bind takes only flags: ro, nosuid, nodev, noexec, rbind, propagation")
        spec = MountSpec(fstype=None, source=os.path.normpath(device), flags=flags | MS_BIND | (MS_REC if rec else 0),
                         data="", bind=True, propagation=propagation, helper_options=",".join(raw))
        return LocalPlan(uid=uid, gid=gid, nocopy=nocopy, mount=spec)

    if not fstype:
        raise InvalidArg('volume "%s": option device=%s needs type= (the file system on it, e.g. type=ext4)'
                         % (vol, device), hint="add type=<file system>, or o=bind for a host directory")
    chown_root = None
    if fstype == "tmpfs":
        device = device or "tmpfs"
        if size:
            data.append("size=%s" % size)
        if inodes:
            data.append("nr_inodes=%s" % inodes)
    elif not device:
        raise InvalidArg('volume "%s": type=%s needs device= (the block device or share to mount)' % (vol, fstype),
                         hint="add device=/dev/..., or use type=tmpfs for a memory-backed volume")
    if uid is not None or gid is not None:
        if fstype in _UIDGID_TYPES:
            data += (["uid=%d" % uid] if uid is not None else []) + (["gid=%d" % gid] if gid is not None else [])
        else:
            chown_root = (-1 if uid is None else uid, -1 if gid is None else gid)
    helper = fstype in _HELPER_TYPES or fstype.startswith("fuse")
    spec = MountSpec(fstype=fstype, source=device, flags=flags, data=",".join(data), bind=False,
                     propagation=propagation, chown_root=chown_root, helper=helper,
                     helper_options=",".join(raw + [d for d in data if d not in raw]))
    return LocalPlan(uid=uid, gid=gid, nocopy=nocopy, mount=spec)


def plugin_options(vol: str, options: Mapping[str, str]) -> Tuple[Dict[str, str], Optional[float], bool]:
    """Options for a plugin volume: (Opts sent to the plugin, timeout, nocopy)."""
    opts = dict(options)
    timeout: Optional[float] = None
    nocopy = False
    for key in ("copy", "nocopy"):
        if key in opts:
            on = _is_flag_set(vol, key, opts.pop(key))
            nocopy = nocopy or (key == "nocopy" and on)
    if "o" in opts:
        kept = []
        for key, val in _split_o(opts["o"]):
            if key.lower() == "timeout" and val is not None:
                try:
                    timeout = float(val)
                except ValueError:
                    timeout = -1.0
                if not 0 < timeout <= 3600:
                    raise InvalidArg('volume "%s": o=timeout=%s is not a number of seconds in (0, 3600]'
                                     % (vol, val), hint="e.g. o=timeout=30")
                continue
            kept.append(key if val is None else "%s=%s" % (key, val))
        if kept:
            opts["o"] = ",".join(kept)
        else:
            del opts["o"]
    return opts, timeout, nocopy


def _label_filter(labels: LabelFilter) -> Dict[str, Optional[str]]:
    if labels is None:
        return {}
    if isinstance(labels, Mapping):
        return {str(k): (None if v is None else str(v)) for k, v in labels.items()}
    out: Dict[str, Optional[str]] = {}
    for item in labels:
        key, sep, value = str(item).partition("=")
        out[key] = value if sep else None
    return out


def _labels_match(have: Mapping[str, str], want: Mapping[str, Optional[str]]) -> bool:
    return all(k in have and (v is None or have[k] == v) for k, v in want.items())


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).astimezone().isoformat()


# ------------------------------------------------------------------------------------------
# mount(2), umount2(2) (the mount table is host.mounts')
# ------------------------------------------------------------------------------------------
def sys_mount(source: Optional[str], target: str, fstype: Optional[str], flags: int, data: Optional[str]) -> None:
    if libc().mount(encode(source), encode(target), encode(fstype), flags, encode(data or None)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), target)


def sys_umount(target: str, flags: int = 0) -> None:
    if libc().umount2(encode(target), flags | UMOUNT_NOFOLLOW) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), target)


def _umount_all(path: str) -> List[str]:
    """Detach every mount at/below path; returns those that could not be detached."""
    left = []
    for mnt in mounts_under(path):
        for _i in range(8):  # stacked mounts on one point: detach until none is left
            try:
                sys_umount(mnt, MNT_DETACH)
            except OSError as exc:
                if exc.errno != errno.EINVAL:
                    left.append("%s (%s)" % (mnt, exc.strerror))
                break
            if mnt not in mount_points():
                break
    return left


# ------------------------------------------------------------------------------------------
# copy-up helpers (fd based: nothing is ever resolved through a symlink of the source)
# ------------------------------------------------------------------------------------------
_O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _copy_xattrs(src_fd: int, dst_fd: int) -> None:
    try:
        names = os.listxattr(src_fd)
    except OSError:
        return
    for name in names:
        try:
            os.setxattr(dst_fd, name, os.getxattr(src_fd, name))
        except OSError as exc:
            if exc.errno not in (errno.ENOTSUP, errno.EPERM, errno.EOPNOTSUPP, errno.EINVAL):
                raise


def _apply_meta_fd(fd: int, st: os.stat_result) -> None:
    """Owner, then mode (chown clears setuid bits), then xattrs (chown clears caps)."""
    try:
        os.fchown(fd, st.st_uid, st.st_gid)
    except PermissionError:
        pass
    os.fchmod(fd, stat.S_IMODE(st.st_mode))


def _copy_data(ifd: int, ofd: int) -> None:
    while True:
        try:
            n = os.sendfile(ofd, ifd, None, 1 << 30)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOSYS):
                raise
            while True:
                buf = os.read(ifd, 1 << 20)
                if not buf:
                    return
                os.write(ofd, buf)
        if n == 0:
            return


class _TreeCopier:
    def __init__(self, dst_root_fd: int):
        self.dst_root_fd = dst_root_fd
        self.links: Dict[Tuple[int, int], str] = {}
        self.count = 0

    def copy_dir(self, sfd: int, dfd: int, rel: str) -> None:
        with os.scandir(sfd) as it:
            names = sorted(e.name for e in it)
        for name in names:
            st = os.stat(name, dir_fd=sfd, follow_symlinks=False)
            mode = st.st_mode
            relname = os.path.join(rel, name) if rel else name
            key = (st.st_dev, st.st_ino)
            if not stat.S_ISDIR(mode) and st.st_nlink > 1 and key in self.links:
                os.link(self.links[key], relname, src_dir_fd=self.dst_root_fd, dst_dir_fd=self.dst_root_fd,
                        follow_symlinks=False)
                self.count += 1
                continue
            if stat.S_ISDIR(mode):
                os.mkdir(name, 0o700, dir_fd=dfd)
                csfd = os.open(name, _O_DIR, dir_fd=sfd)
                try:
                    cdfd = os.open(name, _O_DIR, dir_fd=dfd)
                    try:
                        self.copy_dir(csfd, cdfd, relname)
                        _apply_meta_fd(cdfd, st)
                        _copy_xattrs(csfd, cdfd)
                        os.utime(cdfd, ns=(st.st_atime_ns, st.st_mtime_ns))
                    finally:
                        os.close(cdfd)
                finally:
                    os.close(csfd)
            elif stat.S_ISREG(mode):
                ifd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=sfd)
                try:
                    if not stat.S_ISREG(os.fstat(ifd).st_mode):
                        raise StorageError("copy-up: %s changed type while being copied" % relname)
                    ofd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                                  dir_fd=dfd)
                    try:
                        _copy_data(ifd, ofd)
                        _apply_meta_fd(ofd, st)
                        _copy_xattrs(ifd, ofd)
                        os.utime(ofd, ns=(st.st_atime_ns, st.st_mtime_ns))
                    finally:
                        os.close(ofd)
                finally:
                    os.close(ifd)
            elif stat.S_ISLNK(mode):
                os.symlink(os.readlink(name, dir_fd=sfd), name, dir_fd=dfd)
                self._meta_by_name(dfd, name, st, chmod=False)
            elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
                os.mknod(name, stat.S_IFMT(mode) | 0o600, st.st_rdev, dir_fd=dfd)
                self._meta_by_name(dfd, name, st, chmod=True)
            else:
                continue  # sockets are not content
            if not stat.S_ISDIR(mode) and st.st_nlink > 1:
                self.links[key] = relname
            self.count += 1

    @staticmethod
    def _meta_by_name(dfd: int, name: str, st: os.stat_result, *, chmod: bool) -> None:
        try:
            os.chown(name, st.st_uid, st.st_gid, dir_fd=dfd, follow_symlinks=False)
        except PermissionError:
            pass
        if chmod:  # a node we just made ourselves: no symlink can be in the way
            os.chmod(name, stat.S_IMODE(st.st_mode), dir_fd=dfd)
        os.utime(name, ns=(st.st_atime_ns, st.st_mtime_ns), dir_fd=dfd, follow_symlinks=False)


def copy_tree(src: str, dst: str) -> int:
    """Copy the contents of directory src into directory dst; returns entries copied.

    Modes, owners, times, xattrs, hard links, device nodes and symlinks (as links,
    never followed) are preserved; sockets are skipped.
    """
    sfd = os.open(src, _O_DIR)
    try:
        dfd = os.open(dst, _O_DIR)
        try:
            copier = _TreeCopier(dfd)
            copier.copy_dir(sfd, dfd, "")
            return copier.count
        finally:
            os.close(dfd)
    finally:
        os.close(sfd)


def _is_empty_dir(path: str) -> bool:
    return not [n for n in os.listdir(path) if n != "lost+found"]


def _empty_dir(path: str) -> None:
    """Delete a directory's contents without crossing into mounts below it."""
    nested = [m for m in mounts_under(path) if m != path]
    if nested:
        raise StorageError("cannot clear %s: mounts below it: %s" % (path, ", ".join(nested)),
                           hint="unmount them first")
    for name in os.listdir(path):
        full = os.path.join(path, name)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
        else:
            os.unlink(full)


# ------------------------------------------------------------------------------------------
# the manager
# ------------------------------------------------------------------------------------------
RemoveUsers = Callable[[List[str]], Optional[Iterable[str]]]


class VolumeManager:
    """Create, find, mount and remove volumes; one per Runtime (shares its State and locks)."""

    def __init__(self, state: State, locks: LockManager, *, volume_path: str,
                 plugins: Optional[Mapping[str, str]] = None, namespace: str = "",
                 plugin_timeout: float = DEFAULT_TIMEOUT):
        if locks.state is not state:
            # allocate() would open a second write transaction and wait for our own one.
            raise EngineError("VolumeManager needs the LockManager of the same State object")
        self.state = state
        self.locks = locks
        self.volume_path = os.path.realpath(volume_path)
        self.plugins: Dict[str, str] = dict(plugins or {})
        self.namespace = namespace
        self.plugin_timeout = plugin_timeout
        self._clients: Dict[Tuple[str, float], VolumePlugin] = {}

    # -- paths ------------------------------------------------------------------------------
    def volume_dir(self, name: str) -> str:
        return os.path.join(self.volume_path, validate_name(name))

    def data_dir(self, name: str) -> str:
        return os.path.join(self.volume_dir(name), "_data")

    # -- queries ----------------------------------------------------------------------------
    def _visible(self, rec: Record) -> bool:
        return not self.namespace or rec.namespace == self.namespace

    def find(self, name: str) -> Optional[Volume]:
        rec = self.state.find("volume", name)
        return Volume.from_record(rec) if rec is not None and self._visible(rec) else None

    def exists(self, name: str) -> bool:
        return self.find(name) is not None

    def get(self, name: str) -> Volume:
        vol = self.find(name)
        if vol is None:
            raise NoSuchVolume('no volume with name "%s" found' % name,
                               hint="create it first (volume state=present) or check the name")
        return vol

    def list(self, *, labels: LabelFilter = None, driver: Optional[str] = None, anonymous: Optional[bool] = None,
             dangling: Optional[bool] = None) -> List[Volume]:
        """Volumes matching every given filter (labels: all must match; dangling: no container uses it)."""
        want = _label_filter(labels)
        out = []
        for rec in self.state.list("volume"):
            if not self._visible(rec):
                continue
            vol = Volume.from_record(rec)
            if driver is not None and vol.driver != driver:
                continue
            if anonymous is not None and vol.config.anonymous != anonymous:
                continue
            if want and not _labels_match(vol.config.labels, want):
                continue
            if dangling is not None and (not self.state.volume_users(vol.name)) != dangling:
                continue
            out.append(vol)
        return out

    def users(self, name: str) -> List[str]:
        """IDs of every container (in any state) that uses the volume."""
        return self.state.volume_users(name)

    def inspect(self, name: str) -> Dict[str, Any]:
        """The ``volume inspect`` dict (podman's field names)."""
        vol = self.get(name)
        cfg, st = vol.config, vol.state
        mountpoint = st.mount_point if vol.uses_plugin else os.path.join(self.volume_path, vol.name, "_data")
        out = {
            "Name": vol.name,
            "Driver": cfg.driver,
            "Mountpoint": mountpoint,
            "CreatedAt": cfg.created_at,
            "Labels": dict(cfg.labels),
            "Scope": "local",
            "Options": dict(cfg.options),
            "UID": cfg.uid or 0,
            "GID": cfg.gid or 0,
            "MountCount": st.mount_count,
            "NeedsCopyUp": st.needs_copy_up,
            "NeedsChown": st.needs_chown,
            "Anonymous": cfg.anonymous,
            "LockNumber": vol.lock_id,
        }
        if vol.uses_plugin:
            out["Timeout"] = cfg.timeout or self.plugin_timeout
        return out

    # -- create -----------------------------------------------------------------------------
    def create(self, name: Optional[str] = None, *, driver: str = LOCAL_DRIVER,
               labels: Optional[Mapping[str, Any]] = None,
               options: Union[Mapping[str, Any], Sequence[str], None] = None,
               anonymous: bool = False, declared: Optional[Mapping[str, Any]] = None) -> Volume:
        """Create a volume; without a name an anonymous one gets a random 64-hex name.

        ``declared`` (JSON-serialisable) is stored as is in the config, for the caller's
        declared-vs-declared comparison on the next run; the engine never interprets it.
        """
        if name is None:
            name = secrets.token_hex(32)
            anonymous = True
        validate_name(name)
        driver = driver or LOCAL_DRIVER
        if driver != LOCAL_DRIVER and driver not in self.plugins:
            known = ", ".join([LOCAL_DRIVER] + sorted(self.plugins))
            raise InvalidArg('volume "%s": driver "%s" is not available; known drivers: %s' % (name, driver, known),
                             hint="use one of them, or add the plugin's socket under [engine.volume_plugins]")
        opts = normalize_options(name, options)
        lbls = normalize_labels(name, labels)
        if self.state.find("volume", name) is not None:
            raise NameInUse('volume with name "%s" already exists' % name,
                            hint="use another name, or remove the existing volume first")
        now = time.time()
        base = dict(name=name, driver=driver, labels=lbls, options=opts, created_at=rfc3339(now),
                    anonymous=bool(anonymous), declared=dict(declared) if declared is not None else None)
        if driver == LOCAL_DRIVER:
            return self._create_local(base, now)
        return self._create_plugin(base, now)

    def _create_local(self, base: Dict[str, Any], now: float) -> Volume:
        name = base["name"]
        plan = plan_local(name, base["options"])
        if plan.mount is not None and plan.mount.bind and not os.path.isdir(plan.mount.source):
            raise InvalidArg('volume "%s": option device=%s is not an existing directory' % (name, plan.mount.source),
                             hint="create the host directory first, or fix device=")
        if not os.path.isdir(self.volume_path):
            os.makedirs(self.volume_path, 0o700, exist_ok=True)
        vol_dir = os.path.join(self.volume_path, name)
        data = os.path.join(vol_dir, "_data")
        with self.state.tx():
            if self.state.find("volume", name) is not None:
                raise NameInUse('volume with name "%s" already exists' % name,
                                hint="use another name, or remove the existing volume first")
            made = self._make_dirs(name, vol_dir, data, plan.uid, plan.gid)
            try:
                lock_id = self.locks.allocate("volume", name)
                vol = Volume(config=VolumeConfig(uid=plan.uid, gid=plan.gid, lock_id=lock_id, **base),
                             state=VolumeState(needs_copy_up=not plan.nocopy,
                                               needs_chown=_may_chown(plan)),
                             namespace=self.namespace, created=now)
                self.state.add("volume", vol.to_record())
            except BaseException:
                if made:
                    shutil.rmtree(vol_dir, ignore_errors=True)
                raise
        return vol

    def _make_dirs(self, name: str, vol_dir: str, data: str, uid: Optional[int], gid: Optional[int]) -> bool:
        """mkdir <name> (0700) and _data (0755); adopts an orphan left by a killed create."""
        made = False
        try:
            os.mkdir(vol_dir, 0o700)
            made = True
        except FileExistsError:
            st = os.lstat(vol_dir)
            if not stat.S_ISDIR(st.st_mode):
                raise StorageError('volume "%s": %s exists and is not a directory' % (name, vol_dir),
                                   hint="remove it; it is not a volume of this engine")
            log.info("volume %s: adopting existing directory %s", name, vol_dir)
        except OSError as exc:
            raise StorageError('volume "%s": cannot create %s: %s' % (name, vol_dir, exc.strerror),
                               hint="check [engine] volume_path and its file system")
        try:
            try:
                os.mkdir(data, 0o755)
            except FileExistsError:
                if not stat.S_ISDIR(os.lstat(data).st_mode):
                    raise StorageError('volume "%s": %s exists and is not a directory' % (name, data),
                                       hint="remove it")
            os.chmod(vol_dir, 0o700)
            if uid is not None or gid is not None:
                for path in (vol_dir, data):
                    os.chown(path, -1 if uid is None else uid, -1 if gid is None else gid, follow_symlinks=False)
            else:
                os.chmod(data, 0o755)
        except OSError as exc:
            if made:
                shutil.rmtree(vol_dir, ignore_errors=True)
            raise StorageError('volume "%s": cannot prepare %s: %s' % (name, data, exc.strerror),
                               hint="check [engine] volume_path and its file system")
        except BaseException:
            if made:
                shutil.rmtree(vol_dir, ignore_errors=True)
            raise
        return made

    def _create_plugin(self, base: Dict[str, Any], now: float) -> Volume:
        name = base["name"]
        opts, timeout, nocopy = plugin_options(name, base["options"])
        client = self._client(base["driver"], timeout)
        client.create(name, opts)  # outside the DB transaction: it may take up to the timeout
        try:
            with self.state.tx():
                lock_id = self.locks.allocate("volume", name)
                vol = Volume(config=VolumeConfig(lock_id=lock_id, timeout=timeout, **base),
                             state=VolumeState(needs_copy_up=not nocopy),
                             namespace=self.namespace, created=now)
                self.state.add("volume", vol.to_record())
        except NameInUse:
            raise  # created concurrently by another process: the plugin volume is theirs now
        except BaseException:
            try:
                client.remove(name)
            except EngineError as exc:
                log.warning("volume %s: undoing plugin create failed: %s", name, exc)
            raise
        return vol

    # -- plugins ----------------------------------------------------------------------------
    def _client(self, driver: str, timeout: Optional[float] = None) -> VolumePlugin:
        sock = self.plugins.get(driver)
        if sock is None:
            raise VolumePluginError('volume driver "%s" is not configured' % driver,
                                    hint="add it under [engine.volume_plugins] with its socket path")
        t = float(timeout or self.plugin_timeout)
        key = (driver, t)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = VolumePlugin(driver, sock, timeout=t)
        return client

    def _vol_client(self, vol: Volume) -> VolumePlugin:
        try:
            return self._client(vol.driver, vol.config.timeout)
        except VolumePluginError as exc:
            exc.msg = 'volume "%s": %s' % (vol.name, exc.msg)
            raise

    # -- locking ----------------------------------------------------------------------------
    @contextmanager
    def _locked(self, name: str) -> Iterator[Volume]:
        """Hold the volume's lock and yield a fresh copy of it (others may have changed it)."""
        vol = self.get(name)
        if vol.lock_id is None:
            raise StorageError('volume "%s" has no lock number' % name, hint="run a lock renumber (system_reset)")
        lock = self.locks.lock(vol.lock_id)
        lock.acquire()
        try:
            yield self.get(name)
        finally:
            lock.release()

    def _save(self, vol: Volume) -> None:
        self.state.save_state("volume", vol.name, vol.state.to_dict())

    # -- mount / unmount --------------------------------------------------------------------
    def mount(self, name: str) -> str:
        """Count one more user; really mount on the first. Returns the host path to bind."""
        with self._locked(name) as vol:
            return self._mount_locked(vol)

    def unmount(self, name: str, *, force: bool = False) -> int:
        """Count one user less (force: all); really unmount on the last. Returns the new count."""
        with self._locked(name) as vol:
            return self._unmount_locked(vol, force=force)

    def hold(self, name: str) -> Tuple[bool, str]:
        """podman volume mount, taken once: the user's reference (state: mounted). (taken now, mount point);
        a reference already held on a volume still mounted is no change."""
        with self._locked(name) as vol:
            st = vol.state
            if self._held(vol):
                return False, st.mount_point
            if st.user_mounted:  # its mount is gone (unmounted behind our back): take it again
                st.mount_count = max(0, st.mount_count - 1)
            st.user_mounted = True
            try:
                return True, self._mount_locked(vol)
            except BaseException:
                st.user_mounted = False
                raise

    def release(self, name: str) -> bool:
        """podman volume unmount of the user's reference (state: unmounted); False when none is held. The
        volume stays mounted while containers use it."""
        with self._locked(name) as vol:
            if not vol.state.user_mounted:
                return False
            vol.state.user_mounted = False
            self._unmount_locked(vol)
            return True

    def held(self, name: str) -> bool:
        """Whether the user's reference (hold) is taken and the volume still mounted (no lock: a check-mode read)."""
        return self._held(self.get(name))

    def _held(self, vol: Volume) -> bool:
        return vol.state.user_mounted and vol.state.mount_count > 0 and self._still_mounted(vol)

    def _still_mounted(self, vol: Volume) -> bool:
        if vol.uses_plugin:
            return bool(vol.state.mount_point)
        data = os.path.join(self.volume_path, vol.name, "_data")
        return os.path.isdir(data) and (plan_local(vol.name, vol.config.options).mount is None
                                        or is_mount_point(data))

    def _ensure_dirs(self, vol: Volume) -> str:
        """Recreate a lost _data (power loss after commit): an empty volume beats a broken one."""
        vol_dir = os.path.join(self.volume_path, vol.name)
        data = os.path.join(vol_dir, "_data")
        if not os.path.isdir(data) or os.path.islink(data):
            log.warning("volume %s: %s is missing; recreating it empty", vol.name, data)
            self._make_dirs(vol.name, vol_dir, data, vol.config.uid, vol.config.gid)
        return data

    def _mount_locked(self, vol: Volume) -> str:
        st = vol.state
        undo: Optional[Callable[[], None]] = None
        if vol.uses_plugin:
            if st.mount_count == 0 or not st.mount_point:
                client = self._vol_client(vol)
                st.mount_point = client.mount(vol.name)
                undo = functools.partial(client.unmount, vol.name)
        else:
            data = self._ensure_dirs(vol)
            spec = plan_local(vol.name, vol.config.options).mount
            if spec is not None and not is_mount_point(data):
                if st.mount_count:
                    log.warning("volume %s: mount count is %d but %s is not mounted; mounting again",
                                vol.name, st.mount_count, data)
                self._do_mount(vol.name, spec, data)
                undo = functools.partial(sys_umount, data, MNT_DETACH)
            st.mount_point = data
        st.mount_count += 1
        try:
            self._save(vol)
        except BaseException:
            st.mount_count -= 1
            if undo is not None:
                try:
                    undo()
                except (OSError, EngineError) as exc:
                    log.warning("volume %s: undoing mount failed: %s", vol.name, exc)
            raise
        return st.mount_point

    def _unmount_locked(self, vol: Volume, *, force: bool = False) -> int:
        st = vol.state
        if st.mount_count == 0 and not force:
            return 0
        count = 0 if force else st.mount_count - 1
        if count == 0:
            if vol.uses_plugin:
                if st.mount_count > 0 or st.mount_point:
                    self._vol_client(vol).unmount(vol.name)  # failure: count unchanged, still mounted
                st.mount_point = ""
            else:
                data = os.path.join(self.volume_path, vol.name, "_data")
                plan = plan_local(vol.name, vol.config.options)
                if plan.mount is not None or force:
                    left = _umount_all(data)
                    if left:
                        raise StorageError('volume "%s": cannot unmount %s' % (vol.name, ", ".join(left)),
                                           hint="find the process using it (fuser -vm PATH) and retry")
                if plan.mount is not None and plan.mount.fstype == "tmpfs":
                    # the content is gone with the tmpfs: the next mount is a fresh, empty volume again
                    st.needs_copy_up = not plan.nocopy
                    st.needs_chown = _may_chown(plan)
                    st.copy_up_in_progress = False
                st.mount_point = ""
        st.mount_count = count
        self._save(vol)
        return count

    def _do_mount(self, name: str, spec: MountSpec, target: str) -> None:
        what = "%s (type %s, options %s)" % (spec.source, "bind" if spec.bind else spec.fstype,
                                             spec.helper_options or "none")
        try:
            if spec.bind:
                if not os.path.isdir(spec.source):
                    raise StorageError('volume "%s": bind source device=%s is not a directory any more'
                                       % (name, spec.source),
                                       hint="recreate the host directory, or remove and recreate the volume")
                sys_mount(spec.source, target, None, MS_BIND | (spec.flags & MS_REC), None)
                extra = spec.flags & ~(MS_BIND | MS_REC)
                if extra:
                    try:
                        sys_mount(None, target, None, MS_REMOUNT | MS_BIND | extra, None)
                    except OSError:
                        sys_umount(target, MNT_DETACH)
                        raise
            elif spec.helper or (spec.source.startswith("/") and os.path.isfile(spec.source)):
                # mount(8) runs helpers (mount.nfs, FUSE) and sets up loop devices for image files
                cmd = ["mount", "-t", spec.fstype or "auto"]
                if spec.helper_options:
                    cmd += ["-o", spec.helper_options]
                res = subprocess.run(cmd + [spec.source, target], stdin=subprocess.DEVNULL, capture_output=True,
                                     text=True, timeout=120, check=False)
                if res.returncode != 0:
                    raise StorageError('volume "%s": mounting %s on %s failed: %s'
                                       % (name, what, target, (res.stderr or res.stdout).strip()),
                                       hint="check the volume's device/type/o options")
            else:
                sys_mount(spec.source, target, spec.fstype, spec.flags, spec.data)
            try:
                if spec.propagation:
                    sys_mount(None, target, None, spec.propagation, None)
                if spec.chown_root is not None:
                    os.chown(target, spec.chown_root[0], spec.chown_root[1])
            except OSError:
                sys_umount(target, MNT_DETACH)
                raise
        except OSError as exc:
            hints = {
                errno.ENODEV: "the kernel does not know file system type %s" % spec.fstype,
                errno.ENOTBLK: "device= must be a block device (attach an image file with losetup)",
                errno.ENOENT: "device= does not exist",
                errno.EINVAL: "a mount option in o= is not valid for this file system, or the device has no %s "
                              "file system" % spec.fstype,
                errno.EPERM: "mounting needs root (CAP_SYS_ADMIN)",
                errno.EBUSY: "the device is already mounted or in use",
            }
            raise StorageError('volume "%s": mounting %s on %s failed: %s' % (name, what, target, exc.strerror),
                               hint=hints.get(exc.errno or 0, "check the volume's device/type/o options"))
        except subprocess.TimeoutExpired:
            raise StorageError('volume "%s": mount(8) of %s did not finish within 120s' % (name, what),
                               hint="check that the device or server is reachable")

    # -- copy-up / ownership ----------------------------------------------------------------
    def copy_up(self, name: str, src_dir: str, *, root: Optional[str] = None,
                empty_owner: Optional[Tuple[int, int]] = None) -> int:
        """On first use, copy the image's content at the mount destination into the empty volume.

        ``src_dir`` is a host path, or with ``root`` a path inside that root file system
        (resolved without leaving it). Also gives the volume root the owner and mode of
        the source directory while ``needs_chown`` is set (without one: ``empty_owner``, the
        mapped root of a container with a user namespace). Returns entries copied.
        Call it after mount() for the container: a tmpfs volume mounted only for the copy
        loses the content again when copy-up gives its mount back.
        """
        vol = self.get(name)
        if not vol.state.needs_copy_up and not vol.state.needs_chown:
            return 0
        with self._locked(name) as vol:
            st = vol.state
            if not st.needs_copy_up and not st.needs_chown:
                return 0
            src = secure_join(root, src_dir) if root is not None else src_dir
            try:
                src_st: Optional[os.stat_result] = os.lstat(src)
            except FileNotFoundError:
                src_st = None
            if src_st is not None and not stat.S_ISDIR(src_st.st_mode):
                src_st = None
            target = self._mount_locked(vol)
            copied = 0
            try:
                if st.copy_up_in_progress:
                    log.warning("volume %s: an earlier copy-up was interrupted; starting over", name)
                    _empty_dir(target)
                # podman: the root takes the image directory's owner and mode only on the first use
                # of an EMPTY volume, and never a bind volume's host directory (the admin's)
                first_use = _is_empty_dir(target)
                if st.needs_copy_up:
                    if src_st is not None and first_use:
                        st.copy_up_in_progress = True
                        self._save(vol)
                        try:
                            copied = copy_tree(src, target)
                        except OSError as exc:
                            raise StorageError('volume "%s": copy-up from %s failed at %s: %s'
                                               % (name, src, exc.filename or "?", exc.strerror),
                                               hint="the volume will be emptied and copied again on its next use")
                    st.needs_copy_up = False
                    st.copy_up_in_progress = False
                if st.needs_chown:
                    if first_use and src_st is not None and not vol.uses_plugin and not _is_bind(vol):
                        os.chown(target, src_st.st_uid, src_st.st_gid)
                        os.chmod(target, stat.S_IMODE(src_st.st_mode))
                    elif first_use and empty_owner and not vol.uses_plugin and not _is_bind(vol):
                        os.chown(target, *empty_owner)
                    st.needs_chown = False
                self._save(vol)
            finally:
                self._unmount_locked(vol)
            return copied

    def fix_ownership(self, name: str, uid: int, gid: int) -> bool:
        """Give the volume root to the container's user while needs_chown is set (first use)."""
        with self._locked(name) as vol:
            if not vol.state.needs_chown or vol.uses_plugin or _is_bind(vol):
                return False
            target = self._mount_locked(vol)
            try:
                if _is_empty_dir(target):  # podman: a volume with content keeps its owner
                    os.chown(target, uid, gid)
                vol.state.needs_chown = False
                self._save(vol)
            finally:
                self._unmount_locked(vol)
            return True

    # -- remove / prune ---------------------------------------------------------------------
    def remove(self, name: str, force: bool = False, remove_users: Optional[RemoveUsers] = None) -> VolumeRemoval:
        """Remove a volume; refused while containers use it unless force (they go first)."""
        return self._remove(name, force=force, remove_users=remove_users, skip_mounted=False)

    def _remove(self, name: str, *, force: bool, remove_users: Optional[RemoveUsers],
                skip_mounted: bool) -> VolumeRemoval:
        self.get(name)
        result = VolumeRemoval(volume=name)
        users = self.state.volume_users(name)
        if users:
            if not force:
                raise VolumeInUse('volume "%s" is being used by the following container(s): %s'
                                  % (name, ", ".join(users)),
                                  hint="remove those containers first, or remove the volume with force=true, "
                                       "which removes them too")
            if remove_users is None:
                raise VolumeInUse('volume "%s" is used by container(s) %s and no way to remove them was given'
                                  % (name, ", ".join(users)), hint="remove those containers first")
            gone = remove_users(list(users))
            result.containers = list(gone) if gone is not None else list(users)
            left = self.state.volume_users(name)
            if left:
                raise VolumeInUse('volume "%s" is still used by container(s) %s after removing %s'
                                  % (name, ", ".join(left), ", ".join(result.containers) or "none"),
                                  hint="remove those containers, then retry")
        with self._locked(name) as vol:
            if skip_mounted and vol.state.mount_count > 0:
                raise _Skip()
            faults.begin(self.state, "volume", name, "remove")
            if vol.uses_plugin:
                client = self._vol_client(vol)
                if vol.state.mount_count > 0 or vol.state.mount_point:
                    self._unmount_locked(vol, force=True)
                try:
                    client.remove(name)  # failure: the record stays, removal can be retried
                except PluginNoSuchVolume:
                    result.warnings.append("plugin %s had no volume %s any more" % (vol.driver, name))
            else:
                vol_dir = os.path.join(self.volume_path, name)
                left = _umount_all(vol_dir)
                if left:
                    raise StorageError('volume "%s": cannot unmount %s' % (name, ", ".join(left)),
                                       hint="find the process using it (fuser -vm PATH) and retry")
            faults.point("volume.remove.after_unmount")
            with self.state.tx():
                users = self.state.volume_users(name)
                if users:  # a container was created meanwhile
                    raise VolumeInUse('volume "%s" is being used by the following container(s): %s'
                                      % (name, ", ".join(users)), hint="remove those containers first")
                self.state.remove("volume", vol.to_record())
                self.locks.free(vol.lock_id)
            faults.point("volume.remove.after_record_delete")
            if not vol.uses_plugin:
                warn = self._delete_dir(name)
                if warn:
                    result.warnings.append(warn)
            faults.end(self.state, "volume", name)
        return result

    def _delete_dir(self, name: str) -> Optional[str]:
        vol_dir = os.path.join(self.volume_path, name)
        if not os.path.lexists(vol_dir):
            return None
        trash = os.path.join(self.volume_path, _TRASH_PREFIX + secrets.token_hex(8))
        try:
            os.rename(vol_dir, trash)
            shutil.rmtree(trash)
        except OSError as exc:
            log.warning("volume %s: deleting its data failed: %s", name, exc)
            return "deleting %s failed (%s); it is removed at the next prune" % (vol_dir, exc.strerror)
        return None

    def _sweep_trash(self) -> None:
        try:
            names = [n for n in os.listdir(self.volume_path) if n.startswith(_TRASH_PREFIX)]
        except FileNotFoundError:
            return
        for n in names:
            path = os.path.join(self.volume_path, n)
            if mounts_under(path) and _umount_all(path):
                continue
            shutil.rmtree(path, ignore_errors=True)

    def prune(self, labels: LabelFilter = None, *, exclude_labels: LabelFilter = None) -> List[str]:
        """Remove volumes no container uses and nobody has mounted; returns their names."""
        skip = _label_filter(exclude_labels)
        removed = []
        for vol in self.list(labels=labels, dangling=True):
            if skip and any(k in vol.config.labels and (v is None or vol.config.labels[k] == v)
                            for k, v in skip.items()):
                continue
            if vol.state.mount_count > 0:
                continue
            try:
                self._remove(vol.name, force=False, remove_users=None, skip_mounted=True)
            except (_Skip, VolumeInUse, NoSuchVolume):
                continue
            removed.append(vol.name)
        self._sweep_trash()
        return removed

    # -- reboot -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """After a reboot (call after State.refresh): re-take lock numbers, zero mount counts, sweep trash.

        Works on the raw rows so that volumes of every namespace are re-locked.
        """
        with self.state.tx():
            rows = self.state.query("SELECT name, namespace, lock_id, config, state, created FROM volumes")
            for name, namespace, row_lock, config, state, created in rows:
                vol = Volume.from_record(Record(id=name, name=name, namespace=namespace, lock_id=row_lock,
                                                config=loads(config) or {}, state=loads(state) or {},
                                                created=created))
                if row_lock is None:
                    lock_id = self.locks.allocate("volume", name)
                    cfg = vol.config.to_dict()
                    cfg["lock_id"] = lock_id
                    self.state.rewrite_config("volume", name, cfg, lock_id=lock_id)
                else:
                    self.locks.retrieve(row_lock, "volume", name)
                st = vol.state
                before = st.to_dict()
                st.mount_count = 0
                st.mount_point = ""
                st.user_mounted = False
                if not vol.uses_plugin:
                    try:
                        plan = plan_local(name, vol.config.options)
                    except InvalidArg as exc:  # stored by an older engine with other rules
                        log.warning("volume %s: %s", name, exc)
                        plan = None
                    if plan is not None and plan.mount is not None and plan.mount.fstype == "tmpfs":
                        st.needs_copy_up = not plan.nocopy  # the reboot emptied it
                        st.needs_chown = _may_chown(plan)
                        st.copy_up_in_progress = False
                if st.to_dict() != before:
                    self._save(vol)
        self._sweep_trash()


class _Skip(Exception):
    """prune: the volume became busy while we waited for its lock."""
