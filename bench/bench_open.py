# SPDX-License-Identifier: GPL-3.0-or-later
"""Runtime.open() (issue 2): cold, warm on an empty DB, warm with 1/100/1000 container records;
the import of the runtime module; a no-op runtime_info task and Ansible's own per-task floor.

Every Runtime.open() figure is taken in a fresh interpreter (bench/_worker.py), as a module
process pays it: imports are done and timed apart, then open() is timed alone. "same process"
rows repeat open() in one interpreter (Python-level caches warm) for comparison.

Populated DBs: one real container is created (reconcile_container, state created, network
none); the others are records with a copy of its config (new ID and name) inserted through the
engine's state API (State.add + LockManager.allocate in one transaction), without storage
directories. open() reads no container row on the warm path, so these are enough for it.
"""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import time
from typing import Any, Dict, List

from _params import container_params
from common import (
    PKG,
    PYTHON,
    REPO,
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


def populate(rt, template_name: str, count: int, start: int) -> None:
    """Insert ``count`` container records shaped like ``template_name`` (cheap: no storage)."""
    from ansible_collections.libpod.engine.plugins.module_utils.engine.base.names import new_id
    from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.container import initial_state
    from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import Record

    tmpl = rt.state.get("container", template_name)
    with rt.state.tx():
        for i in range(start, start + count):
            cid, name = new_id(), "pop-%05d" % i
            cfg = dict(tmpl.config, id=cid, name=name)
            lock_id = rt.locks.allocate("container", cid)
            rt.state.add("container", Record(id=cid, name=name, namespace=rt.state.namespace, lock_id=lock_id,
                                             config=cfg, state=initial_state(), created=time.time()))


def _fresh_opens(broot: BenchRoot, n: int) -> Dict[str, List[float]]:
    opens, imports, totals = [], [], []
    for _i in range(n):
        t0 = time.perf_counter()
        res = worker(broot, "open", "1")
        totals.append(time.perf_counter() - t0)
        opens.append(res["open"][0])
        imports.append(res["import_runtime"])
    return {"open": opens, "import": imports, "process": totals}


def _wall(cmd: List[str], env: Dict[str, str], n: int) -> List[float]:
    out = []
    for _i in range(n):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        out.append(time.perf_counter() - t0)
    return out


def engine_zip(path: str) -> str:
    """The collection's module_utils in a zip, as AnsiballZ ships them (no bytecode inside)."""
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        for pkg in ("ansible_collections", "ansible_collections/libpod", "ansible_collections/libpod/engine",
                    "ansible_collections/libpod/engine/plugins"):
            zf.writestr(pkg + "/__init__.py", "")
        base = os.path.join(REPO, "plugins", "module_utils")
        for dirpath, dirnames, files in os.walk(base):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for fname in files:
                if fname.endswith(".py"):
                    full = os.path.join(dirpath, fname)
                    arc = "ansible_collections/libpod/engine/plugins/module_utils/" + os.path.relpath(full, base)
                    zf.write(full, arc)
    return path


def import_profile(broot: BenchRoot, top: int = 10) -> List[Dict[str, Any]]:
    """python -X importtime: the direct imports of engine.runtime (and theirs) by cumulative time,
    median of 3 runs, in us; depth 1 = imported by engine.runtime itself."""
    runs: Dict[str, List[int]] = {}
    cums: Dict[str, List[int]] = {}
    depth: Dict[str, int] = {}
    root = "%s.engine.runtime" % PKG
    for _i in range(3):
        proc = subprocess.run([PYTHON, "-X", "importtime", "-c", "import %s" % root],
                              env=broot.env(), capture_output=True, text=True, check=True)
        lines = [m for m in (re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", ln)
                             for ln in proc.stderr.splitlines()) if m]
        root_indent = next((len(m.group(3)) for m in lines if m.group(4) == root), 1)
        for m in lines:
            runs.setdefault(m.group(4), []).append(int(m.group(1)))
            cums.setdefault(m.group(4), []).append(int(m.group(2)))
            depth[m.group(4)] = (len(m.group(3)) - root_indent) // 2
    rows = [{"module": k, "self_us": int(statistics.median(v)), "cumulative_us": int(statistics.median(cums[k])),
             "depth": depth[k]} for k, v in runs.items()]
    rows = [r for r in rows if r["depth"] in (1, 2)]
    rows.sort(key=lambda r: r["cumulative_us"], reverse=True)
    return rows[:top]


def run(quick: bool = False) -> Dict[str, Any]:
    n = 5 if quick else 15
    n_cold = 3 if quick else 8
    loop = 10 if quick else 20
    sec = Section("open", "Runtime.open() and per-task floors (issue 2)")

    # -- cold: first ever open of a root (DB creation, config validation, conmon probe, refresh)
    cold, cold_proc, second = [], [], []
    for _i in range(n_cold):
        b = BenchRoot("cold")
        try:
            t0 = time.perf_counter()
            res = worker(b, "open", "1")
            cold_proc.append(time.perf_counter() - t0)
            cold.append(res["open"][0])
            if not res["refreshed"][0]:
                sec.note("cold open did not refresh (alive file present?)")
            second.append(worker(b, "open", "1")["open"][0])
        finally:
            left = b.cleanup()
            if left:
                sec.note("cold root leftovers: %s" % left)
    sec.row("cold open (first ever: DB creation + refresh), fresh process", summary(cold))
    sec.row("cold: whole process (interpreter + imports + open)", summary(cold_proc))
    sec.row("second open of a new root, fresh process", summary(second))
    if second and statistics.median(second) > 0.020:
        sec.note("the second open of a new root still validates containers.conf (jsonschema import): the "
                 "validation cache is only written when the tmp dir exists, and the first open creates it "
                 "after loading the config")

    b = BenchRoot("open")
    try:
        worker(b, "open", "1")  # the root exists from here on
        worker(b, "open", "1")  # and the config validation cache is written
        fresh = _fresh_opens(b, n)
        sec.row("warm open, empty DB, fresh process", summary(fresh["open"]))
        same = worker(b, "open", str(n + 1))
        sec.row("warm open, empty DB, same process (repeated)", summary(same["open"][1:]))
        sec.row("shutdown()", summary(same["shutdown"]))
        sec.row("import of engine.runtime inside the process", summary(fresh["import"]))

        # populated DBs: 1 real container + records
        rt = b.open()
        import_image(rt, busybox_archive(b.root))
        from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container import reconcile_container

        reconcile_container(rt, container_params("pop-00000", state="created"))
        have = 1
        for size in (1, 100, 1000):
            populate(rt, "pop-00000", size - have, have)
            have = size
            got = rt.state.count("container")
            fresh = _fresh_opens(b, n)
            sec.row("warm open, %d container(s) in the DB, fresh process" % got, summary(fresh["open"]),
                    objects=got)
            same = worker(b, "open", str(n + 1))
            sec.row("warm open, %d container(s) in the DB, same process" % got, summary(same["open"][1:]),
                    objects=got)
        rt.shutdown()
        # reboot: no alive file -> refresh of all 1000 records
        reboot = []
        for _i in range(3 if quick else 5):
            os.unlink(os.path.join(b.tmp_dir, "alive"))
            res = worker(b, "open", "1")
            reboot.append(res["open"][0])
        sec.row("open after a reboot (no alive file: refresh), %d containers" % have, summary(reboot))

        # -- interpreter and import
        env = b.env()
        base = _wall([PYTHON, "-c", "pass"], env, n)
        imp = _wall([PYTHON, "-c", "import %s.engine.runtime" % PKG], env, n)
        rec = _wall([PYTHON, "-c", "import %s.reconcile.container" % PKG], env, n)
        zpath = engine_zip(os.path.join(b.root, "engine.zip"))
        zenv = dict(env, PYTHONPATH="")
        zimp = _wall([PYTHON, "-c", "import sys; sys.path.insert(0, %r); import %s.engine.runtime" % (zpath, PKG)],
                     zenv, n)
        zrec = _wall([PYTHON, "-c", "import sys; sys.path.insert(0, %r); import %s.reconcile.container"
                      % (zpath, PKG)], zenv, n)
        amb = _wall([PYTHON, "-c", "import ansible.module_utils.basic"], env, n)
        sec.row("python -c pass (interpreter start)", summary(base))
        sec.row("python -c 'import ...engine.runtime' (wall)", summary(imp))
        sec.row("python -c 'import ...reconcile.container' (wall)", summary(rec))
        sec.row("same, engine.runtime from a zip (as AnsiballZ: no bytecode cache)", summary(zimp))
        sec.row("same, reconcile.container from a zip", summary(zrec))
        sec.row("python -c 'import ansible.module_utils.basic' (every module pays it)", summary(amb))
        sec.data["import_delta_ms"] = round((statistics.median(imp) - statistics.median(base)) * 1e3, 1)
        sec.data["import_profile"] = import_profile(b)
        sec.note("import of engine.runtime adds %.1f ms to the interpreter start (difference of medians)"
                 % sec.data["import_delta_ms"])

        # -- ansible-playbook: runtime_info and ping loops
        if not ansible_available():
            sec.note("ansible-playbook not found: playbook rows skipped")
        else:
            for label, task in (("ansible.builtin.ping", "ansible.builtin.ping:"),
                                ("libpod.engine.runtime_info", "libpod.engine.runtime_info:")):
                res = run_playbook(b, "- name: loop\n  %s\n  loop: \"{{ range(%d) | list }}\"\n" % (task, loop))
                tasks = [t for t in res["tasks"] if t["name"] == "loop"]
                if res["rc"] != 0 or not tasks:
                    sec.note("%s playbook failed rc=%s: %s" % (label, res["rc"], res["stdout"][-600:]))
                    continue
                per = item_durations(tasks[0])
                sec.row("playbook loop of %d %s: per item" % (loop, label), summary(per),
                        cpu_ms_per_item=round(res["cpu"] / loop * 1e3))
                sec.row("playbook loop of %d %s: wall / %d" % (loop, label, loop),
                        summary([res["wall"] / loop]), wall_s=round(res["wall"], 2))
    finally:
        sec.cleanup(b)
    return sec.close()


if __name__ == "__main__":
    import argparse
    import json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    print(json.dumps(run(ap.parse_args().quick), indent=1))
