# SPDX-License-Identifier: GPL-3.0-or-later
"""Opening the state DB without ever losing track of what exists (issues 14.2, 14.3, 22.4).

* A missing or 0-byte ``state.db`` beside a graph root or volume path that holds objects is an
  error, never a fresh start: the same task would otherwise start a second copy of a running
  container that the first copy's DB no longer knows.
* A damaged or foreign DB is an error naming the file and system_reset (dbconn.py).
* A reset opens an empty in-memory state instead of either, and says why (``damaged``): the
  reset then removes the engine's directories, as podman 4 does with a DB it cannot read.
* On a full filesystem a read-only open reads the file as immutable (changing nothing), another
  open releases the reserve kept beside the DB (reserve.py) and retries, so that inspecting and
  removing keep working.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import List

from ..base.errors import StateDBCorrupt, StateDBFull, StateDBMissing
from . import reserve
from .state import State

MEMORY = ":memory:"


@dataclass
class Opened:
    """The state DB as opened, with what opening it had to say."""

    state: State
    warnings: List[str] = field(default_factory=list)
    damaged: str = ""  # why the DB on disk was not used (a reset only)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def orphan_data(graph_root: str, volume_path: str, tmp_dir: str = "") -> List[str]:
    """What the engine's directories hold that only a state DB can own: containers' storage, unpacked
    layers, image blobs, volume directories, OCI runtime containers (under the tmp dir). Empty on a
    fresh host (the dirs may exist, empty)."""
    found = []
    places = []  # an empty path: not this root's to check (another root owns it)
    if graph_root:
        places += [(os.path.join(graph_root, "containers"), "container"),
                   (os.path.join(graph_root, "layers"), "layer"),
                   (os.path.join(graph_root, "blobs", "sha256"), "image blob")]
    if volume_path:
        places.append((volume_path, "volume"))
    runtimes = os.path.join(tmp_dir, "runtime") if tmp_dir else ""
    if runtimes and os.path.isdir(runtimes):
        places += [(os.path.join(runtimes, name), "%s container" % name) for name in sorted(os.listdir(runtimes))]
    for path, what in places:
        try:
            names = [n for n in os.listdir(path) if not n.startswith(".")]
        except OSError:
            continue
        if names:
            found.append("%d %s%s in %s" % (len(names), what, "" if len(names) == 1 else "s", path))
    return found


def open_state(db_path: str, *, namespace: str, graph_root: str, volume_path: str, read_only: bool,
               resetting: bool, tmp_dir: str = "") -> Opened:
    """The state DB at ``db_path`` (its directory is created unless ``read_only``)."""
    out = Opened(state=None)  # type: ignore[arg-type]
    try:
        target = db_path
        if _size(db_path) == 0:  # SQLite reads a 0-byte file as a new DB
            data = orphan_data(graph_root, volume_path, tmp_dir)
            if data:
                raise StateDBMissing(
                    "state DB %s is %s, but the engine's directories hold objects it no longer knows: %s; refusing "
                    "to start over with an empty DB (running containers would be started a second time)"
                    % (db_path, "empty" if os.path.exists(db_path) else "missing", ", ".join(data)),
                    hint="restore %s from a backup, or run libpod.engine.system_reset with confirm: true to remove "
                         "those objects and start over" % db_path)
            if read_only:
                target = MEMORY  # nothing exists yet: an empty state, and nothing written
        if target != MEMORY:
            os.makedirs(os.path.dirname(db_path), mode=0o700, exist_ok=True)
        out.state = _connect(target, namespace, read_only, out.warnings)
        out.state.tune()
    except (StateDBCorrupt, StateDBMissing) as exc:
        if not resetting:
            raise
        out.damaged = str(exc)
        out.warnings.append("%s: the reset removes the engine's directories without the DB's list of objects"
                            % exc.msg)
        out.state = State(MEMORY, namespace=namespace)
    return out


def _connect(db_path: str, namespace: str, read_only: bool, warnings: List[str]) -> State:
    try:
        state = State(db_path, namespace=namespace)
    except StateDBFull as exc:
        if db_path == MEMORY:
            raise
        if read_only and _size(db_path + "-wal") == 0:  # immutable ignores a WAL: only when it is empty
            state = State(db_path, namespace=namespace, immutable=True)
        elif reserve.release(db_path):
            warnings.append("%s: the engine released its reserve %s (%d MiB) so that this task can run; free space "
                            "on that filesystem before creating anything"
                            % (exc.msg, reserve.reserve_path(db_path), reserve.RESERVE_SIZE >> 20))
            state = State(db_path, namespace=namespace)
        else:
            raise
    if not read_only and db_path != MEMORY:
        reserve.ensure(db_path)
    return state
