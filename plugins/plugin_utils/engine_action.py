# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action of every libpod.engine module (plugins/action/<module>.py is this class).

It runs the module as Ansible's own ``normal`` action does. A module's payload carries the engine's
loader and index but not the engine itself (plugins/module_utils/packed_build.py says why): the
managed node keeps a verified bytecode copy of each engine version, per user and Python. A task
that finds none it can use answers, before it does anything, with ``libpod_engine_needs_pack``;
this action then sends the engine's pack (~300 kB) into the task's remote temporary directory and
runs the task again with the pack's path in ``LIBPOD_ENGINE_PACK``. That happens once per engine
version, user and Python on a node (or on every task when no copy can be kept: an unsafe cache
directory). An async task gets the pack with it every time: its answer comes too late to ask.
"""
from __future__ import annotations

import base64

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.libpod.engine.plugins.module_utils import packed_index

display = Display()

#: the environment variable that names the pack for the task (module_utils/packed_loader.py ENV_PACK)
ENV_PACK = "LIBPOD_ENGINE_PACK"
#: the result key of a task that asks for the pack (module_utils/packed_loader.py NEEDS)
NEEDS = "libpod_engine_needs_pack"

#: the pack's file name in the task's remote temporary directory
PACK_NAME = "libpod-engine-pack"


def pack_bytes() -> bytes:
    """The deflated pack (packed_sources.BLOB decoded): loaded only when a node asks for it."""
    from ansible_collections.libpod.engine.plugins.module_utils import packed_sources  # pylint: disable=import-outside-toplevel

    return base64.b64decode(packed_sources.BLOB)


class ActionModule(ActionBase):
    """Run the module; send the engine's pack and run it again when the node asks for it."""

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        wrap_async = bool(self._task.async_val and not self._connection.has_native_async)
        if wrap_async:
            out = self._run_with_pack(task_vars, wrap_async=True)
        else:
            out = self._execute_module(task_vars=task_vars, wrap_async=False)
            if out.get(NEEDS) == packed_index.DIGEST:
                display.vvv("libpod.engine: the node has no usable copy of this engine version; sending the pack",
                            host=self._play_context.remote_addr)
                out = self._run_with_pack(task_vars, wrap_async=False)
        result = merge_hash(result, out)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _run_with_pack(self, task_vars, wrap_async):
        """The module run with the pack in a file of its remote temporary directory."""
        tmpdir = self._connection._shell.tmpdir or self._make_tmp_path()
        remote = self._connection._shell.join_path(tmpdir, PACK_NAME)
        self._transfer_data(remote, pack_bytes())
        self._fixup_perms2([remote], execute=False)  # readable by a become user, as the module is
        saved = self._task.environment
        envs = list(saved) if isinstance(saved, list) else ([saved] if saved else [])
        self._task.environment = envs + [{ENV_PACK: remote}]  # as Ansible adds ANSIBLE_ASYNC_DIR
        try:
            return self._execute_module(task_vars=task_vars, wrap_async=wrap_async)
        finally:
            self._task.environment = saved
