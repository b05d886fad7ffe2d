# SPDX-License-Identifier: GPL-3.0-or-later
"""Restart policies: which one applies to a container, and the backoff between restarts.

A member without a policy of its own follows its pod's (podman 4.4+). The backoff follows
docker's restart manager: a container that keeps crashing is restarted after 100 ms, then 200 ms,
400 ms ... up to one minute; a run of at least 10 s resets the delay. Without it a crash loop restarts the
container as fast as conmon can (about 100 times in 40 s) and floods the events log.
"""
from __future__ import annotations

from typing import Any, Dict

FIRST_DELAY_MS = 100
MAX_DELAY_MS = 60_000
RESET_AFTER_S = 10.0


def next_delay_ms(previous_ms: int, ran_for_s: float) -> int:
    """The wait before the next restart, given the previous wait and how long the last run lasted."""
    if previous_ms <= 0 or ran_for_s >= RESET_AFTER_S:
        return FIRST_DELAY_MS
    return min(previous_ms * 2, MAX_DELAY_MS)


def pod_restart_policy(ctr: Any) -> Dict[str, Any]:
    """A container's restart policy: its own, else its pod's (podman 4.4+: the pod's is the default)."""
    own = ctr.config.get("restart_policy") or {"name": "no"}
    pod_id = ctr.config.get("pod")
    if own.get("name", "no") != "no" or not pod_id:
        return own
    rec = ctr.rt.state.find("pod", pod_id)
    if rec is None or rec.id != pod_id:
        return own
    return (rec.config or {}).get("restart_policy") or own
