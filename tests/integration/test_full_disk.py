# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine on a full filesystem (issue 14.2): inspection and removal keep working, and what
cannot work fails naming the path and the fix (never a bare sqlite "database or disk is full")."""
from __future__ import annotations

import errno
import os
import subprocess

import pytest

from .helpers import engine_conf_text

LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]


def fill(path):
    """Fill the filesystem of ``path`` to the last block (a file named ballast)."""
    target = os.path.join(path, "ballast")
    chunk = b"\0" * (1 << 20)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (1 << 20, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, chunk[:size])
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return target


@pytest.fixture
def small_fs(engine_env):
    """The test's static dir (graph root and volumes below it) on a 24 MB tmpfs of its own."""
    mnt = os.path.join(engine_env.root, "smallfs")
    os.makedirs(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", mnt], check=True)
    paths = engine_env.paths
    static = os.path.join(mnt, "static")
    paths.update(static_dir=static, graph_root=os.path.join(static, "storage"),
                 volume_path=os.path.join(static, "volumes"))
    with open(engine_env.conf, "w") as f:
        f.write(engine_conf_text(paths))
    yield mnt
    subprocess.run(["umount", "-l", mnt], check=False)


def test_full_disk_inspection_and_removal(playbook, small_fs, busybox_archive, engine_env):
    img = "oci-archive:" + busybox_archive
    res = playbook([
        {"name": "web", "libpod.engine.container": {"name": "web", "image": img, "command": LOOP,
                                                    "volume": ["data:/data"]}},
        {"name": "done", "libpod.engine.container": {"name": "done", "image": img, "command": ["true"],
                                                     "state": "present"}},
    ])
    assert res.ok, res.log
    ballast = fill(small_fs)
    ignore = {"ignore_errors": True}
    res = playbook([
        {"name": "info", "libpod.engine.container_info": {}, **ignore},
        {"name": "volumes", "libpod.engine.volume_info": {}, **ignore},
        {"name": "runtime", "libpod.engine.runtime_info": {}, **ignore},
        {"name": "check", "libpod.engine.container": {"name": "web", "state": "absent"}, "check_mode": True,
         **ignore},
        {"name": "remove web", "libpod.engine.container": {"name": "web", "state": "absent"}, **ignore},
        {"name": "remove done", "libpod.engine.container": {"name": "done", "state": "absent"}, **ignore},
        {"name": "remove volume", "libpod.engine.volume": {"name": "data", "state": "absent"}, **ignore},
        {"name": "info after", "libpod.engine.container_info": {}, **ignore},
        {"name": "new", "libpod.engine.container": {"name": "new", "image": img, "command": LOOP}, **ignore},
        {"name": "remove new", "libpod.engine.container": {"name": "new", "state": "absent"}, **ignore},
    ])
    for task in res.tasks:
        if task.name != "new":
            assert not task.failed, (task.name, task.result)
    # the first task released the reserve kept beside the DB, and said so
    assert any("released its reserve" in w and small_fs in w for w in res.task("info").get("warnings", [])), \
        res.task("info").result
    assert sorted(c["Name"] for c in res.task("info")["containers"]) == ["done", "web"]
    assert res.task("check").changed
    assert res.task("remove web").changed and res.task("remove done").changed
    assert res.task("remove volume").changed
    assert res.task("info after")["containers"] == []
    new = res.task("new")
    if new.failed:  # creating needs room: the error says where and what to do
        assert small_fs in new.msg and "space" in new.msg, new.msg
        assert "Traceback" not in str(new.result)

    # the reserve is used up and the disk full again: check mode still reads (the DB file as immutable),
    # the rest fails naming the file, the filesystem and the fix
    fill(small_fs)
    res = playbook([
        {"name": "info", "libpod.engine.container_info": {}, **ignore},
        {"name": "info check", "libpod.engine.container_info": {}, "check_mode": True, **ignore},
        {"name": "create", "libpod.engine.container": {"name": "again", "image": img, "command": LOOP}, **ignore},
    ])
    assert not res.task("info check").failed, res.task("info check").result
    assert res.task("info check")["containers"] == []
    for name in ("info", "create"):
        task = res.task(name)
        assert task.failed and task["error_kind"] == "state_db_full", task.result
        assert os.path.join(small_fs, "static", "state.db") in task.msg and "free space" in task.msg
    os.unlink(ballast)
