# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile or bad input: every case must fail with a clear error (a message, an error kind, no
traceback) and change nothing (no container, volume, image, layer, lock, lease or name appears, no
file lands outside the layer store, nothing is leaked). The container option normalisation is
fuzzed with hypothesis: for any input it returns or raises an engine error, nothing else.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import sqlite3
import tarfile
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import EngineError
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.roots import MARKER as ROOT_MARKER
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS
from ansible_collections.libpod.engine.tests.helpers.images import (
    CONTAINED_LAYERS,
    HOSTILE_LAYERS,
    E,
    build_image,
    busybox_image,
    tar_from_entries,
    truncated_gzip_layer,
    write_docker_archive,
    write_oci_archive,
    write_oci_layout,
)
from ansible_collections.libpod.engine.tests.helpers.slowhttp import Trickle

from .leaks import find_leaks
from .report import REPORT
from .scenario import LOOP, containers, free_port, module_steps, query, run_module


def snapshot(env) -> dict:
    """Everything a failed task must not change."""
    snap = {}
    for table, cols in (("containers", "name"), ("pods", "name"), ("volumes", "name"), ("images", "id"),
                        ("image_names", "name"), ("layers", "id"), ("locks", "lock_id, owner_kind, owner_id"),
                        ("ip_leases", "network, ip, container_id"), ("names", "name")):
        snap[table] = sorted(query(env, "SELECT %s FROM %s" % (cols, table)))
    for key, d in (("storage", env.paths["graph_root"]), ("volume dirs", env.paths["volume_path"])):
        # objects, not the store's own empty top-level dirs: <kind>/<id> below the graph root
        found = []
        for kind in (sorted(os.listdir(d)) if os.path.isdir(d) else []):
            sub = os.path.join(d, kind)
            if key == "volume dirs":
                if kind != ROOT_MARKER:  # the root's own ownership marker (host/roots.py), not a volume
                    found.append(kind)
            elif os.path.isdir(sub):
                found += ["%s/%s" % (kind, n) for n in os.listdir(sub)]
        snap[key] = sorted(found)
    return snap


def clear_failure(res) -> str:
    """'' if the module failed the way a user can act on, else what is wrong."""
    if res.killed or res.rc not in (0, 1):
        return "module died (rc %s): %s" % (res.rc, res.stderr[-500:])
    if not res.failed:
        return "accepted: %s" % (res.result.get("actions"),)
    msg = res.result.get("msg") or ""
    if not msg:
        return "no message (rc %s, stderr %s)" % (res.rc, res.stderr[-800:])
    if "Traceback" in msg or "Traceback" in res.stderr or res.result.get("exception"):
        return "traceback: %s" % (res.result.get("exception") or res.stderr)[-800:]
    ansible_own = ("argument ", "value of ", "Unsupported parameters", "parameters are mutually exclusive")
    if not res.result.get("error_kind") and not msg.startswith(ansible_own):
        return "no error_kind: %s" % msg
    return ""


def run_cases(env, scenario, cases):
    """cases: [(label, module, args)]; each must fail clearly and change nothing."""
    problems = []
    for label, module, args in cases:
        before = snapshot(env)
        res = run_module(env, module, args)
        why = clear_failure(res)
        after = snapshot(env)
        if not why and after != before:
            why = "changed %s" % {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        REPORT.record(scenario, converged=not why, note="%s: %s" % (label, why) if why else "")
        if why:
            problems.append("%s: %s" % (label, why))
    leaks = find_leaks(env)
    REPORT.add(scenario, leaked=len(leaks), note="; ".join(leaks))
    assert not problems and not leaks, {"problems": problems, "leaks": leaks}


# -- images -----------------------------------------------------------------------------------------
def _escapes(base: str) -> list:
    out = []
    for root, _dirs, files in os.walk(base):
        out += [os.path.join(root, f) for f in files if f.startswith("escape-")]
    return out


def test_hostile_images(engine_env, tmp_path):
    work = str(tmp_path / "images")
    os.makedirs(work)
    with open("/etc/passwd", "rb") as f:
        passwd = hashlib.sha256(f.read()).hexdigest()
    cases = []
    for name, make in sorted(HOSTILE_LAYERS.items()):
        img = build_image([make()], config={"Cmd": ["sh"]})
        path = write_oci_archive(os.path.join(work, "%s.tar" % name), [(img, "localhost/hostile-%s:1" % name)])
        cases.append(("layer %s" % name, "container",
                      {"name": "h-%s" % name, "image": "oci-archive:" + path, "command": LOOP}))
    good = busybox_image(work, config={"Cmd": ["sh"]})
    # a truncated gzip layer, a truncated archive, a blob that does not match its digest
    img = build_image([truncated_gzip_layer()], config={"Cmd": ["sh"]}, compression="none")
    tgz = write_oci_archive(os.path.join(work, "tgz.tar"), [(img, "localhost/h-tgz:1")])
    cases.append(("truncated gzip layer", "container", {"name": "h-trunc-gz", "command": LOOP,
                                                        "image": "oci-archive:" + tgz}))
    full = write_oci_archive(os.path.join(work, "full.tar"), [(good, "localhost/h-full:1")])
    with open(full, "rb") as f:
        data = f.read()
    cut = os.path.join(work, "cut.tar")
    with open(cut, "wb") as f:
        f.write(data[: len(data) // 2])
    cases.append(("truncated archive", "container", {"name": "h-cut", "image": "oci-archive:" + cut, "command": LOOP}))
    layout = os.path.join(work, "tampered")
    write_oci_layout(layout, [(good, "h-tampered:1")])
    blob = os.path.join(layout, "blobs", "sha256", good.layers[0].digest.split(":", 1)[1])
    with open(blob, "r+b") as f:
        f.seek(100)
        f.write(b"tampered")
    cases.append(("layer digest mismatch", "container",
                  {"name": "h-digest", "image": "oci:%s:h-tampered:1" % layout, "command": LOOP}))
    bomb = os.path.join(work, "not-a-tar.tar")
    with open(bomb, "wb") as f:
        f.write(os.urandom(4096))
    cases.append(("archive that is no tar", "container",
                  {"name": "h-junk", "image": "oci-archive:" + bomb, "command": LOOP}))
    links = os.path.join(work, "links.tar")
    with tarfile.open(links, "w") as tf:
        ti = tarfile.TarInfo("index.json")
        ti.type, ti.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(ti)
    cases.append(("archive with a symlinked index.json", "container",
                  {"name": "h-links", "image": "oci-archive:" + links, "command": LOOP}))
    run_cases(engine_env, "hostile: image archives and layers", cases)
    with open("/etc/passwd", "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == passwd
    assert not _escapes(str(tmp_path)) and not _escapes(os.path.dirname(engine_env.paths["graph_root"]))


def test_archive_not_a_regular_file(engine_env, tmp_path):
    """Issue 22 item 8: /dev/zero spun at 100 % CPU, a FIFO blocked the task forever."""
    fifo = str(tmp_path / "pipe.tar")
    os.mkfifo(fifo)
    cases = [("%s:%s" % (t, p), "container", {"name": "h-special-%d" % i, "image": "%s:%s" % (t, p),
                                              "command": LOOP})
             for i, (t, p) in enumerate([("oci-archive", "/dev/zero"), ("docker-archive", "/dev/zero"),
                                         ("oci-archive", fifo), ("docker-archive", fifo)])]
    run_cases(engine_env, "hostile: archive that is a device or FIFO", cases)


def test_slow_registry(engine_env, image):
    """Issue 22 item 7: a registry trickling bytes held the pull (and its locks) forever."""
    module_steps(engine_env, [("container", {"name": "ok", "image": image, "command": LOOP, "state": "present"})])
    with open(engine_env.conf, encoding="utf-8") as f:
        good = f.read()
    with open(engine_env.conf, "w", encoding="utf-8") as f:
        f.write(good.replace("[engine]", "[engine]\nimage_pull_timeout = 2", 1))
    try:
        cases = []
        with Trickle("body", every=0.3) as body, Trickle("headers", every=0.3) as headers:
            for label, srv in (("trickled manifest body", body), ("trickled response headers", headers)):
                cases.append((label, "container", {"name": "slow-%d" % len(cases), "command": LOOP,
                                                   "image": "docker://%s/slow/image:1" % srv.host,
                                                   "insecure_registry": True}))
            run_cases(engine_env, "hostile: registry trickling one byte at a time", cases)
    finally:
        with open(engine_env.conf, "w", encoding="utf-8") as f:
            f.write(good)


def test_trojan_infra_image(engine_env, tmp_path):
    """Issue 22 item 3: an archive naming itself the infra image became every new pod's infra."""
    from ansible_collections.libpod.engine.plugins.module_utils.engine.image.infra import (  # noqa: PLC0415
        infra_image_name,
    )

    work = str(tmp_path / "images")
    os.makedirs(work)
    trojan = build_image([tar_from_entries([E("catatonit", data=b"#!/bin/sh\nid > /tmp/pwned\n", mode=0o755)])],
                         config={"Entrypoint": ["/catatonit", "-P"]})
    oci = write_oci_archive(os.path.join(work, "trojan.tar"), [(trojan, infra_image_name())])
    docker = os.path.join(work, "trojan-docker.tar")
    write_docker_archive(docker, trojan, [infra_image_name()])
    run_cases(engine_env, "hostile: trojan infra image", [
        ("oci-archive named as the infra image", "container",
         {"name": "trojan-oci", "image": "oci-archive:" + oci, "command": LOOP, "state": "present"}),
        ("docker-archive named as the infra image", "container",
         {"name": "trojan-docker", "image": "docker-archive:" + docker, "command": LOOP, "state": "present"}),
        ("pod whose infra_image is the trojan", "pod",
         {"name": "trojan-pod", "infra_image": "oci-archive:" + oci, "state": "created"})])
    # a name an older engine let an import take: the next pod gets the image the engine builds
    same = write_oci_archive(os.path.join(work, "bystander.tar"), [(trojan, "localhost/bystander:1")])
    module_steps(engine_env, [("container", {"name": "bystander", "state": "present", "command": LOOP,
                                             "image": "oci-archive:" + same})])
    (tid,) = query(engine_env, "SELECT image_id FROM image_names WHERE name='localhost/bystander:1'")[0]
    db = sqlite3.connect(os.path.join(engine_env.paths["static_dir"], "state.db"), timeout=60)
    with db:
        db.execute("INSERT INTO image_names(name, image_id) VALUES(?,?)", (infra_image_name(), tid))
    db.close()
    (res,) = module_steps(engine_env, [("pod", {"name": "after", "state": "created"})])
    infra_id = ((res.result.get("pod") or {}).get("InfraConfig") or {}).get("InfraImageId")
    (used,) = query(engine_env, "SELECT image_id FROM image_names WHERE name=?", (infra_image_name(),))[0]
    problems = [] if used != tid and infra_id == used else ["the pod's infra uses %s, the trojan is %s"
                                                            % (str(infra_id)[:12], tid[:12])]
    leaks = find_leaks(engine_env)
    REPORT.record("hostile: trojan infra image", converged=not problems, leaked=len(leaks),
                  note="; ".join(problems + leaks))
    assert not problems and not leaks, problems + leaks


def test_grown_etc_hosts(engine_env, image):
    """Issue 22 item 6: a container grew its own /etc/hosts to hundreds of MB; the next neighbour's
    start read and rewrote it whole. Now it is cut to what the engine reads back, with a warning."""
    from ansible_collections.libpod.engine.plugins.module_utils.engine.oci.etcfiles import (  # noqa: PLC0415
        MAX_HOSTS_FILE,
    )

    scenario = "hostile: container grows its own /etc/hosts"
    grow = ["sh", "-c", "truncate -s 300M /etc/hosts && trap 'exit 0' TERM; while :; do sleep 1; done"]
    module_steps(engine_env, [("container", {"name": "grower", "image": image, "command": grow,
                                             "state": "started"})])
    cid = containers(engine_env)["grower"]["id"]
    hosts = os.path.join(engine_env.paths["tmp_dir"], "storage", "containers", cid, "hosts")
    for _i in range(300):  # the container's shell runs truncate right after its start
        if os.stat(hosts).st_size >= 300 << 20:
            break
        time.sleep(0.1)
    assert os.stat(hosts).st_size >= 300 << 20, "the container did not grow its /etc/hosts"
    res = run_module(engine_env, "container", {"name": "neighbour", "image": image, "command": LOOP,
                                               "state": "started"})
    problems = ["neighbour failed: %s" % res.result.get("msg")] if res.failed else []
    size = os.stat(hosts).st_size
    if size > MAX_HOSTS_FILE + 4096:
        problems.append("grower's /etc/hosts still has %d bytes" % size)
    warned = [w for w in map(str, res.result.get("warnings") or []) if "grower" in w and "grown" in w]
    if not warned:
        problems.append("no warning about the cut file: %s" % res.result.get("warnings"))
    module_steps(engine_env, [("container", {"name": n, "state": "absent"}) for n in ("neighbour", "grower")])
    leaks = find_leaks(engine_env)
    REPORT.record(scenario, converged=not problems, leaked=len(leaks), note="; ".join(problems + leaks))
    assert not problems and not leaks, problems + leaks


def _plant_cgroups(cid: str) -> list:
    """Empty cgroups libpod-<id> below the engine's parent in every v1 hierarchy: what a runtime
    whose create failed half-way leaves (the runtime's delete does not know the container)."""
    made = []
    for hier in sorted(os.listdir("/sys/fs/cgroup")):
        base = os.path.join("/sys/fs/cgroup", hier)
        if os.path.islink(base) or not os.path.isdir(base) or hier == "unified":
            continue
        path = os.path.join(base, "libpod-engine", "libpod-" + cid)
        os.makedirs(path, exist_ok=True)
        made.append(path)
    return made


def test_failed_start_leaves_no_cgroup(engine_env, image):
    """Issue 22 item 12: a container whose start failed in the runtime left its empty cgroup in every
    v1 hierarchy; the failure path and the next open's repair remove them."""
    scenario = "hostile: start that fails in the runtime (cgroups)"
    problems = []
    for i, fault in enumerate(["", "container.start.after_volumes"]):
        name = "nobin-%d" % i
        # the binary would be in a tmpfs mount, empty at start: the runtime's start fails, while the
        # check-mode preflight (reconcile/preflight.py) does not look below declared mounts
        spec = {"name": name, "image": image, "command": ["/nobin/binary"], "tmpfs": ["/nobin"]}
        module_steps(engine_env, [("container", dict(spec, state="created"))])
        cid = containers(engine_env)[name]["id"]
        if fault:  # a failed start first: its spec (config.json) names the cgroup, as after a killed create
            run_module(engine_env, "container", dict(spec, state="started"))
        planted = _plant_cgroups(cid)
        res = run_module(engine_env, "container", dict(spec, state="started"), fault=fault or None)
        if fault:  # killed half-way: the next open repairs
            if not res.killed:
                problems.append("fault %s did not fire: %r" % (fault, res))
            res = run_module(engine_env, "container_info", {"name": [name]})
        elif not res.failed:
            problems.append("%s started: %s" % (name, res.result.get("actions")))
        left = [d for d in planted if os.path.isdir(d)]
        problems += ["%s: cgroup %s" % (fault or "failure path", d) for d in left]
        run_module(engine_env, "container", {"name": name, "state": "absent"})
        for d in left:
            with contextlib.suppress(OSError):
                os.rmdir(d)
    leaks = find_leaks(engine_env)
    REPORT.record(scenario, converged=not problems, leaked=len(leaks), note="; ".join(problems + leaks))
    assert not problems and not leaks, problems + leaks


def _partial_layers(env) -> list:
    d = os.path.join(env.paths["graph_root"], "layers")
    return sorted(n for n in os.listdir(d) if n.startswith((".tmp-", ".trash-"))) if os.path.isdir(d) else []


def test_killed_import_leaves_no_partial_layer(engine_env, tmp_path):
    """Issue 22 item 12: a killed image import left its partial layer (layers/.tmp-*) until a reset;
    the next open's repair removes it, and the import then succeeds."""
    scenario = "hostile: import killed half-way (partial layer)"
    work = str(tmp_path / "images")
    os.makedirs(work)
    img = busybox_image(work, config={"Cmd": ["sh"]})
    archive = "oci-archive:" + write_oci_archive(os.path.join(work, "bb.tar"), [(img, "localhost/killed:1")])
    spec = {"name": "killed-import", "image": archive, "command": LOOP, "state": "present"}
    problems = []
    res = run_module(engine_env, "container", spec, fault="image.import.after_unpack")
    if not res.killed:
        problems.append("fault point did not fire: %r" % res)
    elif not _partial_layers(engine_env):
        problems.append("the killed import left no partial layer (the test does not test anything)")
    run_module(engine_env, "container_info", {"name": ["killed-import"]})  # the next open repairs
    problems += ["after the next open: layers/%s" % n for n in _partial_layers(engine_env)]
    res = run_module(engine_env, "container", spec)
    if res.failed:
        problems.append("the import after the repair failed: %s" % res.result.get("msg"))
    run_module(engine_env, "container", {"name": "killed-import", "state": "absent"})
    leaks = find_leaks(engine_env)
    REPORT.record(scenario, converged=not problems, leaked=len(leaks), note="; ".join(problems + leaks))
    assert not problems and not leaks, problems + leaks


def test_contained_layers(engine_env, tmp_path):
    """Layers that are accepted (absolute names, device nodes, dangling symlinks) stay inside."""
    work = str(tmp_path / "images")
    os.makedirs(work)
    layers = [busybox_image(work).layer_tars[0]] + [make() for _n, make in sorted(CONTAINED_LAYERS.items())]
    layers.append(tar_from_entries([E("etc/escape-check", data=b"inside")]))
    img = build_image(layers, config={"Cmd": ["sh"]})
    path = write_oci_archive(os.path.join(work, "contained.tar"), [(img, "localhost/contained:1")])
    res = run_module(engine_env, "container", {"name": "contained", "image": "oci-archive:" + path,
                                               "command": ["sh", "-c", "cat /abs/x; ls /etc/escape-check"],
                                               "state": "present"})
    problems = [] if not res.failed else ["refused: %s" % res.result.get("msg")]
    if os.path.exists("/abs/x"):
        problems.append("/abs/x was written on the host")
    leaks = find_leaks(engine_env)
    REPORT.record("hostile: contained layers (absolute, devices, symlinks)", converged=not problems,
                  leaked=len(leaks), note="; ".join(problems + leaks))
    assert not problems and not leaks


# -- parameters ------------------------------------------------------------------------------------
BAD_NAMES = ["a/b", "..", ".", "x\x00y", "a" * 300, "-lead", "", "a b", "ünï", "web\n"]


def _param_cases(image):
    base = {"image": image, "command": LOOP}
    cases = []
    for i, n in enumerate(BAD_NAMES):
        cases.append(("container name %r" % n[:20], "container", dict(base, name=n)))
        cases.append(("volume name %r" % n[:20], "volume", {"name": n}))
        if n:
            cases.append(("volume spec with name %r" % n[:20], "container",
                          dict(base, name="bad-vol-%d" % i, volume=["%s:/data" % n])))
    for i, p in enumerate(["abc", "70000:80", "-1:80", "1:2:3:4", "127.0.0.1:80:80/sctp", "80:0",
                           "999999", "127.0.0.300:80:80", "80-70:80-70", "1-65535:1-2"]):
        cases.append(("publish %r" % p, "container", dict(base, name="bad-port-%d" % i, publish=[p])))
    limits = [("memory", -5), ("memory", "abc"), ("memory", "1e30"), ("memory", "99999999999999999999t"),
              ("cpus", -1), ("cpus", 1e9), ("cpus", "x"), ("pids_limit", -5), ("shm_size", "-1"),
              ("ulimit", ["bogus=1"]), ("ulimit", ["nofile=10:5"]),
              ("stop_timeout", -1), ("log_opt", {"max_size": "-3"}), ("stop_signal", "SIGNOPE"),
              ("stop_signal", 999), ("cap_add", ["CAP_BOGUS"]), ("cap_drop", ["NOPE"]),
              ("sysctl", {"kernel.bogus": "1"}), ("env", {"A=B": "c"}), ("tmpfs", ["relative"]),
              ("mount", ["type=bind,source=relative,destination=/x"]), ("add_host", ["nohostip"]),
              ("restart_policy", "on-failure:-1"), ("restart_policy", "sometimes"),
              ("network", "container:"), ("volume", ["/etc:relative"]), ("volume", ["/x:/y:bogus"]),
              # shapes the argument spec lets through for raw options
              ("network", True), ("add_host", True), ("tmpfs", 5), ("env_file", "/tmp/a\x00b"),
              ("command", {"a": 1}), ("memory", [1]), ("stop_signal", []),
              # line injection into /etc/hosts, /etc/hostname, resolv.conf (issue 22 item 9)
              ("hostname", "a\nnameserver 6.6.6.6"), ("dns_search", ["x\nnameserver 6.6.6.6"]),
              ("dns_option", ["ndots:1\nnameserver 6.6.6.6"]), ("dns", ["fe80::1%eth0\nnameserver 6.6.6.6"]),
              ("add_host", ["db\n:10.0.0.5"]), ("memory", "5m")]
    for i, (opt, val) in enumerate(limits):
        cases.append(("%s=%r" % (opt, val), "container", dict(base, name="bad-limit-%d" % i, **{opt: val})))
    return cases


def test_hostile_parameters(engine_env, image):
    module_steps(engine_env, [("container", {"name": "ok", "image": image, "command": LOOP, "state": "present"})])
    run_cases(engine_env, "hostile: names, ports, limits, capabilities", _param_cases(image))


def test_port_in_use(engine_env, image):
    port = free_port()
    module_steps(engine_env, [("container", {"name": "ok", "image": image, "command": LOOP, "state": "present"})])
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        s.listen(1)
        run_cases(engine_env, "hostile: host port in use", [
            ("port held by a process", "container",
             {"name": "clash", "image": image, "command": LOOP, "volume": ["clashvol:/data", "/anon"],
              "publish": ["127.0.0.1:%d:80" % port]})])


def test_invalid_config_files(engine_env, image):
    module_steps(engine_env, [("container", {"name": "ok", "image": image, "command": LOOP, "state": "present"})])
    with open(engine_env.conf, encoding="utf-8") as f:
        good = f.read()
    variants = [("not TOML", good + "\n[engine\nbroken = \n"),
                ("wrong type", good.replace("[engine]", "[engine]\nnum_locks = \"many\"", 1)),
                ("negative num_locks", good.replace("[engine]", "[engine]\nnum_locks = -4", 1)),
                ("unknown runtime", good.replace("[engine]", "[engine]\nruntime = \"nosuchruntime\"", 1)),
                ("bad subnet", re.sub(r"(?m)^default_subnet = .*$", "", good) + "\n[network]\ndefault_subnet = "
                 "\"10.0.0.0/33\"\n" if "[network]" not in good else
                 re.sub(r"(?m)^default_subnet = .*$", 'default_subnet = "10.0.0.0/33"', good)),
                ("unknown section type", good + "\n[engine.runtimes]\ncrun = \"not-a-list\"\n")]
    problems = []
    for label, text in variants:
        with open(engine_env.conf, "w", encoding="utf-8") as f:
            f.write(text)
        before = snapshot(engine_env)
        res = run_module(engine_env, "container", {"name": "c", "image": image, "command": LOOP})
        why = clear_failure(res)
        after = snapshot(engine_env)
        if not why and after != before:
            why = "changed %s" % {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        REPORT.record("hostile: invalid containers.conf", converged=not why,
                      note="%s: %s" % (label, why) if why else "")
        if why:
            problems.append("%s: %s" % (label, why))
    with open(engine_env.conf, "w", encoding="utf-8") as f:
        f.write(good)
    leaks = find_leaks(engine_env)
    REPORT.add("hostile: invalid containers.conf", leaked=len(leaks), note="; ".join(leaks))
    assert not problems and not leaks, problems + leaks


# -- fuzzing -----------------------------------------------------------------------------------------
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)
ODD_VALUES = ["", ":", "::", "a:b:c:d", "1-2:3-4/udp", "/x:/y:ro,z", "0", "-1", "1e9", "\x00", "../..",
              "type=bind", "nofile=1:2", "64m"]
TEXT = st.text(max_size=40) | st.sampled_from(ODD_VALUES)
PARAMS = list(OPTIONS.compared())


def _for_type(opt):
    """Values of the shape Ansible's argument spec lets through for the option, plus anything."""
    if opt.type == "list":
        return st.lists(TEXT if opt.elements == "str" else (TEXT | JSON), max_size=4)
    if opt.type == "dict":
        return st.dictionaries(TEXT, TEXT | JSON, max_size=4)
    if opt.type == "bool":
        return st.booleans()
    if opt.type == "int":
        return st.integers()
    return TEXT | JSON


@st.composite
def params(draw, shaped=True):
    out = {}
    for opt in PARAMS:
        if draw(st.integers(0, 3)) == 0:
            out[opt.name] = draw(_for_type(opt) if shaped else JSON)
    return out


def _normalise(p):
    try:
        OPTIONS.declared(p)
    except EngineError as exc:
        assert str(exc), "an error without a message"


def _fuzz(label, given_test):
    """Run a hypothesis test and record it as one run of the fuzzing scenario."""
    try:
        given_test()
    except BaseException as exc:
        REPORT.record("hostile: fuzzed option normalisation", converged=False, note="%s: %s" % (label, exc))
        raise
    REPORT.record("hostile: fuzzed option normalisation", converged=True)


def test_fuzz_declared_shaped():
    """Inputs of the types the argument spec lets through: only engine errors."""
    @settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(params())
    def run(p):
        _normalise(p)

    _fuzz("shaped", run)


def test_fuzz_declared_any():
    """Any JSON value for any option (stack/kube callers pass unvalidated data): only engine errors."""
    @settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(params(shaped=False))
    def run(p):
        _normalise(p)

    _fuzz("any JSON", run)


def test_fuzz_each_option():
    """One option at a time, many values: a crash names the option that needs a fix."""
    def case(opt):
        @settings(max_examples=25, deadline=None, database=None)
        @given(_for_type(opt) | JSON)
        def run(value):
            _normalise({opt.name: value})
        return run

    for option in PARAMS:
        _fuzz(option.name, case(option))


# -- engine roots another user could replace (issue 22.1) -------------------------------------------
def test_replaceable_engine_roots(engine_env, image, tmp_path):
    """A static dir, tmp dir, graph root or volume path below a directory another user owns or can
    write: refused before anything is created (conmon would run that user's exit command as root)."""
    module_steps(engine_env, [("container", {"name": "ok", "image": image, "command": LOOP, "state": "present"})])
    home = tmp_path / "home-svc"
    team = tmp_path / "team"
    home.mkdir()
    team.mkdir()
    os.chown(str(home), 65534, 65534)
    os.chmod(str(team), 0o775)
    cases = []
    for section, key in (("engine", "static_dir"), ("engine", "tmp_dir"), ("storage", "graph_root"),
                         ("engine", "volume_path")):
        for parent in (home, team):
            cases.append(("%s below %s" % (key, parent.name), "container",
                          {"name": "c", "image": image, "command": LOOP,
                           "engine_options": {section: {key: str(parent / key)}}}))
    run_cases(engine_env, "hostile: engine roots another user could replace", cases)
    assert os.listdir(str(home)) == [] and os.listdir(str(team)) == []
