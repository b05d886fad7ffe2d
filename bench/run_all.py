# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the whole benchmark suite and write bench/out/report.md, report.png and results.json.

    /root/venv/bin/python bench/run_all.py            # default run (~5 min on 2 cores)
    /root/venv/bin/python bench/run_all.py --quick    # smaller N, sizes 1,20,100 (~2 min)
    options: --sizes 1,20,100  --only open,containers,noop,net,pull,import,stack  --with-podman  --out DIR
             --peer [--peer-rounds 3] [--before CHECKOUT]   (ours vs containers.podman vs ping floor)

Figures only: nothing here asserts on time. Run as root (containers, mounts, netns). Each
section uses its own engine root under /tmp and /run/lpe-bench-<random> and removes it;
the report says whether anything was left behind.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)

import bench_containers  # noqa: E402
import bench_import  # noqa: E402
import bench_net  # noqa: E402
import bench_noop  # noqa: E402
import bench_open  # noqa: E402
import bench_peer  # noqa: E402
import bench_pull  # noqa: E402
import bench_stack  # noqa: E402
import report  # noqa: E402
from common import PYTHON, REPO, loadavg  # noqa: E402

SECTIONS = ("open", "containers", "noop", "net", "pull", "import", "stack")


def _first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "not found"


def _busy() -> str:
    """Other processes using the CPU at the start (python/ansible test runs of other sessions)."""
    out = subprocess.run(["ps", "-eo", "pcpu,comm", "--no-headers"], capture_output=True, text=True,
                         check=False).stdout
    busy = [line.split(None, 1) for line in out.splitlines() if line.strip()]
    busy = [(float(c), n) for c, n in busy if float(c) >= 5.0]
    return "%d processes at >= 5%% CPU (%s)" % (len(busy), ", ".join(sorted({n for _unused, n in busy}))[:200])


def meta(argv) -> dict:
    commit = _first_line(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, check=False).stdout.splitlines()
    try:
        from ansible.release import __version__ as ansible_version
    except ImportError:
        ansible_version = "not installed"
    default_rt = "?"
    try:
        from common import BenchRoot

        b = BenchRoot("meta")
        try:
            rt = b.open()
            default_rt = "%s (%s)" % (rt.default_runtime, rt.runtimes[rt.default_runtime].note or "plain")
            rt.shutdown()
        finally:
            b.cleanup()
    except Exception as exc:  # report, don't fail the run for the header
        default_rt = "unknown: %s" % exc
    return {
        "argv": [os.path.relpath(sys.argv[0], REPO)] + list(argv),
        "host": platform.node(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": "%s (%s)" % (platform.python_version(), PYTHON),
        "ansible_core": ansible_version,
        "conmon": _first_line(["conmon", "--version"]),
        "runc": _first_line(["runc", "--version"]),
        "crun": _first_line(["crun", "--version"]),
        "default_oci_runtime": default_rt,
        "engine_commit": "%s + %d modified tracked files in the work tree" % (commit, len(dirty)),
        "bytecode": "PYTHONDONTWRITEBYTECODE removed for the bench's subprocesses (bytecode cached, as on a "
                    "normal host); AnsiballZ modules still compile module_utils from source every task",
        "other_processes_start": _busy(),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller N and sizes (about 2 minutes)")
    ap.add_argument("--sizes", help="container counts of the no-op bench, e.g. 1,20,100 (default 1,20,100,500)")
    ap.add_argument("--only", help="comma-separated sections: %s" % ",".join(SECTIONS))
    ap.add_argument("--with-podman", action="store_true",
                    help="also time podman (only if installed; runs it with --runtime runc, ulimits 1024)")
    ap.add_argument("--peer", action="store_true",
                    help="also run bench_peer.py: ours, containers.podman (bench/.peer-venv, podman from apt) "
                         "and the ping floor in one run, N=20, ratios in report.md")
    ap.add_argument("--peer-rounds", type=int, default=3)
    ap.add_argument("--before", help="with --peer: another checkout of ours timed in the same run")
    ap.add_argument("--out", default=os.path.join(BENCH, "out"))
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("run as root: the bench starts containers, mounts overlays and creates netns", file=sys.stderr)
        return 2
    only = args.only.split(",") if args.only else list(SECTIONS)
    unknown = set(only) - set(SECTIONS)
    if unknown:
        ap.error("unknown section(s): %s" % ", ".join(sorted(unknown)))
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else None
    if args.with_podman and not shutil.which("podman"):
        print("podman not installed: podman columns stay empty")
    t0 = time.monotonic()
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    res = {"meta": meta(sys.argv[1:] if argv is None else argv), "sections": {}}
    res["meta"]["load_start"] = loadavg()
    res["meta"]["started"] = started
    runners = {
        "open": lambda: bench_open.run(args.quick),
        "containers": lambda: bench_containers.run(args.quick, args.with_podman),
        "noop": lambda: bench_noop.run(args.quick, sizes),
        "net": lambda: bench_net.run(args.quick),
        "pull": lambda: bench_pull.run(args.quick),
        "import": lambda: bench_import.run(args.quick),
        "stack": lambda: bench_stack.run(args.quick),
    }
    failed = []
    for name in SECTIONS:
        if name not in only:
            continue
        print("== %s (load %s)" % (name, loadavg()), flush=True)
        try:
            res["sections"][name] = runners[name]()
        except Exception:
            failed.append(name)
            tb = traceback.format_exc()
            print(tb, file=sys.stderr)
            res["sections"][name] = {"title": name, "rows": [], "notes": ["section failed: %s" % tb[-1500:]]}
    if args.peer:
        print("== peer (load %s)" % (loadavg(),), flush=True)
        try:
            res["peer"] = bench_peer.run(20, args.peer_rounds, "none", args.before)
            res["peer"]["argv"] = ["--rounds", str(args.peer_rounds)]
            if args.before:
                res["peer"]["argv"] += ["--before", args.before]
        except Exception:
            failed.append("peer")
            print(traceback.format_exc(), file=sys.stderr)
    res["meta"]["load_end"] = loadavg()
    res["meta"]["finished"] = datetime.datetime.now().astimezone().strftime("%H:%M:%S")
    res["meta"]["seconds"] = round(time.monotonic() - t0, 1)
    paths = report.write(res, args.out)
    print("wrote %s, %s, %s (%.0f s)" % (paths["md"], paths["png"] or "no chart (matplotlib not importable)",
                                         paths["json"], time.monotonic() - t0))
    if not paths["png"]:
        print("matplotlib is not importable: markdown only")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
