"""host.paths.secure_join: the one resolver of image- and user-controlled paths inside a root."""
from __future__ import annotations

import os

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import StorageError
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.paths import secure_join


def test_plain_paths(tmp_path):
    root = str(tmp_path)
    assert secure_join(root, "/etc/passwd") == os.path.join(root, "etc", "passwd")
    assert secure_join(root, "../../etc/passwd") == os.path.join(root, "etc", "passwd")
    assert secure_join(root, "/") == root
    assert secure_join(root, "") == root
    assert secure_join(root, "/a/./b/../c") == os.path.join(root, "a", "c")
    assert secure_join(root, "a//b///c") == os.path.join(root, "a", "b", "c")


def test_symlinks_stay_inside(tmp_path):
    root = tmp_path / "r"
    (root / "real").mkdir(parents=True)
    (root / "real" / "f").write_text("x")
    os.symlink("/real", root / "abs")                   # absolute: relative to the root
    os.symlink("../../../../../real", root / "up")      # climbs above root: clamped
    os.symlink("/etc", root / "hostetc")                # would be the host's /etc
    os.symlink("/etc", root / "etc")                    # names itself: a loop, as in the kernel
    os.symlink("loop2", root / "loop1")
    os.symlink("loop1", root / "loop2")
    r = str(root)
    assert secure_join(r, "/abs/f") == os.path.join(r, "real", "f")
    assert secure_join(r, "/up/f") == os.path.join(r, "real", "f")
    with pytest.raises(StorageError, match="too many symbolic links"):
        secure_join(r, "/hostetc/passwd")
    with pytest.raises(StorageError, match="too many symbolic links"):
        secure_join(r, "/loop1")
    os.unlink(root / "etc")
    assert secure_join(r, "/hostetc/passwd") == os.path.join(r, "etc", "passwd")


def test_dotdot_after_a_missing_component_stays_inside(tmp_path):
    root = str(tmp_path)
    assert secure_join(root, "/missing/../../../../etc/shadow") == os.path.join(root, "etc", "shadow")
    assert secure_join(root, "/missing/./x/..") == os.path.join(root, "missing")


def test_symlink_in_the_middle_to_the_host_root(tmp_path):
    root = tmp_path / "r"
    (root / "d").mkdir(parents=True)
    os.symlink("/", root / "d" / "slash")
    os.symlink("../../..", root / "d" / "dots")
    r = str(root)
    assert secure_join(r, "/d/slash/etc/passwd") == os.path.join(r, "etc", "passwd")
    assert secure_join(r, "/d/dots/etc/passwd") == os.path.join(r, "etc", "passwd")


def test_root_given_through_a_symlink_resolves_below_the_real_root(tmp_path):
    """The two former copies differed here (abspath vs realpath): results are under the real root."""
    (tmp_path / "real" / "etc").mkdir(parents=True)
    os.symlink(str(tmp_path / "real"), tmp_path / "link")
    got = secure_join(str(tmp_path / "link"), "/etc")
    assert got == os.path.join(str(tmp_path / "real"), "etc")
    os.symlink("/etc", tmp_path / "real" / "esc")
    assert secure_join(str(tmp_path / "link"), "/esc") == os.path.join(str(tmp_path / "real"), "etc")


def test_link_budget_is_configurable(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    os.symlink("b", root / "a")
    os.symlink("c", root / "b")
    os.symlink("d", root / "c")
    assert secure_join(str(root), "/a", max_links=3) == os.path.join(str(root), "d")
    with pytest.raises(StorageError):
        secure_join(str(root), "/a", max_links=2)
