# SPDX-License-Identifier: GPL-3.0-or-later
"""Reader for conmon's k8s-file container logs (what ``podman logs`` shows).

conmon writes one record per read buffer: ``<RFC3339Nano time> <stdout|stderr> <F|P> <data>``.
``P`` (partial) records are pieces of a line that had no newline yet; the line ends with the
next ``F`` record of the same stream. Readers must join them, or one long line shows up as
many. ``tail`` reads the file backwards in growing blocks, so a small tail of a large log
stays cheap.
"""
from __future__ import annotations

import calendar
import os
import re
from typing import BinaryIO, Dict, List, Optional, Tuple

_TIME_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)$")

#: first block size for tail reads; doubled until enough whole lines are in it
_TAIL_BLOCK = 16384


def parse_time(ts: str) -> float:
    """Seconds since the epoch for a conmon/RFC3339 timestamp (nanoseconds kept as a fraction).

    datetime.fromisoformat cannot read 9 fraction digits before Python 3.11.
    """
    m = _TIME_RE.fullmatch(ts)
    if not m:
        raise ValueError("not an RFC3339 timestamp: %r" % ts)
    year, mon, day, hh, mm, ss, frac, tz = m.groups()
    secs = calendar.timegm((int(year), int(mon), int(day), int(hh), int(mm), int(ss), 0, 0, 0))
    if tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        tz = tz[1:].replace(":", "")
        secs -= sign * (int(tz[:2]) * 3600 + int(tz[2:]) * 60)
    return secs + (float("0." + frac) if frac else 0.0)


def _parse_record(raw: bytes) -> Optional[Tuple[str, str, bool, str]]:
    """(time, stream, partial, data) of one log record, None if it is not one."""
    parts = raw.split(b" ", 3)
    if len(parts) < 3 or parts[2] not in (b"F", b"P") or parts[1] not in (b"stdout", b"stderr"):
        return None
    data = parts[3] if len(parts) == 4 else b""
    return parts[0].decode("ascii", "replace"), parts[1].decode(), parts[2] == b"P", data.decode("utf-8", "replace")


def _join(raw_lines: List[bytes]) -> Tuple[List[Dict[str, str]], List[int]]:
    """Join partial records into whole lines, per stream.

    Returns the lines (in the order they were completed) and the index of the first line
    of each stream: that one may be truncated when ``raw_lines`` does not start at the
    beginning of the file.
    """
    out: List[Dict[str, str]] = []
    pending: Dict[str, List[str]] = {}
    pending_ts: Dict[str, str] = {}
    first: Dict[str, int] = {}
    for raw in raw_lines:
        rec = _parse_record(raw)
        if rec is None:
            continue
        ts, stream, partial, data = rec
        if partial:
            pending.setdefault(stream, []).append(data)
            pending_ts[stream] = ts
            continue
        first.setdefault(stream, len(out))
        out.append({"time": ts, "stream": stream, "line": "".join(pending.pop(stream, ())) + data})
    # a line still open at the end (container exited without a newline, or still writing)
    for stream, chunks in pending.items():
        first.setdefault(stream, len(out))
        out.append({"time": pending_ts[stream], "stream": stream, "line": "".join(chunks)})
    return out, sorted(first.values())


def read_k8s_log(path: str, tail: Optional[int] = None) -> List[Dict[str, str]]:
    """Whole lines of a k8s-file log: ``[{"time", "stream", "line"}]``, oldest first.

    ``time`` is the RFC3339Nano stamp of the record that completed the line (as podman
    shows it); ``line`` has no trailing newline. ``tail=N`` keeps the last N lines
    (``0`` gives none, ``None`` all). A missing file reads as no lines.
    """
    if tail is not None and tail <= 0:
        return []
    try:
        with open(path, "rb") as f:
            if tail is None:
                return _join(f.read().splitlines())[0]
            return _tail(f, tail)
    except FileNotFoundError:
        return []


def _tail(f: BinaryIO, tail: int) -> List[Dict[str, str]]:
    """The last ``tail`` whole lines, reading backwards in growing blocks."""
    size = os.fstat(f.fileno()).st_size
    block = _TAIL_BLOCK
    while True:
        start = max(0, size - block)
        f.seek(start)
        raw = f.read(size - start).splitlines()
        if start > 0 and raw:
            raw = raw[1:]  # the block starts mid-record
        lines, firsts = _join(raw)
        # only the first line of each stream may miss chunks from before the block
        if start == 0 or (firsts and firsts[-1] < len(lines) - tail):
            return lines[-tail:]
        block *= 4


def since_filter(lines: List[Dict[str, str]], since: float) -> List[Dict[str, str]]:
    """The lines logged at or after ``since`` (epoch seconds); unreadable stamps are kept."""
    out = []
    for ln in lines:
        try:
            if parse_time(ln["time"]) < since:
                continue
        except ValueError:
            pass
        out.append(ln)
    return out


_DURATION_RE = re.compile(r"^(?:(\d+(?:\.\d+)?)(h|ms|m|s))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_since(value: str, now: float) -> float:
    """podman logs --since: an RFC3339 time, a date ``YYYY-MM-DD``, epoch seconds, or a Go duration
    (``10m``, ``1h30m``) meaning that long before ``now``. Raises ValueError naming the forms."""
    text = str(value).strip()
    if _DURATION_RE.match(text):
        return now - sum(float(n) * _UNIT[u] for n, u in _DURATION_PART.findall(text))
    if re.match(r"^\d+(\.\d+)?$", text):
        return float(text)
    if re.match(r"^\d{4}-\d\d-\d\d$", text):
        text += "T00:00:00Z"
    try:
        return parse_time(text)
    except ValueError:
        raise ValueError("%r is not a time: give an RFC3339 time (2024-05-01T10:00:00Z), a date, epoch "
                         "seconds or a duration such as 10m or 1h30m" % value)
