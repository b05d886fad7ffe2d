# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/pytest_jobs.py (the integration step of scripts/test.sh): every file runs, a failure
anywhere fails the run, nothing collected anywhere is exit 5, each file's output is one block."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "scripts", "pytest_jobs.py")

PASS = "def test_ok():\n    assert True\n"
FAIL = "def test_broken():\n    assert 1 == 2\n"


def _run(tmp_path, files, *extra):
    tests = tmp_path / "tests"
    tests.mkdir()
    for name, text in files.items():
        (tests / name).write_text(text)
    results = tmp_path / "results"
    proc = subprocess.run([sys.executable, SCRIPT, "--jobs", "2", "--results", str(results), "--name", "it",
                           str(tests), "--", "-q", "-p", "no:cacheprovider", *extra],
                          cwd=str(tmp_path), capture_output=True, text=True, timeout=120, check=False)
    return proc, sorted(os.listdir(results)) if results.exists() else []


@pytest.mark.parametrize("files, extra, rc", [
    ({"test_a.py": PASS, "test_b.py": FAIL}, [], 1),  # one failing file fails the run
    ({"test_a.py": PASS, "test_b.py": FAIL}, ["-k", "test_ok"], 0),  # a file -k empties is no failure
    ({"test_a.py": PASS}, ["-k", "nothing_has_this_name"], 5),  # nothing collected anywhere
    ({"test_a.py": "import no_such_module_here\n", "test_b.py": FAIL}, [], 2),  # the worst code wins
])
def test_exit_code_of_the_whole_run(tmp_path, files, extra, rc):
    proc, xml = _run(tmp_path, files, *extra)
    assert proc.returncode == rc, proc.stdout + proc.stderr
    assert xml == ["it-%s.xml" % os.path.splitext(name)[0] for name in sorted(files)]  # every file ran
    for name in files:  # one block per file, with its exit code
        assert proc.stdout.count("----- tests/%s: exit " % name) == 1, proc.stdout


def test_no_test_files_is_exit_5(tmp_path):
    proc, _unused = _run(tmp_path, {"helper.py": PASS})
    assert proc.returncode == 5 and "no test files" in proc.stdout
