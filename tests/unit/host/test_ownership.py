"""Paths another user could replace are refused (issue 22.1: root code execution through the exit command)."""
import os

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import UnsafePath
from ansible_collections.libpod.engine.plugins.module_utils.engine.host import ownership

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chown to another user)")
NOBODY = 65534


def mkdir(path, mode=0o755, uid=0):
    os.mkdir(str(path))
    os.chown(str(path), uid, 0)
    os.chmod(str(path), mode)
    return path


def test_root_owned_chain_is_safe(tmp_path):
    d = mkdir(tmp_path / "a")
    res = ownership.check_path(str(d / "b" / "static"), "static_dir")
    assert res.deepest == str(d) and not res.complete and not res.shared


@pytest.mark.parametrize("mode,uid,words", [
    (0o755, NOBODY, "owned by uid 65534"),
    (0o775, 0, "writable by its group"),
    (0o757, 0, "writable by others"),
    (0o777, 0, "group and others"),
    (0o1777, NOBODY, "owned by uid 65534"),   # sticky but not root's: the owner may rename our entries
])
def test_replaceable_ancestor_is_refused(tmp_path, mode, uid, words):
    home = mkdir(tmp_path / "svc", mode, uid)
    static = mkdir(home / "static", 0o700)
    with pytest.raises(UnsafePath) as err:
        ownership.check_path(str(static / "lib"), "static_dir")
    assert str(home) in str(err.value) and words in str(err.value) and "static_dir" in str(err.value)


def test_sticky_root_dir_is_an_acceptable_ancestor_only_for_our_own_entries(tmp_path):
    shared = mkdir(tmp_path / "tmp", 0o1777)
    res = ownership.check_path(str(shared / "engine" / "static"), "static_dir")
    assert res.shared and res.deepest == str(shared)
    ownership.ensure_safe_dir(str(shared / "engine" / "static"), "static_dir")
    st = os.stat(str(shared / "engine" / "static"))
    assert st.st_uid == 0 and st.st_mode & 0o077 == 0
    squatted = mkdir(shared / "squat", 0o755, NOBODY)  # another user took the name first
    with pytest.raises(UnsafePath) as err:
        ownership.ensure_safe_dir(str(squatted / "static"), "static_dir")
    assert str(squatted) in str(err.value)
    assert not os.path.exists(str(squatted / "static"))  # nothing created below it


def test_symlinks_are_followed_and_their_directory_checked(tmp_path):
    evil = mkdir(tmp_path / "evil", 0o755, NOBODY)
    mkdir(evil / "static", 0o700)
    (tmp_path / "link").symlink_to(str(evil / "static"))
    with pytest.raises(UnsafePath) as err:
        ownership.check_path(str(tmp_path / "link" / "lib"), "static_dir")
    assert str(evil) in str(err.value)
    good = mkdir(tmp_path / "good", 0o700)
    (good / "rel").symlink_to("../good")
    assert ownership.check_path(str(good / "rel" / "x"), "static_dir").deepest == str(good)
    # the link itself sits in a directory another user may write: it could be swapped
    (evil / "to-good").symlink_to(str(good))
    with pytest.raises(UnsafePath):
        ownership.check_path(str(evil / "to-good"), "static_dir")


def test_check_tree_refuses_a_writable_or_foreign_file(tmp_path):
    root = mkdir(tmp_path / "copy", 0o700)
    f = root / "run.py"
    f.write_text("print(1)\n")
    ownership.check_tree(str(root), "copy")
    os.chmod(str(f), 0o666)
    with pytest.raises(UnsafePath) as err:
        ownership.check_tree(str(root), "copy")
    assert "run.py" in str(err.value)
    os.chmod(str(f), 0o644)
    os.chown(str(f), NOBODY, 0)
    with pytest.raises(UnsafePath):
        ownership.check_tree(str(root), "copy")


def test_check_tree_skips_a_file_that_goes_away_during_the_walk(tmp_path, monkeypatch):
    # CI flake, stop 27: the exit command (python run.py, started by conmon when a container stops)
    # writes its pycs in the engine copy under a temporary name and renames them; a task's
    # check_tree listed that name, then lstat raised FileNotFoundError and the task failed
    root = mkdir(tmp_path / "copy", 0o700)
    (root / "run.py").write_text("print(1)\n")
    real_walk = os.walk

    def walk_with_a_vanished_entry(top):
        for dirpath, dirnames, filenames in real_walk(top):
            yield dirpath, dirnames, filenames + ["mod.cpython-311.pyc.140105695993616"]

    monkeypatch.setattr(ownership.os, "walk", walk_with_a_vanished_entry)
    ownership.check_tree(str(root), "copy")
    os.chmod(str(root / "run.py"), 0o666)
    with pytest.raises(UnsafePath):
        ownership.check_tree(str(root), "copy")
