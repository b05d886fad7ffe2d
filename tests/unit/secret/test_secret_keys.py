# SPDX-License-Identifier: GPL-3.0-or-later
"""Kubernetes references to engine secrets: the key rule, directory secrets and their in-place refresh."""
from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg, NoSuchSecret
from ansible_collections.libpod.engine.plugins.module_utils.engine.secret import keys, usage
from ansible_collections.libpod.engine.plugins.module_utils.engine.secret.manager import SecretManager
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_secrets import (
    normalise_secrets,
    refreshable,
)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


JSON_OBJ = json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
                       "data": {"user": b64("admin"), "pass": b64("s3cret")}, "stringData": {"pass": "plain"}})
YAML_OBJ = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  user: %s\nstringData:\n  host: db.local\n" \
    % b64("admin")


@pytest.fixture
def mgr(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    st = State(str(static / "state.db"))
    yield SecretManager(st, str(static))
    st.close()


def test_key_rule_secret_objects_and_raw_values():
    # JSON object: stringData wins over data (as the API server merges them)
    assert keys.secret_keys("db", JSON_OBJ.encode()) == {"user": b"admin", "pass": b"plain"}
    assert keys.key_value("db", YAML_OBJ.encode(), "user") == b"admin"
    assert keys.key_value("db", YAML_OBJ.encode(), "host") == b"db.local"
    assert keys.key_value("db", YAML_OBJ.encode(), "nope") is None
    # a raw value answers every key; a volume without items shows it as one file named after the secret
    assert keys.key_value("tok", b"abc123", "anything") == b"abc123"
    assert keys.all_keys("tok", b"abc123") == {"tok": b"abc123"}
    # JSON or YAML that is not a Secret object is a raw value too
    for raw in (b'{"a": 1}', b"data: 12\n", b'{"kind": "ConfigMap", "data": {"a": "b"}}', b"{not json"):
        assert keys.secret_keys("x", raw) is None, raw
    with pytest.raises(InvalidArg, match="secret db: data.user is not valid base64"):
        keys.secret_keys("db", json.dumps({"data": {"user": "%%%"}}).encode())
    err = keys.missing_key("db", "pass")
    assert isinstance(err, NoSuchSecret) and "secret db has no key pass" in str(err)


def test_option_entries_for_kubernetes_references():
    refs = normalise_secrets([{"name": "db", "type": "env", "target": "PW", "key": "pass", "optional": True},
                              {"name": "db", "type": "dir", "target": "/etc/db",
                               "items": [{"key": "user", "path": "u"}], "mode": 256}])
    assert refs == [
        {"name": "db", "type": "dir", "target": "/etc/db", "uid": 0, "gid": 0, "mode": 0o400,
         "items": [{"key": "user", "path": "u", "mode": None}]},
        {"name": "db", "type": "env", "target": "PW", "uid": None, "gid": None, "mode": None, "key": "pass",
         "optional": True}]
    # entries without the new keys keep their old shape (existing containers compare equal)
    assert "key" not in normalise_secrets(["a"])[0] and "optional" not in normalise_secrets(["a"])[0]
    for bad, msg in (({"name": "a", "type": "dir"}, "needs a target directory"),
                     ({"name": "a", "items": []}, "items applies to type dir only"),
                     ({"name": "a", "type": "dir", "target": "/d", "key": "k"}, "key does not apply to type dir"),
                     ({"name": "a", "type": "dir", "target": "/d", "items": [{"key": "k", "path": "../x"}]},
                      "relative path without"),
                     ({"name": "a", "type": "dir", "target": "/d", "items": [{"key": "k/", "path": "x"}]},
                      "Kubernetes secret key"),
                     ({"name": "a", "optional": "maybe"}, "optional of secret a must be a boolean")):
        with pytest.raises(InvalidArg, match=msg):
            normalise_secrets([bad])
    # only secrets used solely as directories are refreshed in place
    cfg = {"secrets": refs + normalise_secrets([{"name": "vol", "type": "dir", "target": "/v"}])}
    assert refreshable(cfg, ["secret db changed", "secret vol changed"]) == ["vol"]


def test_directory_secret_layout_missing_keys_and_atomic_refresh(mgr, tmp_path):
    mgr.create("db", JSON_OBJ.encode())
    mgr.create("tok", b"raw-token")
    refs = normalise_secrets([
        {"name": "db", "type": "dir", "target": "/etc/db",
         "items": [{"key": "user", "path": "conf/user"}, {"key": "pass", "path": "pass", "mode": 0o400}]},
        {"name": "tok", "type": "dir", "target": "/etc/tok"},
        {"name": "gone", "type": "dir", "target": "/etc/gone", "optional": True},
        {"name": "db", "type": "env", "target": "DB_USER", "key": "user"},
        {"name": "gone", "type": "env", "target": "GONE", "key": "x", "optional": True},
        {"name": "db", "target": "/etc/pass-file", "key": "pass"}])
    tmp_dir = str(tmp_path / "run")
    mounts, env = usage.prepare(mgr, tmp_dir, "c1", refs)
    try:
        assert env == {"DB_USER": "admin"}  # the optional missing one is left out
        by_dest = {m["destination"]: m["source"] for m in mounts}
        assert sorted(by_dest) == ["/etc/db", "/etc/gone", "/etc/pass-file", "/etc/tok"]
        with open(by_dest["/etc/pass-file"], "rb") as f:
            assert f.read() == b"plain"
        db = by_dest["/etc/db"]
        assert sorted(e for e in os.listdir(db) if not e.startswith("..")) == ["conf", "pass"]
        assert os.readlink(os.path.join(db, "pass")) == "..data/pass"
        with open(os.path.join(db, "pass"), "rb") as f:
            assert f.read() == b"plain"
        with open(os.path.join(db, "conf", "user"), "rb") as f:
            assert f.read() == b"admin"
        assert stat.S_IMODE(os.stat(os.path.join(db, "pass")).st_mode) == 0o400
        assert stat.S_IMODE(os.stat(os.path.join(db, "conf", "user")).st_mode) == 0o644
        with open(os.path.join(by_dest["/etc/tok"], "tok"), "rb") as f:
            assert f.read() == b"raw-token"
        assert [e for e in os.listdir(by_dest["/etc/gone"]) if not e.startswith("..")] == []

        # new data: swapped in under the same mount source, old generation gone
        old_gen = os.readlink(os.path.join(db, "..data"))
        sec = mgr.get("db")
        mgr.replace_data(sec, json.dumps({"kind": "Secret", "stringData": {"user": "root", "pass": "n3w"}}).encode())
        assert usage.refresh(mgr, tmp_dir, "c1", refs, ["db"]) is True
        with open(os.path.join(db, "pass"), "rb") as f:
            assert f.read() == b"n3w"
        with open(os.path.join(db, "conf", "user"), "rb") as f:
            assert f.read() == b"root"
        assert os.readlink(os.path.join(db, "..data")) != old_gen
        assert not os.path.exists(os.path.join(db, old_gen))

        # a value larger than the tmpfs had room for: it grows (remount), the swap still happens
        big = "x" * 300000
        mgr.replace_data(sec, json.dumps({"kind": "Secret", "stringData": {"user": "root", "pass": big}}).encode())
        assert usage.refresh(mgr, tmp_dir, "c1", refs, ["db"]) is True
        assert os.path.getsize(os.path.join(db, "pass")) == 300000

        # a non-optional key that went away: a clear error naming the secret and the key
        mgr.replace_data(sec, json.dumps({"kind": "Secret", "stringData": {"user": "root"}}).encode())
        with pytest.raises(NoSuchSecret, match="secret db has no key pass"):
            usage.refresh(mgr, tmp_dir, "c1", refs, ["db"])
    finally:
        usage.release(tmp_dir, "c1")
    assert usage.refresh(mgr, tmp_dir, "c1", refs, ["db"]) is False  # no tmpfs: the next start writes the data
    with pytest.raises(NoSuchSecret, match="no secret with name or ID missing"):
        usage.prepare(mgr, tmp_dir, "c2", normalise_secrets(["missing"]))
