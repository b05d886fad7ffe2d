# SPDX-License-Identifier: GPL-3.0-or-later
"""cProfile of what one module process does (bench/_worker.py under ``python -m cProfile``),
in an isolated engine root; prints the top functions by cumulative and by own time.

    /root/venv/bin/python bench/profile_task.py create [--network none|bridge]
    /root/venv/bin/python bench/profile_task.py noop [--size 20]
    /root/venv/bin/python bench/profile_task.py stop [--network none|bridge]
    /root/venv/bin/python bench/profile_task.py open
    /root/venv/bin/python bench/profile_task.py stack [--size 500]   # a no-op stack module run

The process profiled is a fresh interpreter, so imports (and pyroute2, jsonschema) show up as
they do in a module process; bytecode is cached (unlike AnsiballZ, which compiles the
collection's module_utils from its zip on every task).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import shutil
import subprocess
import sys

from _params import container_params
from common import IMAGE, PYTHON, BenchRoot, busybox_archive, import_image, worker


def _strip(text: str) -> str:
    return text.replace(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ""), "") \
        .replace("/root/venv/lib/python3.11/site-packages/", "").replace(".build/collections/ansible_collections/", "")


def _stack_args(b: BenchRoot, size: int) -> list:
    """Module arguments of one stack task declaring ``size`` created containers (network none)."""
    params = {"label": "prof", "containers": [
        {"name": "prof-%04d" % i, "image": IMAGE, "command": ["sleep", "1000"], "network": "none", "state": "created"}
        for i in range(size)]}
    path = os.path.join(b.root, "stack-args.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(params, f)
    return ["stack", path]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("create", "noop", "stop", "open", "stack"))
    ap.add_argument("--network", default="none")
    ap.add_argument("--size", type=int, default=20)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--keep", help="also copy the cProfile file here (for pstats print_callees)")
    a = ap.parse_args()
    b = BenchRoot("prof")
    try:
        rt = b.open()
        import_image(rt, busybox_archive(b.root))
        from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container import reconcile_container

        if a.what == "noop":
            names = ["prof-%04d" % i for i in range(a.size)]
            for n in names:
                reconcile_container(rt, container_params(n, state="created"))
            args = ["noop", json.dumps(names)]
        elif a.what == "stop":
            reconcile_container(rt, container_params("prof-stop", network=a.network))
            args = ["create", "prof-stop", a.network, "absent"]
        elif a.what == "create":
            reconcile_container(rt, container_params("prof-warmup", network=a.network, state="created"))
            args = ["create", "prof-create", a.network]
        elif a.what == "stack":
            args = _stack_args(b, a.size)
        else:
            args = ["open", "1"]
        rt.shutdown()
        worker(b, "open", "1")  # the second open of a root writes the config validation cache
        prof = os.path.join(b.root, "task.prof")
        here = os.path.dirname(os.path.abspath(__file__))
        script = os.path.join(here, "_module_run.py" if a.what == "stack" else "_worker.py")
        if a.what == "stack":  # the first run creates the containers; the profiled one is the no-op
            first = subprocess.run([PYTHON, script, *args], env=b.env(), capture_output=True, text=True, check=False)
            if '"changed": true' not in first.stdout:
                print("stack create run: %s %s" % (first.stdout[-1500:], first.stderr[-1500:]), file=sys.stderr)
                return 1
        proc = subprocess.run([PYTHON, "-m", "cProfile", "-o", prof, script, *args], env=b.env(),
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
        print("phases (s):" if a.what != "stack" else "module result:", proc.stdout.strip().splitlines()[-1][:300])
        if a.keep:
            shutil.copyfile(prof, a.keep)
        for key in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(key).print_stats(a.top)
            print("== by %s" % key)
            print(_strip(out.getvalue()))
    finally:
        left = b.cleanup()
        if left:
            print("cleanup: %s" % left)
    return 0


if __name__ == "__main__":
    sys.exit(main())
