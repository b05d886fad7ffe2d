# SPDX-License-Identifier: GPL-3.0-or-later
"""What the engine of one test root left on the host, measured against its own state DB.

``find_leaks(env)`` lists every object of ours that exists without a reason, and every
inconsistency between the DB and the host. A container "holds" resources only while the DB
says it is running (or created/paused/stopping); anything else that exists is a leak:

* mounts under the root's static and tmp dirs (rootfs, netns, volumes) not held that way;
* netns files, veths and bridges (the test's own bridge prefix), nft chains of table
  libpod_engine that belong to this root's containers or bridges;
* IPAM leases and port claims of containers that are missing or not running;
* lock rows of missing objects, records without their lock row, lock numbers used twice;
* conmon processes, port holders and OCI runtime containers naming the root, not those of running
  containers;
* container storage / run dirs and volume dirs without a record, volume trash;
* partial imports (``.tmp-*``/``.trash-*`` under the graph root's layers, blobs and tmp), and
  cgroups ``libpod-<id>`` of this root's containers that are not running;
* journal entries (faults.py) of dead processes, volume mount counts that do not match the
  containers holding them, and running containers whose processes are gone (stale state).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from typing import Dict, Iterator, List, Optional, Set, Tuple

from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import argvs, printable
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import pid_alive as proc_pid_alive
from ansible_collections.libpod.engine.tests.helpers.mounts import mounts_below

HOLDING = ("running", "created", "paused", "stopping")
NFT_TABLE = "libpod_engine"


# -- reading --------------------------------------------------------------------------------------
def db_path(env) -> str:
    return os.path.join(env.paths["static_dir"], "state.db")


def read_db(env) -> Dict[str, list]:
    """Containers, pods, volumes, locks, leases, networks and journal rows of the test's engine."""
    out = {k: [] for k in ("containers", "pods", "volumes", "locks", "leases", "networks", "journal", "names",
                           "volume_users")}
    if not os.path.exists(db_path(env)):
        return out
    db = sqlite3.connect(db_path(env), timeout=60)
    try:
        out["containers"] = [
            {"id": i, "name": n, "lock_id": lk, "pod_id": p, "config": json.loads(c), "state": json.loads(s)}
            for i, n, lk, p, c, s in db.execute("SELECT id, name, lock_id, pod_id, config, state FROM containers")]
        out["pods"] = [{"id": i, "name": n, "lock_id": lk, "config": json.loads(c), "state": json.loads(s)}
                       for i, n, lk, c, s in db.execute("SELECT id, name, lock_id, config, state FROM pods")]
        out["volumes"] = [{"name": n, "lock_id": lk, "config": json.loads(c), "state": json.loads(s)}
                          for n, lk, c, s in db.execute("SELECT name, lock_id, config, state FROM volumes")]
        out["locks"] = [tuple(r) for r in db.execute("SELECT lock_id, owner_kind, owner_id FROM locks")]
        out["leases"] = [tuple(r) for r in db.execute("SELECT network, ip, container_id FROM ip_leases")]
        out["networks"] = [json.loads(c) for (c,) in db.execute("SELECT config FROM networks")]
        out["journal"] = [(k, json.loads(v)) for k, v in db.execute(
            "SELECT key, value FROM meta WHERE key >= 'dirty/' AND key < 'dirty0'")]
        out["names"] = [tuple(r) for r in db.execute("SELECT name, kind, id FROM names")]
        out["volume_users"] = [tuple(r) for r in db.execute("SELECT container_id, volume_name FROM container_volumes")]
    finally:
        db.close()
    return out


def proc_cmdlines() -> Iterator[Tuple[int, List[str]]]:
    """(pid, argv) of every other process (host.proc.argvs: a zombie's argv is [])."""
    return ((pid, args) for pid, args in argvs() if pid != os.getpid())


def pid_alive(pid: Optional[int]) -> bool:
    """host.proc.pid_alive (a zombie is dead), for a pid that may be unset."""
    return bool(pid) and proc_pid_alive(pid)


def _roots(env) -> List[str]:
    return [env.paths["static_dir"], env.paths["tmp_dir"]]


def exit_commands(env) -> List[int]:
    """Exit commands (run.py cleanup / boot) of this root that are still running."""
    static = env.paths["static_dir"]
    return [pid for pid, argv in proc_cmdlines()
            if argv and os.path.basename(argv[0]) != "conmon"
            and any(a.endswith("run.py") and a.startswith(static) for a in argv)]


def wait_quiet(env, timeout: float = 20.0) -> None:
    """Let conmon's exit commands of this root finish (they clean up after exits)."""
    deadline = time.time() + timeout
    while time.time() < deadline and exit_commands(env):
        time.sleep(0.1)


def mounts_under(dirs: List[str]) -> List[str]:
    return sorted(mounts_below(dirs))


def veth_name(prefix: str, ctr_id: str, network: str) -> str:
    h = hashlib.sha256(("%s/%s" % (ctr_id, network)).encode()).hexdigest()
    return (prefix + "v" + h)[:15]


def nft_chains() -> List[str]:
    nft = shutil.which("nft")
    if not nft:
        return []
    res = subprocess.run([nft, "-j", "list", "table", "ip", NFT_TABLE], capture_output=True, text=True,
                         timeout=30, check=False)
    if res.returncode != 0:
        return []
    try:
        doc = json.loads(res.stdout)
    except ValueError:
        return []
    return [item["chain"]["name"] for item in doc.get("nftables", []) if "chain" in item]


def runtime_containers(env) -> Dict[str, List[str]]:
    """OCI runtime name -> container IDs it knows under this root's runtime dirs."""
    out: Dict[str, List[str]] = {}
    base = os.path.join(env.paths["tmp_dir"], "runtime")
    if not os.path.isdir(base):
        return out
    for name in sorted(os.listdir(base)):
        binary = shutil.which(name)
        if not binary:
            continue
        res = subprocess.run([binary, "--root", os.path.join(base, name), "list", "-q"], capture_output=True,
                             text=True, timeout=30, check=False)
        out[name] = res.stdout.split()
    return out


def known_ids(env, db) -> Set[str]:
    """Every container ID this root ever used, as far as the host still tells."""
    ids = {c["id"] for c in db["containers"]}
    ids |= {k.split("/", 2)[2] for k, e in db["journal"] if e.get("kind") == "container"}
    log = os.path.join(env.paths["tmp_dir"], "events", "events.log")
    if os.path.exists(log):
        with open(log, encoding="utf-8") as f:
            for line in f:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if ev.get("Type") == "container" and ev.get("ID"):
                    ids.add(ev["ID"])
    for d in (os.path.join(env.paths["graph_root"], "containers"),
              os.path.join(env.paths["tmp_dir"], "storage", "containers"),
              os.path.join(env.paths["tmp_dir"], "exits"), os.path.join(env.paths["tmp_dir"], "netns")):
        if os.path.isdir(d):
            ids |= {n for n in os.listdir(d) if len(n) == 64}
    return ids


def container_cgroups(ids: Set[str], root: str = "/sys/fs/cgroup") -> List[str]:
    """cgroup dirs libpod-<id> of these containers in any hierarchy (below the engine's parent and its
    pods' cgroups)."""
    if not ids:
        return []
    found = []
    for hier in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        base = os.path.join(root, hier, "libpod-engine")
        if os.path.islink(os.path.join(root, hier)) or not os.path.isdir(base):
            continue
        for parent in [base] + [os.path.join(base, p) for p in os.listdir(base) if len(p) == 64]:
            try:
                names = os.listdir(parent)
            except OSError:
                continue
            found += [os.path.join(parent, n) for n in names if n.startswith("libpod-") and n[7:] in ids]
    return found


# -- the check ------------------------------------------------------------------------------------
def find_leaks(env, *, wait: float = 20.0) -> List[str]:
    """Problems found (empty = clean). Waits for pending exit commands first."""
    wait_quiet(env, wait)
    db = read_db(env)
    problems: List[str] = []
    paths = env.paths
    ctrs = {c["id"]: c for c in db["containers"]}
    holding = {i for i, c in ctrs.items() if c["state"].get("status") in HOLDING}
    prefix = paths.get("bridge_prefix")

    # stale state: the DB says running, the processes are gone
    for c in ctrs.values():
        st = c["state"]
        alive = pid_alive(st.get("pid")) or pid_alive(st.get("conmon_pid"))
        if st.get("status") in ("running", "paused") and not alive:
            problems.append("stale state: container %s is %s in the DB but its processes are gone"
                            % (c["name"], st["status"]))
        if st.get("status") in ("removing", "stopping", "stopped"):
            problems.append("unsettled state: container %s is %s" % (c["name"], st["status"]))

    # mounts
    allowed = {os.path.join(paths["tmp_dir"], "netns")}
    for i in holding:
        allowed.add(os.path.join(paths["graph_root"], "containers", i, "merged"))
        if ctrs[i]["state"].get("netns"):
            allowed.add(ctrs[i]["state"]["netns"])
    for v in db["volumes"]:
        if v["state"].get("mount_count"):
            allowed.add(os.path.join(paths["volume_path"], v["name"], "_data"))
    for m in mounts_under(_roots(env)):
        if m not in allowed:
            problems.append("mount %s" % m)

    # netns files
    nsdir = os.path.join(paths["tmp_dir"], "netns")
    if os.path.isdir(nsdir):
        for n in os.listdir(nsdir):
            if n not in holding:
                problems.append("netns file %s" % os.path.join(nsdir, n))

    # interfaces
    default_net = paths.get("default_network", "engine")
    wanted_nets = set()
    for c in ctrs.values():
        net = c["config"].get("network") or {}
        if net.get("mode", "bridge") == "bridge":
            wanted_nets.update(net.get("networks") or [default_net])
    bridges = {n["network_interface"]: n for n in db["networks"]}
    expected_veths = set()
    for i in holding:
        for ns in ((ctrs[i]["state"].get("network_status") or {}).get("networks") or {}).values():
            if ns.get("host_interface"):
                expected_veths.add(ns["host_interface"])
    for ifname in os.listdir("/sys/class/net"):
        if not (ifname in bridges or (prefix and ifname.startswith(prefix))):
            continue
        if os.path.isdir("/sys/class/net/%s/bridge" % ifname):
            net = bridges.get(ifname)
            if net is None or net["name"] not in wanted_nets:
                problems.append("bridge %s (network %s, no container wants it)"
                                % (ifname, net["name"] if net else "unknown"))
        elif ifname not in expected_veths:
            master = os.path.basename(os.path.realpath("/sys/class/net/%s/master" % ifname))
            problems.append("interface %s (on %s)" % (ifname, master or "no bridge"))

    # nft chains of this root
    ids = known_ids(env, db)
    published = {i for i in holding if (ctrs[i]["state"].get("network_status") or {}).get("ports")}
    for chain in nft_chains():
        if chain.startswith("c_") and (chain.endswith("_pre") or chain.endswith("_out")):
            owner = chain[2:-4]
            if owner in ids and owner not in published:
                problems.append("nft chain %s" % chain)
        elif chain.startswith("n_") and chain.endswith("_post"):
            br = chain[2:-5]
            if (br in bridges or (prefix and br.startswith(prefix))) and (
                    br not in bridges or bridges[br]["name"] not in wanted_nets):
                problems.append("nft chain %s" % chain)

    # leases and port claims
    ip_owner = {}
    for network, ip, cid in db["leases"]:
        if cid not in holding:
            owner = "missing" if cid not in ctrs else ctrs[cid]["state"].get("status")
            problems.append("lease %s %s of %s container %s" % (network, ip, owner, cid[:12]))
        if not network.startswith("#"):
            if (network, ip) in ip_owner:
                problems.append("duplicate IP %s on %s" % (ip, network))
            ip_owner[(network, ip)] = cid
    seen_ips: Dict[tuple, str] = {}
    for i in holding:
        for nname, ns in ((ctrs[i]["state"].get("network_status") or {}).get("networks") or {}).items():
            key = (nname, ns.get("ip"))
            if key[1] and key in seen_ips:
                problems.append("duplicate IP %s on %s: %s and %s" % (key[1], nname, ctrs[i]["name"], seen_ips[key]))
            seen_ips[key] = ctrs[i]["name"]

    # locks
    owners = {("container", c["id"]): c["lock_id"] for c in db["containers"]}
    owners.update({("pod", p["id"]): p["lock_id"] for p in db["pods"]})
    owners.update({("volume", v["name"]): v["lock_id"] for v in db["volumes"]})
    rows = {lk: (kind, oid) for lk, kind, oid in db["locks"]}
    for lk, (kind, oid) in rows.items():
        if owners.get((kind, oid)) != lk:
            problems.append("lock %d of missing %s %s" % (lk, kind, oid[:12]))
    used: Dict[int, tuple] = {}
    for (kind, oid), lk in owners.items():
        if lk is None or rows.get(lk) != (kind, oid):
            problems.append("%s %s has lock %s but no lock row for it" % (kind, oid[:12], lk))
        if lk is not None and lk in used:
            problems.append("lock number %d used by %s and %s %s" % (lk, used[lk], kind, oid[:12]))
        used[lk] = (kind, oid[:12])
    for name, kind, oid in db["names"]:
        if (kind, oid) not in owners:
            problems.append("name %s of missing %s %s" % (name, kind, oid[:12]))

    # processes and runtime containers
    conmons = {ctrs[i]["state"].get("conmon_pid") for i in holding}
    for pid, argv in proc_cmdlines():
        if argv and os.path.basename(argv[0]) == "conmon" and pid not in conmons and \
                any(r in a for a in argv for r in _roots(env)):
            problems.append("conmon %d (%s)" % (pid, printable(" ".join(argv))[:120]))
    # port holders (network/portholder.py): argv[0] = <tmp_dir>/ports/<container id>, or the
    # [::1] proxy's argument after loopproxy.py (portholder.holder_name)
    holders_dir = os.path.join(env.paths["tmp_dir"], "ports") + "/"
    for pid, argv in proc_cmdlines():
        name = argv[3] if len(argv) >= 4 and os.path.basename(argv[2]) == "loopproxy.py" else (argv or [""])[0]
        if name.startswith(holders_dir) and name[len(holders_dir):] not in holding:
            problems.append("port holder %d of container %s" % (pid, name[len(holders_dir):][:12]))
    for rname, cids in runtime_containers(env).items():
        for cid in cids:
            if cid not in holding:
                owner = "no record" if cid not in ctrs else ctrs[cid]["state"].get("status")
                problems.append("%s container %s (%s)" % (rname, cid[:12], owner))

    # dirs
    for d, what in ((os.path.join(paths["graph_root"], "containers"), "container storage"),
                    (os.path.join(paths["tmp_dir"], "storage", "containers"), "container run dir")):
        if os.path.isdir(d):
            for n in os.listdir(d):
                if n not in ctrs:
                    problems.append("%s %s without a record" % (what, n[:12]))
    vols = {v["name"]: v for v in db["volumes"]}
    if os.path.isdir(paths["volume_path"]):
        for n in os.listdir(paths["volume_path"]):
            if n not in vols and n != ".libpod-engine-root":  # the root's ownership marker (host/roots.py)
                problems.append("volume dir %s without a record" % n)

    # partial imports (a killed import's temp layer or blob), container cgroups of containers not running
    for d in (os.path.join(paths["graph_root"], "layers"), os.path.join(paths["graph_root"], "blobs", "sha256"),
              os.path.join(paths["graph_root"], "tmp")):
        if os.path.isdir(d):
            problems += ["partial import %s" % os.path.join(d, n) for n in os.listdir(d)
                         if n.startswith((".tmp-", ".trash-"))]
    for cg in container_cgroups(ids - holding):
        problems.append("cgroup %s" % cg)

    # journal, volume mount counts
    for k, e in db["journal"]:
        if not (e.get("pid") and pid_alive(e["pid"])):
            problems.append("journal entry %s of dead process %s (op %s)" % (k, e.get("pid"), e.get("op")))
    users = {}
    for cid, vname in db["volume_users"]:
        users.setdefault(vname, []).append(cid)
    for name, v in vols.items():
        if v["config"].get("anonymous") and not users.get(name):
            problems.append("anonymous volume %s without its container" % name[:12])
        want = sum(1 for c in ctrs.values() if name in (c["state"].get("volumes_mounted") or []))
        if (v["state"].get("mount_count") or 0) != want:
            problems.append("volume %s mount count %s, %d container(s) hold it"
                            % (name, v["state"].get("mount_count"), want))
    return problems


def anonymous_volumes(env) -> List[str]:
    return [v["name"] for v in read_db(env)["volumes"] if v["config"].get("anonymous")]
