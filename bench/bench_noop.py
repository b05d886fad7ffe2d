# SPDX-License-Identifier: GPL-3.0-or-later
"""No-op reconcile of 1/20/100/500 containers (issue 8).

The containers are created (``state: created``, ``network: none``: not started, so the host
stays light) through reconcile_container in this process; the DB grows from one size to the
next, so each size is measured on a DB holding exactly that many containers. Then:

* one process, runtime open: a no-op pass over all containers (what a batch entry point costs
  once it runs), repeated;
* a fresh interpreter per pass: import + Runtime.open() + the pass (a batch module's process);
* for the small sizes, ansible-playbook loops of the container module (per item).
"""
from __future__ import annotations

import json
import time
from typing import Any, Dict, List

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

DEFAULT_SIZES = (1, 20, 100, 500)
QUICK_SIZES = (1, 20, 100)
PLAYBOOK_SIZES = (1, 20)


def name_of(i: int) -> str:
    return "noop-%04d" % i


def run(quick: bool = False, sizes=None) -> Dict[str, Any]:
    sizes = sorted(set(sizes or (QUICK_SIZES if quick else DEFAULT_SIZES)))
    passes = 3 if quick else 5
    fresh_passes = 2 if quick else 3
    sec = Section("noop", "No-op reconcile of N created containers (issue 8)")
    sec.data["sizes"] = sizes
    b = BenchRoot("noop")
    figs: Dict[str, Any] = {}
    try:
        rt = b.open()
        import_image(rt, busybox_archive(b.root))
        worker(b, "open", "1")  # the second open of a root writes the config validation cache
        from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container import reconcile_container

        have = 0
        create_times: List[float] = []
        for size in sizes:
            for i in range(have, size):
                t0 = time.perf_counter()
                reconcile_container(rt, container_params(name_of(i), state="created"))
                create_times.append(time.perf_counter() - t0)
            have = size
            names = [name_of(i) for i in range(size)]
            # in-process passes
            totals, changed = [], 0
            for _i in range(passes):
                t0 = time.perf_counter()
                for name in names:
                    res = reconcile_container(rt, container_params(name, state="created"))
                    changed += bool(res.actions)
                totals.append(time.perf_counter() - t0)
            fig = summary(totals)
            per_item = summary([t / size for t in totals])
            sec.row("%d containers: no-op pass, one process (total)" % size, fig, changed=changed)
            sec.row("%d containers: no-op pass, one process (per container)" % size, per_item)
            entry = {"in_process_pass": fig, "in_process_per_item": per_item, "changed": changed}
            # fresh interpreter per pass (a batch module's process, without Ansible)
            walls, loops, opens, imports, fchanged = [], [], [], [], 0
            for _i in range(fresh_passes):
                t0 = time.perf_counter()
                res = worker(b, "noop", json.dumps(names))
                walls.append(time.perf_counter() - t0)
                loops.append(res["loop"])
                opens.append(res["open"])
                imports.append(res["import_runtime"] + res["import_reconcile"])
                fchanged += res["changed"]
            sec.row("%d containers: fresh process: imports" % size, summary(imports))
            sec.row("%d containers: fresh process: open" % size, summary(opens))
            sec.row("%d containers: fresh process: pass" % size, summary(loops), changed=fchanged)
            sec.row("%d containers: fresh process: whole process (wall)" % size, summary(walls))
            entry.update(fresh_wall=summary(walls), fresh_loop=summary(loops), fresh_open=summary(opens),
                         fresh_imports=summary(imports))
            # playbook loop
            if size in PLAYBOOK_SIZES and ansible_available():
                task = ("- name: loop\n  libpod.engine.container:\n    name: \"noop-{{ '%%04d' | format(item) }}\"\n"
                        "    image: %s\n    command: [sleep, \"1000\"]\n    network: none\n    state: created\n"
                        "  loop: \"{{ range(%d) | list }}\"\n" % (IMAGE, size))
                res = run_playbook(b, task)
                tasks = [t for t in res["tasks"] if t["name"] == "loop"]
                if res["rc"] != 0 or not tasks:
                    sec.note("playbook no-op of %d failed rc=%s: %s" % (size, res["rc"], res["stdout"][-400:]))
                else:
                    items = tasks[0]["items"]
                    pchanged = sum(1 for i in items if i["changed"])
                    fig = summary(item_durations(tasks[0]))
                    sec.row("%d containers: playbook loop, per item" % size, fig,
                            changed="%d/%d" % (pchanged, len(items)), wall_s=round(res["wall"], 2),
                            cpu_ms_per_item=round(res["cpu"] / max(1, len(items)) * 1e3))
                    entry["playbook_per_item"] = fig
                    entry["playbook_wall_s"] = res["wall"]
                    entry["playbook_changed"] = pchanged
            figs[str(size)] = entry
        sec.row("creating a container (state created, network none), in process", summary(create_times))
        sec.data["create"] = summary(create_times)
        rt.shutdown()
    finally:
        sec.data["by_size"] = figs
        sec.cleanup(b)
    return sec.close()


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sizes", help="comma-separated, e.g. 1,20,100")
    a = ap.parse_args()
    print(json.dumps(run(a.quick, [int(s) for s in a.sizes.split(",")] if a.sizes else None), indent=1))
