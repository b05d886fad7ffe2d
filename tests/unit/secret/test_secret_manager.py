# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets: keyed hashes in the DB (never data), the file driver's layout and modes, the shell
driver's commands, the per-container tmpfs (a real mount), and the container option's parsing."""
from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import (
    InvalidArg,
    NameInUse,
    NoSuchSecret,
    SecretDriverError,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.mounts import is_mount_point, mount_table
from ansible_collections.libpod.engine.plugins.module_utils.engine.secret import usage
from ansible_collections.libpod.engine.plugins.module_utils.engine.secret.drivers import ShellDriver
from ansible_collections.libpod.engine.plugins.module_utils.engine.secret.manager import MAX_SIZE, SecretManager
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_secrets import normalise_secrets

VALUE = b"correct horse battery staple"


@pytest.fixture
def mgr(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    st = State(str(static / "state.db"))
    yield SecretManager(st, str(static))
    st.close()


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_file_driver_layout_modes_and_no_plaintext_in_db(mgr, tmp_path):
    sec = mgr.create("db-pass", VALUE, labels={"a": "b"})
    assert mgr.lookup("db-pass") == VALUE
    data = os.path.join(mgr.root, "filedriver", "secretsdata.json")
    assert _mode(mgr.root) == 0o700 and _mode(os.path.dirname(data)) == 0o700
    assert _mode(data) == 0o600 and _mode(mgr.key_path) == 0o600
    with open(data) as f:
        assert list(json.load(f)) == [sec.id]
    db = b""
    for name in ("state.db", "state.db-wal"):
        path = tmp_path / "static" / name
        db += path.read_bytes() if path.exists() else b""
    assert VALUE not in db
    # keyed: the hash is not a plain SHA-256 of the value, and it depends on the key
    assert sec.digest != hashlib.sha256(VALUE).hexdigest()
    assert sec.digest == mgr.digest(VALUE) and mgr.digest(VALUE + b"x") != sec.digest
    assert "digest" not in json.dumps(mgr.inspect(sec)) and VALUE.decode() not in json.dumps(mgr.inspect(sec))


def test_replace_keeps_id_and_remove_forgets_data(mgr):
    sec = mgr.create("s", VALUE)
    again = mgr.replace_data(mgr.get("s"), b"new")
    assert again.id == sec.id and mgr.lookup("s") == b"new" and mgr.get("s").digest == mgr.digest(b"new")
    with pytest.raises(NameInUse):
        mgr.create("s", b"x")
    mgr.remove(mgr.get("s"))
    assert mgr.find("s") is None and mgr.driver(sec).list() == []
    with pytest.raises(NoSuchSecret):
        mgr.lookup("s")


def test_bad_input_names_the_parameter(mgr):
    with pytest.raises(InvalidArg, match="empty"):
        mgr.create("s", b"")
    with pytest.raises(InvalidArg, match=str(MAX_SIZE)):
        mgr.create("s", b"x" * (MAX_SIZE + 1))
    with pytest.raises(InvalidArg, match="invalid secret name"):
        mgr.create("../x", VALUE)
    with pytest.raises(InvalidArg, match="driver_opts"):
        mgr.create("s", VALUE, driver="file", options={"x": "y"})
    with pytest.raises(InvalidArg, match="lookup, delete"):
        mgr.create("s", VALUE, driver="shell", options={"store": "true"})
    assert mgr.list() == []  # nothing half-created


def test_shell_driver_round_trip(tmp_path):
    store = tmp_path / "vault"
    store.mkdir()
    drv = ShellDriver({"store": "cat > %s/$SECRET_ID" % store, "lookup": "cat %s/$SECRET_ID" % store,
                       "delete": "rm %s/$SECRET_ID" % store, "list": "ls %s" % store})
    drv.store("abc", VALUE)
    assert (store / "abc").read_bytes() == VALUE and drv.lookup("abc") == VALUE and drv.list() == ["abc"]
    drv.delete("abc")
    assert drv.list() == []
    with pytest.raises(SecretDriverError, match="delete command exited with 1"):
        drv.delete("abc")


def test_shell_store_failure_leaves_no_record(mgr):
    with pytest.raises(SecretDriverError, match="store command exited with 3"):
        mgr.create("s", VALUE, driver="shell", options={"store": "exit 3", "lookup": "true", "delete": "true"})
    assert mgr.find("s") is None


def test_container_tmpfs_files_modes_and_release(mgr, tmp_path):
    mgr.create("db", VALUE)
    mgr.create("tok", b"t0k")
    refs = normalise_secrets(["db", {"name": "tok", "type": "env", "target": "TOKEN"},
                              {"name": "tok", "target": "t", "uid": 1000, "gid": 1001, "mode": "0400"}])
    tmp_dir = str(tmp_path / "run")
    mounts, env = usage.prepare(mgr, tmp_dir, "ctr1", refs)
    where = usage.secrets_dir(tmp_dir, "ctr1")
    try:
        assert env == {"TOKEN": "t0k"}
        assert is_mount_point(where)
        by_dest = {m["destination"]: m for m in mounts}
        assert sorted(by_dest) == ["/run/secrets/db", "/run/secrets/t"]
        assert all("ro" in m["options"] for m in mounts)
        st_db = os.stat(by_dest["/run/secrets/db"]["source"])
        st_t = os.stat(by_dest["/run/secrets/t"]["source"])
        assert (stat.S_IMODE(st_db.st_mode), st_db.st_uid, st_db.st_gid) == (0o444, 0, 0)
        assert (stat.S_IMODE(st_t.st_mode), st_t.st_uid, st_t.st_gid) == (0o400, 1000, 1001)
        assert any(e.point == where and e.fstype == "tmpfs" for e in mount_table())
    finally:
        usage.release(tmp_dir, "ctr1")
    assert not os.path.exists(where)
    usage.release(tmp_dir, "ctr1")  # twice: nothing to do


def test_option_defaults_and_errors():
    assert normalise_secrets(["a"]) == [{"name": "a", "type": "mount", "target": "/run/secrets/a", "uid": 0,
                                         "gid": 0, "mode": 0o444}]
    assert normalise_secrets("a,type=env") == [{"name": "a", "type": "env", "target": "a", "uid": None,
                                                "gid": None, "mode": None}]
    assert normalise_secrets([{"name": "a", "target": "/etc/a", "mode": 256}])[0]["mode"] == 0o400
    with pytest.raises(InvalidArg, match="mode applies to mount secrets only"):
        normalise_secrets([{"name": "a", "type": "env", "mode": "0400"}])
    with pytest.raises(InvalidArg, match="environment variable name"):
        normalise_secrets([{"name": "a", "type": "env", "target": "1X"}])
    with pytest.raises(InvalidArg, match="two secrets at path /run/secrets/a"):
        normalise_secrets(["a", {"name": "b", "target": "a"}])
    with pytest.raises(InvalidArg, match="unknown key"):
        normalise_secrets([{"name": "a", "bogus": 1}])
    with pytest.raises(InvalidArg, match="file mode"):
        normalise_secrets([{"name": "a", "mode": "999"}])
