# SPDX-License-Identifier: GPL-3.0-or-later
"""The subordinate ID ranges a user owns (/etc/subuid, /etc/subgid), for user namespaces.

newuidmap/newgidmap (Debian package ``uidmap``) only map ranges these files grant, so the
rootless engine and ``subuidname``/``subgidname`` read them the same way, here. Parsing is
``parse.idmap.parse_subid_text``; this file only finds and reads the files.
"""
from __future__ import annotations

import os
import pwd
from typing import List, Optional, Tuple

from ..base.errors import EngineError
from ..parse.idmap import IDMap, parse_subid_text

__all__ = ["SUBUID_FILE", "SUBGID_FILE", "subid_ranges", "user_subids", "NoSubordinateIDs"]

SUBUID_FILE = "/etc/subuid"
SUBGID_FILE = "/etc/subgid"


class NoSubordinateIDs(EngineError):
    """The user has no range in /etc/subuid or /etc/subgid: no user namespace beyond one ID."""

    kind = "no_subordinate_ids"


def subid_ranges(user: str, uid: Optional[int] = None, path: str = SUBUID_FILE) -> List[IDMap]:
    """The ranges ``path`` grants ``user`` (or its numeric ``uid``); [] when the file is absent."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return []
    return parse_subid_text(text, user, uid)


def user_subids(uid: Optional[int] = None, *, subuid_file: str = SUBUID_FILE,
                subgid_file: str = SUBGID_FILE) -> Tuple[List[IDMap], List[IDMap]]:
    """(uid ranges, gid ranges) of the user ``uid`` (default: this process's), both required."""
    uid = os.getuid() if uid is None else uid
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = str(uid)
    uids = subid_ranges(name, uid, subuid_file)
    gids = subid_ranges(name, uid, subgid_file)
    missing = [p for p, r in ((subuid_file, uids), (subgid_file, gids)) if not r]
    if missing:
        raise NoSubordinateIDs(
            "user %s (uid %d) has no subordinate IDs in %s" % (name, uid, " and ".join(missing)),
            hint="grant a range as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s"
                 % name)
    return uids, gids
