# SPDX-License-Identifier: GPL-3.0-or-later
"""Read-only lookups in an image's unpacked layers as overlayfs would merge them, without mounting.

Check mode predicts what a start would find in the container's rootfs (the user in
/etc/passwd, the command on PATH) and must not mount anything, so it walks the layer
directories itself: the top-most layer holding a path wins, an overlay whiteout (char
device 0/0) hides the path in lower layers, an opaque directory
(``trusted.overlay.opaque=y``) hides the lower layers' content of that directory, and
symlinks are followed inside the merged view (absolute targets from its root).
Answers are best effort: ``None`` means "not found", OSError surprises are the caller's.
"""
from __future__ import annotations

import os
import stat
from typing import List, Optional, Sequence, Tuple

_MAX_LINKS = 40  # as the kernel's MAXSYMLINKS
_MAX_READ = 4 * 1024 * 1024


def _whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _opaque(path: str) -> bool:
    try:
        return os.getxattr(path, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
    except OSError:
        return False


class LayerView:
    """The merged view of ``layers`` (unpacked diff dirs, base first, as ``layer_dirs`` returns them)."""

    def __init__(self, layers: Sequence[str]):
        self.top_first = list(reversed(list(layers)))

    def _entry(self, comps: List[str]) -> Optional[Tuple[str, os.stat_result]]:
        """Host path and lstat of the merged entry at ``comps`` (no symlink in comps[:-1])."""
        for layer in self.top_first:
            cur = layer
            hidden = False  # an opaque directory on the way hides every lower layer
            for i, comp in enumerate(comps):
                nxt = os.path.join(cur, comp)
                try:
                    st = os.lstat(nxt)
                except (FileNotFoundError, NotADirectoryError):
                    break
                if _whiteout(st):
                    return None
                if i == len(comps) - 1:
                    return nxt, st
                if not stat.S_ISDIR(st.st_mode):
                    return None  # a file here hides lower layers' directory of that name
                cur = nxt
                hidden = hidden or _opaque(cur)
            if hidden:
                return None
        return None

    def resolve(self, path: str, follow: bool = True) -> Optional[Tuple[str, os.stat_result]]:
        """The merged entry at the absolute ``path`` (its symlinks followed), None when missing."""
        todo = [c for c in path.split("/") if c]
        done: List[str] = []
        links = 0
        while todo:
            comp = todo.pop(0)
            if comp == ".":
                continue
            if comp == "..":
                if done:
                    done.pop()
                continue
            found = self._entry(done + [comp])
            if found is None:
                return None
            host, st = found
            if stat.S_ISLNK(st.st_mode) and (todo or follow):
                links += 1
                if links > _MAX_LINKS:
                    return None
                target = os.readlink(host)
                if target.startswith("/"):
                    done = []
                todo = [c for c in target.split("/") if c] + todo
                continue
            done.append(comp)
            if not todo:
                return host, st
        return None  # the root itself

    def read_text(self, path: str) -> Optional[str]:
        """Text of the regular file at ``path`` (UTF-8, errors replaced), None when missing."""
        found = self.resolve(path)
        if found is None or not stat.S_ISREG(found[1].st_mode):
            return None
        with open(found[0], "rb") as f:
            return f.read(_MAX_READ).decode("utf-8", "replace")

    def is_executable(self, path: str) -> bool:
        """A regular file with an execute bit at ``path``."""
        found = self.resolve(path)
        return found is not None and stat.S_ISREG(found[1].st_mode) and bool(found[1].st_mode & 0o111)
