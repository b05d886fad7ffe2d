# SPDX-License-Identifier: GPL-3.0-or-later
"""Containers (issue 3): create+start / no-op / inspect / stop / remove of a busybox
``sleep 1000`` container with ``network: none`` and with the default bridge network.

1. Engine API in one process (reconcile_container, imports warm), with a phase breakdown.
2. One fresh interpreter per container (import + open + reconcile: a module process without
   Ansible).
3. ansible-playbook loops of the container module: create, no-op re-run, remove (per item).
4. podman side by side (``--with-podman``, only when podman is installed): run -d, inspect,
   rm -f -t 0, with runc and nofile/nproc 1024 as this host needs (substrate.md).
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from typing import Any, Dict, List, Optional

from _params import container_params
from common import (
    IMAGE,
    BenchRoot,
    Section,
    ansible_available,
    busybox_archive,
    import_image,
    item_durations,
    run_playbook,
    summary,
    worker,
)
from phases import CONMON_CREATE, EARLY_EXIT, RUNTIME_START, PhaseTimer

NETWORKS = ("none", "bridge")
#: seconds the API stop loop may take (a stop can take seconds: see docs/benchmarks.md)
STOP_BUDGET_S = 10.0
#: a stop slower than this (ms, API median) shortens the playbook remove loop
SLOW_STOP_MS = 1000.0


def _api(sec: Section, rt, n: int, timer: PhaseTimer) -> Dict[str, Any]:
    from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.container import find_container
    from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container import reconcile_container

    figs: Dict[str, Any] = {}
    variants = [(net, None, net) for net in NETWORKS]
    if "runc" in rt.runtimes and rt.default_runtime != "runc":
        variants.append(("none", "runc", "none/runc"))
    for net, runtime, key in variants:
        names = ["api-%s-%02d" % (key.replace("/", "-"), i) for i in range(n)]
        samples: Dict[str, List[float]] = {k: [] for k in ("create+start", "no-op", "inspect", "stop", "remove")}
        noop_changed = 0
        for name in names:
            with timer.op("create+start/" + key):
                reconcile_container(rt, container_params(name, network=net, runtime=runtime))
            samples["create+start"].append(timer.ops["create+start/" + key][-1]["total"])
        for name in names:
            t0 = time.perf_counter()
            res = reconcile_container(rt, container_params(name, network=net, runtime=runtime))
            samples["no-op"].append(time.perf_counter() - t0)
            noop_changed += bool(res.actions)
        for name in names:
            t0 = time.perf_counter()
            find_container(rt, name).inspect()
            samples["inspect"].append(time.perf_counter() - t0)
        stopped = []
        t_start = time.monotonic()
        for name in names:
            if len(stopped) >= 3 and time.monotonic() - t_start > STOP_BUDGET_S:
                sec.note("API %s: stop measured on %d of %d containers (%.0f s time budget spent); the rest "
                         "are removed by the cleanup" % (key, len(stopped), n, STOP_BUDGET_S))
                break
            with timer.op("stop/" + key):
                reconcile_container(rt, container_params(name, network=net, state="stopped", timeout=0,
                                                         runtime=runtime))
            samples["stop"].append(timer.ops["stop/" + key][-1]["total"])
            stopped.append(name)
        for name in stopped:
            with timer.op("remove/" + key):
                reconcile_container(rt, container_params(name, network=net, state="absent", timeout=0,
                                                         runtime=runtime))
            samples["remove"].append(timer.ops["remove/" + key][-1]["total"])
        first = samples["create+start"][0]
        sec.row("API %s: create+start (detached sleep)" % key, summary(samples["create+start"]),
                first_ms=round(first * 1e3, 1))
        sec.row("API %s: create+start, excluding the first" % key, summary(samples["create+start"][1:]))
        # issue 20: create+start <= 1.3 x what conmon and the runtime alone take (same operations)
        ops = timer.ops["create+start/" + key]
        oci = [o.get(CONMON_CREATE, 0.0) + o.get(RUNTIME_START, 0.0) for o in ops]
        if all(oci):
            ratios = [o["total"] / x for o, x in zip(ops, oci)]
            sec.row("API %s: conmon + runtime alone (create + start phases)" % key, summary(oci))
            sec.row("API %s: create+start / conmon + runtime (median of per-operation ratios)" % key, None,
                    ratio=round(statistics.median(ratios), 2), goal="<= 1.3")
            waits = [o.get(EARLY_EXIT, 0.0) for o in ops]
            if any(waits):
                sec.row("API %s: early-exit check after the start (until the tree sleeps or exits, <= 0.2 s)" % key,
                        summary(waits))
                sec.row("API %s: create+start without that wait / conmon + runtime" % key, None, ratio=round(
                    statistics.median((o["total"] - w) / x for o, w, x in zip(ops, waits, oci)), 2))
        sec.row("API %s: no-op reconcile of the running container" % key, summary(samples["no-op"]),
                changed=noop_changed)
        sec.row("API %s: inspect" % key, summary(samples["inspect"]))
        sec.row("API %s: stop (timeout 0)" % key, summary(samples["stop"]))
        sec.row("API %s: remove (stopped)" % key, summary(samples["remove"]))
        figs[key] = {k: summary(v) for k, v in samples.items()}
        figs[key]["phases"] = {op: timer.table("%s/%s" % (op, key)) for op in ("create+start", "stop", "remove")}
    return figs


def _fresh(sec: Section, b: BenchRoot, n: int) -> Dict[str, Any]:
    figs: Dict[str, Any] = {}
    for net in NETWORKS:
        rows: Dict[str, List[float]] = {"imports": [], "open": [], "reconcile": [], "process": [], "cpu": []}
        for i in range(n):
            t0 = time.perf_counter()
            res = worker(b, "create", "fp-%s-%02d" % (net, i), net)
            rows["process"].append(time.perf_counter() - t0)
            rows["imports"].append(res["import_runtime"] + res["import_reconcile"])
            rows["open"].append(res["open"])
            rows["reconcile"].append(res["reconcile"])
            rows["cpu"].append(res["cpu"])
        sec.row("fresh process %s: imports (runtime + reconcile)" % net, summary(rows["imports"]))
        sec.row("fresh process %s: Runtime.open()" % net, summary(rows["open"]))
        sec.row("fresh process %s: reconcile (create+start)" % net, summary(rows["reconcile"]))
        sec.row("fresh process %s: whole process (wall)" % net, summary(rows["process"]))
        sec.row("fresh process %s: whole process (CPU user+sys)" % net, summary(rows["cpu"]))
        figs[net] = {k: summary(v) for k, v in rows.items()}
    return figs


def _playbooks(sec: Section, b: BenchRoot, loop: int, slow_stop: bool) -> Dict[str, Any]:
    figs: Dict[str, Any] = {}
    for net in NETWORKS:
        task = ("- name: loop\n  libpod.engine.container:\n    name: \"pb-%s-{{ item }}\"\n    image: %s\n"
                "    command: [sleep, \"1000\"]\n    network: %s\n    state: %%s\n    timeout: 0\n"
                "  loop: \"{{ range(%%d) | list }}\"\n" % (net, IMAGE, net))
        figs[net] = {}
        remove_n = min(loop, 3) if slow_stop else loop
        if remove_n < loop:
            sec.note("playbook %s: remove loop shortened to %d items (a stop takes over %.0f ms in the API "
                     "figures); the cleanup removes the rest" % (net, remove_n, SLOW_STOP_MS))
        for phase, state, count in (("create (state started)", "started", loop), ("no-op re-run", "started", loop),
                                    ("remove (absent, timeout 0)", "absent", remove_n)):
            res = run_playbook(b, task % (state, count))
            tasks = [t for t in res["tasks"] if t["name"] == "loop"]
            if res["rc"] != 0 or not tasks:
                failed = [i["msg"] for t in tasks for i in t["items"] if i["failed"]][:2]
                sec.note("playbook %s %s failed rc=%s: %s %s" % (net, phase, res["rc"], failed,
                                                                 res["stdout"][-400:] if not failed else ""))
                continue
            items = tasks[0]["items"]
            changed = sum(1 for i in items if i["changed"])
            fig = summary(item_durations(tasks[0]))
            sec.row("playbook %s, loop of %d: %s, per item" % (net, count, phase), fig,
                    changed="%d/%d" % (changed, len(items)), wall_s=round(res["wall"], 2),
                    cpu_ms_per_item=round(res["cpu"] / max(1, len(items)) * 1e3))
            figs[net][phase] = {"per_item": fig, "changed": changed, "items": len(items), "wall_s": res["wall"]}
    return figs


# -- podman ---------------------------------------------------------------------------------------
def podman_path() -> Optional[str]:
    return shutil.which("podman")


def _podman(sec: Section, b: BenchRoot, n: int, archive: str) -> Dict[str, Any]:
    """podman run -d / container inspect / rm -f -t 0, in its own root under the bench root."""
    podman = podman_path()
    conf = os.path.join(b.root, "podman-containers.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write('[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n'
                '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n')
    base = [podman, "--root", os.path.join(b.root, "podman-root"), "--runroot", os.path.join(b.tmp_dir, "podman-run"),
            "--tmpdir", os.path.join(b.tmp_dir, "podman-tmp"), "--runtime", "runc", "--cgroup-manager", "cgroupfs",
            "--events-backend", "file", "--log-level", "warning"]
    env = dict(os.environ, CONTAINERS_CONF=conf)

    def call(*args: str, check: bool = True) -> float:
        t0 = time.perf_counter()
        proc = subprocess.run(base + list(args), env=env, capture_output=True, text=True, timeout=300, check=False)
        if check and proc.returncode != 0:
            raise RuntimeError("podman %s: %s" % (" ".join(args), proc.stderr.strip()[-500:]))
        return time.perf_counter() - t0

    figs: Dict[str, Any] = {}
    try:
        call("load", "-i", archive)
        for net in NETWORKS:
            names = ["podman-%s-%02d" % (net, i) for i in range(n)]
            runs = [call("run", "-d", "--name", name, "--network", net, IMAGE, "sleep", "1000") for name in names]
            inspects = [call("container", "inspect", name) for name in names]
            rms = [call("rm", "-f", "-t", "0", name) for name in names]
            sec.row("podman %s: run -d" % net, summary(runs))
            sec.row("podman %s: container inspect" % net, summary(inspects))
            sec.row("podman %s: rm -f -t 0" % net, summary(rms))
            figs[net] = {"run": summary(runs), "inspect": summary(inspects), "rm": summary(rms)}
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        sec.note("podman bench failed: %s" % exc)
    finally:
        call("rm", "-a", "-f", "-t", "0", check=False)
        call("system", "reset", "-f", check=False)
    return figs


def run(quick: bool = False, with_podman: bool = False) -> Dict[str, Any]:
    n = 5 if quick else 20
    n_fresh = 3 if quick else 6
    loop = 5 if quick else 20
    sec = Section("containers", "Containers: create+start, no-op, stop, remove (issue 3)")
    b = BenchRoot("ctr")
    try:
        rt = b.open()
        archive = busybox_archive(b.root)
        import_image(rt, archive)
        worker(b, "open", "1")  # the second open of a root writes the config validation cache
        timer = PhaseTimer().install()
        try:
            sec.data["api"] = _api(sec, rt, n, timer)
        finally:
            timer.uninstall()
            rt.shutdown()
        sec.data["fresh"] = _fresh(sec, b, n_fresh)
        if ansible_available():
            stops = [sec.data["api"][net]["stop"]["median"] or 0 for net in NETWORKS]
            sec.data["playbook"] = _playbooks(sec, b, loop, max(stops) > SLOW_STOP_MS)
        else:
            sec.note("ansible-playbook not found: playbook rows skipped")
        if podman_path() is None:
            sec.note("podman not installed: podman columns left empty")
            sec.data["podman"] = None
        elif not with_podman:
            sec.note("podman is installed but --with-podman was not given: podman columns left empty")
            sec.data["podman"] = None
        else:
            sec.data["podman"] = _podman(sec, b, n, archive)
    finally:
        sec.cleanup(b)
    return sec.close()


if __name__ == "__main__":
    import argparse
    import json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--with-podman", action="store_true")
    a = ap.parse_args()
    print(json.dumps(run(a.quick, a.with_podman), indent=1))
