# SPDX-License-Identifier: GPL-3.0-or-later
"""Stdout callback for the integration tests: every task result as JSON.

ansible-core no longer ships a ``json`` callback (it lives in ansible.posix), so the
harness in ``tests/integration/helpers.py`` uses this one. It writes one JSON document
to the file named by ``LPE_IT_RESULT_FILE`` when the playbook ends::

    {"tasks": [{"name", "action", "host", "status", "result"}, ...],
     "stats": {host: {"ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored"}}}

and prints one short line per task result so a failing test shows what happened.
"""
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase
from ansible.vars.clean import module_response_deepcopy, strip_internal_keys

DOCUMENTATION = """
name: lpe_json
type: stdout
short_description: libpod.engine test harness output (task results as JSON)
description:
  - Writes every task result to the file named by E(LPE_IT_RESULT_FILE), as JSON.
"""


def _plain(value):
    """Make a result JSON-serialisable (results may hold tagged or summary objects)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return str(value)
    for attr in ("as_dict", "_asdict"):
        func = getattr(value, attr, None)
        if callable(func):
            return _plain(func())
    msg = getattr(value, "msg", None)
    if isinstance(msg, str):
        return msg
    return str(value)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "lpe_json"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tasks = []
        self._current = None

    # -- task start ---------------------------------------------------------------
    def _start(self, task):
        self._current = {
            "name": task.get_name(),
            "action": getattr(task, "resolved_action", None) or task.action,
        }

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task)

    # -- results ------------------------------------------------------------------
    def _record(self, result, status):
        data = getattr(result, "result", None)
        if data is None:  # ansible-core < 2.19
            data = result._result
        data = _plain(strip_internal_keys(module_response_deepcopy(data)))
        task = result.task if hasattr(result, "task") else result._task
        host = result.host if hasattr(result, "host") else result._host
        current = self._current or {"name": task.get_name(), "action": task.action}
        if status == "ok" and data.get("changed"):
            status = "changed"
        entry = dict(current, host=host.get_name(), status=status, result=data)
        self._tasks.append(entry)
        line = "%s: [%s] %s" % (status, entry["host"], entry["name"])
        if status in ("failed", "unreachable", "ignored") and data.get("msg"):
            line += ": %s" % data["msg"]
        self._display.display(line)

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    # -- end ----------------------------------------------------------------------
    def v2_playbook_on_stats(self, stats):
        summary = {host: stats.summarize(host) for host in sorted(stats.processed)}
        doc = {"tasks": self._tasks, "stats": summary}
        path = os.environ.get("LPE_IT_RESULT_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as f:
                json.dump(doc, f, indent=1, sort_keys=True)
        else:
            self._display.display(json.dumps(doc, indent=1, sort_keys=True))
        for host, counts in summary.items():
            self._display.display(
                "%s: %s" % (host, " ".join("%s=%s" % (k, counts[k]) for k in sorted(counts)))
            )
