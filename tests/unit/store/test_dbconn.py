"""Every sqlite3 failure of the state DB is an engine error naming the file and the fix (issue 14.2, 14.3)."""
import os
import sqlite3

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import (
    StateDBCorrupt,
    StateDBError,
    StateDBFull,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.store import dbconn
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State


def test_garbage_file_is_corrupt_naming_file_and_reset(tmp_path):
    path = str(tmp_path / "state.db")
    with open(path, "wb") as f:
        f.write(b"not sqlite at all " * 1000)
    with pytest.raises(StateDBCorrupt) as err:
        State(path)
    assert path in str(err.value) and "system_reset" in str(err.value)


def test_damaged_pages_are_corrupt(tmp_path):
    path = str(tmp_path / "state.db")
    st = State(path)
    st.set_meta("k", "v" * 5000)
    st.close()
    size = os.path.getsize(path)
    with open(path, "r+b") as f:  # keep the header, scribble over every page after the first
        f.seek(4096)
        f.write(b"\xff" * (size - 4096))
    with pytest.raises(StateDBCorrupt) as err:
        st = State(path)
        st.get_meta("k")
        st.count("container")
    assert path in str(err.value) and "system_reset" in str(err.value)


def test_foreign_db_is_refused_and_left_untouched(tmp_path):
    path = str(tmp_path / "db.sql")
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE ContainerConfig (id TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StateDBCorrupt) as err:
        State(path)
    assert "not a libpod.engine state DB" in str(err.value) and "ContainerConfig" in str(err.value)
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master")]
    conn.close()
    assert tables == ["ContainerConfig"]  # none of our tables were added


def test_statement_errors_are_engine_errors(tmp_path):
    path = str(tmp_path / "state.db")
    st = State(path)
    with pytest.raises(StateDBError) as err:
        st.query("SELECT * FROM no_such_table")
    assert path in str(err.value) and err.value.__class__ is StateDBError  # a bug of ours, not a damaged DB
    with pytest.raises(StateDBError):
        list(st.conn.execute("SELECT * FROM no_such_table"))
    with pytest.raises(StateDBError), st.tx() as conn:
        conn.executemany("INSERT INTO nope VALUES (?)", [(1,)])
    assert not st.conn.in_transaction
    st.set_meta("still", "usable")
    assert st.get_meta("still") == "usable"


def test_unopenable_path_names_the_directory(tmp_path):
    path = str(tmp_path / "missing-dir" / "state.db")
    with pytest.raises(StateDBError) as err:
        State(path)
    assert path in str(err.value) and str(tmp_path / "missing-dir") in str(err.value)


class _Full(sqlite3.OperationalError):
    sqlite_errorcode = 13


class _IOErr(sqlite3.OperationalError):
    sqlite_errorcode = 10 | (13 << 8)  # an extended code: primary code in the low byte


def test_full_and_io_errors_on_a_full_filesystem(tmp_path, monkeypatch):
    path = str(tmp_path / "state.db")
    err = dbconn.translate(_Full("database or disk is full"), path)
    assert isinstance(err, StateDBFull) and path in str(err) and "free space" in str(err)
    monkeypatch.setattr(dbconn, "_free_bytes", lambda p: 0)
    err = dbconn.translate(_IOErr("disk I/O error"), path)
    assert isinstance(err, StateDBFull) and str(tmp_path) in str(err)
    monkeypatch.setattr(dbconn, "_free_bytes", lambda p: 10 ** 9)
    err = dbconn.translate(_IOErr("disk I/O error"), path)
    assert err.__class__ is StateDBError and "dmesg" in str(err)


def test_locked_and_readonly_hints(tmp_path):
    path = str(tmp_path / "state.db")
    assert "wait for the other task" in str(dbconn.translate(sqlite3.OperationalError("database is locked"), path))
    ro = dbconn.translate(sqlite3.OperationalError("attempt to write a readonly database"), path)
    assert "read-only" in str(ro) and path in str(ro)
