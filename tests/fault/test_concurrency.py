# SPDX-License-Identifier: GPL-3.0-or-later
"""Five ansible-playbook processes at once against one engine root (a fresh one: they also race to
create the state DB), each reconciling ten containers: five names shared by all five playbooks
(declared identically) and five of its own, with named volumes (one shared by a playbook's own
containers) and published ports.

Must hold: every run succeeds (no "database is locked", no name race failure), every declared
container exists exactly once and runs, no IP or lock number is used twice, and every process
reports honestly: each "created X" / "started X" action matches exactly one create / start event
of X in the engine's events log. A sixth run then changes nothing and nothing is leaked.
"""
from __future__ import annotations

import json
import os
import threading
from collections import Counter

from ansible_collections.libpod.engine.tests.integration.helpers import EngineEnv, run_playbook

from .scenario import LOOP, containers, finish, free_port

PROCS = 5
SHARED = 5
OWN = 5


def _plays(image):
    shared_ports = [free_port() for _i in range(SHARED)]
    own_ports = [free_port() for _i in range(PROCS)]
    plays = []
    for k in range(PROCS):
        tasks = []
        for i in range(SHARED):
            tasks.append({"name": "shared-%d" % i, "libpod.engine.container": {
                "name": "shared-%d" % i, "image": image, "command": LOOP, "timeout": 2,
                "volume": ["shared-vol-%d:/data" % i], "publish": ["127.0.0.1:%d:80" % shared_ports[i]]}})
        for j in range(OWN):
            spec = {"name": "p%d-c%d" % (k, j), "image": image, "command": LOOP, "timeout": 2,
                    "volume": ["p%d-vol:/data" % k]}
            if j == 0:
                spec["publish"] = ["127.0.0.1:%d:80" % own_ports[k]]
            tasks.append({"name": spec["name"], "libpod.engine.container": spec})
        # three playbooks race for the shared names from the start, in the same order; two come to
        # them last, in the reverse order
        plays.append(tasks if k < 3 else tasks[SHARED:] + tasks[SHARED - 1::-1])
    return plays


def _events(env):
    path = os.path.join(env.paths["tmp_dir"], "events", "events.log")
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_five_playbooks_at_once(engine_env, image):
    plays = _plays(image)
    results = [None] * PROCS

    def run(k):
        sub = EngineEnv(dict(engine_env), root=os.path.join(engine_env.root, "proc%d" % k), conf=engine_env.conf,
                        paths=engine_env.paths)
        os.makedirs(sub.root, exist_ok=True)
        results[k] = run_playbook(sub, plays[k], timeout=600)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(PROCS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    problems = []
    for k, res in enumerate(results):
        if not res.ok:
            problems.append("playbook %d failed: %s" % (k, "; ".join(
                "%s: %s" % (t.name, t.msg) for t in res.tasks if t.failed) or res.log[-2000:]))
        if "database is locked" in res.stdout + res.stderr:
            problems.append("playbook %d hit 'database is locked'" % k)

    declared = {"shared-%d" % i for i in range(SHARED)} | {"p%d-c%d" % (k, j) for k in range(PROCS)
                                                           for j in range(OWN)}
    ctrs = containers(engine_env)
    if set(ctrs) != declared:
        problems.append("containers %s, declared %s" % (sorted(ctrs), sorted(declared)))
    for name, c in ctrs.items():
        if c["state"]["status"] != "running":
            problems.append("%s is %s" % (name, c["state"]["status"]))

    # honest reports: actions match what the engine did, one for one
    by_id = {c["id"]: n for n, c in ctrs.items()}
    events = Counter((e["Status"], by_id.get(e["ID"], e["ID"])) for e in _events(engine_env)
                     if e["Type"] == "container" and e["Status"] in ("create", "start"))
    claimed, volumes_claimed = Counter(), Counter()
    for res in results:
        for t in res.tasks:
            for action in t.get("actions") or []:
                words = action.split()
                if words[:2] == ["created", "volume"]:
                    volumes_claimed[words[2]] += 1
                elif words[0] in ("created", "started"):
                    claimed[("create" if words[0] == "created" else "start", words[1].rstrip(":"))] += 1
            if not t.changed and not t.failed and ctrs.get(t.name, {}).get("state", {}).get("status") != "running":
                problems.append("%s reported ok but is not running" % t.name)
    declared_volumes = {"shared-vol-%d" % i for i in range(SHARED)} | {"p%d-vol" % k for k in range(PROCS)}
    if volumes_claimed != Counter(declared_volumes):
        problems.append("volumes reported created %s, each of %s once expected" % (
            dict(volumes_claimed), sorted(declared_volumes)))
    if claimed != events:
        problems.append("reported actions %s differ from the engine's events %s" % (
            dict(claimed - events), dict(events - claimed)))

    everything = plays[0] + [t for play in plays[1:] for t in play if not t["name"].startswith("shared-")]
    res = run_playbook(engine_env, everything, timeout=600)
    if not res.ok or res.changed:
        problems.append("a later run of all %d declared containers changed %s (rc %s)" % (
            len(everything), [t.name for t in res.tasks if t.changed or t.failed], res.rc))
    finish("concurrency: 5 playbooks x 10 containers", engine_env, problems=problems)
