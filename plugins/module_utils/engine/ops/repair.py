# SPDX-License-Identifier: GPL-3.0-or-later
"""Finish or undo what a killed engine process left half-done (the intents of faults.py).

Runtime.open() calls ``repair`` only when the journal holds an entry (one indexed query on the
warm path), and only entries whose process is dead are acted on, each under a repair lock plus
the object's own lock, so concurrent module processes never repair the same object twice and
never touch an object another live process is working on. What is done per object:

* container, record present: the state is made truthful (a runtime container that runs but is
  saved as created becomes running; a dead conmon means exited), a container that is not running
  loses what a killed start left (runtime container, conmon, netns, leases, nft chains, rootfs
  mount, conmon files), a removal is finished;
* container, record absent (killed create, or a removal killed after its DB delete): storage and
  run dirs, network objects, lock rows, the name, anonymous volumes and idle bridges go;
* the mount counts of the volumes concerned are recomputed from the containers that hold them
  (only when none of those containers is locked by a live process);
* volume removal: a data dir whose record is gone is deleted;
* pod recreate: the new pod and the members that were to be recreated into it are made;
* image import: the partial layers and temp blobs of dead importers are removed.

Anything that fails stays in the journal (up to three attempts) and is reported as a warning.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
from typing import Any, Dict, List

from ..base import faults
from ..base.errors import EngineError, LockError
from ..store.locks import Lock

#: seconds to wait for another process' repair, or for the lock of an object being repaired
REPAIR_WAIT = 30.0
MAX_ATTEMPTS = 3


class _Busy(Exception):
    """The object is locked by a live process: retry at the next open."""


def repair(rt) -> List[str]:
    """Repair every object whose mutation was interrupted; returns what was done."""
    if not any(not faults.owner_alive(e) for _k, _raw, e in faults.pending(rt.state)):
        return []
    lock = Lock(os.path.join(rt.tmp_dir, "repair.lck"), 0)
    try:
        lock.acquire(timeout=REPAIR_WAIT)
    except LockError:
        return []  # another process is repairing: it will have done it
    done: List[str] = []
    try:
        for k, raw, entry in faults.pending(rt.state):  # again, under the lock
            if faults.owner_alive(entry):
                continue
            kind = entry.get("kind") or k[len(faults.PREFIX):].split("/", 1)[0]
            obj = entry.get("id") or k[len(faults.PREFIX):].split("/", 1)[-1]
            what = "%s %s (interrupted %s)" % (kind, str(obj)[:12], entry.get("op", "?"))
            fn = _REPAIRS.get(kind)
            try:
                actions = fn(rt, obj, entry) if fn else []
            except _Busy:
                continue
            except (EngineError, OSError) as exc:
                attempts = int(entry.get("attempts") or 0) + 1
                rt.warnings.append("repairing %s failed (attempt %d): %s" % (what, attempts, exc))
                if attempts < MAX_ATTEMPTS:
                    _retry_later(rt, k, raw, dict(entry, attempts=attempts))
                    continue
                actions = ["gave up after %d attempts: %s" % (attempts, exc)]
            faults.forget(rt.state, k, raw)
            done += ["%s: %s" % (what, a) for a in actions]
    finally:
        lock.release()
    if done:
        rt.event("system", "repair", attributes={"actions": "; ".join(done)[:4000]})
    return done


def _retry_later(rt, k: str, raw: str, entry: Dict[str, Any]) -> None:
    with rt.state.tx():
        rt.state.conn.execute("UPDATE meta SET value=? WHERE key=? AND value=?",
                              (json.dumps(entry, sort_keys=True), k, raw))


# -- containers -------------------------------------------------------------------------------------
def _container(rt, ctr_id: str, entry: Dict[str, Any]) -> List[str]:
    from ..objects.container import REMOVING, Container  # noqa: PLC0415

    rec = rt.state.find("container", ctr_id)
    if rec is None or rec.id != ctr_id:
        return _container_gone(rt, ctr_id, entry)
    ctr = Container(rt, rec)
    finish_remove = False
    lock = rt.locks.lock(rec.lock_id)
    try:
        lock.acquire(timeout=REPAIR_WAIT)
    except LockError:
        raise _Busy()
    try:
        fresh = rt.state.find("container", ctr_id)
        if fresh is None or fresh.id != ctr_id:
            actions = None
        else:
            ctr.rec = fresh
            actions = _settle(ctr)
            finish_remove = entry.get("op") == "remove" or ctr.status == REMOVING
    finally:
        lock.release()
    if actions is None:
        return _container_gone(rt, ctr_id, entry)
    if finish_remove:
        ctr.remove(force=True, timeout=0)
        actions.append("finished its removal")
        actions += _container_gone(rt, ctr_id, entry)
    else:
        actions += recount_volumes(rt, [m["source"] for m in ctr.config.get("mounts", []) if m["type"] == "volume"])
    return actions


def _settle(ctr) -> List[str]:
    """Make a container's saved state truthful and drop what a killed start left. Lock held."""
    from ..base.clock import rfc3339_nano  # noqa: PLC0415
    from ..host.proc import pid_alive  # noqa: PLC0415
    from ..objects.container import CONFIGURED, CREATED, EXITED, REMOVING, RUNNING, STOPPED, STOPPING  # noqa: PLC0415

    actions: List[str] = []
    before = ctr.status
    ctr.sync()
    st = ctr.state
    if ctr.status == STOPPING and st.get("pid") and pid_alive(st["pid"]):
        st["status"] = RUNNING  # the stop was killed before its signal: it still runs
        ctr.save()
        actions.append("still running (its stop was interrupted)")
    if ctr.status == CREATED:
        live = ctr.oci().state(ctr.id)
        if live is not None and live.get("status") == "running":
            st.update(status=RUNNING, started_at=st.get("started_at") or rfc3339_nano(),
                      pid=int(live.get("pid") or st.get("pid") or 0), restart_policy_match=False)
            ctr.save()
            actions.append("running (its start was interrupted after the runtime started it)")
        elif live is None or live.get("status") == "stopped":
            ctr._cleanup_locked()
            actions.append("cleaned up a created container whose process is gone")
    if ctr.status == STOPPED:
        ctr._cleanup_locked()
        actions.append("cleaned up after exit (was %s)" % before)
    elif ctr.status in (CONFIGURED, EXITED, REMOVING):
        actions += _drop_leftovers(ctr)
    return actions


def _drop_leftovers(ctr) -> List[str]:
    """A container that is not running: nothing of a start may remain (idempotent)."""
    from ..host.mounts import is_mount_point  # noqa: PLC0415
    from ..host.proc import is_conmon, kill_wait, read_int  # noqa: PLC0415

    rt = ctr.rt
    found: List[str] = []
    oci = ctr.oci()
    conmon_pid = read_int(os.path.join(ctr.run_dir, "conmon.pid"))
    if conmon_pid and is_conmon(conmon_pid, ctr.id):
        # the monitor of a start that never got saved: no exit command is wanted, we clean up here
        kill_wait(conmon_pid, 5.0)
        found.append("conmon %d" % conmon_pid)
    live = oci.state(ctr.id)
    if live is not None:
        found.append("runtime container (%s)" % live.get("status"))
    oci.delete(ctr.id, force=True)
    if oci.remove_cgroup(ctr.bundle):
        found.append("cgroup")
    net = ctr.config.get("network") or {}
    netns = os.path.join(rt.tmp_dir, "netns", ctr.id)
    if net.get("mode") not in ("host", "container") and (os.path.lexists(netns) or rt.has_networking()):
        if os.path.lexists(netns) or rt.state.query("SELECT 1 FROM ip_leases WHERE container_id=? LIMIT 1",
                                                    (ctr.id,)):
            found.append("network")
        rt.network.teardown(ctr.id)
    if os.path.isdir(ctr.ctr_dir):
        if is_mount_point(rt.storage.merged_dir(ctr.id)):
            found.append("rootfs mount")
        rt.storage.unmount(ctr.id)
    oci.remove_conmon_files(ctr.id, ctr.bundle, ctr.run_dir)
    st = ctr.state
    st.update(pid=0, conmon_pid=0, mounted=False, mountpoint="", netns="", network_status=None)
    ctr.save()
    return ["removed what its start left: %s" % ", ".join(found)] if found else []


def _container_gone(rt, ctr_id: str, entry: Dict[str, Any]) -> List[str]:
    """No record: everything named after the ID goes (a killed create, or a removal after its DB delete)."""
    from ..host.proc import is_conmon, read_int  # noqa: PLC0415
    from ..oci.driver import OCIRuntime  # noqa: PLC0415

    found: List[str] = []
    run_dir = os.path.join(rt.run_root, "containers", ctr_id)
    runtime = entry.get("runtime") or rt.default_runtime
    if runtime in rt.runtimes:
        oci = rt.oci(runtime)
        conmon_pid = read_int(os.path.join(run_dir, "conmon.pid"))
        if oci.state(ctr_id) is not None:
            found.append("runtime container")
            oci.delete(ctr_id, force=True)
        if conmon_pid and is_conmon(conmon_pid, ctr_id):
            try:
                os.kill(conmon_pid, signal.SIGKILL)
                found.append("conmon %d" % conmon_pid)
            except OSError:
                pass
        try:
            os.unlink(oci.exit_file(ctr_id))
        except OSError:
            pass
    if rt.has_networking() or os.path.lexists(os.path.join(rt.tmp_dir, "netns", ctr_id)):
        rt.network.teardown(ctr_id)
    if OCIRuntime.remove_cgroup(os.path.join(rt.graph_root, "containers", ctr_id, "userdata")):
        found.append("cgroup")
    if ctr_id in rt.storage.list():
        rt.storage.remove(ctr_id)
        found.append("storage")
    if os.path.isdir(run_dir):
        shutil.rmtree(run_dir, ignore_errors=True)
        found.append("run dir")
    with rt.state.tx() as conn:
        for sql in ("DELETE FROM locks WHERE owner_kind='container' AND owner_id=?",
                    "DELETE FROM names WHERE id=? AND id NOT IN (SELECT id FROM containers) "
                    "AND id NOT IN (SELECT id FROM pods)",
                    "DELETE FROM container_volumes WHERE container_id=? AND container_id NOT IN "
                    "(SELECT id FROM containers)",
                    "DELETE FROM exit_codes WHERE container_id=? AND container_id NOT IN (SELECT id FROM containers)"):
            if conn.execute(sql, (ctr_id,)).rowcount:
                found.append(sql.split()[2])
    for vol in entry.get("anonymous") or []:
        if rt.volumes.find(vol) is not None and not rt.state.volume_users(vol):
            try:
                rt.volumes.remove(vol)
                found.append("anonymous volume %s" % vol[:12])
            except EngineError:
                pass
    found += _release_idle(rt, entry.get("networks") or [])
    found += recount_volumes(rt, entry.get("volumes") or [])
    return ["removed %s" % ", ".join(found)] if found else []


def _release_idle(rt, networks: List[str]) -> List[str]:
    if not networks or not rt.has_networking():
        return []
    default = rt.cfg.get("network", "default_network")
    wanted = set()
    for rec in rt.state.list("container"):
        net = rec.config.get("network") or {}
        if net.get("mode", "bridge") == "bridge":
            wanted.update(net.get("networks") or [default])
    networks = [n or default for n in networks]
    return ["idle bridge of %s" % n for n in networks if n not in wanted and rt.network.release_idle(n)]


def recount_volumes(rt, names: List[str]) -> List[str]:
    """Mount count := containers that list the volume as mounted (all of them unlocked, else _Busy)."""
    from ..volume.manager import plan_local  # noqa: PLC0415

    actions: List[str] = []
    for name in sorted(set(n for n in names if n)):
        if rt.volumes.find(name) is None:
            continue
        held: List[Lock] = []
        try:
            for uid in rt.state.volume_users(name):
                rec = rt.state.find("container", uid)
                if rec is None or rec.lock_id is None:
                    continue
                lk = rt.locks.lock(rec.lock_id)
                try:
                    lk.acquire(timeout=0)
                except LockError:
                    raise _Busy()
                held.append(lk)
            want = 0
            for uid in rt.state.volume_users(name):
                rec = rt.state.find("container", uid)
                if rec is not None and name in (rec.state.get("volumes_mounted") or []):
                    want += 1
            with rt.volumes._locked(name) as vol:
                have = vol.state.mount_count
                if have == want:
                    continue
                if want == 0:
                    rt.volumes._unmount_locked(vol, force=True)
                else:
                    if not vol.uses_plugin and plan_local(name, vol.config.options).mount is not None:
                        vol.state.mount_count = 0  # mounts again if it is not mounted any more
                        rt.volumes._mount_locked(vol)
                    vol.state.mount_count = want
                    rt.volumes._save(vol)
                actions.append("volume %s mount count %d -> %d" % (name, have, want))
        finally:
            for lk in held:
                lk.release()
    return actions


# -- volumes ----------------------------------------------------------------------------------------
def _volume(rt, name: str, entry: Dict[str, Any]) -> List[str]:
    from ..volume.manager import _TRASH_PREFIX, _umount_all  # noqa: PLC0415

    if rt.volumes.find(name) is not None:
        return recount_volumes(rt, [name])  # the removal did not get to the record: it stays
    vol_dir = os.path.join(rt.volumes.volume_path, name)
    if not os.path.lexists(vol_dir):
        return []
    trash = os.path.join(rt.volumes.volume_path, _TRASH_PREFIX + os.urandom(8).hex())
    with rt.state.tx():  # a creator makes the dir inside its transaction: none can adopt it meanwhile
        if rt.volumes.find(name) is not None:
            return []
        left = _umount_all(vol_dir)
        if left:
            raise EngineError("volume %s: cannot unmount %s" % (name, ", ".join(left)))
        os.rename(vol_dir, trash)
    shutil.rmtree(trash, ignore_errors=True)
    return ["deleted the data of the removed volume"]


# -- pods -------------------------------------------------------------------------------------------
def _pod(rt, name: str, entry: Dict[str, Any]) -> List[str]:
    """A pod recreate killed half-way: roll forward (the new pod, then its members)."""
    from ..objects.container import create_container, find_container  # noqa: PLC0415
    from ..objects.pod import create_pod, find_pod, member_config  # noqa: PLC0415

    if entry.get("op") != "recreate" or not isinstance(entry.get("config"), dict):
        return []
    actions: List[str] = []
    pod = find_pod(rt, name)
    if pod is not None and pod.name != name:
        pod = None
    if pod is None:
        image = rt.images.get(entry["infra_image_id"]) if entry.get("infra_image_id") else None
        pod = create_pod(rt, entry["config"], name=name, infra_image=image)
        actions.append("created the new pod")
    for member in entry.get("members") or []:
        mname, cfg, running = member
        if rt.state.lookup_name(mname) is not None:
            continue
        ctr = create_container(rt, member_config(cfg, pod.id), name=mname)
        actions.append("recreated member %s" % mname)
        if running:
            ctr.start()
    for member in entry.get("members") or []:
        ctr = find_container(rt, member[0])
        if ctr is not None and member[2] and ctr.status != "running" and ctr.config.get("pod") == pod.id:
            ctr.start()
            actions.append("started member %s" % member[0])
    return actions


# -- images ---------------------------------------------------------------------------------------
def _image(rt, _key: str, _entry: Dict[str, Any]) -> List[str]:
    """A killed import: its partial layer (layers/.tmp-*) and temp blobs go (any dead importer's)."""
    return rt.images.remove_stale_temp()


_REPAIRS = {"container": _container, "volume": _volume, "pod": _pod, "image": _image}
