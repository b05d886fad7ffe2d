# SPDX-License-Identifier: GPL-3.0-or-later
"""Where an operation's time goes: wraps engine functions in this process (bench only; the
engine files are not touched) and sums the time spent in each per operation.

Phases are inclusive (a phase that calls another counts its time too) and are only the ones
listed in ``ENGINE_PHASES``; "other" is the rest of the operation (Python, DB reads, locking).
"""
from __future__ import annotations

import functools
import statistics
import subprocess
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from common import PKG

#: the OCI runtime's own share of a create+start (issue 20: create+start <= 1.3 x these two)
CONMON_CREATE = "conmon + runtime create"
RUNTIME_START = "runtime start"
#: after a start the container module checks for an early exit: until the process tree sleeps or exits (at most 0.2 s)
EARLY_EXIT = "early-exit check (until the process tree sleeps or exits, at most 0.2 s)"
# (module, class or None, attribute, label); the order is the report's order; a module path that
# does not import any more fails install() loudly (the engine was reorganised into packages once)
ENGINE_PHASES: List[Tuple[str, Optional[str], str, str]] = [
    ("reconcile.container", None, "create_container", "create_container (DB record, lock, storage dirs)"),
    ("engine.objects.container", "Container", "_mount_rootfs", "rootfs mount (overlay)"),
    ("engine.objects.container", "Container", "_setup_network", "network setup (netns, veth, IPAM, nft)"),
    ("engine.objects.container", "Container", "_write_etc_files", "/etc files (hosts, resolv.conf, ...)"),
    ("engine.objects.container", "Container", "_generate_spec", "OCI spec generation"),
    ("engine.oci.spec", None, "write_config_json", "config.json write"),
    ("engine.objects.container", "Container", "_exit_command", "exit command (engine copy + argv)"),
    ("engine.oci.driver", "OCIRuntime", "create", CONMON_CREATE),
    ("engine.oci.driver", "OCIRuntime", "start", RUNTIME_START),
    ("engine.objects.container", "Container", "exited_early", EARLY_EXIT),
    ("engine.oci.driver", "OCIRuntime", "stop", "runtime stop (signal, wait)"),
    ("engine.oci.driver", "OCIRuntime", "delete", "runtime delete"),
    ("engine.oci.driver", None, "wait_pid_gone", "waiting for a pid to exit (container, conmon)"),
    ("engine.objects.container", "Container", "_teardown_network", "network teardown"),
    ("engine.storage.rootfs", "RootfsStore", "unmount", "rootfs unmount"),
    ("engine.storage.rootfs", "RootfsStore", "remove", "storage removal"),
    ("engine.store.state", "State", "save_state", "DB state writes"),
    ("engine.store.events", "Eventer", "write", "events log"),
    ("engine.objects.container", "Container", "inspect", "inspect (result object)"),
]
SPAWNS = "process spawns (count)"
SPAWN_TIME = "process spawn (fork/exec) time"
TOP = "__top_level_phases"


class PhaseTimer:
    """Patch once; then ``with timer.op(): ...`` records the time per phase of that operation."""

    def __init__(self) -> None:
        self.ops: Dict[str, List[Dict[str, float]]] = {}
        self._cur: Optional[Dict[str, float]] = None
        self._depth = 0
        self._undo: List[Tuple[Any, str, Any]] = []

    def _wrap(self, fn: Callable, label: str) -> Callable:
        timer = self

        @functools.wraps(fn)
        def wrapper(*a, **kw):
            cur = timer._cur
            if cur is None:
                return fn(*a, **kw)
            top = timer._depth == 0
            timer._depth += 1
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                dt = time.perf_counter() - t0
                timer._depth -= 1
                cur[label] = cur.get(label, 0.0) + dt
                if top:
                    cur[TOP] = cur.get(TOP, 0.0) + dt

        return wrapper

    def install(self) -> PhaseTimer:
        import importlib

        for mod_name, cls_name, attr, label in ENGINE_PHASES:
            mod = importlib.import_module("%s.%s" % (PKG, mod_name))
            owner = getattr(mod, cls_name) if cls_name else mod
            orig = getattr(owner, attr, None)
            if orig is None:  # the engine changed: that phase is simply not reported
                continue
            self._undo.append((owner, attr, orig))
            setattr(owner, attr, self._wrap(orig, label))
        orig_exec = subprocess.Popen._execute_child
        timer = self

        def execute_child(popen_self, *a, **kw):
            cur = timer._cur
            t0 = time.perf_counter()
            try:
                return orig_exec(popen_self, *a, **kw)
            finally:
                if cur is not None:
                    cur[SPAWNS] = cur.get(SPAWNS, 0) + 1
                    cur[SPAWN_TIME] = cur.get(SPAWN_TIME, 0.0) + time.perf_counter() - t0

        self._undo.append((subprocess.Popen, "_execute_child", orig_exec))
        subprocess.Popen._execute_child = execute_child
        return self

    def uninstall(self) -> None:
        for owner, attr, orig in reversed(self._undo):
            setattr(owner, attr, orig)
        self._undo = []

    def op(self, name: str):
        timer = self

        class _Op:
            def __enter__(self):
                timer._cur = {}
                timer._depth = 0
                self.t0 = time.perf_counter()
                return self

            def __exit__(self, *exc):
                cur = timer._cur
                cur["total"] = time.perf_counter() - self.t0
                timer._cur = None
                timer.ops.setdefault(name, []).append(cur)
                return False

        return _Op()

    def table(self, name: str) -> List[Dict[str, Any]]:
        """Median per phase over the operations called ``name`` (ms; spawns as a count)."""
        runs = self.ops.get(name, [])
        if not runs:
            return []
        labels = list(dict.fromkeys(p[3] for p in ENGINE_PHASES)) + [SPAWN_TIME, SPAWNS]
        rows = []
        for label in labels:
            vals = [r.get(label, 0.0) for r in runs]
            if not any(vals):
                continue
            med = statistics.median(vals)
            rows.append({"phase": label, "median": round(med if label == SPAWNS else med * 1e3, 2),
                         "unit": "count" if label == SPAWNS else "ms"})
        # "other": what no listed phase covers (phases called inside another one count once)
        other = [r["total"] - r.get(TOP, 0.0) for r in runs]
        rows.append({"phase": "other (Python, DB reads, locks, unlisted steps)",
                     "median": round(statistics.median(other) * 1e3, 2), "unit": "ms"})
        rows.append({"phase": "total", "median": round(statistics.median(r["total"] for r in runs) * 1e3, 2),
                     "unit": "ms"})
        return rows
