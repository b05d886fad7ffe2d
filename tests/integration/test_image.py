# SPDX-License-Identifier: GPL-3.0-or-later
"""The image and image_info modules end to end, in one engine root (budget: a few playbook runs).

A plain ``tar`` of a busybox directory is imported (re-run: no change), tagged, used by a
container (absent refused, naming it; force removes both), saved as oci-archive and
docker-archive and imported again with the same ID; podman 4.3 (a throw-away --root) loads our
archives and we import its saves; prune frees exactly the bytes it reports (du -sb of the
graph root); the events log has every image event.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from ansible_collections.libpod.engine.tests.helpers.rootfs import make_busybox_rootfs

NAME = "localhost/demo:1"


def _du(path: str) -> int:
    return int(subprocess.run(["du", "-sb", path], check=True, capture_output=True, text=True).stdout.split()[0])


def _podman(root: str, runroot: str, *args: str) -> subprocess.CompletedProcess:
    """podman with a throw-away store under ``root`` (the host's store and configs are not used);
    ``runroot`` must be short (podman refuses more than 50 characters)."""
    os.makedirs(root, exist_ok=True)
    conf = os.path.join(root, "storage.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write('[storage]\ndriver = "vfs"\nrunroot = "%s"\ngraphroot = "%s/store"\n' % (runroot, root))
    cmd = ["podman", "--root", os.path.join(root, "store"), "--runroot", runroot,
           "--storage-driver", "vfs", "--events-backend", "none", "--cgroup-manager", "cgroupfs", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, CONTAINERS_STORAGE_CONF=conf))


def _acts(task) -> str:
    return "\n".join(task["actions"])


def test_image_lifecycle(playbook, engine_env, tmp_path):
    rootfs = make_busybox_rootfs(str(tmp_path / "rootfs"), applets=["sh", "sleep", "true"])
    tar = str(tmp_path / "demo-rootfs.tar")
    subprocess.run(["tar", "-C", rootfs, "-cf", tar, "."], check=True)
    oci, dock = str(tmp_path / "demo-oci.tar"), str(tmp_path / "demo-docker.tar")
    imp = {"name": NAME, "path": tar, "change": {"cmd": ["sleep", "1000"], "workdir": "/", "labels": {"app": "demo"}}}
    res = playbook([
        {"libpod.engine.image": imp, "check_mode": True},
        {"libpod.engine.image": imp},
        {"libpod.engine.image": imp},
        {"libpod.engine.image": {"name": NAME, "state": "tagged", "tags": ["localhost/demo:stable"]}},
        {"libpod.engine.container": {"name": "user", "image": NAME, "pull": "never", "state": "created",
                                     "network": "none"}},
        {"libpod.engine.image": {"name": "localhost/demo:stable", "state": "absent"}},
        {"libpod.engine.image": {"name": NAME, "state": "absent"}, "ignore_errors": True},
        {"libpod.engine.image_info": {"name": [NAME, "localhost/nothing:1"]}},
        {"libpod.engine.image": {"name": NAME, "state": "saved", "save_path": oci}},
        {"libpod.engine.image": {"name": NAME, "state": "saved", "save_path": dock, "format": "docker-archive"}},
        {"libpod.engine.image": {"name": NAME, "state": "saved", "save_path": oci}},
        {"libpod.engine.image": {"name": NAME, "state": "absent", "force": True}},
        {"libpod.engine.image": {"name": NAME, "path": oci}},
        {"libpod.engine.image": {"name": "localhost/demo-docker:1", "path": dock}},
        {"libpod.engine.image": {"name": NAME, "path": oci}},
    ])
    t = res.tasks
    assert t[1].changed and "imported rootfs tarball %s" % tar in _acts(t[1]), t[1].result
    assert t[0].changed and not t[0]["image"], t[0].result  # check mode: would import, nothing stored
    image_id = t[1]["image"]["Id"]
    assert t[1]["image"]["Config"]["Cmd"] == ["sleep", "1000"] and t[1]["image"]["Labels"] == {"app": "demo"}
    assert not t[2].changed and "already holds" in _acts(t[2]), t[2].result
    assert t[3].changed and "localhost/demo:stable" in t[3]["image"]["RepoTags"]
    assert not t[4].failed, t[4].result
    assert t[5].changed and "untagged localhost/demo:stable" in _acts(t[5]), t[5].result
    assert t[6].failed and "in use by container(s) user" in t[6]["msg"], t[6].result
    info = t[7]
    assert info["missing"] == ["localhost/nothing:1"]
    img = info["images"][0]
    for key in ("Id", "Digest", "RepoTags", "RepoDigests", "Created", "Size", "Config", "Architecture", "Os",
                "Labels", "HistoryCount", "Containers"):
        assert key in img, key
    assert img["Id"] == image_id and img["Containers"] == ["user"] and img["HistoryCount"] == 1
    assert t[8].changed and t[9].changed and t[8]["saved"]["format"] == "oci-archive"
    assert not t[10].changed, t[10].result
    assert t[11].changed and "removed container(s) user" in _acts(t[11]), t[11].result
    assert t[12].changed and t[12]["image"]["Id"] == image_id, t[12].result  # save -> remove -> import: same ID
    assert t[13]["image"]["Id"] == image_id and "localhost/demo-docker:1" in t[13]["image"]["RepoTags"]
    assert not t[14].changed, t[14].result

    # podman 4.3 reads our archives, and we read its saves
    if shutil.which("podman"):
        proot = str(tmp_path / "podman")
        runroot = tempfile.mkdtemp(prefix="lpe-pm-", dir="/tmp")
        try:
            for path in (oci, dock):
                out = _podman(proot, runroot, "load", "-i", path)
                assert out.returncode == 0, out.stderr
            out = _podman(proot, runroot, "image", "inspect", NAME)
            assert out.returncode == 0 and json.loads(out.stdout)[0]["Id"] == image_id, out.stderr
            psave = {fmt: str(tmp_path / ("podman-%s.tar" % fmt)) for fmt in ("oci-archive", "docker-archive")}
            for fmt, path in psave.items():
                out = _podman(proot, runroot, "save", "--format", fmt, "-o", path, NAME)
                assert out.returncode == 0, out.stderr
        finally:
            shutil.rmtree(runroot, ignore_errors=True)
        res = playbook([{"libpod.engine.image": {"name": "localhost/from-podman-%s:1" % fmt, "path": path}}
                        for fmt, path in psave.items()])
        assert res.ok, res.log if hasattr(res, "log") else res.stdout
        for task in res.tasks:
            assert task.changed and task["image"]["Config"]["Cmd"] == ["sleep", "1000"], task.result
        # podman's docker-archive keeps the config bytes (same ID); its oci-archive re-encodes the config
        assert res.tasks[1]["image"]["Id"] == image_id, res.tasks[1].result
        expected = sorted({image_id, res.tasks[0]["image"]["Id"]})
    else:
        expected = [image_id]  # pragma: no cover - podman is installed on the CI hosts

    graph = engine_env.paths["graph_root"]
    before = _du(graph)
    res = playbook([{"libpod.engine.image": {"prune": "all"}, "check_mode": True},
                    {"libpod.engine.image": {"prune": "all"}},
                    {"libpod.engine.image": {"prune": "all"}},
                    {"libpod.engine.image_info": {}}])
    after = _du(graph)
    t = res.tasks
    assert t[0].changed and sorted(t[0]["pruned"]["images"]) == expected, t[0].result
    assert sorted(t[1]["pruned"]["images"]) == expected and t[1]["pruned"]["bytes"] > 1000, t[1].result
    assert before - after == t[1]["pruned"]["bytes"], (before, after, t[1]["pruned"])
    assert not t[2].changed and t[3]["images"] == []

    with open(os.path.join(engine_env.paths["tmp_dir"], "events", "events.log"), encoding="utf-8") as f:
        events = [json.loads(line) for line in f]
    seen = {e["Status"] for e in events if e["Type"] == "image"}
    assert {"import", "tag", "untag", "remove", "save", "prune"} <= seen, seen
    if not shutil.which("podman"):  # pragma: no cover
        pytest.skip("podman is not installed: loading our archives with podman and importing its saves was skipped")
