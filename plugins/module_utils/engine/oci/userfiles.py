# SPDX-License-Identifier: GPL-3.0-or-later
"""/etc/passwd and /etc/group entries the engine adds for a container (podman's
generatePasswdAndGroup: ``--passwd``, ``--passwd-entry``, ``--group-entry``, ``--hostuser``).

Entries are added only for what the image does not know: a numeric ``user`` (and a numeric
group of it) missing from the image's files, and host users copied in with ``hostuser``. A
writable rootfs gets them appended to its own files (so ``useradd`` in the container keeps
working, as podman); a read-only one gets a copy in the RunDir bind-mounted over the file.
Either way a second start finds the entries and adds nothing: restarts are idempotent.
"""
from __future__ import annotations

import errno
import os
import pwd
import stat
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ..base.errors import InvalidArg, StorageError
from ..host.paths import secure_join
from .etcfiles import parse_group, parse_passwd, read_rootfs_file, write_run_file

#: podman's default entry for a numeric user the image does not know
DEFAULT_NAME = "container user"
PASSWD_VARS = ("$USERNAME", "$UID", "$GID", "$NAME", "$HOME")
GROUP_VARS = ("$GROUPNAME", "$GID", "$USERLIST")


@dataclass
class UserFiles:
    """What a container's start adds: the lines for /etc/passwd and /etc/group ("" = none)."""

    passwd: str = ""
    group: str = ""


def _unwritable(text: str) -> bool:
    """A ':' (a new field), a control character (a new line...) or an undecodable byte (a lone
    surrogate from the pwd module) cannot go into a passwd line unchanged."""
    return any(c == ":" or c < " " or c == "\x7f" or "\ud800" <= c <= "\udfff" for c in text)


def host_user(name: str, param: str = "hostuser") -> pwd.struct_passwd:
    """The host's passwd entry of a user name or UID; refused when the host has none, or when its
    name or home (from NSS: LDAP, sssd...) cannot be written into a passwd line."""
    try:
        u = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    except (KeyError, OverflowError):
        raise InvalidArg("%s: %s is not a user of this host" % (param, name),
                         hint="give a user name or UID listed in the host's /etc/passwd")
    for what, value in (("name", u.pw_name), ("home directory", u.pw_dir)):
        if _unwritable(value):
            raise InvalidArg("%s: host user %s has a ':', a control character or an undecodable byte in its %s "
                             "(%r), which would break the container's /etc/passwd" % (param, name, what, value),
                             hint="fix that user's entry on the host (its NSS source), or drop %s" % param)
    return u


def _gecos(gecos: str) -> str:
    """$NAME of a host user: podman's (Go's user.Name) is the GECOS up to its first ','; dropped
    when it holds what a passwd line cannot (podman writes it as is and breaks the file)."""
    name = gecos.split(",", 1)[0]
    return "" if _unwritable(name) else name


def _template(template: str, values: Sequence[str], names: Sequence[str]) -> str:
    for var, value in zip(names, values):
        template = template.replace(var, value)
    return template + "\n"


def _covered(home: str, destinations: Sequence[str]) -> bool:
    """podman: the host user's own home is used when it (or a parent but /) is a mount of the container."""
    d = os.path.normpath(home)
    while d not in ("/", ""):
        if d in destinations:
            return True
        d = os.path.dirname(d)
    return False


def additions(read_file: Callable[[str], Optional[str]], *, user: Optional[str], workdir: str,
              passwd_entry: Optional[str] = None, group_entry: Optional[str] = None,
              host_users: Sequence[str] = (), destinations: Sequence[str] = ()) -> UserFiles:
    """The entries to add, read against the container's current /etc/passwd and /etc/group."""
    passwd = parse_passwd(read_file("/etc/passwd") or "")
    groups = parse_group(read_file("/etc/group") or "")
    out = UserFiles()
    added = set()
    for name in host_users:
        u = host_user(name)
        if any(p.name == u.pw_name or p.uid == u.pw_uid for p in passwd):
            continue
        added.add(u.pw_uid)
        home = u.pw_dir if _covered(u.pw_dir, destinations) else workdir
        values = (u.pw_name, str(u.pw_uid), str(u.pw_gid), _gecos(u.pw_gecos), home)
        out.passwd += _template(passwd_entry, values, PASSWD_VARS) if passwd_entry \
            else "%s:*:%s:%s:%s:%s:/bin/sh\n" % values
    uspec, sep, gspec = (user or "").partition(":")
    if uspec.isdigit():
        uid = int(uspec)
        if uid not in added and not any(p.uid == uid for p in passwd):
            gid = _gid(gspec, groups) if sep else 0
            values = (str(uid), str(uid), str(gid), DEFAULT_NAME, workdir)
            out.passwd += _template(passwd_entry, values, PASSWD_VARS) if passwd_entry \
                else "%s:*:%s:%s:%s:%s:/bin/sh\n" % values
    if user or group_entry:
        group = gspec if sep else "0"
        if group.isdigit() and not any(g.gid == int(group) for g in groups):
            # the default entry names the group by its GID, with the user as its member
            out.group += _template(group_entry, (group, group, uspec), GROUP_VARS) if group_entry \
                else "%s:x:%s:%s\n" % (group, group, uspec)
    return out


def _gid(gspec: str, groups: List) -> int:
    if gspec.isdigit():
        return int(gspec)
    found = next((g for g in groups if g.name == gspec), None)
    if found is None:
        raise InvalidArg("group %r not found in the image's /etc/group" % gspec,
                         hint="use a numeric gid or a group the image defines")
    return found.gid


def _open_beneath(rootfs: str, path: str, flags: int, mode: int = 0o644) -> int:
    """Open ``path`` of the rootfs (resolved by secure_join) one component at a time, none of them
    followed if it is a symlink: a directory swapped for a symlink meanwhile (a rootfs directory
    another running container shares) fails the open instead of leading out of the rootfs."""
    root = os.path.abspath(rootfs)
    rel = os.path.relpath(secure_join(root, path), root)
    parts = [p for p in rel.split(os.sep) if p not in ("", ".")]
    if not parts or ".." in parts:
        raise StorageError("%s is not a file inside the container's rootfs" % path)
    dir_flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    try:
        for name in parts[:-1]:
            nxt = os.open(name, dir_flags, dir_fd=fd)
            os.close(fd)
            fd = nxt
        return os.open(parts[-1], flags | os.O_NOFOLLOW, mode, dir_fd=fd)
    finally:
        os.close(fd)


def _append(rootfs: str, path: str, text: str, owner: Tuple[int, int]) -> None:
    """Append to a regular file of the rootfs (never through a symlink; created when missing)."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | os.O_NOCTTY
    created = False
    try:
        try:
            fd = _open_beneath(rootfs, path, flags)
        except FileNotFoundError:
            fd = _open_beneath(rootfs, path, flags | os.O_CREAT | os.O_EXCL)
            created = True
    except OSError as e:
        what = "is a symlink" if e.errno == errno.ELOOP else e.strerror
        raise StorageError("cannot add to %s in the container's rootfs: %s" % (path, what),
                           hint="set passwd: false to leave the image's %s alone" % path)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise StorageError("%s in the container's rootfs is not a regular file" % path,
                               hint="set passwd: false to leave the image's %s alone" % path)
        if created:
            os.fchown(fd, *owner)
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def apply(rootfs: str, run_dir: str, files: UserFiles, *, read_only: bool,
          owner: Tuple[int, int] = (0, 0)) -> Dict[str, str]:
    """Write the additions; returns {container path: RunDir copy to bind-mount} (read-only rootfs)."""
    mounts: Dict[str, str] = {}
    for path, text in (("/etc/passwd", files.passwd), ("/etc/group", files.group)):
        if not text:
            continue
        if read_only:
            base = read_rootfs_file(rootfs, path) or ""
            if base and not base.endswith("\n"):
                base += "\n"
            mounts[path] = write_run_file(run_dir, os.path.basename(path), base + text)
        else:
            _append(rootfs, path, text, owner)
    return mounts


def reader(rootfs: str, overrides: Mapping[str, str]) -> Callable[[str], Optional[str]]:
    """Reads a container file as the container will see it: a RunDir copy mounted over it, else the rootfs's."""
    def read(path: str) -> Optional[str]:
        if path in overrides:
            with open(overrides[path], encoding="utf-8", errors="replace") as f:
                return f.read()
        return read_rootfs_file(rootfs, path)
    return read
