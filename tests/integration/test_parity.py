# SPDX-License-Identifier: GPL-3.0-or-later
"""containers.podman parity: what podman users expect of stop, inspect and comparisons (issues 23, 14)."""
from __future__ import annotations

import os

import pytest

from ansible_collections.libpod.engine.tests.helpers.images import busybox_image, write_oci_archive

IMAGE_NAME = "docker.io/library/alpine:latest"


@pytest.fixture(scope="module")
def alpine_like(tmp_path_factory):
    """A busybox image stored as docker.io/library/alpine:latest, with a config that sets what podman
    merges into inspect (Env, Labels, WorkingDir, User) and STOPSIGNAL SIGUSR1."""
    work = str(tmp_path_factory.mktemp("alpine-like"))
    img = busybox_image(work, config={
        "Cmd": ["sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "IMG=1"], "WorkingDir": "/tmp",
        "User": "0:0", "Labels": {"org.example.from": "image"}, "StopSignal": "SIGUSR1"})
    return write_oci_archive(work + "/alpine.tar", [(img, IMAGE_NAME)])


def _load(archive: str) -> str:
    """A task that imports the archive (through a container that is removed again)."""
    return """
- libpod.engine.container:
    name: loader
    image: "oci-archive:%s"
    network: none
    state: created
- libpod.engine.container: {name: loader, state: absent}
""" % archive


def test_stop_uses_the_images_stopsignal(playbook, alpine_like):
    """Issue 23.1: a stop sends the image's STOPSIGNAL (here SIGUSR1, trapped: exit 3), not SIGTERM
    (ignored by a shell as PID 1, so the stop would end in SIGKILL: 137)."""
    res = playbook(_load(alpine_like) + """
- libpod.engine.container:
    name: sig
    image: %s
    pull: never
    network: none
    stop_timeout: 3
    command: [sh, -c, "trap 'exit 3' USR1; while :; do sleep 1; done"]
- libpod.engine.container: {name: sig, state: stopped}
- libpod.engine.container_info: {name: [sig]}
  register: info
- libpod.engine.container: {name: sig, state: absent}
""" % IMAGE_NAME)
    assert res.ok, res.log
    ctr = res.tasks[4]["containers"][0]
    assert ctr["State"]["ExitCode"] == 3, ctr["State"]
    assert ctr["Config"]["StopSignal"] == 10  # SIGUSR1, the image's


def test_inspect_shows_effective_values_and_podman_keys(playbook, alpine_like, engine_env):
    """Issue 23.2 and 14.14: Env, Labels, WorkingDir, User merged from the image as podman inspect
    shows them; Config.Image is the image name; a named volume's Source is its host path."""
    res = playbook(_load(alpine_like) + """
- libpod.engine.container:
    name: eff
    image: "oci-archive:%s"
    network: none
    env: {OWN: x}
    label: {own: y}
    volume: ["data:/data"]
    command: [sleep, "1000"]
- libpod.engine.container_info: {name: [eff]}
  register: info
- ansible.builtin.stat: {path: "{{ info.containers[0].ResolvConfPath }}"}
- ansible.builtin.stat: {path: "{{ info.containers[0].HostsPath }}"}
- libpod.engine.container: {name: eff, state: absent}
""" % alpine_like)
    assert res.ok, res.log
    ctr = res.tasks[3]["containers"][0]
    cfg, host = ctr["Config"], ctr["HostConfig"]
    assert "IMG=1" in cfg["Env"] and "OWN=x" in cfg["Env"], cfg["Env"]
    assert "PATH=/usr/sbin:/usr/bin:/sbin:/bin" in cfg["Env"], cfg["Env"]
    assert cfg["Labels"] == {"org.example.from": "image", "own": "y"}
    assert cfg["WorkingDir"] == "/tmp" and cfg["User"] == "0:0"
    assert cfg["Image"] == IMAGE_NAME and ctr["ImageName"] == IMAGE_NAME
    assert ctr["ImageDigest"].startswith("sha256:")
    (mount,) = ctr["Mounts"]
    assert mount["Name"] == "data" and mount["Type"] == "volume"
    assert mount["Source"] == os.path.join(engine_env.paths["volume_path"], "data", "_data"), mount
    assert mount["Mode"] == "" and mount["Propagation"] == "rprivate" and mount["RW"] is True
    state = ctr["State"]
    assert state["Error"] == "" and state["Restarting"] is False and state["Running"] is True
    assert host["LogConfig"]["Type"] == "k8s-file" and host["LogConfig"]["Path"] == ctr["LogPath"]
    assert isinstance(host["ShmSize"], int) and host["ShmSize"] > 0
    assert host["SecurityOpt"] == []
    assert ctr["ResolvConfPath"].endswith("/resolv.conf") and ctr["HostsPath"].endswith("/hosts")
    assert res.tasks[4]["stat"]["isreg"] and res.tasks[5]["stat"]["isreg"]
    net = ctr["NetworkSettings"]
    assert net["IPPrefixLen"] == 0 and net["Bridge"] == ""


def test_image_references_are_compared_normalised(playbook, alpine_like):
    """Issue 23.3: docker.io/alpine, alpine:latest and docker.io/library/alpine name one image."""
    task = """
- libpod.engine.container:
    name: ref
    image: %s
    pull: never
    network: none
    state: created
"""
    res = playbook(_load(alpine_like) + task % "docker.io/alpine" + task % "alpine:latest"
                   + task % "docker.io/library/alpine" + task % "alpine")
    assert res.ok, res.log
    assert res.tasks[2].changed
    assert [t.changed for t in res.tasks[3:]] == [False, False, False], [t["actions"] for t in res.tasks[3:]]


def test_labels_equal_to_the_images_are_no_change(playbook, alpine_like):
    """Issue 23.4: the effective labels are image ∪ declared; declaring the image's own label, or
    dropping it again, changes nothing; another value recreates."""
    task = """
- libpod.engine.container:
    name: lab
    image: %s
    pull: never
    network: none
    state: created
    label: %s
"""
    res = playbook(_load(alpine_like) + task % (IMAGE_NAME, "{}")
                   + task % (IMAGE_NAME, "{org.example.from: image}")
                   + task % (IMAGE_NAME, "{}")
                   + task % (IMAGE_NAME, "{org.example.from: task}"))
    assert res.ok, res.log
    assert res.tasks[2].changed
    assert not res.tasks[3].changed, res.tasks[3]["actions"]
    assert not res.tasks[4].changed, res.tasks[4]["actions"]
    assert res.tasks[5].changed and res.tasks[5]["container"]["Config"]["Labels"] == {"org.example.from": "task"}


def test_yaml_boolean_env_values_are_refused(playbook, alpine_like):
    """Issue 23.8: env: {FLAG: false} is ambiguous (false / False / 0): refused with a hint to quote."""
    res = playbook("""
- libpod.engine.container:
    name: flag
    image: "oci-archive:%s"
    network: none
    state: created
    env: {FLAG: false}
  ignore_errors: true
""" % alpine_like)
    t = res.tasks[0]
    assert t.failed and "env FLAG" in t.msg and "YAML boolean" in t.msg and "quote" in t.msg, t.msg


def test_ipv6_publish_on_an_ipv4_network_is_refused_naming_the_network(playbook, alpine_like):
    """Issue 23.7: [::]:8080:80 parses (no syntax error); on an IPv4-only network there is no IPv6
    address to DNAT to, so the start refuses it naming the network, and the new container is not
    kept (dual-stack networks serve it, and [::1] is served by a userspace proxy:
    test_networks_ipv6.py)."""
    res = playbook("""
- libpod.engine.container:
    name: six
    image: "oci-archive:%s"
    command: [sleep, "1000"]
    publish: ["[::]:18080:80"]
  ignore_errors: true
- libpod.engine.container_info: {name: [six]}
""" % alpine_like)
    t = res.tasks[0]
    want = "publish [::]:18080:80/tcp: an IPv6 host address needs an IPv6 address in the container, and network "
    assert t.failed and want in t.msg and "has no IPv6 subnet" in t.msg, t.msg
    assert "was not kept" in t.msg
    assert res.tasks[1]["containers"] == [] or res.tasks[1].get("missing") == ["six"], res.tasks[1].result


def test_pod_new_name_creates_the_pod_with_the_container(playbook, alpine_like):
    """Issue 23.6: pod: new:NAME (a common containers.podman idiom) creates the pod when missing,
    is the same declaration as pod: NAME afterwards, and check mode predicts both creations."""
    task = """
- libpod.engine.container:
    name: member
    image: "oci-archive:%s"
    command: [sleep, "1000"]
    pod: %s
"""
    res = playbook(task % (alpine_like, "new:np"), check=True)
    assert res.ok, res.log
    acts = res.tasks[0]["actions"]
    assert acts.index("create pod np") < acts.index("create member"), acts
    res = playbook(task % (alpine_like, "new:np") + task % (alpine_like, "new:np") + task % (alpine_like, "np")
                   + """
- libpod.engine.pod_info: {name: [np]}
- libpod.engine.pod: {name: np, state: absent, force: true}
""")
    assert res.ok, res.log
    first = res.tasks[0]
    assert first.changed and "created pod np" in first["actions"], first["actions"]
    assert first["container"]["State"]["Running"] and first["container"]["Pod"]
    assert [t.changed for t in res.tasks[1:3]] == [False, False], [t["actions"] for t in res.tasks[1:3]]
    pod = res.tasks[3]["pods"][0]
    assert pod["Id"] == first["container"]["Pod"] and pod["State"] == "Running"
    assert "member" in [c["Name"] for c in pod["Containers"]]


def test_one_omission_rule_for_containers_and_pods(playbook, alpine_like):
    """Issue 23.5: a task that declares nothing (name, state, action flags) acts by name; one that
    declares anything declares the whole object, omitted = default, for pods as for containers. A
    container declared without its image is refused instead of silently keeping its old options."""
    res = playbook("""
- libpod.engine.container:
    name: keep
    image: "oci-archive:%s"
    command: [sleep, "1000"]
    network: none
    env: {A: "1"}
- libpod.engine.container: {name: keep, state: started}
- libpod.engine.container: {name: keep, state: started, env: {B: "2"}}
  ignore_errors: true
- libpod.engine.pod: {name: ppod, publish: ["127.0.0.1::80"], label: {a: "1"}}
- libpod.engine.pod: {name: ppod, state: created}
- libpod.engine.pod: {name: ppod, label: {a: "1"}}
- libpod.engine.pod: {name: ppod, state: absent}
- libpod.engine.container: {name: keep, state: absent}
""" % alpine_like)
    assert not res.tasks[1].changed, res.tasks[1]["actions"]
    bad = res.tasks[2]
    assert bad.failed and "declared without an image but with env" in bad.msg and "add image:" in bad.msg, bad.msg
    assert res.tasks[3].changed
    assert not res.tasks[4].changed, res.tasks[4]["actions"]  # by name: as declared
    dropped = res.tasks[5]
    assert dropped.changed and "publish changed" in dropped["actions"][0], dropped["actions"]
    assert dropped["pod"]["Declared"]["publish"] == []


def test_stopped_creates_a_missing_pod_and_info_modules_report_missing_alike(playbook):
    """Issue 23.6: state: stopped on a missing pod creates it and leaves it stopped (documented, as
    for containers); the three info modules report an unknown name in `missing`, without failing."""
    res = playbook("""
- libpod.engine.pod: {name: sp, state: stopped}
- libpod.engine.pod: {name: sp, state: stopped}
- libpod.engine.container_info: {name: [nope]}
- libpod.engine.pod_info: {name: [nope]}
- libpod.engine.volume_info: {name: [nope]}
- libpod.engine.pod: {name: sp, state: absent}
""")
    assert res.ok, res.log
    made = res.tasks[0]
    assert made.changed and made["actions"][-1] == "created pod sp" and made["pod"]["State"] != "Running"
    assert not res.tasks[1].changed
    for t, key in zip(res.tasks[2:5], ("containers", "pods", "volumes")):
        assert not t.failed and not t.changed and t[key] == [] and t["missing"] == ["nope"], t.result
