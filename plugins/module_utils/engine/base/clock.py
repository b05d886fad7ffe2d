# SPDX-License-Identifier: GPL-3.0-or-later
"""Timestamps as podman prints them (created, started, finished, events).

Here, not in store/events.py, so that a task that writes no event does not load the events log
to stamp a record (issue 20).
"""
from __future__ import annotations

import time
from typing import Optional


def rfc3339_nano(ts: Optional[float] = None) -> str:
    """Local time with nanoseconds and numeric offset, as podman prints it."""
    ts = time.time() if ts is None else ts
    lt = time.localtime(ts)
    off = lt.tm_gmtoff
    sign = "+" if off >= 0 else "-"
    off = abs(off)
    nanos = int(round((ts - int(ts)) * 1e9))
    if nanos >= 1_000_000_000:
        nanos = 999_999_999
    return "%s.%09d%s%02d:%02d" % (time.strftime("%Y-%m-%dT%H:%M:%S", lt), nanos, sign, off // 3600,
                                   (off % 3600) // 60)
