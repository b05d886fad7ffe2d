# SPDX-License-Identifier: GPL-3.0-or-later
"""Per-scenario results of the fault suite, printed as one table at the end of the session.

A scenario is one fault (a crash point, a concurrency run, a reboot, a hostile input set, ...).
Each test records how many runs it made of the scenario, whether the host converged after each
(the declared state holds and a repeated run changes nothing), how many of our objects were left
on the host without a reason (see leaks.py) and how many pieces of volume data went missing.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from typing import Dict, List


@dataclass
class Row:
    scenario: str
    runs: int = 0
    converged: int = 0
    leaked: int = 0
    lost: int = 0
    notes: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.runs > 0 and self.converged == self.runs and not self.leaked and not self.lost


class Report:
    """Collects rows across the session (tests run in one process)."""

    def __init__(self) -> None:
        self.rows: Dict[str, Row] = {}
        self._lock = threading.Lock()

    def record(self, scenario: str, *, converged: bool, leaked: int = 0, lost: int = 0,
               note: str = "") -> None:
        with self._lock:
            row = self.rows.setdefault(scenario, Row(scenario))
            row.runs += 1
            row.converged += int(bool(converged))
            row.leaked += leaked
            row.lost += lost
            if note:
                row.notes.append(note[:300])

    def add(self, scenario: str, *, leaked: int = 0, lost: int = 0, note: str = "") -> None:
        """Leaks or losses measured once for several runs of a scenario (no run of its own)."""
        with self._lock:
            row = self.rows.setdefault(scenario, Row(scenario))
            row.leaked += leaked
            row.lost += lost
            if note:
                row.notes.append(note[:300])

    def table(self) -> str:
        rows = sorted(self.rows.values(), key=lambda r: r.scenario)
        width = max([len("scenario")] + [len(r.scenario) for r in rows])
        head = "%-*s  %4s  %9s  %6s  %4s" % (width, "scenario", "runs", "converged", "leaked", "lost")
        lines = [head, "-" * len(head)]
        for r in rows:
            row = (width, r.scenario, r.runs, r.converged, r.runs, r.leaked, r.lost, "" if r.ok else "  <-- FAIL")
            lines.append("%-*s  %4d  %4d/%-4d  %6d  %4d%s" % row)
        total = Row("total", sum(r.runs for r in rows), sum(r.converged for r in rows),
                    sum(r.leaked for r in rows), sum(r.lost for r in rows))
        lines.append("-" * len(head))
        label = "total (%d scenarios)" % len(rows)
        lines.append("%s  %4d  %4d/%-4d  %6d  %4d" % (label.ljust(width), total.runs, total.converged, total.runs,
                                                      total.leaked, total.lost))
        return "\n".join(lines)

    def failures(self) -> List[Row]:
        return [r for r in self.rows.values() if not r.ok]

    def dump(self, path: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            json.dump([asdict(r) for r in sorted(self.rows.values(), key=lambda r: r.scenario)], f, indent=1)


#: the session's report (one pytest process)
REPORT = Report()
