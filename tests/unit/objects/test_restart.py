# SPDX-License-Identifier: GPL-3.0-or-later
"""Restart-policy backoff (issue 14 item 9)."""
from __future__ import annotations

from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.restart import (
    FIRST_DELAY_MS,
    MAX_DELAY_MS,
    RESET_AFTER_S,
    next_delay_ms,
)


def test_delay_doubles_from_100ms_and_is_capped():
    delays, prev = [], 0
    for _i in range(12):
        prev = next_delay_ms(prev, 0.01)
        delays.append(prev)
    assert delays[:5] == [100, 200, 400, 800, 1600]
    assert delays[-1] == MAX_DELAY_MS and max(delays) == MAX_DELAY_MS


def test_a_long_run_resets_the_delay():
    assert next_delay_ms(6400, RESET_AFTER_S) == FIRST_DELAY_MS
    assert next_delay_ms(6400, RESET_AFTER_S - 0.5) == 12800
