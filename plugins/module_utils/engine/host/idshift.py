# SPDX-License-Identifier: GPL-3.0-or-later
"""Shifting a tree's owners through a user-namespace mapping (what containers/storage's chown does).

A container with a uidmap sees a file owned by host ID H as container ID C when the mapping
says C -> H; an image's files owned by container root (0) must therefore be owned by the host
ID container 0 maps to. The tree is walked without following symlinks; ``lchown`` resets the
set-user/group-ID bits of a file, so the mode is put back afterwards (podman does the same).
An ID the mapping does not cover becomes the overflow ID (65534), which is how the kernel
shows it inside the namespace anyway. File capabilities (security.capability) are dropped by
the kernel on chown: a known difference to idmapped mounts, noted in docs/index.md.
"""
from __future__ import annotations

import os
import stat
from typing import Optional, Sequence

from ..parse.idmap import IDMap, host_id

__all__ = ["shift_tree", "OVERFLOW_ID"]

OVERFLOW_ID = 65534


def _map(maps: Sequence[IDMap], cid: int) -> int:
    hid: Optional[int] = host_id(maps, cid)
    return OVERFLOW_ID if hid is None else hid


def _shift(path: str, st: os.stat_result, uids: Sequence[IDMap], gids: Sequence[IDMap]) -> None:
    uid, gid = _map(uids, st.st_uid), _map(gids, st.st_gid)
    if (uid, gid) == (st.st_uid, st.st_gid):
        return
    os.lchown(path, uid, gid)
    if not stat.S_ISLNK(st.st_mode) and st.st_mode & (stat.S_ISUID | stat.S_ISGID):
        os.chmod(path, stat.S_IMODE(st.st_mode))


def shift_tree(root: str, uids: Sequence[IDMap], gids: Sequence[IDMap]) -> int:
    """Re-own every entry under ``root`` (``root`` too) from container IDs to host IDs; returns entries."""
    count = 0
    _shift(root, os.lstat(root), uids, gids)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            _shift(path, os.lstat(path), uids, gids)
            count += 1
    return count
