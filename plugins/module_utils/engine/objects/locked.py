# SPDX-License-Identifier: GPL-3.0-or-later
"""What containers and pods share: a DB record, its numbered lock, state saves, events."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Dict, Iterator

from ..store.state import Record

#: seconds to wait for a second object's lock while holding one: a lock-order cycle between two
#: processes ends in an error naming the holder instead of two tasks hanging forever
SECOND_LOCK_TIMEOUT = 60.0


class LockedObject:
    """An engine object backed by a ``state.Record`` of kind ``KIND`` (libpod's *Container, *Pod)."""

    KIND = ""

    def __init__(self, rt, rec: Record):
        self.rt = rt
        self.rec = rec

    @property
    def id(self) -> str:
        return self.rec.id

    @property
    def name(self) -> str:
        return self.rec.name

    @property
    def config(self) -> Dict[str, Any]:
        return self.rec.config

    @property
    def state(self) -> Dict[str, Any]:
        return self.rec.state

    @contextmanager
    def locked(self) -> Iterator[LockedObject]:
        """Hold the object's lock, with the record freshly read from the DB (another process
        may have changed or removed it while we waited)."""
        lock = self.rt.locks.lock(self.rec.lock_id, "%s %s" % (self.KIND, self.name))
        # the first lock of a task may wait as long as its holder works; a second one is bounded
        lock.acquire(timeout=SECOND_LOCK_TIMEOUT if self.rt.locks.holding() else None)
        try:
            fresh = self.rt.state.by_id(self.KIND, self.id)
            if fresh is None:
                raise self.rt.state.missing_error(self.KIND)(
                    "%s %s (%s) was removed meanwhile" % (self.KIND, self.name, self.id[:12]))
            self.rec = fresh
            yield self
        finally:
            lock.release()

    def save(self) -> None:
        self.rt.state.save_state(self.KIND, self.id, self.rec.state)
