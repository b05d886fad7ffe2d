# SPDX-License-Identifier: GPL-3.0-or-later
"""The container module on real containers (conmon + OCI runtime), through ansible-playbook."""
from __future__ import annotations

import glob
import json
import os
import shutil
import time
from typing import Dict

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import mounts
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import argv, argvs
from ansible_collections.libpod.engine.tests.helpers.images import (
    E,
    build_image,
    busybox_image,
    tar_from_entries,
    write_oci_archive,
)
from ansible_collections.libpod.engine.tests.helpers.procs import wait_argv

from .helpers import poll_container


def _proc_cmdline(pid: int) -> str:
    """The command line as ps shows it, "" when the process is gone."""
    return " ".join(argv(pid))


def _engine_mounts(env) -> list:
    return [p for p in mounts.mount_points() if env.paths["static_dir"] in p]


def test_lifecycle_started_stopped_restarted_absent(playbook, engine_env, busybox_archive):
    img = "oci-archive:" + busybox_archive
    res = playbook("""
- name: start
  libpod.engine.container:
    name: life
    image: %(img)s
    command: [sh, -c, "echo hello-from-life; exec sleep 1000"]
  register: r
- name: again
  libpod.engine.container:
    name: life
    image: %(img)s
    command: [sh, -c, "echo hello-from-life; exec sleep 1000"]
- name: info
  libpod.engine.container_info:
    name: [life]
    log_lines: 5
""" % {"img": img})
    assert res.ok, res.log
    start, again, info = res.tasks
    assert start.changed and start["actions"][-1] == "started life"
    assert not again.changed and again["actions"] == []
    ctr = info["containers"][0]
    assert ctr["State"]["Running"] is True and ctr["State"]["Status"] == "running"
    pid = ctr["State"]["Pid"]
    shown = wait_argv(pid, lambda a: "sleep 1000" in " ".join(a))  # exec'd just before the task returned
    assert "sleep 1000" in " ".join(shown)          # really running, visible in ps
    assert [ln["line"] for ln in ctr["logs"]] == ["hello-from-life"]
    ctr_id = ctr["Id"]
    assert _engine_mounts(engine_env), "rootfs should be mounted while running"

    res = playbook("""
- name: stop
  libpod.engine.container: {name: life, state: stopped, timeout: 1}
- name: stop again
  libpod.engine.container: {name: life, state: stopped}
- name: restart
  libpod.engine.container: {name: life, state: restarted, timeout: 1}
- name: info
  libpod.engine.container_info: {name: [life]}
""")
    assert res.ok, res.log
    stop, stop2, restart, info = res.tasks
    assert stop.changed and stop["container"]["State"]["Status"] == "exited"
    assert "sleep 1000" not in _proc_cmdline(pid)
    assert not stop2.changed
    assert restart.changed
    new_pid = info["containers"][0]["State"]["Pid"]
    assert info["containers"][0]["State"]["Running"] and new_pid != pid

    res = playbook("""
- name: remove
  libpod.engine.container: {name: life, state: absent, timeout: 1}
- name: remove again
  libpod.engine.container: {name: life, state: absent}
""")
    assert res.ok, res.log
    assert res.tasks[0].changed and not res.tasks[1].changed
    assert "sleep 1000" not in _proc_cmdline(new_pid)
    assert _engine_mounts(engine_env) == []
    assert not glob.glob(os.path.join(engine_env.paths["graph_root"], "containers", ctr_id))
    assert not glob.glob(os.path.join(engine_env.paths["tmp_dir"], "storage", "containers", ctr_id))
    conmons = [pid for pid, args in argvs() if ctr_id in " ".join(args)]
    assert conmons == []


# option -> (value A, value B, how B is applied)
MATRIX = {
    "command": (["sleep", "1000"], ["sleep", "1001"], "recreate"),
    "entrypoint": (["/bin/sh", "-c"], ["/bin/sh", "-ec"], "recreate"),
    "env": ({"MODE": "debug"}, {"MODE": "DEBUG"}, "recreate"),  # case matters
    "label": ({"tier": "web"}, {"tier": "db"}, "recreate"),
    "annotation": ({"a.b/c": "1"}, {"a.b/c": "2"}, "recreate"),
    "workdir": ("/tmp", "/etc", "recreate"),
    "user": ("root", "app", "recreate"),
    "hostname": ("one", "two", "recreate"),
    "tmpfs": (["/scratch:size=1m"], ["/scratch:size=2m"], "recreate"),
    "cap_add": (["NET_ADMIN"], ["NET_ADMIN", "SYS_TIME"], "recreate"),
    "cap_drop": (["CHOWN"], ["KILL"], "recreate"),
    "read_only": (False, True, "recreate"),
    "init": (False, True, "recreate"),
    "ulimit": (["nofile=512:1024"], ["nofile=256:1024"], "recreate"),
    "stop_signal": ("SIGTERM", "SIGINT", "recreate"),
    "dns": (["10.0.0.53"], ["10.0.0.54"], "recreate"),
    "add_host": (["db.local:10.1.1.1"], ["db.local:10.1.1.2"], "recreate"),
    "network": ("none", "host", "recreate"),
    "volume": (["/tmp:/mnt/host:ro"], ["/tmp:/mnt/host"], "recreate"),
    "mount": (["type=tmpfs,target=/m,tmpfs-size=1m"], ["type=tmpfs,target=/m,tmpfs-size=2m"], "recreate"),
    "privileged": (False, True, "recreate"),
    "tty": (False, True, "recreate"),
    "sysctl": ({"net.ipv4.ip_unprivileged_port_start": "1024"}, {"net.ipv4.ip_unprivileged_port_start": "80"},
               "recreate"),
    "oci_runtime": ("crun", "runc", "recreate"),
    "dns_search": (["a.example"], ["b.example"], "recreate"),
    "shm_size": ("32m", "64m", "recreate"),
    "log_opt": ({"max_size": "1m"}, {"max_size": "2m"}, "recreate"),
    "memory": ("64m", "96m", "in place"),
    "cpus": (0.5, 1.5, "in place"),
    "pids_limit": (100, 200, "in place"),
    "restart_policy": ("no", "always", "in place"),
    "stop_timeout": (5, 7, "in place"),
}
DECLARED = {  # how the module reports the declared value of B in the diff
    "memory": 96 * 1024 * 1024, "cpus": 1.5, "stop_signal": 2,
    "restart_policy": {"name": "always", "max_retries": 0},
    "cap_add": ["CAP_NET_ADMIN", "CAP_SYS_TIME"], "cap_drop": ["CAP_KILL"],
    "ulimit": [{"type": "RLIMIT_NOFILE", "soft": 256, "hard": 1024}],
    "network": {"mode": "host", "networks": []},
    "tmpfs": [{"type": "tmpfs", "source": "tmpfs", "destination": "/scratch", "options": ["size=2097152"]}],
    "volume": [{"type": "bind", "source": "/tmp", "destination": "/mnt/host", "options": []}],
    "shm_size": 64 * 1024 * 1024,
    "mount": [{"type": "tmpfs", "source": "tmpfs", "destination": "/m", "options": ["size=2097152"]}],
    "log_opt": {"max_size": 2 * 1024 * 1024},
}


def _task(opt, value, **kw):
    args = {"name": "m-" + opt.replace("_", "-"), "image": "{{ img }}", opt: value}
    if opt not in ("command", "entrypoint"):
        args["command"] = ["sleep", "1000"]
    if opt == "entrypoint":
        args["command"] = ["exec sleep 1000"]
    if opt != "network":
        args.setdefault("network", "none")
    args["timeout"] = 0
    task = {"name": "%s %s" % (opt, kw.pop("step")), "libpod.engine.container": args, "register": "r"}
    task.update(kw)
    return task


def test_parameter_matrix(playbook, busybox_archive):
    """apply -> re-apply unchanged -> check mode of a change does nothing -> change -> expected action."""
    tasks = []
    for opt, (a, b, _how) in MATRIX.items():
        tasks.append(_task(opt, a, step="apply"))
        tasks.append(_task(opt, a, step="reapply"))
        tasks.append(_task(opt, b, step="check", check_mode=True, diff=True))
        tasks.append(_task(opt, b, step="change", diff=True))
        tasks.append(_task(opt, b, step="rechange"))
    t0 = time.time()
    res = playbook(tasks, extra_vars={"img": "oci-archive:" + busybox_archive}, timeout=900)
    assert res.ok, res.log
    elapsed = time.time() - t0
    by = {t.name: t for t in res.tasks}
    for opt, (_a, b, how) in MATRIX.items():
        name = "m-" + opt.replace("_", "-")
        apply, reapply = by[opt + " apply"], by[opt + " reapply"]
        check = by[opt + " check"]
        change, rechange = by[opt + " change"], by[opt + " rechange"]
        assert apply.changed, (opt, apply.result)
        assert not reapply.changed, (opt, reapply["actions"])
        # check mode reports the plan and changes nothing: the container it shows is still the
        # applied one, and the real change afterwards starts from value A again
        assert check.changed, (opt, check.result)
        assert check["container"]["Id"] == apply["container"]["Id"]
        assert check["container"]["State"]["Pid"] == apply["container"]["State"]["Pid"]
        assert change["diff"]["before"][opt] == reapply["container"]["Declared"][opt], (opt, change["diff"])
        # the diff names exactly that option
        assert set(check["diff"]["after"]) == {opt}, (opt, check["diff"])
        assert set(change["diff"]["after"]) == {opt}, (opt, change["diff"])
        assert change["diff"]["after"][opt] == DECLARED.get(opt, b), (opt, change["diff"])
        if how == "recreate":
            assert change["actions"][0] == "recreated %s: %s changed" % (name, opt), (opt, change["actions"])
            assert change["container"]["Id"] != apply["container"]["Id"]
        else:
            assert change["actions"][0] == "updated %s in place: %s" % (name, opt), (opt, change["actions"])
            assert change["container"]["Id"] == apply["container"]["Id"]
            assert change["container"]["State"]["Pid"] == apply["container"]["State"]["Pid"]
        assert change["container"]["State"]["Running"], (opt, change["container"]["State"])
        assert not rechange.changed, (opt, rechange["actions"])
    print("parameter matrix: %d tasks in %.1f s" % (len(tasks), elapsed))


def test_a_recreate_names_the_in_place_changes_too(playbook, busybox_archive):
    # issue 14 item 13: memory and pids_limit changed with env; the reason listed only env
    task = """
- libpod.engine.container:
    name: mix
    image: "oci-archive:%s"
    command: [sleep, "1000"]
    network: none
    timeout: 0
    env: {MODE: "%s"}
    memory: %s
    pids_limit: %d
"""
    res = playbook(task % (busybox_archive, "a", "64m", 100) + task % (busybox_archive, "b", "96m", 200))
    assert res.ok, res.log
    assert res.tasks[1]["actions"][0] == "recreated mix: env changed; memory, pids_limit changed too", \
        res.tasks[1]["actions"]


def test_in_place_memory_update_reaches_the_cgroup(playbook, busybox_archive):
    res = playbook("""
- libpod.engine.container:
    name: mem
    image: "oci-archive:%(a)s"
    command: [sleep, "1000"]
    network: none
    memory: 64m
  register: one
- libpod.engine.container:
    name: mem
    image: "oci-archive:%(a)s"
    command: [sleep, "1000"]
    network: none
    memory: 96m
  register: two
""" % {"a": busybox_archive})
    assert res.ok, res.log
    pid = res.tasks[1]["container"]["State"]["Pid"]
    assert pid == res.tasks[0]["container"]["State"]["Pid"]
    with open("/proc/%d/cgroup" % pid) as f:
        mem = [ln.split(":")[2].strip() for ln in f if ":memory:" in ln][0]
    with open("/sys/fs/cgroup/memory%s/memory.limit_in_bytes" % mem) as f:
        assert int(f.read()) == 96 * 1024 * 1024


def test_restart_policy_on_failure_after_the_task(playbook, busybox_archive):
    res = playbook("""
- libpod.engine.container:
    name: flaky
    image: "oci-archive:%s"
    command: [sh, -c, "echo attempt; exit 3"]
    network: none
    restart_policy: on-failure:2
""" % busybox_archive)
    assert res.ok, res.log
    # not Restarting: during the backoff before the third attempt the count is already 2 (as docker's)
    st = poll_container(playbook, "flaky", "c.State.Status == 'exited' and c.RestartCount == 2 and "
                        "not c.State.Restarting", seconds=20, log_lines=10)
    assert st["State"]["Status"] == "exited" and st["State"]["ExitCode"] == 3, st["State"]
    assert st["RestartCount"] == 2
    assert [ln["line"] for ln in st["logs"]] == ["attempt"] * 3


def _events_of(env, name: str) -> list:
    with open(os.path.join(env.paths["tmp_dir"], "events", "events.log"), encoding="utf-8") as f:
        return [e for e in (json.loads(ln) for ln in f if ln.strip()) if e.get("Name") == name]


def _exit_commands_of(cid: str) -> list:
    return [pid for pid, args in argvs() if "cleanup" in args and cid in args]


def test_restart_always_backs_off_and_a_stop_cancels_it(playbook, engine_env, busybox_archive):
    # issue 14 item 9: a crash loop waits 100 ms, 200 ms, 400 ms ... between restarts (no lock held)
    res = playbook("""
- libpod.engine.container:
    name: crashy
    image: "oci-archive:%s"
    command: [sh, -c, "exit 1"]
    network: none
    restart_policy: always
""" % busybox_archive)
    assert res.ok, res.log
    info_task = "- libpod.engine.container_info: {name: [crashy]}\n"
    st = poll_container(playbook, "crashy", "c.RestartCount >= 5 and c.State.Restarting", seconds=90, delay=0.3)
    assert st["RestartCount"] >= 5 and st["State"]["Restarting"], st["State"]
    assert not st["State"]["Running"]
    restarts = [e for e in _events_of(engine_env, "crashy") if e["Status"] == "restart"]
    delays = [e["Attributes"].get("delay") for e in restarts]
    assert delays[:5] == ["100ms", "200ms", "400ms", "800ms", "1600ms"], delays
    # a stop during the wait cancels the restart: it stays down
    res = playbook("- libpod.engine.container: {name: crashy, state: stopped}\n")
    assert res.ok and res.tasks[0].changed, res.log
    count = res.tasks[0]["container"]["RestartCount"]
    assert not res.tasks[0]["container"]["State"]["Restarting"]
    cid = res.tasks[0]["container"]["Id"]
    deadline = time.time() + 90  # the pending exit command wakes up, sees the stop and ends
    while _exit_commands_of(cid) and time.time() < deadline:
        time.sleep(0.2)
    assert not _exit_commands_of(cid)
    st = playbook(info_task).tasks[0]["containers"][0]
    assert st["State"]["Status"] == "exited" and st["RestartCount"] == count, st["State"]


def test_a_stop_that_had_to_kill_says_so(playbook, busybox_archive):
    # issue 14 item 13: sleep as PID 1 ignores SIGTERM; the stop kills it after the timeout
    res = playbook("""
- libpod.engine.container: {name: stubborn, image: "oci-archive:%s", command: [sleep, "1000"], network: none}
- libpod.engine.container: {name: stubborn, state: stopped, timeout: 1}
- libpod.engine.container: {name: stubborn, state: started}
- libpod.engine.container: {name: stubborn, state: restarted, timeout: 1}
- libpod.engine.container: {name: stubborn, state: absent, timeout: 0}
""" % busybox_archive)
    assert res.ok, res.log
    assert res.tasks[1]["actions"] == ["stopped stubborn (stop signal 15 ignored for 1 s, killed with SIGKILL)"]
    assert "SIGKILL" not in res.tasks[2]["actions"][0]
    assert res.tasks[3]["actions"] == ["restarted stubborn (stop signal 15 ignored for 1 s, killed with SIGKILL)"]


def test_a_removed_venv_is_named_when_the_exit_command_could_not_run(playbook, engine_env, busybox_archive,
                                                                     tmp_path):
    # issue 14 item 10: the task's venv goes away; the next task says why the container stayed down.
    # Only where no system Python can run the engine is the venv's bound to the exit command (a
    # system one is preferred, host/interpreter.py): setup.sh now gives Debian's python3 the engine's
    # libraries (rootless), so the probe cache of this root says the system ones cannot.
    import json
    import site
    import subprocess
    import sys

    from ansible_collections.libpod.engine.plugins.module_utils.engine.host.interpreter import SYSTEM_PYTHONS

    cache = {}
    for python in SYSTEM_PYTHONS:
        if os.path.exists(python):
            st = os.stat(python)
            cache[python] = {"stat": [st.st_mtime_ns, st.st_size, st.st_ino], "ok": False}
    os.makedirs(engine_env.paths["tmp_dir"], exist_ok=True)
    with open(os.path.join(engine_env.paths["tmp_dir"], "probe-cache.json"), "w") as f:
        json.dump({"exit_python": cache}, f)

    venv = tmp_path / "gone-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(purelib, "libs.pth"), "w", encoding="utf-8") as f:
        f.write("\n".join(site.getsitepackages()) + "\n")
    res = playbook("""
- libpod.engine.container:
    name: orphan
    image: "oci-archive:%s"
    command: [sleep, "1000"]
    network: none
    restart_policy: always
""" % busybox_archive, play_vars={"ansible_python_interpreter": str(venv / "bin" / "python")})
    assert res.ok, res.log
    state = res.tasks[0]["container"]["State"]
    shutil.rmtree(str(venv))
    os.kill(state["Pid"], 9)
    deadline = time.time() + 30
    while os.path.exists("/proc/%d" % state["ConmonPid"]) and time.time() < deadline:
        with open("/proc/%d/stat" % state["ConmonPid"]) as f:
            if f.read().split(") ")[1].startswith("Z"):
                break  # a zombie (PID 1 here does not reap)
        time.sleep(0.1)
    res = playbook("- libpod.engine.container_info: {name: [orphan]}\n")
    assert res.ok, res.log
    warnings = " ".join(res.tasks[0].result.get("warnings") or [])
    assert "exit command could not run" in warnings and str(venv / "bin" / "python") in warnings, res.log
    assert res.tasks[0]["containers"][0]["State"]["Status"] in ("stopped", "exited")


def test_containers_conf_log_size_and_dns_defaults_apply(playbook, busybox_archive):
    # issue 14 item 11: [containers] log_size_max and dns_* were accepted and ignored
    opts = {"containers": {"log_size_max": 65536, "dns_servers": ["192.0.2.53"],
                           "dns_searches": ["corp.example"], "dns_options": ["ndots:2"]}}
    res = playbook([
        {"name": "defaults", "libpod.engine.container": {
            "name": "confdns", "image": "oci-archive:" + busybox_archive, "command": ["sleep", "1000"],
            "network": "none", "engine_options": opts}},
        {"name": "own", "libpod.engine.container": {
            "name": "owndns", "image": "oci-archive:" + busybox_archive, "command": ["sleep", "1000"],
            "network": "none", "dns": ["192.0.2.54"], "log_opt": {"max_size": "1m"}, "engine_options": opts}},
    ])
    assert res.ok, res.log
    for task, server, size in (("defaults", "192.0.2.53", "65536"), ("own", "192.0.2.54", "1048576")):
        state = res.task(task)["container"]["State"]
        with open("/proc/%d/root/etc/resolv.conf" % state["Pid"], encoding="utf-8") as f:
            resolv = f.read()
        assert "nameserver %s" % server in resolv and "search corp.example" in resolv, resolv
        assert "options ndots:2" in resolv, resolv
        args = argv(state["ConmonPid"])
        assert args[args.index("--log-size-max") + 1] == size, args


def test_oci_hooks_from_hooks_dir_run(playbook, busybox_archive, tmp_path):
    # issue 14 item 11: [engine] hooks_dir was accepted and ignored
    hooks_dir = tmp_path / "hooks.d"
    hooks_dir.mkdir()
    out = tmp_path / "hook-out"
    for name, when in (("10-trace.json", {"annotations": {"^com\\.example\\.trace$": "^on$"}}),
                       ("20-never.json", {"commands": ["^/nothing-matches$"]})):
        target = out if name.startswith("10") else tmp_path / "never-out"
        (hooks_dir / name).write_text(json.dumps({
            "version": "1.0.0", "when": when, "stages": ["prestart"],
            "hook": {"path": "/bin/sh", "args": ["sh", "-c", "cat > %s" % target]}}))
    res = playbook([{"libpod.engine.container": {
        "name": "hooked", "image": "oci-archive:" + busybox_archive, "command": ["sleep", "1000"],
        "network": "none", "annotation": {"com.example.trace": "on"},
        "engine_options": {"engine": {"hooks_dir": [str(hooks_dir)]}}}}])
    assert res.ok, res.log
    with open(out, encoding="utf-8") as f:
        state = json.load(f)  # the OCI state the runtime hands to the hook on stdin
    assert state["id"] == res.tasks[0]["container"]["Id"]
    assert not (tmp_path / "never-out").exists()


def test_moved_image_recreates_and_says_why(playbook, busybox_archive, tmp_path):
    """Containers follow their image by ID: an unchanged source is a no-op even with pull=always;
    a changed archive, or a local tag moved by another import, recreates with the reason."""
    import shutil

    arch = str(tmp_path / "busybox.tar")
    shutil.copy(busybox_archive, arch)
    task = """
- libpod.engine.container:
    name: %s
    image: "%s"
    command: [sleep, "1000"]
    network: none
    pull: %s
"""
    res = playbook(task % ("tagged", "oci-archive:" + arch, "missing")
                   + task % ("byname", "localhost/busybox:latest", "never"))
    assert res.ok, res.log
    old_id = res.tasks[0]["container"]["Image"]
    assert res.tasks[1]["container"]["Image"] == old_id
    res = playbook(task % ("tagged", "oci-archive:" + arch, "always"))
    assert res.ok and not res.tasks[0].changed, res.tasks[0]["actions"]
    # a new image in the same archive, under the same name
    img2 = busybox_image(str(tmp_path), config={"Cmd": ["sh"], "Env": ["PATH=/bin", "V=2"]})
    write_oci_archive(arch, [(img2, "localhost/busybox:latest")])
    res = playbook(task % ("tagged", "oci-archive:" + arch, "missing")
                   + task % ("byname", "localhost/busybox:latest", "never"))
    assert res.ok, res.log
    for t in res.tasks:
        acts = t["actions"]
        assert any("image changed" in a and old_id[:12] in a for a in acts), acts
        assert t["container"]["Image"] == img2.image_id.split(":")[-1]
    assert any(a.startswith("pulled image") for a in res.tasks[0]["actions"])
    res = playbook(task % ("tagged", "oci-archive:" + arch, "missing")
                   + task % ("byname", "localhost/busybox:latest", "never"))
    assert res.ok and res.changed == 0, [t["actions"] for t in res.tasks]


def test_hostile_layer_is_refused_and_nothing_escapes(playbook, tmp_path):
    canary = "/tmp/lpe-canary-%d" % os.getpid()
    layer = tar_from_entries([E("bin", "dir"), E("../../../../../..%s" % canary, data=b"pwned")])
    img = build_image([layer], config={"Cmd": ["sh"]})
    arch = write_oci_archive(str(tmp_path / "evil.tar"), [(img, "localhost/evil:latest")])
    res = playbook([{"libpod.engine.container": {"name": "evil", "image": "oci-archive:" + arch},
                     "ignore_errors": True}])
    task = res.tasks[0]
    assert task.failed
    assert "leaves the layer root" in task.msg and "refused" in task.msg, task.msg
    assert "Traceback" not in task.msg
    assert not os.path.exists(canary)
    info = playbook("- libpod.engine.container_info:\n")
    assert info.tasks[0]["containers"] == []


@pytest.mark.parametrize("bad,needle", [
    ({"name": "../x"}, "invalid container name"),
    ({"name": "ok", "memory": "lots"}, "invalid memory 'lots'"),
    ({"name": "ok", "publish": ["70000:80"]}, "publish"),
    ({"name": "ok", "cap_add": ["NOT_A_CAP"]}, "cap_add"),
    ({"name": "ok", "restart_policy": "always:3"}, "restart_policy"),
])
def test_bad_input_is_a_clear_error_and_changes_nothing(playbook, busybox_archive, bad, needle):
    args = {"image": "oci-archive:" + busybox_archive, "network": "none"}
    args.update(bad)
    res = playbook([{"libpod.engine.container": args, "ignore_errors": True}])
    task = res.tasks[0]
    assert task.failed and needle in task.msg, task.result
    assert "Traceback" not in task.msg


def _memory_cgroup_files(pid: int) -> Dict[str, int]:
    """memory limit (and memory+swap where accounted) of a process's cgroup, v1 or v2."""
    with open("/proc/%d/cgroup" % pid) as f:
        lines = [ln.rstrip("\n").split(":", 2) for ln in f]
    v1 = [p for _n, ctl, p in lines if "memory" in ctl.split(",")]
    if v1:
        base = "/sys/fs/cgroup/memory" + v1[0]
        names = {"limit": "memory.limit_in_bytes", "swap": "memory.memsw.limit_in_bytes"}
    else:
        base = "/sys/fs/cgroup" + [p for _n, ctl, p in lines if ctl == ""][0]
        names = {"limit": "memory.max", "swap": "memory.swap.max"}
    out = {}
    for key, name in names.items():
        try:
            with open(os.path.join(base, name)) as f:
                out[key] = int(f.read())
        except (OSError, ValueError):
            pass
    return out


@pytest.mark.parametrize("oci_runtime", ["crun", "runc"])
def test_in_place_memory_raise_and_lower(playbook, busybox_archive, oci_runtime):
    # issue 14 item 4: raising above the create-time memory+swap failed on cgroup v1
    task = """
- libpod.engine.container:
    name: mem
    image: "oci-archive:%(a)s"
    command: [sleep, "1000"]
    network: none
    oci_runtime: %(rt)s
    memory: %(m)s
  register: r
"""

    def run(*sizes):
        res = playbook("".join(task % {"a": busybox_archive, "rt": oci_runtime, "m": m} for m in sizes))
        assert res.ok, res.log
        return res

    up = run("64m", "256m", "256m")
    pid = up.tasks[0]["container"]["State"]["Pid"]
    assert [t["container"]["State"]["Pid"] for t in up.tasks] == [pid] * 3
    assert [t.changed for t in up.tasks] == [True, True, False]
    assert up.tasks[1]["actions"] == ["updated mem in place: memory"], up.tasks[1]["actions"]
    limits = _memory_cgroup_files(pid)
    assert limits["limit"] == 256 * 1024 * 1024
    swap_v1 = "swap" in limits and os.path.isdir("/sys/fs/cgroup/memory")
    if swap_v1:
        assert limits["swap"] == 512 * 1024 * 1024  # podman's LimitToSwap: twice the memory
    down = run("64m")
    assert down.tasks[0].changed
    assert down.tasks[0]["container"]["State"]["Pid"] == pid
    limits = _memory_cgroup_files(pid)
    assert limits["limit"] == 64 * 1024 * 1024
    if swap_v1:
        assert limits["swap"] == 128 * 1024 * 1024


def test_env_file_content_stays_out_of_result_and_diff(playbook, busybox_archive, tmp_path):
    # issue 22 item 11: the file's values were shown in Declared, Config.Env and --diff
    env_file = tmp_path / "app.env"
    env_file.write_text("DB_PASSWORD=s3cr3t-one\nMODE=x\n")
    task = """
- libpod.engine.container:
    name: envf
    image: "oci-archive:%s"
    command: [sleep, "1000"]
    network: none
    env_file: %s
    env: {MODE: y}
""" % (busybox_archive, env_file)
    first = playbook(task, diff=True)
    assert first.ok, first.log
    env_file.write_text("DB_PASSWORD=s3cr3t-two\nMODE=x\n")
    second = playbook(task, diff=True)
    assert second.ok, second.log
    again = playbook(task)
    assert again.ok and not again.tasks[0].changed, again.log
    info = playbook([{"libpod.engine.container_info": {"name": ["envf"]}}])  # info shows what the module shows
    assert info.ok and info.tasks[0]["containers"][0]["Declared"] == second.tasks[0]["container"]["Declared"]
    for res in (first, second, info):
        shown = json.dumps(res.tasks[0].result)
        assert "s3cr3t" not in shown and "s3cr3t" not in res.stdout, shown
    assert second.tasks[0].changed
    declared = second.tasks[0]["container"]["Declared"]["env_file"]
    assert declared["path"] == str(env_file) and len(declared["sha256"]) == 64
    assert "MODE=y" in second.tasks[0]["container"]["Config"]["Env"]
    # the container itself still gets the file's values
    pid = second.tasks[0]["container"]["State"]["Pid"]
    with open("/proc/%d/environ" % pid, "rb") as f:
        assert b"DB_PASSWORD=s3cr3t-two" in f.read().split(b"\0")


def test_container_named_like_a_pod_is_refused_clearly(playbook, busybox_archive):
    # issue 14 item 5: maximum recursion depth (container and stack modules); check mode said "create"
    ctr = {"name": "shared", "image": "oci-archive:" + busybox_archive, "command": ["sleep", "1000"],
           "network": "none"}
    res = playbook([{"libpod.engine.pod": {"name": "shared"}}])
    assert res.ok, res.log
    for check in (True, False):
        for task in ({"libpod.engine.container": ctr, "ignore_errors": True},
                     {"libpod.engine.stack": {"name": "s", "containers": [ctr]}, "ignore_errors": True}):
            res = playbook([task], check=check)
            t = res.tasks[0]
            assert t.failed, (check, t.result)
            assert 'name "shared" is in use by pod' in t.msg, (check, t.msg)
            assert "recursion" not in t.msg


def test_network_of_itself_is_refused_not_a_deadlock(playbook, busybox_archive):
    # issue 22 item 2: network: container:<itself> held its own lock and waited for it forever
    img = "oci-archive:" + busybox_archive
    for check in (True, False):
        res = playbook([{"libpod.engine.container": {
            "name": "loop", "image": img, "command": ["sleep", "1000"], "network": "container:loop"},
            "ignore_errors": True}], check=check, timeout=120)
        t = res.tasks[0]
        assert t.failed and "refers to the container loop itself" in t.msg, (check, t.result)
    # nothing is left locked: the same name works with a real network mode, and again by its ID
    res = playbook([{"libpod.engine.container": {
        "name": "loop", "image": img, "command": ["sleep", "1000"], "network": "none"}}], timeout=120)
    assert res.ok, res.log
    ctr_id = res.tasks[0]["container"]["Id"]
    res = playbook([{"libpod.engine.container": {
        "name": "loop", "image": img, "command": ["sleep", "1000"], "network": "container:" + ctr_id[:12]},
        "ignore_errors": True}], timeout=120)
    assert res.tasks[0].failed and "itself" in res.tasks[0].msg, res.tasks[0].result


@pytest.mark.parametrize("extra,message", [
    ({"volume": ["/nonexistent-lpe-src:/data"]}, "bind source /nonexistent-lpe-src does not exist"),
    ({"mount": ["type=bind,source=/nonexistent-lpe-src,target=/data"]}, "bind source /nonexistent-lpe-src"),
    ({"publish": ["192.0.2.77:18080:80"]}, "host IP 192.0.2.77 is not an address of this host"),
    ({"user": "nosuchuser"}, "user 'nosuchuser' not found in the image's /etc/passwd"),
    ({"command": ["nosuchcmd", "x"]}, 'command "nosuchcmd" not found in the image'),
    ({"command": ["/usr/bin/nosuchcmd"]}, 'command "/usr/bin/nosuchcmd" not found in the image'),
], ids=["volume", "mount", "host-ip", "user", "command", "command-path"])
def test_check_mode_predicts_the_failure(playbook, busybox_archive, extra, message):
    # issue 14 item 6: check mode said "create" for tasks the real run refuses
    pull = playbook([{"libpod.engine.container": {"name": "img", "image": "oci-archive:" + busybox_archive,
                                                  "state": "created", "command": ["true"], "network": "none"}}])
    assert pull.ok, pull.log
    ctr = dict({"name": "pre", "image": "oci-archive:" + busybox_archive, "command": ["sleep", "1000"],
                "network": "none" if "publish" not in extra else "bridge"}, **extra)
    for check in (True, False):
        res = playbook([{"libpod.engine.container": ctr, "ignore_errors": True}], check=check)
        t = res.tasks[0]
        assert t.failed, (check, t.result.get("actions"))
        assert message in t.msg, (check, t.msg)
        assert not t.changed
    info = playbook([{"libpod.engine.container_info": {"name": ["pre"]}}])
    assert info.ok and info.tasks[0]["containers"] == [], info.log  # the real run created nothing


def test_check_mode_still_predicts_success(playbook, busybox_archive, tmp_path):
    ctr = {"name": "fine", "image": "oci-archive:" + busybox_archive, "command": ["sleep", "1000"],
           "network": "none", "user": "nobody", "volume": ["%s:/data" % tmp_path], "init": True}
    res = playbook([{"libpod.engine.container": ctr}, {"libpod.engine.container": ctr}], check=True)
    assert res.ok, res.log
    assert res.tasks[0].changed
