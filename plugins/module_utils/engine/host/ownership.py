# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether another user could replace a path the engine trusts (sshd StrictModes style).

conmon runs the exit command (``python -I <static>/lib/<hash>/run.py``) as root whenever a
container exits. Whoever can rename any directory on the way to that file can swap in their
own ``run.py``; the same holds for the graph root (layers and rootfs mounted into containers),
the tmp dir (locks, exit files) and the volume path. So every component of these paths,
from ``/`` down, must be one that only root (or the engine's own user) can change.

The rule, checked on each existing component (symlinks are followed, and the directory holding
a symlink is checked like any other):

* its owner is root or the engine's effective uid;
* it is not writable by group or others, except a directory that is sticky AND owned by root
  (``/tmp``, ``/var/tmp``, ``/dev/shm``): there others can add entries but cannot rename or
  remove ours. Such a directory is acceptable as an ancestor only: the component below it must
  itself pass the rule, and when it does not exist yet the engine creates it (mode 0700)
  and checks again after creating it (:func:`ensure_safe_dir`), so that a directory
  another user created first (squatting the name) is refused rather than adopted;
* a final non-directory (``run.py``, the interpreter) follows the same owner and mode rule.

Group-writable directories are refused even when the group is root's: membership of a group
is not visible here, and sshd refuses them too.

Inside the rootless engine's user namespace (host/userns.py) the user's files show as uid 0 and
host root's as the overflow uid (65534): that uid is accepted there too. The engine's own
directories are checked before the namespace is joined, where owners are exact.
"""
from __future__ import annotations

import errno
import os
import pwd
import stat
from dataclasses import dataclass
from typing import Iterable, Optional

from ..base.errors import UnsafePath

#: symlinks followed per path before giving up (the kernel's own limit)
MAX_SYMLINKS = 40

HINT = ("use a path whose every directory, from / down, is owned by root and not writable by group or others "
        "(as sshd's StrictModes requires), e.g. below /var/lib; or fix the named directory with "
        "chown root and chmod go-w")


@dataclass
class Walk:
    """The result of checking one path."""

    reason: str = ""          # why the path is unsafe ("" when it is safe)
    deepest: str = "/"        # deepest existing component (after symlinks)
    shared: bool = False      # deepest existing component is a sticky dir others may write (/tmp)
    complete: bool = False    # every component exists


def _owner(uid: int) -> str:
    try:
        return "uid %d (%s)" % (uid, pwd.getpwuid(uid).pw_name)
    except KeyError:
        return "uid %d" % uid


def _in_user_namespace() -> bool:
    try:
        with open("/proc/self/uid_map", encoding="ascii") as f:
            return f.read().split() != ["0", "0", "4294967295"]
    except OSError:
        return False


def root_uids() -> set:
    """How host root's files appear to this process: 0, or the overflow uid in a user namespace."""
    if not _in_user_namespace():
        return {0}
    try:
        with open("/proc/sys/kernel/overflowuid", encoding="ascii") as f:
            return {0, int(f.read().strip())}
    except (OSError, ValueError):
        return {0, 65534}


def default_owners() -> set:
    """root and the engine's euid; plus the overflow uid inside a user namespace (see module doc)."""
    return root_uids() | {os.geteuid()}


def _judge(path: str, st: os.stat_result, owners: Iterable[int]) -> str:
    """Why ``path`` (already lstat'ed, not a symlink) could be replaced by another user, or ""."""
    if st.st_uid not in owners:
        return "%s is owned by %s, not by root" % (path, _owner(st.st_uid))
    writable = st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if writable:
        if stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX and st.st_uid in root_uids():
            return ""  # /tmp-like: others may add entries, not replace ours (the next component is checked)
        return "%s is writable by %s (mode %04o)" % (
            path, "group and others" if writable == (stat.S_IWGRP | stat.S_IWOTH)
            else "its group" if writable == stat.S_IWGRP else "others", stat.S_IMODE(st.st_mode))
    return ""


def walk(path: str, owners: Optional[Iterable[int]] = None) -> Walk:
    """Check every existing component of ``path`` (absolute or relative to the cwd)."""
    allowed = set(owners) if owners is not None else default_owners()
    parts = [p for p in os.path.abspath(path).split("/") if p]
    cur = "/"
    out = Walk()
    links = 0
    st = os.lstat(cur)
    out.reason = _judge(cur, st, allowed)
    if out.reason:
        return out
    out.shared = bool(st.st_mode & stat.S_IWOTH)
    while parts:
        name = parts.pop(0)
        if name == ".":
            continue
        if name == "..":
            cur = os.path.dirname(cur) or "/"
            continue
        nxt = os.path.join(cur, name)
        try:
            st = os.lstat(nxt)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return out
            out.reason = "%s cannot be examined: %s" % (nxt, exc.strerror)
            return out
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > MAX_SYMLINKS:
                out.reason = "%s: too many levels of symbolic links" % path
                return out
            target = os.readlink(nxt)
            parts = [p for p in target.split("/") if p] + parts
            if target.startswith("/"):
                cur = "/"
            continue
        out.reason = _judge(nxt, st, allowed)
        if out.reason:
            return out
        cur = nxt
        out.deepest = cur
        out.shared = stat.S_ISDIR(st.st_mode) and bool(st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))
        if not stat.S_ISDIR(st.st_mode) and parts:
            return out  # a file in the middle: using the path fails later, with its own error
    out.complete = True
    return out


def check_path(path: str, what: str, owners: Optional[Iterable[int]] = None, hint: str = HINT) -> Walk:
    """Raise UnsafePath when another user could replace ``path`` or one of its directories."""
    res = walk(path, owners)
    if res.reason:
        raise UnsafePath("%s %s is not safe: %s, so another user could replace what the engine runs and "
                         "reads there as root" % (what, path, res.reason), hint=hint)
    return res


def ensure_safe_dir(path: str, what: str, mode: int = 0o700) -> None:
    """Check ``path``, create what is missing of it, and check again what now exists.

    The second check is what makes a shared sticky ancestor (/tmp) acceptable: a component another
    user created before us is owned by them, and refused."""
    check_path(path, what)
    os.makedirs(path, mode=mode, exist_ok=True)
    check_path(path, what)


def check_tree(root: str, what: str, owners: Optional[Iterable[int]] = None) -> None:
    """check_path on ``root``, then the owner and mode of everything below it (no symlinks allowed)."""
    allowed = set(owners) if owners is not None else default_owners()
    check_path(root, what, allowed)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
            except FileNotFoundError:
                continue  # renamed or removed since listed: a running exit command writing its pyc
            reason = ("%s is a symbolic link" % full) if stat.S_ISLNK(st.st_mode) else _judge(full, st, allowed)
            if reason:
                raise UnsafePath("%s %s is not safe: %s, so another user could replace what runs as root"
                                 % (what, root, reason), hint="remove %s (the engine writes it again)" % root)
