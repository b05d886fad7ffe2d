# SPDX-License-Identifier: GPL-3.0-or-later
"""Engine roots another user could replace are refused, and so is an exit-command copy that
someone else could have swapped (issue 22.1: root code execution through the exit command).

The "other user" is uid 65534 (nobody): a directory chowned to it is one that user could rename.
"""
from __future__ import annotations

import glob
import os

import pytest

from .helpers import engine_conf_text

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chown to another user)")
NOBODY = 65534
LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]


def _mkdir(path, mode, uid=0):
    os.makedirs(path)
    os.chown(path, uid, 0)
    os.chmod(path, mode)
    return path


def _relocate(env, **paths):
    env.paths.update(paths)
    with open(env.conf, "w") as f:
        f.write(engine_conf_text(env.paths))


@pytest.mark.parametrize("key,layout", [
    ("static_dir", "home"),           # a service account's home
    ("static_dir", "squatted"),       # a name in /tmp-like dir that another user created first
    ("volume_path", "group"),         # a group-writable parent
    ("graph_root", "home"),
])
def test_replaceable_root_is_refused_and_nothing_created(playbook, engine_env, busybox_archive, key, layout):
    root = engine_env.root
    if layout == "home":
        parent = _mkdir(os.path.join(root, "home", "svc"), 0o755, NOBODY)
    elif layout == "squatted":
        shared = _mkdir(os.path.join(root, "shared"), 0o1777)
        parent = _mkdir(os.path.join(shared, "engine"), 0o755, NOBODY)
    else:
        parent = _mkdir(os.path.join(root, "team"), 0o775)
    target = os.path.join(parent, key)
    _relocate(engine_env, **{key: target})
    res = playbook([
        {"name": "web", "libpod.engine.container": {"name": "web", "image": "oci-archive:" + busybox_archive,
                                                    "command": LOOP}, "ignore_errors": True},
        {"name": "info", "libpod.engine.container_info": {}, "ignore_errors": True},
    ])
    for task in res.tasks:
        assert task.failed and task["error_kind"] == "unsafe_path", task.result
        assert parent in task.msg and key in task.msg and "StrictModes" in task.msg, task.msg
    assert os.listdir(parent) == []                         # nothing created below it
    assert not os.path.exists(engine_env.paths["tmp_dir"])  # nor anywhere else
    assert not os.path.exists(engine_env.paths["static_dir"]) or key != "static_dir"


def test_sticky_shared_parent_is_fine_for_dirs_the_engine_creates(playbook, engine_env, busybox_archive):
    shared = _mkdir(os.path.join(engine_env.root, "shared"), 0o1777)
    _relocate(engine_env, volume_path=os.path.join(shared, "vols", "volumes"))
    res = playbook([{"name": "vol", "libpod.engine.volume": {"name": "data"}}])
    assert res.ok, res.log
    st = os.stat(os.path.join(shared, "vols"))
    assert st.st_uid == 0 and not st.st_mode & 0o022


def test_exit_command_copy_that_others_could_replace_is_not_used(playbook, engine_env, busybox_archive):
    img = "oci-archive:" + busybox_archive
    res = playbook([{"name": "web", "libpod.engine.container": {"name": "web", "image": img, "command": LOOP}}])
    assert res.ok, res.log
    copies = glob.glob(os.path.join(engine_env.paths["static_dir"], "lib", "*", "run.py"))
    assert len(copies) == 1
    run_py = copies[0]
    os.chown(run_py, NOBODY, NOBODY)   # as if another user had planted it
    res = playbook([{"name": "web2", "libpod.engine.container": {"name": "web2", "image": img, "command": LOOP},
                     "ignore_errors": True}])
    task = res.task("web2")
    assert task.failed and task["error_kind"] == "unsafe_path", task.result
    assert run_py in task.msg and "remove %s" % os.path.dirname(run_py) in task.msg
    os.chown(run_py, 0, 0)
    os.chmod(os.path.dirname(run_py), 0o777)  # a directory of the copy writable by everyone
    res = playbook([{"name": "web2", "libpod.engine.container": {"name": "web2", "image": img, "command": LOOP},
                     "ignore_errors": True}])
    assert res.task("web2").failed and "writable by" in res.task("web2").msg
