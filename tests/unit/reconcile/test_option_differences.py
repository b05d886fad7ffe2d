# SPDX-License-Identifier: GPL-3.0-or-later
"""OptionTable.differences: the equal-specs fast path gives what comparing every option gives."""
from __future__ import annotations

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.options import (
    NOT_COMPARED,
    Option,
    OptionTable,
)


def _slow(table: OptionTable, before, after):
    """Every compared option, one by one (what differences did before its fast path)."""
    return [o.name for o in table.options if o.update != NOT_COMPARED
            and o.compare_key(before.get(o.name, o.default)) != o.compare_key(after.get(o.name, o.default))]


def _flag_key(value):
    return value is not False


TABLE = OptionTable([
    Option("a", default="x"),
    Option("flag", type="bool", default=True, compare_key=_flag_key),
    Option("n", type="int", default=0),
    Option("state", update=NOT_COMPARED),
])


@pytest.mark.parametrize("before,after", [
    ({"a": "x", "flag": True, "n": 0}, {"a": "x", "flag": True, "n": 0}),   # the no-op
    ({"a": "x", "flag": 0, "n": 0}, {"a": "x", "flag": False, "n": 0}),     # equal dicts, keys tell them apart
    ({"a": "x", "flag": None}, {"a": "x", "flag": None}),                   # missing = default, both sides
    ({"a": "y", "flag": True, "n": 1}, {"a": "x", "flag": True, "n": 0}),
    ({}, {"a": "x", "flag": True, "n": 0}),
])
def test_differences_matches_the_option_by_option_comparison(before, after):
    assert TABLE.differences(before, after) == _slow(TABLE, before, after)


def test_equal_specs_still_compare_the_keyed_options():
    assert TABLE.differences({"flag": 0}, {"flag": False}) == ["flag"]  # 0 == False, but the keys differ
    assert TABLE.differences({"flag": None}, {"flag": None}) == []


def test_container_declared_spec_against_itself_and_a_changed_copy():
    params = {o.name: None for o in OPTIONS.options}
    params.update(name="c1", image="busybox", command=["sleep", "1"], env={"A": "1"})
    declared = OPTIONS.declared(params)
    stored = {k: (list(v) if isinstance(v, tuple) else v) for k, v in declared.items()}
    assert OPTIONS.differences(stored, declared) == _slow(OPTIONS, stored, declared) == []
    changed = dict(stored, env={"A": "2"})
    assert OPTIONS.differences(changed, declared) == ["env"]
