# SPDX-License-Identifier: GPL-3.0-or-later
"""Reboot refresh (libpod runtime.refresh): run once per boot, under the alive lock.

A real reboot empties the tmpfs tmp dir and kills every process; a simulated one
(tests, or a crashed host whose /run survived partly) may leave mounts behind, so
refresh also detaches our own stale mounts before it resets per-boot state.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List

from ..host.mounts import mounts_under, umount_detach

CONMON_LEFTOVERS = ("attach", "ctl", "winsz", "oom")


def reset_container_state(state: Dict[str, Any]) -> Dict[str, Any]:
    """libpod resetState(): everything per-boot is forgotten; Exited stays Exited."""
    st = dict(state)
    st.update(pid=0, conmon_pid=0, mountpoint="", mounted=False, stopped_by_user=False,
              restart_policy_match=False, restart_count=0, restarting=False, restart_delay_ms=0, netns="",
              network_status=None, health_monitor_pid=0)
    if st.get("status") != "exited":
        st["status"] = "configured"
    return st


def retake_locks(rt) -> None:
    """AllocateAndRetrieveLock for every container and pod (volumes: VolumeManager.refresh); numbers
    whose owner is gone or holds another number now are freed."""
    with rt.state.tx() as conn:
        conn.execute("DELETE FROM locks WHERE lock_id NOT IN ("
                     "SELECT lock_id FROM containers WHERE lock_id IS NOT NULL UNION "
                     "SELECT lock_id FROM pods WHERE lock_id IS NOT NULL UNION "
                     "SELECT lock_id FROM volumes WHERE lock_id IS NOT NULL)")
        for kind, table in (("container", "containers"), ("pod", "pods")):
            for oid, lock_id in conn.execute("SELECT id, lock_id FROM %s WHERE lock_id IS NOT NULL"
                                             % table).fetchall():
                rt.locks.retrieve(lock_id, kind, oid)


def refresh(rt) -> List[str]:
    """Reset the DB's per-boot state and leftovers; returns the stale mounts removed."""
    stale = []
    for root in (os.path.join(rt.graph_root, "containers"), rt.volume_path):
        for mnt in mounts_under(root):
            umount_detach(mnt)
            stale.append(mnt)
    rt.state.refresh(reset_container_state)
    retake_locks(rt)
    if rt.state.count("pod"):
        from ..objects.pod import refresh_pods  # noqa: PLC0415

        refresh_pods(rt)
    if rt.state.count("volume"):
        rt.volumes.refresh()
    if rt.has_networking():
        rt.network.refresh()
    for rec in rt.state.list("container"):
        bundle = os.path.join(rt.graph_root, "containers", rec.id, "userdata")
        for name in CONMON_LEFTOVERS:
            try:
                os.unlink(os.path.join(bundle, name))
            except OSError:
                pass
    rt.event("system", "refresh")
    return stale
