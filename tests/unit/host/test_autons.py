# SPDX-License-Identifier: GPL-3.0-or-later
"""userns: auto blocks: first fit inside the granted ranges, never over another container's block."""
from __future__ import annotations

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.autons import auto_maps, free_block, name_ranges
from ansible_collections.libpod.engine.plugins.module_utils.engine.parse.idmap import IDMap

GRANTED = [IDMap(0, 100000, 10000)]


def test_first_fit_skips_used_blocks():
    assert free_block(GRANTED, [], 1024) == 100000
    assert free_block(GRANTED, [(100000, 1024)], 1024) == 101024
    assert free_block(GRANTED, [(101024, 1024), (100000, 1024)], 2000) == 102048
    assert free_block(GRANTED, [(100500, 10)], 400) == 100000  # the gap before a block fits
    assert free_block(GRANTED, [(100500, 10)], 600) == 100510


def test_no_room_and_several_ranges():
    assert free_block(GRANTED, [(100000, 9000)], 1024) is None
    two = [IDMap(0, 100000, 1000), IDMap(1000, 500000, 5000)]
    assert free_block(two, [], 2000) == 500000  # one block never spans two ranges


def test_auto_maps_leave_holes_for_extra_mappings():
    extra = [IDMap(10, 7000, 1)]
    assert auto_maps(200000, 100, extra) == [IDMap(0, 200000, 10), IDMap(11, 200010, 89), IDMap(10, 7000, 1)]
    assert auto_maps(200000, 100, []) == [IDMap(0, 200000, 100)]


def test_name_ranges_error_names_the_file_and_the_fix(tmp_path, monkeypatch):
    sub = tmp_path / "subuid"
    sub.write_text("containers:300000:5000\n")
    monkeypatch.setenv("LIBPOD_ENGINE_SUBUID", str(sub))
    assert name_ranges("containers", "uid", "userns") == [IDMap(0, 300000, 5000)]
    with pytest.raises(InvalidArg, match="subuidname: user bob has no subordinate UIDs in %s" % sub) as e:
        name_ranges("bob", "uid", "subuidname")
    assert "usermod --add-subuids" in e.value.hint
