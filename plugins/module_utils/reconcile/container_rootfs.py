# SPDX-License-Identifier: GPL-3.0-or-later
"""``rootfs: true``: ``image`` is a directory of the managed host the container runs from
(podman --rootfs PATH[:O]); the engine side is engine/objects/rootfsdir.py.

The declared image is the normalised path (plus ``:O``), compared exactly: another path
recreates the container, the same path is no change whatever the directory holds (as podman,
which does not look into it either).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

from ..engine.base.errors import InvalidArg
from ..engine.objects.rootfsdir import OVERLAY_SUFFIX, rootfs_dir


@dataclass(frozen=True)
class RootfsImage:
    """What reconcile uses in place of an image for a container run from a directory."""

    path: str
    overlay: bool
    id: str = ""  # no image ID: compared as equal between two rootfs containers
    is_rootfs: bool = True  # what reconcile asks without importing this module


def canonical(image: Any) -> str:
    """``/srv/root/`` -> ``/srv/root``; ``/srv/root:O`` keeps its suffix. Refuses what podman's
    --rootfs would not take here."""
    text = str(image or "").strip()
    overlay = text.endswith(OVERLAY_SUFFIX)
    path = text[:-len(OVERLAY_SUFFIX)] if overlay else text
    if ":" in path:
        opt = path.rpartition(":")[2]
        raise InvalidArg("rootfs: option %r of image %s is not supported" % (opt, text),
                         hint="give image: /path/to/root, or /path/to/root:O for an overlay over it "
                              "(idmap: use uidmap on an image instead)")
    if not path.startswith("/"):
        raise InvalidArg("rootfs: true needs image: to be an absolute directory path, not %r" % text,
                         hint="for example image: /srv/roots/web (or /srv/roots/web:O)")
    return os.path.normpath(path) + (OVERLAY_SUFFIX if overlay else "")


def rootfs_image(declared: Mapping[str, Any], check_mode: bool = False, warnings: Any = None) -> RootfsImage:
    """The checked directory of a declared rootfs container. Check mode only warns about a directory
    that does not exist yet (an earlier task of the play may create it); every other check applies."""
    text = declared["image"]
    overlay = text.endswith(OVERLAY_SUFFIX)
    path = text[:-len(OVERLAY_SUFFIX)] if overlay else text
    for param in ("userns", "uidmap", "gidmap", "subuidname", "subgidname"):
        if declared.get(param):
            raise InvalidArg("rootfs: true cannot be combined with %s (the directory is used as it is)" % param,
                             hint="drop %s, or import the directory as an image" % param)
    if check_mode and warnings is not None and not os.path.lexists(path):
        warnings.append("check mode: rootfs directory %s does not exist (yet); a real run fails unless an earlier "
                        "task creates it" % path)
    else:
        rootfs_dir({"rootfs": path})
    return RootfsImage(path=path, overlay=overlay)
