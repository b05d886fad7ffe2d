# SPDX-License-Identifier: GPL-3.0-or-later
"""A pull with its image event: the one pull every caller uses (image module, container module, pod infra).

``podman pull`` and a pull done by ``podman run``/``create`` both write a ``pull`` image event; doing the
pull and the event here keeps them together. Kept apart from image.py so that the container module does
not load the archive, importer and prune code for it.
"""
from __future__ import annotations

from typing import Any

from ..image.store import Image


def event(rt, status: str, img: Image, name: str = "") -> None:
    """An image event named by ``name`` (the reference as given), else the image's first name or ID."""
    rt.event("image", status, id=img.id, name=name or (img.names[0] if img.names else img.id))


def pull(rt, ref: str, **kw: Any) -> Image:
    """``rt.images.pull(ref, **kw)`` (insecure, auth, platform) and a ``pull`` event naming ``ref``."""
    img = rt.images.pull(ref, **kw)
    event(rt, "pull", img, ref)
    return img
