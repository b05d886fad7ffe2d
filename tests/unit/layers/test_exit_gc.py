# SPDX-License-Identifier: GPL-3.0-or-later
"""A module process and the exit command skip the interpreter's last garbage collections (issue 20).

At exit Python collects every generation once more, walking each object the imports made (Ansible's
and the engine's); for a task that is ~40 ms of CPU spent on a process about to end. Both entry points
register ``gc.freeze`` at exit, before anything else they run registers its own handler, so it runs
last. Checked here in a fresh interpreter: a handler registered before the import (so it runs after
everything else) sees the objects frozen.
"""
from __future__ import annotations

import os
import subprocess
import sys

PKG = "ansible_collections.libpod.engine.plugins.module_utils"

# runs last (registered first): prints how many objects the exit handlers froze
CHILD = """
import atexit, gc, sys
atexit.register(lambda: sys.stdout.write("frozen=%d\\n" % gc.get_freeze_count()))
{body}
"""


def _frozen_at_exit(body: str) -> int:
    proc = subprocess.run([sys.executable, "-c", CHILD.format(body=body)], capture_output=True, text=True,
                          check=True, env=dict(os.environ, PYTHONPATH=":".join(sys.path)), timeout=120)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("frozen=")]
    assert line, proc.stdout + proc.stderr
    return int(line[-1].split("=", 1)[1])


def test_module_process_freezes_at_exit():
    assert _frozen_at_exit("import %s.ansible_engine" % PKG) > 0


def test_plain_interpreter_does_not():
    """The check itself: nothing freezes objects unless told to."""
    assert _frozen_at_exit("import json") == 0


def test_exit_command_freezes_at_exit(tmp_path):
    """``cli.main`` registers it first thing (here it fails at once on a missing command)."""
    body = ("from %s.engine.ops import cli\n"
            "try:\n    cli.main([])\nexcept SystemExit:\n    pass\n" % PKG)
    assert _frozen_at_exit(body) > 0
