# SPDX-License-Identifier: GPL-3.0-or-later
"""The state DB's SQLite connection, whose every failure is an engine error naming the file and the fix.

sqlite3 says "disk I/O error" or "file is not a database" without a path; a module that shows
that cannot be acted upon. Every statement, fetch and transaction of the state DB goes through
:class:`GuardedConnection` (``State.conn`` is one), so no ``sqlite3.Error`` leaves the store:
:func:`translate` turns it into a :class:`~..base.errors.StateDBError` (full disk, damaged or
foreign file, locked, read-only) with the DB path and a hint.
"""
from __future__ import annotations

import os
import sqlite3
from typing import Any, Iterable, Optional

from ..base.errors import StateDBCorrupt, StateDBError, StateDBFull

# sqlite3 primary result codes (sqlite3.h); exc.sqlite_errorcode exists from Python 3.11 on
_PERM, _BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 3, 5, 6, 8, 10, 11, 13, 14, 26

RESET_HINT = ("restore it from a backup, or run libpod.engine.system_reset with confirm: true, which deletes it "
              "together with the engine's containers, images and volumes so that the engine starts over")


def _code(exc: BaseException) -> Optional[int]:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _free_bytes(path: str) -> Optional[int]:
    try:
        st = os.statvfs(os.path.dirname(path) or ".")
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def _fs_full(path: str) -> bool:
    """Whether the filesystem of ``path`` has (almost) no room left for an unprivileged writer."""
    free = _free_bytes(path)
    return free is not None and free < 1024 * 1024


def translate(exc: BaseException, path: str, doing: str = "") -> StateDBError:
    """The engine error for an sqlite3 failure on the state DB at ``path``."""
    code = _code(exc)
    text = str(exc) or exc.__class__.__name__
    low = text.lower()
    where = "state DB %s" % path
    if doing:
        where += " (%s)" % doing
    dirname = os.path.dirname(path) or "."
    if code == _FULL or "disk is full" in low or (
            (code == _IOERR or "disk i/o error" in low) and _fs_full(path)):
        free = _free_bytes(path)
        return StateDBFull(
            "%s: %s: the filesystem of %s is full (%s bytes free)" % (where, text, dirname,
                                                                      "unknown" if free is None else free),
            hint="free space on that filesystem (df %s) or grow it, then run the task again (the reserve the "
                 "engine keeps beside the DB for this, %s.reserve, is used up)" % (dirname, os.path.basename(path)))
    # (not "no such table": a foreign DB is caught at open, by State._migrate; later it is our bug)
    if code in (_CORRUPT, _NOTADB) or "not a database" in low or "malformed" in low:
        return StateDBCorrupt("%s is damaged or not a libpod.engine state DB: %s" % (where, text), hint=RESET_HINT)
    if code in (_BUSY, _LOCKED) or "database is locked" in low:
        return StateDBError("%s: %s: another engine process held it for longer than the busy timeout" % (where, text),
                            hint="wait for the other task or exit command to finish (see ps) and run the task again")
    if code == _READONLY or "readonly" in low or "read-only" in low:
        return StateDBError("%s: %s" % (where, text),
                            hint="make %s and the files in it writable by root (is the filesystem mounted "
                                 "read-only?)" % dirname)
    if code in (_CANTOPEN, _PERM) or "unable to open" in low:
        return StateDBError("%s: %s" % (where, text),
                            hint="check that %s exists, is a directory and is accessible to root" % dirname)
    if code == _IOERR or "i/o error" in low:
        return StateDBError("%s: %s" % (where, text),
                            hint="check the disk and the kernel log (dmesg) for errors on the filesystem of %s"
                                 % dirname)
    return StateDBError("%s: %s" % (where, text),
                        hint="run the task again; if it persists, check the file with "
                             "`sqlite3 %s 'PRAGMA integrity_check'`, and if it is damaged: %s" % (path, RESET_HINT))


class GuardedCursor(sqlite3.Cursor):
    """A cursor whose statements and fetches raise StateDBError instead of sqlite3.Error."""

    def _fail(self, exc: sqlite3.Error) -> StateDBError:
        return translate(exc, getattr(self.connection, "db_path", "?"))

    def execute(self, sql: str, parameters: Iterable[Any] = ()) -> GuardedCursor:  # type: ignore[override]
        try:
            return super().execute(sql, parameters)  # type: ignore[return-value]
        except sqlite3.Error as exc:
            raise self._fail(exc) from exc

    def executemany(self, sql: str, seq: Iterable[Iterable[Any]]) -> GuardedCursor:  # type: ignore[override]
        try:
            return super().executemany(sql, seq)  # type: ignore[return-value]
        except sqlite3.Error as exc:
            raise self._fail(exc) from exc

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as exc:
            raise self._fail(exc) from exc

    def fetchall(self) -> Any:
        try:
            return super().fetchall()
        except sqlite3.Error as exc:
            raise self._fail(exc) from exc

    def fetchmany(self, size: int = 1) -> Any:
        try:
            return super().fetchmany(size)
        except sqlite3.Error as exc:
            raise self._fail(exc) from exc

    def __iter__(self) -> GuardedCursor:
        return self

    def __next__(self) -> Any:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row


class GuardedConnection(sqlite3.Connection):
    """sqlite3.Connection for the state DB: ``db_path`` set, every failure translated."""

    db_path = "?"

    def cursor(self, factory: Any = GuardedCursor) -> Any:  # type: ignore[override]
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Iterable[Any] = ()) -> GuardedCursor:  # type: ignore[override]
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq: Iterable[Iterable[Any]]) -> GuardedCursor:  # type: ignore[override]
        return self.cursor().executemany(sql, seq)

    def commit(self) -> None:
        try:
            super().commit()
        except sqlite3.Error as exc:
            raise translate(exc, self.db_path) from exc

    def close(self) -> None:
        try:
            super().close()
        except sqlite3.Error as exc:
            raise translate(exc, self.db_path) from exc


def connect(target: str, *, timeout: float, uri: bool = False, label: Optional[str] = None) -> GuardedConnection:
    """sqlite3.connect for the state DB (autocommit: State.tx issues BEGIN IMMEDIATE itself).

    ``label``: the path errors name when ``target`` is a URI."""
    path = label or target
    try:
        conn = sqlite3.connect(target, timeout=timeout, isolation_level=None, check_same_thread=False,
                               factory=GuardedConnection, uri=uri)
    except sqlite3.Error as exc:
        raise translate(exc, path, "open") from exc
    conn.db_path = path
    return conn  # type: ignore[return-value]
