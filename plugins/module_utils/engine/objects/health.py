# SPDX-License-Identifier: GPL-3.0-or-later
"""Health state of a container (State.Health in inspect), after libpod's healthcheck.go.

Pure bookkeeping: :func:`record` folds one check result into the state and says whether the
container's ``on_failure`` action is due. Running the checks (a per-container monitor process)
builds on this; the state lives in the container's DB state under ``health``.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

STARTING = "starting"
HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
#: podman's MaxHealthCheckNumberLogs / MaxHealthCheckLogLength
MAX_LOGS = 5
MAX_OUTPUT = 500


def initial() -> Dict[str, Any]:
    """The health of a container that was just started."""
    return {"Status": STARTING, "FailingStreak": 0, "Log": []}


def record(health: Optional[Mapping[str, Any]], cfg: Mapping[str, Any], *, rc: int, output: str, start: str,
           end: str, in_start_period: bool) -> Tuple[Dict[str, Any], Optional[str]]:
    """(new health, on_failure action to take or None) after one check.

    Success: healthy, streak 0. Failure inside the start period: logged, not counted. Else the
    streak grows and reaching ``retries`` makes it unhealthy; the action (kill/restart/stop) is
    due at every failed check while unhealthy, as podman does.
    """
    h = dict(health or initial())
    h.setdefault("Status", STARTING)
    streak = int(h.get("FailingStreak") or 0)
    action = None
    if rc == 0:
        h["Status"], streak = HEALTHY, 0
    elif not in_start_period:
        streak += 1
        if streak >= int(cfg.get("retries") or 1):
            h["Status"] = UNHEALTHY
            if cfg.get("on_failure", "none") != "none":
                action = cfg["on_failure"]
    h["FailingStreak"] = streak
    entry = {"Start": start, "End": end, "ExitCode": rc, "Output": output[:MAX_OUTPUT]}
    h["Log"] = (list(h.get("Log") or []) + [entry])[-MAX_LOGS:]
    return h, action
