# SPDX-License-Identifier: GPL-3.0-or-later
"""A test run leaves no entry in the host's roots registry: pytest keeps the temp dirs of its last
three runs, and a root whose DB is there stayed registered (~50 entries after a unit run). The
session fixture of tests/conftest.py unregisters them (tests/helpers/roots.forget_roots_under, with
the engine's host.roots.forget_root); the entries of other roots stay."""
from __future__ import annotations

import os
import subprocess
import sys

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import roots
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.userpaths import registry_dir
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import OpenOptions, open_runtime
from ansible_collections.libpod.engine.tests.helpers.roots import forget_roots_under, throwaway_root

HERE = os.path.abspath(__file__)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(HERE))))


def _root(tmp_path, name):
    """A live root (its DB exists) below ``tmp_path`` and its paths."""
    static = tmp_path / name / "static"
    static.mkdir(parents=True)
    (static / "state.db").write_bytes(b"")
    paths = {"static_dir": str(static), "tmp_dir": str(tmp_path / name / "tmp")}
    return roots.RootId.of(str(static)), paths


def _entries(registry: str) -> list:
    """Static dirs of the registered roots (other test runs may add or drop theirs meanwhile)."""
    folder = os.path.join(registry, "roots")
    docs = [roots.read_json(os.path.join(folder, n)) for n in os.listdir(folder) if n.endswith(".json")]
    return sorted(d["static_dir"] for d in docs if d and d.get("static_dir"))


def test_only_the_roots_below_the_base_are_forgotten(tmp_path):
    reg = str(tmp_path / "registry")
    mine = [_root(tmp_path, "base/t0"), _root(tmp_path, "base/t1/sub")]
    others = [_root(tmp_path, "other"), _root(tmp_path, "base2")]  # base2: a sibling, not below base
    for root_id, paths in mine + others:
        roots.claim_paths(root_id, paths, reg)
    assert len(_entries(reg)) == 4
    gone = forget_roots_under(str(tmp_path / "base"), reg)
    assert sorted(gone) == sorted(r.static_dir for r, _p in mine)
    assert _entries(reg) == sorted(r.static_dir for r, _p in others)
    assert forget_roots_under(str(tmp_path / "base"), reg) == []
    assert forget_roots_under(str(tmp_path / "no-registry"), str(tmp_path / "none")) == []


def test_a_root_a_test_opens_is_registered(tmp_path):
    """Also what the next test runs in a pytest of its own."""
    overrides, env = throwaway_root(tmp_path)
    rt = open_runtime(OpenOptions(overrides=overrides, env=env))
    try:
        assert rt.root_id.static_dir in _entries(registry_dir())
    finally:
        rt.shutdown()


def test_a_test_run_leaves_no_root_registered(tmp_path):
    basetemp = tmp_path / "basetemp"
    node = "%s::test_a_root_a_test_opens_is_registered" % os.path.relpath(HERE, REPO)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", str(basetemp),
                           node], cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    prefix = os.path.realpath(str(basetemp)) + "/"
    assert [s for s in _entries(registry_dir()) if s.startswith(prefix)] == []
