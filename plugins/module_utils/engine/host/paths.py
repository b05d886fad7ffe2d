# SPDX-License-Identifier: GPL-3.0-or-later
"""Resolving a user- or image-controlled path inside a root without ever leaving it."""
from __future__ import annotations

import os
import stat
from typing import List

from ..base.errors import StorageError

MAX_LINKS = 255


def secure_join(root: str, unsafe: str, max_links: int = MAX_LINKS) -> str:
    """Join ``unsafe`` under ``root`` resolving symlinks as if root were "/" (never escapes).

    ``root`` itself is resolved first (realpath), so the result is always a path below the real
    root. ``..`` stops at the root; absolute symlink targets restart at the root. Missing
    components are kept verbatim (minus ``..``), so the result can name a file to create.
    Like filepath-securejoin this is a lookup, not a guarantee against a concurrent rename:
    callers that write open the result with O_NOFOLLOW (or use fd-relative walks).
    """
    root = os.path.realpath(root)
    pending = [c for c in unsafe.split("/") if c]
    resolved: List[str] = []  # components below root, all existing non-symlinks
    links = 0
    while pending:
        comp = pending.pop(0)
        if comp == ".":
            continue
        if comp == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, comp)
        try:
            st = os.lstat(candidate)
        except OSError:
            # does not exist (or unreadable): keep the rest as plain names, minus ..
            resolved.append(comp)
            for rest in pending:
                if rest == ".":
                    continue
                if rest == "..":
                    if resolved:
                        resolved.pop()
                else:
                    resolved.append(rest)
            break
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > max_links:
                raise StorageError("too many symbolic links resolving %r in %s" % (unsafe, root))
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            pending = [c for c in target.split("/") if c] + pending
            continue
        resolved.append(comp)
    return os.path.join(root, *resolved)
