# SPDX-License-Identifier: GPL-3.0-or-later
"""The scenarios of the peer collection's (containers.podman) integration targets ``podman_container``,
``podman_container_info``, ``podman_pod``, ``podman_pod_check_mode``, ``podman_pod_info``, ``podman_volume``
and ``podman_volume_info``, written again for libpod.engine (issue 23): each step runs the peer's parameters
and is checked against the peer's expectation (changed, not changed, failed, and the returned keys its
asserts read). The idempotency targets are in test_peer_scenarios.py and test_pod_options.py.

Translation: ``alpine:3.7`` and ``alpine`` are local busybox images stored as
``docker.io/library/alpine:3.7`` / ``:latest``; the peer's first pull of ``alpine:3.7`` is the import of
an ``oci-archive:`` (no registry here); its "started container" / "pulled image" action strings are
matched as prefixes (``actions`` here also says why); containers whose assertions need no process are
created, not started; every stop is immediate (``timeout: 0``).

podman_pod (tasks/main.yml; its idempotency.yml and resource-limit.yml are in test_pod_options.py) runs
on a pod named ``pmpod``; the peer's steps that repeat a transition already taken are kept once (the DNS
options are removed in one step rather than one by one).

Left out, not applicable here (no podman CLI, no systemd units):
- ``podman_actions`` / ``podman_systemd`` / ``podman_quadlet`` returns, ``state: quadlet`` and the
  ``quadlet_*`` files (container and volume), the unit files of ``generate_systemd`` (accepted and ignored
  with a warning: checked), ``GlobalArgs=--log-level debug`` of ``debug``.
- The pull from a registry with ``tls_verify: false`` (the container is created from the local image).
- ``podman volume inspect`` / ``podman container inspect`` equality: this engine is not podman's store;
  the keys of podman's inspect are checked instead.
- The rootfs download from dl-cdn.alpinelinux.org: a local busybox root directory stands in.
- podman_pod: ``userns: auto`` and ``uidmap``/``gidmap`` (they need subordinate ranges of user
  ``containers`` and an engine root that other users can search: test_userns.py covers pod user
  namespaces). Not run: the pasta pod network of podman >= 5 (the slirp4netns one of podman < 5 runs;
  left out for the suite's time), ``no_hostname`` of pods (podman 5.4; not a pod option here).

Deliberate differences (docs/migration-from-containers-podman.md, "Behaviour that differs on purpose"):
- Error messages: the peer's exact texts ("Cannot start container when image is not specified!", "Can't
  pull image X", "Image rootfs doesn't exist X") are not reproduced; the tasks fail, naming the parameter.
- Action strings: ``removed container`` (the peer: ``deleted container``); ``restart: true`` on a created
  container reports ``started container`` (the peer: ``restarted``).
- ``env_file`` values show as ``NAME=<from env_file>`` in ``Config.Env`` of results (secrets get logged).
- ``env: {BOOL: false}``: an unquoted YAML boolean is refused (the peer passes ``False``); the step is
  run as the peer wrote it (expected to fail naming ``env``) and again with ``"False"``.
- ``attach`` / ``detach: false``: the task never attaches to a container (it runs detached, its output is
  read with ``container_info`` ``log_lines``): the peer's steps that expect the task to fail with the
  command's stderr have no counterpart; ``env_file`` is checked in ``Config.Env`` instead of stdout.
- ``podman_volume`` with only ``name``: no change here (the peer drops labels and options, recreating the
  volume and its data); dropping is ``label: {}`` / ``options: []``.
- podman_pod "by name": ``{name: pod1, state: started}`` after ports, share, labels or ``infra: false``
  leaves the pod as declared (no change; the peer resets omitted options to defaults and recreates);
  ``state: stopped`` on a missing pod creates it (the peer fails); ``state: killed`` on a pod where
  nothing runs is no change (the peer always reports one).
- A pod recreated for a changed option (the slirp4netns ``outbound_addr``) keeps its containers, recreated
  into the new pod: the peer's next container task recreates the container it lost, here it is no change.
- ``dns_opt: ["option timeout:3"]`` (the peer's value: podman writes it to resolv.conf, where the
  resolver ignores the unknown word) is refused naming ``dns_option``; the DNS chain runs with ``timeout:3``.
- ``volume_info`` of an unknown name: listed in ``missing``, the task does not fail (as ``container_info``
  and ``pod_info``; the peer's ``podman_volume_info`` fails).
"""
from __future__ import annotations

import os

import pytest

from ansible_collections.libpod.engine.tests.helpers.images import build_image, busybox_layer, write_oci_archive
from ansible_collections.libpod.engine.tests.helpers.rootfs import make_busybox_rootfs

C = "libpod.engine.container"
HIDDEN = "<from env_file>"  # env_file values are not shown in results (reconcile/container.py shown_inspect)
ENV = {"FOO": "bar=1", "BAR": "foo", "TEST": 1, "BOOL": False}


@pytest.fixture(scope="module")
def alpines(tmp_path_factory):
    """Two busybox images standing in for the peer's alpine:3.7 and alpine (latest): no labels, as alpine."""
    work = str(tmp_path_factory.mktemp("peer-alpine"))
    base = busybox_layer(work)
    out = {}
    for tag in ("3.7", "latest"):
        img = build_image([base], config={"Cmd": ["/bin/sh"], "WorkingDir": "/",
                                          "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "ALPINE=" + tag]})
        ref = "docker.io/library/alpine:" + tag
        out[tag] = write_oci_archive(os.path.join(work, "alpine-%s.tar" % tag), [(img, ref)])
    return out


def _ctr(name, base=None, **params):
    """A container task: ``base`` (a dict of parameters) updated with ``params``."""
    return {C: dict(dict(base or {}, **params), name=name)}


def _actions(r) -> list:
    return r.get("actions") or []


def _did(r, verb) -> bool:
    """An action that starts with the peer's action string (``started container``...)."""
    return any(a.startswith(verb) for a in _actions(r))


def _running(r) -> bool:
    return bool(r.get("container", {}).get("State", {}).get("Running"))


def _mounts(r) -> dict:
    return {m["Destination"]: m for m in r["container"]["Mounts"]}


def _container_steps(rootfs: str, tmp: str) -> list:
    """(task name, task, [(what the peer asserts, predicate on the result)]) of podman_container/tasks/main.yml."""
    sl = {"command": "sleep 1d"}
    failed = ("fails", lambda r: r.failed)
    changed = ("changed", lambda r: r.changed and not r.failed)
    same = ("not changed", lambda r: not r.changed and not r.failed)
    running = ("running", _running)
    no_actions = ("no actions", lambda r: _actions(r) == [])
    no_image = ("names image", lambda r: "image" in r.msg)
    stopped = ("not running", lambda r: r["container"] != {} and not _running(r))
    steps = [
        ("no image started", _ctr("container"), [failed, no_image]),
        ("no image created", _ctr("container", state="created"), [failed, no_image]),
        ("no image present", _ctr("container", state="present"), [failed, no_image]),
        ("pull", _ctr("container", image="oci-archive:{{ a37 }}", state="started", **sl),
         [changed, running, ("pulled", lambda r: _did(r, "pulled image")),
          ("started", lambda r: _did(r, "started container"))]),
        ("pulled", _ctr("container2", image="alpine:3.7", state="started", **sl),
         [changed, running, ("no pull", lambda r: not _did(r, "pulled image")),
          ("started", lambda r: _did(r, "started container2"))]),
        ("tls", _ctr("container_tls", image="alpine:3.7", state="started", tls_verify=False, **sl),
         [changed, running, ("started", lambda r: _did(r, "started container_tls"))]),
        ("pull fails", _ctr("container", image="ineverneverneverexist", state="started", **sl),
         [failed, ("names the image", lambda r: "ineverneverneverexist" in r.msg)]),
        ("recreate", _ctr("container", image="alpine", state="started", recreate=True, **sl),
         [changed, running, ("recreated", lambda r: _did(r, "recreated container"))]),
        ("start by name", _ctr("container", state="started"), [same, running]),
        ("present", _ctr("container", image="alpine", state="present", **sl), [same, running]),
        ("stop", _ctr("container", state="stopped"),
         [changed, stopped, ("stopped", lambda r: _did(r, "stopped container"))]),
        ("stop again", _ctr("container", state="stopped"), [same, stopped, no_actions]),
        ("delete", _ctr("container", state="absent"),
         [changed, ("empty", lambda r: r["container"] == {}), ("deleted", lambda r: _did(r, "removed container"))]),
        ("delete again", _ctr("container", state="absent"),
         [same, ("empty", lambda r: r["container"] == {}), no_actions]),
        ("create stopped", _ctr("container", image="alpine:3.7", state="stopped", **sl),
         [changed, stopped, ("created", lambda r: _did(r, "created container"))]),
        ("recreate stopped", _ctr("container", image="alpine:3.7", state="started", recreate=True, **sl),
         [changed, running, ("recreated", lambda r: _did(r, "recreated container"))]),
        ("delete 2", _ctr("container", state="absent"), [changed]),
        ("create created", _ctr("container", image="alpine:3.7", state="created", **sl),
         [changed, stopped, ("created", lambda r: _did(r, "created container"))]),
        ("recreate created", _ctr("container", image="alpine", state="created", recreate=True, **sl),
         [changed, stopped, ("recreated", lambda r: _did(r, "recreated container"))]),
        ("restart", _ctr("container", restart=True),
         [changed, running, ("started", lambda r: _did(r, "started container"))]),
        ("restart running", _ctr("container", restart=True),
         [changed, running, ("restarted", lambda r: _did(r, "restarted container"))]),
        ("delete 3", _ctr("container", state="absent"), [changed]),
        ("start deleted", _ctr("container", image="alpine:3.7", state="started", **sl),
         [changed, running, ("no pull", lambda r: not _did(r, "pulled image"))]),
        ("delete 4", _ctr("container", state="absent"), [changed, ("deleted", lambda r: _did(r, "removed container"))]),
    ]
    secopt = ["label=level:s0", "label=type:spc_t", "label=filetype:container_share_t", "seccomp=unconfined"]
    sec = dict(sl, image="docker.io/alpine:3.7", state="started", security_opt=secopt)
    steps += [
        ("security_opt", _ctr("container", **sec), [changed, running]),
        ("security_opt same", _ctr("container", **sec),
         [same, running, ("not recreated", lambda r: not _did(r, "recreated"))]),
        ("delete 5", _ctr("container", state="absent"), [changed]),
    ]
    params = {"image": "docker.io/alpine:3.7", "state": "started", "recreate": True, "command": "sleep 1d",
              "etc_hosts": {"host1": "127.0.0.1", "host2": "127.0.0.1"}, "annotation": {"this": "annotation_value"},
              "dns": ["1.1.1.1", "8.8.4.4"], "dns_search": "example.com", "cap_add": ["SYS_TIME", "NET_ADMIN"],
              "publish": ["9000:80", "9001:8000"], "workdir": "/bin", "env": ENV,
              "label": {"somelabel": "labelvalue", "otheralbe": "othervalue"}, "volumes": ["%s:/data" % tmp],
              "mounts": ["type=devpts,destination=/dev/pts"]}

    def cfg(r):
        return r["container"]["Config"]

    def host(r):
        return r["container"]["HostConfig"]

    steps += [
        ("params env bool", _ctr("container", **params), [failed, ("names env", lambda r: "env" in r.msg)]),
        ("params", _ctr("container", params, env=dict(ENV, BOOL="False")), [
            changed, running,
            ("caps", lambda r: {"CAP_SYS_TIME", "CAP_NET_ADMIN"} <= set(r["container"]["BoundingCaps"])),
            ("annotation", lambda r: cfg(r)["Annotations"]["this"] == "annotation_value"),
            ("dns", lambda r: host(r)["Dns"] == ["1.1.1.1", "8.8.4.4"]),
            ("ports", lambda r: len(r["container"]["NetworkSettings"]["Ports"]) == 2),
            ("workdir", lambda r: cfg(r)["WorkingDir"] == "/bin"),
            ("dns_search", lambda r: host(r)["DnsSearch"] == ["example.com"]),
            ("env", lambda r: {"FOO=bar=1", "BAR=foo", "TEST=1", "BOOL=False"} <= set(cfg(r)["Env"])),
            ("labels", lambda r: cfg(r)["Labels"] == {"somelabel": "labelvalue", "otheralbe": "othervalue"}),
            ("devpts", lambda r: _mounts(r)["/dev/pts"]["Source"] == "devpts"),
            ("volume", lambda r: _mounts(r)["/data"]["Source"] == tmp and _mounts(r)["/data"]["Type"] == "bind"),
        ]),
        ("delete 6", _ctr("container", state="absent"), [changed]),
    ]
    idem = {"image": "alpine:latest", "state": "started", "command": "sleep 20m"}
    steps += [
        ("idem", _ctr("testidem", idem, image="docker.io/alpine"), [changed, running]),
        ("idem again", _ctr("testidem", **idem), [same]),
        ("idem force_restart", _ctr("testidem", force_restart=True, **idem), [changed]),
        ("idem no force_restart", _ctr("testidem", **idem), [same]),
        ("idem tty", _ctr("testidem", idem, tty=True, image="alpine"), [changed]),
        ("idem default", _ctr("testidem", idem, image="alpine"), [changed]),
        ("idem remove", _ctr("testidem", state="absent"), [changed]),
        ("pod new", _ctr("testidem-pod", idem, pod="new:testidempod", image="docker.io/alpine"),
         [changed, running]),
        ("pod again", _ctr("testidem-pod", pod="testidempod", **idem), [same]),
        ("pod tty", _ctr("testidem-pod", idem, pod="testidempod", tty=True, image="alpine"), [changed]),
    ]
    gen = {"path": tmp, "restart_policy": "always", "no_header": True, "names": True, "pod_prefix": "whocares",
           "separator": "zzzz", "container_prefix": "contain", "restart_sec": 10, "start_timeout": 20,
           "stop_timeout": 15}
    warned = ("warns", lambda r: any("generate_systemd" in w for w in r.get("warnings") or []))
    steps += [
        ("systemd", _ctr("container1", image="alpine", state="started", command="sleep 20m", generate_systemd=gen),
         [changed, running, warned]),
        ("systemd delete", _ctr("container1", image="alpine", state="absent", command="sleep 20m",
                                generate_systemd=gen), [changed, warned]),
        ("env_file", _ctr("container1", image="alpine", state="created", command=["sh", "-c", "echo $BAR"],
                          env_file=tmp + "/envfile"), [changed, ("BAR", lambda r: "BAR=" + HIDDEN in cfg(r)["Env"])]),
        ("env_files", _ctr("container1", image="alpine", state="created", command=["sh", "-c", "echo $TESTVAR"],
                           env_file=[tmp + "/envfile", tmp + "/envfile2"]),
         [changed, ("TESTVAR", lambda r: {"TESTVAR=" + HIDDEN, "BAR=" + HIDDEN} <= set(cfg(r)["Env"]))]),
        ("env_file delete", _ctr("container1", state="absent"), [changed]),
    ]
    rootfs_ok = [running, ("no image", lambda r: r["container"]["Image"] == ""),
                 ("rootfs", lambda r: r["container"]["Rootfs"] == rootfs)]
    steps += [
        ("rootfs missing", _ctr("container", image="/ineverneverneverexist", rootfs=True, state="started", **sl),
         [failed, ("names the path", lambda r: "/ineverneverneverexist" in r.msg)]),
        ("rootfs", _ctr("container3", image=rootfs, rootfs=True, state="started", **sl),
         [changed, ("started", lambda r: _did(r, "started container3"))] + rootfs_ok),
        ("rootfs again", _ctr("container3", image=rootfs, rootfs=True, state="started", **sl), [same]),
        ("rootfs to image", _ctr("container3", image="alpine:3.7", state="started", **sl),
         [changed, running, ("no rootfs", lambda r: r["container"]["Rootfs"] == ""),
          ("image name", lambda r: "alpine:3.7" in r["container"]["ImageName"]),
          ("recreated", lambda r: _did(r, "recreated container3"))]),
        ("image to rootfs", _ctr("container3", image=rootfs, rootfs=True, state="started", **sl),
         [changed, ("recreated", lambda r: _did(r, "recreated container3"))] + rootfs_ok),
    ]
    return steps


def _check(steps, res) -> list:
    by = {t.name: t for t in res.tasks}
    problems = []
    for name, _task, checks in steps:
        r = by.get(name)
        if r is None:
            problems.append("%s: did not run" % name)
            continue
        for what, pred in checks:
            try:
                ok = pred(r)
            except (KeyError, IndexError, TypeError) as exc:
                ok, what = False, "%s (%r)" % (what, exc)
            if not ok:
                problems.append("%s: expected %s; failed=%s changed=%s msg=%s actions=%s" % (
                    name, what, r.failed, r.changed, r.msg, _actions(r)))
    return problems


def _run(playbook, steps, extra) -> list:
    """Every step runs (a failure does not stop the play; the engine_env fixture removes what is left)."""
    tasks = [dict(task, name=name, ignore_errors=True) for name, task, _checks in steps]
    res = playbook(tasks, extra_vars=extra, module_defaults={C: {"timeout": 0}, P: {"timeout": 0}}, timeout=600)
    return _check(steps, res)


def test_peer_container_target(playbook, alpines, tmp_path):
    """podman_container: no image, pull (import) and reuse, recreate, stop/delete idempotency, created and
    stopped states, restart, security_opt, the parameter set read back from the returned inspect, basic
    idempotency with normalised references, force_restart, tty, pod new:, generate_systemd, env_file, rootfs."""
    rootfs = make_busybox_rootfs(str(tmp_path / "rootfs"))
    (tmp_path / "envfile").write_text("FOO=bar\nBAR=foo\nTEST=1\nBOOL=false\n")
    (tmp_path / "envfile2").write_text("TESTVAR=qwerty\n")
    steps = _container_steps(rootfs, str(tmp_path))
    load = ("load latest", _ctr("loader", image="oci-archive:{{ alatest }}", state="created", network="none"), [])
    problems = _run(playbook, [load] + steps, {"a37": alpines["3.7"], "alatest": alpines["latest"]})
    assert not problems, "\n".join(problems)


V, VI, P, PI, CI = ("libpod.engine.volume", "libpod.engine.volume_info", "libpod.engine.pod",
                    "libpod.engine.pod_info", "libpod.engine.container_info")
VOLKEYS = {"Name", "Driver", "Mountpoint", "CreatedAt", "Labels", "Scope", "Options"}


def _info_steps() -> list:
    """podman_pod_info, podman_container_info, podman_pod_check_mode, podman_volume, podman_volume_info."""
    failed = ("fails", lambda r: r.failed)
    changed = ("changed", lambda r: r.changed and not r.failed)
    same = ("not changed", lambda r: not r.changed and not r.failed)
    ok = ("succeeds", lambda r: not r.failed)
    mounted = ("mount_point", lambda r: "mount_point" in r.result)

    def pods(n):
        return ("%d pod(s)" % n, lambda r: len(r["pods"]) == n)

    named = ("Name", lambda r: r["pods"][0]["Name"] == "ptpod")
    vol = "ptvol"
    unknown = ("unknown: missing, not failed (deliberate)",
               lambda r: not r.failed and r["volumes"] == [] and r["missing"] == [vol])
    return [
        # podman_pod_info
        ("pi missing", {PI: {"name": ["ptpod"]}}, [ok, pods(0)]),
        ("pi all missing", {PI: {}}, [ok, pods(0)]),
        ("pi create", {P: {"name": "ptpod"}}, [changed]),
        ("pi all", {PI: {}}, [pods(1), named]),
        ("pi one", {PI: {"name": ["ptpod"]}}, [pods(1), named]),
        ("pi create 2", {P: {"name": "ptpod_1"}}, [changed]),
        ("pi one of two", {PI: {"name": ["ptpod"]}}, [pods(1), named]),
        ("pi all 2", {PI: {}}, [pods(2)]),
        ("pi remove", {P: {"name": "ptpod", "state": "absent"}}, [changed]),
        ("pi remove 2", {P: {"name": "ptpod_1", "state": "absent"}}, [changed]),
        # podman_container_info
        ("ci missing", {CI: {"name": ["ptctr"]}}, [ok, ("no containers", lambda r: r["containers"] == [])]),
        ("ci missing several", {CI: {"name": ["ptctr", "neverexist", "whatever"]}},
         [ok, ("no containers", lambda r: r["containers"] == [])]),
        ("ci create", {C: {"name": "ptctr", "image": "oci-archive:{{ alatest }}", "state": "created",
                           "command": "sleep 15m"}}, [changed]),
        ("ci one", {CI: {"name": ["ptctr"]}}, [("one", lambda r: [c["Name"] for c in r["containers"]] == ["ptctr"])]),
        ("ci mixed", {CI: {"name": ["ptctr", "whatever"]}},
         [ok, ("one", lambda r: [c["Name"] for c in r["containers"]] == ["ptctr"])]),
        ("ci all", {CI: {}}, [ok, ("one", lambda r: [c["Name"] for c in r["containers"]] == ["ptctr"])]),
        ("ci remove", {C: {"name": "ptctr", "state": "absent"}}, [changed]),
        # podman_pod_check_mode
        ("pc check create", {P: {"name": "pod1", "state": "created"}, "check_mode": True},
         [changed, ("not skipped", lambda r: not r.skipped)]),
        ("pc not created", {PI: {"name": ["pod1"]}}, [pods(0)]),
        ("pc create", {P: {"name": "pod1", "state": "created"}}, [changed]),
        ("pc check same", {P: {"name": "pod1", "state": "created"}, "check_mode": True}, [same]),
        ("pc check ports", {P: {"name": "pod1", "state": "created", "ports": ["8080:8080"]}, "check_mode": True},
         [changed]),
        ("pc unchanged", {PI: {"name": ["pod1"]}},
         [pods(1), ("no ports", lambda r: r["pods"][0]["InfraConfig"]["PortBindings"] == {})]),
        # podman_volume and podman_volume_info
        ("v absent", {V: {"name": vol, "state": "absent"}}, [same]),
        ("v info missing", {VI: {"name": [vol]}}, [unknown]),
        ("v create", {V: {"name": vol}}, [changed]),
        ("v info", {VI: {"name": [vol]}}, [("Name", lambda r: r["volumes"][0]["Name"] == vol),
                                           ("podman's keys", lambda r: set(r["volumes"][0]) >= VOLKEYS)]),
        ("v again", {V: {"name": vol, "state": "present"}}, [same]),
        ("v labels", {V: {"name": vol, "label": {"key": "val", "nokey": "noval"}}}, [changed]),
        ("v labels again", {V: {"name": vol, "label": {"key": "val", "nokey": "noval"}}}, [same]),
        ("v by name (deliberate)", {V: {"name": vol, "state": "present"}}, [same]),
        ("v no labels", {V: {"name": vol, "label": {}}}, [changed]),
        ("v options", {V: {"name": vol, "options": ["device=/dev/something", "type=ext4"]}}, [changed]),
        ("v options again", {V: {"name": vol, "options": ["device=/dev/something", "type=ext4"]}}, [same]),
        ("v no options", {V: {"name": vol, "options": []}}, [changed]),
        ("v delete", {V: {"name": vol, "state": "absent"}}, [changed, ("empty", lambda r: r["volume"] == {})]),
        ("v info deleted", {VI: {"name": [vol]}}, [unknown]),
        ("v mount missing", {V: {"name": "nonexistent", "state": "mounted"}}, [ok, mounted]),
        ("v mountme", {V: {"name": "mountme"}}, [changed]),
        ("v mount", {V: {"name": "mountme", "state": "mounted"}}, [ok, mounted]),
        ("v unmount", {V: {"name": "mountme", "state": "unmounted"}},
         [ok, ("no mount_point", lambda r: "mount_point" not in r.result)]),
        ("v uid", {V: {"name": "test-uid-vol", "uid": 1000, "gid": 1000}}, [changed]),
        ("v uid again", {V: {"name": "test-uid-vol", "uid": 1000, "gid": 1000}}, [same]),
        ("v uid change", {V: {"name": "test-uid-vol", "uid": 1001, "gid": 1000}}, [changed]),
        ("v quadlet", {V: {"name": "testvol", "state": "quadlet"}}, [failed]),
    ]


def _pod(step, expect, **params):
    return ("pm " + step, {P: dict(params, name=params.get("name", "pmpod"))}, expect)


def _pod_steps() -> list:
    """podman_pod/tasks/main.yml: states, ports, share, uidmap, labels, DNS and hosts, infra, infra_image,
    a pod with members and generate_systemd."""
    failed = ("fails", lambda r: r.failed)
    changed = ("changed", lambda r: r.changed and not r.failed)
    same = ("not changed", lambda r: not r.changed and not r.failed)
    by_name = ("by name: not changed (deliberate)", lambda r: not r.changed and not r.failed)

    def state(want, neg=False):
        return ("State %s%s" % ("not " if neg else "", want), lambda r: (r["pod"]["State"] == want) != neg)

    ports = ["4444:4444/tcp", "1212:5555", "8888:19191/udp", "1901:1901/udp", "127.0.0.1:7671:7676/udp",
             "127.0.0.1:12122:8876/udp", "127.0.0.1:13122:8871/tcp", "127.0.0.1:43423:8872"]
    labels = {"key": "cval", "otherkey": "kddkdk", "somekey": "someval"}
    net = {"add_host": ["google:8.8.8.8", "site1:127.0.0.1"], "dns": ["1.1.1.1"], "dns_opt": ["timeout:3"],
           "dns_search": ["redhat.com", "ibm.com"], "hostname": "happypod"}
    steps = [
        _pod("create", [changed, state("Created")], state="created"),
        _pod("start", [changed, state("Running")], state="started"),
        _pod("stop", [changed, state("Running", True)], state="stopped"),
        _pod("stop missing (deliberate: created)", [changed], name="pod-notexist", state="stopped"),
        _pod("kill stopped (deliberate: nothing runs)", [same], state="killed"),
        _pod("start 2", [changed, state("Running")], state="started"),
        _pod("start again", [same], state="started"),
        _pod("restart", [changed], state="restarted"),
        _pod("restart stopped", [changed], state="restarted"),
        _pod("stop with ports", [changed, state("Running", True)], state="stopped", ports=["9484:9483"]),
        _pod("ports", [changed], state="started", ports=ports),
        _pod("ports again", [same], state="started", ports=ports),
        _pod("by name after ports", [by_name], state="started"),
        _pod("share", [changed], state="started", share="uts"),
        _pod("labels", [changed], state="started", label=labels),
        _pod("labels changed", [changed], state="started", label=dict(labels, otherkey="23434dfsd")),
        _pod("by name after labels", [by_name], state="started"),
        _pod("dns_opt as the peer (deliberate)", [failed, ("names dns_option", lambda r: "dns_option" in r.msg)],
             state="started", **{k: v for k, v in net.items() if k != "dns_opt"}, dns_opt=["option timeout:3"]),
        _pod("dns", [changed], state="started", **net),
        _pod("dns again", [same], state="started", **net),
    ]
    # one step per option changed, then all removed (the peer also removes them one by one)
    for step, change in (("dns changed", {"dns": ["1.1.1.1", "2.2.2.2"]}),
                         ("add_host changed", {"add_host": ["google:8.8.8.8", "site1:127.0.0.2"]}),
                         ("dns_opt changed", {"dns_opt": ["timeout:2"]}),
                         ("dns_search changed", {"dns_search": ["redhat.com"]})):
        net = dict(net, **change)
        steps.append(_pod(step, [changed], state="started", **net))
    steps.append(_pod("dns and hosts removed", [changed], state="started", hostname="bestpod"))
    gen = {"path": "{{ tmp }}/dir1", "restart_policy": "always", "no_header": True, "names": True,
           "pod_prefix": "poditto", "container_prefix": "ainer", "restart_sec": 10, "start_timeout": 20,
           "stop_timeout": 15}
    warned = ("warns", lambda r: any("generate_systemd" in w for w in r.get("warnings") or []))
    member = {"image": "alpine", "command": "sleep 1h", "pod": "pod2", "state": "started"}
    slirp = "slirp4netns:outbound_addr=10.10.10.46"
    pod2_id = []  # the slirp4netns pod's ID before its network changes (read by the checks, in step order)
    steps += [
        _pod("no infra", [changed], state="created", infra=False),
        _pod("no infra again", [same], state="created", infra=False),
        _pod("with infra (by name: nothing to start)", [by_name], state="started"),
        _pod("infra_image", [changed], state="created", infra_image="alpine"),
        _pod("infra_image again", [same], state="created", infra_image="alpine"),
        _pod("hosts_file", [changed], name="pod-hosts-file", state="created", hosts_file="none"),
        _pod("hosts_file again", [same], name="pod-hosts-file", state="created", hosts_file="none"),
        _pod("pod2", [changed], name="pod2", state="created"),
        ("pm container1", _ctr("container1", **member), [changed]),
        _pod("pod2 generate_systemd", [warned, ("Running", lambda r: r["pod"]["State"] == "Running")],
             name="pod2", state="started", generate_systemd=gen),
        _pod("pod2 delete", [changed, warned], name="pod2", state="absent", force=True, generate_systemd=gen),
        _pod("slirp4netns", [changed], name="pod2", state="started", network=slirp),
        ("pm slirp4netns member", _ctr("container1", **member), [changed]),
        _pod("slirp4netns again", [same], name="pod2", state="started", network=slirp),
        ("pm slirp4netns member again", _ctr("container1", **member),
         [same, ("pod id", lambda r: pod2_id.append(r["container"]["Pod"]) is None)]),
        _pod("slirp4netns changed", [changed], name="pod2", state="started",
             network="slirp4netns:outbound_addr=10.10.10.47"),
        ("pm slirp4netns member kept (deliberate)", _ctr("container1", **member),
         [same, ("running", _running), ("in the new pod", lambda r: r["container"]["Pod"] != pod2_id[0])]),
    ]
    return steps


def test_peer_info_volume_and_pod_targets(playbook, alpines, tmp_path):
    """podman_pod_info, podman_container_info, podman_pod_check_mode, podman_volume, podman_volume_info,
    podman_pod: one playbook, one engine root (the "all" listings count what the earlier steps left)."""
    steps = _info_steps() + _pod_steps()
    problems = _run(playbook, steps, {"alatest": alpines["latest"], "tmp": str(tmp_path)})
    assert not problems, "\n".join(problems)
