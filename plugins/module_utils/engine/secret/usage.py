# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets inside a container: the per-container tmpfs, the bind mounts and the env values.

At each start the data of the container's mount-type secrets is written into a fresh tmpfs at
``<tmp_dir>/secrets/<ctr id>`` (mode 0700, nosuid/nodev/noexec, sized to the data) and each file
is bind-mounted read-only at its target. The data never touches the container's rootfs, its
layers or the graph root; the tmpfs goes at cleanup. Env-type secrets become environment
values of the container's process. Directory secrets (``type: dir``, what a Kubernetes ``secret``
volume becomes) are a directory of the tmpfs bind-mounted at the target, laid out as the kubelet
does (files in a ``..<generation>`` directory reached through a ``..data`` link), so that a new
value can be swapped in while the container runs (``refresh``).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..base.errors import StorageError
from ..host.mounts import MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_REMOUNT, is_mount_point, mount, umount_detach
from . import keys
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
        view = memoryview(data)
        while view:  # a full tmpfs makes a short write first, then ENOSPC: never a silently cut secret
            view = view[os.write(fd, view):]
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def _file_name(ref: Mapping[str, Any]) -> str:
    """The tmpfs entry of one reference: from its target, so two references never collide."""
    return "%s-%s" % ("d" if ref.get("type") == "dir" else "f",
                      hashlib.sha256(ref["target"].encode("utf-8", "surrogateescape")).hexdigest()[:16])


def _dir_files(name: str, data: bytes, ref: Mapping[str, Any]) -> Dict[str, Tuple[bytes, int]]:
    """{relative path: (value, mode)} of a directory secret (a Kubernetes secret volume)."""
    mode = int(ref.get("mode") if ref.get("mode") is not None else 0o644)
    items = ref.get("items")
    if items is None:
        return {key: (value, mode) for key, value in keys.all_keys(name, data).items()}
    out = {}
    for item in items:
        value = keys.key_value(name, data, item["key"])
        if value is None:
            if ref.get("optional"):
                continue
            raise keys.missing_key(name, item["key"])
        out[item["path"]] = (value, mode if item.get("mode") is None else int(item["mode"]))
    return out


def _resolve(manager, refs: Sequence[Mapping[str, Any]]):
    """(env values, [(ref, file data)], [(ref, {path: (data, mode)})]) of the container's secrets."""
    env: Dict[str, str] = {}
    files: List[Tuple[Mapping[str, Any], bytes]] = []
    dirs: List[Tuple[Mapping[str, Any], Dict[str, Tuple[bytes, int]]]] = []
    cache: Dict[str, Optional[bytes]] = {}
    for ref in refs:
        name = ref["name"]
        if name not in cache:
            sec = manager.find(name)
            if sec is None and not ref.get("optional"):
                manager.get(name)  # raises NoSuchSecret naming it
            cache[name] = None if sec is None else manager.driver(sec).lookup(sec.id)
        data = cache[name]
        if data is None:
            if ref.get("type") == "dir":
                dirs.append((ref, {}))  # Kubernetes: an optional volume of a missing secret is an empty directory
            continue
        if ref.get("type") == "dir":
            dirs.append((ref, _dir_files(name, data, ref)))
            continue
        value = keys.key_value(name, data, ref.get("key"))
        if value is None:
            if ref.get("optional"):
                continue
            raise keys.missing_key(name, ref["key"])
        if ref.get("type") == "env":
            env[ref["target"]] = value.decode("utf-8", "surrogateescape")
        else:
            files.append((ref, value))
    return env, files, dirs


def _write_generation(top: str, files: Mapping[str, Tuple[bytes, int]], uid: int, gid: int) -> None:
    """Kubernetes' atomic writer: the files in a new ``..<gen>`` directory, then ``..data`` swapped to it
    by one rename, then a ``<name> -> ..data/<name>`` link for each top-level name. A reader sees the
    old set or the new set, never a mix."""
    gen = "..%d_%s" % (time.time_ns(), os.urandom(4).hex())
    gen_path = os.path.join(top, gen)
    os.mkdir(gen_path, 0o755)
    for rel, (data, mode) in sorted(files.items()):
        parts = rel.split("/")
        sub = gen_path
        for part in parts[:-1]:
            sub = os.path.join(sub, part)
            if not os.path.isdir(sub):
                os.mkdir(sub, 0o755)
        _write(os.path.join(sub, parts[-1]), data, uid, gid, mode)
    tmp_link = os.path.join(top, "..data_tmp")
    if os.path.lexists(tmp_link):
        os.unlink(tmp_link)
    os.symlink(gen, tmp_link)
    os.rename(tmp_link, os.path.join(top, "..data"))
    wanted = {rel.split("/")[0] for rel in files}
    for entry in os.listdir(top):
        if entry.startswith(".."):
            if entry not in (gen, "..data"):
                shutil.rmtree(os.path.join(top, entry), ignore_errors=True)
        elif entry not in wanted:
            os.unlink(os.path.join(top, entry))
    for entry in sorted(wanted - set(os.listdir(top))):
        os.symlink(os.path.join("..data", entry), os.path.join(top, entry))


def prepare(manager, tmp_dir: str, ctr_id: str,
            refs: Sequence[Mapping[str, Any]]) -> Tuple[List[Dict[str, Any]], Dict[str, str]]:
    """(bind mounts for the spec, env values) of the secrets ``refs`` (the container's ``secrets``)."""
    env, files, dirs = _resolve(manager, refs)
    mounts: List[Dict[str, Any]] = []
    if not files and not dirs:
        return mounts, env
    where = secrets_dir(tmp_dir, ctr_id)
    release(tmp_dir, ctr_id)
    private_dir(where)
    sizes = [len(d) for _r, d in files] + [len(v) for _r, fs in dirs for v, _m in fs.values()]
    # directories hold two generations while one is swapped for the next (refresh)
    sizes += [len(v) for _r, fs in dirs for v, _m in fs.values()]
    mount("tmpfs", where, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=%d" % _tmpfs_size(sizes))
    try:
        for ref, data in files:
            path = os.path.join(where, _file_name(ref))
            _write(path, data, int(ref.get("uid") or 0), int(ref.get("gid") or 0), int(ref.get("mode") or 0o444))
            mounts.append({"type": "bind", "source": path, "destination": ref["target"],
                           "options": list(BIND_OPTIONS)})
        for ref, dfiles in dirs:
            top = os.path.join(where, _file_name(ref))
            os.mkdir(top, 0o755)
            _write_generation(top, dfiles, int(ref.get("uid") or 0), int(ref.get("gid") or 0))
            mounts.append({"type": "bind", "source": top, "destination": ref["target"],
                           "options": list(BIND_OPTIONS)})
    except BaseException:
        release(tmp_dir, ctr_id)
        raise
    return mounts, env


def refresh(manager, tmp_dir: str, ctr_id: str, refs: Sequence[Mapping[str, Any]], names: Sequence[str]) -> bool:
    """Swap in the current data of the directory secrets named ``names`` in a running container's tmpfs;
    False when there is no tmpfs to refresh (the next start writes the data anyway)."""
    where = secrets_dir(tmp_dir, ctr_id)
    if not is_mount_point(where):
        return False
    want = [r for r in refs if r["name"] in names and r.get("type") == "dir"]
    _env, _files, dirs = _resolve(manager, want)
    _make_room(where, [len(v) for _r, fs in dirs for v, _m in fs.values()])
    for ref, dfiles in dirs:
        top = os.path.join(where, _file_name(ref))
        if not os.path.isdir(top):
            return False
        try:
            _write_generation(top, dfiles, int(ref.get("uid") or 0), int(ref.get("gid") or 0))
        except OSError as exc:
            raise StorageError("cannot refresh the secrets of %s in %s: %s" % (ref["target"], where,
                                                                               exc.strerror or exc),
                               hint="recreate the container (its secrets tmpfs may be full)")
    return True


def _make_room(where: str, sizes: Sequence[int]) -> None:
    """Grow the tmpfs (a remount keeps its files and the container's bind mounts of it) when the new
    generation would not fit next to the old one."""
    need = _tmpfs_size(sizes)
    st = os.statvfs(where)
    if st.f_bavail * st.f_frsize >= need:
        return
    mount(None, where, None, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC,
          "mode=0700,size=%d" % (st.f_blocks * st.f_frsize + need))


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
