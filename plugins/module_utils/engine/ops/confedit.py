# SPDX-License-Identifier: GPL-3.0-or-later
"""Editing containers.conf the way an administrator would: with tomlkit, so comments,
key order and formatting of the file survive, plus the checks that keep a change from
breaking the engine (runtime_config module).

* :class:`ConfDocument` reads one file, sets/removes ``[section] key`` values and gives
  the new text; :func:`text_diff` a unified diff of it.
* :func:`normalize_settings` checks the module's ``settings`` against the config schema
  (unknown sections/keys are errors here, typos should not be written) and coerces
  "4096"-like strings of integer/boolean keys.
* :func:`merge_chain` merges defaults + the chain of files (one of them replaced by the
  edited text) + task options into a :class:`config.LoadedConfig`, without reading the
  edited file from disk, and :func:`apply_db_record` folds in the DB config record as the
  runtime's mergeDBConfig does.
* ``check_*`` functions validate the merged result: the default OCI runtime, conmon,
  ``default_ulimits`` against this host's hard limits, ``num_locks`` against the objects
  that hold locks, and paths recorded in the DB config record.

tomlkit is imported lazily: this module is part of the engine package that conmon's exit
command runs, which never needs it.
"""
from __future__ import annotations

import copy
import difflib
import glob
import json
import os
import resource
import shutil
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import quote

from ..base.errors import ConfigError, DBConfigMismatch, EngineError, InvalidArg, LockExhausted, OCIRuntimeNotFound
from ..config import loader as conf
from ..config.schema import DB_CONFIG_KEYS, DEFAULTS, SCHEMA
from ..host.files import write_atomic as host_write_atomic
from ..store import dbconn

MISSING = object()

#: the objects a path change would orphan, and the table each lives in
OBJECT_TABLES = (("container", "containers"), ("pod", "pods"), ("volume", "volumes"), ("image", "images"),
                 ("network", "networks"))


def _tomlkit():
    try:
        import tomlkit  # noqa: PLC0415 - only runtime_config edits files
    except ImportError:
        raise ConfigError("editing containers.conf needs the tomlkit Python library on the managed node",
                          hint="install tomlkit (pip install tomlkit, or the python3-tomlkit package)")
    return tomlkit


def default_path(env: Optional[Mapping[str, str]] = None) -> str:
    """The file runtime_config edits when no path is given: $LIBPOD_ENGINE_CONF if set (then it is
    the only file the engine reads), else /etc/libpod-engine/containers.conf."""
    env = os.environ if env is None else env
    return env.get(conf.ENV_VAR) or conf.ADMIN_CONF


def engine_chain(path: str, env: Optional[Mapping[str, str]] = None) -> Tuple[List[str], bool]:
    """(files the engine reads once ``path`` exists, whether ``path`` is one of them).

    As config.config_files(), but ``path`` counts even when it does not exist yet.
    """
    env = os.environ if env is None else env
    override = env.get(conf.ENV_VAR)
    path = os.path.abspath(path)
    if override:
        return [override], os.path.abspath(override) == path
    files = [p for p in (conf.VENDOR_CONF, conf.ADMIN_CONF) if os.path.isfile(p) or p == path]
    dropins = set(glob.glob(os.path.join(conf.DROPIN_DIR, "*.conf")))
    if os.path.dirname(path) == conf.DROPIN_DIR and path.endswith(".conf"):
        dropins.add(path)
    files += sorted(dropins)
    return files, path in files


# -- one file ---------------------------------------------------------------------------------
class ConfDocument:
    """One containers.conf file as a tomlkit document."""

    def __init__(self, path: str, text: str, exists: bool):
        self.path = path
        self.original = text
        self.exists = exists
        try:
            self.doc = _tomlkit().parse(text)
        except ConfigError:
            raise
        except Exception as exc:  # tomlkit's parse errors have no public common base
            raise ConfigError("%s: invalid TOML: %s" % (path, exc),
                              hint="fix the syntax of the file by hand; runtime_config only edits valid files")

    @classmethod
    def read(cls, path: str) -> ConfDocument:
        try:
            with open(path, encoding="utf-8") as f:
                return cls(path, f.read(), True)
        except FileNotFoundError:
            return cls(path, "", False)
        except OSError as exc:
            raise ConfigError("cannot read %s: %s" % (path, exc.strerror or exc))

    def text(self) -> str:
        return _tomlkit().dumps(self.doc)

    def data(self) -> Dict[str, Any]:
        return self.doc.unwrap()

    @property
    def changed(self) -> bool:
        return self.text() != self.original

    def get(self, section: str, key: str) -> Any:
        tbl = self.doc.get(section)
        if tbl is None or not hasattr(tbl, "get") or key not in tbl:
            return MISSING
        item = tbl[key]
        return item.unwrap() if hasattr(item, "unwrap") else item

    def set(self, section: str, key: str, value: Any) -> bool:
        """Set ``[section] key``; False when it already has exactly this value."""
        tk = _tomlkit()
        old = self.get(section, key)
        if old is not MISSING and same_value(old, value):
            return False
        if section not in self.doc:
            self.doc.add(section, tk.table())
        tbl = self.doc[section]
        if old is MISSING:
            tbl.add(key, _item(value))
        else:
            comment = getattr(getattr(tbl[key], "trivia", None), "comment", "")
            tbl[key] = _item(value)
            if comment and hasattr(tbl[key], "comment") and not getattr(tbl[key].trivia, "comment", ""):
                tbl[key].comment(comment.lstrip("#").strip())
        return True

    def remove(self, section: str, key: str) -> bool:
        if self.get(section, key) is MISSING:
            return False
        tbl = self.doc[section]
        del tbl[key]
        # a table left without keys and without comments goes too (it was probably ours)
        body = getattr(getattr(tbl, "value", None), "body", [])
        if not list(tbl.keys()) and not any(type(pair[1]).__name__ == "Comment" for pair in body):
            del self.doc[section]
        return True


def _item(value: Any):
    tk = _tomlkit()
    if isinstance(value, dict):
        tbl = tk.table()
        for k, v in value.items():
            tbl.add(k, _item(v))
        return tbl
    if isinstance(value, list):
        arr = tk.array()
        arr.extend(value)
        if len(value) > 3 or len(json.dumps(value)) > 80:
            arr.multiline(True)
        return arr
    return tk.item(value)


def same_value(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (True is not 1, 1 is not 1.0)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def text_diff(before: str, after: str, path: str) -> str:
    """A unified diff of the file (what ``--diff`` shows is built from the same texts)."""
    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                        fromfile="%s (before)" % path, tofile="%s (after)" % path))


def write_atomic(path: str, text: str) -> None:
    """Replace the config file ``path``: keeps an existing file's mode and owner, flushed to disk."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o755, exist_ok=True)
    host_write_atomic(path, text, keep_existing=True, fsync=True)


# -- the module's settings ----------------------------------------------------------------------
def _schema_of(section: str, key: str) -> Dict[str, Any]:
    return SCHEMA["properties"][section]["properties"][key]


def _coerce(value: Any, schema: Dict[str, Any]) -> Any:
    """Strings that Jinja made of numbers and booleans, back to what the schema wants."""
    if not isinstance(value, str):
        return value
    t = schema.get("type")
    text = value.strip()
    if t == "integer":
        try:
            return int(text)
        except ValueError:
            return value
    if t == "number":
        try:
            return int(text) if text.lstrip("-").isdigit() else float(text)
        except ValueError:
            return value
    if t == "boolean" and text.lower() in ("true", "false", "yes", "no", "on", "off"):
        return text.lower() in ("true", "yes", "on")
    return value


def normalize_settings(settings: Any, state: str = "present") -> Dict[str, Dict[str, Any]]:
    """Check the shape and the names of ``settings``; coerce scalar strings. Values are
    checked against the schema later, together with the rest of the file."""
    if settings is None:
        return {}
    if not isinstance(settings, Mapping):
        raise InvalidArg("settings: expected a dict of sections (engine, containers, network, storage), got %s"
                         % type(settings).__name__)
    out: Dict[str, Dict[str, Any]] = {}
    known_sections = list(SCHEMA["properties"])
    for section, body in settings.items():
        if section not in SCHEMA["properties"]:
            raise InvalidArg("settings: unknown section %s" % section,
                             hint="known sections: %s" % ", ".join(known_sections))
        if isinstance(body, (list, tuple)) and state == "absent":
            body = {k: None for k in body}
        if not isinstance(body, Mapping):
            raise InvalidArg("settings.%s: expected a dict of keys and values, got %s"
                             % (section, type(body).__name__))
        known = SCHEMA["properties"][section]["properties"]
        out[section] = {}
        for key, value in body.items():
            if key not in known:
                close = difflib.get_close_matches(str(key), list(known), n=3)
                raise InvalidArg("settings.%s.%s: unknown key in [%s]" % (section, key, section),
                                 hint=("did you mean %s?" % " or ".join(close)) if close
                                 else "known keys: %s" % ", ".join(sorted(known)))
            out[section][key] = None if state == "absent" else _coerce(value, known[key])
    return out


def apply_settings(doc: ConfDocument, settings: Dict[str, Dict[str, Any]], state: str = "present") -> List[str]:
    """Edit the document; returns one line per changed key. A None value (or state=absent) removes."""
    changes = []
    for section, body in settings.items():
        for key, value in body.items():
            old = doc.get(section, key)
            if state == "absent" or value is None:
                if doc.remove(section, key):
                    changes.append("removed [%s] %s (was %s)" % (section, key, _show(old)))
            elif doc.set(section, key, value):
                was = "" if old is MISSING else " (was %s)" % _show(old)
                changes.append("set [%s] %s = %s%s" % (section, key, _show(value), was))
    return changes


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def validate_file_data(data: Dict[str, Any], path: str) -> List[str]:
    """Schema check of one file's content, errors reworded to name the module option."""
    try:
        return conf.validate(data, path)
    except ConfigError as exc:
        exc.msg = "settings: %s" % exc.msg
        exc.hint = "fix the value in the task's settings (or in %s); the file was not changed" % path
        raise


# -- merged configuration ----------------------------------------------------------------------
def read_text(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError("cannot read %s: %s" % (path, exc.strerror or exc))


def merge_chain(files: List[str], texts: Optional[Mapping[str, str]] = None,
                overrides: Optional[Dict[str, Dict[str, Any]]] = None) -> conf.LoadedConfig:
    """config.load_config() for a chain in which some files' texts are given (not read).

    A file of the chain that does not exist (and has no given text) is skipped.
    """
    texts = texts or {}
    overrides = overrides or {}
    values = copy.deepcopy(DEFAULTS)
    sources = {s: {k: conf.SOURCE_DEFAULT for k in keys} for s, keys in DEFAULTS.items()}
    used: List[str] = []
    warnings: List[str] = []
    parsed: List[Tuple[str, Dict[str, Any]]] = []
    for path in files:
        text = texts[path] if path in texts else read_text(path)
        if text is None:
            continue
        data = conf.parse_toml(text, path)
        warnings += conf.validate(data, path)
        parsed.append((path, data))
        used.append(path)
    if overrides:
        warnings += conf.validate(overrides, "engine_options")
        parsed.append((conf.SOURCE_OPTION, overrides))
    for path, data in parsed:
        for section, body in data.items():
            if section not in values or not isinstance(body, dict):
                continue
            for key, value in body.items():
                values[section][key] = value
                sources[section][key] = path
    cfg = conf.LoadedConfig(values=values, sources=sources, files=used, warnings=warnings,
                            explicit=copy.deepcopy(overrides))
    conf._derive_paths(cfg)  # noqa: SLF001 - same package, same rules as load_config
    return cfg


def db_path_of(cfg: conf.LoadedConfig) -> str:
    return os.path.join(cfg.get("engine", "static_dir"), "state.db")


def _ro_connect(db_path: str) -> Optional[sqlite3.Connection]:
    """A read-only connection to the state DB, or None when there is none yet (missing or 0 bytes).
    Its failures are StateDBErrors naming the file (store/dbconn.py): a damaged DB is never read as empty."""
    try:
        if os.path.getsize(db_path) == 0:
            return None
    except OSError:
        return None
    return dbconn.connect("file:%s?mode=ro" % quote(os.path.abspath(db_path)), uri=True, timeout=30,
                          label=db_path)


def read_db_record(db_path: str) -> Optional[Dict[str, str]]:
    """The DB config record (libpod's DBConfig) of a state DB, read-only; None if none."""
    conn = _ro_connect(db_path)
    if conn is None:
        return None
    try:
        cols = ["os"] + list(DB_CONFIG_KEYS)
        row = conn.execute("SELECT %s FROM db_config WHERE id=1" % ",".join(cols)).fetchone()
        return dict(zip(cols, row)) if row else None
    finally:
        conn.close()


def count_objects(db_path: str) -> Dict[str, int]:
    """Objects in a state DB by kind (0 for a DB that does not exist)."""
    out = {pair[0]: 0 for pair in OBJECT_TABLES}
    conn = _ro_connect(db_path)
    if conn is None:
        return out
    try:
        for kind, table in OBJECT_TABLES:
            out[kind] = conn.execute("SELECT COUNT(*) FROM %s" % table).fetchone()[0]
    finally:
        conn.close()
    return out


def lock_usage(db_path: str) -> Tuple[int, int]:
    """(objects that hold a lock, highest lock number + 1) of a state DB."""
    conn = _ro_connect(db_path)
    if conn is None:
        return 0, 0
    try:
        n = 0
        for table in ("containers", "pods", "volumes"):
            n += conn.execute("SELECT COUNT(*) FROM %s" % table).fetchone()[0]
        top = conn.execute("SELECT MAX(lock_id) FROM locks").fetchone()[0]
        return n, (top + 1 if top is not None else 0)
    finally:
        conn.close()


def apply_db_record(cfg: conf.LoadedConfig, record: Optional[Dict[str, str]], db_path: str) -> List[str]:
    """mergeDBConfig: recorded paths win over configured ones unless set explicitly (task options)."""
    warnings: List[str] = []
    if not cfg.get("storage", "graph_driver"):  # as Runtime._merge_db_config: "" means the kernel's best
        from ..runtime import graph_driver_default  # noqa: PLC0415

        cfg.values["storage"]["graph_driver"] = graph_driver_default()
    if not record:
        return warnings
    for fname, (section, key) in DB_CONFIG_KEYS.items():
        db_val = record.get(fname)
        ours = cfg.get(section, key)
        if not db_val or (ours and os.path.normpath(str(db_val)) == os.path.normpath(str(ours))):
            continue
        if cfg.is_explicit(section, key):
            continue  # the runtime refuses this combination; reported when it opens
        warnings.append("[%s] %s = %r (from %s) is overridden by %r from the DB config record in %s"
                        % (section, key, ours, cfg.source(section, key), db_val, db_path))
        cfg.set(section, key, db_val, conf.SOURCE_DATABASE)
    return warnings


# -- checks -------------------------------------------------------------------------------------
def _src(cfg: conf.LoadedConfig, section: str, key: str) -> str:
    return cfg.source(section, key)


def _first_exec(paths: List[str]) -> Optional[str]:
    for p in paths or []:
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def check_runtime(cfg: conf.LoadedConfig) -> str:
    """The default OCI runtime must exist (as Runtime._init_runtimes decides); returns its path."""
    wanted = cfg.get("engine", "runtime")
    table = cfg.get("engine", "runtimes") or {}
    found = {n: _first_exec(p) or shutil.which(n) for n, p in table.items()}
    found = {n: p for n, p in found.items() if p}
    where = "[engine] runtime = %s (from %s)" % (json.dumps(wanted), _src(cfg, "engine", "runtime"))
    avail = ", ".join(sorted(found)) or "none found"
    if wanted.startswith("/"):
        if not (os.path.isfile(wanted) and os.access(wanted, os.X_OK)):
            raise OCIRuntimeNotFound("%s: no executable file at that path" % where,
                                     hint="install it, or name one of the installed runtimes: %s" % avail)
        return wanted
    if wanted:
        if wanted not in table:
            raise OCIRuntimeNotFound("%s: no such OCI runtime in the [engine.runtimes] table" % where,
                                     hint="use one of: %s, an absolute path, or add %s to [engine.runtimes]"
                                          % (avail, wanted))
        if wanted not in found:
            raise OCIRuntimeNotFound("%s: not installed, none of %s exists" % (where, ", ".join(table[wanted])),
                                     hint="install %s or use one of: %s" % (wanted, avail))
        return found[wanted]
    if not found:
        raise OCIRuntimeNotFound("no OCI runtime of the [engine.runtimes] table is installed (%s)"
                                 % ", ".join(sorted(table)), hint="install runc or crun")
    return next(iter(found.values()))


def check_conmon(cfg: conf.LoadedConfig) -> str:
    from ..oci.driver import find_conmon  # noqa: PLC0415

    try:
        return find_conmon(cfg.get("engine", "conmon_path"))[0]
    except EngineError as exc:
        exc.msg = "[engine] conmon_path (from %s): %s" % (_src(cfg, "engine", "conmon_path"), exc.msg)
        raise


def check_ulimits(cfg: conf.LoadedConfig) -> None:
    """default_ulimits above this host's hard limits fail every container start: refuse them now."""
    from ..parse.values import RLIM_INFINITY, format_ulimit, parse_ulimits  # noqa: PLC0415

    values = cfg.get("containers", "default_ulimits")
    src = _src(cfg, "containers", "default_ulimits")
    try:
        limits = parse_ulimits(values, "[containers] default_ulimits")
    except EngineError as exc:
        exc.msg = "%s (from %s)" % (exc.msg, src)
        raise
    for rl in limits:
        res = getattr(resource, rl["type"], None)
        if res is None:
            continue
        _soft, hard = resource.getrlimit(res)
        host_hard = RLIM_INFINITY if hard == resource.RLIM_INFINITY else hard
        if rl["hard"] > host_hard or rl["soft"] > host_hard:
            raise InvalidArg(
                "[containers] default_ulimits %s (from %s): above this host's hard limit %s for %s"
                % (format_ulimit(rl), src, "unlimited" if host_hard == RLIM_INFINITY else host_hard, rl["type"]),
                hint="keep soft and hard at or below %s; the engine cannot raise a hard limit" % host_hard)
        if rl["soft"] > rl["hard"]:
            raise InvalidArg("[containers] default_ulimits %s (from %s): soft limit above the hard limit"
                             % (format_ulimit(rl), src))


def check_num_locks(cfg: conf.LoadedConfig, db_path: str, renumber: bool) -> List[str]:
    """num_locks must leave a lock for every object; returns warnings (renumber needed)."""
    n = cfg.get("engine", "num_locks")
    objects, top = lock_usage(db_path)
    if n < objects:
        raise LockExhausted(
            "[engine] num_locks = %d (from %s) is below the %d containers, pods and volumes of %s that "
            "each hold a lock" % (n, _src(cfg, "engine", "num_locks"), objects, db_path),
            hint="set num_locks to at least %d, or remove objects first" % objects)
    if top > n and not renumber:
        return ["[engine] num_locks = %d: objects hold lock numbers up to %d; run runtime_config with "
                "renumber: true to renumber them into the new range" % (n, top - 1)]
    return []


@dataclass
class PathChange:
    """A DB-recorded path (or graph driver) whose configured value a change would move."""

    field: str
    section: str
    key: str
    before: Any
    after: Any

    def describe(self) -> str:
        return "[%s] %s %s -> %s" % (self.section, self.key, json.dumps(self.before), json.dumps(self.after))


@dataclass
class PathPlan:
    """What a change of DB-recorded paths means for the state DB(s)."""

    changes: List[PathChange] = field(default_factory=list)
    old_db: str = ""
    new_db: str = ""
    objects: Dict[str, int] = field(default_factory=dict)
    needs_reset: bool = False
    clear_record: str = ""   # a DB whose config record must go so the new paths are used

    def summary(self) -> str:
        return ", ".join("%d %s%s" % (n, k, "" if n == 1 else "s") for k, n in self.objects.items() if n)


def plan_path_changes(before: conf.LoadedConfig, after: conf.LoadedConfig, reset: bool) -> PathPlan:
    """Refuse moving static_dir/tmp_dir/volume_path/graph_root/run_root/graph_driver under existing
    objects (they would be orphaned, or the DB config record would silently win), unless reset.

    ``before``/``after`` are merged configs *without* the DB record applied.
    """
    plan = PathPlan(old_db=db_path_of(before), new_db=db_path_of(after))
    for fname, (section, key) in DB_CONFIG_KEYS.items():
        a, b = before.get(section, key), after.get(section, key)
        if (os.path.normpath(a) if a else a) != (os.path.normpath(b) if b else b):
            plan.changes.append(PathChange(fname, section, key, a, b))
    if not plan.changes:
        return plan
    plan.objects = count_objects(plan.old_db)
    if any(plan.objects.values()):
        if not reset:
            record = read_db_record(plan.old_db) or {}
            recorded = "; ".join('%s "%s"' % (c.field.replace("_", " "), record.get(c.field, c.before))
                                 for c in plan.changes)
            raise DBConfigMismatch(
                "settings: changing %s is refused while the engine has %s: the DB config record in %s "
                "(table db_config) stores %s, and those objects live there"
                % ("; ".join(c.describe() for c in plan.changes), plan.summary(), plan.old_db, recorded),
                hint="remove the objects first, or add reset: true to remove them all (as system_reset) "
                     "before the new paths are written; the file was not changed")
        plan.needs_reset = True
        return plan
    # nothing to orphan: make sure the DB the new config uses will not override the new values
    record = read_db_record(plan.new_db)
    if record:
        for c in plan.changes:
            stored = record.get(c.field)
            if stored and c.after and os.path.normpath(str(stored)) != os.path.normpath(str(c.after)):
                plan.clear_record = plan.new_db
                break
    return plan


def clear_db_record(db_path: str) -> bool:
    """Delete the DB config record of an object-less DB, so the next open records the new paths."""
    if not os.path.isfile(db_path):
        return False
    conn = dbconn.connect(db_path, timeout=30)
    try:
        conn.execute("BEGIN IMMEDIATE")
        cur = conn.execute("DELETE FROM db_config")
        conn.execute("COMMIT")
        return cur.rowcount > 0
    finally:
        conn.close()


def effective(cfg: conf.LoadedConfig) -> Tuple[Dict[str, Dict[str, Any]], Dict[str, Dict[str, str]]]:
    """(values, sources) as plain dicts for the module result."""
    return copy.deepcopy(cfg.values), copy.deepcopy(cfg.sources)
