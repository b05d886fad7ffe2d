# SPDX-License-Identifier: GPL-3.0-or-later
"""Instructions a module process executes, ours against ``ping`` (and another checkout): a figure
that does not move with the machine's load (issue 20).

    /root/venv/bin/python bench/bench_task_instructions.py [--before /path/to/other/checkout] [--runs 2]

CPU times on this 2-core VM move by several percent from run to run, as much as a change worth a
few milliseconds of a ~200 ms task. valgrind's instruction count (cachegrind, no cache simulation)
repeats to within 0.01 % for the same file (PYTHONHASHSEED fixed), so it shows such a change. It
is not time: it leaves out the kernel, cache misses and the ~50x slowdown's own effects; the CPU
times of bench_task_cpu.py and the walls of bench_peer.py stay the goal's figures.

One playbook per checkout runs ``ping`` and the no-op of bench_task_cpu.py with
ANSIBLE_KEEP_REMOTE_FILES=1; their AnsiballZ files are then run under valgrind by hand (the
no-op once before, so that the node's bytecode copy and caches are warm, as in a playbook).
Needs valgrind (scripts/setup.sh installs it). Figures only: nothing asserts on them.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from typing import Dict, List

from bench_task_cpu import _kept, _tasks
from common import PYTHON, BenchRoot, busybox_archive, loadavg, run_playbook

I_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def instructions(path: str, env: Dict[str, str]) -> int:
    """Instructions the module process ``path`` executed (valgrind cachegrind's I refs)."""
    proc = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                           PYTHON, path], env=dict(env, PYTHONHASHSEED="0"), capture_output=True, text=True,
                          check=False)
    found = I_REFS.search(proc.stderr)
    if not found or '"failed": true' in proc.stdout or not proc.stdout.strip():
        raise RuntimeError("%s: %s %s" % (path, proc.stdout[-500:], proc.stderr[-1500:]))
    return int(found.group(1).replace(",", ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", help="another checkout of ours (bash scripts/setup.sh run in it)")
    ap.add_argument("--runs", type=int, default=2, help="valgrind runs per file (they agree to ~0.01 %%)")
    a = ap.parse_args()
    sides = {"after": None}
    if a.before:
        sides["before"] = os.path.join(a.before, ".build", "collections")
    rows: Dict[str, Dict[str, List[int]]] = {}
    sizes: Dict[str, Dict[str, int]] = {}
    for side, coll in sides.items():
        b = BenchRoot("instr-" + side)
        try:
            extra = {"PYTHONPATH": coll, "ANSIBLE_COLLECTIONS_PATH": coll} if coll else {}
            res = run_playbook(b, _tasks(busybox_archive(b.root)), env=dict(extra, ANSIBLE_KEEP_REMOTE_FILES="1"))
            if res["rc"] != 0:
                print(res["stdout"], res["stderr"], file=sys.stderr)
                return 1
            files = dict(zip(("ping", "noop-create", "noop", "create", "remove"), _kept(b)))
            env = b.env(**extra)
            subprocess.run([PYTHON, files["noop"]], env=env, capture_output=True, check=False)
            rows[side] = {w: [instructions(files[w], env) for run in range(a.runs)] for w in ("ping", "noop")}
            sizes[side] = {w: os.path.getsize(files[w]) for w in ("ping", "noop")}
            print("%s done, load %s" % (side, loadavg()), flush=True)
        finally:
            left = b.cleanup()
            if left:
                print("cleanup: %s" % left)
    print("| tree | ping (M instructions) | no-op | no-op over ping | no-op / ping | AnsiballZ ping / no-op (bytes) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for side, figs in rows.items():
        ping, noop = min(figs["ping"]), min(figs["noop"])
        print("| %s | %.1f | %.1f | %.1f | %.3f | %d / %d |" % (
            side, ping / 1e6, noop / 1e6, (noop - ping) / 1e6, noop / ping, sizes[side]["ping"], sizes[side]["noop"]))
    spread = max((max(v) - min(v)) / min(v) for figs in rows.values() for v in figs.values())
    print("largest spread between runs of one file: %.4f %%" % (spread * 100))
    return 0


if __name__ == "__main__":
    sys.exit(main())
