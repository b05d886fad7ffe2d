# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the test files of one directory as JOBS concurrent pytest runs, one run per file.

Why: the integration tests wait on processes (ansible-playbook, conmon, containers) as much as
they compute, and every test has an engine root, bridge and subnet of its own, so two files at
a time use a 2-core host about twice as well as one. A file is the unit (its module-scoped
fixtures stay shared); the largest files start first, the rest are handed out as workers get
free, so no worker is left with a long file at the end.

Output stays readable: each file's pytest output is printed in one block when the file is done
(with its exit code and time), then the slowest tests of all files. JUnit XML: one file per test
file, ``<results>/<name>-<file>.xml``.

Exit code: 0 all passed; 5 no file had a test to run (as pytest: nothing collected); else the
highest other exit code of a file (1: tests failed; 2-4: interrupted or a collection error,
internal or usage error). A file that selects nothing (exit 5, e.g. under ``-k``) is not a
failure as long as another file ran tests.

    pytest_jobs.py --jobs 2 --results .build/test-results --name integration tests/integration -- -q --timeout=600
"""
from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from typing import Dict, List, Tuple


def test_files(directory: str) -> List[str]:
    """The directory's test_*.py files, largest first (a rough measure of how long they run)."""
    files = glob.glob(os.path.join(directory, "**", "test_*.py"), recursive=True)
    return sorted(files, key=lambda p: (-os.path.getsize(p), p))


def run_all(files: List[str], jobs: int, results: str, name: str,
            pytest_args: List[str]) -> Dict[str, Tuple[int, float]]:
    """Run every file (``jobs`` at a time); print each file's output as one block when it ends."""
    todo = list(files)
    done: Dict[str, Tuple[int, float]] = {}
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if not todo:
                    return
                path = todo.pop(0)
            xml = os.path.join(results, "%s-%s.xml" % (name, os.path.splitext(os.path.basename(path))[0]))
            cmd = [sys.executable, "-m", "pytest", path, "--junitxml=" + xml] + pytest_args
            t0 = time.monotonic()
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  check=False)
            secs = time.monotonic() - t0
            with lock:
                done[path] = (proc.returncode, secs)
                sys.stdout.write("\n----- %s: exit %d, %.0fs (%d of %d done)\n%s"
                                 % (os.path.relpath(path), proc.returncode, secs, len(done), len(files),
                                    proc.stdout.decode(errors="replace")))
                sys.stdout.flush()

    threads = [threading.Thread(target=worker, daemon=True) for _unused in range(max(1, jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done


def slowest(results: str, name: str, count: int) -> List[Tuple[float, str]]:
    """The ``count`` longest tests of all files (from the JUnit XML files this run wrote)."""
    rows = []
    for path in glob.glob(os.path.join(results, "%s-*.xml" % name)):
        for case in ET.parse(path).getroot().iter("testcase"):
            rows.append((float(case.get("time") or 0), "%s::%s" % (case.get("classname"), case.get("name"))))
    return sorted(rows, reverse=True)[:count]


def exit_code(files: List[str], done: Dict[str, Tuple[int, float]]) -> int:
    codes = [done.get(f, (2, 0.0))[0] for f in files]  # a file that never ran counts as interrupted
    failed = [c for c in codes if c not in (0, 5)]
    if failed:
        return max(failed)  # the worst: 1 tests failed < 2 interrupted < 3 internal < 4 usage error
    return 5 if all(c == 5 for c in codes) else 0


def main(argv: List[str]) -> int:
    if "--" in argv:
        cut = argv.index("--")
        argv, pytest_args = argv[:cut], argv[cut + 1:]
    else:
        pytest_args = []
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--jobs", type=int, default=2, help="files run at the same time")
    ap.add_argument("--results", required=True, help="directory of the JUnit XML files")
    ap.add_argument("--name", required=True, help="prefix of the JUnit XML file names")
    ap.add_argument("--slowest", type=int, default=15, help="how many of the slowest tests to list at the end")
    ap.add_argument("directory")
    args = ap.parse_args(argv)
    files = test_files(args.directory)
    if not files:
        print("no test files under %s" % args.directory)
        return 5
    os.makedirs(args.results, exist_ok=True)
    t0 = time.monotonic()
    done = run_all(files, args.jobs, args.results, args.name, pytest_args)
    rc = exit_code(files, done)
    print("\n----- %d files, %d at a time, in %.0fs; slowest tests:" % (len(files), args.jobs, time.monotonic() - t0))
    for secs, test in slowest(args.results, args.name, args.slowest):
        print("%8.1fs %s" % (secs, test))
    bad = ["%s (exit %d)" % (os.path.relpath(f), done[f][0]) for f in files if done.get(f, (0,))[0] not in (0, 5)]
    if bad:
        print("failed: " + ", ".join(bad))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
