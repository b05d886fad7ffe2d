# SPDX-License-Identifier: GPL-3.0-or-later
"""A rootless reboot: the user's pause process and everything in its namespace killed, the run dir
(/tmp/libpod-engine-UID, a stand-in for /run/user/UID) wiped. The next task of the user makes a
new namespace (a new pause process), refreshes the user's root and converges: the container runs
again with its volume data kept, and a second run changes nothing.
"""
from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.libpod.engine.tests.helpers.rootless import (
    as_user,
    give,
    kill_user,
    missing_requirements,
    rootless_env,
    run_dir,
    throwaway_user,
    user_pids,
)
from ansible_collections.libpod.engine.tests.integration.helpers import run_playbook

from .report import REPORT

SCENARIO = "rootless reboot: pause process killed, run dir wiped"


def test_rootless_reboot(engine_env, busybox_archive):
    why = missing_requirements()
    if why:
        pytest.skip(why)
    with throwaway_user() as (pw, _start):
        uid, home = pw.pw_uid, pw.pw_dir
        archive = os.path.join(home, "busybox.tar")
        shutil.copyfile(busybox_archive, archive)
        env = type(engine_env)(rootless_env(engine_env, home), root=engine_env.root, conf=engine_env.conf,
                               paths=engine_env.paths)
        give(home, pw)
        ctr = {"name": "rb", "image": "oci-archive:" + archive, "network": "none", "volumes": ["keep:/data"],
               "command": ["sleep", "1000"]}
        tasks = [as_user(t, pw) for t in (
            {"name": "start", "libpod.engine.container": ctr},
            {"name": "witness",
             "libpod.engine.container_exec": {"name": "rb", "command": ["sh", "-c", "echo kept > /data/w"]}},
            {"name": "info", "libpod.engine.runtime_info": {}},
        )]
        res = run_playbook(env, tasks)
        assert res.ok, res.log
        before = res.task("info")["info"]
        pause = before["rootless_user"]["pause_pid"]

        kill_user(uid)  # the reboot: every process of the user, its namespaces with them
        shutil.rmtree(run_dir(uid))

        problems = []
        again = [as_user(t, pw) for t in (
            {"name": "converge", "libpod.engine.container": ctr},
            {"name": "info", "libpod.engine.runtime_info": {}},
            {"name": "read", "libpod.engine.container_exec": {"name": "rb", "command": ["cat", "/data/w"]}},
            {"name": "rerun", "libpod.engine.container": ctr},
        )]
        res = run_playbook(env, again)
        if not res.ok:
            problems.append("after the reboot: %s" % res.log[-1500:])
        else:
            info = res.task("info")["info"]
            new_pause = info["rootless_user"]["pause_pid"]
            if not new_pause or new_pause == pause:
                problems.append("pause process %s after the reboot (was %s): no new namespace" % (new_pause, pause))
            if not res.task("converge").changed:
                problems.append("the killed container was not started again")
            if res.task("rerun").changed:
                problems.append("second run changed: %s" % res.task("rerun").get("actions"))
            if (res.task("read").get("stdout") or "").strip() != "kept":
                problems.append("volume data lost: %r" % res.task("read").get("stdout"))
        res = run_playbook(env, [as_user({"name": "reset", "libpod.engine.system_reset": {"confirm": True}}, pw)])
        if not res.ok:
            problems.append("reset: %s" % res.log[-800:])
        left = list(user_pids(uid))
        REPORT.record(SCENARIO, converged=not problems, leaked=len(left), note="; ".join(problems))
        assert not problems and not left, {"problems": problems, "left running": left}
