# SPDX-License-Identifier: GPL-3.0-or-later
"""The container option ``secrets``: podman's ``--secret`` entries, and rotation.

A container records, at creation, the keyed hash of each secret it uses
(``config["secret_digests"]``). When a secret's data changes later, the hash stored with
the secret differs from the recorded one and the next run of the container module
recreates the container with the reason ``secret <name> changed``. The data is never read
for this comparison.
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Mapping, Optional

from ..engine.base.errors import InvalidArg, NoSuchSecret
from ..engine.secret.manager import validate_secret_name

TYPES = ("mount", "env")
SECRETS_DIR = "/run/secrets"
DEFAULT_MODE = 0o444
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEYS = ("name", "type", "target", "uid", "gid", "mode")
_FORM = ('a secret name, "name,type=env,target=VAR", or a dict with name, type (mount|env), target, '
         'uid, gid, mode')


def _id(value: Any, key: str, name: str) -> int:
    try:
        num = int(value)
    except (TypeError, ValueError):
        num = -1
    if isinstance(value, bool) or not 0 <= num <= 2**32 - 2:
        raise InvalidArg("secrets: %s of secret %s must be a numeric ID, got %r" % (key, name, value),
                         hint="give the number (names are not resolved)")
    return num


def _mode(value: Any, name: str) -> int:
    try:
        num = int(value, 8) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        num = -1
    if isinstance(value, bool) or not 0 <= num <= 0o777:
        raise InvalidArg("secrets: mode of secret %s must be a file mode such as 0400, got %r" % (name, value),
                         hint="quote it as a string (\"0400\") or give the number")
    return num


def _entry(item: Any) -> Dict[str, Any]:
    if isinstance(item, str):
        name, *rest = [p.strip() for p in item.split(",")]
        raw: Dict[str, Any] = {"name": name}
        for part in rest:
            key, sep, val = part.partition("=")
            if not sep or key not in _KEYS[1:]:
                raise InvalidArg("secrets: invalid entry %r" % item, hint="give %s" % _FORM)
            raw[key] = val
    elif isinstance(item, Mapping):
        raw = dict(item)
        unknown = sorted(set(raw) - set(_KEYS))
        if unknown:
            raise InvalidArg("secrets: unknown key(s) %s in %r" % (", ".join(unknown), item), hint="give %s" % _FORM)
    else:
        raise InvalidArg("secrets: invalid entry %r" % (item,), hint="give %s" % _FORM)
    name = validate_secret_name(raw.get("name"), "secrets name")
    kind = raw.get("type") or "mount"
    if kind not in TYPES:
        raise InvalidArg("secrets: type of secret %s must be mount or env, got %r" % (name, kind))
    target = raw.get("target")
    if kind == "env":
        for key in ("uid", "gid", "mode"):
            if raw.get(key) is not None:
                raise InvalidArg("secrets: %s applies to mount secrets only (secret %s is type env)" % (key, name),
                                 hint="remove %s, or use type: mount" % key)
        target = target or name
        if not isinstance(target, str) or not _ENV_RE.match(target):
            raise InvalidArg("secrets: target of env secret %s must be an environment variable name, got %r"
                             % (name, target), hint="letters, digits and _, not starting with a digit")
        return {"name": name, "type": "env", "target": target, "uid": None, "gid": None, "mode": None}
    if target in (None, ""):
        target = os.path.join(SECRETS_DIR, name)
    elif not isinstance(target, str) or "\x00" in target:
        raise InvalidArg("secrets: target of secret %s must be a path, got %r" % (name, target))
    elif not target.startswith("/"):
        target = os.path.join(SECRETS_DIR, target)  # podman: a relative target is under /run/secrets
    target = os.path.normpath(target)
    if target == "/":
        raise InvalidArg("secrets: target of secret %s cannot be /" % name)
    return {"name": name, "type": "mount", "target": target,
            "uid": 0 if raw.get("uid") in (None, "") else _id(raw["uid"], "uid", name),
            "gid": 0 if raw.get("gid") in (None, "") else _id(raw["gid"], "gid", name),
            "mode": DEFAULT_MODE if raw.get("mode") in (None, "") else _mode(raw["mode"], name)}


def normalise_secrets(value: Any, ctx: Any = None) -> List[Dict[str, Any]]:
    """Task entries -> the declared list: every key filled with podman's default, sorted by target."""
    if isinstance(value, (str, Mapping)):
        value = [value]
    out = [_entry(item) for item in value]
    seen = set()
    for ref in out:
        key = (ref["type"], ref["target"])
        if key in seen:
            raise InvalidArg("secrets: two secrets at %s %s" % ("variable" if ref["type"] == "env" else "path",
                                                                ref["target"]),
                             hint="give each target once")
        seen.add(key)
    return sorted(out, key=lambda r: (r["type"], r["target"]))


def secret_digests(rt, refs: List[Mapping[str, Any]], missing_ok: bool = False) -> Dict[str, Optional[str]]:
    """{name: keyed hash now stored with the secret}; a missing secret is an error (or None with missing_ok)."""
    out: Dict[str, Optional[str]] = {}
    for ref in refs:
        sec = rt.secrets.find(ref["name"])
        if sec is None and not missing_ok:
            raise NoSuchSecret("secrets: no secret named %s" % ref["name"],
                               hint="create it with libpod.engine.secret before the container")
        out[ref["name"]] = sec.digest if sec is not None else None
    return out


def secret_changes(rt, config: Mapping[str, Any]) -> List[str]:
    """Recreate reasons of an existing container: ``secret <name> changed`` for each rotated secret."""
    refs = config.get("secrets") or []
    if not refs:
        return []
    recorded = config.get("secret_digests") or {}
    now = secret_digests(rt, refs, missing_ok=True)
    return ["secret %s changed" % name for name in sorted(now)
            if now[name] is not None and now[name] != recorded.get(name)]


def check_secrets(rt, declared: Mapping[str, Any], check_mode: bool) -> List[str]:
    """Before anything changes: every secret the task names exists (else NoSuchSecret, so a recreate
    never removes the old container first); in check mode, warnings instead (an earlier task of the
    same checked play may create them)."""
    refs = declared.get("secrets") or []
    missing = sorted(n for n, d in secret_digests(rt, refs, missing_ok=True).items() if d is None)
    if not missing:
        return []
    if check_mode:
        return ["secret %s does not exist (yet)" % n for n in missing]
    raise NoSuchSecret("secrets: no secret named %s" % ", ".join(missing),
                       hint="create it with libpod.engine.secret before the container")
