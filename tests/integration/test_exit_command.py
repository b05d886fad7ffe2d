# SPDX-License-Identifier: GPL-3.0-or-later
"""conmon's exit command runs a copy of the engine kept under the static dir: one copy per engine
version on a host, whichever module started the container, and it works from the layered tree; a
new copy prunes an older version's unused one."""
from __future__ import annotations

import os
import time

from .helpers import poll_container, run_playbook

ENGINE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "plugins", "module_utils", "engine")


def _tree(root: str) -> set:
    out = set()
    for dirpath, dirnames, names in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        out |= {os.path.relpath(os.path.join(dirpath, n), root) for n in names if n.endswith(".py")}
    return out


def test_one_engine_copy_for_every_module_and_cleanup_after_exit(engine_env, busybox_archive):
    img = "oci-archive:" + busybox_archive
    lib = os.path.join(engine_env.paths["static_dir"], "lib")
    old = os.path.join(lib, "0123456789abcdef")  # an older version's copy, unused for two hours
    os.makedirs(old, mode=0o700)
    with open(os.path.join(old, "run.py"), "w") as f:
        f.write("")
    os.utime(old, (time.time() - 7200,) * 2)
    res = run_playbook(engine_env, [
        {"name": "container", "libpod.engine.container": {
            "name": "quick", "image": img, "command": ["sh", "-c", "exit 3"]}},
        {"name": "pod", "libpod.engine.pod": {"name": "p", "state": "started"}},
        {"name": "member", "libpod.engine.container": {
            "name": "member", "image": img, "pod": "p", "command": ["sleep", "300"]}},
        {"name": "stack", "libpod.engine.stack": {"label": "s", "containers": [
            {"name": "stacked", "image": img, "command": ["sleep", "300"]}]}},
    ])
    assert res.rc == 0, res.log
    copies = [d for d in os.listdir(lib) if not d.startswith(".") and ".tmp" not in d]
    assert len(copies) == 1 and not os.path.lexists(old), copies  # the new copy pruned the old one
    copy = os.path.join(lib, copies[0], "libpod_engine")
    assert _tree(copy) == _tree(ENGINE)
    # the exit command (cleanup after exit) ran from that copy: the container is cleaned up
    state = poll_container(lambda tasks: run_playbook(engine_env, tasks), "quick", "c.State.Status == 'exited'",
                           seconds=20)["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 3, state
