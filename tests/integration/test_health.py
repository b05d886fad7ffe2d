# SPDX-License-Identifier: GPL-3.0-or-later
"""Image HEALTHCHECK: a per-container monitor process turns the container healthy, then unhealthy."""
from __future__ import annotations

import os
import time

from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import argvs
from ansible_collections.libpod.engine.tests.helpers.images import busybox_image, write_oci_archive

from .helpers import poll_container


def _monitors(ctr_id):
    return [pid for pid, args in argvs() if "healthcheck" in args and ctr_id in args]


def _wait_health(playbook, name, status, deadline_s=60):
    ctr = poll_container(playbook, name, "(c.State.Health | default({})).Status | default('') == %r" % status,
                         seconds=deadline_s)
    return ctr, ctr["State"].get("Health") or {}


def test_image_healthcheck_monitor_healthy_unhealthy_and_gone_after_remove(playbook, tmp_path):
    img = busybox_image(str(tmp_path), config={
        "Cmd": ["sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
        "Healthcheck": {"Test": ["CMD-SHELL", "test -e /tmp/ok && echo fine"], "Interval": 1_000_000_000,
                        "Timeout": 5_000_000_000, "Retries": 1}})
    arch = write_oci_archive(str(tmp_path / "hc.tar"), [(img, "localhost/hc:latest")])
    res = playbook([{"libpod.engine.container": {
        "name": "hc", "image": "oci-archive:" + arch, "network": "none", "stop_timeout": 1,
        "command": ["sh", "-c", "touch /tmp/ok; exec sleep 1000"]}}])
    assert res.ok, res.log
    ctr, health = _wait_health(playbook, "hc", "healthy")
    assert health.get("Status") == "healthy", ctr["State"]
    assert health["Log"][-1]["ExitCode"] == 0 and health["Log"][-1]["Output"] == "fine"
    assert len(_monitors(ctr["Id"])) == 1
    res = playbook([{"libpod.engine.container_exec": {"name": "hc", "command": ["busybox", "rm", "/tmp/ok"]}}])
    assert res.ok, res.log
    ctr, health = _wait_health(playbook, "hc", "unhealthy")
    assert health.get("Status") == "unhealthy", ctr["State"]
    assert health["FailingStreak"] >= 1 and health["Log"][-1]["ExitCode"] == 1
    res = playbook([{"libpod.engine.container": {"name": "hc", "state": "absent"}}])
    assert res.ok, res.log
    assert _monitors(ctr["Id"]) == []


def _ctr(name, img, **extra):
    # stop_timeout 1: sleep as PID 1 ignores SIGTERM, each stop would wait the default 10 s
    args = {"name": name, "image": "oci-archive:" + img, "network": "none", "healthcheck_interval": "1s",
            "healthcheck_retries": 1, "stop_timeout": 1}
    args.update(extra)
    return args


def test_state_healthy_waits_then_succeeds_or_fails_with_the_check_output(playbook, busybox_archive):
    res = playbook([
        {"name": "slow", "libpod.engine.container": _ctr(
            "slow", busybox_archive, state="healthy", healthcheck="test -e /tmp/ok",
            command=["sh", "-c", "sleep 2; touch /tmp/ok; exec sleep 1000"])},
        {"name": "never", "ignore_errors": True, "libpod.engine.container": _ctr(
            "never", busybox_archive, state="healthy", wait_healthy_timeout=4,
            healthcheck="echo not-ready; exit 1", command=["sleep", "1000"])},
        {"name": "again", "libpod.engine.container": _ctr(
            "slow", busybox_archive, state="healthy", healthcheck="test -e /tmp/ok",
            command=["sh", "-c", "sleep 2; touch /tmp/ok; exec sleep 1000"])},
    ])
    slow = res.task("slow")
    assert not slow.failed, res.log
    assert slow["container"]["State"]["Health"]["Status"] == "healthy"
    never = res.task("never")
    assert never.failed and "not healthy after 4 s" in never.msg and "not-ready" in never.msg, never.result
    assert not res.task("again").changed


def test_on_failure_restart_restarts_the_container(playbook, busybox_archive):
    res = playbook([{"name": "start", "libpod.engine.container": _ctr(
        "flaky", busybox_archive, healthcheck="test -e /tmp/never", healthcheck_on_failure="restart",
        command=["sleep", "1000"])}])
    assert res.ok, res.log
    first = res.task("start")["container"]["State"]["StartedAt"]
    ctr_id = res.task("start")["container"]["Id"]
    st = poll_container(playbook, "flaky", "c.State.StartedAt != %r and c.State.Running" % first)["State"]
    assert st["StartedAt"] != first and st["Running"], st
    deadline = time.time() + 10  # the old monitor ends at its next round, after the new one took over
    while len(_monitors(ctr_id)) > 1 and time.time() < deadline:
        time.sleep(0.5)
    assert len(_monitors(ctr_id)) == 1
    res = playbook([{"libpod.engine.container": {"name": "flaky", "state": "absent"}}])
    assert res.ok, res.log
    assert _monitors(ctr_id) == []


def test_monitor_after_a_simulated_reboot(playbook, engine_env, busybox_archive):
    from .test_reboot import simulate_reboot

    task = {"name": "up", "libpod.engine.container": _ctr(
        "boot", busybox_archive, healthcheck="true", restart_policy="always", command=["sleep", "1000"])}
    res = playbook([task])
    assert res.ok, res.log
    ctr_id = res.task("up")["container"]["Id"]
    old = _monitors(ctr_id)
    assert len(old) == 1
    for pid in old:  # a reboot ends every process, the monitor too
        os.kill(pid, 9)
    simulate_reboot(engine_env)
    res = playbook([task])  # refresh, then the always container is started again, with a new monitor
    assert res.ok, res.log
    ctr, health = _wait_health(playbook, "boot", "healthy")
    assert health.get("Status") == "healthy", ctr["State"]
    new = _monitors(ctr_id)
    assert len(new) == 1 and new != old
    res = playbook([{"libpod.engine.container": {"name": "boot", "state": "absent"}}])
    assert res.ok, res.log
    assert _monitors(ctr_id) == []
