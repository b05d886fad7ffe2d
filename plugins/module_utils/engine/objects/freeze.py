# SPDX-License-Identifier: GPL-3.0-or-later
"""Pause, unpause and kill one container (libpod's Pause / Unpause / Kill), for a pod's
``state: paused / unpaused / killed``.

Each returns whether it acted, so that a pod already in the asked state is no change: pausing a
container that does not run, resuming one that is not paused, or signalling one that does not run
does nothing. Freezing goes through the OCI runtime (``pause`` / ``resume``: the cgroup freezer).
"""
from __future__ import annotations

from ..base.errors import CtrStateInvalid
from ..base.status import PAUSED, RUNNING, STOPPING
from ..host.proc import wait_pid_gone
from ..parse.values import format_signal


def _need_cgroup(ctr, what: str) -> None:
    if not ctr.has_cgroup():
        raise CtrStateInvalid("cannot %s container %s: it has no cgroup to freeze (rootless on cgroup v1)"
                              % (what, ctr.name), hint="use cgroup v2 for rootless pause, or stop the pod instead")


def pause(ctr) -> bool:
    """Freeze a running container; False when it does not run (or is paused already)."""
    with ctr.locked():
        ctr.sync()
        if ctr.status != RUNNING:
            return False
        _need_cgroup(ctr, "pause")
        ctr.oci().pause(ctr.id)
        ctr.state["status"] = PAUSED
        ctr.save()
        ctr._event("pause")
    return True


def unpause(ctr) -> bool:
    """Thaw a paused container; False when it is not paused."""
    with ctr.locked():
        ctr.sync()
        if ctr.status != PAUSED:
            return False
        ctr.oci().resume(ctr.id)
        ctr.state["status"] = RUNNING
        ctr.save()
        ctr._event("unpause")
    return True


def kill(ctr, signal: int, wait: float) -> bool:
    """Send ``signal`` to a running (or paused: thawed after the signal, so it is delivered) container
    and wait up to ``wait`` s for it to exit; False when it does not run. As podman's kill, it counts
    as stopped by the user: no restart policy brings it back."""
    with ctr.locked():
        ctr.sync()
        st = ctr.state
        if st["status"] not in (RUNNING, PAUSED, STOPPING):
            return False
        pid = int(st.get("pid") or 0)
        oci = ctr.oci()
        st["stopped_by_user"] = True
        ctr.save()
        try:
            oci.kill(ctr.id, signal)
        except CtrStateInvalid:
            pass  # it exited meanwhile: the sync below records it
        if st["status"] == PAUSED:
            oci.resume(ctr.id)
            st["status"] = RUNNING
            ctr.save()
        ctr._event("kill", attributes={"signal": format_signal(signal)})
        if pid and wait > 0 and wait_pid_gone(pid, wait):
            oci.wait_exit(ctr.id, 5)  # conmon writes the exit file right after the process is gone
        ctr.sync()
    return True
