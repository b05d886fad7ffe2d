# SPDX-License-Identifier: GPL-3.0-or-later
"""Healthcheck definitions (options over image HEALTHCHECK) and the health state machine."""
from __future__ import annotations

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects import health
from ansible_collections.libpod.engine.plugins.module_utils.engine.parse.health import (
    healthcheck_argv,
    parse_duration,
    resolve,
)

IMAGE = {"Healthcheck": {"Test": ["CMD-SHELL", "test -e /ok"], "Interval": 5_000_000_000, "Retries": 2}}


def test_test_forms():
    assert healthcheck_argv("curl -f http://localhost/") == ["/bin/sh", "-c", "curl -f http://localhost/"]
    assert healthcheck_argv(["CMD", "true"]) == ["true"]
    assert healthcheck_argv(["CMD-SHELL", "exit 0"]) == ["/bin/sh", "-c", "exit 0"]
    assert healthcheck_argv(["/bin/check", "-q"]) == ["/bin/check", "-q"]
    assert healthcheck_argv("NONE") is None and healthcheck_argv(["NONE"]) is None
    with pytest.raises(InvalidArg, match="healthcheck"):
        healthcheck_argv("")


def test_durations():
    assert parse_duration("1m30s", "x") == 90 and parse_duration("500ms", "x") == 0.5 and parse_duration(10, "x") == 10
    with pytest.raises(InvalidArg, match="healthcheck_interval"):
        parse_duration("soon", "healthcheck_interval")


def test_options_override_the_image():
    img = resolve({}, IMAGE)
    assert img["test"] == ["/bin/sh", "-c", "test -e /ok"] and img["interval"] == 5 and img["retries"] == 2
    assert img["timeout"] == 30
    mine = resolve({"healthcheck_interval": "2s", "healthcheck_on_failure": "restart"}, IMAGE)
    assert mine["interval"] == 2 and mine["on_failure"] == "restart" and mine["test"] == img["test"]
    assert resolve({"healthcheck": "NONE"}, IMAGE) is None
    assert resolve({}, {}) is None
    with pytest.raises(InvalidArg, match="healthcheck_retries"):
        resolve({"healthcheck_retries": 3}, {})
    with pytest.raises(InvalidArg, match="on_failure"):
        resolve({"healthcheck": "true", "healthcheck_on_failure": "explode"}, None)


def test_state_machine():
    cfg = {"retries": 2, "on_failure": "restart"}
    h = health.initial()
    h, act = health.record(h, cfg, rc=1, output="no", start="t0", end="t1", in_start_period=True)
    assert h["Status"] == "starting" and h["FailingStreak"] == 0 and act is None
    h, act = health.record(h, cfg, rc=0, output="ok", start="t", end="t", in_start_period=True)
    assert h["Status"] == "healthy"
    h, act = health.record(h, cfg, rc=1, output="x" * 900, start="t", end="t", in_start_period=False)
    assert h["Status"] == "healthy" and h["FailingStreak"] == 1 and act is None
    assert len(h["Log"][-1]["Output"]) == health.MAX_OUTPUT
    h, act = health.record(h, cfg, rc=1, output="gone", start="t", end="t", in_start_period=False)
    assert h["Status"] == "unhealthy" and act == "restart"
    for _i in range(5):
        h, _act = health.record(h, cfg, rc=0, output="", start="t", end="t", in_start_period=False)
    assert len(h["Log"]) == health.MAX_LOGS and h["FailingStreak"] == 0
