# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets inside a container: the per-container tmpfs, the bind mounts and the env values.

At each start the data of the container's mount-type secrets is written into a fresh tmpfs at
``<tmp_dir>/secrets/<ctr id>`` (mode 0700, nosuid/nodev/noexec, sized to the data) and each file
is bind-mounted read-only at its target. The data never touches the container's rootfs, its
layers or the graph root; the tmpfs goes at cleanup. Env-type secrets become environment
values of the container's process.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from ..base.errors import StorageError
from ..host.mounts import MS_NODEV, MS_NOEXEC, MS_NOSUID, is_mount_point, mount, umount_detach
from .drivers import private_dir

PAGE = 4096
BIND_OPTIONS = ["bind", "ro", "rprivate", "nosuid", "noexec", "nodev"]


def secrets_dir(tmp_dir: str, ctr_id: str) -> str:
    return os.path.join(tmp_dir, "secrets", ctr_id)


def _tmpfs_size(sizes: Sequence[int]) -> int:
    """Every file rounded up to whole pages, plus slack for the directory."""
    return sum((n + PAGE - 1) // PAGE * PAGE for n in sizes) + 16 * PAGE


def _write(path: str, data: bytes, uid: int, gid: int, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, data)
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def prepare(manager, tmp_dir: str, ctr_id: str,
            refs: Sequence[Mapping[str, Any]]) -> Tuple[List[Dict[str, Any]], Dict[str, str]]:
    """(bind mounts for the spec, env values) of the secrets ``refs`` (the container's ``secrets``)."""
    env: Dict[str, str] = {}
    files: List[Tuple[Mapping[str, Any], bytes]] = []
    for ref in refs:
        data = manager.lookup(ref["name"])
        if ref.get("type") == "env":
            env[ref["target"]] = data.decode("utf-8", "surrogateescape")
        else:
            files.append((ref, data))
    mounts: List[Dict[str, Any]] = []
    if not files:
        return mounts, env
    where = secrets_dir(tmp_dir, ctr_id)
    release(tmp_dir, ctr_id)
    private_dir(where)
    mount("tmpfs", where, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
          "mode=0700,size=%d" % _tmpfs_size([len(d) for _r, d in files]))
    try:
        for ref, data in files:
            path = os.path.join(where, ref["name"])  # a validated name: one path component
            _write(path, data, int(ref.get("uid") or 0), int(ref.get("gid") or 0), int(ref.get("mode") or 0o444))
            mounts.append({"type": "bind", "source": path, "destination": ref["target"],
                           "options": list(BIND_OPTIONS)})
    except BaseException:
        release(tmp_dir, ctr_id)
        raise
    return mounts, env


def release(tmp_dir: str, ctr_id: str) -> None:
    """Unmount and remove the container's secrets tmpfs (nothing to do when there is none)."""
    where = secrets_dir(tmp_dir, ctr_id)
    if not os.path.lexists(where):
        return
    while is_mount_point(where):
        if not umount_detach(where):
            raise StorageError("cannot unmount the secrets tmpfs %s" % where)
    try:
        os.rmdir(where)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise StorageError("cannot remove %s: %s" % (where, exc.strerror or exc))
