# SPDX-License-Identifier: GPL-3.0-or-later
"""Which Python runs conmon's exit command, long after the task that started the container.

The task's interpreter is often a venv (the host role's pip mode, ansible_python_interpreter):
when that venv is removed or rebuilt, an exit command bound to it never runs, and cleanup and
restart policies stop silently. A system interpreter that can import what the engine needs
outlives venv changes, so it is preferred; the task's own interpreter is the fallback.
"""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Any, Callable, Dict, List, Optional

#: system interpreters that survive venv changes, in order of preference
SYSTEM_PYTHONS = ("/usr/bin/python3", "/usr/local/bin/python3")

#: what the exit command imports beyond the standard library (TOML: tomllib from 3.11, else tomli)
PROBE = ("import sys\n"
         "assert sys.version_info >= (3, 8)\n"
         "try:\n    import tomllib\nexcept ImportError:\n    import tomli\n"
         "import jsonschema\n")


def in_venv() -> bool:
    return sys.prefix != getattr(sys, "base_prefix", sys.prefix)


def can_run_engine(python: str) -> bool:
    """Whether ``python`` (isolated mode, as the exit command runs) imports the engine's libraries."""
    try:
        proc = subprocess.run([python, "-I", "-c", PROBE], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


def exit_interpreter(cache: Dict[str, Any], stat_key: Callable[[str], Optional[List[int]]],
                     candidates=SYSTEM_PYTHONS) -> str:
    """The interpreter for the exit command: this one unless it lives in a venv, else the first
    system interpreter that can run the engine (probe results cached by file identity in ``cache``)."""
    if not in_venv():
        return sys.executable
    for python in candidates:
        key = stat_key(python)
        if key is None or not os.access(python, os.X_OK):
            continue
        hit = cache.get(python)
        if not hit or hit.get("stat") != key:
            hit = cache[python] = {"stat": key, "ok": can_run_engine(python)}
        if hit["ok"]:
            return python
    return sys.executable


def missing_interpreter(python: str) -> bool:
    """Whether an exit command's interpreter is gone (removed venv): conmon could not run it."""
    return bool(python) and not os.access(python, os.X_OK)
