# SPDX-License-Identifier: GPL-3.0-or-later
"""The idempotency scenarios of the peer collection (containers.podman, integration target
podman_container_idempotency), written again for libpod.engine: each scenario applies a sequence of
parameter sets to one container and expects, step by step, what the peer expects (changed after a
parameter change, unchanged when the same set is applied again). The images stand in for the peer's
locally: ``IDEM`` is its test image (Dockerfile: labels, Env, WorkingDir /work, users, EXPOSE,
VOLUME, USER, STOPSIGNAL KILL, ENTRYPOINT /start, CMD 1d), ``PLAIN`` its alpine.

Scenarios or steps left out (and why):
- idem_systemd: unit-file generation (``generate_systemd``) is accepted and ignored with a warning here
  (the engine has its own boot integration); the peer's steps that delete or edit the generated file and
  expect a change have nothing to act on. Its first two steps are kept.
- idem_newparams: ``hosts_file`` and ``no_hostname`` are kept; ``health_log_destination``,
  ``health_max_log_count``, ``health_max_log_size`` (podman 5.3 healthcheck log settings) do not exist here;
  the log_opt tag step is kept without journald.
- rootless-podman-network and root-podman-network: they create podman networks with the podman CLI and
  check ``podman inspect`` output; the network-change and alias steps are kept (idem_networks,
  idem_network_aliases) on networks made with libpod.engine.network.
- ``log_driver: journald`` (idem_all, idem_newparams): no journald on this VM; the steps keep their log_opt
  changes on the default k8s-file driver.
- The peer's containers run (``state: started``/``present``); here they are created only: the comparison is
  the same, and the test does not wait on stops.
- Declaring the image's own value (``workdir``, ``user``, ``stop_signal``) or a default value is a change
  here (the declared spec is compared), as the peer expects; only labels compare effective values.
- Deliberate differences (DIFFERENT below: the engine reports no change where the peer reports one):
  * ``tls_verify`` (idem_bool_list_dict): a pull option, not a container property: changing it does not
    recreate the container.
  * equal values spelled differently: ``10001:8080`` then ``10001:8080/tcp``; ``/dev/fuse`` then
    ``/dev/fuse:/dev/fuse`` (and back); ``publish_all: false`` declared where it was omitted (the default).
  * the peer's volume step with ``:U`` also reads ``Config.CreateCommand`` (a podman CLI record): only its
    changed/unchanged expectations are kept.
"""
from __future__ import annotations

import os

import pytest

from ansible_collections.libpod.engine.tests.helpers.images import (
    E,
    build_image,
    busybox_layer,
    tar_from_entries,
    write_oci_archive,
)

START = b"#!/bin/sh\nexec sleep 100000\n"
PASSWD = (b"root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n"
          b"user2:x:1001:1001::/home/user2:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
GROUP = b"root:x:0:\nuser:x:1000:\nuser2:x:1001:\nnogroup:x:65534:\n"


@pytest.fixture(scope="module")
def peer_images(tmp_path_factory):
    """The peer's test image and its alpine, built locally (no registry)."""
    work = str(tmp_path_factory.mktemp("peer-images"))
    base = busybox_layer(work)
    extra = tar_from_entries([E("start", data=START, mode=0o755), E("work", "dir"), E("data", "dir"),
                              E("data2", "dir"), E("etc", "dir"), E("etc/passwd", data=PASSWD),
                              E("etc/group", data=GROUP), E("home", "dir"), E("home/user", "dir", uid=1000),
                              E("home/user2", "dir", uid=1001)])
    idem = build_image([base, extra], config={
        "Entrypoint": ["/start"], "Cmd": ["1d"], "WorkingDir": "/work", "User": "user", "StopSignal": "KILL",
        "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "password=root", "username=root"],
        "Labels": {"key": "amazing value", "nobody": "cares"},
        "ExposedPorts": {"80/tcp": {}, "8080/tcp": {}}, "Volumes": {"/data": {}, "/data2": {}}})
    plain = build_image([base], config={"Cmd": ["sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                                        "WorkingDir": "/"})
    out = {}
    for key, img, ref in (("idem", idem, "localhost/idem:latest"), ("plain", plain, "localhost/alpine:latest")):
        out[key] = "oci-archive:" + write_oci_archive(os.path.join(work, key + ".tar"), [(img, ref)])
    return out


CHANGED, SAME, ANY = True, False, None
DIFFERENT = "different"  # a deliberate difference (see the module docstring): the engine reports no change


def _seq(image, name, steps, first=None):
    """A scenario: remove, create once, then the steps (state present) with expectations. The peer's
    containers run; here they are only created (the comparison is the same, and nothing waits on stops).
    Several peer scenarios are chained on one container (each one starts from the bare parameter set the
    previous one ends with), and transitions the peer repeats are kept once, to keep the test short."""
    base = {"name": name, "image": "{{ %s }}" % image, "command": "1h" if image == "idem" else "sleep 1h"}
    out = [({"name": name, "state": "absent"}, ANY), (dict(dict(base, state="created"), **(first or {})), ANY)]
    for params, expect in steps:
        out.append((dict(dict(base, state="present"), **params), expect))
    return out


PORTS = ["4444:4444/tcp", "1212:5555", "8888:19191/udp", "19000:19000/udp", "127.0.0.1:7671:7676/udp",
         "127.0.0.1:12122:8876/udp", "127.0.0.1:13122:8871/tcp", "127.0.0.1:43423:8872", "127.0.0.2:43423:8872/tcp",
         "127.0.0.3:43423:8872", "0.0.0.0:15674:7846", "127.0.0.1:20000-20010:20000-20010/udp", "40001-40010"]
PORTS6 = ["4444:4444/tcp", "1212:5555", "8888:19191/udp", "127.0.0.1:7671:7676/udp", "127.0.0.3:43423:8872",
          "[::1]:34523:35425", "40001-40010"]
LOGS = {"max_size": "10m", "tag": "test", "path": "{{ logdir }}/c.log"}
IMG_LABELS = {"key": "amazing value", "nobody": "cares"}
MANY = {"haha": "kukuku", "LLALA": "WIWIWIW", "OEIWIOP": "eufslsa", "ieui4": "KDJSL4D"}
ULIMITS = ["nofile=5535:5535", "memlock=-1:-1"]
ULIMITS2 = ["nofile=5535:6535", "memlock=-1:-1"]
MNT1 = ["type=bind,source=/tmp,destination=/tmp"]
MNT2 = MNT1 + ["type=bind,source=/var,destination=/var"]
V1 = ["/opt:/anotherdir", "local_volume1:/data"]
TMPFS = {"/var/cache": "rw,size=512M"}
ENV = {"mykey": "amazing value", "ENV1": "one=two=three"}


def _idem_chain():
    """idem_users, idem_workdir, idem_labels, idem_stopsignal, idem_ports, idem_volumes, idem_all (first
    half), idem_bool_list_dict, root-podman: on the peer's test image."""
    return [
        ({}, SAME),
        # users
        ({"user": "user"}, CHANGED), ({}, CHANGED), ({"user": "user2"}, CHANGED), ({"user": "user2"}, SAME),
        ({}, CHANGED), ({"user": "user2"}, CHANGED), ({"user": "user"}, CHANGED), ({}, CHANGED),
        # workdir
        ({"workdir": "/work"}, CHANGED), ({"workdir": "/work"}, SAME), ({"workdir": "/var"}, CHANGED),
        ({"workdir": "/var"}, SAME), ({}, CHANGED), ({"workdir": "/"}, CHANGED), ({}, CHANGED),
        # labels: the image's labels declared are no change (the peer compares effective labels too)
        ({"label": IMG_LABELS}, SAME), ({}, SAME), ({"label": MANY}, CHANGED), ({"label": MANY}, SAME),
        ({}, CHANGED), ({"label": {"test": "notest"}}, CHANGED), ({"label": IMG_LABELS}, CHANGED), ({}, SAME),
        # stop signal
        ({"stop_signal": 9}, CHANGED), ({"stop_signal": 9}, SAME), ({}, CHANGED), ({"stop_signal": 10}, CHANGED),
        ({"stop_signal": 10}, SAME), ({}, CHANGED), ({"stop_signal": 15}, CHANGED), ({"stop_signal": 9}, CHANGED),
        ({}, CHANGED),
        # ports
        ({"ports": PORTS}, CHANGED), ({"ports": PORTS}, SAME), ({"publish_all": True}, CHANGED),
        ({"publish_all": True}, SAME), ({}, CHANGED), ({"ports": ["10000:8080"]}, CHANGED),
        ({"ports": ["10001:8080"]}, CHANGED), ({"ports": ["10001:8080/tcp"]}, DIFFERENT),
        ({"ports": ["10001:8080/tcp"], "publish_all": False}, DIFFERENT), ({}, CHANGED),
        # volumes
        ({"volumes": ["/opt:/somedir/"]}, CHANGED), ({"volumes": ["/opt/://somedir/"]}, SAME), ({}, CHANGED),
        ({"volumes": ["/opt:/somedir", "/data"]}, CHANGED), ({"volumes": ["/data"]}, CHANGED), ({}, CHANGED),
        ({"volumes": V1}, CHANGED), ({"volumes": ["/opt//:/anotherdir", "local_volume1:/data/"]}, SAME),
        ({"volumes": ["/opt:/anotherdir", "local_volume2:/data"]}, CHANGED),
        ({"volumes": ["/opt:/anotherdir"]}, CHANGED), ({}, CHANGED),
        # idem_all: empty list and dict are the defaults; env; log options; devices; hosts; restart policy
        ({"env": {}, "publish": []}, SAME), ({}, SAME), ({"env": ENV}, CHANGED), ({"env": ENV}, SAME),
        ({"env": dict(ENV, mykey="amazing value1")}, CHANGED),
        ({"log_opt": {"tag": "nonotag"}}, CHANGED), ({"log_opt": {"tag": "nonotag"}}, SAME), ({}, CHANGED),
        ({"log_opt": {"path": "{{ logdir }}/container.log"}}, CHANGED),
        ({"log_opt": {"path": "{{ logdir }}/container2.log"}}, CHANGED), ({}, CHANGED),
        ({"device": ["/dev/fuse"]}, CHANGED), ({"device": ["/dev/fuse"]}, SAME),
        ({"device": ["/dev/fuse:/dev/fuse"]}, DIFFERENT), ({}, CHANGED),
        ({"etc_hosts": {"host1": "127.0.0.1", "host2": "fd00::1"}}, CHANGED),
        ({"etc_hosts": {"host1": "127.0.0.1", "host2": "fd00::1"}}, SAME), ({}, CHANGED),
        ({"restart_policy": "always"}, CHANGED), ({"restart_policy": "always"}, SAME),
        ({"restart_policy": "on-failure"}, CHANGED), ({}, CHANGED),
        ({"tmpfs": TMPFS}, CHANGED), ({"tmpfs": TMPFS}, SAME), ({"tmpfs": {"/var/cache": "rw,size=256M"}}, CHANGED),
        ({}, CHANGED), ({"systemd": False}, CHANGED), ({"systemd": False}, SAME), ({"systemd": "always"}, CHANGED),
        ({}, CHANGED),
        # idem_bool_list_dict
        ({"tls_verify": False}, DIFFERENT), ({"tls_verify": True}, DIFFERENT), ({}, SAME),
        ({"unsetenv": ["HOME", "TERM", "USER"]}, CHANGED), ({"unsetenv": ["HOME", "TERM", "USER"]}, SAME),
        ({"unsetenv": ["HOME"]}, CHANGED), ({}, CHANGED), ({"unsetenv": ["USER"]}, CHANGED), ({}, CHANGED),
        ({"no_healthcheck": False}, SAME), ({"no_healthcheck": True}, CHANGED), ({"no_healthcheck": True}, SAME),
        ({"no_healthcheck": False}, CHANGED), ({}, SAME), ({"no_healthcheck": True}, CHANGED), ({}, CHANGED),
        ({"log_opt": LOGS}, CHANGED), ({"log_opt": LOGS}, SAME), ({"log_opt": {"max_size": "10m"}}, CHANGED),
        ({}, CHANGED), ({"log_opt": {"tag": "test"}}, CHANGED), ({}, CHANGED),
        # idem_newparams (podman 5.3+/5.4+ there): hosts_file, no_hostname
        ({"hosts_file": "none"}, CHANGED), ({"hosts_file": "none"}, SAME), ({"hosts_file": "image"}, CHANGED),
        ({}, CHANGED), ({"no_hostname": True}, CHANGED), ({"no_hostname": True}, SAME), ({}, CHANGED),
        # root-podman
        ({"ulimit": ULIMITS}, CHANGED), ({"ulimit": ULIMITS}, SAME), ({"ulimit": ULIMITS2}, CHANGED),
        ({"ulimit": ULIMITS2}, SAME), ({}, CHANGED), ({"mac_address": "44:55:66:77:88:99"}, CHANGED),
        ({"mac_address": "44:55:66:77:88:99"}, SAME), ({"mac_address": "44:55:66:77:88:33"}, CHANGED),
        ({}, CHANGED), ({"ports": PORTS6}, CHANGED), ({"ports": PORTS6}, SAME), ({}, CHANGED),
    ]


def _plain_chain():
    """The same scenarios' steps on the peer's alpine (an image that sets no user, workdir, labels...)."""
    return [
        ({}, SAME), ({"user": "nobody"}, CHANGED), ({}, CHANGED),
        ({"workdir": "/"}, CHANGED), ({"workdir": "/var"}, CHANGED), ({}, CHANGED),
        ({"label": {"razraz": "dva"}}, CHANGED), ({}, CHANGED),
        ({"stop_signal": 15}, CHANGED), ({"stop_signal": 10}, CHANGED), ({}, CHANGED),
        ({"publish_all": False}, DIFFERENT), ({"publish_all": True}, CHANGED), ({"ports": ["10000:8080"]}, CHANGED),
        ({}, CHANGED), ({"volumes": ["/opt:/data"]}, CHANGED), ({}, CHANGED), ({"mounts": MNT1}, CHANGED),
        ({"mounts": MNT1}, SAME), ({"mounts": MNT2, "volumes": ["/opt:/data", "local_volume2:/data2"]}, CHANGED),
        ({"mounts": MNT2, "volumes": ["/opt:/data", "local_volume2:/data2"]}, SAME),
        ({"mounts": MNT1, "volumes": ["/opt:/data"]}, CHANGED), ({"mounts": MNT1, "volumes": ["/opt:/data"]}, SAME),
        ({}, CHANGED), ({}, SAME),
    ]


def _scenarios():
    sc = {"setup": [({"name": "local_volume1"}, "volume"), ({"name": "local_volume2"}, "volume"),
                    ({"name": "peernet1"}, "network"), ({"name": "peernet2"}, "network"),
                    ({"name": "testpod", "publish": ["11111:11111"]}, "pod")]}
    sc["idem"] = _seq("idem", "idempotency", _idem_chain())
    sc["plain"] = _seq("plain", "idempotency1", _plain_chain())
    # idem_all: pid namespace of another container (by name, then by ID); a complex command
    other = {"name": "idempotency2", "image": "{{ idem }}", "state": "present"}
    cplx = {"name": "idempotency2", "image": "{{ plain }}", "interactive": True, "tty": True, "device": ["/dev/fuse"],
            "command": ["sh", "-c", "read", "-p", "8012"]}
    sc["other"] = [({"name": ["idempotency"]}, "info"),
                   (dict(other, pid="container:idempotency"), CHANGED),
                   (dict(other, pid="container:idempotency"), SAME),
                   (dict(other, pid="container:{{ info.containers[0].Id }}"), CHANGED),
                   (cplx, CHANGED), (cplx, SAME), (dict(cplx, command=["sh", "-c", "read", "-p", "8015"]), CHANGED)]
    vol = {"name": "test24", "image": "{{ plain }}", "state": "present", "command": "sleep 1h"}
    sc["other"] += [(dict(vol, volumes=["{{ logdir }}/data:/data:z"]), CHANGED),
                    (dict(vol, volumes=["{{ logdir }}/data:/data:U"]), CHANGED),
                    (dict(vol, volumes=["{{ logdir }}/data:/data:U"]), SAME)]
    in_pod = {"pod": "testpod", "label": {"key": "value"}, "env": {"test": "test2"}, "volumes": ["/tmp:/data"]}
    sc["pods"] = _seq("idem", "testpod_container1", [(in_pod, SAME), ({"pod": "testpod"}, CHANGED),
                                                     ({"pod": "testpod"}, SAME)], first=in_pod)
    gen = {"path": "{{ logdir }}", "restart_policy": "always", "no_header": True, "names": True}
    sc["systemd"] = [(dict(other, name="idempotency3", command="1h", generate_systemd=gen), CHANGED),
                     (dict(other, name="idempotency3", command="1h", generate_systemd=gen), SAME)]
    net = dict(other, name="netcontainer", command="1h")
    sc["networks"] = [(dict(net, network="peernet1"), CHANGED), (dict(net, network="peernet1"), SAME),
                      (dict(net, network="peernet2"), CHANGED),
                      (dict(net, network="peernet2", network_aliases=["nc-a", "nc-b"]), CHANGED),
                      (dict(net, network="peernet2", network_aliases=["nc-a", "nc-b"]), SAME),
                      (dict(net, network="peernet2", network_aliases=["nc-a", "nc-b", "nc-c"]), CHANGED)]
    return sc


MODULES = {"volume": "libpod.engine.volume", "pod": "libpod.engine.pod", "network": "libpod.engine.network",
           "info": "libpod.engine.container_info"}


def test_peer_idempotency_scenarios(playbook, peer_images, tmp_path):
    """Every step of every scenario runs (a failure does not stop the play); then each step's
    ``changed`` is compared with the peer's expectation and all differences are reported at once."""
    tasks, expected = [], {}
    for scen, steps in _scenarios().items():
        for i, (params, expect) in enumerate(steps):
            name = "%s %02d" % (scen, i)
            module = MODULES.get(expect, "libpod.engine.container")
            task = {"name": name, module: params, "register": expect if expect == "info" else "r",
                    "ignore_errors": True}
            tasks.append(task)
            expected[name] = (expect, params)
    (tmp_path / "data").mkdir()
    play_vars = {"logdir": str(tmp_path)}
    res = playbook(tasks, extra_vars=dict(peer_images, **play_vars),
                   module_defaults={"libpod.engine.container": {"timeout": 0}}, timeout=900)
    by = {t.name: t for t in res.tasks}
    problems = []
    for name, (expect, params) in expected.items():
        t = by.get(name)
        name = "%s %s" % (name, {k: v for k, v in params.items() if k not in ("name", "image", "command", "state")})
        if t is None:
            problems.append("%s: did not run" % name)
        elif t.failed:
            problems.append("%s: failed: %s" % (name, t.msg))
        elif expect in (CHANGED, SAME, DIFFERENT) and t.changed != (expect is CHANGED):
            problems.append("%s: changed=%s, expected %s: %s" % (name, t.changed, expect, t.get("actions")))
    assert not problems, "\n".join(problems)
