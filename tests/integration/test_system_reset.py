# SPDX-License-Identifier: GPL-3.0-or-later
"""system_reset on a host with real containers, volumes, images, networks (and a pod when the pod
module exists): check mode lists everything, the reset leaves nothing of ours behind."""
from __future__ import annotations

import os
import subprocess

import pytest

from .helpers import REPO, _mounts_under, _proc_cmdlines

PREFIX = "s"
LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]


@pytest.fixture
def own_network(engine_env):
    """This test's engine root (its containers.conf already has a bridge and subnet of its own)."""
    return engine_env


HAVE_POD_MODULE = os.path.exists(os.path.join(REPO, "plugins", "modules", "pod.py"))


def _our_processes(env):
    roots = [env.paths["static_dir"], env.paths["tmp_dir"]]
    return [(pid, cmd) for pid, cmd in _proc_cmdlines() if any(r in cmd for r in roots)]


def _nft_chains(ctr_ids):
    proc = subprocess.run(["nft", "list", "table", "ip", "libpod_engine"], capture_output=True, text=True,
                          check=False)
    return [c for c in ctr_ids if c in proc.stdout]


def test_reset_check_mode_then_nothing_remains(playbook, own_network, busybox_archive):
    engine_env = own_network
    img = "oci-archive:" + busybox_archive
    tasks = [
        {"name": "web", "libpod.engine.container": {"name": "web", "image": img, "command": LOOP,
                                                    "volume": ["data:/data", "/scratch"],
                                                    "publish": ["127.0.0.1:18192:80"]}},
        {"name": "done", "libpod.engine.container": {"name": "done", "image": img, "command": ["true"],
                                                     "state": "present"}},
        {"name": "spare volume", "libpod.engine.volume": {"name": "spare"}},
    ]
    if HAVE_POD_MODULE:
        tasks.append({"name": "pod", "libpod.engine.pod": {"name": "pod1"}})
    tasks += [
        {"name": "info", "libpod.engine.container_info": {}},
        {"name": "preview", "libpod.engine.system_reset": {}, "check_mode": True},
        {"name": "unconfirmed", "libpod.engine.system_reset": {}, "ignore_errors": True},
        {"name": "xdg", "libpod.engine.system_reset": {"confirm": True}, "ignore_errors": True,
         "environment": {"XDG_RUNTIME_DIR": engine_env.paths["tmp_dir"]}},
    ]
    res = playbook(tasks)
    assert res.ok, res.log
    ctrs = res.task("info")["containers"]
    ids = [c["Id"] for c in ctrs]
    assert {c["Name"]: c["State"]["Status"] for c in ctrs if not c["Name"].endswith("-infra")} == \
        {"web": "running", "done": "created"}
    assert _our_processes(engine_env)               # conmon of web
    netns = os.path.join(engine_env.paths["tmp_dir"], "netns")
    assert netns in _mounts_under([engine_env.paths["tmp_dir"]])   # the shared bind mount

    preview = res.task("preview")
    assert preview.changed
    plan = preview["removed"]
    assert sorted(n for n in plan["containers"] if not n.endswith("-infra")) == ["done", "web"]
    assert "web" in plan["running"] and "done" not in plan["running"]
    assert "data" in plan["volumes"] and "spare" in plan["volumes"] and len(plan["volumes"]) == 3  # + anonymous
    assert len(plan["images"]) >= 1 and "localhost/busybox:latest" in plan["images"][0]
    assert plan["networks"] == ["engine"]
    web_id = next(c["Id"] for c in ctrs if c["Name"] == "web")
    assert os.path.join(netns, web_id) in plan["netns"]
    assert netns in plan["mounts"] and any(m.endswith("/merged") for m in plan["mounts"])
    # the nft table is shared with every other engine root of the host: only our chains are listed
    # (web's port forwarding; another root's orphan cleanup may have dropped them meanwhile)
    assert all(any(i in c for i in ids) or " n_" in c for c in plan["nft_chains"]), plan["nft_chains"]
    assert any("conmon" in p for p in plan["processes"])
    for key in ("static_dir", "tmp_dir", "graph_root", "volume_path"):
        assert engine_env.paths[key] in plan["paths"]
    db = os.path.join(engine_env.paths["static_dir"], "state.db")
    assert db in plan["paths"] and os.path.join(engine_env.paths["tmp_dir"], "locks") in plan["paths"]
    assert preview["counts"]["containers"] == len(plan["containers"])
    if HAVE_POD_MODULE:
        assert plan["pods"] == ["pod1"]
    assert os.path.exists(db)                       # check mode removed nothing

    unconfirmed = res.task("unconfirmed")
    assert unconfirmed.failed and "confirm: true" in unconfirmed.msg and "containers" in unconfirmed.msg
    xdg = res.task("xdg")
    assert xdg.failed and "same as XDG_RUNTIME_DIR" in xdg.msg
    assert os.path.exists(db)

    res = playbook([
        {"name": "reset", "libpod.engine.system_reset": {"confirm": True, "timeout": 5}},
        {"name": "again", "libpod.engine.system_reset": {"confirm": True}},
        {"name": "again in check mode", "libpod.engine.system_reset": {}, "check_mode": True},
    ])
    assert res.ok, res.log
    reset = res.task("reset")
    assert reset.changed
    removed = reset["removed"]
    assert sorted(removed["containers"]) == sorted(plan["containers"])
    assert sorted(removed["volumes"]) == sorted(plan["volumes"])
    assert removed["networks"] == ["engine"] and len(removed["images"]) == len(plan["images"])
    assert engine_env.paths["static_dir"] in removed["paths"] and engine_env.paths["tmp_dir"] in removed["paths"]
    assert not res.task("again").changed and not res.task("again in check mode").changed
    # nothing of ours remains: files, mounts, netns, processes, nft chains
    for key in ("static_dir", "tmp_dir", "graph_root", "volume_path"):
        assert not os.path.exists(engine_env.paths[key]), key
    assert _mounts_under([engine_env.paths["static_dir"], engine_env.paths["tmp_dir"]]) == []
    assert _our_processes(engine_env) == []
    assert _nft_chains(ids) == []
    assert os.path.exists(engine_env.conf)          # the configuration is not the engine's state
