# SPDX-License-Identifier: GPL-3.0-or-later
"""A blob's digest as the hex name of its file (blobs/sha256/<hex>, layers/<hex>).

Apart from layers.py (the layer unpacker), which the image store imports only to pull, import or
remove: a task that looks an image up does not load it (issue 20).
"""
from __future__ import annotations

from ..base.errors import ImageError


def hex_of(digest: str) -> str:
    """The 64-hex part of a ``sha256:<hex>`` digest, validated (it becomes a path)."""
    algo, _unused, hexpart = digest.partition(":")
    if not hexpart:
        algo, hexpart = "sha256", algo
    if algo != "sha256" or len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise ImageError("invalid digest %r" % digest, hint="only sha256:<64 lowercase hex> digests are supported")
    return hexpart
