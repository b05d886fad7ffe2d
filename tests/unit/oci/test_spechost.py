# SPDX-License-Identifier: GPL-3.0-or-later
"""Spec pieces of the host-facing container options (issue 23): resources, devices, namespaces, security."""
from __future__ import annotations

import json
import os

import jsonschema
import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci import spec, spechost
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci.resources import linux_resources, update_steps
from ansible_collections.libpod.engine.plugins.module_utils.engine.parse.values import known_capabilities
from ansible_collections.libpod.engine.tests.helpers.rootfs import make_busybox_rootfs

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "schemas", "oci-runtime-config.schema.json")) as _f:
    VALIDATOR = jsonschema.Draft202012Validator(json.load(_f))
M = 1024 * 1024
KW = {"default_pids_limit": 0, "swap_accounting": True}


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory):
    return make_busybox_rootfs(str(tmp_path_factory.mktemp("spechost") / "rootfs"))


def gen(rootfs, tmp_path, image=None, **cfg):
    config = {"id": "c" * 64, "name": "web", "network": {"mode": "none", "networks": []}}
    config.update(cfg)
    ctx = spec.SpecContext(config=config, rootfs=rootfs, run_dir=str(tmp_path / "run"),
                           image_config=image or {"Cmd": ["sh"]}, cgroup_v2=False, swap_accounting=True,
                           created="2026-01-01T00:00:00.000000Z", host_rlimits={"RLIMIT_NOFILE": (1024, 20000)},
                           can_raise_rlimits=False, host_bounding_caps=list(known_capabilities()))
    out = spec.generate_spec(ctx)
    VALIDATOR.validate(out)
    return out


def test_resources_land_in_linux_resources(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, memory=64 * M, memory_swap=-1, memory_reservation=32 * M, memory_swappiness=10,
            oom_kill_disable=True, cpu_shares=512, cpu_period=50000, cpu_quota=25000, cpuset_cpus="0",
            device_read_bps=[{"path": "/dev/null", "rate": M}], oom_score_adj=100)
    res = s["linux"]["resources"]
    assert res["memory"] == {"limit": 64 * M, "swap": -1, "reservation": 32 * M, "swappiness": 10,
                             "disableOOMKiller": True}
    assert res["cpu"] == {"shares": 512, "cpus": "0", "quota": 25000, "period": 50000}
    assert res["blockIO"]["throttleReadBpsDevice"] == [{"major": 1, "minor": 3, "rate": M}]
    assert s["process"]["oomScoreAdj"] == 100


@pytest.mark.parametrize("cfg,msg", [
    ({"cpus": 1.0, "cpu_quota": 50000}, "cpus cannot be combined"),
    ({"memory_swap": 128 * M}, "memory_swap needs memory"),
    ({"memory": 64 * M, "memory_swap": 32 * M}, "is below memory"),
    ({"memory": 64 * M, "memory_reservation": 128 * M}, "memory_reservation must be below memory"),
])
def test_resource_combinations_refused(cfg, msg):
    with pytest.raises(InvalidArg, match=msg):
        linux_resources(cfg, **KW)


def test_in_place_steps_change_only_what_changed():
    old = {"cpu_shares": 512, "cpuset_cpus": "0", "memory": 64 * M, "memory_swap": 128 * M, "memory_reservation": M * 8}
    new = {"cpu_shares": None, "cpuset_cpus": "0", "memory": 64 * M, "memory_swap": 192 * M,
           "memory_reservation": M * 8, "blkio_weight": 300}
    steps = update_steps(old, new, **KW)
    assert steps[0]["cpu"] == {"shares": 1024} and steps[0]["blockIO"] == {"weight": 300}
    assert steps[-1]["memory"] == {"limit": 64 * M, "swap": 192 * M}
    assert update_steps(new, new, **KW) == []


def test_devices_rules_namespaces_users(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, devices=[{"host": "/dev/null", "container": "/dev/mynull", "permissions": "r"}],
            device_cgroup_rules=["c 1:5 rwm", "b *:* m"], ipc="host", uts="host", pid="private", cgroupns="private",
            group_add=["10", "app"], umask="0077", personality="LINUX32", cgroup_parent="/mine")
    assert s["linux"]["devices"] == [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3,
                                      "fileMode": s["linux"]["devices"][0]["fileMode"], "uid": 0, "gid": 0}]
    assert s["linux"]["resources"]["devices"][1:] == [
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "r"},
        {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
        {"allow": True, "type": "b", "access": "m"}]
    types = {n["type"] for n in s["linux"]["namespaces"]}
    assert "ipc" not in types and "uts" not in types and {"pid", "cgroup"} <= types
    assert s["process"]["user"]["umask"] == 0o077 and s["process"]["user"]["additionalGids"][-2:] == [10, 1000]
    assert s["linux"]["personality"] == {"domain": "LINUX32"}
    assert s["linux"]["cgroupsPath"] == "/mine/libpod-" + "c" * 64
    with pytest.raises(InvalidArg, match="group_add: group nosuch is not in the image"):
        gen(rootfs, tmp_path, group_add=["nosuch"])


def test_security_opt(rootfs, tmp_path):
    sec = {"seccomp": "unconfined", "no_new_privileges": True, "mask": ["/etc/shadow"], "unmask": ["/proc/keys"],
           "proc_opts": ["hidepid=2"]}
    s = gen(rootfs, tmp_path, security_opt=sec)
    assert "seccomp" not in s["linux"] and s["process"]["noNewPrivileges"] is True
    assert "/etc/shadow" in s["linux"]["maskedPaths"] and "/proc/keys" not in s["linux"]["maskedPaths"]
    assert "hidepid=2" in [m for m in s["mounts"] if m["destination"] == "/proc"][0]["options"]
    s = gen(rootfs, tmp_path, security_opt={"unmask": ["ALL"]})
    assert s["linux"]["maskedPaths"] == [] and s["linux"]["readonlyPaths"] == []


def test_seccomp_choice_and_image_policy(rootfs, tmp_path):
    label = json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]})
    image = {"Cmd": ["sh"], "Labels": {spechost.SECCOMP_IMAGE_LABEL: label}}
    s = gen(rootfs, tmp_path, image=image, seccomp_policy="image")
    assert s["linux"]["seccomp"]["syscalls"] == [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]
    assert spechost.seccomp_choice({"privileged": True}, None, {}) == ("none", None)
    assert spechost.seccomp_choice({}, "/p.json", {}) == ("file", "/p.json")
    assert spechost.seccomp_choice({"security_opt": {"seccomp": "/q.json"}}, "/p.json", {}) == ("file", "/q.json")
    assert spechost.seccomp_choice({}, None, {}) == ("builtin", None)


def test_host_profile_compiles_when_installed():
    path = spechost.default_seccomp_path()
    if path is None:
        pytest.skip("no containers-common seccomp profile on this host")
    with open(path) as f:
        out = spec.compile_seccomp_profile(json.load(f), ["CAP_CHOWN"])
    assert out["defaultAction"] == "SCMP_ACT_ERRNO" and out["syscalls"]


def test_gpus_without_cdi_specs(monkeypatch, tmp_path):
    monkeypatch.setattr(spechost, "CDI_DIRS", (str(tmp_path / "none"),))
    with pytest.raises(InvalidArg, match="gpus: no CDI specs"):
        spechost.cdi_devices("all")
    cdi = tmp_path / "cdi"
    cdi.mkdir()
    (cdi / "vendor.json").write_text(json.dumps({"cdiVersion": "0.5.0", "kind": "example.com/gpu", "devices": [
        {"name": "0", "containerEdits": {"deviceNodes": [{"path": "/dev/gpu0", "hostPath": "/dev/null"}]}}]}))
    monkeypatch.setattr(spechost, "CDI_DIRS", (str(cdi),))
    assert spechost.cdi_devices("device=0") == [{"host": "/dev/null", "container": "/dev/gpu0", "permissions": "rwm"}]
    with pytest.raises(InvalidArg, match="no CDI device 1"):
        spechost.cdi_devices("1")


@pytest.mark.parametrize("cfg,runtime,msg", [
    ({}, "runc", "cgroups: disabled needs an OCI runtime that can run a container without a cgroup; runc cannot"),
    ({"cgroup_parent": "/p"}, "crun", "conflicts with cgroup_parent"),
    ({"pid": "host"}, "crun", "needs the container's own PID namespace"),
    ({"pid": "container:web"}, "crun", "needs the container's own PID namespace"),
    ({"pod": "p" * 64}, "crun", "cannot be used for a pod member"),
])
def test_cgroups_disabled_is_refused_where_podman_refuses_it(cfg, runtime, msg):
    with pytest.raises(InvalidArg, match=msg):
        spechost.check_no_cgroups(dict(cfg, cgroups="disabled"), runtime, "/usr/bin/" + runtime, ["crun", "krun"])


def test_cgroups_disabled_with_crun_has_no_cgroup_path_and_warns_about_limits(rootfs, tmp_path):
    spechost.check_no_cgroups({"cgroups": "disabled"}, "/opt/crun", "/opt/crun", ["crun"])  # by basename
    spechost.check_no_cgroups({"cgroups": "enabled", "pid": "host"}, "runc", "/usr/bin/runc", ["crun"])
    config = {"id": "c" * 64, "name": "web", "network": {"mode": "none", "networks": []}, "cgroups": "disabled",
              "memory": 64 * M}
    ctx = spec.SpecContext(config=config, rootfs=rootfs, run_dir=str(tmp_path / "run"), image_config={"Cmd": ["sh"]},
                           cgroup_v2=False, swap_accounting=True, cgroups=False, host_rlimits={},
                           can_raise_rlimits=False, host_bounding_caps=list(known_capabilities()))
    s = spec.generate_spec(ctx)
    assert "cgroupsPath" not in s["linux"] and s["linux"]["resources"] == {}
    assert ctx.warnings == ["container web has cgroups: disabled: its resource limits are not applied (it has no "
                            "cgroup)"]
