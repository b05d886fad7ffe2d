# SPDX-License-Identifier: GPL-3.0-or-later
"""Containers run from an exploded directory of the host (podman --rootfs PATH[:O]).

The directory is the container's root as it is (writes land in it), or with ``:O`` the lower
layer of an overlay whose upper directory is the container's own (writes are dropped with the
container). It is checked at create and again at every start: a directory whose path another
user could replace is refused (host/ownership.py, as the engine's own paths), a symlink is
resolved once and its target checked, never followed later.
"""
from __future__ import annotations

import os
from typing import Any, Mapping

from ..base.errors import InvalidArg
from ..host import ownership

#: podman's suffix for an overlay over the directory
OVERLAY_SUFFIX = ":O"


def rootfs_dir(cfg: Mapping[str, Any]) -> str:
    """The checked, symlink-free path of a container's rootfs directory."""
    path = str(cfg.get("rootfs") or "")
    if not path.startswith("/"):
        raise InvalidArg("rootfs: %r is not an absolute path" % path, hint="give image: the directory's absolute path")
    real = os.path.realpath(path)
    ownership.check_path(real, "rootfs directory")
    if not os.path.isdir(real):
        raise InvalidArg("rootfs: %s %s" % (path, "is not a directory" if os.path.exists(real) else "does not exist"),
                         hint="image: must name an existing directory holding the container's root filesystem")
    return real


def mount_root(rt, cfg: Mapping[str, Any], ctr_id: str) -> str:
    """The container's root: the directory itself, or the overlay over it (``:O``)."""
    path = rootfs_dir(cfg)
    if not cfg.get("rootfs_overlay"):
        return path
    return rt.storage.mount(ctr_id, [path])
