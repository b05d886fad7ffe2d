# SPDX-License-Identifier: GPL-3.0-or-later
"""Registry credentials in auth.json (containers-auth.json(5)): lookup for pulls, and the
read-modify-write of one file for login / logout.

Lookup order (c/image's): ``$REGISTRY_AUTH_FILE`` alone when set; else
``$XDG_RUNTIME_DIR/containers/auth.json`` (root without it: ``/run/containers/0/auth.json``),
``$XDG_CONFIG_HOME/containers/auth.json``, ``$DOCKER_CONFIG/config.json`` (``~/.docker``) and
``~/.dockercfg``. Login writes the first of these (podman login's default file), so the engine
and podman share logins. A key is ``host[:port]`` or ``host[:port]/namespace[/repo]`` (the most
specific key that matches a repository wins). Secrets are never part of an error message.
"""
from __future__ import annotations

import base64
import json
import os
from typing import Any, Dict, List, Optional, Tuple, Union

from ..base.errors import ConfigError
from ..host.files import write_atomic
from .reference import DOCKER_IO

AuthArg = Union[None, Tuple[str, str], Dict[str, str]]
ENV_VAR = "REGISTRY_AUTH_FILE"


def auth_files() -> List[str]:
    """Auth file lookup order of c/image (first existing file with a match wins)."""
    out = []
    if os.environ.get(ENV_VAR):
        return [os.environ[ENV_VAR]]
    xdg_run = os.environ.get("XDG_RUNTIME_DIR")
    if xdg_run:
        out.append(os.path.join(xdg_run, "containers", "auth.json"))
    elif os.geteuid() == 0:
        out.append("/run/containers/0/auth.json")
    home = os.path.expanduser("~")
    out.append(os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"),
                            "containers", "auth.json"))
    out.append(os.path.join(os.environ.get("DOCKER_CONFIG") or os.path.join(home, ".docker"), "config.json"))
    out.append(os.path.join(home, ".dockercfg"))
    return out


def default_auth_file() -> str:
    """The file login writes and logout edits when no ``authfile`` is given."""
    return auth_files()[0]


def _keys(registry: str, repository: str = "") -> List[str]:
    """auth.json keys for a repository, most specific first (c/image's order)."""
    keys = []
    parts = repository.split("/") if repository else []
    for n in range(len(parts), 0, -1):
        keys.append("%s/%s" % (registry, "/".join(parts[:n])))
    keys += [registry, "https://" + registry, "http://" + registry]
    if registry == DOCKER_IO:
        keys += ["https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io"]
    return keys


def decode_entry(entry: Any) -> Optional[Tuple[str, str]]:
    """(username, password) of one ``auths`` entry; None when unusable."""
    if not isinstance(entry, dict) or not isinstance(entry.get("auth"), str) or not entry["auth"]:
        return None
    try:
        user, sep, pw = base64.b64decode(entry["auth"], validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (user, pw) if sep and user else None


def encode_entry(username: str, password: str) -> Dict[str, str]:
    return {"auth": base64.b64encode(("%s:%s" % (username, password)).encode()).decode()}


def credentials_from_files(registry: str, files: Optional[List[str]] = None,
                           repository: str = "") -> Optional[Tuple[str, str]]:
    """(username, password) for ``registry`` (and ``repository``) from auth.json-style files."""
    keys = _keys(registry, repository)
    for path in files if files is not None else auth_files():
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            continue
        auths = doc.get("auths", doc) if isinstance(doc, dict) else {}
        if not isinstance(auths, dict):
            continue
        for key in keys:
            creds = decode_entry(auths.get(key))
            if creds:
                return creds
    return None


def resolve_credentials(auth: AuthArg, registry: str, repository: str = "") -> Optional[Tuple[str, str]]:
    """The credentials a client uses: explicit ones, else the named or default auth files."""
    if auth is None:
        return credentials_from_files(registry, repository=repository)
    if isinstance(auth, dict):
        if auth.get("username"):
            return auth["username"], auth.get("password") or ""
        if auth.get("authfile"):
            return credentials_from_files(registry, [auth["authfile"]], repository=repository)
        return credentials_from_files(registry, repository=repository)
    return auth[0], auth[1]


# -- login / logout: one file ------------------------------------------------------------------
def read_auth_file(path: str) -> Dict[str, Any]:
    """The whole document (``{}`` when the file does not exist); ConfigError when unusable."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except FileNotFoundError:
        return {}
    except ValueError as e:
        raise ConfigError("auth file %s is not valid JSON: %s" % (path, e),
                          hint="fix or remove the file (it holds registry logins)")
    except OSError as e:
        raise ConfigError("cannot read auth file %s: %s" % (path, e))
    if not isinstance(doc, dict) or not isinstance(doc.get("auths", {}), dict):
        raise ConfigError("auth file %s: expected {\"auths\": {...}}" % path,
                          hint="see containers-auth.json(5); fix or remove the file")
    return doc


def write_auth_file(path: str, doc: Dict[str, Any]) -> None:
    """Atomic write, mode 0600 (the file holds secrets), parent made 0700 when missing."""
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, mode=0o700, exist_ok=True)
    write_atomic(path, (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode(), mode=0o600, fsync=True)


def auth_key(registry: str) -> str:
    """The key login stores under: ``host[:port][/namespace]`` without a scheme (docker.io as is)."""
    key = registry.strip()
    for scheme in ("https://", "http://", "docker://"):
        if key.startswith(scheme):
            key = key[len(scheme):]
    key = key.rstrip("/")
    if key in ("index.docker.io", "registry-1.docker.io"):
        key = DOCKER_IO
    return key


def stored_credentials(path: str, registry: str) -> Optional[Tuple[str, str]]:
    """The credentials stored under exactly ``registry``'s key in ``path``."""
    return decode_entry(read_auth_file(path).get("auths", {}).get(auth_key(registry)))


def store_credentials(path: str, registry: str, username: str, password: str) -> bool:
    """Save a login; False when the same credentials were stored already."""
    doc = read_auth_file(path)
    auths = doc.setdefault("auths", {})
    key = auth_key(registry)
    if decode_entry(auths.get(key)) == (username, password):
        return False
    auths[key] = dict(auths.get(key) or {}, **encode_entry(username, password))
    write_auth_file(path, doc)
    return True


def remove_credentials(path: str, registry: Optional[str]) -> List[str]:
    """Remove one login (``registry``) or all (None); the keys removed."""
    doc = read_auth_file(path)
    auths = doc.get("auths", {})
    keys = sorted(auths) if registry is None else [k for k in (auth_key(registry),) if k in auths]
    if not keys:
        return []
    for k in keys:
        del auths[k]
    write_auth_file(path, doc)
    return keys
