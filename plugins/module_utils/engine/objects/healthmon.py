# SPDX-License-Identifier: GPL-3.0-or-later
"""The health monitor: one small process per container with a healthcheck (no daemon, no systemd).

Started with the container (Container start), it runs the engine CLI's ``healthcheck ID``
from the engine copy that conmon's exit command also uses, so it outlives the Ansible task.
It sleeps ``interval``, runs the check through exec (the container's process spec, with the
check's timeout), folds the result into the container's ``health`` state under the lock
(objects/health.py) and takes the ``on_failure`` action. It ends by itself when the container
is no longer running or when another monitor took over; stop/cleanup/remove kill it (checked
by its command line, so a recycled pid is never killed).
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Callable, Optional

from ..base.clock import rfc3339_nano
from ..base.errors import EngineError, OCIRuntimeError
from ..base.status import HEALTH_MONITOR_PID, RUNNING
from ..host.proc import argv, pid_alive
from ..oci.logs import parse_time
from . import health

PID_KEY = HEALTH_MONITOR_PID


def _is_monitor(pid: int, ctr_id: str) -> bool:
    args = argv(pid)
    return "healthcheck" in args and ctr_id in args


def spawn(ctr) -> int:
    """Start the monitor of ``ctr`` (lock held, container running); its pid."""
    cmd = ctr.rt.cli_command() + ["healthcheck", ctr.id]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd="/", start_new_session=True, close_fds=True)
    return proc.pid


def stop(ctr) -> None:
    """Kill the container's monitor if it still runs (never ourselves: a monitor may restart it)."""
    pid = int(ctr.state.get(PID_KEY) or 0)
    ctr.state[PID_KEY] = 0
    if pid and pid != os.getpid() and pid_alive(pid) and _is_monitor(pid, ctr.id):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def check_once(ctr, cfg) -> Optional[str]:
    """Run one check and record it (lock taken inside); the on_failure action due, if any."""
    start = time.time()
    try:
        res = ctr.exec(list(cfg["test"]), timeout=cfg["timeout"], quiet=True)
        rc, output = res.rc, (res.stdout + res.stderr).decode("utf-8", "replace")
    except OCIRuntimeError as exc:
        rc, output = 1, str(exc)
    end = time.time()
    with ctr.locked():
        ctr.sync()
        if ctr.status != RUNNING:
            return None
        st = ctr.state
        try:
            in_start = end - parse_time(st.get("started_at") or "") < float(cfg.get("start_period") or 0)
        except ValueError:
            in_start = False
        before = (st.get("health") or {}).get("Status")
        st["health"], action = health.record(st.get("health"), cfg, rc=rc, output=output.strip(),
                                             start=rfc3339_nano(start), end=rfc3339_nano(end),
                                             in_start_period=in_start)
        ctr.save()
        if st["health"]["Status"] != before:
            ctr._event("health_status", attributes={"health_status": st["health"]["Status"]})
    return action


def run(rt, ctr_id: str, find: Callable, sleep: Callable[[float], None] = time.sleep) -> int:
    """The monitor's loop (engine CLI ``healthcheck ID``)."""
    while True:
        ctr = find(rt, ctr_id)
        if ctr is None:
            return 0
        with ctr.locked():
            ctr.sync()
            if ctr.status != RUNNING or int(ctr.state.get(PID_KEY) or 0) != os.getpid():
                return 0
            cfg = ctr.health_config()
        if cfg is None:
            return 0
        sleep(float(cfg["interval"]))
        try:
            action = check_once(ctr, cfg)
            if action == "kill":
                ctr.oci().kill(ctr.id, signal.SIGKILL)
            elif action == "stop":
                ctr.stop()
            elif action == "restart":
                ctr.restart()  # starts a new monitor: this one ends at the next round
        except EngineError:
            continue  # stopped or removed meanwhile: the next round sees it
