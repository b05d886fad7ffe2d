# SPDX-License-Identifier: GPL-3.0-or-later
"""Shifting owners through a mapping: every entry, links not followed, setuid kept, unmapped → overflow."""
from __future__ import annotations

import os

from ansible_collections.libpod.engine.plugins.module_utils.engine.host.idshift import OVERFLOW_ID, shift_tree
from ansible_collections.libpod.engine.plugins.module_utils.engine.parse.idmap import IDMap


def test_shift_tree(tmp_path):
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    tool = root / "bin" / "tool"
    tool.write_text("x")
    os.chown(tool, 0, 0)
    os.chmod(tool, 0o4755)  # (after the chown: a chown clears it, also root's)
    user = root / "home"
    user.mkdir()
    os.chown(user, 1000, 1000)
    outside = tmp_path / "outside"
    outside.write_text("host file")
    os.symlink(str(outside), str(root / "link"))
    stray = root / "stray"
    stray.write_text("")
    os.chown(stray, 70000, 70000)

    uids, gids = [IDMap(0, 200000, 65536)], [IDMap(0, 300000, 65536)]
    assert shift_tree(str(root), uids, gids) == 5
    st = os.stat(tool)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (200000, 300000, 0o4755)
    assert (os.stat(user).st_uid, os.stat(user).st_gid) == (201000, 301000)
    assert os.lstat(root / "link").st_uid == 200000 and os.stat(outside).st_uid == 0  # link itself, not its target
    assert os.stat(stray).st_uid == OVERFLOW_ID
    assert os.stat(root).st_uid == 200000
