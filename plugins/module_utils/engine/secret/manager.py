# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets: metadata in the state DB, data in a driver, a keyed hash to tell a change.

The DB row holds the name, driver, options, labels and ``digest`` = HMAC-SHA256 of the data
under a random per-root key (``<static>/secrets/hmac.key``, 0600). A plain hash would let
anyone who can read the DB test guesses of a short password; the keyed one cannot be checked
without the key, which is as private as the data itself. The plaintext is only ever in the
driver (and, while a container runs, in that container's tmpfs).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets as _random
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from ..base.clock import rfc3339_nano
from ..base.errors import InvalidArg, NameInUse, NoSuchSecret, SecretDriverError
from ..base.names import validate_name
from ..host.files import write_atomic
from ..store.state import dumps, loads
from .drivers import driver_for, private_dir

#: podman's limit (pkg/secrets maxSecretSize)
MAX_SIZE = 512000
KEY_BYTES = 32


@dataclass
class Secret:
    """A secret's record (never its value): podman's secret inspect fields."""

    id: str
    name: str
    driver: str
    options: Dict[str, str] = field(default_factory=dict)
    labels: Dict[str, str] = field(default_factory=dict)
    digest: str = ""
    created: float = 0.0
    updated: float = 0.0


def validate_secret_name(name: Any, param: str = "name") -> str:
    if not isinstance(name, str) or len(name) > 253:
        raise InvalidArg("secret parameter %s must be a string of at most 253 characters, got %r" % (param, name),
                         hint="letters, digits, _ . -, starting with a letter or digit")
    return validate_name(name, param, "secret")


def check_data(data: bytes) -> bytes:
    if not data:
        raise InvalidArg("secret data is empty", hint="give data, or a path to a non-empty file")
    if len(data) > MAX_SIZE:
        raise InvalidArg("secret data is %d bytes, more than the %d bytes a secret may hold" % (len(data), MAX_SIZE),
                         hint="store a smaller value (as podman, secrets are limited to 512000 bytes)")
    return data


class SecretManager:
    """The runtime's secrets (libpod's SecretsManager)."""

    def __init__(self, state, static_dir: str):
        self.state = state
        self.root = os.path.join(static_dir, "secrets")
        self.key_path = os.path.join(self.root, "hmac.key")

    # -- the keyed hash ---------------------------------------------------------------------
    def _key(self, create: bool) -> Optional[bytes]:
        try:
            with open(self.key_path, "rb") as f:
                key = f.read()
            if len(key) == KEY_BYTES:
                return key
        except FileNotFoundError:
            pass
        if not create:
            return None
        private_dir(self.root)
        key = _random.token_bytes(KEY_BYTES)
        # keep_existing=False, O_EXCL temp + rename: a concurrent creator's key may win; reread it
        write_atomic(self.key_path, key, mode=0o600, fsync=True)
        with open(self.key_path, "rb") as f:
            return f.read()

    def digest(self, data: bytes, create_key: bool = True) -> Optional[str]:
        """HMAC-SHA256 of ``data`` (hex); None when no key exists and ``create_key`` is false."""
        key = self._key(create_key)
        if key is None:
            return None
        return hmac.new(key, data, hashlib.sha256).hexdigest()

    # -- records ----------------------------------------------------------------------------
    _COLS = "id,name,driver,config,digest,created,updated"

    def _row(self, row) -> Secret:
        sid, name, driver, config, digest, created, updated = row
        cfg = loads(config) or {}
        return Secret(id=sid, name=name, driver=driver, options=cfg.get("options") or {},
                      labels=cfg.get("labels") or {}, digest=digest, created=created, updated=updated)

    def find(self, ref: str) -> Optional[Secret]:
        """By name, full ID or a unique ID prefix (>= 3 characters)."""
        rows = self.state.query("SELECT %s FROM secrets WHERE name=? OR id=?" % self._COLS, (ref, ref))
        if not rows and isinstance(ref, str) and len(ref) >= 3 and all(c in "0123456789abcdef" for c in ref):
            rows = self.state.query("SELECT %s FROM secrets WHERE id LIKE ? LIMIT 2" % self._COLS, (ref + "%",))
            if len(rows) != 1:
                rows = []
        return self._row(rows[0]) if rows else None

    def get(self, ref: str) -> Secret:
        sec = self.find(ref)
        if sec is None:
            raise NoSuchSecret("no secret with name or ID %s found" % ref,
                               hint="create it with libpod.engine.secret first")
        return sec

    def list(self) -> List[Secret]:
        return [self._row(r) for r in self.state.query("SELECT %s FROM secrets ORDER BY name" % self._COLS)]

    def driver(self, sec: Secret):
        return driver_for(sec.driver, sec.options, self.root)

    # -- changes ----------------------------------------------------------------------------
    def create(self, name: str, data: bytes, driver: str = "file", options: Optional[Mapping[str, str]] = None,
               labels: Optional[Mapping[str, str]] = None) -> Secret:
        name = validate_secret_name(name)
        check_data(data)
        drv = driver_for(driver, dict(options or {}), self.root)
        now = time.time()
        sec = Secret(id=_random.token_hex(13)[:25], name=name, driver=driver, options=dict(options or {}),
                     labels=dict(labels or {}), digest=self.digest(data), created=now, updated=now)
        private_dir(self.root)
        with self.state.tx():
            if self.find(name) is not None:
                raise NameInUse('secret with name "%s" already exists' % name,
                                hint="update it with libpod.engine.secret, or remove it first")
            self.state.conn.execute("INSERT INTO secrets(%s) VALUES(?,?,?,?,?,?,?)" % self._COLS,
                                    (sec.id, sec.name, sec.driver, self._config(sec), sec.digest, now, now))
            drv.store(sec.id, data)  # inside the transaction: a failed store leaves no row
        return sec

    @staticmethod
    def _config(sec: Secret) -> str:
        return dumps({"options": sec.options, "labels": sec.labels})

    def replace_data(self, sec: Secret, data: bytes) -> Secret:
        """New data under the same ID (podman secret create --replace keeps the secret's identity)."""
        check_data(data)
        sec.digest, sec.updated = self.digest(data), time.time()
        with self.state.tx():
            self.state.conn.execute("UPDATE secrets SET digest=?, updated=? WHERE id=?",
                                    (sec.digest, sec.updated, sec.id))
            drv = self.driver(sec)
            if sec.driver == "shell":
                try:
                    drv.delete(sec.id)  # a store command may refuse to overwrite
                except SecretDriverError:
                    pass
            drv.store(sec.id, data)
        return sec

    def set_labels(self, sec: Secret, labels: Mapping[str, str]) -> Secret:
        sec.labels, sec.updated = dict(labels), time.time()
        with self.state.tx():
            self.state.conn.execute("UPDATE secrets SET config=?, updated=? WHERE id=?",
                                    (self._config(sec), sec.updated, sec.id))
        return sec

    def remove(self, sec: Secret) -> None:
        with self.state.tx():
            self.state.conn.execute("DELETE FROM secrets WHERE id=?", (sec.id,))
            try:
                self.driver(sec).delete(sec.id)
            except NoSuchSecret:
                pass

    def lookup(self, ref: str) -> bytes:
        sec = self.get(ref)
        return self.driver(sec).lookup(sec.id)

    # -- users and views --------------------------------------------------------------------
    def users(self, name: str) -> List[str]:
        """Names of the containers (any state) whose config uses the secret ``name``."""
        out = []
        for rec in self.state.list("container"):
            if any(s.get("name") == name for s in (rec.config or {}).get("secrets") or []):
                out.append(rec.name)
        return out

    def inspect(self, sec: Secret) -> Dict[str, Any]:
        """podman secret inspect's shape, metadata only (never the data, nor its hash)."""
        return {
            "ID": sec.id,
            "CreatedAt": rfc3339_nano(sec.created),
            "UpdatedAt": rfc3339_nano(sec.updated),
            "Spec": {"Name": sec.name, "Driver": {"Name": sec.driver, "Options": dict(sec.options)},
                     "Labels": dict(sec.labels)},
            "Containers": self.users(sec.name),
        }
