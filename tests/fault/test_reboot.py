# SPDX-License-Identifier: GPL-3.0-or-later
"""A simulated reboot: every conmon and container process killed, our mounts, bridges and nft chains
gone, the tmp dir (a tmpfs) wiped. Then three module processes open the engine at once: exactly one
refreshes. The boot command brings restart_policy=always containers back, the state is truthful
(others created, an exited one keeps its exit code), and the declared state converges with nothing
leaked and the volume data kept. A reboot right after a killed start must converge as well.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

from .leaks import mounts_under, nft_chains, pid_alive, proc_cmdlines, read_db
from .scenario import LOOP, containers, converge, finish, free_port, module_steps, run_module, write_witness


def simulate_reboot(env) -> None:
    db = read_db(env)
    pids = [c["state"].get(k) for c in db["containers"] for k in ("conmon_pid", "pid")]
    # the port holders (argv[0] <tmp_dir>/ports/<id>) die with every other process
    holders = os.path.join(env.paths["tmp_dir"], "ports") + "/"
    pids += [pid for pid, argv in proc_cmdlines() if argv and argv[0].startswith(holders)]
    for pid in [p for p in pids if p]:  # conmon first: no exit command may run
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.time() + 10
    while any(pid_alive(p) for p in pids if p) and time.time() < deadline:
        time.sleep(0.05)
    roots = [env.paths["static_dir"], env.paths["tmp_dir"]]
    for point in sorted(mounts_under(roots), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=True, capture_output=True)
    shutil.rmtree(env.paths["tmp_dir"])
    # the kernel's objects do not survive either: our bridges (veths went with their netns) and chains
    prefix = env.paths.get("bridge_prefix")
    bridges = {n["network_interface"] for n in db["networks"]}
    for ifname in os.listdir("/sys/class/net"):
        if ifname in bridges or (prefix and ifname.startswith(prefix)):
            subprocess.run(["ip", "link", "del", ifname], check=False, capture_output=True)
    ids = {c["id"] for c in db["containers"]}
    for chain in nft_chains():
        owner = chain[2:].rsplit("_", 1)[0]
        if owner in ids or owner in bridges:
            subprocess.run(["nft", "delete", "chain", "ip", "libpod_engine", chain], check=False, capture_output=True)


def _boot(env):
    run_py = glob.glob(os.path.join(env.paths["static_dir"], "lib", "*", "run.py"))
    argv = [sys.executable, "-I", sorted(run_py)[-1]]
    for key in ("engine.static_dir", "engine.tmp_dir", "engine.volume_path", "storage.graph_root"):
        argv += ["--set", "%s=%s" % (key, env.paths[key.split(".")[1]])]
    return subprocess.run(argv + ["boot"], env=dict(env), capture_output=True, text=True, timeout=120, check=False)


def _open_at_once(env, n=3):
    out = [None] * n

    def run(i):
        out[i] = run_module(env, "runtime_info", {})

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _specs(image, port):
    return [
        {"name": "always", "image": image, "command": LOOP, "timeout": 2, "restart_policy": "always",
         "volume": ["keep:/data"], "publish": ["127.0.0.1:%d:80" % port]},
        {"name": "plain", "image": image, "command": LOOP, "timeout": 2},
        {"name": "quits", "image": image, "command": ["sh", "-c", "exit 3"], "state": "present"},
    ]


def test_reboot(engine_env, image):
    specs = _specs(image, free_port())
    module_steps(engine_env, [("volume", {"name": "keep"})])
    write_witness(engine_env, "keep", "kept")
    module_steps(engine_env, [("container", specs[0]), ("container", specs[1]),
                              ("container", dict(specs[2], state="started"))])
    deadline = time.time() + 20
    while containers(engine_env)["quits"]["state"]["status"] != "exited" and time.time() < deadline:
        time.sleep(0.1)
    simulate_reboot(engine_env)

    problems = []
    opened = _open_at_once(engine_env)
    refreshed = [r.result.get("info", {}).get("refreshed") for r in opened]
    if any(r.failed for r in opened) or refreshed.count(True) != 1:
        problems.append("three opens after the reboot: refreshed %s (exactly one expected): %s" % (refreshed, opened))
    status = {n: (c["state"]["status"], c["state"]["exit_code"]) for n, c in containers(engine_env).items()}
    if status != {"always": ("configured", 0), "plain": ("configured", 0), "quits": ("exited", 3)}:
        problems.append("after refresh: %s" % status)
    boot = _boot(engine_env)
    if boot.returncode != 0:
        problems.append("boot command failed: %s" % boot.stderr[-1500:])
    status = {n: c["state"]["status"] for n, c in containers(engine_env).items()}
    if status != {"always": "running", "plain": "configured", "quits": "exited"}:
        problems.append("after the boot command: %s" % status)
    with open(os.path.join(engine_env.paths["tmp_dir"], "events", "events.log"), encoding="utf-8") as f:
        refreshes = [e for e in map(json.loads, f) if e["Type"] == "system" and e["Status"] == "refresh"]
    if len(refreshes) != 1:
        problems.append("%d refresh events after one reboot" % len(refreshes))
    tasks = [{"name": s["name"], "libpod.engine.container": s} for s in specs]
    res, first, again = converge(engine_env, tasks)
    problems += again
    actions = {t.name: t.get("actions") for t in first}
    if actions != {"always": [], "plain": ["started plain"], "quits": []}:
        problems.append("converge actions %s" % actions)
    finish("reboot: always/plain/exited containers, volume, port", engine_env, problems=problems,
           data={"keep": "kept"})


def test_reboot_after_crash(engine_env, image):
    """A start killed half-way (netns, mounts, leases, journal entry), then the host reboots."""
    spec = {"name": "victim", "image": image, "command": LOOP, "timeout": 2, "volume": ["keep:/data"],
            "publish": ["127.0.0.1:%d:80" % free_port()]}
    module_steps(engine_env, [("volume", {"name": "keep"}), ("container", dict(spec, state="created"))])
    write_witness(engine_env, "keep", "kept")
    res = run_module(engine_env, "container", spec, fault="container.start.after_network")
    assert res.killed, res
    simulate_reboot(engine_env)
    res, first, problems = converge(engine_env, [{"name": "victim", "libpod.engine.container": spec}])
    st = containers(engine_env)["victim"]["state"]
    if st["status"] != "running":
        problems.append("victim is %s" % st["status"])
    finish("reboot: after a start killed half-way", engine_env, problems=problems, data={"keep": "kept"})


def test_reboot_pod_members_inherit_restart_always(engine_env, image):
    """A pod with restart_policy always: its member (no policy of its own, so the pod's applies, as in
    podman 4.4+) is started by the boot command after a reboot, with its infra."""
    member = {"name": "member", "image": image, "command": LOOP, "timeout": 2, "pod": "bootpod"}
    module_steps(engine_env, [("pod", {"name": "bootpod", "restart_policy": "always", "state": "started"}),
                              ("container", member)])
    simulate_reboot(engine_env)
    problems = []
    boot = _boot(engine_env)
    if boot.returncode != 0:
        problems.append("boot command failed: %s" % boot.stderr[-1500:])
    status = {n: c["state"]["status"] for n, c in containers(engine_env).items()}
    if status.get("member") != "running":
        problems.append("after the boot command: %s" % status)
    res, first, again = converge(engine_env, [{"name": "bootpod", "libpod.engine.pod": {
        "name": "bootpod", "restart_policy": "always", "state": "started"}}])
    finish("reboot: pod member with the pod's restart_policy always", engine_env, problems=problems + again)
