# SPDX-License-Identifier: GPL-3.0-or-later
"""treecopy: idempotent by content, never writes through a symlink, never leaves the root."""
from __future__ import annotations

import functools
import os

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import StorageError
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.paths import secure_join
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.treecopy import CopyOptions, copy_tree


def _setup(tmp_path):
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    (root / "etc").mkdir(parents=True)
    outside.mkdir()
    (outside / "victim").write_text("keep")
    os.symlink(str(outside), str(root / "abs"))          # absolute link out of the root
    os.symlink("../../outside/victim", str(root / "etc" / "rel"))  # relative link out of the root
    src = tmp_path / "src"
    src.write_text("new")
    return str(root), outside, str(src)


def test_links_in_the_destination_resolve_inside_the_root(tmp_path):
    root, outside, src = _setup(tmp_path)
    resolve = functools.partial(secure_join, root)
    # /abs -> <tmp>/outside, looked up inside the root: a directory that does not exist there
    with pytest.raises(StorageError, match="does not exist"):
        copy_tree(src, "/abs/victim", resolve, CopyOptions())
    assert (outside / "victim").read_text() == "keep"
    copy_tree(src, "/etc/rel", resolve, CopyOptions())
    assert (outside / "victim").read_text() == "keep"
    assert not os.path.islink(os.path.join(root, "etc", "rel"))  # the link was replaced, not followed


def test_second_copy_changes_nothing_and_mode_counts(tmp_path):
    root, _outside, src = _setup(tmp_path)
    resolve = functools.partial(secure_join, root)
    assert copy_tree(src, "/etc/f", resolve, CopyOptions(mode=0o600)) == ["/etc/f"]
    assert copy_tree(src, "/etc/f", resolve, CopyOptions(mode=0o600)) == []
    assert copy_tree(src, "/etc/f", resolve, CopyOptions(mode=0o644, check_mode=True)) == ["/etc/f"]
    assert os.stat(os.path.join(root, "etc", "f")).st_mode & 0o777 == 0o600
    with open(src, "w") as f:
        f.write("newer")
    assert copy_tree(src, "/etc/f", resolve, CopyOptions(mode=0o600, force=False)) == []
