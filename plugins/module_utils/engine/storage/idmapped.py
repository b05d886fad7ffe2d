# SPDX-License-Identifier: GPL-3.0-or-later
"""ID-shifted copies of image root filesystems, one per (image, mapping), the overlay lower of containers
with a user namespace.

containers/storage, run as root without idmapped mounts, gives a container with a uidmap a
copy of the image's layers re-owned through the mapping. Here the image's layers are applied
once (as the vfs driver does) into ``<graph_root>/idmapped/<image id>/<mapping key>/root`` and
the copy is shifted (host/idshift.py); every container with the same image and mapping mounts
it as its single overlay lower. Disk cost: one full copy of the image per distinct mapping
(``userns: auto`` gives every container its own mapping, hence its own copy). A copy is removed
with the last container that uses it, and with its image.

Idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP, kernel >= 5.12 for overlay lowers 5.19) would
avoid the copy, but runc 1.1.5 cannot set them up and the engine's overlay lowers would need
them per layer; not used.
"""
from __future__ import annotations

import hashlib
import os
import re
from typing import List, Sequence

from ..base.errors import StorageError
from ..host.idshift import shift_tree
from ..parse.idmap import IDMap, format_idmaps
from .layers import rmtree
from .rootfs import apply_diff

__all__ = ["MappedRoots", "mapping_key"]

_KEY_RE = re.compile(r"^[0-9a-f]{16}\Z")
_ID_RE = re.compile(r"^[0-9a-f]{64}\Z")


def mapping_key(uids: Sequence[IDMap], gids: Sequence[IDMap]) -> str:
    """A short, stable name of one (uid, gid) mapping."""
    text = "u" + ",".join(format_idmaps(uids)) + ";g" + ",".join(format_idmaps(gids))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class MappedRoots:
    """The shifted copies under ``<graph_root>/idmapped``."""

    def __init__(self, graph_root: str):
        self.base = os.path.join(os.path.abspath(graph_root), "idmapped")

    def path(self, image_id: str, key: str) -> str:
        if not _ID_RE.fullmatch(image_id) or not _KEY_RE.fullmatch(key):
            raise StorageError("invalid ID-mapped copy name %s/%s" % (image_id, key))
        return os.path.join(self.base, image_id, key, "root")

    def ensure(self, image_id: str, layer_dirs: Sequence[str], uids: Sequence[IDMap], gids: Sequence[IDMap]) -> str:
        """The copy's root dir, built on first use (into a temp dir renamed into place)."""
        key = mapping_key(uids, gids)
        root = self.path(image_id, key)
        if os.path.isdir(root):
            return root
        parent = os.path.dirname(root)
        os.makedirs(parent, mode=0o711, exist_ok=True)
        for d in (self.base, os.path.dirname(parent), parent):  # the container's root passes through them
            os.chmod(d, 0o711)
        tmp = root + ".tmp-%d" % os.getpid()
        rmtree(tmp)
        os.mkdir(tmp, 0o755)
        try:
            for d in layer_dirs:
                apply_diff(d, tmp)
            shift_tree(tmp, uids, gids)
            os.rename(tmp, root)
        except OSError as e:
            rmtree(tmp)
            if os.path.isdir(root):  # built by another process meanwhile
                return root
            raise StorageError("cannot build the ID-mapped copy of image %s: %s" % (image_id[:12], e),
                               hint="check free space on the graph root (each mapping takes a full copy)")
        return root

    def keys(self, image_id: str) -> List[str]:
        try:
            return sorted(k for k in os.listdir(os.path.join(self.base, image_id)) if _KEY_RE.fullmatch(k))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def images(self) -> List[str]:
        try:
            return sorted(i for i in os.listdir(self.base) if _ID_RE.fullmatch(i))
        except FileNotFoundError:
            return []

    def remove(self, image_id: str, key: str) -> bool:
        """Delete one copy (the caller knows no container uses it); True when there was one."""
        d = os.path.dirname(self.path(image_id, key))
        if not os.path.lexists(d):
            return False
        rmtree(d)
        try:
            os.rmdir(os.path.join(self.base, image_id))
        except OSError:
            pass  # other mappings of the image remain
        return True

    def remove_image(self, image_id: str) -> List[str]:
        """Every copy of an image (the image is being removed)."""
        removed = [k for k in self.keys(image_id) if self.remove(image_id, k)]
        rmtree(os.path.join(self.base, image_id))
        return removed
