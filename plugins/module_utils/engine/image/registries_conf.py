# SPDX-License-Identifier: GPL-3.0-or-later
"""registries.conf v2 (containers-registries.conf(5)): which registries a name may come from.

Files, in order (later files override earlier ones key by key, as c/image's drop-ins do):

* ``$LIBPOD_ENGINE_REGISTRIES_CONF`` alone (plus ``<that file>.d/*.conf``) when set: tests and
  hosts that want the engine isolated from podman's configuration;
* else ``/etc/containers/registries.conf``, ``/etc/containers/registries.conf.d/*.conf``, then the
  engine's own ``/etc/libpod-engine/registries.conf`` and ``/etc/libpod-engine/registries.conf.d/*.conf``.

Merging: ``unqualified-search-registries``, ``short-name-mode`` and ``credential-helpers`` are
replaced by a later file that sets them; ``[aliases]`` are merged per name; a ``[[registry]]`` with
the same ``prefix`` replaces the earlier one. The v1 format (``[registries.search]``,
``[registries.insecure]``, ``[registries.block]``) is read too, as c/image does. Every problem is a
ConfigError naming the file and the key.
"""
from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..base.errors import ConfigError
from ..config.loader import parse_toml
from .reference import is_short_name, parse_reference

ENV_VAR = "LIBPOD_ENGINE_REGISTRIES_CONF"
SYSTEM_CONF = "/etc/containers/registries.conf"
ENGINE_CONF = "/etc/libpod-engine/registries.conf"
SHORT_NAME_MODES = ("enforcing", "permissive", "disabled")
PULL_FROM_MIRROR = ("all", "digest-only", "tag-only")
#: additional-layer-store-auth-helper is read and ignored (the engine has no additional layer stores)
_TOP_KEYS = ("unqualified-search-registries", "short-name-mode", "credential-helpers", "aliases", "registry",
             "registries", "additional-layer-store-auth-helper")
_REGISTRY_KEYS = ("prefix", "location", "insecure", "blocked", "mirror", "mirror-by-digest-only")
_MIRROR_KEYS = ("location", "insecure", "pull-from-mirror")
_HOST_RE = re.compile(r"^(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]+)?(?:/[a-z0-9._/-]+)?\Z"
                      r"|^\[[0-9A-Fa-f:.]+\](?::[0-9]+)?(?:/[a-z0-9._/-]+)?\Z")


@dataclass
class Mirror:
    """One ``[[registry.mirror]]``: tried before the registry's location, in order."""

    location: str
    insecure: bool = False
    pull_from_mirror: str = "all"


@dataclass
class RegistryEntry:
    """One ``[[registry]]`` table (prefix defaults to location)."""

    prefix: str
    location: str
    insecure: bool = False
    blocked: bool = False
    mirrors: List[Mirror] = field(default_factory=list)
    mirror_by_digest_only: bool = False
    source: str = ""

    def matches(self, name: str) -> int:
        """How specific the match of ``name`` (``host/repo[:tag]``) is (0 = no match)."""
        prefix = self.prefix
        if prefix.startswith("*."):
            host = name.split("/", 1)[0]
            return len(prefix) if host.endswith(prefix[1:]) else 0
        if name == prefix or name.startswith(prefix + "/") or name.startswith(prefix + ":") \
                or name.startswith(prefix + "@"):
            return len(prefix)
        return 0

    def rewrite(self, name: str, location: str) -> str:
        """``name`` with this entry's prefix replaced by ``location`` (wildcards keep the host)."""
        if self.prefix.startswith("*.") or not location:
            return name
        return location + name[len(self.prefix):]


@dataclass
class RegistriesConf:
    """The merged configuration; ``files`` says what was read (for messages)."""

    search: List[str] = field(default_factory=list)
    short_name_mode: str = "enforcing"
    aliases: Dict[str, str] = field(default_factory=dict)
    alias_sources: Dict[str, str] = field(default_factory=dict)
    registries: List[RegistryEntry] = field(default_factory=list)
    files: List[str] = field(default_factory=list)
    search_source: str = ""

    def find(self, name: str) -> Optional[RegistryEntry]:
        """The ``[[registry]]`` whose prefix matches ``name`` most specifically (c/image's rule)."""
        best, score = None, 0
        for entry in self.registries:
            n = entry.matches(name)
            if n > score:
                best, score = entry, n
        return best

    def where(self) -> str:
        return ", ".join(self.files) if self.files else "no registries.conf (none found)"


def config_files(env: Optional[Dict[str, str]] = None) -> List[str]:
    """The files to read, in order; a set override must exist."""
    env = os.environ if env is None else env
    override = env.get(ENV_VAR)
    if override:
        if not os.path.isfile(override):
            raise ConfigError("%s=%s: no such file" % (ENV_VAR, override),
                              hint="point %s at an existing registries.conf or unset it" % ENV_VAR)
        return [override] + sorted(glob.glob(override + ".d/*.conf"))
    out: List[str] = []
    for main in (SYSTEM_CONF, ENGINE_CONF):
        if os.path.isfile(main):
            out.append(main)
        out += sorted(glob.glob(main + ".d/*.conf"))
    return out


def _err(path: str, key: str, msg: str, hint: str = "") -> ConfigError:
    return ConfigError("registries.conf %s: %s: %s" % (path, key, msg),
                       hint=hint or "see containers-registries.conf(5)")


def _bool(path: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _err(path, key, "must be true or false, got %r" % (value,))
    return value


def _str(path: str, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _err(path, key, "must be a string, got %r" % (value,))
    return value


def _location(path: str, key: str, value: Any, *, allow_wildcard: bool = False) -> str:
    value = _str(path, key, value).strip()
    if value.startswith("http://") or value.startswith("https://"):
        raise _err(path, key, "%r must not have a scheme" % value,
                   hint="write host[:port][/namespace]; set insecure = true for plain http")
    if not _HOST_RE.fullmatch(value) or (value.startswith("*.") and not allow_wildcard):
        raise _err(path, key, "%r is not a registry location (host[:port][/namespace])" % value)
    return value.rstrip("/")


def _str_list(path: str, key: str, value: Any) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(path, key, "must be a list of strings, got %r" % (value,))
    return list(value)


def validate_alias(path: str, name: Any, value: Any) -> Tuple[str, str]:
    """An ``[aliases]`` entry: a short name (no registry, tag or digest) -> a fully qualified name."""
    key = "aliases.%s" % name
    if not isinstance(name, str) or not name or not is_short_name(name) or ":" in name or "@" in name:
        raise _err(path, key, "an alias must be a short name without tag or digest (e.g. \"nginx\")")
    value = _str(path, key, value)
    if is_short_name(value):
        raise _err(path, key, "%r is not fully qualified" % value,
                   hint="write the registry too, e.g. \"docker.io/library/%s\"" % name)
    try:
        parse_reference(value)
    except ConfigError:
        raise
    except Exception as e:  # ImageError: the message names the problem
        raise _err(path, key, str(e))
    return name, value


def _registry(path: str, idx: int, doc: Any) -> RegistryEntry:
    where = "registry[%d]" % idx
    if not isinstance(doc, dict):
        raise _err(path, where, "must be a table ([[registry]])")
    for k in doc:
        if k not in _REGISTRY_KEYS:
            raise _err(path, "%s.%s" % (where, k), "unknown key", hint="known keys: %s" % ", ".join(_REGISTRY_KEYS))
    location = _location(path, where + ".location", doc["location"]) if "location" in doc else ""
    prefix = _location(path, where + ".prefix", doc["prefix"], allow_wildcard=True) if "prefix" in doc else location
    if not prefix:
        raise _err(path, where, "needs a location or a prefix")
    if prefix.startswith("*.") and location:
        raise _err(path, where + ".location", "a wildcard prefix (%s) cannot have a location" % prefix)
    mirrors = []
    raw = doc.get("mirror", [])
    if not isinstance(raw, list):
        raise _err(path, where + ".mirror", "must be an array of tables ([[registry.mirror]])")
    for j, m in enumerate(raw):
        mwhere = "%s.mirror[%d]" % (where, j)
        if not isinstance(m, dict):
            raise _err(path, mwhere, "must be a table")
        for k in m:
            if k not in _MIRROR_KEYS:
                raise _err(path, "%s.%s" % (mwhere, k), "unknown key", hint="known keys: %s" % ", ".join(_MIRROR_KEYS))
        if "location" not in m:
            raise _err(path, mwhere + ".location", "is required")
        pfm = _str(path, mwhere + ".pull-from-mirror", m.get("pull-from-mirror", "all"))
        if pfm not in PULL_FROM_MIRROR:
            raise _err(path, mwhere + ".pull-from-mirror",
                       "must be one of %s, got %r" % (", ".join(PULL_FROM_MIRROR), pfm))
        mirrors.append(Mirror(location=_location(path, mwhere + ".location", m["location"]),
                              insecure=_bool(path, mwhere + ".insecure", m.get("insecure", False)),
                              pull_from_mirror=pfm))
    return RegistryEntry(prefix=prefix, location=location,
                         insecure=_bool(path, where + ".insecure", doc.get("insecure", False)),
                         blocked=_bool(path, where + ".blocked", doc.get("blocked", False)),
                         mirrors=mirrors,
                         mirror_by_digest_only=_bool(path, where + ".mirror-by-digest-only",
                                                     doc.get("mirror-by-digest-only", False)),
                         source=path)


def _v1(path: str, doc: Dict[str, Any]) -> Tuple[List[str], List[RegistryEntry]]:
    """``[registries.search|insecure|block] registries = [...]`` (the v1 format) as v2 values."""
    v1 = doc["registries"]
    if not isinstance(v1, dict) or any(k not in ("search", "insecure", "block") for k in v1):
        raise _err(path, "registries", "must be the v1 tables [registries.search], [registries.insecure], "
                                       "[registries.block]")
    lists = {}
    for k in ("search", "insecure", "block"):
        t = v1.get(k, {})
        if not isinstance(t, dict) or any(x != "registries" for x in t):
            raise _err(path, "registries.%s" % k, "must hold only a registries = [...] list")
        lists[k] = _str_list(path, "registries.%s.registries" % k, t.get("registries", []))
    entries: Dict[str, RegistryEntry] = {}
    for k, flag in (("insecure", "insecure"), ("block", "blocked")):
        for loc in lists[k]:
            loc = _location(path, "registries.%s.registries" % k, loc)
            e = entries.setdefault(loc, RegistryEntry(prefix=loc, location=loc, source=path))
            setattr(e, flag, True)
    return lists["search"], list(entries.values())


def parse_file(path: str, text: str, conf: RegistriesConf) -> None:
    """Merge one file's settings into ``conf``."""
    doc = parse_toml(text, path)
    for k in doc:
        if k not in _TOP_KEYS:
            raise _err(path, k, "unknown key", hint="known keys: %s" % ", ".join(_TOP_KEYS))
    has_v2 = any(k in doc for k in ("unqualified-search-registries", "registry", "short-name-mode"))
    if "registries" in doc:
        if has_v2:
            raise _err(path, "registries", "the v1 format ([registries.search] ...) cannot be mixed with v2 keys",
                       hint="use unqualified-search-registries and [[registry]] only")
        search, entries = _v1(path, doc)
        if search:
            conf.search, conf.search_source = search, path
        _merge_registries(conf, entries)
    if "unqualified-search-registries" in doc:
        key = "unqualified-search-registries"
        conf.search = [_location(path, key, v) for v in _str_list(path, key, doc[key])]
        conf.search_source = path
    if "short-name-mode" in doc:
        mode = _str(path, "short-name-mode", doc["short-name-mode"])
        if mode not in SHORT_NAME_MODES:
            raise _err(path, "short-name-mode", "must be one of %s, got %r" % (", ".join(SHORT_NAME_MODES), mode))
        conf.short_name_mode = mode
    if "credential-helpers" in doc:
        helpers = _str_list(path, "credential-helpers", doc["credential-helpers"])
        if any(h != "containers-auth.json" for h in helpers):
            raise _err(path, "credential-helpers", "only containers-auth.json is supported, got %r" % (helpers,),
                       hint="remove the credential helper; log in with libpod.engine.login (auth.json)")
    aliases = doc.get("aliases", {})
    if not isinstance(aliases, dict):
        raise _err(path, "aliases", "must be a table ([aliases])")
    for name, value in aliases.items():
        name, value = validate_alias(path, name, value)
        conf.aliases[name] = value
        conf.alias_sources[name] = path
    regs = doc.get("registry", [])
    if not isinstance(regs, list):
        raise _err(path, "registry", "must be an array of tables ([[registry]])")
    _merge_registries(conf, [_registry(path, i, r) for i, r in enumerate(regs)])


def _merge_registries(conf: RegistriesConf, entries: List[RegistryEntry]) -> None:
    for e in entries:
        conf.registries = [r for r in conf.registries if r.prefix != e.prefix] + [e]


def load(files: Optional[List[str]] = None) -> RegistriesConf:
    """Read and merge ``files`` (default: :func:`config_files`)."""
    conf = RegistriesConf()
    for path in config_files() if files is None else files:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError("cannot read registries.conf %s: %s" % (path, e))
        parse_file(path, text, conf)
        conf.files.append(path)
    return conf
