# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine's own state DB (SQLite), after libpod's sqlite_state.go.

Every object keeps an immutable ``config`` (what was declared, JSON) and a mutable
``state`` (JSON) beside a few indexed columns. Containers and pods share one name
space (table ``names``), as in libpod. All writes go through ``tx()``, a
``BEGIN IMMEDIATE`` transaction, so concurrent module processes serialise on the
DB instead of failing with "database is locked".
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import quote

from ..base.errors import (
    EngineError,
    NameInUse,
    NoSuchContainer,
    NoSuchPod,
    NoSuchVolume,
    StateDBCorrupt,
    StateDBError,
)
from .dbconn import RESET_HINT, connect

SCHEMA_VERSION = 2

# One list of statements per schema version; the DB records the last one applied.
MIGRATIONS: Dict[int, List[str]] = {
    1: [
        """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
        # Single row, as libpod's DBConfig table (ID fixed to 1).
        """CREATE TABLE db_config (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            os TEXT NOT NULL, static_dir TEXT NOT NULL, tmp_dir TEXT NOT NULL,
            graph_root TEXT NOT NULL, run_root TEXT NOT NULL,
            graph_driver TEXT NOT NULL, volume_path TEXT NOT NULL)""",
        # Shared name space of containers and pods (libpod IDNamespace).
        """CREATE TABLE names (
            name TEXT PRIMARY KEY, kind TEXT NOT NULL, id TEXT NOT NULL UNIQUE)""",
        """CREATE TABLE containers (
            id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, pod_id TEXT,
            namespace TEXT NOT NULL DEFAULT '', lock_id INTEGER,
            config TEXT NOT NULL, state TEXT NOT NULL, created REAL NOT NULL)""",
        """CREATE INDEX containers_pod ON containers (pod_id)""",
        """CREATE TABLE pods (
            id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,
            namespace TEXT NOT NULL DEFAULT '', lock_id INTEGER,
            config TEXT NOT NULL, state TEXT NOT NULL, created REAL NOT NULL)""",
        """CREATE TABLE volumes (
            name TEXT PRIMARY KEY, namespace TEXT NOT NULL DEFAULT '', lock_id INTEGER,
            config TEXT NOT NULL, state TEXT NOT NULL, created REAL NOT NULL)""",
        # Which container uses which named volume: removal refuses while any row exists.
        """CREATE TABLE container_volumes (
            container_id TEXT NOT NULL, volume_name TEXT NOT NULL,
            PRIMARY KEY (container_id, volume_name))""",
        """CREATE INDEX container_volumes_vol ON container_volumes (volume_name)""",
        # Images: id = config digest hex; layers = JSON list of diff_id hex, base first.
        """CREATE TABLE images (
            id TEXT PRIMARY KEY, digest TEXT NOT NULL, manifest TEXT NOT NULL,
            config TEXT NOT NULL, layers TEXT NOT NULL, size INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL DEFAULT '', created REAL NOT NULL)""",
        """CREATE TABLE image_names (name TEXT PRIMARY KEY, image_id TEXT NOT NULL)""",
        """CREATE INDEX image_names_img ON image_names (image_id)""",
        # Unpacked layers (lower dirs), keyed by diff_id hex.
        """CREATE TABLE layers (
            id TEXT PRIMARY KEY, compressed_digest TEXT NOT NULL DEFAULT '',
            size INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL)""",
        """CREATE TABLE networks (
            name TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, config TEXT NOT NULL,
            created REAL NOT NULL)""",
        """CREATE TABLE ip_leases (
            network TEXT NOT NULL, ip TEXT NOT NULL, container_id TEXT NOT NULL,
            PRIMARY KEY (network, ip))""",
        """CREATE INDEX ip_leases_ctr ON ip_leases (container_id)""",
        # Lock numbers in use (the lock manager's allocation table).
        """CREATE TABLE locks (
            lock_id INTEGER PRIMARY KEY, owner_kind TEXT NOT NULL, owner_id TEXT NOT NULL)""",
        """CREATE TABLE exit_codes (
            container_id TEXT PRIMARY KEY, code INTEGER NOT NULL, ts REAL NOT NULL)""",
    ],
    2: [
        # Secrets: metadata and a keyed hash (HMAC-SHA256) of the data, never the data itself.
        """CREATE TABLE secrets (
            id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, driver TEXT NOT NULL,
            config TEXT NOT NULL, digest TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL)""",
    ],
}


@dataclass
class DBConfig:
    """libpod's DBConfig record: the paths the DB was first used with."""

    os: str
    static_dir: str
    tmp_dir: str
    graph_root: str
    run_root: str
    graph_driver: str
    volume_path: str

    # Human names used in mismatch errors (the SQLite backend's names).
    LABELS = {
        "os": "os",
        "static_dir": "static dir",
        "tmp_dir": "tmp dir",
        "graph_root": "graph root",
        "run_root": "run root",
        "graph_driver": "graph driver",
        "volume_path": "volume path",
    }

    @classmethod
    def field_names(cls) -> List[str]:
        return [f.name for f in fields(cls)]


def _has_json1(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite has the JSON functions (built in since 3.38, an option before)."""
    try:
        conn.execute("SELECT json_extract('{}', '$')").fetchone()
    except (sqlite3.Error, StateDBError):
        return False
    return True


def dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def loads(text: Optional[str]) -> Any:
    return json.loads(text) if text else None


@dataclass
class Record:
    """A row of containers/pods/volumes with its JSON columns decoded."""

    id: str
    name: str
    namespace: str
    lock_id: Optional[int]
    config: Dict[str, Any]
    state: Dict[str, Any]
    created: float
    pod_id: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


class State:
    """Connection to the state DB plus the typed queries the engine needs."""

    def __init__(self, path: str, *, busy_timeout: float = 60.0, namespace: str = "", immutable: bool = False):
        """``immutable``: read the file without -wal/-shm (on a full disk, for a read-only runtime; only
        when no WAL has content, which SQLite would ignore)."""
        self.path = path
        self.namespace = namespace
        new = not os.path.exists(path)
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves (see tx()); every sqlite3 error
        # of this connection is a StateDBError naming the file (dbconn.py)
        if immutable:
            self.conn = connect("file:%s?immutable=1" % quote(os.path.abspath(path)), timeout=busy_timeout, uri=True,
                                label=path)
        else:
            self.conn = connect(path, timeout=busy_timeout)
        if new:
            try:
                os.chmod(path, 0o600)
            except OSError:
                pass
        self.conn.execute("PRAGMA busy_timeout=%d" % int(busy_timeout * 1000))
        self._depth = 0
        self._migrate()

    # -- plumbing ---------------------------------------------------------------------------
    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version == 0:
            # never add our tables to another program's DB (podman's db.sql, a file named by mistake)
            other = [r[0] for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 5")]
            if other:
                raise StateDBCorrupt("state DB %s is not a libpod.engine state DB (it has tables %s and no "
                                     "engine schema version)" % (self.path, ", ".join(other)), hint=RESET_HINT)
        if version > SCHEMA_VERSION:
            raise EngineError(
                "state DB %s has schema version %d, newer than this engine's %d"
                % (self.path, version, SCHEMA_VERSION),
                hint="upgrade the libpod.engine collection on this host")
        # journal_mode cannot change inside a transaction; WAL persists in the file.
        self.conn.execute("PRAGMA journal_mode=WAL")
        with self.tx():
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            for v in range(version + 1, SCHEMA_VERSION + 1):
                for stmt in MIGRATIONS[v]:
                    self.conn.execute(stmt)
                self.conn.execute("PRAGMA user_version=%d" % v)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; re-entrant (inner blocks join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.conn
            self._depth = 0
            self.conn.execute("COMMIT")  # may fail (full disk): then roll back as for any failure
        except BaseException:
            self._depth = 0
            self._rollback()
            raise

    def _rollback(self) -> None:
        """ROLLBACK if a transaction is still open (SQLite may have rolled back already, e.g. on
        SQLITE_FULL); never hides the error that got us here."""
        if not self.conn.in_transaction:
            return
        try:
            self.conn.execute("ROLLBACK")
        except EngineError:
            pass

    def close(self) -> None:
        self.conn.close()

    def query(self, sql: str, args: Tuple = ()) -> List[sqlite3.Row]:
        cur = self.conn.execute(sql, args)
        return cur.fetchall()

    # -- synchronous=NORMAL is safe in WAL mode and ~5x cheaper per commit
    def tune(self) -> None:
        self.conn.execute("PRAGMA synchronous=NORMAL")

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> Optional[str]:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.tx():
            self.conn.execute("INSERT INTO meta(key,value) VALUES(?,?) "
                              "ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, value))

    # -- DB config record ---------------------------------------------------------------------
    def get_db_config(self) -> Optional[DBConfig]:
        cols = DBConfig.field_names()
        row = self.conn.execute("SELECT %s FROM db_config WHERE id=1" % ",".join(cols)).fetchone()
        return DBConfig(*row) if row else None

    def init_db_config(self, cfg: DBConfig) -> DBConfig:
        """Write the record if none exists (first use); return the stored one."""
        cols = DBConfig.field_names()
        with self.tx():
            existing = self.get_db_config()
            if existing is not None:
                return existing
            self.conn.execute(
                "INSERT INTO db_config(id,%s) VALUES(1,%s)" % (",".join(cols), ",".join("?" * len(cols))),
                tuple(getattr(cfg, c) for c in cols))
        return cfg

    # -- names ------------------------------------------------------------------------------
    def lookup_name(self, name: str) -> Optional[Tuple[str, str]]:
        row = self.conn.execute("SELECT kind, id FROM names WHERE name=?", (name,)).fetchone()
        return (row[0], row[1]) if row else None

    def reserve_name(self, name: str, kind: str, obj_id: str) -> None:
        with self.tx():
            found = self.lookup_name(name)
            if found:
                raise NameInUse('name "%s" is in use: %s %s already has it'
                                % (name, found[0], found[1][:12]),
                                hint="choose another name or remove the existing %s" % found[0])
            self.conn.execute("INSERT INTO names(name,kind,id) VALUES(?,?,?)", (name, kind, obj_id))

    def release_name(self, name: str) -> None:
        with self.tx():
            self.conn.execute("DELETE FROM names WHERE name=?", (name,))

    # -- containers / pods / volumes (same shape) ---------------------------------------------
    _TABLES = {"container": "containers", "pod": "pods", "volume": "volumes"}
    _MISSING = {"container": NoSuchContainer, "pod": NoSuchPod, "volume": NoSuchVolume}

    def missing_error(self, kind: str):
        """The NoSuch* error class for ``kind``."""
        return self._MISSING[kind]

    def _ns_clause(self) -> Tuple[str, Tuple]:
        if self.namespace:
            return " AND namespace=?", (self.namespace,)
        return "", ()

    def _row_to_record(self, kind: str, row: sqlite3.Row) -> Record:
        if kind == "volume":
            name, namespace, lock_id, config, state, created = row
            return Record(id=name, name=name, namespace=namespace, lock_id=lock_id,
                          config=loads(config), state=loads(state), created=created)
        if kind == "container":
            oid, name, pod_id, namespace, lock_id, config, state, created = row
        else:
            oid, name, namespace, lock_id, config, state, created = row
            pod_id = None
        return Record(id=oid, name=name, namespace=namespace, lock_id=lock_id,
                      config=loads(config), state=loads(state), created=created, pod_id=pod_id)

    def _cols(self, kind: str) -> str:
        if kind == "volume":
            return "name,namespace,lock_id,config,state,created"
        if kind == "container":
            return "id,name,pod_id,namespace,lock_id,config,state,created"
        return "id,name,namespace,lock_id,config,state,created"

    def get(self, kind: str, ref: str) -> Record:
        """Look up by name, full ID or unique ID prefix (>= 3 chars), as libpod's Lookup."""
        rec = self.find(kind, ref)
        if rec is None:
            raise self._MISSING[kind]("no %s with name or ID %s found" % (kind, ref))
        return rec

    def find(self, kind: str, ref: str) -> Optional[Record]:
        row = self._find_row(kind, ref, self._cols(kind))
        return self._row_to_record(kind, row) if row else None

    def by_id(self, kind: str, oid: str) -> Optional[Record]:
        """The record with exactly this ID (a volume's ID is its name): one query, where ``find`` tries
        the name first, as a user's reference needs."""
        ns, nsargs = self._ns_clause()
        key = "name" if kind == "volume" else "id"
        row = self.conn.execute("SELECT %s FROM %s WHERE %s=?%s" % (self._cols(kind), self._TABLES[kind], key, ns),
                                (oid,) + nsargs).fetchone()
        return self._row_to_record(kind, row) if row else None

    def find_key(self, kind: str, ref: str) -> Optional[Record]:
        """What ``find`` finds (container or pod), without decoding its config and state: a record
        whose config holds only ``is_infra`` and whose state is empty, enough to take the object's
        lock, which reads it whole (LockedObject.locked). A no-op task reads each record once."""
        if kind == "volume":
            raise ValueError("find_key: containers and pods only")
        infra = "json_extract(config, '$.is_infra')" if self._json1() else "config"
        row = self._find_row(kind, ref, "id,name,namespace,lock_id,%s,created" % infra)
        if row is None:
            return None
        oid, name, namespace, lock_id, is_infra, created = row
        if infra == "config":
            is_infra = (loads(is_infra) or {}).get("is_infra")
        return Record(id=oid, name=name, namespace=namespace, lock_id=lock_id,
                      config={"is_infra": True} if is_infra else {}, state={}, created=created)

    #: whether this connection's SQLite has the JSON functions (asked once, on first use)
    _json1_known: Optional[bool] = None

    def _json1(self) -> bool:
        if self._json1_known is None:
            self._json1_known = _has_json1(self.conn)
        return self._json1_known

    def _find_row(self, kind: str, ref: str, cols: str) -> Optional[sqlite3.Row]:
        """The row of ``cols`` by name, full ID or unique ID prefix (>= 3 chars), as libpod's Lookup."""
        table = self._TABLES[kind]
        key = "name" if kind == "volume" else "id"
        ns, nsargs = self._ns_clause()
        row = self.conn.execute("SELECT %s FROM %s WHERE name=?%s" % (cols, table, ns),
                                (ref,) + nsargs).fetchone()
        if row is None and kind != "volume":
            row = self.conn.execute("SELECT %s FROM %s WHERE id=?%s" % (cols, table, ns),
                                    (ref,) + nsargs).fetchone()
            if row is None and len(ref) >= 3 and all(c in "0123456789abcdef" for c in ref):
                rows = self.conn.execute(
                    "SELECT %s FROM %s WHERE %s LIKE ?%s LIMIT 2" % (cols, table, key, ns),
                    (ref + "%",) + nsargs).fetchall()
                if len(rows) == 1:
                    row = rows[0]
        return row

    def list(self, kind: str, *, pod_id: Optional[str] = None, all_namespaces: bool = False) -> List[Record]:
        """Records of ``kind`` in this namespace (``all_namespaces``: of every namespace, for host-wide
        resources such as user-namespace ID blocks and shared storage)."""
        table = self._TABLES[kind]
        ns, nsargs = ("", ()) if all_namespaces else self._ns_clause()
        where, args = "WHERE 1=1" + ns, nsargs
        if pod_id is not None and kind == "container":
            where += " AND pod_id=?"
            args = args + (pod_id,)
        rows = self.conn.execute("SELECT %s FROM %s %s ORDER BY created" % (self._cols(kind), table, where),
                                 args).fetchall()
        return [self._row_to_record(kind, r) for r in rows]

    def names_with_label(self, kind: str, label: str, value: str) -> List[Tuple[str, bool]]:
        """(name, is_infra) of the ``kind`` records of this namespace whose config labels have
        ``label=value``, in creation order. SQLite reads the one label out of each config (JSON1),
        so a stack of 500 containers is not 500 configs decoded just to be found; without JSON1
        (an SQLite built without it), or for a label with a double quote, the records are decoded."""
        table = self._TABLES[kind]
        ns, nsargs = self._ns_clause()
        if '"' not in label and self._json1():  # a JSON path cannot quote a double quote
            path = '$.labels."%s"' % label
            rows = self.conn.execute("SELECT name, json_extract(config, '$.is_infra') FROM %s WHERE "
                                     "json_extract(config, ?) = ?%s ORDER BY created" % (table, ns),
                                     (path, value) + nsargs).fetchall()
            return [(name, bool(infra)) for name, infra in rows]
        return [(rec.name, bool(rec.config.get("is_infra"))) for rec in self.list(kind)
                if (rec.config.get("labels") or {}).get(label) == value]

    def labelled_fields(self, kind: str, label: str, value: str,
                        paths: Sequence[str]) -> Optional[List[Tuple[Any, ...]]]:
        """(id, name, state, then the config's value at each JSON path) of the ``kind`` records of
        this namespace labelled ``label=value``: SQLite extracts the values (an object or an array
        comes as its JSON text), so that a stack's no-op check does not decode 500 whole configs.
        None when SQLite has no JSON1 or the label has a double quote (the caller reads records)."""
        if '"' in label or kind == "volume" or not self._json1():
            return None
        ns, nsargs = self._ns_clause()
        extracted = "".join(", json_extract(config, ?)" for _p in paths)
        rows = self.conn.execute(
            "SELECT id, name, state%s FROM %s WHERE json_extract(config, ?) = ?%s"
            % (extracted, self._TABLES[kind], ns),
            tuple(paths) + ('$.labels."%s"' % label, value) + nsargs).fetchall()
        return [(oid, name, loads(state)) + tuple(rest) for oid, name, state, *rest in rows]

    def names(self, kind: str) -> List[str]:
        """The names of this namespace's ``kind`` records."""
        ns, nsargs = self._ns_clause()
        return [name for (name,) in self.conn.execute("SELECT name FROM %s WHERE 1=1%s" % (self._TABLES[kind], ns),
                                                      nsargs).fetchall()]

    def count(self, kind: str) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM %s" % self._TABLES[kind]).fetchone()[0]

    def add(self, kind: str, rec: Record) -> None:
        """Insert a new object, reserving its name (containers and pods) atomically."""
        with self.tx():
            if kind == "volume":
                if self.conn.execute("SELECT 1 FROM volumes WHERE name=?", (rec.name,)).fetchone():
                    raise NameInUse('volume with name "%s" already exists' % rec.name)
                self.conn.execute(
                    "INSERT INTO volumes(name,namespace,lock_id,config,state,created) VALUES(?,?,?,?,?,?)",
                    (rec.name, rec.namespace, rec.lock_id, dumps(rec.config), dumps(rec.state), rec.created))
                return
            self.reserve_name(rec.name, kind, rec.id)
            if kind == "container":
                self.conn.execute(
                    "INSERT INTO containers(id,name,pod_id,namespace,lock_id,config,state,created) "
                    "VALUES(?,?,?,?,?,?,?,?)",
                    (rec.id, rec.name, rec.pod_id, rec.namespace, rec.lock_id, dumps(rec.config),
                     dumps(rec.state), rec.created))
            else:
                self.conn.execute(
                    "INSERT INTO pods(id,name,namespace,lock_id,config,state,created) VALUES(?,?,?,?,?,?,?)",
                    (rec.id, rec.name, rec.namespace, rec.lock_id, dumps(rec.config), dumps(rec.state),
                     rec.created))

    def save_state(self, kind: str, obj_id: str, state: Dict[str, Any]) -> None:
        key = "name" if kind == "volume" else "id"
        with self.tx():
            cur = self.conn.execute("UPDATE %s SET state=? WHERE %s=?" % (self._TABLES[kind], key),
                                    (dumps(state), obj_id))
            if cur.rowcount == 0:
                raise self._MISSING[kind]("no %s with ID %s found" % (kind, obj_id))

    def rewrite_config(self, kind: str, obj_id: str, config: Dict[str, Any],
                       lock_id: Optional[int] = None) -> None:
        """RewriteContainerConfig and friends: only for renumber/migrate/in-place updates."""
        key = "name" if kind == "volume" else "id"
        with self.tx():
            if lock_id is None:
                self.conn.execute("UPDATE %s SET config=? WHERE %s=?" % (self._TABLES[kind], key),
                                  (dumps(config), obj_id))
            else:
                self.conn.execute("UPDATE %s SET config=?, lock_id=? WHERE %s=?" % (self._TABLES[kind], key),
                                  (dumps(config), lock_id, obj_id))

    def remove(self, kind: str, rec: Record) -> None:
        with self.tx():
            if kind == "volume":
                self.conn.execute("DELETE FROM volumes WHERE name=?", (rec.name,))
                return
            self.conn.execute("DELETE FROM %s WHERE id=?" % self._TABLES[kind], (rec.id,))
            self.conn.execute("DELETE FROM names WHERE id=?", (rec.id,))
            if kind == "container":
                self.conn.execute("DELETE FROM container_volumes WHERE container_id=?", (rec.id,))
                self.conn.execute("DELETE FROM exit_codes WHERE container_id=?", (rec.id,))

    # -- container <-> volume use -----------------------------------------------------------
    def set_container_volumes(self, ctr_id: str, volume_names: List[str]) -> None:
        with self.tx():
            self.conn.execute("DELETE FROM container_volumes WHERE container_id=?", (ctr_id,))
            self.conn.executemany("INSERT INTO container_volumes(container_id,volume_name) VALUES(?,?)",
                                  [(ctr_id, v) for v in sorted(set(volume_names))])

    def volume_users(self, volume_name: str) -> List[str]:
        rows = self.conn.execute("SELECT container_id FROM container_volumes WHERE volume_name=? "
                                 "ORDER BY container_id", (volume_name,)).fetchall()
        return [r[0] for r in rows]

    # -- exit codes -------------------------------------------------------------------------
    def record_exit_code(self, ctr_id: str, code: int) -> None:
        with self.tx():
            self.conn.execute("INSERT INTO exit_codes(container_id,code,ts) VALUES(?,?,?) "
                              "ON CONFLICT(container_id) DO UPDATE SET code=excluded.code, ts=excluded.ts",
                              (ctr_id, code, time.time()))

    # -- reboot refresh (libpod state.Refresh) ------------------------------------------------
    def refresh(self, reset_container_state) -> None:
        """Reset per-boot state of every object in one transaction.

        ``reset_container_state`` maps a container's stored state dict to its
        post-reboot state (libpod resetState()).
        """
        with self.tx():
            self.conn.execute("DELETE FROM exit_codes")
            self.conn.execute("DELETE FROM ip_leases")
            for oid, state in self.conn.execute("SELECT id, state FROM containers").fetchall():
                self.conn.execute("UPDATE containers SET state=? WHERE id=?",
                                  (dumps(reset_container_state(loads(state) or {})), oid))
            for oid, state in self.conn.execute("SELECT id, state FROM pods").fetchall():
                st = loads(state) or {}
                st["cgroup_path"] = ""
                self.conn.execute("UPDATE pods SET state=? WHERE id=?", (dumps(st), oid))
            for name, state in self.conn.execute("SELECT name, state FROM volumes").fetchall():
                st = loads(state) or {}
                st["mount_count"] = 0
                st["mount_point"] = ""
                self.conn.execute("UPDATE volumes SET state=? WHERE name=?", (dumps(st), name))
            # dangling names (an object removed by a killed process between two statements)
            self.conn.execute("DELETE FROM names WHERE id NOT IN (SELECT id FROM containers) "
                              "AND id NOT IN (SELECT id FROM pods)")
