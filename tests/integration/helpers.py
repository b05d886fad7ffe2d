# SPDX-License-Identifier: GPL-3.0-or-later
"""Harness for integration tests that run REAL playbooks (ansible-playbook) on localhost.

Each test gets its own engine root (see ``make_engine_env``): a containers.conf that puts
the static dir, graph root and volume path under the test's tmp_path and the tmp dir
under ``/run/lpe-it-<random>``, named by ``LIBPOD_ENGINE_CONF`` in the environment that
``run_playbook`` hands to ansible-playbook. Task results come back parsed (stdout callback
``lpe_json`` in ``callback_plugins/``)::

    res = run_playbook(engine_env, '''
    - libpod.engine.runtime_info:
      register: info
    ''')
    assert res.rc == 0, res.log
    assert not res.tasks[0].changed
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional, Union

import yaml  # PyYAML: an ansible-core dependency

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import roots as engine_roots
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import argvs, printable
from ansible_collections.libpod.engine.tests.helpers.mounts import mounts_below

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
COLLECTIONS = os.path.join(REPO, ".build", "collections")
CALLBACK_DIR = os.path.join(HERE, "callback_plugins")
CALLBACK_NAME = "lpe_json"
#: seconds one ansible-playbook run may take
PLAYBOOK_TIMEOUT = int(os.environ.get("LPE_IT_PLAYBOOK_TIMEOUT", "300"))


# --------------------------------------------------------------------------------------
# engine root


class EngineEnv(dict):
    """Environment for ansible-playbook, plus where this test's engine keeps its files.

    ``paths``: static_dir, tmp_dir, graph_root, volume_path; ``conf``: the containers.conf;
    ``root``: the test's tmp_path (playbooks and Ansible's temp files go under it).
    """

    def __init__(self, base: dict, *, root: str, conf: str, paths: dict):
        super().__init__(base)
        self.root = root
        self.conf = conf
        self.paths = paths
        self.runs = 0

    def __repr__(self) -> str:  # keep pytest's failure output short: not the whole environment
        return "EngineEnv(conf=%r, paths=%r)" % (self.conf, self.paths)


def engine_paths(root: str) -> dict:
    """The engine directories for a test rooted at ``root`` (tmp dir on /run: a tmpfs on real hosts)."""
    static = os.path.join(root, "static")
    run_parent = "/run" if os.access("/run", os.W_OK) else root
    rnd = uuid.uuid4().int
    return {
        "bridge_prefix": "t%04x" % (rnd & 0xFFFF),
        "default_subnet": "10.%d.%d.0/24" % (150 + (rnd >> 16) % 100, (rnd >> 24) % 256),
        "static_dir": static,
        "tmp_dir": os.path.join(run_parent, "lpe-it-%s" % uuid.uuid4().hex[:10]),
        "graph_root": os.path.join(static, "storage"),
        "volume_path": os.path.join(static, "volumes"),
    }


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def engine_conf_text(paths: dict) -> str:
    """containers.conf for the engine under test (keys as in docs/architecture.md)."""
    return "\n".join(
        [
            "# written by tests/integration/helpers.py",
            "[engine]",
            "static_dir = %s" % _toml_str(paths["static_dir"]),
            "tmp_dir = %s" % _toml_str(paths["tmp_dir"]),
            "volume_path = %s" % _toml_str(paths["volume_path"]),
            "",
            "[network]",
            "# a bridge and subnet of this test's own: engine roots of parallel runs never share one",
        ]
        + ["%s = %s" % (k, _toml_str(paths[k])) for k in ("bridge_prefix", "default_subnet") if paths.get(k)]
        + [
            "",
            "[storage]",
            "graph_root = %s" % _toml_str(paths["graph_root"]),
            "",
        ]
    )


def registry_env(root: str) -> dict:
    """The test's own registries.conf (empty), policy (accept), certs.d (empty) and auth file
    (none yet), so that no test depends on the host's /etc/containers files."""
    regdir = os.path.join(root, "registries")
    os.makedirs(os.path.join(regdir, "certs.d"), exist_ok=True)
    files = {"registries.conf": "", "policy.json": '{"default": [{"type": "insecureAcceptAnything"}]}'}
    for name, text in files.items():
        with open(os.path.join(regdir, name), "w", encoding="utf-8") as f:
            f.write(text)
    return {"LIBPOD_ENGINE_REGISTRIES_CONF": os.path.join(regdir, "registries.conf"),
            "LIBPOD_ENGINE_POLICY": os.path.join(regdir, "policy.json"),
            "LIBPOD_ENGINE_CERTS_DIR": os.path.join(regdir, "certs.d"),
            "REGISTRY_AUTH_FILE": os.path.join(regdir, "auth.json")}


def make_engine_env(root, paths: Optional[dict] = None) -> EngineEnv:
    """Write the test's containers.conf and return the environment for ansible-playbook.

    ``paths``: the engine paths to use instead of fresh ones (tests of several roots on one host;
    a ``bridge_prefix`` / ``default_subnet`` of None leaves that key out of containers.conf).
    """
    root = str(root)
    os.makedirs(root, exist_ok=True)
    paths = paths or engine_paths(root)
    conf = os.path.join(root, "containers.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(engine_conf_text(paths))
    ansible_cfg = os.path.join(root, "ansible.cfg")  # empty: ignore any /etc/ansible/ansible.cfg
    open(ansible_cfg, "w", encoding="utf-8").close()
    base = dict(os.environ)
    base.update(registry_env(root))
    base.update(
        {
            "LIBPOD_ENGINE_CONF": conf,
            "ANSIBLE_CONFIG": ansible_cfg,
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
            "ANSIBLE_STDOUT_CALLBACK": CALLBACK_NAME,
            "ANSIBLE_CALLBACK_PLUGINS": CALLBACK_DIR,
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "ANSIBLE_LOCAL_TEMP": os.path.join(root, "ansible-tmp"),
            "ANSIBLE_REMOTE_TEMP": os.path.join(root, "ansible-remote-tmp"),
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCALHOST_WARNING": "False",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
        }
    )
    return EngineEnv(base, root=root, conf=conf, paths=paths)


def _proc_cmdlines():
    """(pid, command line as ps shows it: arguments joined by spaces) of every other process."""
    for pid, args in argvs():
        if pid != os.getpid():
            yield pid, " ".join(args)


def _mounts_under(dirs):
    """Mount points at or below any of ``dirs``, deepest first."""
    return mounts_below(dirs)


def engine_teardown(env: EngineEnv) -> list:
    """Remove every container, pod, volume and network of the test through the engine itself.

    Runs in a subprocess (a fresh engine process, as a module would) so that a test's
    engine state never leaks into the pytest process. Returns problems only: removing
    what a test left is normal, a failing engine teardown is a finding.
    """
    if not os.path.exists(os.path.join(env.paths["static_dir"], "state.db")):
        return []
    code = (
        "import sys, json\n"
        "sys.path.insert(0, %r)\n"
        "sys.path.insert(0, %r)\n"
        "from helpers.teardown import teardown_all\n"
        "from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions\n"
        "from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import open_runtime\n"
        "rt = open_runtime(OpenOptions())\n"
        "print(json.dumps(teardown_all(rt)))\n"
    ) % (COLLECTIONS, os.path.dirname(HERE))
    proc = subprocess.run([sys.executable, "-c", code], env=dict(env), capture_output=True, text=True,
                          timeout=300, check=False)
    if proc.returncode != 0:
        sys.stderr.write("engine teardown failed: %s\n" % proc.stderr[-3000:])
        return ["engine teardown failed"]
    return []


def cleanup_engine_env(env: EngineEnv) -> list:
    """Remove the test's engine root; return what the safety net had to clean up.

    TODO(lead): first tear down through the engine (stop/remove containers, unmount,
    networks) once it can; what follows is only a safety net for what it left behind.
    """
    leftovers = []
    paths = env.paths
    roots = [paths["static_dir"], paths["tmp_dir"]]
    leftovers += engine_teardown(env)
    # 1. containers still known to an OCI runtime whose --root is under tmp_dir/runtime/<name>
    runtime_dir = os.path.join(paths["tmp_dir"], "runtime")
    if os.path.isdir(runtime_dir):
        for name in sorted(os.listdir(runtime_dir)):
            binary = shutil.which(name)
            if not binary:
                continue
            state_root = os.path.join(runtime_dir, name)
            try:
                out = subprocess.run(
                    [binary, "--root", state_root, "list", "-q"],
                    check=False, capture_output=True, text=True, timeout=30,
                ).stdout
            except (OSError, subprocess.SubprocessError):
                continue
            for cid in out.split():
                leftovers.append("%s container %s" % (name, cid))
                subprocess.run(
                    [binary, "--root", state_root, "delete", "--force", cid],
                    check=False, capture_output=True, timeout=30,
                )
    # 2. processes (conmon, exit commands) started for this root; an exit command that
    #    conmon started for the last removed container may still be finishing: give it time
    deadline = time.time() + 5
    while time.time() < deadline and any(r in c for _unused, c in _proc_cmdlines() for r in roots):
        time.sleep(0.1)
    for pid, cmdline in _proc_cmdlines():
        if any(r in cmdline for r in roots):
            leftovers.append("process %d: %s" % (pid, printable(cmdline[:200])))
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    # 3. mounts (rootfs overlays, volumes, netns): never rm -rf across a mount point
    for point in _mounts_under(roots):
        leftovers.append("mount %s" % point)
        subprocess.run(["umount", "-l", point], check=False, capture_output=True, timeout=30)
    still = _mounts_under(roots)
    if still:
        raise RuntimeError("cannot clean the engine root, still mounted: %s" % ", ".join(still))
    root_id = engine_roots.RootId.of(paths["static_dir"])
    for path in roots:
        shutil.rmtree(path, ignore_errors=True)
    engine_roots.forget_root(root_id)  # gone: out of the host's roots registry, as system_reset does
    if leftovers:
        sys.stderr.write("engine_env cleanup removed leftovers:\n  %s\n" % "\n  ".join(leftovers))
    return leftovers


# --------------------------------------------------------------------------------------
# playbook runs


@dataclass
class TaskResult:
    """One task's result on one host, as the callback saw it."""

    name: str
    action: str
    host: str
    status: str  # ok | changed | failed | ignored | skipped | unreachable
    result: dict

    @property
    def changed(self) -> bool:
        return bool(self.result.get("changed"))

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "ignored", "unreachable")

    @property
    def skipped(self) -> bool:
        return self.status == "skipped"

    @property
    def msg(self) -> Optional[str]:
        return self.result.get("msg")

    def __getitem__(self, key):
        return self.result[key]

    def get(self, key, default=None):
        return self.result.get(key, default)


@dataclass(repr=False)
class PlaybookResult:
    rc: int
    tasks: list
    stats: dict
    stdout: str
    stderr: str
    playbook: str
    command: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def results(self) -> list:
        """The module return values, in task order."""
        return [t.result for t in self.tasks]

    @property
    def changed(self) -> int:
        """Number of changed tasks (from the recap)."""
        return sum(s.get("changed", 0) for s in self.stats.values())

    def task(self, name: str) -> TaskResult:
        """The first result of the task named ``name``."""
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError("no task named %r in %s" % (name, [t.name for t in self.tasks]))

    @property
    def log(self) -> str:
        """What to show when a test fails: ``assert res.ok, res.log``."""
        return "ansible-playbook rc=%s (%s)\n--- stdout\n%s\n--- stderr\n%s" % (
            self.rc,
            self.playbook,
            self.stdout[-6000:],
            self.stderr[-6000:],
        )

    def __repr__(self) -> str:
        return self.log


def _playbook_path() -> str:
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return exe if os.access(exe, os.X_OK) else (shutil.which("ansible-playbook") or "ansible-playbook")


def run_playbook(
    env: EngineEnv,
    tasks: Union[str, list],
    *,
    check: bool = False,
    diff: bool = False,
    extra_vars: Optional[dict] = None,
    play_vars: Optional[dict] = None,
    module_defaults: Optional[dict] = None,
    timeout: Optional[int] = None,
    extra_args: Optional[list] = None,
    prefix: Optional[list] = None,
) -> PlaybookResult:
    """Run ``tasks`` (YAML text of a task list, or a list of dicts) in one play on localhost;
    ``prefix``: a command that runs ansible-playbook (e.g. ``["ip", "netns", "exec", NS]``)."""
    if isinstance(tasks, str):
        tasks = yaml.safe_load(tasks)
    if isinstance(tasks, dict):
        tasks = [tasks]
    play: dict[str, Any] = {
        "name": "integration test",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
    }
    if play_vars:
        play["vars"] = play_vars
    if module_defaults:
        play["module_defaults"] = module_defaults
    play["tasks"] = tasks
    env.runs += 1
    workdir = os.path.join(env.root, "runs")
    os.makedirs(workdir, exist_ok=True)
    stem = os.path.join(workdir, "run%03d" % env.runs)
    playbook = stem + ".yml"
    with open(playbook, "w", encoding="utf-8") as f:
        yaml.safe_dump([play], f, sort_keys=False)
    result_file = stem + ".result.json"
    cmd = list(prefix or []) + [_playbook_path(), "-i", "localhost,", playbook]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    cmd += list(extra_args or [])  # e.g. ["-vvv"]
    if extra_vars:
        vars_file = stem + ".vars.json"
        with open(vars_file, "w", encoding="utf-8") as f:
            json.dump(extra_vars, f)
        cmd += ["-e", "@" + vars_file]
    run_env = dict(env, LPE_IT_RESULT_FILE=result_file)
    proc = subprocess.run(
        cmd,
        env=run_env,
        cwd=env.root,
        check=False,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout or PLAYBOOK_TIMEOUT,
    )
    doc = {"tasks": [], "stats": {}}
    if os.path.exists(result_file):
        with open(result_file, encoding="utf-8") as f:
            doc = json.load(f)
    return PlaybookResult(
        rc=proc.returncode,
        tasks=[TaskResult(**t) for t in doc["tasks"]],
        stats=doc["stats"],
        stdout=proc.stdout,
        stderr=proc.stderr,
        playbook=playbook,
        command=cmd,
    )


def poll_container(run, name: str, until: str, *, seconds: float = 60, delay: float = 0.5,
                   log_lines: int = 0) -> dict:
    """container_info data of ``name`` once the Jinja test ``until`` holds (``c.`` in it is the
    container's data), polled inside ONE ansible-playbook run (an ``until:`` loop: one module run
    per poll, not one playbook start); after about ``seconds`` the last data, for the caller's
    assertion to show. ``run`` is the ``playbook`` fixture (or run_playbook bound to an env)."""
    cond = re.sub(r"(?<![\w.])c\.", "polled.containers[0].", until)
    res = run([{"name": "poll", "libpod.engine.container_info": {"name": [name], "log_lines": log_lines},
                "register": "polled", "until": "polled.containers | length > 0 and (%s)" % cond,
                "retries": max(1, int(seconds / delay)), "delay": delay, "ignore_errors": True}])
    assert res.ok and res.task("poll").get("containers"), res.log
    return res.task("poll")["containers"][0]


# --------------------------------------------------------------------------------------
# loopback helpers


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (for publish tests)."""
    import socket  # noqa: PLC0415

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 2.0, wait: float = 10.0) -> str:
    """GET on loopback, retried while the server in the container is still starting (``wait`` s)."""
    import urllib.request  # noqa: PLC0415

    deadline = time.time() + wait
    while True:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - loopback only
                return r.read().decode()
        except OSError:
            if time.time() >= deadline:
                raise
            time.sleep(0.25)


def probe_values(text: str) -> dict:
    """'k=v k2=v2 ...' printed by a probe command inside a container (a value runs up to the next
    ' key=', so values may hold spaces)."""
    out, key = {}, None
    for word in text.split(" "):
        k, sep, v = word.partition("=")
        if sep and k.isalnum() and k.islower():
            key = k
            out[key] = v
        elif key:
            out[key] += " " + word
    return out
