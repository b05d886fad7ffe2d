# SPDX-License-Identifier: GPL-3.0-or-later
"""Ten engine roots at once (issue 13): ten inventory hosts with ansible_connection=local, each with
only its paths changed (bridge_prefix and default_subnet left at their defaults), forks=5.

Converge, re-run (changed=0 everywhere), then system_reset on every root: no bridge, nft chain,
mount, netns or process of theirs is left. Measured on the shared 2-core VM: converge 8-17 s,
re-run 5-13 s, reset 30-38 s (47-72 s in all), so it runs by default; ``LPE_IT_SKIP_SCALE=1`` leaves it out, and
``python -m pytest tests/integration/test_roots_scale.py -s`` prints the timings.
"""
from __future__ import annotations

import glob
import json
import os
import subprocess
import time

import pytest
import yaml

from .helpers import (
    PLAYBOOK_TIMEOUT,
    _mounts_under,
    _playbook_path,
    _proc_cmdlines,
    cleanup_engine_env,
    engine_paths,
    free_port,
    http_get,
    make_engine_env,
)

ROOTS = int(os.environ.get("LPE_IT_SCALE_ROOTS", "10"))
pytestmark = pytest.mark.skipif(bool(os.environ.get("LPE_IT_SKIP_SCALE")),
                                reason="LPE_IT_SKIP_SCALE is set (the 10-root test takes ~70 s)")

WEB = "echo {{ inventory_hostname }} > /srv/index.html && exec httpd -f -p 80 -h /srv"


def _run(env, workdir: str, name: str, inventory: str, *, tasks: list, extra: dict) -> tuple:
    play = [{"hosts": "roots", "gather_facts": False,
             "environment": {"LIBPOD_ENGINE_CONF": "{{ conf }}"}, "tasks": tasks}]
    book = os.path.join(workdir, name + ".yml")
    with open(book, "w", encoding="utf-8") as f:
        yaml.safe_dump(play, f, sort_keys=False)
    result = os.path.join(workdir, name + ".result.json")
    vars_file = os.path.join(workdir, name + ".vars.json")
    with open(vars_file, "w", encoding="utf-8") as f:
        json.dump(extra, f)
    start = time.monotonic()
    proc = subprocess.run([_playbook_path(), "-i", inventory, "-f", "5", book, "-e", "@" + vars_file],
                          env=dict(env, LPE_IT_RESULT_FILE=result), cwd=workdir, capture_output=True, text=True,
                          timeout=PLAYBOOK_TIMEOUT * 3, check=False)
    took = time.monotonic() - start
    with open(result, encoding="utf-8") as f:
        doc = json.load(f)
    return proc, doc, took


def test_ten_roots_converge_rerun_and_reset(tmp_path, busybox_archive):
    envs, ports = [], []
    lines = ["[roots]"]
    for i in range(ROOTS):
        env = make_engine_env(tmp_path / ("root%d" % i),
                              dict(engine_paths(str(tmp_path / ("root%d" % i))), bridge_prefix=None,
                                   default_subnet=None))
        envs.append(env)
        ports.append(free_port())
        lines.append("root%d ansible_connection=local ansible_python_interpreter=%s conf=%s port=%d"
                     % (i, env["ANSIBLE_PYTHON_INTERPRETER"], env.conf, ports[-1]))
    inventory = str(tmp_path / "inventory.ini")
    with open(inventory, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    workdir = str(tmp_path)
    extra = {"img": "oci-archive:" + busybox_archive}
    converge = [{"name": "web", "libpod.engine.container": {
        "name": "web", "image": "{{ img }}", "command": ["sh", "-c", WEB], "volume": ["site:/srv"],
        "publish": ["127.0.0.1:{{ port }}:80"]}}]
    timings = {}
    statics = [os.path.realpath(e.paths["static_dir"]) for e in envs]
    try:
        proc, doc, timings["converge"] = _run(envs[0], workdir, "converge", inventory, tasks=converge, extra=extra)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
        for i, port in enumerate(ports):
            assert http_get("http://127.0.0.1:%d/index.html" % port) == "root%d\n" % i
        bridges = []
        for path in glob.glob("/run/libpod-engine/networks/*.json"):
            with open(path, encoding="utf-8") as f:
                claim = json.load(f)
            if claim["static_dir"] in statics:
                bridges.append(claim["bridge"])
        assert len(bridges) == ROOTS, bridges  # one bridge per root
        proc, doc, timings["re-run"] = _run(envs[0], workdir, "rerun", inventory, tasks=converge, extra=extra)
        assert proc.returncode == 0, proc.stdout[-4000:]
        assert sum(s.get("changed", 0) for s in doc["stats"].values()) == 0, doc["stats"]
        reset = [{"name": "reset", "libpod.engine.system_reset": {"confirm": True}}]
        proc, doc, timings["reset"] = _run(envs[0], workdir, "reset", inventory, tasks=reset, extra=extra)
        assert proc.returncode == 0, proc.stdout[-4000:]
        # nothing of the ten roots is left
        left = [b for b in bridges if os.path.exists("/sys/class/net/" + b)]
        assert not left, left
        nft = subprocess.run(["nft", "list", "table", "ip", "libpod_engine"], capture_output=True, text=True,
                             check=False).stdout
        assert not any(" n_%s_post" % b in nft for b in bridges), nft
        roots = [e.paths["static_dir"] for e in envs] + [e.paths["tmp_dir"] for e in envs]
        assert not _mounts_under(roots)
        assert not [c for _p, c in _proc_cmdlines() if any(r in c for r in roots)]
        assert not any(os.path.exists(r) for r in roots)
    finally:
        print("\n%d roots, forks=5: %s" % (ROOTS, ", ".join("%s %.1f s" % kv for kv in timings.items())))
        for env in envs:
            cleanup_engine_env(env)
