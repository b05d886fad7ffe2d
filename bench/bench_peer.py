# SPDX-License-Identifier: GPL-3.0-or-later
"""Ours against the peer (containers.podman driving podman) and Ansible's floor, in one run (issue 20).

    /root/venv/bin/python bench/bench_peer.py [--n 20] [--rounds 3] [--network none|default]
        [--before /path/to/other/checkout]       # also time another checkout of ours (before/after)

Per round, interleaved: floor (N x ansible.builtin.ping), ours create / no-op re-run / remove,
the peer's create / re-run / remove, and the floor again under the peer's Ansible. Each figure is
the wall time of one whole ansible-playbook run (start-up included, as for the floor); the report
gives medians over the rounds and the ratios, which are what to compare on a shared machine.

The peer runs from ``bench/.peer-venv`` (the ``ansible`` PyPI package bundles containers.podman;
created on first use with pip, never part of the product's requirements) against podman from
apt, with its own storage (graph root under the bench root), ``runtime = "runc"`` and nofile/nproc
1024 (this host's limits, substrate.md), and remove with ``delete_time: 0`` (ours: ``timeout: 0``).
Figures only: nothing asserts on time.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

from common import BENCH, PYTHON, BenchRoot, busybox_archive, children_cpu, loadavg, playbook_bin

PEER_VENV = os.path.join(BENCH, ".peer-venv")
PEER_PYTHON = os.path.join(PEER_VENV, "bin", "python")
IMAGE = "localhost/busybox:latest"


def ensure_peer_venv() -> str:
    """bench/.peer-venv with the ``ansible`` package (gitignored); returns its ansible-playbook."""
    exe = os.path.join(PEER_VENV, "bin", "ansible-playbook")
    if not os.access(exe, os.X_OK):
        subprocess.run([sys.executable, "-m", "venv", PEER_VENV], check=True)
        subprocess.run([PEER_PYTHON, "-m", "pip", "install", "-q", "ansible"], check=True)
    return exe


def _play(path: str, tasks: str) -> str:
    with open(path, "w", encoding="utf-8") as f:
        f.write("- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n")
        for line in tasks.strip("\n").splitlines():
            f.write("    " + line + "\n")
    return path


def _run(exe: str, playbook: str, env: Dict[str, str], cwd: str) -> Dict[str, Any]:
    t0, cpu0 = time.perf_counter(), children_cpu()
    proc = subprocess.run([exe, "-i", "localhost,", playbook], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, check=False, timeout=1800)
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    recap = [ln for ln in proc.stdout.splitlines() if ln.startswith("localhost")]
    return {"rc": proc.returncode, "wall": wall, "cpu": cpu, "recap": recap[-1] if recap else "",
            "tail": (proc.stdout + proc.stderr)[-1500:]}


class Peer:
    """podman with its own storage and config under the bench root, driven by containers.podman."""

    def __init__(self, root: str, archive: str):
        self.root = os.path.join(root, "peer")
        os.makedirs(self.root, exist_ok=True)
        self.conf = os.path.join(self.root, "containers.conf")
        self.storage = os.path.join(self.root, "storage.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write('[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n'
                    '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
                    'tmp_dir = "%s"\n' % os.path.join(self.root, "tmp"))
        with open(self.storage, "w", encoding="utf-8") as f:
            f.write('[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n'
                    % (os.path.join(self.root, "graph"), os.path.join(self.root, "run")))
        self.env = dict(os.environ, CONTAINERS_CONF=self.conf, CONTAINERS_STORAGE_CONF=self.storage,
                        ANSIBLE_CONFIG=os.path.join(self.root, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                        ANSIBLE_PYTHON_INTERPRETER=PEER_PYTHON, ANSIBLE_LOCALHOST_WARNING="False",
                        ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
                        ANSIBLE_LOCAL_TEMP=os.path.join(self.root, "ansible-tmp"),
                        ANSIBLE_REMOTE_TEMP=os.path.join(self.root, "ansible-remote-tmp"))
        for k in ("ANSIBLE_COLLECTIONS_PATH", "PYTHONPATH", "LIBPOD_ENGINE_CONF"):
            self.env.pop(k, None)
        open(self.env["ANSIBLE_CONFIG"], "w").close()
        self.tables_before = nft_tables()
        subprocess.run(["podman", "load", "-q", "-i", archive], env=self.env, check=True, capture_output=True)

    def cleanup(self) -> List[str]:
        subprocess.run(["podman", "rm", "-a", "-f", "-t", "0"], env=self.env, capture_output=True, check=False)
        left = subprocess.run(["podman", "ps", "-a", "-q"], env=self.env, capture_output=True, text=True,
                              check=False).stdout.split()
        subprocess.run(["podman", "system", "reset", "-f"], env=self.env, capture_output=True, check=False)
        subprocess.run(["umount", "-R", os.path.join(self.root, "graph", "overlay")], capture_output=True,
                       check=False)
        # netavark (through iptables-nft) leaves its nat/filter tables behind: drop those it created
        for table in sorted(set(nft_tables()) - set(self.tables_before)):
            if table.split()[1] in ("nat", "filter", "mangle"):
                subprocess.run(["nft", "delete", "table"] + table.split(), capture_output=True, check=False)
        return ["peer container %s" % c for c in left]


def nft_tables() -> List[str]:
    """``nft list tables`` as "family name" strings ([] without nft)."""
    try:
        out = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return []
    return [line[len("table "):].strip() for line in out.splitlines() if line.startswith("table ")]


def _ours_tasks(n: int, archive: str, network: str, state: str) -> str:
    net = "" if network == "default" else "\n    network: none"
    if state == "absent":
        body = "    state: absent\n    timeout: 0"
    else:
        body = "    image: oci-archive:%s\n    command: [sleep, \"1000\"]%s\n    state: started" % (archive, net)
    return ("- libpod.engine.container:\n    name: \"lpe-{{ item }}\"\n%s\n"
            "  loop: \"{{ range(%d) | list }}\"\n" % (body, n))


def _peer_tasks(n: int, network: str, state: str) -> str:
    net = "" if network == "default" else "\n    network: none"
    if state == "absent":
        body = "    state: absent\n    delete_time: 0"
    else:
        body = "    image: %s\n    command: [sleep, \"1000\"]%s\n    state: started" % (IMAGE, net)
    return ("- containers.podman.podman_container:\n    name: \"peer-{{ item }}\"\n%s\n"
            "  loop: \"{{ range(%d) | list }}\"\n" % (body, n))


def _floor_tasks(n: int) -> str:
    return "- ansible.builtin.ping:\n  loop: \"{{ range(%d) | list }}\"\n" % n


def med(vals: List[float]) -> Optional[float]:
    return statistics.median(vals) if vals else None


def run(n: int = 20, rounds: int = 3, network: str = "none", before: Optional[str] = None) -> Dict[str, Any]:
    peer_exe = ensure_peer_venv()
    ours_exe = playbook_bin()
    b = BenchRoot("peer")
    broots = {"ours": b}
    if before:
        broots["before"] = BenchRoot("peer-before")
    peer = None
    samples: Dict[str, List[float]] = {}
    cpu: Dict[str, List[float]] = {}  # user+sys of ansible-playbook and what it waited for (not detached conmons)
    notes: List[str] = []
    try:
        archive = busybox_archive(b.root)
        peer = Peer(b.root, archive)
        plays = os.path.join(b.root, "plays")
        os.makedirs(plays, exist_ok=True)
        files = {"floor": _play(os.path.join(plays, "floor.yml"), _floor_tasks(n))}
        for st, key in (("started", "create"), ("started", "noop"), ("absent", "remove")):
            files["ours-" + key] = _play(os.path.join(plays, "ours-%s.yml" % key), _ours_tasks(n, archive, network, st))
            files["peer-" + key] = _play(os.path.join(plays, "peer-%s.yml" % key), _peer_tasks(n, network, st))

        def env_of(which: str) -> Dict[str, str]:
            env = broots[which].env()
            if which == "before":
                coll = os.path.join(before, ".build", "collections")
                env.update(PYTHONPATH=coll, ANSIBLE_COLLECTIONS_PATH=coll)
            return env

        def timed(label: str, exe: str, play: str, env: Dict[str, str], cwd: str) -> None:
            res = _run(exe, play, env, cwd)
            if res["rc"] != 0:
                notes.append("%s failed rc=%s: %s" % (label, res["rc"], res["tail"]))
                print("  %s FAILED rc=%s\n%s" % (label, res["rc"], res["tail"]), flush=True)
                return
            samples.setdefault(label, []).append(res["wall"])
            cpu.setdefault(label, []).append(res["cpu"])
            print("  %-16s %6.2f s  cpu %6.2f s  %s" % (label, res["wall"], res["cpu"], res["recap"]), flush=True)

        for r in range(rounds):
            print("round %d (load %s)" % (r + 1, loadavg()), flush=True)
            timed("floor", ours_exe, files["floor"], env_of("ours"), b.root)
            for which, broot in broots.items():
                for key in ("create", "noop", "remove"):
                    timed("%s-%s" % (which, key), ours_exe, files["ours-" + key], env_of(which), broot.root)
            for key in ("create", "noop", "remove"):
                timed("peer-" + key, peer_exe, files["peer-" + key], peer.env, peer.root)
            timed("floor-peer-ansible", peer_exe, files["floor"], peer.env, peer.root)
    finally:
        left = peer.cleanup() if peer else []
        for br in broots.values():
            left += br.cleanup()
    return {"n": n, "rounds": rounds, "network": network, "samples": samples, "cpu": cpu, "notes": notes,
            "leftovers": left,
            "versions": _versions(peer_exe)}


def _versions(peer_exe: str) -> Dict[str, str]:
    def first(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    peer_coll = subprocess.run([os.path.join(PEER_VENV, "bin", "ansible-galaxy"), "collection", "list",
                                "containers.podman"], capture_output=True, text=True, check=False).stdout
    line = [ln for ln in peer_coll.splitlines() if ln.startswith("containers.podman")]
    return {"podman": first(["podman", "--version"]), "peer_ansible_core": first([peer_exe, "--version"]),
            "peer_collection": line[0] if line else "?", "ours_ansible_core": first([playbook_bin(), "--version"]),
            "python": PYTHON}


def ratios(res: Dict[str, Any], figure: str = "samples") -> List[tuple]:
    """(what, ratio, medians) rows of the summary: of the walls, or of the CPU times (figure="cpu")."""
    m = {k: med(v) for k, v in (res.get(figure) or {}).items()}
    out = []

    def add(what: str, a: str, b: str) -> None:
        if m.get(a) and m.get(b):
            out.append((what, m[a] / m[b], "%.2f s / %.2f s" % (m[a], m[b])))
    for who in ("ours", "before"):
        add("%s no-op / floor" % who, who + "-noop", "floor")
        for key in ("create", "remove", "noop"):
            add("%s %s / peer %s" % (who, key, key), "%s-%s" % (who, key), "peer-" + key)
    add("peer no-op / floor (peer's Ansible)", "peer-noop", "floor-peer-ansible")
    return out


def paired_ratios(res: Dict[str, Any]) -> List[tuple]:
    s = res["samples"]
    out = []
    for a, b in (("ours-noop", "floor"), ("before-noop", "floor"), ("ours-create", "peer-create"),
                 ("before-create", "peer-create"), ("ours-remove", "peer-remove"), ("before-remove", "peer-remove")):
        if s.get(a) and s.get(b) and len(s[a]) == len(s[b]):
            out.append(("%s/%s" % (a, b), [x / y for x, y in zip(s[a], s[b])]))
    return out


def markdown(res: Dict[str, Any], argv: List[str]) -> str:
    lines = ["## Ours against the peer (containers.podman + podman) and the `ping` floor", "",
             "`%s` — N = %d containers, %d rounds, network %s; walls of whole ansible-playbook runs, "
             "medians over the rounds (interleaved in one run)." % (" ".join(["bench/bench_peer.py"] + argv),
                                                                    res["n"], res["rounds"], res["network"]), "",
             "| ratio | value | medians |", "| --- | --- | --- |"]
    lines += ["| %s | **%.2f** | %s |" % (w, r, s) for w, r, s in ratios(res)]
    if res.get("cpu"):
        lines += ["", "The same ratios of CPU time (user + sys of ansible-playbook and every process it waited for, "
                  "not the detached conmons; moves much less with the load than the walls):", "",
                  "| ratio (CPU) | value | medians |", "| --- | --- | --- |"]
        lines += ["| %s | **%.2f** | %s |" % (w, r, s) for w, r, s in ratios(res, "cpu")]
    paired = paired_ratios(res)
    if paired:
        lines += ["", "Per round (each pair timed minutes apart in the same round): " + "; ".join(
            "%s %s" % (w, " / ".join("%.2f" % x for x in v)) for w, v in paired)]
    lines += ["", "| playbook | median s | min–max | runs | CPU median s |", "| --- | --- | --- | --- | --- |"]
    for k, v in res["samples"].items():
        c = (res.get("cpu") or {}).get(k) or [float("nan")]
        lines.append("| %s | %.2f | %.2f–%.2f | %d | %.2f |" % (k, med(v), min(v), max(v), len(v), med(c)))
    lines += ["", "Versions: %s" % ", ".join("%s %s" % kv for kv in res["versions"].items())]
    if res["notes"]:
        lines += ["", "Notes:"] + ["- " + n.replace("\n", " ")[:400] for n in res["notes"]]
    lines += ["", "Left over after cleanup: %s" % (", ".join(res["leftovers"]) or "nothing")]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--network", choices=("none", "default"), default="none")
    ap.add_argument("--before", help="another checkout of ours (with .build/collections) timed in the same run")
    ap.add_argument("--out", default=os.path.join(BENCH, "out"))
    args = ap.parse_args(argv)
    if os.geteuid() != 0 or not shutil.which("podman"):
        print("run as root, with podman installed (apt)", file=sys.stderr)
        return 2
    res = run(args.n, args.rounds, args.network, args.before)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "peer.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1)
    md = markdown(res, sys.argv[1:] if argv is None else argv)
    with open(os.path.join(args.out, "peer.md"), "w", encoding="utf-8") as f:
        f.write(md)
    # and the section of report.md (replacing the one of an earlier peer run)
    report_md = os.path.join(args.out, "report.md")
    text = ""
    if os.path.exists(report_md):
        with open(report_md, encoding="utf-8") as f:
            text = f.read().split(md.splitlines()[0])[0]
    with open(report_md, "w", encoding="utf-8") as f:
        f.write(text.rstrip("\n") + ("\n\n" if text.strip() else "") + md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
