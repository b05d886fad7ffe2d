# SPDX-License-Identifier: GPL-3.0-or-later
"""podman cp: copy between the host and a container's filesystem, running or not.

A container path is mapped to a host path without entering the container: the longest
mount destination that contains it (a named volume's data, a bind source) or else the
rootfs (mounted for the copy when the container is stopped), then resolved below that root
with host/paths.secure_join, so no symlink in the container leads outside its root. The
container's lock is held for the copy: it cannot start, stop or be removed meanwhile.

Limits (documented in the module): symlinks are resolved within the mount they are found in
(a rootfs symlink pointing into a volume resolves in the rootfs), and tmpfs mounts of a
running container are not reachable from the host.
"""
from __future__ import annotations

import grp
import os
import pwd
from contextlib import contextmanager
from typing import Callable, Iterator, List, Optional, Tuple

from ..base.errors import InvalidArg
from ..base.status import RUNNING
from ..host.paths import secure_join
from ..host.treecopy import CopyOptions, copy_tree
from ..oci.etcfiles import resolve_user
from .userns import rootfs_layers, to_host


def _mount_root(rt, ctr) -> str:
    """The stopped container's root, mounted for the copy (a rootfs directory is used as it is)."""
    if ctr.config.get("rootfs"):
        from .rootfsdir import mount_root  # noqa: PLC0415 - only containers run from a directory

        return mount_root(rt, ctr.config, ctr.id)
    return rt.storage.mount(ctr.id, rootfs_layers(rt, ctr.config, rt.images.get(ctr.config["image_id"])))


def _norm(path: str, what: str) -> str:
    if not path.startswith("/"):
        raise InvalidArg("%s: %r is not an absolute path in the container" % (what, path),
                         hint="give the full path, e.g. /etc/app.conf")
    return os.path.normpath(path) if path != "/" else "/"


@contextmanager
def container_fs(ctr) -> Iterator[Callable[[str], str]]:
    """Under the container's lock: a function mapping a container path to a safe host path."""
    rt = ctr.rt
    with ctr.locked():
        ctr.sync()
        mounted_here = False
        vols: List[str] = []
        try:
            rootfs = ctr.state.get("mountpoint") if ctr.status == RUNNING else None
            if not rootfs:
                was = rt.storage.mounted(ctr.id)
                rootfs = _mount_root(rt, ctr)
                mounted_here = not was
            roots: List[Tuple[str, Optional[str]]] = []  # (destination, host source; None = unreachable)
            for m in ctr.config.get("mounts", []):
                dest = os.path.normpath(m.get("destination") or "/")
                if m["type"] == "volume":
                    vols.append(m["source"])
                    roots.append((dest, rt.volumes.mount(m["source"])))
                elif m["type"] == "bind":
                    roots.append((dest, m["source"]))
                else:
                    roots.append((dest, None))
            roots.sort(key=lambda r: len(r[0]), reverse=True)

            def resolve(path: str) -> str:
                p = _norm(path, "path")
                for dest, source in roots:
                    if p == dest or p.startswith(dest.rstrip("/") + "/"):
                        if source is None:
                            raise InvalidArg("%s is on a %s mount of container %s, not reachable from the host"
                                             % (path, "tmpfs", ctr.name), hint="copy to a path on the rootfs or "
                                             "a volume")
                        return secure_join(source, p[len(dest):] or "/")
                return secure_join(rootfs, p)

            yield resolve
        finally:
            for v in vols:
                rt.volumes.unmount(v)
            if mounted_here and ctr.status != RUNNING:
                rt.storage.unmount(ctr.id)


def _ids(spec: Optional[str], lookup: Callable[[str], Tuple[int, int]]) -> Tuple[Optional[int], Optional[int]]:
    if not spec:
        return None, None
    return lookup(spec)


def _host_owner(spec: str) -> Tuple[int, int]:
    user, _sep, group = spec.partition(":")
    try:
        pw = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
        uid, gid = pw.pw_uid, pw.pw_gid
    except KeyError:
        if not user.isdigit():
            raise InvalidArg("owner: user %r not found on the host" % user, hint="use a numeric uid")
        uid, gid = int(user), int(user)
    if group:
        try:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        except KeyError:
            raise InvalidArg("owner: group %r not found on the host" % group, hint="use a numeric gid")
    return uid, gid


def copy_into(ctr, src: str, dest: str, *, mode: Optional[int] = None, owner: Optional[str] = None,
              force: bool = True, check_mode: bool = False) -> List[str]:
    """Host ``src`` -> container ``dest``; the container paths that changed. ``owner`` is resolved in
    the container's /etc/passwd (default root, as podman cp)."""
    src = os.path.abspath(src)
    if not os.path.lexists(src):
        raise InvalidArg("src: %s does not exist on the host" % src)
    dest = _dest_name(src, dest)
    with container_fs(ctr) as resolve:
        uid, gid = _ids(owner, lambda s: _ctr_owner(resolve, s))
        uid, gid = to_host(ctr.config, 0 if uid is None else uid, 0 if gid is None else gid)
        opts = CopyOptions(mode=mode, uid=uid, gid=gid, force=force, check_mode=check_mode)
        return copy_tree(src, dest, resolve, opts)


def _ctr_owner(resolve: Callable[[str], str], spec: str) -> Tuple[int, int]:
    u = resolve_user(resolve("/"), spec)
    return u.uid, u.gid


def copy_out(ctr, src: str, dest: str, *, mode: Optional[int] = None, owner: Optional[str] = None,
             force: bool = True, check_mode: bool = False) -> List[str]:
    """Container ``src`` -> host ``dest``; the host paths that changed. Symlinks inside the copied
    tree are copied as symlinks, never followed."""
    _norm(src, "src")
    uid, gid = _ids(owner, _host_owner)
    with container_fs(ctr) as resolve:
        host_src = resolve(src)
        if not os.path.lexists(host_src):
            raise InvalidArg("src: %s does not exist in container %s" % (src, ctr.name))
        dest = _dest_name(host_src, dest)
        opts = CopyOptions(mode=mode, uid=uid, gid=gid, force=force, check_mode=check_mode)
        return copy_tree(host_src, os.path.abspath(dest), os.path.abspath, opts)


def _dest_name(src: str, dest: str) -> str:
    """``dest/`` means "into this directory" (keeps the source's name); else dest is the new name."""
    if dest.endswith("/") and dest != "/":
        return dest + os.path.basename(src.rstrip("/"))
    if dest == "/":
        return "/" + os.path.basename(src.rstrip("/"))
    return dest
