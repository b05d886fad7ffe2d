# SPDX-License-Identifier: GPL-3.0-or-later
"""The stack module on real volumes, pods and containers, through ansible-playbook."""
from __future__ import annotations

import os
import signal
import time

from .helpers import free_port, http_get, run_playbook

STACK_LABEL = "io.libpod-engine.stack"


def _stack(img: str, port: int, *, extra_env=None, workers=("worker",), state="present", prune=False) -> dict:
    return {
        "libpod.engine.stack": {
            "label": "web",
            "state": state,
            "prune": prune,
            "networks": [{"name": "web-back", "label": {"tier": "back"}}],
            "volumes": [{"name": "web-site"}],
            "pods": [{"name": "web", "state": "started", "publish": ["127.0.0.1:%d:8080" % port]}],
            "containers": [
                {"name": "web-httpd", "image": img, "pod": "web", "init": True,
                 "command": ["httpd", "-f", "-p", "8080", "-h", "/srv"], "volume": ["web-site:/srv:ro"],
                 "env": extra_env or {}},
            ] + [{"name": w, "image": img, "command": ["sleep", "1000"], "init": True, "network": ["web-back"],
                  "labels": {"role": "worker"}} for w in workers],
        },
        "register": "out",
    }


def _kinds(result: dict) -> dict:
    return {k: sorted(v) for k, v in result["stack"].items() if k != "name"}


def test_stack_lifecycle_check_diff_prune_and_absent(engine_env, playbook, busybox_archive):
    img = "oci-archive:" + busybox_archive
    port = free_port()

    # check mode on an empty engine: the plan, nothing made
    res = playbook([_stack(img, port)], check=True, diff=True)
    assert res.ok, res.log
    out = res.tasks[0].result
    assert out["changed"]
    assert "create volume web-site" in out["actions"] and "create pod web" in out["actions"]
    assert "create web-httpd" in out["actions"] and "create worker" in out["actions"]
    assert "create network web-back" in out["actions"]
    assert set(out["diff"]["after"]) == {"networks", "volumes", "pods", "containers"}
    assert _kinds(out) == {"containers": [], "networks": [], "pods": [], "volumes": []}
    assert not os.path.exists(os.path.join(engine_env.paths["volume_path"], "web-site"))

    # the real run: the page in the volume is served through the pod's published port
    res = playbook([_stack(img, port)])
    assert res.ok, res.log
    out = res.tasks[0].result
    assert out["changed"]
    assert _kinds(out) == {"containers": ["web-httpd", "worker"], "networks": ["web-back"], "pods": ["web"],
                           "volumes": ["web-site"]}
    assert [(r["kind"], r["name"]) for r in out["results"]] == [
        ("network", "web-back"), ("volume", "web-site"), ("pod", "web"), ("container", "web-httpd"),
        ("container", "worker")]
    mountpoint = out["stack"]["volumes"]["web-site"]["mountpoint"]
    with open(os.path.join(mountpoint, "index.html"), "w", encoding="utf-8") as f:
        f.write("hello from the stack\n")
    assert http_get("http://127.0.0.1:%d/" % port) == "hello from the stack\n"

    # the label is on every object, next to the entry's own labels
    res = playbook("""
- libpod.engine.container_info: {name: worker}
- libpod.engine.pod_info: {name: web}
- libpod.engine.network_info: {name: web-back}
""")
    assert res.ok, res.log
    labels = res.tasks[0].result["containers"][0]["Config"]["Labels"]
    assert labels[STACK_LABEL] == "web" and labels["role"] == "worker"
    assert res.tasks[1].result["pods"][0]["Labels"] == {STACK_LABEL: "web"}
    assert res.tasks[2].result["networks"][0]["labels"] == {STACK_LABEL: "web", "tier": "back"}
    assert list(res.tasks[0].result["containers"][0]["NetworkSettings"]["Networks"]) == ["web-back"]

    # again: nothing to do, in check mode and for real
    for check in (True, False):
        res = playbook([_stack(img, port)], check=check, diff=True)
        assert res.ok, res.log
        out = res.tasks[0].result
        assert not out["changed"], out["actions"]
        assert "diff" not in out and out["actions"] == []

    # a change to one container: check mode and diff name exactly that object and option
    res = playbook([_stack(img, port, extra_env={"MODE": "x"})], check=True, diff=True)
    assert res.ok, res.log
    out = res.tasks[0].result
    assert out["changed"]
    assert out["diff"] == {"before": {"containers": {"web-httpd": {"env": {}}}},
                           "after": {"containers": {"web-httpd": {"env": {"MODE": "x"}}}}}
    assert [r["name"] for r in out["results"] if r["changed"]] == ["web-httpd"]
    res = playbook([_stack(img, port, extra_env={"MODE": "x"})])
    assert res.ok, res.log
    assert any(a.startswith("recreated web-httpd: env changed") for a in res.tasks[0].result["actions"])
    assert http_get("http://127.0.0.1:%d/" % port) == "hello from the stack\n"  # the volume kept its page

    # a worker dropped from the list stays without prune, goes with it
    res = playbook([_stack(img, port, extra_env={"MODE": "x"}, workers=())])
    assert res.ok, res.log
    assert not res.tasks[0].changed
    res = playbook([_stack(img, port, extra_env={"MODE": "x"}, workers=(), prune=True)], check=True)
    assert res.ok, res.log
    assert res.tasks[0].result["pruned"] == ["container worker"]
    res = playbook([_stack(img, port, extra_env={"MODE": "x"}, workers=(), prune=True)])
    assert res.ok, res.log
    assert res.tasks[0].result["pruned"] == ["container worker"]
    assert res.tasks[0].result["actions"] == ["removed worker"]
    assert _kinds(res.tasks[0].result) == {"containers": ["web-httpd"], "networks": ["web-back"], "pods": ["web"],
                                           "volumes": ["web-site"]}

    # state=absent removes every object of the stack (and nothing else)
    res = playbook("""
- libpod.engine.volume: {name: unrelated}
- libpod.engine.stack: {label: web, state: absent}
- libpod.engine.stack: {label: web, state: absent}
- libpod.engine.volume_info: {}
""")
    assert res.ok, res.log
    assert sorted(res.tasks[1].result["pruned"]) == ["container web-httpd", "network web-back", "pod web",
                                                     "volume web-site"]
    assert not res.tasks[2].changed
    assert [v["Name"] for v in res.tasks[3].result["volumes"]] == ["unrelated"]


def test_stack_refuses_bad_entries_before_touching_anything(engine_env, playbook, busybox_archive):
    img = "oci-archive:" + busybox_archive
    cases = [
        ({"label": "s", "volumes": [{"name": "s-v"}], "containers": [{"name": "c", "image": img, "publish": ["x"]}]},
         "containers[0] (c): "),
        ({"label": "s", "volumes": [{"name": "s-v"}], "containers": [{"name": "c", "image": img, "bogus": 1}]},
         "containers[0]: unsupported parameters bogus"),
        ({"label": "s", "volumes": [{"name": "s-v"}, {"name": "s-v"}]}, "volume s-v is declared twice"),
        ({"label": "s", "volumes": [{"name": "s-v", "labels": {STACK_LABEL: "other"}}]}, "differs from the stack"),
        ({"label": "s", "volumes": [{"name": "s-v"}],
          "containers": [{"name": "c", "image": img, "recreate": True, "force_restart": True}]},
         "mutually exclusive"),
        # a member the stack's own pod refuses: the whole stack, before the pod is made
        ({"label": "s", "volumes": [{"name": "s-v"}], "pods": [{"name": "s-p", "no_hosts": True}],
          "containers": [{"name": "c", "image": img, "pod": "s-p", "hosts_file": "image"}]},
         "containers[0] (c): hosts_file: container c joins pod s-p, which has no_hosts"),
        ({"label": "s", "volumes": [{"name": "s-v"}], "pods": [{"name": "s-p"}],
          "containers": [{"name": "c", "image": img, "pod": "s-p", "hostname": "own"}]},
         "containers[0] (c): hostname: container c shares the UTS namespace of pod s-p"),
    ]
    for params, msg in cases:
        res = playbook([{"libpod.engine.stack": params, "ignore_errors": True}])
        task = res.tasks[0]
        assert task.failed and msg in task.msg, (msg, task.result)
    res = playbook("- libpod.engine.volume_info: {}\n- libpod.engine.pod_info: {}")
    assert res.ok, res.log
    assert res.tasks[0].result["volumes"] == [] and res.tasks[1].result["pods"] == [], res.log


def test_stack_changes_a_pod_and_its_member_together(engine_env, playbook, busybox_archive):
    """The pod now shares UTS and its member drops its own hostname in the same run: the pod is recreated
    (its member is declared anew by the stack, not refused for its old hostname), then the member."""
    img = "oci-archive:" + busybox_archive
    member = {"name": "s-m", "image": img, "pod": "s-p", "command": ["sleep", "1000"], "init": True, "timeout": 0}

    def stack(pod, ctr):
        return {"libpod.engine.stack": {"label": "s", "pods": [dict(pod, name="s-p", state="started", timeout=0)],
                                        "containers": [ctr]}}
    res = playbook([stack({"share": "ipc,net"}, dict(member, hostname="own")),
                    stack({}, member),
                    {"libpod.engine.container_exec": {"name": "s-m", "command": ["hostname"]}},
                    {"libpod.engine.stack": {"label": "s", "state": "absent"}}])
    assert res.ok, res.log
    actions = res.tasks[1]["actions"]
    assert res.tasks[1].changed and any(a.startswith("recreated pod s-p") for a in actions), res.tasks[1].result
    # the member goes with the old pod and is made once, with its new spec, by its own entry (not first
    # recreated into the new pod with its old hostname and started)
    assert [a for a in actions if "s-m" in a and "recreated" in a] == [
        "recreated pod s-p: share changed (containers s-m removed with it, for their stack entries)",
        "recreated s-m: hostname changed; pod s-p was recreated"], actions
    assert "started s-m" in actions, actions
    assert res.tasks[2]["stdout"] == "s-p", res.tasks[2].result


def test_stack_prune_refuses_a_volume_a_foreign_container_uses(engine_env, playbook, busybox_archive):
    img = "oci-archive:" + busybox_archive
    res = playbook([
        {"libpod.engine.stack": {"label": "s", "volumes": [{"name": "s-data"}]}},
        {"libpod.engine.container": {"name": "outsider", "image": img, "command": ["sleep", "1000"],
                                     "network": "none", "state": "created", "volume": ["s-data:/data"]}},
        {"libpod.engine.stack": {"label": "s", "prune": True}, "ignore_errors": True},
    ])
    task = res.tasks[2]
    assert task.failed
    assert "stack s: volume s-data (pruned)" in task.msg and "outsider" in task.msg, task.msg


def _timed(env, tasks) -> tuple:
    start = time.monotonic()
    res = run_playbook(env, tasks)
    return res, time.monotonic() - start


def test_stack_of_20_containers_rerun_is_one_fast_unchanged_task(engine_env, busybox_archive, capsys):
    """Figures for the docs: re-running 20 containers as one stack task vs 20 container tasks."""
    img = "oci-archive:" + busybox_archive
    containers = [{"name": "n%02d" % i, "image": img, "command": ["sleep", "100000"], "init": True,
                   "env": {"N": str(i)}} for i in range(20)]
    stack = [{"libpod.engine.stack": {"label": "twenty", "containers": containers}}]
    res, t_create = _timed(engine_env, stack)
    assert res.ok, res.log
    assert res.tasks[0].changed and len(res.tasks[0].result["stack"]["containers"]) == 20
    assert all(c["status"] == "running" for c in res.tasks[0].result["stack"]["containers"].values())

    res, t_stack = _timed(engine_env, stack)
    assert res.ok, res.log
    assert not res.tasks[0].changed, res.tasks[0].result["actions"]

    # conmon and the process of one container killed behind the engine's back (no exit file, no
    # cleanup: the DB still says running): the re-run, whose unchanged containers are told from one
    # read of their records, still sees that one down and starts it again
    info = run_playbook(engine_env, [{"libpod.engine.container_info": {"name": "n03"}}])
    assert info.ok, info.log
    st = info.tasks[0].result["containers"][0]["State"]
    for pid in (st["ConmonPid"], st["Pid"]):
        os.kill(pid, signal.SIGKILL)
    res = run_playbook(engine_env, stack)
    assert res.ok, res.log
    assert res.tasks[0].changed and [a for a in res.tasks[0].result["actions"] if not a.startswith("started n03")] \
        == [], res.tasks[0].result["actions"]
    assert res.tasks[0].result["stack"]["containers"]["n03"]["status"] == "running"

    # the same 20 containers as 20 tasks (with the stack's label, so they are the same spec)
    separate = [{"libpod.engine.container": dict(c, label={STACK_LABEL: "twenty"})} for c in containers]
    res, t_separate = _timed(engine_env, separate)
    assert res.ok, res.log
    assert len(res.tasks) == 20 and not any(t.changed for t in res.tasks), [t.result["actions"] for t in res.tasks]

    res, t_empty = _timed(engine_env, [{"ansible.builtin.meta": "noop"}])
    assert res.ok, res.log

    with capsys.disabled():
        print("\n[stack figures] 20 containers (ansible-playbook wall time, including its own start-up of %.1f s):"
              % t_empty)
        print("[stack figures]   create as one stack task:         %6.1f s" % t_create)
        print("[stack figures]   re-run, one stack task:           %6.1f s  (changed=false)" % t_stack)
        print("[stack figures]   re-run, 20 container tasks:       %6.1f s  (changed=false)" % t_separate)
        print("[stack figures]   without start-up: %.1f s vs %.1f s, %.1fx" % (
            t_stack - t_empty, t_separate - t_empty, (t_separate - t_empty) / max(t_stack - t_empty, 0.01)))

    res = run_playbook(engine_env, [{"libpod.engine.stack": {"label": "twenty", "state": "absent"}}])
    assert res.ok, res.log
    assert len(res.tasks[0].result["pruned"]) == 20
