# SPDX-License-Identifier: GPL-3.0-or-later
"""The exit command's interpreter outlives venv changes (issue 14 item 10)."""
from __future__ import annotations

import os
import sys

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import interpreter


def _stat_key(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _script(path, rc: int) -> str:
    with open(path, "w", encoding="utf-8") as f:
        f.write("#!/bin/sh\nexit %d\n" % rc)
    os.chmod(path, 0o755)
    return str(path)


def test_a_venv_prefers_a_system_python_that_can_run_the_engine(tmp_path, monkeypatch):
    monkeypatch.setattr(interpreter, "in_venv", lambda: True)
    lacking = _script(tmp_path / "lacking", 1)
    able = _script(tmp_path / "able", 0)
    cache = {}
    got = interpreter.exit_interpreter(cache, _stat_key, candidates=(str(tmp_path / "none"), lacking, able))
    assert got == able
    assert cache[lacking]["ok"] is False and cache[able]["ok"] is True
    # cached: a second call does not run the probes again
    os.chmod(able, 0o644)
    os.chmod(able, 0o755)
    assert interpreter.exit_interpreter(cache, _stat_key, candidates=(lacking, able)) == able


def test_without_a_usable_system_python_the_venv_stays(tmp_path, monkeypatch):
    monkeypatch.setattr(interpreter, "in_venv", lambda: True)
    lacking = _script(tmp_path / "lacking", 1)
    assert interpreter.exit_interpreter({}, _stat_key, candidates=(lacking,)) == sys.executable


def test_outside_a_venv_the_current_python_is_used(monkeypatch):
    monkeypatch.setattr(interpreter, "in_venv", lambda: False)
    assert interpreter.exit_interpreter({}, _stat_key, candidates=("/nonexistent",)) == sys.executable


def test_the_probe_imports_what_the_exit_command_needs():
    # this test's interpreter has the libraries; an interpreter without them fails the probe
    assert interpreter.can_run_engine(sys.executable)
    assert "pyroute2" not in interpreter.PROBE and "jsonschema" in interpreter.PROBE
    assert not interpreter.can_run_engine("/nonexistent/python")


def test_a_removed_interpreter_is_detected(tmp_path):
    python = _script(tmp_path / "python", 0)
    assert not interpreter.missing_interpreter(python)
    os.unlink(python)
    assert interpreter.missing_interpreter(python)
    assert not interpreter.missing_interpreter("")
