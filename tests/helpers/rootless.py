# SPDX-License-Identifier: GPL-3.0-or-later
"""A throw-away unprivileged user for rootless tests (integration and fault suites).

``throwaway_user()`` creates a user with one subordinate range of its own, yields its passwd
entry and the range's start, and removes it afterwards with every process it left (its pause
process, conmon, containers: only processes of that uid) and its run dir below /tmp.
``rootless_env(env, home)`` is the playbook environment for it: without the root engine's
containers.conf (su keeps the environment) and with registries/policy files the user can read.
"""
from __future__ import annotations

import os
import pwd
import random
import shutil
import signal
import subprocess
from contextlib import contextmanager
from typing import Iterator, Tuple

#: Debian's interpreter: the product venv lives below /root (0700), which the user cannot read
PYTHON = "/usr/bin/python3"
NEEDS = ("/usr/bin/newuidmap", "/usr/bin/newgidmap", PYTHON)
#: play/task keywords that run a task as ``user``
BECOME = ("become", "become_user", "become_method")


def missing_requirements() -> str:
    """Why rootless tests cannot run here ("" when they can)."""
    missing = [p for p in NEEDS if not os.access(p, os.X_OK)]
    if missing:
        return "rootless needs %s" % ", ".join(missing)
    probe = subprocess.run([PYTHON, "-c", "import jsonschema, ruamel.yaml, tomlkit"],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return "Debian's python3 lacks the engine's libraries (scripts/setup.sh installs them)"
    return ""


def user_pids(uid: int, live_only: bool = True) -> Iterator[int]:
    """Processes of ``uid`` (zombies left out when ``live_only``: PID 1 of this host does not reap)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/status" % pid, encoding="utf-8") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if int(status.get("Uid", "-1 -1").split()[1]) != uid:
            continue
        if live_only and status.get("State", "").strip().startswith("Z"):
            continue
        yield int(pid)


def kill_user(uid: int) -> None:
    """SIGKILL every process of ``uid`` (a throw-away user's only)."""
    for pid in list(user_pids(uid)):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_dir(uid: int) -> str:
    """The rootless run dir when no XDG_RUNTIME_DIR reaches the module (become starts no session)."""
    return "/tmp/libpod-engine-%d" % uid


@contextmanager
def throwaway_user() -> Iterator[Tuple[pwd.struct_passwd, int]]:
    name = "lperl%05d" % random.randrange(100000)
    start = 3000000 + random.randrange(1000) * 65536
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", name],
                   check=True)
    uid = pwd.getpwnam(name).pw_uid
    try:
        rng = "%d-%d" % (start, start + 65535)
        subprocess.run(["usermod", "--add-subuids", rng, "--add-subgids", rng, name], check=True)
        yield pwd.getpwnam(name), start
    finally:
        kill_user(uid)
        subprocess.run(["userdel", "-r", "-f", name], check=False, capture_output=True)
        shutil.rmtree(run_dir(uid), ignore_errors=True)


def give(path: str, pw: pwd.struct_passwd) -> None:
    """chown ``path`` and everything below it to the user."""
    os.chown(path, pw.pw_uid, pw.pw_gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for entry in dirnames + filenames:
            os.chown(os.path.join(dirpath, entry), pw.pw_uid, pw.pw_gid)


def rootless_env(env: dict, home: str) -> dict:
    """``env`` without the root engine's containers.conf and XDG dirs, with registries/policy the user reads."""
    out = dict(env)
    for key in ("LIBPOD_ENGINE_CONF", "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        out.pop(key, None)
    regdir = os.path.join(home, "registries")
    os.makedirs(os.path.join(regdir, "certs.d"), exist_ok=True)
    for fname, text in (("registries.conf", ""), ("policy.json", '{"default": [{"type": "insecureAcceptAnything"}]}')):
        with open(os.path.join(regdir, fname), "w", encoding="utf-8") as f:
            f.write(text)
    out.update(LIBPOD_ENGINE_REGISTRIES_CONF=os.path.join(regdir, "registries.conf"),
               LIBPOD_ENGINE_POLICY=os.path.join(regdir, "policy.json"),
               LIBPOD_ENGINE_CERTS_DIR=os.path.join(regdir, "certs.d"),
               REGISTRY_AUTH_FILE=os.path.join(regdir, "auth.json"))
    return out


def as_user(task: dict, pw: pwd.struct_passwd) -> dict:
    """``task`` run as the user through su, with Debian's python3."""
    out = dict(task)
    out.update(become=True, become_user=pw.pw_name, become_method="su")
    out["vars"] = dict(out.get("vars") or {}, ansible_python_interpreter=PYTHON)
    return out
