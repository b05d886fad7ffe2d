"""State DB: schema, shared name space, DB config record, refresh."""
import sqlite3
import time

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import (
    EngineError,
    NameInUse,
    NoSuchContainer,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import (
    SCHEMA_VERSION,
    DBConfig,
    Record,
    State,
)


@pytest.fixture
def st(tmp_path):
    s = State(str(tmp_path / "state.db"))
    yield s
    s.close()


def rec(oid, name, **kw):
    return Record(id=oid, name=name, namespace="", lock_id=None, config={"a": 1}, state={"status": "running"},
                  created=time.time(), **kw)


def test_wal_and_schema_version(st):
    assert st.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert st.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path):
    path = str(tmp_path / "state.db")
    State(path).close()
    c = sqlite3.connect(path)
    c.execute("PRAGMA user_version=%d" % (SCHEMA_VERSION + 1))
    c.close()
    with pytest.raises(EngineError) as exc:
        State(path)
    assert "newer than this engine" in str(exc.value)


def test_containers_and_pods_share_names(st):
    st.add("container", rec("a" * 64, "web"))
    with pytest.raises(NameInUse) as exc:
        st.add("pod", rec("b" * 64, "web"))
    assert 'name "web" is in use' in str(exc.value)
    assert st.count("pod") == 0  # the failed insert left nothing


def test_lookup_by_name_id_and_prefix(st):
    st.add("container", rec("abc" + "0" * 61, "one"))
    st.add("container", rec("abd" + "0" * 61, "two"))
    assert st.get("container", "one").name == "one"
    assert st.get("container", "abc" + "0" * 61).name == "one"
    assert st.get("container", "abc0").name == "one"
    assert st.find("container", "ab") is None  # ambiguous / too short
    with pytest.raises(NoSuchContainer):
        st.get("container", "zzz")


def test_remove_frees_name(st):
    r = rec("c" * 64, "gone")
    st.add("container", r)
    st.remove("container", r)
    st.add("pod", rec("d" * 64, "gone"))


def test_db_config_written_once(st):
    a = DBConfig("linux", "/s", "/t", "/g", "/r", "overlay", "/v")
    b = DBConfig("linux", "/s2", "/t2", "/g2", "/r2", "vfs", "/v2")
    assert st.init_db_config(a) == a
    assert st.init_db_config(b) == a
    assert st.get_db_config() == a


def test_tx_rolls_back(st):
    with pytest.raises(RuntimeError), st.tx():
        st.add("container", rec("e" * 64, "rolled"))
        raise RuntimeError("boom")
    assert st.find("container", "rolled") is None
    assert st.lookup_name("rolled") is None


def test_refresh_resets_per_boot_state(st):
    st.add("container", rec("f" * 64, "r1"))
    st.add("volume", Record(id="v", name="v", namespace="", lock_id=None, config={},
                            state={"mount_count": 3, "mount_point": "/x"}, created=0))
    st.record_exit_code("f" * 64, 3)
    st.conn.execute("INSERT INTO names(name,kind,id) VALUES('dangling','container','0'||hex(randomblob(8)))")
    st.refresh(lambda s: dict(s, status="configured"))
    assert st.get("container", "r1").state["status"] == "configured"
    assert st.get("volume", "v").state["mount_count"] == 0
    assert st.query("SELECT COUNT(*) FROM exit_codes")[0][0] == 0
    assert st.lookup_name("dangling") is None
    assert st.lookup_name("r1") is not None


def test_list_of_all_namespaces(tmp_path):
    """Host-wide resources (user-namespace ID blocks, shared storage copies) need every namespace's containers."""
    s = State(str(tmp_path / "state.db"))
    try:
        s.add("container", Record(id="b" * 64, name="other", namespace="ns2", lock_id=None, config={}, state={},
                                  created=time.time()))
        s.namespace = "ns1"
        assert s.list("container") == []
        assert [r.name for r in s.list("container", all_namespaces=True)] == ["other"]
    finally:
        s.close()


LABEL = "io.libpod-engine.stack"


def _labelled_state(st):
    def add(kind, oid, name, labels, namespace="", **config):
        st.add(kind, Record(id=oid, name=name, namespace=namespace, lock_id=None,
                            config=dict(config, labels=labels), state={}, created=time.time()))
    add("container", "a" * 64, "web", {LABEL: "s1", "x": "1"})
    add("container", "b" * 64, "db", {LABEL: "s2"})
    add("container", "c" * 64, "pod-infra", {LABEL: "s1"}, is_infra=True)
    add("container", "d" * 64, "plain", {})
    add("container", "e" * 64, "other-ns", {LABEL: "s1"}, namespace="ns2")
    add("container", "f" * 64, "quoted", {'a"b': "s1"})
    add("volume", "v1", "v1", {LABEL: "s1"})
    add("pod", "9" * 64, "p1", {LABEL: "s2"})


@pytest.mark.parametrize("json1", [True, False])
def test_names_with_label_reads_one_label_per_record(st, monkeypatch, json1):
    """A stack finds its objects by label: SQLite's JSON functions, or the decoded records without them."""
    from ansible_collections.libpod.engine.plugins.module_utils.engine.store import state as state_mod

    monkeypatch.setattr(state_mod, "_has_json1", lambda conn: json1)
    _labelled_state(st)
    assert st.names_with_label("container", LABEL, "s1") == [("web", False), ("pod-infra", True), ("other-ns", False)]
    assert st.names_with_label("container", LABEL, "s2") == [("db", False)]
    assert st.names_with_label("container", 'a"b', "s1") == [("quoted", False)]
    assert st.names_with_label("container", LABEL, "none") == []
    assert st.names_with_label("volume", LABEL, "s1") == [("v1", False)]
    assert st.names_with_label("pod", LABEL, "s2") == [("p1", False)]
    st.namespace = "ns2"
    assert st.names_with_label("container", LABEL, "s1") == [("other-ns", False)]
    st.namespace = ""  # no namespace set: every namespace's (as list)
    listed = [r.name for r in st.list("container") if r.config["labels"].get(LABEL) == "s1"]
    assert [n for n, _i in st.names_with_label("container", LABEL, "s1")] == listed


def test_this_sqlite_has_json1(st):
    from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import _has_json1

    assert _has_json1(st.conn)  # the stack's label lookup without decoding every config (issue 20)


@pytest.mark.parametrize("json1", [True, False])
def test_find_key_finds_what_find_finds_without_reading_the_record(st, monkeypatch, json1):
    """The lookup before a lock (reconcile_container): the same resolution, only ID, name, lock and is_infra."""
    from ansible_collections.libpod.engine.plugins.module_utils.engine.store import state as state_mod

    monkeypatch.setattr(state_mod, "_has_json1", lambda conn: json1)
    st.add("container", Record(id="abc" + "0" * 61, name="one", namespace="", lock_id=7, config={"a": 1},
                               state={"status": "running"}, created=time.time()))
    st.add("container", Record(id="abd" + "0" * 61, name="infra", namespace="", lock_id=8,
                               config={"is_infra": True}, state={}, created=time.time()))
    for ref in ("one", "abc" + "0" * 61, "abc0", "infra", "ab", "zzz"):
        full, key = st.find("container", ref), st.find_key("container", ref)
        assert (full is None) == (key is None)
        if full is not None:
            assert (key.id, key.name, key.lock_id) == (full.id, full.name, full.lock_id)
            assert bool(key.config.get("is_infra")) == bool(full.config.get("is_infra"))
            assert key.state == {}


def test_by_id_reads_exactly_that_id_even_when_a_name_looks_like_it(st):
    """LockedObject.locked re-reads its record by ID: one query, never the container that happens to be
    named like the ID (find tries names first, as a user's reference needs)."""
    oid = "abc" + "0" * 61
    st.add("container", rec(oid, "one"))
    st.add("container", rec("def" + "0" * 61, oid))  # named as the other's ID
    assert st.find("container", oid).name == oid
    assert st.by_id("container", oid).name == "one"
    assert st.by_id("container", "abc") is None  # a prefix is a user's shorthand, not an ID
    assert st.by_id("container", "nope") is None
