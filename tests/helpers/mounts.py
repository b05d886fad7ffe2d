# SPDX-License-Identifier: GPL-3.0-or-later
"""Mount points below a test's (or bench's) directories, read with the engine's one mountinfo
parser (host.mounts), for the leak checks and teardowns."""
from __future__ import annotations

from typing import Iterable, List

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import mounts


def mounts_below(dirs: Iterable[str]) -> List[str]:
    """Mount points at or below any of ``dirs`` (symlinks resolved), deepest first: the order to
    unmount them."""
    found = {point for d in dirs for point in mounts.mounts_under(d)}
    return sorted(found, key=lambda m: (-m.count("/"), m))
