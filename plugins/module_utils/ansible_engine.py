# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the modules import: the packed engine's loader and the task bodies (reconcile/task.py).

The payload carries this file as source, and every task compiles it; the bodies are packed with
the engine and load as bytecode (issue 20).
"""
from __future__ import annotations

import atexit
import gc

# The engine and reconcile packages are reached through packed_loader.load only: an import
# statement naming them would make Ansible's controller parse all ~140 of their files for every
# module and playbook run (issue 20); the payload carries them packed instead.
from ansible_collections.libpod.engine.plugins.module_utils import packed_loader

packed_loader.install()
if packed_loader.needs_pack():
    packed_loader.ask_for_pack()  # before anything is done: the action plugin runs the task again with it
engine_import = packed_loader.load

# At exit the interpreter's last garbage collections walk every object the imports made (Ansible's
# and the engine's: ~40 ms of CPU per task, issue 20); the process is about to end, so let them skip
# all of it. Registered first, so it runs after every other exit handler (they run last-in first-out).
atexit.register(gc.freeze)

_task = engine_import("reconcile.task")
EngineError = engine_import("engine.base.errors").EngineError
ENGINE_ARGSPEC = _task.ENGINE_ARGSPEC
NAMES_ARGSPEC = _task.NAMES_ARGSPEC
engine_argspec = _task.engine_argspec
fail = _task.fail
open_runtime = _task.open_runtime
run_reconcile = _task.run_reconcile
run_info = _task.run_info
run_named_info = _task.run_named_info
select = _task.select
