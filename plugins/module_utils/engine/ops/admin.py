# SPDX-License-Identifier: GPL-3.0-or-later
"""Whole-engine operations, after libpod's reset.go, runtime_renumber.go and runtime_migrate.go:

* :func:`reset` / :func:`reset_plan`: remove every object and every file of the engine, in
  podman's order (pods, containers stopped first, volumes, images, networks with their
  nftables chains and netns mounts), then the DB, the static dir, the graph root, the run
  root, the volume path and the tmp dir (with the lock file). Refuses paths equal to
  ``/`` or ``$XDG_RUNTIME_DIR`` (as podman) and a few other system directories.
* :func:`renumber`: give every container, pod and volume a new lock number (0..n-1), after
  a change of ``num_locks``; refuses while containers run unless forced.
* :func:`migrate`: move containers to another OCI runtime, stopping and restarting the ones
  that ran.
* the boot unit: a systemd service that runs the engine's ``boot`` command (cli.py) where
  systemd is PID 1.

Every function takes an open Runtime; ``check=True`` computes the same answer and changes
nothing (runtime opened read-only).
"""
from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from typing import Any, Dict, List, Optional, Tuple

from ..base.errors import CtrStateInvalid, EngineError, InvalidArg, LockExhausted
from ..host import roots as owners
from ..host import userns
from ..host.enginecopies import UNIT_DIR, UNIT_PREFIX
from ..host.mounts import mounts_under, umount_detach
from ..host.proc import argvs, printable
from ..objects import image as image_ops
from ..store.locks import Lock

#: statuses in which a container has a live runtime container (libpod: running, paused, created)
ACTIVE = ("running", "paused", "created", "stopping")
#: how long reset waits for conmon / exit commands of removed containers to finish
PROCESS_GRACE = 15.0
#: never rm -rf these, whatever the configuration says; compared after resolving symlinks on both
#: sides (on merged-/usr hosts /bin is /usr/bin), and their ancestors are refused too (/usr, /var)
PROTECTED = ("/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/opt", "/proc",
             "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/lib", "/var/cache", "/var/log",
             "/var/tmp", "/var/run", "/var/spool", "/var/mail", "/var/opt", "/var/local", "/var/backups",
             "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32", "/usr/libexec",
             "/usr/include", "/usr/local", "/usr/local/bin", "/usr/local/sbin", "/usr/local/lib", "/usr/share",
             "/usr/src", "/run/user", "/mnt", "/media", "/snap", "/nix", "/lost+found", "/efi")


# -- paths --------------------------------------------------------------------------------------
def engine_roots(rt) -> Dict[str, str]:
    """The directories a reset removes, by containers.conf key."""
    return {"static_dir": rt.static_dir, "graph_root": rt.graph_root, "run_root": rt.run_root,
            "volume_path": rt.volume_path, "tmp_dir": rt.tmp_dir}


def protected_paths() -> List[str]:
    """PROTECTED and the home directory, each as given and resolved (symlinks followed)."""
    out = []
    for p in PROTECTED + (os.path.expanduser("~"),):
        for q in (os.path.normpath(p), os.path.realpath(p)):
            if q not in out:
                out.append(q)
    return out


def refused_system_path(path: str) -> Optional[str]:
    """The system directory that ``path`` is (or is an ancestor of), comparing resolved with
    resolved as well as the names as given; None when ``path`` may be removed."""
    given = os.path.normpath(os.path.abspath(path))
    real = os.path.realpath(path)
    for sys_path in protected_paths():
        for cand in (given, real):
            if cand == sys_path or sys_path.startswith(cand.rstrip("/") + "/"):
                return sys_path
    return None


def check_reset_paths(rt, env: Optional[Dict[str, str]] = None) -> None:
    """podman refuses to remove a graph root, run root or tmp dir equal to XDG_RUNTIME_DIR; we also
    refuse /, well-known system directories and their ancestors, for every path."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_RUNTIME_DIR") or ""
    xdg_real = os.path.realpath(xdg) if xdg else ""
    for key, path in engine_roots(rt).items():
        real = os.path.realpath(path) if path else ""
        if not real or real == "/":
            raise InvalidArg("refusing to reset: %s is %r, which would remove the root directory" % (key, path),
                             hint="set [engine] %s to the engine's own directory" % key)
        if xdg_real and real == xdg_real:
            raise InvalidArg("failed to remove runtime %s %s, since it is the same as XDG_RUNTIME_DIR"
                             % (key.replace("_", " "), path),
                             hint="point %s at a directory of its own (below XDG_RUNTIME_DIR is fine)" % key)
        sys_path = refused_system_path(path)
        if sys_path:
            what = "" if real == sys_path or os.path.normpath(path) == sys_path else " (or contains)"
            raise InvalidArg("refusing to reset: %s is %s (resolved: %s), which is%s the system directory %s, not "
                             "the engine's own" % (key, path, real, what, sys_path),
                             hint="set %s to a directory used by the engine only" % key)
    # nothing is removed when another root owns (or records) one of the paths
    owners.check_paths(rt.root_id, engine_roots(rt))


def _under(path: str, roots: List[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _root_list(rt) -> List[str]:
    out: List[str] = []
    for path in engine_roots(rt).values():
        real = os.path.realpath(path)
        if real not in out:
            out.append(real)
    return out


def engine_processes(roots: List[str]) -> List[Tuple[int, str, str]]:
    """(pid, comm, cmdline) of processes that name one of ``roots`` in an argument (conmon,
    exit commands, the boot command): the engine's helpers, never the containers themselves."""
    pats = [re.compile(r"(^|[=:,\s])" + re.escape(r.rstrip("/")) + r"(/|$|[,:\s])") for r in roots if r != "/"]
    me = os.getpid()
    out = []
    for pid, argv in argvs():
        if pid == me:
            continue
        args = [a for a in argv if a]
        try:
            with open("/proc/%d/comm" % pid) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if args and any(p.search(a) for a in args for p in pats):
            out.append((pid, comm, printable(" ".join(args))[:300]))
    return out


def _is_helper(comm: str, cmd: str, static_dir: str) -> bool:
    """conmon, the engine CLI run from the engine copy (exit command, boot command), or a port
    holder (network/portholder.py: argv[0] is <tmp_dir>/ports/<ctr id>)."""
    return (comm == "conmon" or (os.path.join(static_dir, "lib") + "/") in cmd
            or (comm == "sleep" and "/ports/" in cmd.split(" ", 1)[0]))


def _wait_processes(roots: List[str], static_dir: str, grace: float) -> Tuple[List[str], List[str]]:
    """Wait for our helpers to finish (exit commands of containers just removed), then kill the
    rest of them. Returns (killed helpers, other processes that still name our paths)."""
    deadline = time.monotonic() + grace
    while True:
        procs = engine_processes(roots)
        helpers = [p for p in procs if _is_helper(p[1], p[2], static_dir)]
        if not helpers or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    killed = []
    for pid, comm, cmd in helpers:
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append("%d %s (%s)" % (pid, comm, cmd[:120]))
        except OSError:
            pass
    others = ["%d %s (%s)" % (pid, comm, cmd[:120]) for pid, comm, cmd in procs
              if not _is_helper(comm, cmd, static_dir)]
    return killed, others


def _existing_paths(rt) -> List[str]:
    paths = []
    for p in (rt.db_path, rt.db_path + "-wal", rt.db_path + "-shm", os.path.join(rt.tmp_dir, "locks"),
              os.path.join(rt.tmp_dir, "alive.lck")):
        if os.path.lexists(p):
            paths.append(p)
    for p in engine_roots(rt).values():
        if os.path.lexists(p) and p not in paths:
            paths.append(p)
    return paths


# -- reset --------------------------------------------------------------------------------------
def unknown_runtime_containers(rt, known_ids: List[str]) -> List[Tuple[str, str]]:
    """(runtime name, container id) of OCI runtime containers under our runtime roots that the state DB
    does not know: what is left to kill when the DB is damaged or missing (podman 4 would leak them)."""
    out = []
    for name in sorted(rt.runtimes):
        root = os.path.join(rt.tmp_dir, "runtime", os.path.basename(name))
        try:
            entries = sorted(os.listdir(root))
        except OSError:
            continue
        for cid in entries:
            if cid not in known_ids and os.path.isdir(os.path.join(root, cid)) and re.fullmatch(r"[0-9a-f]{64}", cid):
                out.append((name, cid))
    return out


def _image_label(img) -> str:
    return "%s (%s)" % (img.id[:12], ", ".join(img.names) or "<none>")


def _our_chains(rt, ctr_ids: List[str], bridges: List[str]) -> List[str]:
    try:
        net = rt.network
        if not net.nft.available():
            return []
        from ..network.portmap import chain_owner  # noqa: PLC0415

        out = []
        for chain in net.nft.chain_names("ip", net.nft_table):
            owner = chain_owner(chain)
            if owner and ((owner[0] == "container" and owner[1] in ctr_ids)
                          or (owner[0] == "network" and owner[1] in bridges)):
                out.append("%s %s" % (net.nft_table, chain))
        return out
    except EngineError:
        return []


def reset_plan(rt) -> Dict[str, Any]:
    """What :func:`reset` would remove: names and counts. Raises on a refused path."""
    check_reset_paths(rt)
    st = rt.state
    saved_ns, st.namespace = st.namespace, ""
    try:
        ctrs = st.list("container")
        pods = st.list("pod")
        vols = st.list("volume")
        images = rt.images.list() if st.query("SELECT 1 FROM images LIMIT 1") else []
        nets = [r[0] for r in st.query("SELECT name FROM networks ORDER BY name")]
        bridges = []
        for (cfg,) in st.query("SELECT config FROM networks"):
            from ..store.state import loads  # noqa: PLC0415

            bridges.append((loads(cfg) or {}).get("bridge", ""))
    finally:
        st.namespace = saved_ns
    netns_dir = os.path.join(rt.tmp_dir, "netns")
    netns = sorted(os.path.join(netns_dir, n) for n in os.listdir(netns_dir)) if os.path.isdir(netns_dir) else []
    roots = _root_list(rt)
    mounts: List[str] = []
    for r in roots:
        for m in mounts_under(r):
            if m not in mounts:
                mounts.append(m)
    chains = _our_chains(rt, [c.id for c in ctrs], bridges) if (nets or netns or ctrs) else []
    unknown = ["%s (not in the state DB, %s)" % (cid[:12], name)
               for name, cid in unknown_runtime_containers(rt, [c.id for c in ctrs])]
    plan = {
        "containers": [c.name for c in ctrs] + unknown,
        "running": [c.name for c in ctrs if (c.state or {}).get("status") in ACTIVE],
        "pods": [p.name for p in pods],
        "volumes": [v.name for v in vols],
        "secrets": [sec.name for sec in rt.secrets.list()],
        "images": [_image_label(i) for i in images],
        "networks": nets,
        "netns": netns,
        "nft_chains": chains,
        "mounts": mounts,
        "processes": ["%d %s" % (p[0], p[1]) for p in engine_processes(roots)],
        "paths": _existing_paths(rt),
    }
    plan["counts"] = {k: len(v) for k, v in plan.items() if isinstance(v, list)}
    return plan


def plan_is_empty(plan: Dict[str, Any]) -> bool:
    return not any(v for k, v in plan.items() if isinstance(v, list))


def _remove_container_storage(rt, ctr) -> None:
    """RemoveStorageContainer fallback: the container's files, DB rows and lock, without the runtime."""
    try:
        rt.storage.remove(ctr.id)
    except EngineError:
        pass
    shutil.rmtree(ctr.run_dir, ignore_errors=True)
    rt.state.remove("container", ctr.rec)
    rt.locks.free(ctr.rec.lock_id)


def reset(rt, timeout: Optional[int] = None) -> Dict[str, Any]:
    """Remove everything (podman system reset); the runtime is shut down afterwards.

    ``timeout``: stop timeout for running containers (None: each container's own).
    Best effort as podman: a failing step is reported and the next one runs; paths that
    still have mounts below them are not deleted (never rm -rf across a mount point).
    """
    from ..objects.container import list_containers  # noqa: PLC0415

    check_reset_paths(rt)
    plan = reset_plan(rt)
    problems: List[str] = []
    warnings: List[str] = []
    kinds = ("containers", "pods", "volumes", "secrets", "images", "networks", "netns", "nft_chains", "mounts",
             "processes", "paths")
    done: Dict[str, List[str]] = {k: [] for k in kinds}
    roots = _root_list(rt)
    alive_lock = Lock(os.path.join(rt.tmp_dir, "alive.lck"), 0) if os.path.isdir(rt.tmp_dir) else None
    if alive_lock is not None:
        alive_lock.acquire()
    rt.state.namespace = ""  # every object, whatever libpod namespace it was created in
    try:
        vols_before = [v.name for v in rt.state.list("volume")]
        all_ids = [r.id for r in rt.state.list("container")]
        # 1. pods (with their containers)
        pods = rt.state.list("pod")
        if pods:
            try:
                from ..objects.pod import remove_pod  # noqa: PLC0415
            except ImportError:
                remove_pod = None
            for rec in pods:
                try:
                    if remove_pod is None:
                        raise EngineError("pods are not supported by this engine version")
                    gone = remove_pod(rt, rec.id, force=True, timeout=timeout)
                    done["pods"].append(rec.name)
                    done["containers"] += [n for n in (gone or []) if isinstance(n, str)]
                except EngineError as exc:
                    problems.append("pod %s: %s" % (rec.name, exc))
        # 2. containers: stop the running ones first (dependents first), then remove
        ctrs = list_containers(rt)
        for ctr in reversed(ctrs):
            try:
                ctr.stop(timeout)
            except EngineError as exc:
                problems.append("stopping container %s: %s" % (ctr.name, exc))
        for ctr in reversed(ctrs):
            try:
                ctr.remove(force=True, timeout=timeout)
            except EngineError as exc:
                problems.append("container %s: %s (its storage was removed instead)" % (ctr.name, exc))
                try:
                    _remove_container_storage(rt, ctr)
                except EngineError as exc2:
                    problems.append("container %s storage: %s" % (ctr.name, exc2))
            done["containers"].append(ctr.name)
        # 2b. runtime containers the DB does not know (a damaged or missing DB): kill and delete them
        for name, cid in unknown_runtime_containers(rt, all_ids):
            try:
                rt.oci(name).delete(cid, force=True)
                done["containers"].append("%s (not in the state DB, %s)" % (cid[:12], name))
            except EngineError as exc:
                problems.append("runtime container %s (%s): %s" % (cid[:12], name, exc))
        # 3. volumes (4.9: before images); anonymous ones went with their containers
        left = {v.name for v in rt.state.list("volume")}
        done["volumes"] += [v for v in vols_before if v not in left]
        if left:
            for vol in rt.volumes.list():
                try:
                    rt.volumes.remove(vol.name, force=True)
                    done["volumes"].append(vol.name)
                except EngineError as exc:
                    problems.append("volume %s: %s" % (vol.name, exc))
        # 3b. secrets (podman: after the containers that use them; the shell driver's delete runs)
        for sec in rt.secrets.list():
            try:
                rt.secrets.remove(sec)
                rt.event("secret", "remove", id=sec.id, name=sec.name)
                done["secrets"].append(sec.name)
            except EngineError as exc:
                problems.append("secret %s: %s" % (sec.name, exc))
        # 4. images
        if rt.state.query("SELECT 1 FROM images LIMIT 1"):
            for img in rt.images.list():
                try:
                    image_ops.remove(rt, img, force=True, remove_users=False)  # containers went in step 1
                    done["images"].append(_image_label(img))
                except EngineError as exc:
                    problems.append("image %s: %s" % (img.id[:12], exc))
        # 5. networks, their nft chains, leftovers of containers, the netns dir's bind mount
        netns_dir = os.path.join(rt.tmp_dir, "netns")
        if rt.has_networking() or os.path.isdir(netns_dir) or plan["nft_chains"]:
            done.update(_reset_network(rt, all_ids, problems))
        # 6. helpers of the removed containers (exit commands) must be gone before the DB is
        done["processes"], others = _wait_processes(roots, os.path.realpath(rt.static_dir), PROCESS_GRACE)
        warnings += ["process %s still names the engine's paths; it is not the engine's, so it was left "
                     "running" % p for p in others]
    finally:
        rt.shutdown()  # closes the DB: the runtime is not usable after a reset (as libpod)
        if alive_lock is not None:
            alive_lock.release()
    # 7. mounts, then the files
    for r in roots:
        for m in mounts_under(r):
            if umount_detach(m):
                done["mounts"].append(m)
    for key, path in engine_roots(rt).items():
        if not os.path.lexists(path):
            continue
        real = os.path.realpath(path)
        left = mounts_under(real)
        if left:
            problems.append("%s %s not removed: still mounted below it: %s" % (key, path, ", ".join(left)))
            continue
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
            done["paths"].append(path)
        except OSError as exc:
            problems.append("%s %s: %s" % (key, path, exc.strerror or exc))
    if owners.forget_root(rt.root_id, drop_empty=rt.user_dirs is not None):
        done["paths"].append(rt.user_dirs.registry_dir)
    done["paths"] += _drop_runtime_default_root(rt)
    if rt.userns is not None and rt.userns.pause_pid and userns.stop_pause_pid(rt.userns.pause_pid, rt.user_dirs.uid):
        done["processes"].append("pause process %d (rootless user namespace)" % rt.userns.pause_pid)  # as podman
    result = {"removed": done, "plan": plan, "problems": problems, "warnings": warnings}
    result["counts"] = {k: len(v) for k, v in done.items()}
    return result


def _drop_runtime_default_root(rt) -> List[str]:
    """Rootless: crun makes ``$XDG_RUNTIME_DIR/crun`` (its default state dir) on every call, though the
    engine passes its own --root below its tmp dir; removed when empty, so a reset leaves nothing in
    the user's runtime dir. Not empty: another tool's containers (podman's) live there; kept."""
    if rt.user_dirs is None:
        return []
    path = os.path.join(rt.user_dirs.runtime_dir, "crun")
    try:
        os.rmdir(path)
    except OSError:
        return []
    return [path]


def _reset_network(rt, ctr_ids: List[str], problems: List[str]) -> Dict[str, List[str]]:
    """Networks (bridge, chain, leases), then what containers may have left: their nft chains and
    netns files, and the netns dir's own bind mount.

    The nft table is shared by every engine root of the host, so only chains of our containers and
    networks are deleted (never the orphans of another root) and the table itself stays.
    """
    from ..network.manager import remove_netns_dir  # noqa: PLC0415
    from ..network.netns import remove_netns  # noqa: PLC0415
    from ..network.portmap import ctr_delete  # noqa: PLC0415

    out: Dict[str, List[str]] = {"networks": [], "netns": [], "nft_chains": []}
    net = rt.network
    netns_dir = os.path.join(rt.tmp_dir, "netns")
    try:
        for n in net.list_networks():
            try:
                net.remove_network(n["name"], force=True)
                out["networks"].append(n["name"])
            except EngineError as exc:
                problems.append("network %s: %s" % (n["name"], exc))
        ids = list(dict.fromkeys(ctr_ids + (sorted(os.listdir(netns_dir)) if os.path.isdir(netns_dir) else [])))
        if ids and net.nft.available():
            present = set(net.nft.chain_names("ip", net.nft_table))
            lines: List[str] = []
            for cid in ids:
                chains = [c for c in ("c_%s_pre" % cid, "c_%s_out" % cid) if c in present]
                if chains:
                    lines += ctr_delete(net.nft_table, cid)
                    out["nft_chains"] += ["%s %s" % (net.nft_table, c) for c in chains]
            if lines:
                net.nft.run("\n".join(lines) + "\n", what="delete the chains of removed containers")
        if os.path.isdir(netns_dir):
            for name in sorted(os.listdir(netns_dir)):
                if remove_netns(os.path.join(netns_dir, name)):
                    out["netns"].append(os.path.join(netns_dir, name))
        net.dns.remove_all()  # aardvark-dns files of this root and its server
        out["networks"] += ["bridge %s (not in the state DB)" % b for b in net.remove_claimed_bridges()]
        if net.remove_host_forward_rules():  # left by networks removed without their rules
            out["nft_chains"].append("accept rules in the host's forward chains")
    except (EngineError, OSError) as exc:
        problems.append("network cleanup: %s" % exc)
    finally:
        net.close()
    try:
        remove_netns_dir(netns_dir)
    except OSError as exc:
        problems.append("%s: %s" % (netns_dir, exc))
    return out


# -- renumber -------------------------------------------------------------------------------------
def _is_active(rt, ctr, check: bool) -> bool:
    """Whether the container has a live runtime container (synced with conmon when we may write)."""
    if (ctr.state or {}).get("status") not in ACTIVE:
        return False
    if check or rt.read_only:
        from ..host.proc import pid_alive  # noqa: PLC0415

        pid = ctr.state.get("conmon_pid") or ctr.state.get("pid")
        return bool(pid) and pid_alive(pid)
    with ctr.locked():
        ctr.sync()
    return ctr.status in ACTIVE


def renumber(rt, force: bool = False, check: bool = False) -> Dict[str, Any]:
    """renumberLocks: containers, then pods, then volumes get locks 0..n-1 (in creation order).

    Refuses while containers run (their exit commands lock by number) unless ``force``;
    refuses when ``num_locks`` is below the number of objects. Changes nothing when the
    numbers are already those; ``changes`` lists the objects that got another number.
    """
    from ..objects.container import Container  # noqa: PLC0415

    st = rt.state
    saved_ns, st.namespace = st.namespace, ""
    try:
        objs = [("container", r) for r in st.list("container")] + [("pod", r) for r in st.list("pod")] + \
               [("volume", r) for r in st.list("volume")]
        running = [r.name for kind, r in objs if kind == "container" and _is_active(rt, Container(rt, r), check)]
    finally:
        st.namespace = saved_ns
    n = rt.locks.num_locks
    src = rt.cfg.source("engine", "num_locks")
    if len(objs) > n:
        raise LockExhausted(
            "renumber: %d containers, pods and volumes need a lock each but [engine] num_locks is %d (from %s)"
            % (len(objs), n, src), hint="raise num_locks to at least %d, then renumber" % len(objs))
    if running and not force:
        raise CtrStateInvalid("renumber: container(s) %s are running; their locks cannot be renumbered safely"
                              % ", ".join(running), hint="stop them first, or set force: true")
    held = {(kind, oid): lock_id for lock_id, kind, oid in rt.locks.allocated()}
    changes = []
    rows = []
    for new_id, (kind, rec) in enumerate(objs):
        rows.append((new_id, kind, rec))
        if rec.lock_id != new_id or held.get((kind, rec.id)) != new_id:
            changes.append({"kind": kind, "name": rec.name, "old": rec.lock_id, "new": new_id})
    stale = len(held) - len({(k, r.id) for k, r in objs} & set(held))
    result = {"num_locks": n, "objects": len(objs), "changes": changes, "stale_locks_freed": stale,
              "running": running, "changed": bool(changes or stale)}
    if check or not result["changed"]:
        return result
    with st.tx() as conn:
        conn.execute("DELETE FROM locks")
        for new_id, kind, rec in rows:
            conn.execute("INSERT INTO locks(lock_id, owner_kind, owner_id) VALUES(?,?,?)", (new_id, kind, rec.id))
            cfg = rec.config
            if isinstance(cfg, dict) and "lock_id" in cfg:
                cfg = dict(cfg, lock_id=new_id)
            st.rewrite_config(kind, rec.id, cfg, lock_id=new_id)
    rt.event("system", "renumber")
    return result


# -- migrate --------------------------------------------------------------------------------------
def migrate(rt, new_runtime: Optional[str] = None, restart: bool = True, timeout: Optional[int] = None,
            check: bool = False) -> Dict[str, Any]:
    """system migrate [--new-runtime]: containers on another runtime go to ``new_runtime``.

    Running containers are stopped first and (``restart``) started again on the new runtime,
    in creation order. Without ``new_runtime`` every running container is stopped (and
    restarted): podman's plain migrate.
    """
    from ..objects.container import list_containers  # noqa: PLC0415

    if new_runtime and new_runtime not in rt.runtimes:
        raise InvalidArg('change to runtime "%s" requested but no such runtime is defined' % new_runtime,
                         hint="available OCI runtimes: %s" % (", ".join(sorted(rt.runtimes)) or "none"))
    st = rt.state
    saved_ns, st.namespace = st.namespace, ""
    try:
        ctrs = list_containers(rt)
    finally:
        st.namespace = saved_ns
    targets = [c for c in ctrs if new_runtime is None or c.config.get("oci_runtime") != new_runtime]
    result: Dict[str, Any] = {"runtime": new_runtime, "migrated": [], "stopped": [], "restarted": [],
                              "failed": [], "from": {}}
    ran = []
    for ctr in targets:
        active = _is_active(rt, ctr, check)
        if active:
            ran.append(ctr)
        result["migrated"].append(ctr.name)
        result["from"][ctr.name] = ctr.config.get("oci_runtime")
    result["stopped"] = [c.name for c in ran]
    result["changed"] = bool(result["migrated"])
    if check:
        result["restarted"] = [c.name for c in ran] if restart else []
        return result
    # stop dependents first (reverse creation order)
    for ctr in reversed(ran):
        try:
            ctr.stop(timeout)
        except EngineError as exc:
            result["failed"].append("%s: stop: %s" % (ctr.name, exc))
    for ctr in targets:
        if new_runtime is None:
            continue
        with ctr.locked():
            ctr.sync()
            if ctr.status in ACTIVE:
                result["failed"].append("%s: still %s, not migrated" % (ctr.name, ctr.status))
                continue
            cfg = dict(ctr.config, oci_runtime=new_runtime)
            st.rewrite_config("container", ctr.id, cfg)
            ctr.rec.config = cfg
            rt.event("container", "migrate", id=ctr.id, name=ctr.name, image=cfg.get("image", ""),
                     attributes={"from": result["from"][ctr.name] or "", "to": new_runtime})
    if restart:
        for ctr in ran:
            try:
                ctr.start()
                result["restarted"].append(ctr.name)
            except EngineError as exc:
                result["failed"].append("%s: start on %s: %s" % (ctr.name, new_runtime or "its runtime", exc))
    rt.event("system", "migrate")
    if result["failed"]:
        err = EngineError("migrate to %s: %s" % (new_runtime or "the same runtime", "; ".join(result["failed"])),
                          hint="the other containers were migrated; fix the cause and run the task again")
        err.result = result  # type: ignore[attr-defined]
        raise err
    return result


# -- boot unit ------------------------------------------------------------------------------------
DEFAULT_STATIC_DIR = "/var/lib/libpod-engine"


def systemd_booted() -> Tuple[bool, str]:
    """(True, "") when systemd is PID 1 (sd_booted: /run/systemd/system exists); else why not."""
    try:
        with open("/proc/1/comm") as f:
            comm = f.read().strip()
    except OSError:
        comm = "unknown"
    if os.path.isdir("/run/systemd/system") and comm == "systemd":
        return True, ""
    return False, "systemd is not PID 1 on this host (PID 1 is %s)" % comm


def boot_unit_name(static_dir: str) -> str:
    if os.path.normpath(static_dir) == DEFAULT_STATIC_DIR:
        return UNIT_PREFIX + ".service"
    return UNIT_PREFIX + "-%s.service" % hashlib.sha256(os.path.normpath(static_dir).encode()).hexdigest()[:8]


def _sd_quote(arg: str) -> str:
    if arg and not re.search(r'[\s"\'\\$%;]', arg):
        return arg
    return '"%s"' % arg.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$").replace("%", "%%")


def boot_command(rt, check: bool = False) -> List[str]:
    """argv of ``cli.py boot`` from the engine copy; in check mode the copy is not created, only
    its path computed (as Runtime.engine_copy names it)."""
    if not check or "engine_copy" in rt._lazy:  # noqa: SLF001
        return rt.cli_command() + ["boot"]
    from ..runtime import engine_digest  # noqa: PLC0415

    rt._lazy["engine_copy"] = os.path.join(rt.static_dir, "lib", engine_digest()[:16], "libpod_engine")  # noqa: SLF001
    try:
        return rt.cli_command() + ["boot"]
    finally:
        del rt._lazy["engine_copy"]  # noqa: SLF001


def boot_unit_text(argv: List[str], static_dir: str, env_conf: Optional[str] = None) -> str:
    lines = [
        "# Installed by the libpod.engine.runtime_config Ansible module (restart_on_boot). Do not edit:",
        "# the module rewrites it.",
        "[Unit]",
        "Description=libpod.engine: start restart_policy=always containers after boot (%s)" % static_dir,
        "Wants=network-online.target",
        "After=network-online.target local-fs.target",
        "ConditionPathExists=%s" % argv[2],
        "ConditionPathExists=%s" % os.path.join(static_dir, "state.db"),
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=true",
    ]
    if env_conf:
        lines.append("Environment=%s" % _sd_quote("LIBPOD_ENGINE_CONF=%s" % env_conf))
    lines += [
        "ExecStart=%s" % " ".join(_sd_quote(a) for a in argv),
        "TimeoutStartSec=900",
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ]
    return "\n".join(lines)


def _systemctl(args: List[str], systemctl: Optional[str]) -> None:
    exe = systemctl or shutil.which("systemctl")
    if not exe:
        return
    proc = subprocess.run([exe] + args, capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise EngineError("systemctl %s failed: %s" % (" ".join(args), proc.stderr.strip() or proc.returncode))


def ensure_boot_unit(rt, present: bool, *, check: bool = False, unit_dir: str = UNIT_DIR,
                     booted: Optional[Tuple[bool, str]] = None, systemctl: Optional[str] = None,
                     env: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """Install (``present``) or remove the boot unit; without systemd as PID 1 nothing changes."""
    booted = systemd_booted() if booted is None else booted
    env = os.environ if env is None else env
    name = boot_unit_name(rt.static_dir)
    path = os.path.join(unit_dir, name)
    out: Dict[str, Any] = {"unit": name, "path": path, "changed": False, "installed": os.path.exists(path),
                           "systemd": booted[0], "message": ""}
    if not booted[0]:
        argv = boot_command(rt, check=check)
        out["boot_command"] = argv
        out["message"] = ("restart_on_boot: %s, so no unit was installed or removed. Run this command from the "
                          "host's init system at boot instead, after the local filesystems and the network are up "
                          "(it refreshes the engine's per-boot state, then starts the restart_policy=always "
                          "containers; the systemd unit would run the same): %s"
                          % (booted[1], " ".join(shlex.quote(a) for a in argv)))
        return out
    if not present:
        if os.path.exists(path):
            out["changed"] = True
            if not check:
                _systemctl(["disable", name], systemctl)
                os.unlink(path)
                _systemctl(["daemon-reload"], systemctl)
            out["installed"] = False
            out["message"] = "removed %s" % path
        return out
    text = boot_unit_text(boot_command(rt, check=check), rt.static_dir, env.get("LIBPOD_ENGINE_CONF"))
    try:
        with open(path) as f:
            current = f.read()
    except OSError:
        current = None
    if current != text:
        out["changed"] = True
        out["message"] = "%s %s" % ("updated" if current is not None else "installed", path)
        if not check:
            from .confedit import write_atomic  # noqa: PLC0415

            write_atomic(path, text)
            _systemctl(["daemon-reload"], systemctl)
            _systemctl(["enable", name], systemctl)
    out["installed"] = True
    out["text"] = text
    return out


__all__ = ["reset", "reset_plan", "plan_is_empty", "renumber", "migrate", "ensure_boot_unit", "systemd_booted",
           "boot_unit_name", "boot_unit_text", "check_reset_paths", "engine_processes"]
