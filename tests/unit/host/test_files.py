"""host.files: write_atomic (the one atomic file replacement of the engine) and remove_file."""
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.host.files import remove_file, write_atomic


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def test_new_file_gets_the_mode_and_content(tmp_path):
    path = str(tmp_path / "f")
    write_atomic(path, "text", mode=0o600)
    assert _read(path) == b"text"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    write_atomic(path, b"\x00bytes", fsync=True)
    assert _read(path) == b"\x00bytes"
    assert os.listdir(str(tmp_path)) == ["f"]


def test_keep_existing_mode_and_owner(tmp_path):
    path = str(tmp_path / "conf")
    with open(path, "w") as f:
        f.write("old")
    os.chmod(path, 0o640)
    if os.geteuid() == 0:
        os.chown(path, 0, 65534)
    before = os.stat(path)
    write_atomic(path, "new", keep_existing=True)
    after = os.stat(path)
    assert _read(path) == b"new"
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert after.st_ino != before.st_ino  # replaced, not rewritten in place


def test_a_planted_symlink_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    os.symlink(str(victim), tmp_path / "f")
    write_atomic(str(tmp_path / "f"), "mine")
    assert victim.read_text() == "keep me"
    assert not os.path.islink(tmp_path / "f") and (tmp_path / "f").read_text() == "mine"


def test_failure_leaves_no_temp_file(tmp_path):
    (tmp_path / "d").mkdir()  # renaming a file over a directory fails
    with pytest.raises(OSError):
        write_atomic(str(tmp_path / "d"), "x")
    assert sorted(os.listdir(str(tmp_path))) == ["d"]
    with pytest.raises(TypeError):
        write_atomic(str(tmp_path / "g"), 42)  # type: ignore[arg-type]
    assert sorted(os.listdir(str(tmp_path))) == ["d"]


def test_remove_file_says_whether_something_was_there(tmp_path):
    path = tmp_path / "f"
    path.write_text("x")
    assert remove_file(str(path)) is True and not path.exists()
    assert remove_file(str(path)) is False
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError):
        remove_file(str(tmp_path / "d"))
