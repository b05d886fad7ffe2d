# SPDX-License-Identifier: GPL-3.0-or-later
"""Image operations that touch more than the image store: events, and the containers that use an image.

The store (image/store.py) keeps images; this file is what ``podman pull/load/import/tag/untag/
rmi/save/image prune`` do around it: each change is an image event (as libpod's libimage runtime
writes them), and a forced removal removes the image's containers first (``podman rmi -f``).
"""
from __future__ import annotations

from typing import Any, List, Mapping, Optional, Tuple

from ..base.errors import ImageInUse
from ..image import archive, importer
from ..image import prune as pruner
from ..image.store import Image
from .container import find_container
from .imagepull import event


def users(rt, image_id: str) -> List[Tuple[str, str]]:
    """(container ID, name) of the containers created from the image."""
    return pruner.image_users(rt.state, image_id)


def import_archive(rt, ref: str, name: str, *, platform: Optional[str] = None) -> Image:
    """Import an archive/layout reference and point ``name`` at the image."""
    img = rt.images.pull(ref, platform=platform)
    if name not in img.names:
        img = rt.images.tag(img.id, name)
    event(rt, "import", img, name)
    return img


def import_rootfs(rt, plan: importer.RootfsPlan, name: str) -> Image:
    img = importer.import_rootfs(rt.images, plan, name)
    event(rt, "import", img, name)
    return img


def tag(rt, img: Image, name: str) -> Image:
    out = rt.images.tag(img.id, name)
    event(rt, "tag", out, name)
    return out


def untag(rt, img: Image, name: str) -> None:
    rt.images.untag(name)
    event(rt, "untag", img, name)


def refuse_in_use(name: str, img: Image, ctrs: List[Tuple[str, str]]) -> None:
    if ctrs:
        names = ", ".join(n for _i, n in ctrs)
        raise ImageInUse("image %s (%s) is in use by container(s) %s" % (name, img.short_id, names),
                         hint="remove those containers first, or set force: true, which removes them (in any state)")


def remove(rt, img: Image, *, force: bool = False, remove_users: bool = True) -> List[str]:
    """Remove the image; its containers block it unless ``force``, which removes them first
    (``remove_users=False`` keeps them and the layers they use, for a caller that removes them itself).
    Returns the names of the containers removed."""
    ctrs = users(rt, img.id)
    if not force:
        refuse_in_use(img.names[0] if img.names else img.short_id, img, ctrs)
    gone = []
    if remove_users:
        for cid, cname in ctrs:
            ctr = find_container(rt, cid)
            if ctr is not None:
                ctr.remove(force=True)
                gone.append(cname)
    rt.images.remove(img.id, force=True, in_use=None if remove_users else (lambda _i: [c for c, _n in ctrs]))
    event(rt, "remove", img)
    return gone


def save(rt, img: Image, path: str, fmt: str, names: List[str]) -> archive.Saved:
    saved = archive.save(rt.images, img, path, fmt, names)
    event(rt, "save", img, names[0] if names else "")
    return saved


def prune(rt, mode: str, filters: Mapping[str, Any], *, check_mode: bool = False) -> pruner.Pruned:
    """``podman image prune``: a remove event per image, then one prune event."""
    done = pruner.prune(rt.images, mode, filters, check_mode=check_mode)
    if not check_mode and done.removed:
        for img in done.removed:
            event(rt, "remove", img)
        rt.event("image", "prune", name="%d image(s), %d bytes" % (len(done.removed), done.bytes))
    return done
