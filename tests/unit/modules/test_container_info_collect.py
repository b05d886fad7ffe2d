# SPDX-License-Identifier: GPL-3.0-or-later
"""container_info: a container removed between the lookup and its lock (an auto_remove's exit
command, another task) is reported missing, not a failed task (seen in CI: a task polling
``until: result.missing == ['rm2']`` failed on the attempt that raced the removal)."""
from __future__ import annotations

import time

from helpers.roots import throwaway_root

from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.container import Container
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops import session
from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import Record
from ansible_collections.libpod.engine.plugins.modules import container_info


def test_a_container_removed_after_it_was_found_is_missing(tmp_path, monkeypatch):
    overrides, env = throwaway_root(tmp_path)
    rt = session.open_runtime(OpenOptions(overrides=overrides, env=env))
    try:
        oid = "ab" * 32
        gone = Container(rt, Record(id=oid, name="rm2", namespace="", lock_id=0, config={},
                                    state={"status": "exited"}, created=time.time()))  # found, not in the DB any more
        monkeypatch.setattr(container_info, "find_container", lambda rt_, ref: gone)
        for ref in ("rm2", oid[:12]):
            out = container_info.collect(rt, {"name": [ref], "since": None, "log_lines": 0})
            assert out["containers"] == [] and out["missing"] == [ref]
        monkeypatch.setattr(container_info, "list_containers", lambda rt_: [gone])
        out = container_info.collect(rt, {"name": None, "since": None, "log_lines": 0})
        assert out["containers"] == [] and out["missing"] == []
    finally:
        rt.shutdown()
