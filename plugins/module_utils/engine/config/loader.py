# SPDX-License-Identifier: GPL-3.0-or-later
"""containers.conf loading, as containers/common's NewConfig does it.

Order: built-in defaults -> /usr/share/libpod-engine/containers.conf ->
/etc/libpod-engine/containers.conf -> /etc/libpod-engine/containers.conf.d/*.conf
(sorted) -> rootless only: ~/.config/libpod-engine/containers.conf and its .d/*.conf
(host/userpaths.py). If LIBPOD_ENGINE_CONF is set, only that file is read (it must exist),
as CONTAINERS_CONF. Then explicit options. A rootless user's defaults are its own paths.
Each file is merged key by key; arrays are replaced, not appended. Every value remembers where it came from.

Validation uses jsonschema, whose import costs ~100 ms; the fingerprints (files and explicit
options) of the last few validated loads are kept in the tmp dir so a warm runtime open skips it.
Several, not one: conmon's exit command opens the same root with explicit path options, and with
a single entry each container exit made the next task validate (and import jsonschema) again.
"""
from __future__ import annotations

import copy
import glob
import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..base.errors import ConfigError
from ..host import userpaths
from ..host.files import write_atomic
from .parsecache import ParsedFiles
from .schema import DEFAULTS, SCHEMA

ENV_VAR = "LIBPOD_ENGINE_CONF"
VENDOR_CONF = "/usr/share/libpod-engine/containers.conf"
ADMIN_CONF = "/etc/libpod-engine/containers.conf"
DROPIN_DIR = "/etc/libpod-engine/containers.conf.d"

SOURCE_DEFAULT = "default"
SOURCE_OPTION = "option"
SOURCE_DATABASE = "database"


def _toml_parser():
    """tomllib (Python >= 3.11), else tomli, else None. Imported on the first file read: a host
    without containers.conf files does not load it (~2 ms of every task, issue 20)."""
    try:
        import tomllib as toml  # noqa: PLC0415  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - Python 3.9/3.10 managed nodes
        try:
            import tomli as toml  # noqa: PLC0415  # type: ignore[import-not-found,no-redef]
        except ImportError:
            return None
    return toml


def parse_toml(text: str, path: str) -> Dict[str, Any]:
    """Parse TOML with tomllib/tomli, else tomlkit (declared dependency)."""
    if not text.strip():
        return {}  # an empty file (the parser is not even imported)
    try:
        toml = _toml_parser()
        if toml is not None:
            return toml.loads(text)
        import tomlkit  # noqa: PLC0415 - only on old Pythons

        return tomlkit.parse(text).unwrap()
    except ImportError:
        raise ConfigError("cannot read %s: no TOML parser" % path,
                          hint="install tomlkit (pip install tomlkit) on the managed node")
    except Exception as exc:  # tomllib.TOMLDecodeError and tomlkit errors have no common base
        raise ConfigError("%s: invalid TOML: %s" % (path, exc),
                          hint="fix the syntax of the file") from None


def config_files(env: Optional[Dict[str, str]] = None) -> List[str]:
    """The files to read, in order; raises if LIBPOD_ENGINE_CONF names a missing file."""
    env = os.environ if env is None else env
    override = env.get(ENV_VAR)
    if override:
        if not os.path.isfile(override):
            raise ConfigError("%s=%s: no such file" % (ENV_VAR, override),
                              hint="point %s at an existing containers.conf or unset it" % ENV_VAR)
        return [override]
    files = [p for p in (VENDOR_CONF, ADMIN_CONF) if os.path.isfile(p)]
    files += sorted(glob.glob(os.path.join(DROPIN_DIR, "*.conf")))
    user = userpaths.current(env)
    if user is not None:  # as containers/common's rootlessConfigPath, on top of the system files
        files += [user.config_file] if os.path.isfile(user.config_file) else []
        files += sorted(glob.glob(os.path.join(user.config_file + ".d", "*.conf")))
    return files


@dataclass
class LoadedConfig:
    """The merged configuration plus, per key, where its value came from."""

    values: Dict[str, Dict[str, Any]]
    sources: Dict[str, Dict[str, str]]
    files: List[str]
    warnings: List[str] = field(default_factory=list)
    explicit: Dict[str, Dict[str, Any]] = field(default_factory=dict)

    def get(self, section: str, key: str) -> Any:
        return self.values[section][key]

    def source(self, section: str, key: str) -> str:
        return self.sources[section][key]

    def is_explicit(self, section: str, key: str) -> bool:
        return key in self.explicit.get(section, {})

    def set(self, section: str, key: str, value: Any, source: str) -> None:
        self.values[section][key] = value
        self.sources[section][key] = source

    def as_dict(self) -> Dict[str, Dict[str, Any]]:
        return copy.deepcopy(self.values)


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "table"}.get(type(value), type(value).__name__)


def _describe(schema: Dict[str, Any]) -> str:
    if "enum" in schema:
        return "one of %s" % ", ".join(repr(v) for v in schema["enum"])
    t = schema.get("type", "value")
    if t == "array":
        return "array of %ss" % schema.get("items", {}).get("type", "value")
    if t == "object":
        return "table"
    return t


def validate(data: Dict[str, Any], path: str) -> List[str]:
    """Check one file's content against SCHEMA; return warnings for unknown keys.

    Errors name the file, the [section] key and the expected type.
    """
    if not isinstance(data, dict):
        raise ConfigError("%s: expected a TOML document" % path)
    warnings = []
    ours = {}
    for section, body in data.items():
        if section not in SCHEMA["properties"]:
            if path == "options":  # engine_options of a task: a typo, not someone else's file
                raise ConfigError("%s: unknown section [%s]" % (path, section),
                                  hint="known sections: %s" % ", ".join("[%s]" % s for s in SCHEMA["properties"]))
            # a podman containers.conf has sections the engine does not use ([secrets], [machine], ...)
            keys = ", ".join(sorted(body)) if isinstance(body, dict) else "(not a table)"
            warnings.append("%s: section [%s] is not used by libpod.engine; ignored: %s" % (path, section, keys))
            continue
        if not isinstance(body, dict):
            raise ConfigError("%s: %s must be a table [%s], not %s" % (path, section, section, _type_name(body)))
        ours[section] = body
    data = ours
    import jsonschema  # noqa: PLC0415 - ~100 ms, only when a file changed

    validator = jsonschema.Draft7Validator(SCHEMA)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = list(err.absolute_path)
        section = where[0] if where else "?"
        key = ".".join(str(p) for p in where[1:]) or "?"
        sub = err.schema if isinstance(err.schema, dict) else {}
        raise ConfigError(
            "%s: [%s] %s = %s: expected %s, got %s"
            % (path, section, key, json.dumps(err.instance), _describe(sub), _type_name(err.instance)),
            hint="fix the value in %s" % path)
    for section, body in data.items():
        known = SCHEMA["properties"][section]["properties"]
        for key in body:
            if key not in known:
                warnings.append("%s: unknown key %s in [%s] ignored" % (path, key, section))
    return warnings + check_support(data, path)


def check_support(data: Dict[str, Any], path: str) -> List[str]:
    """Values podman accepts that this engine cannot honour: refused, or a warning that says
    what happens instead (never silently ignored)."""
    engine = data.get("engine") or {}
    warnings = []
    if engine.get("cgroup_manager") == "systemd":
        booted = os.path.isdir("/run/systemd/system")
        raise ConfigError(
            '%s: [engine] cgroup_manager = "systemd": %s' % (
                path, "libpod.engine manages cgroups itself (cgroupfs) and does not create systemd scopes"
                if booted else "this host does not run systemd as its init system (no /run/systemd/system)"),
            hint='set cgroup_manager = "cgroupfs" or remove the key')
    if engine.get("lock_type") == "shm":
        warnings.append('%s: [engine] lock_type = "shm": libpod.engine has file locks only (one lock file in '
                        'the tmp dir, same semantics); file locks are used' % path)
    return warnings


def _fingerprint(files: List[str], overrides: Dict[str, Any]) -> List[Any]:
    fp: List[Any] = []
    for p in files:
        st = os.stat(p)
        fp.append([p, st.st_mtime_ns, st.st_size, st.st_ino])
    fp.append(json.dumps(overrides, sort_keys=True, default=str))
    return fp


def _cache_path(tmp_dir: str) -> str:
    return os.path.join(tmp_dir, "config-validated.json")


#: how many validated fingerprints the cache keeps (module tasks, exit commands, CLI calls differ)
CACHE_ENTRIES = 8


def _read_cache(tmp_dir: str) -> List[Dict[str, Any]]:
    """The cached entries ``{"fingerprint", "warnings"}``, most recent first ([] if none or unreadable)."""
    try:
        with open(_cache_path(tmp_dir)) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return []
    entries = data.get("entries") if isinstance(data, dict) else None
    if entries is None and isinstance(data, dict) and "fingerprint" in data:
        entries = [data]  # the single-entry format of earlier versions
    return [e for e in entries or [] if isinstance(e, dict) and "fingerprint" in e]


def _write_cache(tmp_dir: str, entries: List[Dict[str, Any]], fp: List[Any], warnings: List[str]) -> None:
    if not os.path.isdir(tmp_dir):
        return  # created by the runtime open, not by a (possibly check-mode) config load
    keep = [{"fingerprint": fp, "warnings": warnings}]
    keep += [e for e in entries if e.get("fingerprint") != fp][:CACHE_ENTRIES - 1]
    try:
        write_atomic(_cache_path(tmp_dir), json.dumps({"entries": keep}))
    except OSError:
        pass  # a cache, nothing more


def load_config(overrides: Optional[Dict[str, Dict[str, Any]]] = None,
                env: Optional[Dict[str, str]] = None) -> LoadedConfig:
    """Merge defaults, files and explicit options (see module doc)."""
    overrides = overrides or {}
    files = config_files(env)
    values = copy.deepcopy(DEFAULTS)
    sources = {s: {k: SOURCE_DEFAULT for k in keys} for s, keys in DEFAULTS.items()}
    user = userpaths.current(env)
    if user is not None:  # podman's rootless defaults: the user's own static, tmp and volume dirs
        values["engine"].update(user.defaults())
    parsed: List[Tuple[str, Dict[str, Any]]] = []
    # root's engine run dir, or the user's: where files parsed by earlier tasks are kept
    cache = ParsedFiles(userpaths.ROOT_REGISTRY_DIR if user is None else user.tmp_dir)
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                st = os.fstat(f.fileno())
                data = cache.get(path, st)
                if data is None:
                    data = parse_toml(f.read(), path)
                    cache.put(path, st, data)
        except OSError as exc:
            raise ConfigError("cannot read %s: %s" % (path, exc.strerror))
        parsed.append((path, data))
    cache.save()
    if overrides:
        parsed.append(("options", overrides))

    # Values first (cheap), so that the tmp dir (where the validation cache lives) is known.
    for path, data in parsed:
        src = SOURCE_OPTION if path == "options" else path
        for section, body in data.items():
            if section not in values or not isinstance(body, dict):
                continue  # reported by validate()
            for key, value in body.items():
                values[section][key] = value
                sources[section][key] = src

    tmp_dir = values["engine"]["tmp_dir"] if isinstance(values["engine"].get("tmp_dir"), str) else ""
    fp = _fingerprint(files, overrides)
    entries = _read_cache(tmp_dir) if tmp_dir else []
    hit = next((e for e in entries if e.get("fingerprint") == fp), None)
    if hit is not None:
        warnings = list(hit.get("warnings", []))
    else:
        warnings = []
        for path, data in parsed:
            warnings += validate(data, path)
        if tmp_dir:
            _write_cache(tmp_dir, entries, fp, warnings)

    cfg = LoadedConfig(values=values, sources=sources, files=files,
                       warnings=(list(user.warnings) if user is not None else []) + warnings,
                       explicit=copy.deepcopy(overrides))
    _derive_paths(cfg)
    return cfg


def _derive_paths(cfg: LoadedConfig) -> None:
    """Fill the storage paths that default to a place under static/tmp dir."""
    eng, sto = cfg.values["engine"], cfg.values["storage"]
    for key in ("static_dir", "tmp_dir", "volume_path"):
        eng[key] = os.path.normpath(eng[key]) if eng[key] else eng[key]
    if not sto["graph_root"]:
        cfg.set("storage", "graph_root", os.path.join(eng["static_dir"], "storage"),
                cfg.source("engine", "static_dir"))
    if not sto["run_root"]:
        cfg.set("storage", "run_root", os.path.join(eng["tmp_dir"], "storage"), cfg.source("engine", "tmp_dir"))
    # volume_path follows static_dir unless set on its own (as podman's --root does)
    if cfg.source("engine", "volume_path") == SOURCE_DEFAULT and cfg.source("engine", "static_dir") != SOURCE_DEFAULT:
        cfg.set("engine", "volume_path", os.path.join(eng["static_dir"], "volumes"), cfg.source("engine", "static_dir"))
    for key in ("static_dir", "tmp_dir", "volume_path"):
        if not os.path.isabs(eng[key]):
            raise ConfigError("[engine] %s = %r must be an absolute path (from %s)"
                              % (key, eng[key], cfg.source("engine", key)))
