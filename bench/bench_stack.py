# SPDX-License-Identifier: GPL-3.0-or-later
"""A no-op ``libpod.engine.stack`` task over 500 containers (issue 20: goal < 1 s).

One stack task declares 500 busybox containers (``network: none``, ``state: created`` by default:
500 started containers would mean 500 conmons on this shared 2-core host, and their stops dominate
the cleanup; ``--state started`` measures that case). The first run creates them; then the same
playbook (a no-op, ``changed=false``) and an empty playbook (one ``meta: noop`` task: Ansible's own
start-up and play) are run N times interleaved. The figure is the no-op's wall minus the empty
playbook's wall (medians, and per round), plus the task's own span from the timing callback, the
CPU (user+sys) of each playbook run, and the module process alone (its kept AnsiballZ file re-run:
wall, CPU and the size of its result, which the controller deserializes and passes to callbacks).
A control task gives the same arguments to ``bench/library/stack_args_sink.py``, a module that only
parses them: what Ansible itself spends on a task with N entries, whatever the module does. A second
control returns our no-op's result as well: what the result's size costs (module and controller).

    python bench/bench_stack.py [--n 500] [--rounds 3] [--state created|started] [--before CHECKOUT]

``--before DIR`` also times the same no-op with another checkout of ours (its .build/collections,
made by its scripts/setup.sh) against the same engine root, in the same rounds.

Figures only, nothing asserted.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

from common import (
    IMAGE,
    PYTHON,
    BenchRoot,
    Section,
    ansible_available,
    busybox_archive,
    children_cpu,
    import_image,
    run_playbook,
    summary,
)

#: the control module (bench/library/stack_args_sink.py): the same task's arguments, no work
SINK = "stack_args_sink"
SINK_ENV = {"ANSIBLE_LIBRARY": os.path.join(os.path.dirname(os.path.abspath(__file__)), "library")}


def stack_task(n: int, state: str, module: str = "libpod.engine.stack") -> str:
    lines = ["- name: stack", "  %s:" % module, "    label: bench", "    containers:"]
    for i in range(n):
        lines.append("      - {name: st-%04d, image: %s, command: [sleep, \"1000\"], network: none, state: %s}"
                     % (i, IMAGE, state))
    return "\n".join(lines) + "\n"


EMPTY = "- name: empty\n  meta: noop\n"


def _task_span(res: Dict[str, Any], name: str) -> float:
    tasks = [t for t in res["tasks"] if t["name"] == name and t.get("end")]
    return tasks[0]["end"] - tasks[0]["start"] if tasks else float("nan")


def _module_alone(b: BenchRoot, task: str, rounds: int) -> Dict[str, List[float]]:
    """Wall and CPU (user+sys of the reaped child) of the no-op module process without Ansible's controller,
    and its result's size: the playbook once more with ANSIBLE_KEEP_REMOTE_FILES, then its
    AnsiballZ_stack.py (args inside, zip imports) run by hand."""
    keep = run_playbook(b, task, env={"ANSIBLE_KEEP_REMOTE_FILES": "1"})
    if keep["rc"] != 0:
        return {}
    found = [os.path.join(d, f) for d, _dirs, files in os.walk(os.path.join(b.root, "ansible-remote-tmp"))
             for f in files if f == "AnsiballZ_stack.py"]
    if not found:
        return {}
    out: Dict[str, List[float]] = {"wall": [], "cpu": [], "bytes": []}
    for _round in range(rounds):
        cpu0, t0 = children_cpu(), time.perf_counter()
        proc = subprocess.Popen([PYTHON, found[0]], env=b.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
        stdout, _err = proc.communicate()
        wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0  # communicate() reaped it
        if proc.returncode != 0 or b'"changed": false' not in stdout:
            return {}
        out["wall"].append(wall)
        out["cpu"].append(cpu)
        out["bytes"].append(float(len(stdout)))
        out["stdout"] = stdout  # type: ignore[assignment]
    return out


def _canned_result(b: BenchRoot, stdout: bytes) -> str:
    """Our no-op's result, without Ansible's ``invocation`` (the control adds its own), as a file for
    the control to return (LPE_SINK_RESULT): what the result's size costs, module and controller."""
    res = json.loads(stdout)
    res.pop("invocation", None)
    path = os.path.join(b.root, "stack-result.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(res, f)
    return path


def run(quick: bool = False, n: int = 500, rounds: int = 3, state: str = "created",
        before: Optional[str] = None) -> Dict[str, Any]:
    if quick:
        n, rounds = min(n, 100), min(rounds, 2)
    sec = Section("stack", "No-op stack task over %d containers (issue 20: < 1 s over an empty playbook)" % n)
    if not ansible_available():
        sec.note("ansible-playbook not found: skipped")
        return sec.close()
    b = BenchRoot("stack")
    try:
        rt = b.open()
        import_image(rt, busybox_archive(b.root))
        rt.shutdown()
        task = stack_task(n, state)
        first = run_playbook(b, task)
        if first["rc"] != 0:
            sec.note("create run failed rc=%s: %s" % (first["rc"], first["stdout"][-800:]))
            return sec.close()
        sec.row("first run: create %d containers (state %s), whole playbook" % (n, state),
                summary([first["wall"]]), task_s=round(_task_span(first, "stack"), 2))
        empty: List[float] = []
        noop: List[float] = []
        spans: List[float] = []
        diffs: List[float] = []
        changed = []
        old: List[float] = []
        # user+sys of each run
        cpu: Dict[str, List[float]] = {"empty": [], "noop": [], "before": [], "sink": [], "sinkres": []}
        sink_task = stack_task(n, state, SINK)
        sink: List[float] = []
        sinkres: List[float] = []
        module = _module_alone(b, task, rounds)  # before the rounds: its result is the canned one
        canned_env = dict(SINK_ENV, LPE_SINK_RESULT=_canned_result(b, module["stdout"])) if module else None
        old_env = None
        if before:
            coll = os.path.join(os.path.abspath(before), ".build", "collections")
            old_env = {"PYTHONPATH": coll, "ANSIBLE_COLLECTIONS_PATH": coll}
        for _round in range(rounds):
            e = run_playbook(b, EMPTY)
            r = run_playbook(b, task)
            extra = [("sink", sink, sink_task, SINK_ENV, "control task"),
                     ("sinkres", sinkres, sink_task, canned_env, "control returning our result"),
                     ("before", old, task, old_env, "before checkout")]
            for key, walls, what, env, label in extra:
                if env is None:
                    continue
                c = run_playbook(b, what, env=env)
                if c["rc"] == 0:
                    walls.append(c["wall"])
                    cpu[key].append(c["cpu"])
                else:
                    sec.note("%s failed rc=%s: %s" % (label, c["rc"], c["stdout"][-800:]))
            if e["rc"] != 0 or r["rc"] != 0:
                sec.note("round failed: empty rc=%s, stack rc=%s: %s" % (e["rc"], r["rc"], r["stdout"][-800:]))
                continue
            empty.append(e["wall"])
            noop.append(r["wall"])
            cpu["empty"].append(e["cpu"])
            cpu["noop"].append(r["cpu"])
            spans.append(_task_span(r, "stack"))
            diffs.append(r["wall"] - e["wall"])
            changed.append(any(t.get("changed") for t in r["tasks"]))
        sec.row("empty playbook (meta: noop), wall", summary(empty))
        sec.row("no-op stack playbook, %d containers, wall" % n, summary(noop), changed=changed)
        sec.row("no-op stack task span (callback: task start to result)", summary(spans))
        if noop:
            sec.row("no-op stack: wall minus empty playbook (median of walls)", summary(
                [statistics.median(noop) - statistics.median(empty)]),
                per_round="/".join("%.2f" % d for d in diffs), goal="< 1 s")
        if sink and empty:
            sec.row("control: the same task to a module that does nothing (%s), wall minus empty" % SINK,
                    summary([statistics.median(sink) - statistics.median(empty)]))
            sec.row("no-op stack: wall minus the control's (ours alone)",
                    summary([statistics.median(noop) - statistics.median(sink)]))
        if sinkres and sink:
            sec.row("control returning our no-op's result (%d bytes with the invocation): wall minus the "
                    "control's (the result's cost)" % int(statistics.median(module["bytes"])),
                    summary([statistics.median(sinkres) - statistics.median(sink)]),
                    cpu_ms=round((statistics.median(cpu["sinkres"]) - statistics.median(cpu["sink"])) * 1e3, 1))
        if old and empty:
            sec.row("before (%s): no-op stack playbook, wall" % before, summary(old))
            sec.row("before: wall minus empty playbook (median of walls)",
                    summary([statistics.median(old) - statistics.median(empty)]))
        if cpu["noop"] and cpu["empty"]:
            ecpu = statistics.median(cpu["empty"])
            sec.row("no-op stack: CPU (user+sys of the run) minus the empty playbook's", summary(
                [statistics.median(cpu["noop"]) - ecpu]), per_round="/".join("%.2f" % c for c in cpu["noop"]))
            if cpu["sink"]:
                sec.row("control: CPU minus the empty playbook's", summary([statistics.median(cpu["sink"]) - ecpu]))
            if cpu["before"]:
                sec.row("before: CPU minus the empty playbook's", summary([statistics.median(cpu["before"]) - ecpu]),
                        per_round="/".join("%.2f" % c for c in cpu["before"]))
        if module:
            sec.row("module process alone (kept AnsiballZ_stack.py re-run, no controller), wall",
                    summary(module["wall"]))
            sec.row("module process alone, CPU (user+sys)", summary(module["cpu"]),
                    result_bytes=int(statistics.median(module["bytes"])))
        sec.data.update(n=n, state=state, rounds=rounds)
    finally:
        sec.cleanup(b)
    return sec.close()


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--state", default="created", choices=("created", "started"))
    ap.add_argument("--before", help="another checkout of ours (with .build/collections) timed in the same rounds")
    a = ap.parse_args()
    print(json.dumps(run(a.quick, a.n, a.rounds, a.state, a.before), indent=1))
    sys.exit(0)
