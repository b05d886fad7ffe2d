# SPDX-License-Identifier: GPL-3.0-or-later
"""runtime_info through real ansible runs: discovery, DB config record, reboot refresh, config errors."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from .helpers import run_playbook

ANSIBLE_BIN = os.path.dirname(sys.executable)


def adhoc(env, module, args="", extra_env=None):
    cmd = [os.path.join(ANSIBLE_BIN, "ansible"), "localhost", "-i", "localhost,", "-c", "local",
           "-m", module, "-o"]
    if args:
        cmd += ["-a", args]
    run_env = dict(env)
    run_env.pop("ANSIBLE_STDOUT_CALLBACK", None)
    run_env.update(extra_env or {})
    return subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=120, check=False)


def adhoc_json(proc):
    """-o prints 'localhost | SUCCESS => {...}' on one line."""
    line = [ln for ln in proc.stdout.splitlines() if "=>" in ln][0]
    return line.split(" | ")[1].split(" => ")[0], json.loads(line.split(" => ", 1)[1])


def create_root(env):
    """Make the engine root exist: runtime_info, like every *_info module, creates nothing."""
    res = run_playbook(env, [{"libpod.engine.volume": {"name": "none", "state": "absent"}}])
    assert res.ok and os.path.exists(os.path.join(env.paths["static_dir"], "state.db")), res.log


def test_ansible_doc_renders(engine_env):
    out = subprocess.run([os.path.join(ANSIBLE_BIN, "ansible-doc"), "-t", "module", "libpod.engine.runtime_info"],
                         env=engine_env, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert "Opens the engine's runtime the way every libpod.engine module does" in text
    assert "engine_options" in text and "RETURN VALUES" in text.upper()


def test_adhoc_reports_discovery_and_db_config(engine_env):
    proc = adhoc(engine_env, "libpod.engine.runtime_info")
    status, res = adhoc_json(proc)
    assert status == "SUCCESS", proc.stdout + proc.stderr
    info = res["info"]
    assert info["conmon"]["path"] == shutil.which("conmon")
    assert info["conmon"]["version"].startswith("2.")
    assert "runc" in info["oci_runtimes"] and info["oci_runtimes"]["runc"]["version"].startswith("1.")
    default = info["default_runtime"]
    assert default["name"] in info["oci_runtimes"]
    assert info["oci_runtime_choice_reason"].startswith(default["name"] + ": ")
    if info["oci_runtimes"].get("crun", {}).get("private_mount_ns") and "runc" in info["oci_runtimes"]:
        assert default["name"] == "runc" and "private mount namespace" in info["oci_runtime_choice_reason"]
    if default["name"] == "crun" and info["host"]["cgroup_mode"] == "hybrid":
        # crun refuses hybrid hosts: the engine must have chosen the private-namespace way, and says so
        assert info["oci_runtimes"]["crun"]["private_mount_ns"] is True
        assert "hybrid" in default["note"]
    db = info["db_config"]
    assert db["static_dir"] == engine_env.paths["static_dir"]
    assert db["tmp_dir"] == engine_env.paths["tmp_dir"]
    assert db["volume_path"] == engine_env.paths["volume_path"]
    assert db["graph_driver"] in ("overlay", "vfs")
    assert info["store"]["db_path"] == os.path.join(engine_env.paths["static_dir"], "state.db")
    assert info["config_files"] == [engine_env.conf]
    # the root does not exist yet: reported, but nothing created (no DB, no dirs, no refresh)
    assert info["refreshed"] is False
    assert not os.path.exists(engine_env.paths["static_dir"]) and not os.path.exists(engine_env.paths["tmp_dir"])
    assert info["store"]["overlay"]["kind"] == "" and "not probed" in info["store"]["overlay"]["reason"]
    create_root(engine_env)
    # on an existing root: no refresh (already done by its first use), the record as reported
    status, res2 = adhoc_json(adhoc(engine_env, "libpod.engine.runtime_info"))
    assert status == "SUCCESS" and res2["info"]["refreshed"] is False
    assert res2["info"]["store"]["overlay"] == {"kind": "native", "mount_program": "", "reason": ""}
    assert res2["info"]["db_config"] == db


def _events(env):
    path = os.path.join(env.paths["tmp_dir"], "events", "events.log")
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_simulated_reboot_refreshes_exactly_once_even_concurrently(engine_env):
    create_root(engine_env)
    shutil.rmtree(engine_env.paths["tmp_dir"])  # what a reboot does to a tmpfs
    procs = [subprocess.Popen(
        [os.path.join(ANSIBLE_BIN, "ansible"), "localhost", "-i", "localhost,", "-c", "local",
         "-m", "libpod.engine.runtime_info", "-o"],
        env={k: v for k, v in engine_env.items() if k != "ANSIBLE_STDOUT_CALLBACK"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _i in range(4)]
    outs = [p.communicate(timeout=180) for p in procs]
    refreshed = []
    for (out, err), p in zip(outs, procs):
        assert p.returncode == 0, out + err
        refreshed.append(json.loads(out.split(" => ", 1)[1])["info"]["refreshed"])
    assert refreshed.count(True) == 1, refreshed
    refresh_events = [e for e in _events(engine_env) if e["Type"] == "system" and e["Status"] == "refresh"]
    assert len(refresh_events) == 1


def test_db_record_wins_over_moved_config_with_a_warning(engine_env):
    create_root(engine_env)
    moved = os.path.join(engine_env.root, "moved-volumes")
    with open(engine_env.conf) as f:
        text = f.read().replace(
            'volume_path = "%s"' % engine_env.paths["volume_path"], 'volume_path = "%s"' % moved)
    with open(engine_env.conf, "w") as f:
        f.write(text)
    res = run_playbook(engine_env, "- libpod.engine.runtime_info:\n  register: r\n")
    assert res.ok, res.log
    info = res.tasks[0]["info"]
    assert info["store"]["volume_path"] == engine_env.paths["volume_path"]  # the DB value is used
    warnings = " ".join(res.tasks[0].get("warnings", []))
    assert moved in warnings and engine_env.paths["volume_path"] in warnings, res.tasks[0].result


def test_explicit_option_conflicting_with_db_record_fails_naming_both(engine_env):
    create_root(engine_env)
    other = os.path.join(engine_env.root, "elsewhere")
    res = run_playbook(engine_env, [{"libpod.engine.runtime_info": {
        "engine_options": {"engine": {"volume_path": other}}}, "ignore_errors": True}])
    task = res.tasks[0]
    assert task.failed
    assert 'database volume path "%s" does not match our volume path "%s"' % (
        engine_env.paths["volume_path"], other) in task.msg
    assert task["error_kind"] == "db_config_mismatch"


def test_missing_conf_file_and_bad_type_fail_clearly(engine_env):
    proc = adhoc(engine_env, "libpod.engine.runtime_info",
                 extra_env={"LIBPOD_ENGINE_CONF": "/nonexistent/containers.conf"})
    status, res = adhoc_json(proc)
    assert status.startswith("FAILED")
    assert "LIBPOD_ENGINE_CONF=/nonexistent/containers.conf: no such file" in res["msg"]
    with open(engine_env.conf, "a") as f:
        f.write("\n[containers]\npids_limit = \"lots\"\n")
    status, res = adhoc_json(adhoc(engine_env, "libpod.engine.runtime_info"))
    assert status.startswith("FAILED")
    assert engine_env.conf in res["msg"]
    assert '[containers] pids_limit = "lots": expected integer, got string' in res["msg"]
    assert "Traceback" not in res["msg"]
