# SPDX-License-Identifier: GPL-3.0-or-later
"""containers.conf editing (tomlkit), settings checks, merged configuration, DB-recorded paths."""
from __future__ import annotations

import json
import os
import resource
import stat
import time

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import (
    ConfigError,
    ConmonNotFound,
    DBConfigMismatch,
    InvalidArg,
    LockExhausted,
    OCIRuntimeNotFound,
    StateDBCorrupt,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.config.loader import ENV_VAR, parse_toml
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops import confedit
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.locks import LockManager
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import DBConfig, Record, State

ADMIN_TEXT = """\
# Engine settings of this host.
# Edited by hand: keep these comments.

[engine]
# the state lives here
static_dir = "/srv/engine"   # moved off /var
num_locks = 2048

[containers]
# nothing yet
"""


def doc_of(text, path="/x/containers.conf"):
    return confedit.ConfDocument(path, text, True)


# -- editing -------------------------------------------------------------------------------------
def test_set_keeps_comments_order_and_inline_comment():
    doc = doc_of(ADMIN_TEXT)
    assert doc.set("engine", "num_locks", 4096)
    assert doc.set("containers", "pids_limit", 100)
    assert doc.set("network", "default_subnet", "10.91.0.0/24")
    text = doc.text()
    for line in ADMIN_TEXT.splitlines():
        if "num_locks" not in line:
            assert line in text
    assert "num_locks = 4096" in text
    assert text.index("static_dir") < text.index("num_locks") < text.index("[containers]")
    assert text.index("# nothing yet") < text.index("pids_limit = 100")
    assert text.rstrip().endswith('default_subnet = "10.91.0.0/24"')
    assert parse_toml(text, "x")["network"] == {"default_subnet": "10.91.0.0/24"}


def test_replacing_a_value_keeps_its_inline_comment():
    doc = doc_of(ADMIN_TEXT)
    doc.set("engine", "static_dir", "/srv/other")
    assert 'static_dir = "/srv/other"   # moved off /var' in doc.text()


def test_same_value_is_no_change_and_types_matter():
    doc = doc_of(ADMIN_TEXT)
    assert not doc.set("engine", "num_locks", 2048)
    assert doc.text() == ADMIN_TEXT and not doc.changed
    assert confedit.same_value([1, "a"], [1, "a"])
    assert not confedit.same_value(True, 1)
    assert not confedit.same_value(1, 1.0)
    assert not confedit.same_value({"a": [1]}, {"a": [1, 2]})


def test_tables_and_lists():
    doc = doc_of("")
    doc.set("engine", "runtimes", {"crun": ["/usr/bin/crun"], "runc": ["/usr/sbin/runc"]})
    doc.set("engine", "conmon_path", ["/usr/bin/conmon"])
    data = parse_toml(doc.text(), "x")
    assert data["engine"]["runtimes"] == {"crun": ["/usr/bin/crun"], "runc": ["/usr/sbin/runc"]}
    assert data["engine"]["conmon_path"] == ["/usr/bin/conmon"]
    assert not doc.set("engine", "runtimes", {"crun": ["/usr/bin/crun"], "runc": ["/usr/sbin/runc"]})


def test_remove_key_and_empty_table():
    doc = doc_of(ADMIN_TEXT)
    doc.set("network", "default_network", "web")
    assert doc.remove("network", "default_network")
    assert "[network]" not in doc.text()          # a table left empty and without comments goes
    assert doc.remove("engine", "num_locks")
    assert not doc.remove("engine", "num_locks")
    assert not doc.remove("storage", "graph_root")
    assert "# the state lives here" in doc.text() and "[engine]" in doc.text()
    doc2 = doc_of(ADMIN_TEXT)
    doc2.set("containers", "pids_limit", 5)
    doc2.remove("containers", "pids_limit")
    assert "[containers]\n# nothing yet" in doc2.text()  # a table with a comment stays


def test_apply_settings_reports_each_change():
    doc = doc_of(ADMIN_TEXT)
    changes = confedit.apply_settings(doc, {"engine": {"num_locks": 4096, "static_dir": "/srv/engine"},
                                            "containers": {"pids_limit": 7}})
    assert changes == ["set [engine] num_locks = 4096 (was 2048)", "set [containers] pids_limit = 7"]
    changes = confedit.apply_settings(doc, {"engine": {"num_locks": None}})
    assert changes == ["removed [engine] num_locks (was 4096)"]
    changes = confedit.apply_settings(doc, {"containers": {"pids_limit": None}}, state="absent")
    assert changes == ["removed [containers] pids_limit (was 7)"]


def test_invalid_toml_is_a_config_error():
    with pytest.raises(ConfigError) as exc:
        doc_of("[engine\nx=1")
    assert "invalid TOML" in str(exc.value) and "/x/containers.conf" in str(exc.value)


def test_read_missing_file(tmp_path):
    doc = confedit.ConfDocument.read(str(tmp_path / "none.conf"))
    assert not doc.exists and doc.original == ""
    doc.set("engine", "num_locks", 8)
    assert doc.text() == "[engine]\nnum_locks = 8\n"


def test_text_diff_and_write_atomic_keep_mode(tmp_path):
    path = str(tmp_path / "c.conf")
    with open(path, "w") as f:
        f.write(ADMIN_TEXT)
    os.chmod(path, 0o640)
    doc = confedit.ConfDocument.read(path)
    doc.set("engine", "num_locks", 16)
    diff = confedit.text_diff(doc.original, doc.text(), path)
    assert "-num_locks = 2048\n+num_locks = 16\n" in diff and "(before)" in diff
    confedit.write_atomic(path, doc.text())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert confedit.ConfDocument.read(path).get("engine", "num_locks") == 16
    assert [n for n in os.listdir(tmp_path) if n != "c.conf"] == []
    new = str(tmp_path / "sub" / "new.conf")
    confedit.write_atomic(new, "[engine]\n")
    assert stat.S_IMODE(os.stat(new).st_mode) == 0o644


# -- settings ------------------------------------------------------------------------------------
def test_normalize_settings_names_and_coercion():
    out = confedit.normalize_settings({"engine": {"num_locks": "4096", "no_pivot_root": "yes",
                                                  "volume_plugin_timeout": "2.5", "runtime": "crun"}})
    assert out == {"engine": {"num_locks": 4096, "no_pivot_root": True, "volume_plugin_timeout": 2.5,
                              "runtime": "crun"}}
    assert confedit.normalize_settings({"engine": ["stop_timeout"]}, "absent") == {"engine": {"stop_timeout": None}}
    assert confedit.normalize_settings({"engine": {"stop_timeout": 3}}, "absent") == {"engine": {"stop_timeout": None}}
    with pytest.raises(InvalidArg) as exc:
        confedit.normalize_settings({"engnie": {}})
    assert "unknown section engnie" in str(exc.value) and "engine" in exc.value.hint
    with pytest.raises(InvalidArg) as exc:
        confedit.normalize_settings({"engine": {"num_lock": 1}})
    assert "settings.engine.num_lock" in str(exc.value) and "num_locks" in exc.value.hint
    with pytest.raises(InvalidArg):
        confedit.normalize_settings({"engine": 5})
    with pytest.raises(InvalidArg):
        confedit.normalize_settings(["engine"])


def test_schema_errors_name_the_setting():
    with pytest.raises(ConfigError) as exc:
        confedit.validate_file_data({"engine": {"num_locks": "many"}}, "/x/c.conf")
    msg = str(exc.value)
    assert msg.startswith("settings: /x/c.conf: [engine] num_locks") and "expected integer" in msg
    assert "not changed" in msg
    with pytest.raises(ConfigError):
        confedit.validate_file_data({"engine": {"events_logger": "syslog"}}, "/x/c.conf")


# -- merged configuration --------------------------------------------------------------------------
def test_engine_chain(tmp_path):
    conf = str(tmp_path / "c.conf")
    assert confedit.engine_chain(conf, {ENV_VAR: conf}) == ([conf], True)
    assert confedit.engine_chain(str(tmp_path / "other.conf"), {ENV_VAR: conf}) == ([conf], False)
    files, inside = confedit.engine_chain("/etc/libpod-engine/containers.conf", {})
    assert inside and "/etc/libpod-engine/containers.conf" in files
    files, inside = confedit.engine_chain("/etc/libpod-engine/containers.conf.d/50-x.conf", {})
    assert inside and files[-1].endswith("50-x.conf")
    assert confedit.default_path({ENV_VAR: conf}) == conf
    assert confedit.default_path({}) == "/etc/libpod-engine/containers.conf"


def test_merge_chain_sources_and_given_text(tmp_path):
    a, b = str(tmp_path / "a.conf"), str(tmp_path / "b.conf")
    with open(a, "w") as f:
        f.write('[engine]\nnum_locks = 10\nstatic_dir = "/srv/s"\n')
    cfg = confedit.merge_chain([a, b], {b: "[engine]\nnum_locks = 20\n"}, {"engine": {"stop_timeout": 3}})
    assert cfg.get("engine", "num_locks") == 20 and cfg.source("engine", "num_locks") == b
    assert cfg.source("engine", "static_dir") == a
    assert cfg.get("storage", "graph_root") == "/srv/s/storage"      # derived as load_config does
    assert cfg.get("engine", "volume_path") == "/srv/s/volumes"
    assert cfg.source("engine", "stop_timeout") == "option" and cfg.is_explicit("engine", "stop_timeout")
    assert cfg.source("engine", "runtime") == "default"
    assert cfg.files == [a, b]
    assert confedit.merge_chain([a, b]).files == [a]                  # a missing file is skipped


def _state_db(path, static="/srv/s", tmp="/run/s", volumes=0, containers=0):
    st = State(path)
    st.init_db_config(DBConfig(os="linux", static_dir=static, tmp_dir=tmp, graph_root=static + "/storage",
                               run_root=tmp + "/storage", graph_driver="overlay", volume_path=static + "/volumes"))
    locks = LockManager(st, os.path.join(os.path.dirname(path), "locks"), 100)
    for i in range(volumes):
        lid = locks.allocate("volume", "v%d" % i)
        st.add("volume", Record(id="v%d" % i, name="v%d" % i, namespace="", lock_id=lid, config={},
                                state={}, created=time.time()))
    for i in range(containers):
        cid = "%064x" % (i + 1)
        lid = locks.allocate("container", cid)
        st.add("container", Record(id=cid, name="c%d" % i, namespace="", lock_id=lid, config={},
                                   state={"status": "exited"}, created=time.time()))
    st.close()


def _conf(tmp_path, text):
    path = str(tmp_path / "c.conf")
    return confedit.merge_chain([path], {path: text})


def test_db_record_wins_unless_explicit(tmp_path):
    static = str(tmp_path / "s")
    os.makedirs(static)
    _state_db(os.path.join(static, "state.db"), static=static, tmp="/run/recorded")
    cfg = _conf(tmp_path, '[engine]\nstatic_dir = "%s"\ntmp_dir = "/run/configured"\n' % static)
    record = confedit.read_db_record(confedit.db_path_of(cfg))
    assert record["tmp_dir"] == "/run/recorded"
    warnings = confedit.apply_db_record(cfg, record, "db")
    assert cfg.get("engine", "tmp_dir") == "/run/recorded" and cfg.source("engine", "tmp_dir") == "database"
    assert any("DB config record" in w and "/run/configured" in w for w in warnings)
    assert cfg.get("storage", "graph_driver") in ("overlay", "vfs")   # "" resolved as the runtime does
    path = str(tmp_path / "c.conf")
    cfg2 = confedit.merge_chain([path], {path: '[engine]\nstatic_dir = "%s"\n' % static},
                                {"engine": {"tmp_dir": "/run/explicit"}})
    confedit.apply_db_record(cfg2, record, "db")
    assert cfg2.get("engine", "tmp_dir") == "/run/explicit"


# -- checks --------------------------------------------------------------------------------------
def test_check_runtime(tmp_path):
    ok = _conf(tmp_path, '[engine]\nruntime = "runc"\n')
    assert os.path.basename(confedit.check_runtime(ok)) == "runc"
    with pytest.raises(OCIRuntimeNotFound) as exc:
        confedit.check_runtime(_conf(tmp_path, '[engine]\nruntime = "nosuchrt"\n'))
    msg = str(exc.value)
    assert '[engine] runtime = "nosuchrt"' in msg and "c.conf" in msg and "[engine.runtimes]" in msg
    assert "runc" in exc.value.hint
    with pytest.raises(OCIRuntimeNotFound) as exc:
        confedit.check_runtime(_conf(tmp_path, '[engine]\nruntime = "kata"\n'))
    assert "not installed" in str(exc.value) and "/usr/bin/kata-runtime" in str(exc.value)
    with pytest.raises(OCIRuntimeNotFound) as exc:
        confedit.check_runtime(_conf(tmp_path, '[engine]\nruntime = "/opt/none/runc"\n'))
    assert "no executable file at that path" in str(exc.value)
    runc = confedit.check_runtime(ok)
    assert confedit.check_runtime(_conf(tmp_path, '[engine]\nruntime = "%s"\n' % runc)) == runc
    with pytest.raises(OCIRuntimeNotFound):
        confedit.check_runtime(_conf(tmp_path, '[engine]\nruntime = ""\n[engine.runtimes]\nx = ["/none/x"]\n'))


def test_check_conmon(tmp_path, monkeypatch):
    assert confedit.check_conmon(_conf(tmp_path, ""))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConmonNotFound) as exc:
        confedit.check_conmon(_conf(tmp_path, '[engine]\nconmon_path = ["/none/conmon"]\n'))
    assert "[engine] conmon_path" in str(exc.value) and "/none/conmon: does not exist" in str(exc.value)


def test_check_ulimits(tmp_path):
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    confedit.check_ulimits(_conf(tmp_path, '[containers]\ndefault_ulimits = ["nofile=64:128"]\n'))
    if hard != resource.RLIM_INFINITY:
        with pytest.raises(InvalidArg) as exc:
            confedit.check_ulimits(_conf(tmp_path, '[containers]\ndefault_ulimits = ["nofile=%d:%d"]\n'
                                         % (hard + 1, hard + 1)))
        assert "above this host's hard limit %d" % hard in str(exc.value) and "RLIMIT_NOFILE" in str(exc.value)
    with pytest.raises(InvalidArg):
        confedit.check_ulimits(_conf(tmp_path, '[containers]\ndefault_ulimits = ["nofile=10:5"]\n'))
    with pytest.raises(InvalidArg):
        confedit.check_ulimits(_conf(tmp_path, '[containers]\ndefault_ulimits = ["bogus=1"]\n'))


def test_check_num_locks(tmp_path):
    db = str(tmp_path / "state.db")
    _state_db(db, volumes=3, containers=2)
    assert confedit.lock_usage(db) == (5, 5)
    with pytest.raises(LockExhausted) as exc:
        confedit.check_num_locks(_conf(tmp_path, "[engine]\nnum_locks = 4\n"), db, renumber=True)
    assert "num_locks = 4" in str(exc.value) and "5 containers, pods and volumes" in str(exc.value)
    assert "at least 5" in exc.value.hint
    assert confedit.check_num_locks(_conf(tmp_path, "[engine]\nnum_locks = 5\n"), db, renumber=True) == []
    assert confedit.check_num_locks(_conf(tmp_path, "[engine]\nnum_locks = 500\n"), db, renumber=False) == []
    assert confedit.lock_usage(str(tmp_path / "none.db")) == (0, 0)


def test_path_change_refused_with_objects(tmp_path):
    static = str(tmp_path / "s")
    os.makedirs(static)
    _state_db(os.path.join(static, "state.db"), static=static, tmp="/run/a", volumes=1, containers=2)
    before = _conf(tmp_path, '[engine]\nstatic_dir = "%s"\ntmp_dir = "/run/a"\n' % static)
    after = _conf(tmp_path, '[engine]\nstatic_dir = "%s"\ntmp_dir = "/run/b"\n' % static)
    with pytest.raises(DBConfigMismatch) as exc:
        confedit.plan_path_changes(before, after, reset=False)
    msg = str(exc.value)
    assert '[engine] tmp_dir "/run/a" -> "/run/b"' in msg
    assert "DB config record in %s/state.db (table db_config)" % static in msg
    assert '2 containers, 1 volume' in msg and 'tmp dir "/run/a"' in msg
    assert "reset: true" in exc.value.hint
    plan = confedit.plan_path_changes(before, after, reset=True)
    assert plan.needs_reset and [c.key for c in plan.changes] == ["tmp_dir", "run_root"]
    assert not confedit.plan_path_changes(before, before, reset=False).changes


def test_path_change_without_objects_clears_the_record(tmp_path):
    static = str(tmp_path / "s")
    os.makedirs(static)
    db = os.path.join(static, "state.db")
    _state_db(db, static=static, tmp="/run/a")
    before = _conf(tmp_path, '[engine]\nstatic_dir = "%s"\ntmp_dir = "/run/a"\n' % static)
    after = _conf(tmp_path, '[engine]\nstatic_dir = "%s"\ntmp_dir = "/run/b"\n' % static)
    plan = confedit.plan_path_changes(before, after, reset=False)
    assert not plan.needs_reset and plan.clear_record == db
    assert confedit.clear_db_record(db) and confedit.read_db_record(db) is None
    assert not confedit.clear_db_record(str(tmp_path / "none.db"))
    # a move of static_dir to a fresh place: nothing recorded there, nothing to clear
    moved = _conf(tmp_path, '[engine]\nstatic_dir = "%s/new"\n' % tmp_path)
    plan = confedit.plan_path_changes(before, moved, reset=False)
    assert plan.changes and not plan.clear_record and not plan.needs_reset


def test_effective_is_plain_data(tmp_path):
    values, sources = confedit.effective(_conf(tmp_path, "[engine]\nnum_locks = 9\n"))
    json.dumps(values)
    assert values["engine"]["num_locks"] == 9 and sources["engine"]["num_locks"].endswith("c.conf")


def test_damaged_state_db_is_never_read_as_empty(tmp_path):
    """issue 14.3: runtime_config's DB reads fail naming the file instead of counting 0 objects."""
    db = str(tmp_path / "state.db")
    assert confedit.count_objects(db)["container"] == 0  # no DB yet
    open(db, "w").close()
    assert confedit.read_db_record(db) is None           # a 0-byte DB is none yet, too
    with open(db, "wb") as f:
        f.write(b"garbage!" * 1024)
    for call in (confedit.count_objects, confedit.lock_usage, confedit.read_db_record, confedit.clear_db_record):
        with pytest.raises(StateDBCorrupt) as err:
            call(db)
        assert db in str(err.value) and "system_reset" in str(err.value)
