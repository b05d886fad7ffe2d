# SPDX-License-Identifier: GPL-3.0-or-later
"""One translation of memory/cpus/pids for create and in-place update (issue 12, issue 14 item 4)."""
from __future__ import annotations

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci.resources import (
    linux_resources,
    update_steps,
)

M = 1024 * 1024
KW = {"default_pids_limit": 2048, "swap_accounting": True}


def _apply_v1(steps, limit, swap):
    """Play the payloads on a model of the v1 kernel check, in both write orders."""
    for order in (("limit", "swap"), ("swap", "limit")):
        cur = {"limit": limit, "swap": swap}
        for step in steps:
            mem = step.get("memory", {})
            for key in order:
                if key in mem:
                    cur[key] = float("inf") if mem[key] == -1 else mem[key]
                    assert cur["limit"] <= cur["swap"], (steps, order, cur)
        yield cur


def test_create_has_floor_swap_and_default_pids():
    assert linux_resources({"memory": 64 * M, "cpus": 1.5}, **KW) == {
        "memory": {"limit": 64 * M, "swap": 128 * M},
        "cpu": {"quota": 150000, "period": 100000},
        "pids": {"limit": 2048}}
    with pytest.raises(InvalidArg, match="minimum is 6m"):
        linux_resources({"memory": 5 * M}, **KW)


@pytest.mark.parametrize("old,new", [(64, 256), (256, 64), (None, 64), (64, None), (6, 4096)])
def test_update_orders_memory_and_swap_for_v1(old, new):
    steps = update_steps({"memory": old and old * M}, {"memory": new and new * M}, **KW)
    inf = float("inf")
    start = (old * M, 2 * old * M) if old else (inf, inf)
    want = {"limit": new * M, "swap": 2 * new * M} if new else {"limit": inf, "swap": inf}
    for end in _apply_v1(steps, *start):
        assert end == want


def test_update_matches_create_and_lifts_dropped_limits():
    steps = update_steps({"memory": 64 * M, "cpus": 1.0, "pids_limit": 10}, {"pids_limit": None}, **KW)
    merged = {}
    for s in steps:
        merged.update(s)
    assert merged == {"memory": {"limit": -1, "swap": -1}, "cpu": {"quota": -1, "period": 100000},
                      "pids": {"limit": 2048}}
    assert update_steps({"memory": 64 * M}, {"memory": 64 * M}, **KW) == []
    assert update_steps({}, {"memory": 64 * M}, default_pids_limit=0, swap_accounting=False) == [
        {"memory": {"limit": 64 * M}}]
    with pytest.raises(InvalidArg, match="minimum is 6m"):
        update_steps({}, {"memory": M}, **KW)
