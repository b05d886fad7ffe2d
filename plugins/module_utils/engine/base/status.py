# SPDX-License-Identifier: GPL-3.0-or-later
"""Container status values (libpod's define.ContainerStatus), by the names inspect prints."""
from __future__ import annotations

CONFIGURED = "configured"   # prints as "created": in the DB, unknown to the OCI runtime
CREATED = "created"         # prints as "initialized": runtime create done
RUNNING = "running"
STOPPED = "stopped"         # exited, runtime container not yet deleted
PAUSED = "paused"
EXITED = "exited"           # cleaned up
REMOVING = "removing"
STOPPING = "stopping"

#: state key: the PID of the container's health monitor process (0 or absent: none runs); here so
#: that a stop can check it without importing the health monitor (~15 ms)
HEALTH_MONITOR_PID = "health_monitor_pid"

DISPLAY = {CONFIGURED: "created", CREATED: "initialized"}


def display_status(status: str) -> str:
    return DISPLAY.get(status, status)
