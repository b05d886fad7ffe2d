"""A new engine copy (<static_dir>/lib/<digest16>, Runtime.engine_copy) prunes the old ones that
nothing can still run; what a process, the boot unit or a recent task names is kept, and what is
not ours (a symlink, a foreign name, another owner) is never touched."""
from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
from helpers.procs import wait_argv
from helpers.roots import throwaway_root

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import enginecopies
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import OpenOptions, open_runtime

HOUR = 3600.0


def _copy(lib: str, name: str, age: float = 2 * HOUR) -> str:
    """A fake engine copy (run.py + a package file), last used ``age`` seconds ago."""
    path = os.path.join(lib, name)
    os.makedirs(os.path.join(path, "libpod_engine"), mode=0o700)
    for rel in ("run.py", os.path.join("libpod_engine", "__init__.py")):
        with open(os.path.join(path, rel), "w") as f:
            f.write("")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


@pytest.fixture
def holder():
    """Start a real ``sleep`` whose argv[0] names a path (as a port holder or conmon names a copy)."""
    procs = []

    def start(argv0: str) -> None:
        procs.append(subprocess.Popen([argv0, "300"], executable=shutil.which("sleep")))
        wait_argv(procs[-1].pid, lambda a: a[:1] == [argv0])  # what prune looks for

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


@pytest.fixture
def fake_lib(tmp_path, holder, monkeypatch):
    """<static>/lib with one copy of every kind; returns (static dir, {kind: path})."""
    static = tmp_path / "static"
    lib = str(static / "lib")
    os.makedirs(lib, mode=0o700)
    units = tmp_path / "units"
    units.mkdir()
    monkeypatch.setattr(enginecopies, "UNIT_DIR", str(units))
    paths = {
        "in_use": _copy(lib, "a" * 16),
        "recent": _copy(lib, "b" * 16, age=60),
        "old": _copy(lib, "c" * 16),
        "old_tmp": _copy(lib, "d" * 16 + ".tmp4242"),
        "recent_tmp": _copy(lib, "e" * 16 + ".tmp4243", age=60),
        "foreign": _copy(lib, "not-a-digest"),
        "boot_unit": _copy(lib, "0" * 16),
        "other_owner": _copy(lib, "1" * 16),
    }
    holder(os.path.join(paths["in_use"], "run.py"))
    (units / "libpod-engine-restart-0123abcd.service").write_text(
        "[Service]\nExecStart=/usr/bin/python3 -I %s/run.py boot\n" % paths["boot_unit"])
    target = _copy(str(tmp_path), "2" * 16)
    paths["symlink"] = os.path.join(lib, "f" * 16)
    os.symlink(target, paths["symlink"])
    if os.geteuid() == 0:
        os.chown(paths["other_owner"], 4321, 4321)
        then = time.time() - 2 * HOUR
        os.utime(paths["other_owner"], (then, then))
    return str(static), paths


KEPT = ("in_use", "recent", "recent_tmp", "foreign", "boot_unit", "symlink")


def test_a_new_copy_prunes_only_old_copies_nothing_runs(fake_lib, tmp_path):
    static, paths = fake_lib
    overrides, env = throwaway_root(tmp_path)
    rt = open_runtime(OpenOptions(overrides=overrides, env=env))
    try:
        assert rt.static_dir == static
        current = os.path.dirname(rt.engine_copy())
        prunes = [e for e in rt.events.read() if e["Type"] == "system" and e["Status"] == "prune"]
    finally:
        rt.shutdown()
    assert len(prunes) == 1 and set(prunes[0]["Attributes"]["engine_copies"].split()) >= {"c" * 16}, prunes
    assert os.path.isfile(os.path.join(current, "run.py"))
    for kind in KEPT:
        assert os.path.lexists(paths[kind]), kind
    assert os.path.isdir(os.path.realpath(paths["symlink"]))  # the link's target is not ours either
    for kind in ("old", "old_tmp"):
        assert not os.path.lexists(paths[kind]), kind
    if os.geteuid() == 0:
        assert os.path.isdir(paths["other_owner"])
    left = sorted(os.listdir(os.path.dirname(current)))
    assert left == sorted([os.path.basename(current)] + [os.path.basename(paths[k]) for k in KEPT]
                          + ([os.path.basename(paths["other_owner"])] if os.geteuid() == 0 else []))


def test_prune_names_what_it_removed_and_keeps_the_current_copy(fake_lib):
    static, paths = fake_lib
    lib = os.path.join(static, "lib")
    current = _copy(lib, "9" * 16)  # old mtime, but the one this task runs
    removed = enginecopies.prune(lib, keep=os.path.basename(current))
    assert sorted(removed) == sorted([os.path.basename(paths["old"]), os.path.basename(paths["old_tmp"])]
                                     + ([] if os.geteuid() == 0 else [os.path.basename(paths["other_owner"])]))
    assert os.path.isdir(current)
    assert enginecopies.prune(lib, keep=os.path.basename(current)) == []


def test_reusing_a_copy_marks_it_used(tmp_path):
    """A runtime that reuses an existing copy refreshes its mtime: another version's prune keeps it."""
    overrides, env = throwaway_root(tmp_path)
    rt = open_runtime(OpenOptions(overrides=overrides, env=env))
    try:
        copy = os.path.dirname(rt.engine_copy())
    finally:
        rt.shutdown()
    then = time.time() - 2 * HOUR
    os.utime(copy, (then, then))
    rt = open_runtime(OpenOptions(overrides=overrides, env=env))
    try:
        assert os.path.dirname(rt.engine_copy()) == copy
    finally:
        rt.shutdown()
    assert time.time() - os.stat(copy).st_mtime < HOUR
    assert enginecopies.prune(os.path.dirname(copy), keep="x" * 16) == []
    assert os.path.isdir(copy)


def test_a_missing_lib_dir_prunes_nothing(tmp_path):
    assert enginecopies.prune(str(tmp_path / "nothing"), keep="a" * 16) == []
