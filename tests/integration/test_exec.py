# SPDX-License-Identifier: GPL-3.0-or-later
"""container_exec against real containers: output, exit codes, the container's capabilities."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.libpod.engine.tests.helpers.procs import wait_argv


def _start(name, img, **extra):
    args = {"name": name, "image": "oci-archive:" + img, "network": "none",
            "command": ["sh", "-c", "exec sleep 1000"]}
    args.update(extra)
    return {"name": "start " + name, "libpod.engine.container": args}


def _exec(name, command, **extra):
    args = {"name": name, "command": command}
    args.update(extra)
    return {"name": "exec", "libpod.engine.container_exec": args, "ignore_errors": True}


@pytest.mark.parametrize("runtime", ["runc", "crun"])
def test_exec_output_rc_env_user_workdir(playbook, engine_env, busybox_archive, runtime):
    res = playbook([
        _start("ex", busybox_archive, engine_options={"engine": {"runtime": runtime}}),
        dict(_exec("ex", ["sh", "-c", "echo out; echo err >&2; echo $FOO; pwd; id -u"], env={"FOO": "bar"},
                   workdir="/tmp", user="65534", engine_options={"engine": {"runtime": runtime}}), name="one"),
        dict(_exec("ex", "sh -c 'exit 3'"), name="rc3"),
        dict(_exec("ex", ["/no/such/cmd"]), name="missing"),
        dict(_exec("ex", ["sleep", "30"], timeout=1), name="timeout"),
        dict(_exec("ex", ["sh", "-c", "sleep 300 >/dev/null 2>&1 & echo started"]), name="background"),
        dict(_exec("ex", ["sleep", "300"], detach=True), name="detached"),
        dict(_exec("ex", ["true"]), name="checked"),
    ])
    one = res.task("one")
    assert not one.failed, res.log
    assert one.changed
    assert one["stdout_lines"] == ["out", "bar", "/tmp", "65534"]
    assert one["stderr"] == "err"
    assert one["rc"] == 0
    rc3 = res.task("rc3")
    assert rc3.failed and rc3["rc"] == 3, rc3.result
    missing = res.task("missing")
    assert missing.failed and missing["rc"] == 127, missing.result
    assert "timeout" in res.task("timeout").msg or "did not finish" in res.task("timeout").msg
    bg = res.task("background")
    assert not bg.failed and bg["stdout"] == "started", bg.result
    det = res.task("detached")
    assert not det.failed and "rc" not in det.result and det["pid"] > 0, det.result
    assert wait_argv(det["pid"], lambda a: a[:1] == ["sleep"])[:1] == ["sleep"]
    events = os.path.join(engine_env.paths["tmp_dir"], "events", "events.log")
    with open(events) as f:
        kinds = [json.loads(ln)["Status"] for ln in f if ln.strip()]
    assert "exec" in kinds and "exec_died" in kinds


def test_exec_has_the_containers_capabilities_not_more(playbook, busybox_archive):
    res = playbook([
        _start("nocaps", busybox_archive, cap_drop=["ALL"]),
        dict(_exec("nocaps", ["busybox", "chown", "1:1", "/tmp"]), name="chown"),
        dict(_exec("nocaps", ["sh", "-c", "grep CapEff /proc/self/status"]), name="caps"),
        dict(_exec("nocaps", ["busybox", "chown", "1:1", "/tmp"], privileged=True), name="privileged"),
        _start("default", busybox_archive),
        dict(_exec("default", ["busybox", "chown", "1:1", "/tmp"]), name="chown default"),
    ])
    chown = res.task("chown")
    assert chown.failed and chown["rc"] != 0, chown.result
    assert "Operation not permitted" in chown["stderr"]
    assert res.task("caps")["stdout"].split()[-1] == "0000000000000000"
    assert not res.task("privileged").failed, res.task("privileged").result
    assert not res.task("chown default").failed, res.log


def test_exec_check_mode_and_bad_input(playbook, busybox_archive):
    res = playbook([_start("cm", busybox_archive)])
    assert res.ok, res.log
    res = playbook([_exec("cm", ["touch", "/tmp/x"])], check=True)
    t = res.tasks[0]
    assert t.skipped or t.get("skipped"), t.result
    assert not t.changed and "check mode" in t.msg
    res = playbook([
        dict(_exec("cm", ["sh", "-c", "test -e /tmp/x"]), name="not run"),
        dict(_exec("cm", []), name="empty"),
        dict(_exec("cm", ["id"], tty=True), name="tty"),
        dict(_exec("nope", ["id"]), name="unknown"),
    ])
    assert res.task("not run")["rc"] == 1
    assert "command" in res.task("empty").msg
    assert "tty" in res.task("tty").msg
    assert "nope does not exist" in res.task("unknown").msg


def test_exec_in_stopped_container_is_a_clear_error(playbook, busybox_archive):
    res = playbook([
        _start("st", busybox_archive, state="stopped"),
        dict(_exec("st", ["id"]), name="exec"),
    ])
    t = res.task("exec")
    assert t.failed and "not running" in t.msg, t.result
