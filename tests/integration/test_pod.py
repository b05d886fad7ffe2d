# SPDX-License-Identifier: GPL-3.0-or-later
"""The pod and pod_info modules on real containers, through ansible-playbook."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
import urllib.request

import yaml

from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import argv

from .helpers import _mounts_under, free_port, http_get


def _refused(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)
    except OSError:
        return True
    return False


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _wait_file(path: str, tries: int = 40) -> str:
    for _attempt in range(tries):
        if os.path.exists(path) and _read(path).count("\n") >= 2:
            return _read(path)
        time.sleep(0.25)
    raise AssertionError("%s was never written" % path)


def _pod_tasks(img: str, out: str, port: int) -> str:
    """A pod publishing ``port`` and two members: web serves the pod's /etc, client probes it."""
    return """
- name: pod
  libpod.engine.pod:
    name: duo
    state: started
    publish: ["127.0.0.1:%(port)d:8080"]
    label: {tier: test}
- name: web
  libpod.engine.container:
    name: duo-web
    image: %(img)s
    command: [httpd, -f, -p, "8080", -h, /etc]
    pod: duo
    init: true
- name: client
  libpod.engine.container:
    name: duo-client
    image: %(img)s
    pod: duo
    init: true
    volume: ["%(out)s:/out"]
    command:
      - sh
      - -c
      - >-
        rm -f /out/result;
        for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20;
        do wget -q -O /out/got http://127.0.0.1:8080/hostname && break; sleep 0.2; done;
        { cat /out/got; echo; hostname; } > /out/result; exec sleep 1000
""" % {"img": img, "out": out, "port": port}


def test_pod_shares_net_and_uts_is_idempotent_and_keeps_members(playbook, engine_env, busybox_archive, tmp_path):
    img = "oci-archive:" + busybox_archive
    out = str(tmp_path / "out")
    os.makedirs(out)
    port1, port2 = free_port(), free_port()
    # check mode on an empty engine: a plan, and nothing made
    res = playbook(_pod_tasks(img, out, port1), check=True, diff=True)
    assert res.ok, res.log
    pod = res.task("pod")
    assert pod.changed and "create pod duo" in pod["actions"] and "start pod duo" in pod["actions"]
    assert pod["diff"] == {"before": {"exists": False}, "after": {"exists": True}}
    assert not os.path.exists(os.path.join(engine_env.paths["static_dir"], "state.db"))

    res = playbook(_pod_tasks(img, out, port1) + """
- name: info
  libpod.engine.pod_info: {name: [duo]}
""")
    assert res.ok, res.log
    pod = res.task("pod")
    assert pod.changed and any(a.startswith("built infra image localhost/libpod-engine-infra:") for a in pod["actions"])
    info = res.task("info")["pods"][0]
    assert info["State"] == "Running" and info["SharedNamespaces"] == ["ipc", "net", "uts"]
    assert [c["Name"] for c in info["Containers"]][1:] == ["duo-web", "duo-client"]
    assert info["Containers"][0]["Id"] == info["InfraContainerId"]
    assert all(c["State"] == "running" for c in info["Containers"])
    # the second container reaches the first on 127.0.0.1, and they share the pod's hostname
    assert _wait_file(os.path.join(out, "result")).split() == ["duo", "duo"]
    # the pod's port is served through the infra's network namespace
    assert http_get("http://127.0.0.1:%d/hostname" % port1).strip() == "duo"
    members_before = {c["Name"]: c["Id"] for c in info["Containers"][1:]}

    # the same playbook again changes nothing
    res = playbook(_pod_tasks(img, out, port1) + """
- name: container info
  libpod.engine.container_info: {name: [duo-web, duo-client]}
""")
    assert res.ok, res.log
    assert res.changed == 0, [t.get("actions") for t in res.tasks]
    declared_before = {c["Name"]: c["Declared"] for c in res.task("container info")["containers"]}

    # a new port recreates the pod; its members come back, running, with their own specs
    os.unlink(os.path.join(out, "result"))
    res = playbook(_pod_tasks(img, out, port2) + """
- name: info
  libpod.engine.pod_info: {name: [duo]}
- name: container info
  libpod.engine.container_info: {name: [duo-web, duo-client]}
""", diff=True)
    assert res.ok, res.log
    pod = res.task("pod")
    assert pod.changed and pod["actions"][0].startswith("recreated pod duo: publish changed")
    assert "duo-web, duo-client" in pod["actions"][0]
    assert pod["diff"]["after"]["publish"][0]["host_port"] == port2
    assert not res.task("web").changed and not res.task("client").changed
    info = res.task("info")["pods"][0]
    assert info["State"] == "Running" and info["Declared"]["publish"][0]["host_port"] == port2
    ctrs = {c["Name"]: c for c in res.task("container info")["containers"]}
    assert {n: c["Declared"] for n, c in ctrs.items()} == declared_before
    assert all(c["State"]["Running"] and c["Pod"] == info["Id"] for c in ctrs.values())
    assert all(ctrs[n]["Id"] != members_before[n] for n in ctrs)  # really recreated
    assert _wait_file(os.path.join(out, "result")).split() == ["duo", "duo"]
    assert http_get("http://127.0.0.1:%d/hostname" % port2).strip() == "duo"
    assert _refused("http://127.0.0.1:%d/hostname" % port1)
    pod_id, infra_id = info["Id"], info["InfraContainerId"]

    # what the infra owns is refused on members; the infra is not removed alone;
    # a pod with members is not removed without force, and nothing changes
    res = playbook("""
- name: member publish
  libpod.engine.container:
    name: duo-bad
    image: %(img)s
    pod: duo
    publish: ["18303:80"]
  ignore_errors: true
- name: infra alone
  libpod.engine.container: {name: "%(infra)s", state: absent}
  ignore_errors: true
- name: remove without force
  libpod.engine.pod: {name: duo, state: absent}
  ignore_errors: true
- name: info
  libpod.engine.pod_info: {name: [duo]}
""" % {"img": img, "infra": info["Containers"][0]["Name"]})
    assert res.ok, res.log
    bad = res.task("member publish")
    assert bad.failed and "publish" in bad.msg and "publish the ports on the pod" in bad.msg
    assert res.task("infra alone").failed and "infra container" in res.task("infra alone").msg
    refusal = res.task("remove without force")
    assert refusal.failed and "duo-web, duo-client" in refusal.msg and "force" in refusal.msg
    after = res.task("info")["pods"][0]
    assert after["State"] == "Running" and after["Id"] == pod_id and after["NumContainers"] == 3

    # with force nothing of it is left: containers, infra, netns, mounts, cgroup
    res = playbook("""
- name: remove
  libpod.engine.pod: {name: duo, state: absent, force: true, timeout: 2}
- name: again
  libpod.engine.pod: {name: duo, state: absent}
- name: pods
  libpod.engine.pod_info:
- name: containers
  libpod.engine.container_info:
""")
    assert res.ok, res.log
    assert res.task("remove").changed and "with containers duo-web, duo-client" in res.task("remove")["actions"][0]
    assert not res.task("again").changed
    assert res.task("pods")["pods"] == [] and res.task("containers")["containers"] == []
    netns_dir = os.path.join(engine_env.paths["tmp_dir"], "netns")
    assert not [n for n in os.listdir(netns_dir) if n == infra_id] if os.path.isdir(netns_dir) else True
    assert _mounts_under([os.path.join(engine_env.paths["graph_root"], "containers")]) == []
    assert glob.glob("/sys/fs/cgroup/*/libpod-engine/%s" % pod_id) == []
    assert _refused("http://127.0.0.1:%d/hostname" % port2)


def test_pod_run_states_are_honest_and_survive_a_reboot(playbook, engine_env, busybox_archive):
    img = "oci-archive:" + busybox_archive
    res = playbook("""
- name: create
  libpod.engine.pod: {name: quiet, hostname: quiet-host, cpus: 0.5, memory: 64m}
- name: member
  libpod.engine.container:
    name: quiet-sleeper
    image: %(img)s
    command: [sleep, "1000"]
    init: true
    pod: quiet
    state: present
- name: created
  libpod.engine.pod_info: {name: [quiet]}
- name: start
  libpod.engine.pod: {name: quiet, state: started, hostname: quiet-host, cpus: 0.5, memory: 64m}
- name: start again
  libpod.engine.pod: {name: quiet, state: started, hostname: quiet-host, cpus: 0.5, memory: 64m}
- name: limits in place
  libpod.engine.pod: {name: quiet, state: started, hostname: quiet-host, cpus: 1, memory: 128m}
- name: restart by name
  libpod.engine.pod: {name: quiet, state: restarted, timeout: 1}
- name: stop by name
  libpod.engine.pod: {name: quiet, state: stopped, timeout: 1}
- name: stop again
  libpod.engine.pod: {name: quiet, state: stopped}
- name: stopped
  libpod.engine.pod_info: {name: [quiet]}
- name: empty pod without infra
  libpod.engine.pod: {name: bare, infra: false, state: started}
- name: restart it
  libpod.engine.pod: {name: bare, infra: false, state: restarted}
""" % {"img": img})
    assert res.ok, res.log
    assert res.task("created")["pods"][0]["State"] == "Created"
    start = res.task("start")
    infra_name = start["pod"]["Containers"][0]["Name"]
    assert start.changed and start["actions"] == ["started pod quiet (%s, quiet-sleeper)" % infra_name]
    assert start["pod"]["State"] == "Running" and start["pod"]["Hostname"] == "quiet-host"
    assert not res.task("start again").changed
    limits = res.task("limits in place")
    assert limits.changed and limits["actions"] == ["updated pod quiet in place: cpus, memory"]
    assert limits["pod"]["InfraContainerId"] == start["pod"]["InfraContainerId"]
    cg = glob.glob("/sys/fs/cgroup/memory/libpod-engine/%s/memory.limit_in_bytes" % start["pod"]["Id"])
    if cg:  # cgroup v1 (and hybrid) hosts
        assert _read(cg[0]).strip() == str(128 * 1024 * 1024)
    restart = res.task("restart by name")
    assert restart.changed and restart["pod"]["Declared"]["cpus"] == 1.0  # acted as declared, no recreate
    assert restart["pod"]["InfraContainerId"] == start["pod"]["InfraContainerId"]
    stop = res.task("stop by name")
    assert stop.changed and stop["pod"]["State"] == "Exited"
    assert stop["actions"] == ["stopped pod quiet (quiet-sleeper, %s)" % infra_name]  # members first
    assert not res.task("stop again").changed
    assert res.task("stopped")["pods"][0]["State"] == "Exited"
    assert res.task("empty pod without infra").changed  # created
    assert res.task("empty pod without infra")["pod"]["InfraContainerId"] == ""
    assert not res.task("restart it").changed  # nothing to restart: no change claimed

    # a reboot empties the tmpfs tmp dir: the next task refreshes, and the pod starts again
    tmp_dir = engine_env.paths["tmp_dir"]
    for point in _mounts_under([tmp_dir]):
        subprocess.run(["umount", "-l", point], check=False)
    shutil.rmtree(tmp_dir)
    res = playbook("""
- name: after reboot
  libpod.engine.pod_info: {name: [quiet]}
- name: start the member alone
  libpod.engine.container: {name: quiet-sleeper, state: started}
- name: started
  libpod.engine.pod_info: {name: [quiet]}
- name: start
  libpod.engine.pod: {name: quiet, state: started}
""")
    assert res.ok, res.log
    assert res.task("after reboot")["pods"][0]["State"] == "Exited"
    assert res.task("start the member alone").changed
    # starting a member started the infra first (its namespaces are joined)
    assert res.task("started")["pods"][0]["State"] == "Running"
    assert not res.task("start").changed
    if cg:
        assert _read(cg[0]).strip() == str(128 * 1024 * 1024)


def test_kube_manifest_runs_and_round_trips(playbook, engine_env, busybox_archive):
    port = free_port()
    manifest = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "kube1", "labels": {"app": "demo"}},
        "spec": {
            "containers": [
                {"name": "writer", "image": "localhost/busybox:latest",
                 "command": ["sh", "-c"], "args": ["echo $GREETING > /data/msg; exec sleep 1000"],
                 "env": [{"name": "GREETING", "value": "hello-from-writer"}],
                 "volumeMounts": [{"name": "shared", "mountPath": "/data"}],
                 "livenessProbe": {"exec": {"command": ["true"]}}},
                {"name": "server", "image": "localhost/busybox:latest",
                 "command": ["httpd", "-f", "-p", "8080", "-h", "/srv"],
                 "ports": [{"containerPort": 8080, "hostPort": port, "hostIP": "127.0.0.1"}],
                 "volumeMounts": [{"name": "shared", "mountPath": "/srv", "readOnly": True}]},
            ],
            "volumes": [{"name": "shared", "emptyDir": {}}],
            "terminationGracePeriodSeconds": 1,
        },
    }
    res = playbook("""
- name: import the image
  libpod.engine.container: {name: importer, image: "oci-archive:%s", state: present}
- name: drop the importer
  libpod.engine.container: {name: importer, state: absent}
- name: play
  libpod.engine.pod:
    state: started
    definition: "{{ manifest }}"
- name: generate
  libpod.engine.pod_info: {name: [kube1], kube: true}
""" % busybox_archive, extra_vars={"manifest": manifest})
    assert res.ok, res.log
    play = res.task("play")
    assert play.changed
    assert "created volume kube1-shared (emptyDir)" in play["actions"]
    assert "created kube1-writer" in play["actions"] and "created kube1-server" in play["actions"]
    warnings = " ".join(play.get("warnings") or [])
    assert "spec.containers[0].livenessProbe" in warnings
    assert play["pod"]["State"] == "Running" and play["pod"]["Labels"] == {"app": "demo"}
    # both containers see the emptyDir; the server publishes it through the pod's port
    assert http_get("http://127.0.0.1:%d/msg" % port).strip() == "hello-from-writer"
    text = res.task("generate")["kube"]
    doc = yaml.safe_load(text)
    assert doc["metadata"] == {"name": "kube1", "labels": {"app": "demo"}}
    assert [c["name"] for c in doc["spec"]["containers"]] == ["writer", "server"]
    assert doc["spec"]["volumes"] == [{"name": "shared", "emptyDir": {}}]
    # the pod's ports (held by its infra) are written on the first container, as podman does
    want = [{"containerPort": 8080, "hostPort": port, "hostIP": "127.0.0.1", "protocol": "TCP"}]
    assert doc["spec"]["containers"][0]["ports"] == want

    # the generated YAML, and the original manifest, declare the same pod: no change
    res = playbook("""
- name: replay generated
  libpod.engine.pod:
    state: started
    definition: "{{ generated }}"
- name: replay original
  libpod.engine.pod:
    state: started
    definition: "{{ manifest }}"
- name: remove
  libpod.engine.pod: {name: kube1, state: absent, force: true, timeout: 1}
- name: volumes left
  ansible.builtin.stat: {path: "{{ volume_path }}/kube1-shared"}
  register: left
""", extra_vars={"generated": text, "manifest": manifest, "volume_path": engine_env.paths["volume_path"]})
    assert res.ok, res.log
    assert not res.task("replay generated").changed, res.task("replay generated")["actions"]
    assert not res.task("replay original").changed, res.task("replay original")["actions"]
    assert res.task("remove").changed
    assert not res.task("volumes left")["stat"]["exists"]  # the emptyDir went with the pod


def test_containers_conf_infra_image_and_command_apply_to_pods(playbook, busybox_archive):
    # issue 14 item 11: [engine] infra_image / infra_command were accepted and ignored
    img = "oci-archive:" + busybox_archive
    opts = {"engine": {"infra_image": img, "infra_command": "sleep 1001"}}
    res = playbook([
        {"name": "pod", "libpod.engine.pod": {"name": "confinfra", "state": "started", "network": "none",
                                              "engine_options": opts}},
        {"name": "again", "libpod.engine.pod": {"name": "confinfra", "state": "started", "network": "none",
                                                "engine_options": opts}},
        {"name": "own", "libpod.engine.pod": {"name": "owninfra", "state": "started", "network": "none",
                                              "infra_command": ["sleep", "1002"], "engine_options": opts}},
    ])
    assert res.ok, res.log
    infra = res.task("pod")["pod"]["InfraConfig"]
    assert infra["InfraImage"] == img and infra["InfraCommand"] == ["sleep", "1001"], infra
    assert not res.task("again").changed, res.task("again")["actions"]
    assert res.task("own")["pod"]["InfraConfig"]["InfraCommand"] == ["sleep", "1002"]
    assert argv(_infra_pid(playbook, "confinfra"))[:2] == ["sleep", "1001"]


def _infra_pid(playbook, pod: str) -> int:
    res = playbook("- libpod.engine.pod_info: {name: [%s]}\n" % pod)
    infra_id = res.tasks[0]["pods"][0]["InfraContainerId"]
    res = playbook("- libpod.engine.container_info: {name: [%s]}\n" % infra_id)
    return res.tasks[0]["containers"][0]["State"]["Pid"]
