# SPDX-License-Identifier: GPL-3.0-or-later
"""Path ownership between engine roots: markers and the host registry (in a private registry dir)."""
from __future__ import annotations

import os

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import RootConflict
from ansible_collections.libpod.engine.plugins.module_utils.engine.host import roots


def _root(tmp_path, name):
    """A live root (its DB exists) and its paths."""
    static = tmp_path / name / "static"
    static.mkdir(parents=True)
    (static / "state.db").write_bytes(b"")
    paths = {"static_dir": str(static), "tmp_dir": str(tmp_path / name / "tmp"),
             "graph_root": str(static / "storage"), "volume_path": str(static / "volumes")}
    for p in paths.values():
        os.makedirs(p, exist_ok=True)
    return roots.RootId.of(str(static)), paths


def test_claim_marks_paths_and_another_root_is_refused_naming_both(tmp_path):
    reg = str(tmp_path / "registry")
    a, pa = _root(tmp_path, "a")
    roots.claim_paths(a, pa, reg)
    assert os.path.isfile(os.path.join(pa["graph_root"], roots.MARKER))
    roots.claim_paths(a, pa, reg)  # idempotent for the owner
    b, pb = _root(tmp_path, "b")
    shared = dict(pb, graph_root=pa["graph_root"])
    with pytest.raises(RootConflict) as err:
        roots.claim_paths(b, shared, reg)
    assert a.static_dir in str(err.value) and b.static_dir in str(err.value) and "graph_root" in str(err.value)
    assert not os.path.exists(os.path.join(pb["static_dir"], roots.MARKER))  # nothing written


def test_nested_and_parent_paths_are_refused_through_the_registry(tmp_path):
    reg = str(tmp_path / "registry")
    a, pa = _root(tmp_path, "a")
    roots.claim_paths(a, pa, reg)
    b, pb = _root(tmp_path, "b")
    # a volume path above the other root's directories (a reset would remove them)
    parent = dict(pb, volume_path=str(tmp_path / "a"))
    found = roots.find_conflicts(b, parent, reg)
    assert found and "volume_path" in found[0].msg and a.static_dir in found[0].msg


def test_marker_of_a_removed_root_is_stale(tmp_path):
    reg = str(tmp_path / "registry")
    a, pa = _root(tmp_path, "a")
    roots.claim_paths(a, pa, reg)
    os.unlink(a.db_path)  # root a is gone (rm of its static dir's DB)
    b, pb = _root(tmp_path, "b")
    roots.claim_paths(b, dict(pb, graph_root=pa["graph_root"]), reg)
    assert roots.marker_owner(pa["graph_root"]) == b
    assert len(os.listdir(os.path.join(reg, "roots"))) == 1  # a's registry entry was dropped


def test_forget_root_drops_an_empty_rootless_registry_only(tmp_path):
    reg = str(tmp_path / "registry")
    a, pa = _root(tmp_path, "a")
    b, pb = _root(tmp_path, "b")
    roots.claim_paths(a, pa, reg)
    roots.claim_paths(b, pb, reg)
    assert not roots.forget_root(a, reg, drop_empty=True)  # b is still registered
    assert os.path.isdir(reg)
    assert roots.forget_root(b, reg, drop_empty=True)
    assert not os.path.exists(reg)
    roots.claim_paths(a, pa, reg)
    assert not roots.forget_root(a, reg)  # root's registry (/run/libpod-engine) stays
    assert sorted(os.listdir(reg)) == ["roots", "roots.lock"]


def test_an_unchanged_claim_is_not_checked_again_but_a_changed_one_is(tmp_path, monkeypatch):
    """Every task's open claims the root's paths: with its registry entry unchanged since the last
    claim, the scan of the other roots is skipped (a root claiming later was checked against it);
    a claim with other paths (containers.conf changed) is checked again."""
    reg = str(tmp_path / "registry")
    a, pa = _root(tmp_path, "a")
    roots.claim_paths(a, pa, reg)
    scans = []
    real_check = roots.check_paths
    monkeypatch.setattr(roots, "check_paths", lambda *args, **kw: scans.append(args) or real_check(*args, **kw))
    roots.claim_paths(a, pa, reg)
    assert scans == []
    b, pb = _root(tmp_path, "b")
    roots.claim_paths(b, pb, reg)
    with pytest.raises(RootConflict):  # a's new volume path is b's: refused, a's entry unchanged
        roots.claim_paths(a, dict(pa, volume_path=pb["volume_path"]), reg)
    assert len(scans) == 2
    assert roots.read_json(roots._entry_path(os.path.join(reg, "roots"), a))["paths"]["volume_path"] == \
        os.path.realpath(pa["volume_path"])
