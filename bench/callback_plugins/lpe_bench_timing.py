# SPDX-License-Identifier: GPL-3.0-or-later
"""Aggregate callback for the bench: when each task started and each loop item finished.

Writes ``{"tasks": [{"name", "start", "end", "items": [{"t", "changed", "failed", "msg"}]}]}``
(times from time.perf_counter() of the controller process) to the file named by
E(LPE_BENCH_TIMING_FILE) when the playbook ends. Items of one loop run one after the other
in one worker, and their results reach the controller as they finish, so the gap between two
item results is the cost of one item.
"""
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: lpe_bench_timing
type: aggregate
short_description: libpod.engine bench timings (per task and per loop item)
description:
  - Records task start and loop item completion times to E(LPE_BENCH_TIMING_FILE) as JSON.
requirements:
  - enabled with ANSIBLE_CALLBACKS_ENABLED=lpe_bench_timing
"""


def _data(result):
    data = getattr(result, "result", None)
    if not isinstance(data, dict):
        data = getattr(result, "_result", {})
    return data if isinstance(data, dict) else {}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "lpe_bench_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tasks = []

    def v2_playbook_on_task_start(self, task, is_conditional):
        now = time.perf_counter()
        if self._tasks:
            self._tasks[-1].setdefault("end", now)
        self._tasks.append({"name": task.get_name(), "start": now, "items": []})

    def _item(self, result, failed):
        if not self._tasks:
            return
        data = _data(result)
        msg = data.get("msg") if failed else None
        self._tasks[-1]["items"].append({"t": time.perf_counter(), "changed": bool(data.get("changed")),
                                         "failed": failed, "msg": str(msg)[:500] if msg else None})

    def v2_runner_item_on_ok(self, result):
        self._item(result, False)

    def v2_runner_item_on_failed(self, result):
        self._item(result, True)

    def v2_runner_item_on_skipped(self, result):
        self._item(result, False)

    def _done(self, result, failed):
        if self._tasks:
            task = self._tasks[-1]
            task["end"] = time.perf_counter()
            data = _data(result)
            task["changed"] = bool(data.get("changed"))
            task["failed"] = failed
            if failed:
                task["msg"] = str(data.get("msg"))[:1000]

    def v2_runner_on_ok(self, result):
        self._done(result, False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._done(result, True)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("LPE_BENCH_TIMING_FILE")
        if not path:
            return
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"tasks": self._tasks}, f)
