# SPDX-License-Identifier: GPL-3.0-or-later
"""The ID mappings of an existing user namespace (``userns: ns:/path``), read from inside it.

A process inside the namespace reading /proc/self/uid_map sees its mappings with host IDs
(relative to the parent namespace, the host's for a namespace made by root). nsenter(1) from
util-linux enters it; this runs once, when a container joining the namespace is created.
"""
from __future__ import annotations

import shutil
import subprocess
from typing import List, Tuple

from ..base.errors import InvalidArg
from ..parse.idmap import IDMap

__all__ = ["namespace_maps"]


def _parse(text: str) -> List[IDMap]:
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            out.append(IDMap(int(parts[0]), int(parts[1]), int(parts[2])))
    return out


def namespace_maps(path: str, param: str = "userns") -> Tuple[List[IDMap], List[IDMap]]:
    """(uid maps, gid maps) of the user namespace at ``path``; InvalidArg when it cannot be entered."""
    nsenter = shutil.which("nsenter")
    if not nsenter:
        raise InvalidArg("%s: ns:%s needs nsenter (util-linux) to read the namespace's mappings" % (param, path))
    maps = []
    for name in ("uid_map", "gid_map"):
        try:
            p = subprocess.run([nsenter, "--user=" + path, "--", "cat", "/proc/self/" + name],
                               capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError) as e:
            raise InvalidArg("%s: cannot enter the user namespace %s: %s" % (param, path, e))
        if p.returncode != 0:
            raise InvalidArg("%s: cannot enter the user namespace %s: %s" % (param, path, p.stderr.strip()),
                             hint="give the path of a user namespace file, e.g. /proc/<pid>/ns/user")
        maps.append(_parse(p.stdout))
    if not maps[0] or not maps[1]:
        raise InvalidArg("%s: the user namespace %s has no ID mappings" % (param, path),
                         hint="write its uid_map and gid_map first")
    return maps[0], maps[1]
