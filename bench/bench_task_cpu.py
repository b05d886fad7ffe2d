# SPDX-License-Identifier: GPL-3.0-or-later
"""CPU time of one module process, ours against ``ping`` (and another checkout), interleaved (issue 20).

    /root/venv/bin/python bench/bench_task_cpu.py [--rounds 8] [--before /path/to/other/checkout]
        [--only ping,noop,remove,create]

One playbook per checkout runs, with ANSIBLE_KEEP_REMOTE_FILES=1: ``ping``; a ``container``
task that creates and starts ``lpe-cpu`` (network none); the same task again (the no-op); a
create of ``lpe-rm`` and its removal (``state: absent``, ``timeout: 0``). Their AnsiballZ files
(arguments inside, the collection as a zip, what a real task runs) are then re-run by hand,
round after round, alternating the checkouts; each figure is the user+sys CPU time of the module
process and everything it waited for (``os.wait4``), which the load of other processes on the
machine changes much less than walls. ``remove`` re-creates ``lpe-rm`` with the kept create file
before each timed removal. Figures only: nothing asserts on time.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Dict, List

from common import PYTHON, BenchRoot, busybox_archive, loadavg, run_playbook

ORDER = ("ping", "noop", "create", "remove")


def _tasks(archive: str) -> str:
    def ctr(name: str, state: str) -> str:
        if state == "absent":
            return "- libpod.engine.container:\n    name: %s\n    state: absent\n    timeout: 0\n" % name
        return ("- libpod.engine.container:\n    name: %s\n    image: oci-archive:%s\n"
                "    command: [sleep, \"1000\"]\n    network: none\n    state: started\n" % (name, archive))
    return ("- ansible.builtin.ping:\n" + ctr("lpe-cpu", "started") + ctr("lpe-cpu", "started")
            + ctr("lpe-rm", "started") + ctr("lpe-rm", "absent"))


def _kept(b: BenchRoot) -> List[str]:
    """The kept AnsiballZ files in task order."""
    top = os.path.join(b.root, "ansible-remote-tmp")
    found = []
    for d in os.listdir(top):
        for f in os.listdir(os.path.join(top, d)):
            if f.startswith("AnsiballZ_"):
                path = os.path.join(top, d, f)
                found.append((os.stat(path).st_mtime_ns, path))
    return [p for _t, p in sorted(found)]


def run_file(path: str, env: Dict[str, str]) -> Dict[str, float]:
    """One module process: CPU (user+sys, with what it waited for) and wall."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([PYTHON, path], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    out = proc.stdout.read()
    proc.stderr.read()
    _pid, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    res = json.loads(out.decode().strip().splitlines()[-1])
    if res.get("failed"):
        raise RuntimeError("%s failed: %s" % (path, res.get("msg")))
    return {"cpu": ru.ru_utime + ru.ru_stime, "user": ru.ru_utime, "sys": ru.ru_stime, "wall": wall,
            "changed": bool(res.get("changed"))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--before", help="another checkout of ours (bash scripts/setup.sh run in it)")
    ap.add_argument("--only", default=",".join(ORDER))
    a = ap.parse_args()
    only = [w for w in ORDER if w in a.only.split(",")]
    sides = {"after": BenchRoot("cpu")}
    if a.before:
        sides["before"] = BenchRoot("cpu-before")
    files: Dict[str, Dict[str, str]] = {}
    envs: Dict[str, Dict[str, str]] = {}
    samples: Dict[str, List[Dict[str, float]]] = {}
    try:
        for side, b in sides.items():
            extra = {}
            if side == "before":
                coll = os.path.join(a.before, ".build", "collections")
                extra = {"PYTHONPATH": coll, "ANSIBLE_COLLECTIONS_PATH": coll}
            archive = busybox_archive(b.root)
            res = run_playbook(b, _tasks(archive), env=dict(extra, ANSIBLE_KEEP_REMOTE_FILES="1"))
            if res["rc"] != 0:
                print(res["stdout"], res["stderr"], file=sys.stderr)
                return 1
            kept = _kept(b)
            files[side] = dict(zip(("ping", "noop-create", "noop", "create", "remove"), kept))
            print("%s: AnsiballZ files (bytes): %s" % (side, ", ".join(
                "%s %d" % (w, os.path.getsize(path)) for w, path in files[side].items() if w != "noop-create")))
            envs[side] = b.env(**extra)
        print("load %s" % loadavg(), flush=True)
        for r in range(a.rounds):
            order = list(sides) if r % 2 == 0 else list(reversed(list(sides)))
            for side in order:
                for what in only:
                    if what == "create":  # re-create needs the old one gone
                        run_file(files[side]["remove"], envs[side])
                    if what == "remove":
                        run_file(files[side]["create"], envs[side])
                    key = "create" if what == "create" else what
                    fig = run_file(files[side][key], envs[side])
                    samples.setdefault("%s-%s" % (side, what), []).append(fig)
            print("round %d load %s" % (r + 1, loadavg()), flush=True)
    finally:
        for b in sides.values():
            left = b.cleanup()
            if left:
                print("cleanup: %s" % left)
    print("| process | CPU ms (median) | user | sys | wall ms | N |\n| --- | --- | --- | --- | --- | --- |")
    med = {}
    for key, figs in samples.items():
        m = {k: statistics.median(f[k] for f in figs) for k in ("cpu", "user", "sys", "wall")}
        med[key] = m
        print("| %s | %.0f (%.0f–%.0f) | %.0f | %.0f | %.0f | %d |" % (
            key, m["cpu"] * 1e3, min(f["cpu"] for f in figs) * 1e3, max(f["cpu"] for f in figs) * 1e3,
            m["user"] * 1e3, m["sys"] * 1e3, m["wall"] * 1e3, len(figs)))
    for side in sides:
        ping = med.get("%s-ping" % side)
        for what in only:
            key = "%s-%s" % (side, what)
            if ping and what != "ping" and key in med:
                print("%s / %s-ping CPU: %.2f" % (key, side, med[key]["cpu"] / ping["cpu"]))
    if "before" in sides:
        for what in only:
            if "after-" + what in med and "before-" + what in med:
                print("%s after/before CPU: %.2f" % (what, med["after-" + what]["cpu"] / med["before-" + what]["cpu"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
