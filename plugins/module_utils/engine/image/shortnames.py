# SPDX-License-Identifier: GPL-3.0-or-later
"""Short-name resolution (containers-registries.conf(5) "SHORT-NAME ALIASING").

For a name without a registry (``nginx``, ``team/app:1``), in order:

1. an alias: the short-name alias file (``$LIBPOD_ENGINE_SHORT_NAME_ALIASES``, default
   ``/var/cache/containers/short-name-aliases.conf`` unless ``$LIBPOD_ENGINE_REGISTRIES_CONF`` isolates
   the engine) wins over ``[aliases]`` of registries.conf, as in c/image;
2. else ``unqualified-search-registries``: one registry is unambiguous; with several,
   ``short-name-mode = "enforcing"`` would prompt on a TTY, and there is none under Ansible, so it is
   an error naming the candidates; ``permissive`` and ``disabled`` try them in order.

Local images are looked up before this (the store does), so a pulled short name is found again
without contacting a registry.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, List, Optional

from ..base.errors import ConfigError, ImageError
from ..config.loader import parse_toml
from . import registries_conf
from .reference import is_short_name, parse_reference

ENV_VAR = "LIBPOD_ENGINE_SHORT_NAME_ALIASES"
DEFAULT_ALIAS_FILE = "/var/cache/containers/short-name-aliases.conf"


@dataclass
class Resolution:
    """The fully qualified candidates to try, in order, and why those."""

    candidates: List[str]
    origin: str


def alias_file(env: Optional[Dict[str, str]] = None) -> str:
    env = os.environ if env is None else env
    if env.get(ENV_VAR):
        return env[ENV_VAR]
    return "" if env.get(registries_conf.ENV_VAR) else DEFAULT_ALIAS_FILE


def load_alias_file(path: str) -> Dict[str, str]:
    """The ``[aliases]`` of a short-name alias file ({} when the file does not exist)."""
    if not path or not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            doc = parse_toml(f.read(), path)
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError("cannot read short-name alias file %s: %s" % (path, e))
    if any(k != "aliases" for k in doc) or not isinstance(doc.get("aliases", {}), dict):
        raise ConfigError("short-name alias file %s: only an [aliases] table is allowed" % path)
    return dict(registries_conf.validate_alias(path, k, v) for k, v in doc.get("aliases", {}).items())


def _split(name: str) -> tuple:
    """(repository part, ":tag" / "@digest" suffix) of a short name, validated."""
    parse_reference(name)  # raises a clear ImageError for a malformed name
    base, at, digest = name.partition("@")
    slash = base.rfind("/")
    colon = base.rfind(":")
    tag = ""
    if colon > slash:
        base, tag = base[:colon], base[colon:]
    return base, tag + (at + digest if at else "")


def _qualify(registry: str, repo: str, suffix: str) -> str:
    return str(parse_reference("%s/%s%s" % (registry, repo, suffix)))


def resolve(name: str, conf: registries_conf.RegistriesConf, cache_aliases: Optional[Dict[str, str]] = None,
            cache_file: str = "") -> Resolution:
    """The candidates for the short name ``name``; ImageError when there are none or, in
    enforcing mode, when several would need a choice."""
    if not is_short_name(name):
        raise ImageError("%s is not a short name" % name)
    repo, suffix = _split(name)
    for aliases, where in ((cache_aliases or {}, cache_file), (conf.aliases, None)):
        if repo in aliases:
            target = aliases[repo]
            src = where or conf.alias_sources.get(repo, "registries.conf")
            ref = parse_reference(target)
            if suffix and (ref.digest or target.rsplit("/", 1)[-1].count(":")):
                raise ImageError("short name %s has a tag or digest, and so does its alias %s (in %s)"
                                 % (name, target, src), hint="use the name without a tag, or the full name")
            full = str(ref) if not suffix else str(parse_reference(target + suffix))
            return Resolution([full], "alias %s = %s in %s" % (repo, target, src))
    if not conf.search:
        raise ImageError("%s is a short name, it has no alias and no unqualified-search-registries are configured "
                         "(read: %s)" % (name, conf.where()),
                         hint="use a fully qualified name (registry.example.com/%s), add an alias, or set "
                              "unqualified-search-registries in registries.conf" % name)
    candidates = [_qualify(r, repo, suffix) for r in conf.search]
    origin = "unqualified-search-registries in %s" % (conf.search_source or conf.where())
    if len(candidates) > 1 and conf.short_name_mode == "enforcing":
        raise ImageError("short name %s is ambiguous: short-name-mode is enforcing and %s lists %d registries, "
                         "which would need a choice on a terminal (there is none under Ansible); candidates: %s"
                         % (name, origin, len(candidates), ", ".join(candidates)),
                         hint="use one of the fully qualified names, add an [aliases] entry for %s, or set "
                              "short-name-mode = \"permissive\" to try them in order" % repo)
    return Resolution(candidates, origin)
