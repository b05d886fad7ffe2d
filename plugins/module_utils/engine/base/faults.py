# SPDX-License-Identifier: GPL-3.0-or-later
"""Named fault points, and the intent journal that lets the next run repair an interrupted mutation.

Fault points (tests/fault): ``point("container.start.after_network")`` kills the process with
SIGKILL right there when ``LIBPOD_ENGINE_FAULT`` names that point (or is a comma list naming it).
Otherwise it costs one ``os.environ.get``. conmon's exit command never sees the variable (conmon's
environment is set from ``conmon_env_vars``), so only the module process dies.

Intent journal: a multi-step mutation (create, start, stop, remove of a container, volume removal,
pod recreate) first writes a row ``dirty/<kind>/<id>`` into the ``meta`` table (its own committed
transaction, so that it survives a rollback of the mutation's transaction), and deletes it when it
finished. The row names the process (pid, its start time and the boot ID). A process killed
half-way leaves the row behind; the next runtime open finds it with one indexed query (the warm
path pays nothing else), sees that its owner is dead, and runs ``repair.repair`` for that object
only: no scan of the host on every module call.
"""
from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Tuple

ENV = "LIBPOD_ENGINE_FAULT"
PREFIX = "dirty/"
# every key of the journal sorts in [PREFIX, PREFIX_END): one range scan of the meta primary key
PREFIX_END = "dirty0"

#: the points the engine calls, for tests and docs (a name not listed here never fires)
POINTS = (
    "container.create.after_db_insert",
    "container.create.after_storage",
    "container.create.after_commit",
    "container.start.after_rootfs",
    "container.start.after_volumes",
    "container.start.after_network",
    "container.start.after_conmon_create",
    "container.start.after_runtime_start",
    "container.stop.after_kill",
    "container.remove.after_stop",
    "container.remove.after_storage",
    "container.remove.after_db_delete",
    "volume.remove.after_unmount",
    "volume.remove.after_record_delete",
    "pod.recreate.after_remove",
    "pod.recreate.after_create",
    "image.import.after_unpack",
)


def point(name: str) -> None:
    """SIGKILL this process when LIBPOD_ENGINE_FAULT names ``name``."""
    wanted = os.environ.get(ENV)
    if wanted and (wanted == name or name in wanted.split(",")):
        os.kill(os.getpid(), 9)


# -- process identity ---------------------------------------------------------------------------
_BOOT_ID: List[str] = []


def boot_id() -> str:
    if not _BOOT_ID:
        try:
            with open("/proc/sys/kernel/random/boot_id") as f:
                _BOOT_ID.append(f.read().strip())
        except OSError:
            _BOOT_ID.append("")
    return _BOOT_ID[0]


def proc_start(pid: int) -> Optional[int]:
    """The process' start time (clock ticks after boot, /proc/PID/stat field 22); None if gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data.rsplit(b")", 1)[-1].split()
    try:
        if rest[0] == b"Z":
            return None  # a zombie has finished its work
        return int(rest[19])
    except (IndexError, ValueError):
        return None


_SELF: List[Tuple[int, Optional[int]]] = []


def _owner() -> Dict[str, Any]:
    pid = os.getpid()
    if not _SELF or _SELF[0][0] != pid:  # (a fork gets its own identity)
        _SELF[:] = [(pid, proc_start(pid))]
    return {"pid": pid, "start": _SELF[0][1], "boot": boot_id()}


def owner_alive(entry: Dict[str, Any]) -> bool:
    """Is the process that wrote a journal entry still running (same boot, same start time)?"""
    if entry.get("boot") and entry.get("boot") != boot_id():
        return False
    pid = entry.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    start = proc_start(pid)
    return start is not None and (entry.get("start") is None or start == entry.get("start"))


def owner_tag() -> str:
    """``<pid>.<start>`` of this process, for temp names that a later run must be able to judge."""
    o = _owner()
    return "%d.%s" % (o["pid"], o["start"] if o["start"] is not None else 0)


def tag_alive(tag: str) -> bool:
    """Is the process an ``owner_tag`` names still running? (unparsable: assume it is)"""
    pid, _sep, start = tag.partition(".")
    try:
        entry = {"pid": int(pid), "start": int(start) if start and start != "0" else None}
    except ValueError:
        return True
    return owner_alive(entry)


# -- the journal --------------------------------------------------------------------------------
def key(kind: str, obj_id: str) -> str:
    return "%s%s/%s" % (PREFIX, kind, obj_id)


#: intents this process holds, by key: nested operations (a remove stops first) share the outer one
_HELD: Dict[str, int] = {}


def begin(state, kind: str, obj_id: str, op: str, **data: Any) -> str:
    """Record the intent to mutate ``kind/obj_id`` (committed at once); returns the key.

    Inside another intent of this process on the same object only a depth is counted.
    """
    k = key(kind, obj_id)
    if _HELD.get(k):
        _HELD[k] += 1
        return k
    entry = dict(data, op=op, kind=kind, id=obj_id, ts=time.time(), **_owner())
    with state.tx():
        state.conn.execute("INSERT INTO meta(key, value) VALUES(?,?) "
                           "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                           (k, json.dumps(entry, sort_keys=True)))
    _HELD[k] = 1
    return k


def end(state, kind: str, obj_id: str) -> None:
    """The mutation finished: forget the intent (only our own entry, when the outermost one ends).

    An exception between begin and end skips end: the entry stays until this process exits,
    then the next runtime open checks the object.
    """
    k = key(kind, obj_id)
    depth = _HELD.get(k, 0) - 1
    if depth > 0:
        _HELD[k] = depth
        return
    _HELD.pop(k, None)
    with state.tx():
        state.conn.execute("DELETE FROM meta WHERE key=? AND json_extract(value, '$.pid')=?",
                           (k, os.getpid()))


def container_data(config: Dict[str, Any]) -> Dict[str, Any]:
    """What repair needs of a container whose record may be gone: runtime, volumes, bridges."""
    mounts = [m for m in config.get("mounts") or [] if m.get("type") == "volume" and m.get("source")]
    net = config.get("network") or {}
    return {"runtime": config.get("oci_runtime"),
            "volumes": [m["source"] for m in mounts],
            "anonymous": [m["source"] for m in mounts if m.get("anonymous")],
            "networks": list(net.get("networks") or [""]) if net.get("mode", "bridge") == "bridge" else []}


@contextmanager
def intent(state, kind: str, obj_id: str, op: str, **data: Any) -> Iterator[None]:
    """``begin`` ... ``end``. An exception leaves the entry: the next run checks the object."""
    begin(state, kind, obj_id, op, **data)
    try:
        yield
    except BaseException:
        _HELD.pop(key(kind, obj_id), None)
        raise
    end(state, kind, obj_id)


def any_pending(state) -> bool:
    """One indexed query: is any intent recorded? (the warm path's only cost)"""
    return state.conn.execute("SELECT 1 FROM meta WHERE key>=? AND key<? LIMIT 1",
                              (PREFIX, PREFIX_END)).fetchone() is not None


def pending(state) -> List[Tuple[str, str, Dict[str, Any]]]:
    """[(key, raw value, entry)] of every recorded intent."""
    out = []
    for k, raw in state.conn.execute("SELECT key, value FROM meta WHERE key>=? AND key<? ORDER BY key",
                                     (PREFIX, PREFIX_END)).fetchall():
        try:
            entry = json.loads(raw)
        except ValueError:
            entry = {}
        if not isinstance(entry, dict):
            entry = {}
        out.append((k, raw, entry))
    return out


def forget(state, k: str, raw: str) -> bool:
    """Delete an entry if it is still the one we read (a new intent on the object stays)."""
    with state.tx():
        cur = state.conn.execute("DELETE FROM meta WHERE key=? AND value=?", (k, raw))
        return cur.rowcount > 0
