# SPDX-License-Identifier: GPL-3.0-or-later
"""Which engine root owns a path: markers in the paths and a host-wide registry of live roots.

Several engine roots may share a host (tests, per-team roots, many inventory hosts on one
machine). A root is named by its static dir (where its DB lives). Every directory a root
writes (static dir, tmp dir, graph root, run root, volume path) gets a marker file
``.libpod-engine-root`` naming that root, and ``/run/libpod-engine/roots/`` holds one JSON
file per root listing its paths (a tmpfs: it is rebuilt by the roots' next opens after a
boot). A root refuses to start on, or reset, a path that holds another root's marker or that
is equal to, inside or above a path another root records. A marker or registry entry whose
root has no DB any more is stale and ignored.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Dict, Iterable, Iterator, List, Optional

from ..base.errors import RootConflict
from .files import write_atomic
from .userpaths import ROOT_REGISTRY_DIR, registry_dir

MARKER = ".libpod-engine-root"
#: host-wide registry (roots, bridges) on a tmpfs: it describes what exists during this boot
#: (a rootless user's roots are registered in its runtime dir: userpaths.registry_dir)
REGISTRY_DIR = ROOT_REGISTRY_DIR


@dataclass(frozen=True)
class RootId:
    """An engine root: its static dir (realpath) and DB."""

    static_dir: str
    db_path: str

    @classmethod
    def of(cls, static_dir: str) -> RootId:
        real = os.path.realpath(static_dir)
        return cls(real, os.path.join(real, "state.db"))

    def alive(self) -> bool:
        """A root exists while its DB does (a marker of a removed root is stale)."""
        return os.path.exists(self.db_path)


def read_json(path: str) -> Optional[dict]:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        return doc if isinstance(doc, dict) else None
    except (OSError, ValueError):
        return None


def write_json(path: str, doc: dict, mode: int = 0o644) -> None:
    """write_atomic of a JSON document, skipped when the content is already there."""
    text = json.dumps(doc, sort_keys=True)
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except OSError:
        pass
    write_atomic(path, text, mode=mode)


@contextmanager
def registry_lock(name: str, registry: Optional[str] = None) -> Iterator[str]:
    """flock on ``<registry>/<name>.lock``; yields ``<registry>/<name>`` (a directory)."""
    folder = os.path.join(registry or registry_dir(), name)
    os.makedirs(folder, mode=0o755, exist_ok=True)
    fd = os.open(folder + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield folder
    finally:
        os.close(fd)


def marker_owner(path: str) -> Optional[RootId]:
    """The live root whose marker is in ``path`` or in one of its parents (None if none)."""
    cur = os.path.realpath(path)
    while True:
        doc = read_json(os.path.join(cur, MARKER))
        if doc and doc.get("static_dir"):
            owner = RootId.of(doc["static_dir"])
            if owner.alive():
                return owner
        parent = os.path.dirname(cur)
        if parent == cur:
            return None
        cur = parent


def _overlap(a: str, b: str) -> bool:
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")


def _entry_path(folder: str, root: RootId) -> str:
    return os.path.join(folder, hashlib.sha256(root.static_dir.encode()).hexdigest()[:24] + ".json")


def _conflict(me: RootId, key: str, path: str, other: RootId, why: str) -> RootConflict:
    return RootConflict(
        "engine root %s: %s %s %s engine root %s" % (me.static_dir, key, path, why, other.static_dir),
        hint="give this root paths of its own (static_dir, tmp_dir, graph_root, run_root, volume_path "
             "in containers.conf or engine_options); each root owns its paths")


def find_conflicts(me: RootId, paths: Dict[str, str], registry: Optional[str] = None,
                   stale: Optional[List[str]] = None) -> List[RootConflict]:
    """Every path of ``paths`` (key -> path) that another live root owns (marker or registry);
    registry entries of roots without a DB are appended to ``stale``."""
    out: List[RootConflict] = []
    stale = [] if stale is None else stale
    real = {k: os.path.realpath(p) for k, p in paths.items() if p}
    for key, path in real.items():
        owner = marker_owner(path)
        if owner is not None and owner.static_dir != me.static_dir:
            out.append(_conflict(me, key, path, owner, "holds a marker of"))
    folder = os.path.join(registry or registry_dir(), "roots")
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        names = []
    for name in names:
        doc = read_json(os.path.join(folder, name)) if name.endswith(".json") else None
        if not doc or not doc.get("static_dir"):
            continue
        other = RootId.of(doc["static_dir"])
        if other.static_dir == me.static_dir:
            continue
        if not other.alive():
            stale.append(os.path.join(folder, name))
            continue
        theirs = doc.get("paths") or {}
        for key, path in real.items():
            hit = next((p for p in theirs.values() if p and _overlap(path, p)), None)
            if hit and not any(c.msg.startswith("engine root %s: %s " % (me.static_dir, key)) for c in out):
                out.append(_conflict(me, key, path, other, "is %s, recorded by" % (
                    "the same path as %s" % hit if hit == path else "nested with %s" % hit)))
    return out


def check_paths(me: RootId, paths: Dict[str, str], registry: Optional[str] = None,
                stale: Optional[List[str]] = None) -> None:
    """Raise RootConflict naming both roots if another root owns one of ``paths``."""
    found = find_conflicts(me, paths, registry, stale)
    if found:
        first = found[0]
        if len(found) > 1:
            first.msg += " (and %d more: %s)" % (len(found) - 1, "; ".join(c.msg for c in found[1:]))
        raise first


def claim_paths(me: RootId, paths: Dict[str, str], registry: Optional[str] = None,
                create: Iterable[str] = ()) -> None:
    """Check, create the ``create`` keys' directories (0700), mark every existing path of ours and
    record them in the host registry."""
    entry = {"static_dir": me.static_dir, "paths": {k: os.path.realpath(p) for k, p in paths.items() if p}}
    with registry_lock("roots", registry) as folder:
        # Our entry, unchanged, is a claim checked since boot (the registry is on a tmpfs), and every
        # root that claimed after it was checked against it: the scan of every root's entry and marker
        # (~10 ms per task with 50 roots on a host) is needed only for a new or changed claim.
        if read_json(_entry_path(folder, me)) != entry:
            stale: List[str] = []
            check_paths(me, paths, registry, stale)
            for path in stale:  # roots removed without a reset (rm -rf of a test root)
                try:
                    os.unlink(path)
                except OSError:
                    pass
        for key in create:
            if paths.get(key):
                os.makedirs(paths[key], mode=0o700, exist_ok=True)
        for path in dict.fromkeys(os.path.realpath(p) for p in paths.values() if p):
            if os.path.isdir(path):
                write_json(os.path.join(path, MARKER), {"static_dir": me.static_dir, "db": me.db_path})
        write_json(_entry_path(folder, me), entry)


def forget_root(me: RootId, registry: Optional[str] = None, drop_empty: bool = False) -> bool:
    """Drop the root's registry entry (after a reset removed it). ``drop_empty``: also remove the
    registry itself when no root is left in it and it holds nothing else (a rootless user's, in its
    runtime dir: a reset leaves nothing there). True when the registry was removed."""
    folder = os.path.join(registry or registry_dir(), "roots")
    try:
        with registry_lock("roots", registry) as folder:
            os.unlink(_entry_path(folder, me))
    except OSError:
        pass
    if not drop_empty:
        return False
    top = os.path.dirname(folder)
    try:
        with registry_lock("roots", registry):
            if os.listdir(folder) or set(os.listdir(top)) != {"roots", "roots.lock"}:
                return False
            os.rmdir(folder)
            os.unlink(folder + ".lock")  # waiters on it find no root to conflict with either
        os.rmdir(top)
    except OSError:
        return False
    return True
