# SPDX-License-Identifier: GPL-3.0-or-later
"""Open a runtime and run what libpod leaves to makeRuntime's callers.

Runtime.open only composes the engine (config, DB, locks, OCI table). A session on top of it:
refreshes after a reboot (once per boot, under the alive lock), repairs mutations a killed
process left half-done (the journal), and runs the reset / renumber / migrate the caller asked
for in OpenOptions. Every module and the exit command open their runtime here.
"""
from __future__ import annotations

import os
from typing import List, Optional

from ..base import faults
from ..base.errors import EngineError
from ..host.files import write_atomic
from ..runtime import OpenOptions, Runtime
from ..store.locks import Lock


def open_runtime(options: Optional[OpenOptions] = None) -> Runtime:
    """Runtime.open, then refresh after a reboot, journal repair and the asked-for admin operation."""
    opts = options or OpenOptions()
    rt = Runtime.open(opts)
    if not (opts.reset or opts.renumber):
        check_num_locks(rt)
    if rt.read_only:
        if opts.renumber or opts.migrate:
            _admin(rt, opts)
        return rt
    ensure_refreshed(rt)
    if not opts.reset and faults.any_pending(rt.state):
        rt.repaired = repair_interrupted(rt)  # a killed process left a mutation half-done
    _admin(rt, opts)
    return rt


def check_num_locks(rt: Runtime) -> None:
    """libpod refuses a lock manager whose size changed without ``system renumber``; file locks
    keep working, so the same finding is a warning that says what happened and what to run."""
    n = rt.locks.num_locks
    top = rt.locks.highest()
    if top < n:
        return
    rt.warnings.append(
        "[engine] num_locks = %d (from %s), but objects hold lock numbers up to %d: num_locks was changed "
        "without renumbering the locks (new objects get numbers below %d, and creating one fails once those "
        "run out); run libpod.engine.runtime_config with renumber: true (force: true while containers run), "
        "or set num_locks back to at least %d" % (n, rt.cfg.source("engine", "num_locks"), top, n, top + 1))


def _admin(rt: Runtime, opts: OpenOptions) -> None:
    if not (opts.reset or opts.renumber or opts.migrate):
        return  # the common case: admin.py (subprocess, signal, mounts) stays unimported
    from .admin import migrate, renumber, reset  # noqa: PLC0415 - rare paths

    if opts.reset:
        if not rt.read_only:
            rt.admin_result = reset(rt, timeout=opts.stop_timeout)
        return  # as libpod: no usable runtime after a reset
    if opts.renumber:
        rt.admin_result = renumber(rt, check=rt.read_only)
    if opts.migrate:
        rt.admin_result = migrate(rt, opts.migrate_runtime, check=rt.read_only)


def ensure_refreshed(rt: Runtime) -> None:
    """Reboot detection: no alive file in the (tmpfs) tmp dir means a fresh boot; refresh once."""
    alive = rt.alive_path
    if os.path.exists(alive):  # written only after a finished refresh
        return
    lock = Lock(os.path.join(rt.tmp_dir, "alive.lck"), 0)
    with lock:
        if os.path.exists(alive):
            return  # another process refreshed while we waited
        from .refresh import refresh  # noqa: PLC0415 - once per boot

        refresh(rt)
        write_atomic(alive, b"")
        rt.refreshed = True


def repair_interrupted(rt: Runtime) -> List[str]:
    """repair.repair (imported only when the journal is not empty); never fails the open."""
    from .repair import repair  # noqa: PLC0415 - only after a killed process

    try:
        return repair(rt)
    except EngineError as exc:
        rt.warnings.append("repairing interrupted operations failed: %s" % exc)
        return []
