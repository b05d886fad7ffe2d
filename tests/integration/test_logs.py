# SPDX-License-Identifier: GPL-3.0-or-later
"""Logs: container_info since, and a container that dies right after its start is not silently "started"."""
from __future__ import annotations


def test_container_that_exits_at_once_warns_with_its_last_log_lines(playbook, busybox_archive):
    res = playbook([
        {"name": "dies", "libpod.engine.container": {
            "name": "dies", "image": "oci-archive:" + busybox_archive, "network": "none",
            "command": ["sh", "-c", "echo config missing >&2; exit 3"]}},
        {"name": "lives", "libpod.engine.container": {
            "name": "lives", "image": "oci-archive:" + busybox_archive, "network": "none",
            "command": ["sh", "-c", "echo up; exec sleep 1000"]}},
    ])
    assert res.ok, res.log
    warnings = res.task("dies").get("warnings") or []
    assert any("exited with code 3 right after it started" in w and "config missing" in w for w in warnings), \
        res.task("dies").result
    assert not res.task("lives").get("warnings"), res.task("lives").result


def test_info_since_filters_log_lines(playbook, busybox_archive):
    res = playbook([
        {"name": "start", "libpod.engine.container": {
            "name": "talk", "image": "oci-archive:" + busybox_archive, "network": "none",
            "command": ["sh", "-c", "echo one; echo two; exec sleep 1000"]}},
        {"name": "all", "libpod.engine.container_info": {"name": ["talk"], "since": "1h"}},
        {"name": "future", "libpod.engine.container_info": {"name": ["talk"], "since": "2999-01-01"}},
        {"name": "last", "libpod.engine.container_info": {"name": ["talk"], "since": "0", "log_lines": 1}},
        {"name": "bad", "libpod.engine.container_info": {"name": ["talk"], "since": "yesterday"},
         "ignore_errors": True},
    ])
    lines = [ln["line"] for ln in res.task("all")["containers"][0]["logs"]]
    assert lines == ["one", "two"], res.log
    assert res.task("future")["containers"][0]["logs"] == []
    assert [ln["line"] for ln in res.task("last")["containers"][0]["logs"]] == ["two"]
    assert res.task("bad").failed and "since" in res.task("bad").msg
