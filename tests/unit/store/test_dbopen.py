"""Opening the state DB: never a fresh start beside existing objects (issue 22.4), a reset gets through."""
import os

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import StateDBCorrupt, StateDBMissing
from ansible_collections.libpod.engine.plugins.module_utils.engine.store import dbopen, reserve


def _roots(tmp_path):
    static = tmp_path / "static"
    graph = static / "storage"
    vols = static / "volumes"
    return str(static / "state.db"), str(graph), str(vols)


def _open(db, graph, vols, **kw):
    args = dict(namespace="", graph_root=graph, volume_path=vols, read_only=False, resetting=False)
    args.update(kw)
    return dbopen.open_state(db, **args)


def test_fresh_host_gets_a_new_db_and_a_reserve(tmp_path):
    db, graph, vols = _roots(tmp_path)
    os.makedirs(os.path.join(graph, "layers"))  # empty store dirs are not objects
    opened = _open(db, graph, vols)
    assert opened.state.count("container") == 0 and not opened.damaged
    assert os.path.getsize(reserve.reserve_path(db)) == reserve.RESERVE_SIZE


def test_check_mode_creates_nothing(tmp_path):
    db, graph, vols = _roots(tmp_path)
    opened = _open(db, graph, vols, read_only=True)
    assert opened.state.path == dbopen.MEMORY and not os.path.exists(os.path.dirname(db))


@pytest.mark.parametrize("empty", [True, False])
@pytest.mark.parametrize("where", ["containers", "layers", "volumes"])
def test_missing_or_empty_db_beside_objects_is_refused(tmp_path, empty, where):
    db, graph, vols = _roots(tmp_path)
    obj = os.path.join(vols if where == "volumes" else os.path.join(graph, where), "a" * 64)
    os.makedirs(obj)
    if empty:
        open(db, "w").close()
    for read_only in (False, True):
        with pytest.raises(StateDBMissing) as err:
            _open(db, graph, vols, read_only=read_only)
        msg = str(err.value)
        assert db in msg and os.path.dirname(obj) in msg and "system_reset" in msg
    assert os.path.getsize(db) == 0 if empty else not os.path.exists(db)  # nothing written
    opened = _open(db, graph, vols, resetting=True)
    assert opened.damaged and opened.state.path == dbopen.MEMORY and opened.warnings


def test_runtime_containers_count_as_objects(tmp_path):
    db, graph, vols = _roots(tmp_path)
    tmp = str(tmp_path / "run")
    os.makedirs(os.path.join(tmp, "runtime", "runc"))
    assert _open(db, graph, vols, tmp_dir=tmp).state.count("container") == 0  # empty runtime root: fresh
    os.unlink(db)
    os.unlink(reserve.reserve_path(db))
    os.makedirs(os.path.join(tmp, "runtime", "crun", "b" * 64))
    with pytest.raises(StateDBMissing) as err:
        _open(db, graph, vols, tmp_dir=tmp)
    assert "1 crun container in %s" % os.path.join(tmp, "runtime", "crun") in str(err.value)


def test_damaged_db_only_lets_a_reset_through(tmp_path):
    db, graph, vols = _roots(tmp_path)
    os.makedirs(os.path.dirname(db))
    with open(db, "wb") as f:
        f.write(b"\x01junk" * 2000)
    with pytest.raises(StateDBCorrupt):
        _open(db, graph, vols)
    opened = _open(db, graph, vols, resetting=True, read_only=True)
    assert "system_reset" in opened.damaged and opened.state.count("container") == 0
