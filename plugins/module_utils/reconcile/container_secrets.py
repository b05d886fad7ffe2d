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
from typing import Any, Dict, List, Mapping, Optional

from ..engine.base.errors import InvalidArg, NoSuchSecret
from ..engine.base.lazyre import lazy_compile
from ..engine.secret import keys as secret_keys

TYPES = ("mount", "env", "dir")
SECRETS_DIR = "/run/secrets"
DEFAULT_MODE = 0o444
#: a Kubernetes secret volume's defaultMode
DIR_MODE = 0o644
_ENV_RE = lazy_compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEY_RE = lazy_compile(r"^[-._a-zA-Z0-9]{1,253}$")
_KEYS = ("name", "type", "target", "uid", "gid", "mode", "key", "optional", "items")
_FORM = ('a secret name, "name,type=env,target=VAR", or a dict with name, type (mount|env|dir), target, '
         'uid, gid, mode, key, optional, items')


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


def _key(value: Any, name: str, what: str = "key") -> str:
    if not isinstance(value, str) or not _KEY_RE.match(value) or value in (".", ".."):
        raise InvalidArg("secrets: %s of secret %s must be a Kubernetes secret key (letters, digits, - _ .), got %r"
                         % (what, name, value))
    return value


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no"):
        return value.lower() in ("true", "yes")
    if not isinstance(value, bool):
        raise InvalidArg("secrets: optional of secret %s must be a boolean, got %r" % (name, value))
    return value


def _item_path(value: Any, name: str) -> str:
    parts = value.split("/") if isinstance(value, str) else []
    if not parts or value.startswith("/") or any(p in ("", ".", "..") or p.startswith("..") for p in parts) \
            or "\x00" in value:
        raise InvalidArg("secrets: items path of secret %s must be a relative path without . or .. components, "
                         "got %r" % (name, value))
    return value


def _items(value: Any, name: str) -> Optional[List[Dict[str, Any]]]:
    if value is None:
        return None
    if not isinstance(value, list):
        raise InvalidArg("secrets: items of secret %s must be a list of {key, path, mode}" % name)
    out, paths = [], set()
    for item in value:
        if not isinstance(item, Mapping) or set(item) - {"key", "path", "mode"}:
            raise InvalidArg("secrets: items of secret %s must be a list of {key, path, mode}, got %r" % (name, item))
        path = _item_path(item.get("path"), name)
        if path in paths:
            raise InvalidArg("secrets: items of secret %s name the path %s twice" % (name, path))
        paths.add(path)
        out.append({"key": _key(item.get("key"), name), "path": path,
                    "mode": None if item.get("mode") in (None, "") else _mode(item["mode"], name)})
    return sorted(out, key=lambda i: i["path"])


def _extras(out: Dict[str, Any], raw: Mapping[str, Any], name: str) -> Dict[str, Any]:
    """key and optional, recorded only when set (entries without them keep their old shape)."""
    if raw.get("key") not in (None, ""):
        out["key"] = _key(raw["key"], name)
    if raw.get("optional") not in (None, "") and _bool(raw["optional"], name):
        out["optional"] = True
    return out


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
    # imported here: a task without secrets does not load the secret store (issue 20)
    from ..engine.secret.manager import validate_secret_name  # noqa: PLC0415

    name = validate_secret_name(raw.get("name"), "secrets name")
    kind = raw.get("type") or "mount"
    if kind not in TYPES:
        raise InvalidArg("secrets: type of secret %s must be mount or env, got %r" % (name, kind))
    target = raw.get("target")
    if raw.get("items") is not None and kind != "dir":
        raise InvalidArg("secrets: items applies to type dir only (secret %s is type %s)" % (name, kind))
    if kind == "dir" and raw.get("key") not in (None, ""):
        raise InvalidArg("secrets: key does not apply to type dir (secret %s)" % name,
                         hint="select keys with items: [{key, path}]")
    if kind == "env":
        for key in ("uid", "gid", "mode"):
            if raw.get(key) is not None:
                raise InvalidArg("secrets: %s applies to mount secrets only (secret %s is type env)" % (key, name),
                                 hint="remove %s, or use type: mount" % key)
        target = target or name
        if not isinstance(target, str) or not _ENV_RE.match(target):
            raise InvalidArg("secrets: target of env secret %s must be an environment variable name, got %r"
                             % (name, target), hint="letters, digits and _, not starting with a digit")
        return _extras({"name": name, "type": "env", "target": target, "uid": None, "gid": None, "mode": None},
                       raw, name)
    if kind == "dir" and target in (None, ""):
        raise InvalidArg("secrets: type dir needs a target directory (secret %s)" % name)
    if target in (None, ""):
        target = os.path.join(SECRETS_DIR, name)
    elif not isinstance(target, str) or "\x00" in target:
        raise InvalidArg("secrets: target of secret %s must be a path, got %r" % (name, target))
    elif not target.startswith("/"):
        target = os.path.join(SECRETS_DIR, target)  # podman: a relative target is under /run/secrets
    target = os.path.normpath(target)
    if target == "/":
        raise InvalidArg("secrets: target of secret %s cannot be /" % name)
    out = {"name": name, "type": kind, "target": target,
           "uid": 0 if raw.get("uid") in (None, "") else _id(raw["uid"], "uid", name),
           "gid": 0 if raw.get("gid") in (None, "") else _id(raw["gid"], "gid", name),
           "mode": (DIR_MODE if kind == "dir" else DEFAULT_MODE) if raw.get("mode") in (None, "")
           else _mode(raw["mode"], name)}
    if kind == "dir":
        out["items"] = _items(raw.get("items"), name)
    return _extras(out, raw, name)


def normalise_secrets(value: Any, ctx: Any = None) -> List[Dict[str, Any]]:
    """Task entries -> the declared list: every key filled with podman's default, sorted by target."""
    if isinstance(value, (str, Mapping)):
        value = [value]
    out = [_entry(item) for item in value]
    seen = set()
    for ref in out:
        key = ("env" if ref["type"] == "env" else "path", ref["target"])
        if key in seen:
            raise InvalidArg("secrets: two secrets at %s %s" % ("variable" if ref["type"] == "env" else "path",
                                                                ref["target"]),
                             hint="give each target once")
        seen.add(key)
    return sorted(out, key=lambda r: (r["type"], r["target"]))


def secret_digests(rt, refs: List[Mapping[str, Any]], missing_ok: bool = False) -> Dict[str, Optional[str]]:
    """{name: keyed hash now stored with the secret}; a missing secret is an error (or None with missing_ok,
    or when every reference to it is ``optional``)."""
    out: Dict[str, Optional[str]] = {}
    for ref in refs:
        sec = rt.secrets.find(ref["name"])
        if sec is None and not missing_ok and not _all_optional(refs, ref["name"]):
            raise NoSuchSecret("secrets: no secret named %s" % ref["name"],
                               hint="create it with libpod.engine.secret before the container")
        out[ref["name"]] = sec.digest if sec is not None else None
    return out


def _all_optional(refs: List[Mapping[str, Any]], name: str) -> bool:
    return all(r.get("optional") for r in refs if r["name"] == name)


def secret_changes(rt, config: Mapping[str, Any]) -> List[str]:
    """Recreate reasons of an existing container: ``secret <name> changed`` for each rotated secret
    (an optional secret that appeared or went away counts too)."""
    refs = config.get("secrets") or []
    if not refs:
        return []
    recorded = config.get("secret_digests") or {}
    now = secret_digests(rt, refs, missing_ok=True)
    return ["secret %s changed" % name for name in sorted(now)
            if (now[name] is not None or _all_optional(refs, name)) and now[name] != recorded.get(name)]


def refreshable(config: Mapping[str, Any], reasons: List[str]) -> List[str]:
    """The secrets among ``reasons`` ("secret NAME changed") that only directory secrets (type dir, a
    Kubernetes secret volume) use: their files are swapped in place. A file bind-mounted at its target
    (type mount) pins the old inode and cannot be replaced atomically, and an env value is fixed at
    start: those recreate."""
    out = []
    refs = config.get("secrets") or []
    for reason in reasons:
        name = reason[len("secret "):-len(" changed")]
        used = [r for r in refs if r["name"] == name]
        if used and all(r.get("type") == "dir" for r in used):
            out.append(name)
    return out


def check_secrets(rt, declared: Mapping[str, Any], check_mode: bool) -> List[str]:
    """Before anything changes: every secret the task names exists and holds the keys it is asked for
    (else NoSuchSecret, so a recreate never removes the old container first); in check mode, warnings
    instead (an earlier task of the same checked play may create them). Optional references may miss."""
    refs = declared.get("secrets") or []
    problems = []
    for ref in refs:
        sec = rt.secrets.find(ref["name"])
        if sec is None:
            if not ref.get("optional"):
                problems.append(("secret %s does not exist (yet)" % ref["name"], "no secret named %s" % ref["name"]))
            continue
        keys = [ref["key"]] if ref.get("key") else [i["key"] for i in ref.get("items") or []]
        if not keys or ref.get("optional"):
            continue
        data = rt.secrets.lookup(ref["name"])
        for key in keys:
            if secret_keys.key_value(ref["name"], data, key) is None:
                problems.append(("secret %s has no key %s" % (ref["name"], key),
                                 "secret %s has no key %s" % (ref["name"], key)))
    problems = sorted(set(problems))
    if not problems:
        return []
    if check_mode:
        return [w for w, _e in problems]
    raise NoSuchSecret("secrets: %s" % "; ".join(e for _w, e in problems),
                       hint="create it with libpod.engine.secret before the container (a Kubernetes reference "
                            "needs the key in a Secret object stored as the secret's data), or mark the "
                            "reference optional")
