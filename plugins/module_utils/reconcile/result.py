# SPDX-License-Identifier: GPL-3.0-or-later
"""What a reconcile returns to a module: changed, actions, the object, the diff."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class Result:
    """What a reconcile did or would do: the module result before it is shaped for Ansible."""

    kind: str                                   # container, pod, volume, ...
    changed: bool = False
    actions: List[str] = field(default_factory=list)
    obj: Dict[str, Any] = field(default_factory=dict)
    before: Dict[str, Any] = field(default_factory=dict)
    after: Dict[str, Any] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)
    extra: Dict[str, Any] = field(default_factory=dict)
    #: a stack run's pod step: {member: {"pod", "config", "running"}} of the members it declares that a pod
    #: recreate removed (or would remove) with the old pod, for their container step (reconcile/stack.py REPLACED)
    handed: Dict[str, Any] = field(default_factory=dict)

    def act(self, action: str) -> None:
        self.actions.append(action)
        self.changed = True

    def as_module_result(self, diff: bool) -> Dict[str, Any]:
        out: Dict[str, Any] = {"changed": self.changed, "actions": self.actions, self.kind: self.obj}
        out.update(self.extra)
        if diff and (self.before or self.after):
            out["diff"] = {"before": self.before, "after": self.after}
        return out


def short(obj_id: Optional[str]) -> str:
    return (obj_id or "")[:12]


def human_size(n: float) -> str:
    """Bytes as podman prints them (decimal units)."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1000.0
    return str(n)


def pull_summary(img: Any, seconds: float) -> str:
    """What a pull brought, for ``actions``: a task shows no progress while it runs (use async/poll),
    so its result says what it fetched and how long it took."""
    return "%s, digest %s, %d layer(s), %s, in %.1f s" % (short(img.id), img.digest, len(img.layers),
                                                          human_size(img.size), seconds)
