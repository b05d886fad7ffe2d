# SPDX-License-Identifier: GPL-3.0-or-later
"""Network mode names that every layer knows (the option table, the container object, the spec).

Not in records.py, whose record classes cost ~5 ms to build at import: a no-op task does
not import them (issue 20).
"""
from __future__ import annotations

from typing import Any, Dict, List

#: network modes served by a user-mode networking tool (engine/network/usermode.py); here so that
#: the option table and the container object know them without importing the network package
USERMODE_NETWORKS = ("pasta", "slirp4netns")


def status_ips(status: Dict[str, Any]) -> List[str]:
    """The addresses of a container's network status: its bridge networks' IPv4 addresses, then the one
    its pasta / slirp4netns gives it (a pod's members are reached at their infra's)."""
    ips = [n["ip"] for n in (status.get("networks") or {}).values() if n.get("ip")]
    if (status.get("usermode") or {}).get("ip"):
        ips.append(status["usermode"]["ip"])
    return ips
