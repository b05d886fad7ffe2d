# SPDX-License-Identifier: GPL-3.0-or-later
"""OCI config.json generation: podman's defaults, precedence, host quirks, schema, and real runc runs."""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import uuid

import jsonschema
import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci import etcfiles, spec
from ansible_collections.libpod.engine.plugins.module_utils.engine.parse.values import RLIM_INFINITY, known_capabilities
from ansible_collections.libpod.engine.tests.helpers.rootfs import DEFAULT_APPLETS, make_busybox_rootfs

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "schemas", "oci-runtime-config.schema.json")) as _f:
    SCHEMA = json.load(_f)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
RUNC = shutil.which("runc") or "/usr/sbin/runc"
CID = "0123456789abcdef" * 4
DEFAULT_CAP_MASK = 0x800405FB  # the 11 default capabilities as a /proc/<pid>/status mask


def validate(s: dict) -> None:
    """Schema plus what a JSON schema cannot say: unique namespace types and destinations."""
    VALIDATOR.validate(s)
    types = [n["type"] for n in s["linux"].get("namespaces", [])]
    assert len(types) == len(set(types)), types
    dests = [m["destination"] for m in s.get("mounts", [])]
    assert len(dests) == len(set(dests)), dests


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("spec") / "rootfs")
    make_busybox_rootfs(root, applets=tuple(DEFAULT_APPLETS) + ("unshare", "tr", "cut"))
    with open(os.path.join(root, "etc", "group"), "a") as f:
        f.write("staff:x:50:app\n")
    return root


def make_ctx(rootfs, tmp_path, image=None, ctx_kw=None, **cfg):
    config = {"id": CID, "name": "web", "network": {"mode": "bridge", "networks": []}}
    config.update(cfg)
    kw = {"cgroup_v2": False, "swap_accounting": True, "created": "2026-01-01T00:00:00.000000Z",
          "host_rlimits": {"RLIMIT_NOFILE": (1024, 20000), "RLIMIT_NPROC": (4096, 96365)},
          "can_raise_rlimits": False, "host_bounding_caps": list(known_capabilities())}
    kw.update(ctx_kw or {})
    return spec.SpecContext(config=config, rootfs=rootfs, run_dir=str(tmp_path / "run"),
                            image_config=image if image is not None else {"Cmd": ["sh"]}, **kw)


def gen(rootfs, tmp_path, image=None, ctx_kw=None, **cfg):
    ctx = make_ctx(rootfs, tmp_path, image, ctx_kw, **cfg)
    out = spec.generate_spec(ctx)
    validate(out)
    return out


def env_of(s):
    return dict(e.split("=", 1) for e in s["process"]["env"])


def mount_at(s, dest):
    found = [m for m in s["mounts"] if m["destination"] == dest]
    return found[0] if found else None


# --------------------------------------------------------------------------- defaults

def test_podman_defaults(rootfs, tmp_path):
    s = gen(rootfs, tmp_path)
    p = s["process"]
    assert s["ociVersion"] == "1.0.2-dev"
    assert p["args"] == ["sh"] and p["cwd"] == "/"
    assert p["user"] == {"uid": 0, "gid": 0, "umask": 18, "additionalGids": [0]}
    caps = sorted(spec.DEFAULT_CAPABILITIES)
    assert p["capabilities"] == {"bounding": caps, "effective": caps, "permitted": caps}
    assert "terminal" not in p and "noNewPrivileges" not in p and "oomScoreAdj" not in p
    assert env_of(s) == {"PATH": spec.DEFAULT_PATH, "TERM": "xterm", "container": "podman",
                         "HOSTNAME": CID[:12], "HOME": "/root"}
    assert s["hostname"] == CID[:12]
    assert s["root"] == {"path": rootfs}
    assert [m["destination"] for m in s["mounts"]] == [
        "/proc", "/dev", "/sys", "/dev/pts", "/dev/mqueue", "/etc/hostname", "/etc/resolv.conf",
        "/etc/hosts", "/dev/shm", "/run/.containerenv", "/sys/fs/cgroup"]
    run = str(tmp_path / "run")
    assert mount_at(s, "/etc/hosts") == {"destination": "/etc/hosts", "type": "bind",
                                         "source": run + "/hosts", "options": ["bind", "rprivate"]}
    assert mount_at(s, "/sys")["options"] == ["nosuid", "noexec", "nodev", "ro"]
    assert mount_at(s, "/sys/fs/cgroup")["options"][-1] == "ro"
    assert mount_at(s, "/dev/shm")["options"] == ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]
    linux = s["linux"]
    assert linux["maskedPaths"] == list(spec.DEFAULT_MASKED_PATHS) and "/proc/kcore" in linux["maskedPaths"]
    assert linux["readonlyPaths"] == list(spec.DEFAULT_READONLY_PATHS)
    assert linux["namespaces"] == [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")]
    assert linux["resources"] == {"devices": [{"allow": False, "access": "rwm"}], "pids": {"limit": 2048}}
    assert linux["cgroupsPath"] == "/libpod-engine/libpod-" + CID
    assert linux["sysctl"] == {"net.ipv4.ping_group_range": "0 0"}
    assert linux["seccomp"]["defaultAction"] == "SCMP_ACT_ALLOW"
    assert "devices" not in linux
    assert s["annotations"] == {
        "io.container.manager": "libpod", "io.kubernetes.cri-o.Created": "2026-01-01T00:00:00.000000Z",
        "io.kubernetes.cri-o.TTY": "false", "io.podman.annotations.autoremove": "FALSE",
        "io.podman.annotations.init": "FALSE", "io.podman.annotations.privileged": "FALSE",
        "io.podman.annotations.publish-all": "FALSE", "org.opencontainers.image.stopSignal": "15"}


def test_cgroup_v2_gets_private_cgroupns(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, ctx_kw={"cgroup_v2": True})
    assert s["linux"]["namespaces"][-1] == {"type": "cgroup"}


def test_tty_and_annotations(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, tty=True, annotations={"org.example/a": "1", "io.podman.annotations.init": "X"},
            ctx_kw={"infra_id": "f" * 64})
    assert s["process"]["terminal"] is True
    ann = s["annotations"]
    assert ann["io.kubernetes.cri-o.TTY"] == "true" and ann["org.example/a"] == "1"
    assert ann["io.kubernetes.cri-o.SandboxID"] == "f" * 64
    assert ann["io.kubernetes.cri-o.ContainerType"] == "container"
    assert ann["io.podman.annotations.init"] == "X"  # declared annotations win


# --------------------------------------------------------------------------- precedence

IMAGE = {"Env": ["PATH=/opt/bin:/bin", "LANG=C.UTF-8", "MODE=image"], "Entrypoint": ["/entry"],
         "Cmd": ["--serve"], "WorkingDir": "/srv", "User": "app", "StopSignal": "SIGQUIT",
         "Labels": {"a": "b"}}


def test_image_defaults_apply(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, image=IMAGE)
    p = s["process"]
    assert p["args"] == ["/entry", "--serve"]
    assert p["cwd"] == "/srv"
    assert (p["user"]["uid"], p["user"]["gid"], p["user"]["additionalGids"]) == (1000, 1000, [1000, 50])
    env = env_of(s)
    assert env["PATH"] == "/opt/bin:/bin" and env["MODE"] == "image" and env["HOME"] == "/home/app"
    assert s["annotations"]["org.opencontainers.image.stopSignal"] == "3"


def test_user_wins_over_image(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, image=IMAGE, command=["echo", "hi"], workdir="/work", user="root",
            env={"MODE": "user", "HOSTNAME": "custom"}, stop_signal=9, hostname="h1",
            ctx_kw={"default_env": ["MODE=conf", "CONF_ONLY=1"]})
    p = s["process"]
    assert p["args"] == ["/entry", "echo", "hi"]
    assert p["cwd"] == "/work" and p["user"]["uid"] == 0
    env = env_of(s)
    assert env["MODE"] == "user" and env["CONF_ONLY"] == "1" and env["HOSTNAME"] == "custom"
    assert env["LANG"] == "C.UTF-8"
    assert s["hostname"] == "h1"
    assert s["annotations"]["org.opencontainers.image.stopSignal"] == "9"


@pytest.mark.parametrize("image,cfg,args", [
    ({"Entrypoint": ["/e"], "Cmd": ["c"]}, {}, ["/e", "c"]),
    ({"Entrypoint": ["/e"], "Cmd": ["c"]}, {"command": ["x"]}, ["/e", "x"]),
    ({"Entrypoint": ["/e"], "Cmd": ["c"]}, {"entrypoint": ["/new"]}, ["/new"]),
    ({"Entrypoint": ["/e"], "Cmd": ["c"]}, {"entrypoint": ["/new"], "command": ["x"]}, ["/new", "x"]),
    ({"Entrypoint": ["/e"], "Cmd": ["c"]}, {"entrypoint": [], "command": ["x"]}, ["x"]),
    ({"Entrypoint": ["/e"], "Cmd": ["c"]}, {"entrypoint": [""], "command": ["x"]}, ["x"]),
    ({"Cmd": ["sh", "-c", "x"]}, {}, ["sh", "-c", "x"]),
    ({"Entrypoint": "/single"}, {}, ["/single"]),
])
def test_command_merge(rootfs, tmp_path, image, cfg, args):
    assert gen(rootfs, tmp_path, image=image, **cfg)["process"]["args"] == args


@pytest.mark.parametrize("image,cfg,match", [
    ({}, {}, "has no command"),
    ({"Entrypoint": ["/e"]}, {"entrypoint": []}, "has no command"),
    ({"Cmd": ["sh"]}, {"workdir": "rel"}, "must be an absolute path"),
    ({"Cmd": ["sh"]}, {"user": "ghost"}, "container web: user 'ghost' not found"),
    ({"Cmd": ["sh"], "User": "app:nosuchgroup"}, {}, "group 'nosuchgroup' not found"),
])
def test_bad_input_is_invalid_arg(rootfs, tmp_path, image, cfg, match):
    with pytest.raises(InvalidArg, match=match):
        spec.generate_spec(make_ctx(rootfs, tmp_path, image, **cfg))


# --------------------------------------------------------------------------- rlimits

def test_rlimits_podman_defaults_clamped_to_hard_limits(rootfs, tmp_path):
    ctx = make_ctx(rootfs, tmp_path)
    s = spec.generate_spec(ctx)
    assert s["process"]["rlimits"] == [
        {"type": "RLIMIT_NOFILE", "hard": 20000, "soft": 20000},
        {"type": "RLIMIT_NPROC", "hard": min(96365, _pid_max()), "soft": min(96365, _pid_max())}]
    assert ctx.warnings == []  # clamping podman's own defaults is not worth a warning


def _pid_max():
    with open("/proc/sys/kernel/pid_max") as f:
        return int(f.read())


def test_rlimits_user_values(rootfs, tmp_path):
    ctx = make_ctx(rootfs, tmp_path, ulimits=[{"type": "RLIMIT_NPROC", "soft": 100, "hard": 200},
                                              {"type": "RLIMIT_NOFILE", "soft": 50000, "hard": 100000},
                                              {"type": "RLIMIT_CORE", "soft": 0, "hard": RLIM_INFINITY}],
                   ctx_kw={"host_rlimits": {"RLIMIT_NOFILE": (1024, 20000), "RLIMIT_NPROC": (4096, 96365),
                                            "RLIMIT_CORE": (0, RLIM_INFINITY)}})
    s = spec.generate_spec(ctx)
    validate(s)
    assert s["process"]["rlimits"] == [
        {"type": "RLIMIT_NOFILE", "hard": 20000, "soft": 20000},
        {"type": "RLIMIT_NPROC", "hard": 200, "soft": 100},
        {"type": "RLIMIT_CORE", "hard": RLIM_INFINITY, "soft": 0}]
    assert len(ctx.warnings) == 1 and "RLIMIT_NOFILE" in ctx.warnings[0]


def test_rlimits_containers_conf_defaults_and_cap_sys_resource(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, ulimits=["nofile=10:20"],
            ctx_kw={"default_ulimits": ["nofile=1000:2000", "memlock=64:64"], "can_raise_rlimits": True})
    assert s["process"]["rlimits"] == [
        {"type": "RLIMIT_NOFILE", "hard": 20, "soft": 10},
        {"type": "RLIMIT_MEMLOCK", "hard": 64, "soft": 64},
        {"type": "RLIMIT_NPROC", "hard": _pid_max(), "soft": _pid_max()}]
    # with CAP_SYS_RESOURCE nothing is clamped to the caller's limits (only NOFILE to nr_open)
    s = gen(rootfs, tmp_path, ctx_kw={"can_raise_rlimits": True})
    assert s["process"]["rlimits"][0] == {"type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1048576}


def test_host_rlimits_reads_this_process():
    lim = spec.host_rlimits()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert lim["RLIMIT_NOFILE"] == (soft if soft >= 0 else RLIM_INFINITY, hard if hard >= 0 else RLIM_INFINITY)


# --------------------------------------------------------------------------- init, privileged, read-only

def test_init(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, init=True, command=["sleep", "1"], ctx_kw={"init_path": "/usr/bin/catatonit"})
    assert s["process"]["args"] == ["/run/podman-init", "--", "sleep", "1"]
    assert mount_at(s, "/run/podman-init") == {"destination": "/run/podman-init", "type": "bind",
                                               "source": "/usr/bin/catatonit", "options": ["bind", "ro", "rprivate"]}
    assert s["annotations"]["io.podman.annotations.init"] == "TRUE"
    with pytest.raises(InvalidArg, match="own PID namespace"):
        spec.generate_spec(make_ctx(rootfs, tmp_path, init=True, ctx_kw={"join_namespaces": {"pid": "host"}}))
    with pytest.raises(InvalidArg, match="does not exist"):
        spec.generate_spec(make_ctx(rootfs, tmp_path, init=True, ctx_kw={"init_path": "/nonexistent/catatonit"}))


def test_privileged(rootfs, tmp_path):
    host_caps = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_KILL"]
    s = gen(rootfs, tmp_path, privileged=True, cap_drop=["kill"], ctx_kw={"host_bounding_caps": host_caps})
    caps = s["process"]["capabilities"]
    assert caps["bounding"] == caps["effective"] == ["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"]
    linux = s["linux"]
    assert "maskedPaths" not in linux and "readonlyPaths" not in linux and "seccomp" not in linux
    assert linux["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    assert any(d["path"] == "/dev/null" and d["type"] == "c" and (d["major"], d["minor"]) == (1, 3)
               for d in linux["devices"])
    assert mount_at(s, "/sys")["options"][-1] == "rw"
    assert s["annotations"]["io.podman.annotations.privileged"] == "TRUE"


def test_read_only(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, read_only=True, mounts=[{"type": "tmpfs", "source": "tmpfs", "destination": "/tmp",
                                                       "options": ["size=1048576"]}])
    assert s["root"] == {"path": rootfs, "readonly": True}
    assert mount_at(s, "/etc/hosts")["options"] == ["bind", "rprivate", "ro", "nosuid", "noexec", "nodev"]
    assert mount_at(s, "/run")["options"] == ["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"]
    assert mount_at(s, "/var/tmp")["type"] == "tmpfs"
    assert mount_at(s, "/tmp")["options"] == ["size=1048576", "rw", "rprivate", "noexec", "nosuid", "nodev",
                                              "tmpcopyup"]  # the declared one, not the read-only default
    dests = [m["destination"] for m in s["mounts"]]
    assert dests.index("/run") < dests.index("/run/.containerenv")
    s = gen(rootfs, tmp_path, read_only=True, read_only_tmpfs=False)
    assert mount_at(s, "/run") is None and mount_at(s, "/tmp") is None


# --------------------------------------------------------------------------- mounts

def test_user_mounts(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, mounts=[
        {"type": "bind", "source": "/srv/data", "destination": "/data", "options": ["ro", "Z", "U"]},
        {"type": "volume", "source": "/var/lib/vols/db/_data", "destination": "/var/lib/db", "options": ["nocopy"]},
        {"type": "bind", "source": "/srv/x", "destination": "/data/sub", "options": ["bind", "rslave"]},
        {"type": "tmpfs", "source": "tmpfs", "destination": "/scratch", "options": ["size=1024", "mode=1777",
                                                                                    "exec", "notmpcopyup"]},
        {"type": "bind", "source": "/srv/hosts", "destination": "/etc/hosts", "options": []},
        {"type": "bind", "source": "/srv/shm", "destination": "/dev/shm", "options": []},
    ])
    assert mount_at(s, "/data") == {"destination": "/data", "type": "bind", "source": "/srv/data",
                                    "options": ["rbind", "ro", "rprivate"]}
    assert mount_at(s, "/var/lib/db") == {"destination": "/var/lib/db", "type": "bind",
                                          "source": "/var/lib/vols/db/_data", "options": ["rbind", "rprivate"]}
    assert mount_at(s, "/data/sub")["options"] == ["bind", "rslave"]
    assert mount_at(s, "/scratch") == {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
                                       "options": ["size=1024", "mode=1777", "exec", "rw", "rprivate", "nosuid",
                                                   "nodev"]}
    assert mount_at(s, "/etc/hosts")["source"] == "/srv/hosts"       # declared mount replaces ours
    assert mount_at(s, "/dev/shm")["source"] == "/srv/shm"
    dests = [m["destination"] for m in s["mounts"]]
    assert dests.index("/data") < dests.index("/data/sub")
    depths = [d.count("/") for d in dests]
    assert depths == sorted(depths)


def test_user_devpts_mount(rootfs, tmp_path):
    """type=devpts at /dev/pts replaces the default one: a new instance with the default's options,
    the declared uid/gid/mode/max winning."""
    s = gen(rootfs, tmp_path, mounts=[{"type": "devpts", "source": "devpts", "destination": "/dev/pts",
                                       "options": ["mode=0600"]}])
    assert [m["destination"] for m in s["mounts"]].count("/dev/pts") == 1
    assert mount_at(s, "/dev/pts") == {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
                                       "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "gid=5",
                                                   "mode=0600"]}


@pytest.mark.parametrize("mounts,match", [
    ([{"type": "volume", "source": "named", "destination": "/d"}], "was not resolved"),
    ([{"type": "volume", "source": "", "destination": "/d"}], "was not resolved"),
    ([{"type": "bind", "source": "/a", "destination": "/d"}, {"type": "tmpfs", "destination": "/d/"}],
     "more than once"),
    ([{"type": "image", "source": "/a", "destination": "/d"}], "invalid mount type"),
    ([{"type": "bind", "source": "/a", "destination": "d"}], "absolute"),
])
def test_bad_mounts(rootfs, tmp_path, mounts, match):
    with pytest.raises(InvalidArg, match=match):
        spec.generate_spec(make_ctx(rootfs, tmp_path, mounts=mounts))


def test_shm_path_and_size(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, ctx_kw={"shm_path": "/var/lib/x/userdata/shm"})
    assert mount_at(s, "/dev/shm") == {"destination": "/dev/shm", "type": "bind", "source": "/var/lib/x/userdata/shm",
                                       "options": ["bind", "rprivate", "nosuid", "noexec", "nodev"]}
    s = gen(rootfs, tmp_path, shm_size=1024 * 1024)
    assert "size=1048576" in mount_at(s, "/dev/shm")["options"]


# --------------------------------------------------------------------------- namespaces

def test_bridge_netns_path(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, ctx_kw={"netns_path": "/run/libpod-engine/netns/abc"})
    assert {"type": "network", "path": "/run/libpod-engine/netns/abc"} in s["linux"]["namespaces"]


def test_host_network(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, network={"mode": "host", "networks": []})
    assert "network" not in [n["type"] for n in s["linux"]["namespaces"]]
    assert "sysctl" not in s["linux"]          # podman's net default cannot apply to the host netns
    with pytest.raises(InvalidArg, match="shares the host's network namespace"):
        spec.generate_spec(make_ctx(rootfs, tmp_path, network={"mode": "host"}, sysctl={"net.ipv4.ip_forward": "1"}))


def test_pod_member(rootfs, tmp_path):
    pod_ns = {"net": "/proc/42/ns/net", "ipc": "/proc/42/ns/ipc", "uts": "/proc/42/ns/uts"}
    s = gen(rootfs, tmp_path, network={"mode": "pod"}, pod="p1",
            ctx_kw={"pod_namespaces": pod_ns, "shared_hostname": "mypod",
                    "cgroup_parent": "/libpod-engine/" + "a" * 64, "shm_path": "/infra/shm"})
    assert s["linux"]["namespaces"] == [
        {"type": "pid"}, {"type": "network", "path": "/proc/42/ns/net"}, {"type": "ipc", "path": "/proc/42/ns/ipc"},
        {"type": "uts", "path": "/proc/42/ns/uts"}, {"type": "mount"}]
    assert "hostname" not in s
    assert env_of(s)["HOSTNAME"] == "mypod"
    assert s["linux"]["cgroupsPath"] == "/libpod-engine/%s/libpod-%s" % ("a" * 64, CID)
    assert mount_at(s, "/dev/shm")["source"] == "/infra/shm"


def test_joined_and_host_namespaces(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, network={"mode": "container", "container": "other"},
            ctx_kw={"join_namespaces": {"network": "/proc/7/ns/net", "ipc": "host", "uts": "host"},
                    "host_hostname": "thehost"})
    types = {n["type"]: n.get("path") for n in s["linux"]["namespaces"]}
    assert types == {"pid": None, "network": "/proc/7/ns/net", "mount": None}
    assert env_of(s)["HOSTNAME"] == "thehost" and "hostname" not in s
    if os.path.isdir("/dev/mqueue"):
        assert mount_at(s, "/dev/mqueue") == {"destination": "/dev/mqueue", "type": "bind", "source": "/dev/mqueue",
                                              "options": ["bind", "nosuid", "noexec", "nodev"]}
    else:  # a host without /dev/mqueue (this VM): a mqueue mount in the host's IPC namespace shows its queues
        assert mount_at(s, "/dev/mqueue")["type"] == "mqueue"
    assert mount_at(s, "/dev/shm")["source"] == "/dev/shm"
    with pytest.raises(InvalidArg, match="needs the namespace path"):
        spec.generate_spec(make_ctx(rootfs, tmp_path, network={"mode": "container", "container": "other"}))
    with pytest.raises(InvalidArg, match="invalid namespace type"):
        spec.generate_spec(make_ctx(rootfs, tmp_path, ctx_kw={"join_namespaces": {"user": "/proc/1/ns/user"}}))
    with pytest.raises(InvalidArg, match="invalid network mode"):
        spec.generate_spec(make_ctx(rootfs, tmp_path, network={"mode": "weird"}))


# --------------------------------------------------------------------------- caps, resources, sysctls, seccomp

def test_capabilities(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, cap_add=["net_admin", "CAP_SYS_TIME"], cap_drop=["chown", "kill"])
    caps = s["process"]["capabilities"]["bounding"]
    assert "CAP_NET_ADMIN" in caps and "CAP_SYS_TIME" in caps and "CAP_CHOWN" not in caps and "CAP_KILL" not in caps
    assert caps == sorted(caps)
    s = gen(rootfs, tmp_path, cap_drop=["ALL"], cap_add=["NET_BIND_SERVICE"])
    assert s["process"]["capabilities"]["effective"] == ["CAP_NET_BIND_SERVICE"]
    s = gen(rootfs, tmp_path, cap_add=["ALL"], cap_drop=["SYS_ADMIN"],
            ctx_kw={"host_bounding_caps": ["CAP_CHOWN", "CAP_SYS_ADMIN"]})
    assert s["process"]["capabilities"]["bounding"] == ["CAP_CHOWN"]
    with pytest.raises(InvalidArg, match="both added and dropped"):
        spec.generate_spec(make_ctx(rootfs, tmp_path, cap_add=["KILL"], cap_drop=["kill"]))
    with pytest.raises(InvalidArg, match="invalid cap_add"):
        spec.generate_spec(make_ctx(rootfs, tmp_path, cap_add=["CAP_WIZARD"]))


def test_bounding_capabilities_is_the_specs_set(rootfs, tmp_path):
    """inspect's BoundingCaps (the peer's suite reads it) is the set the spec gets."""
    host = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN", "CAP_SYS_TIME"]
    cfg = {"cap_add": ["SYS_TIME"], "cap_drop": ["kill"]}
    s = gen(rootfs, tmp_path, ctx_kw={"host_bounding_caps": host, "default_capabilities": ["CHOWN", "KILL"]}, **cfg)
    assert spec.bounding_capabilities(cfg, ["CHOWN", "KILL"], host) == s["process"]["capabilities"]["bounding"] == [
        "CAP_CHOWN", "CAP_SYS_TIME"]
    assert spec.bounding_capabilities({"privileged": True, "cap_drop": ["CHOWN"]}, ["KILL"], host) == host[1:]


def test_non_root_user_gets_only_added_caps(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, user="app", cap_add=["NET_BIND_SERVICE"])
    caps = s["process"]["capabilities"]
    assert caps["bounding"] == sorted(spec.DEFAULT_CAPABILITIES)
    for k in ("effective", "permitted", "inheritable", "ambient"):
        assert caps[k] == ["CAP_NET_BIND_SERVICE"]


def test_resources(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, memory=64 * 1024**2, cpus=1.5, pids_limit=100)
    res = s["linux"]["resources"]
    assert res["memory"] == {"limit": 64 * 1024**2, "swap": 128 * 1024**2}
    assert res["cpu"] == {"quota": 150000, "period": 100000}
    assert res["pids"] == {"limit": 100}
    res = gen(rootfs, tmp_path, memory=64 * 1024**2, pids_limit=0,
              ctx_kw={"swap_accounting": False})["linux"]["resources"]
    assert res["memory"] == {"limit": 64 * 1024**2} and "pids" not in res
    with pytest.raises(InvalidArg, match="minimum is 6m"):
        spec.generate_spec(make_ctx(rootfs, tmp_path, memory=1024))


def test_sysctls(rootfs, tmp_path):
    s = gen(rootfs, tmp_path, sysctl={"net.ipv4.ip_forward": "1", "kernel.shmmax": "1000"},
            ctx_kw={"default_sysctls": ["net.ipv4.ping_group_range=0 0", "kernel.msgmax=100"]})
    assert s["linux"]["sysctl"] == {"net.ipv4.ping_group_range": "0 0", "kernel.msgmax": "100",
                                    "net.ipv4.ip_forward": "1", "kernel.shmmax": "1000"}
    with pytest.raises(InvalidArg, match="not namespaced"):
        spec.generate_spec(make_ctx(rootfs, tmp_path, sysctl={"vm.swappiness": "10"}))


def test_no_new_privileges(rootfs, tmp_path):
    assert gen(rootfs, tmp_path, no_new_privileges=True)["process"]["noNewPrivileges"] is True
    assert gen(rootfs, tmp_path, ctx_kw={"no_new_privileges": True})["process"]["noNewPrivileges"] is True
    s = gen(rootfs, tmp_path, no_new_privileges=False, ctx_kw={"no_new_privileges": True})
    assert "noNewPrivileges" not in s["process"]


def test_default_seccomp_is_cap_aware(rootfs, tmp_path):
    s = gen(rootfs, tmp_path)
    sc = s["linux"]["seccomp"]
    denied = sc["syscalls"][0]["names"]
    assert {"mount", "unshare", "setns", "keyctl", "bpf", "kexec_load", "init_module", "ptrace"} & set(denied) == \
        {"mount", "unshare", "setns", "keyctl", "bpf", "kexec_load", "init_module"}
    assert sc["architectures"][0].startswith("SCMP_ARCH_")
    assert any(r["names"] == ["clone3"] and r["errnoRet"] == 38 for r in sc["syscalls"])
    assert sum(1 for r in sc["syscalls"] if r["names"] == ["clone"]) == 7
    s = gen(rootfs, tmp_path, cap_add=["SYS_ADMIN", "SYS_TIME"])
    denied = s["linux"]["seccomp"]["syscalls"][0]["names"]
    assert "mount" not in denied and "settimeofday" not in denied and "keyctl" in denied
    assert not any(r["names"] in (["clone"], ["clone3"]) for r in s["linux"]["seccomp"]["syscalls"])
    assert "seccomp" not in gen(rootfs, tmp_path, seccomp_profile="unconfined")["linux"]


def test_seccomp_profile_file_is_compiled(rootfs, tmp_path):
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
        "syscalls": [
            {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["reboot"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}},
            {"names": ["chown"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "excludes": {"caps": ["CAP_CHOWN"]}},
            {"name": "arch_prctl", "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "arm64"]}},
        ],
    }
    path = tmp_path / "seccomp.json"
    path.write_text(json.dumps(profile))
    s = gen(rootfs, tmp_path, ctx_kw={"seccomp_profile": str(path)})
    sc = s["linux"]["seccomp"]
    assert sc["defaultAction"] == "SCMP_ACT_ERRNO" and sc["defaultErrnoRet"] == 38
    names = [r["names"] for r in sc["syscalls"]]
    assert ["read", "write", "exit_group"] in names and ["mount"] not in names and ["reboot"] not in names
    assert ["chown"] not in names  # the container has CAP_CHOWN
    if os.uname().machine in ("x86_64", "aarch64"):
        assert ["arch_prctl"] in names
        assert len(sc["architectures"]) >= 2
    (tmp_path / "broken.json").write_text("{nope")
    with pytest.raises(InvalidArg, match="cannot use seccomp profile"):
        spec.generate_spec(make_ctx(rootfs, tmp_path, ctx_kw={"seccomp_profile": str(tmp_path / "broken.json")}))


# --------------------------------------------------------------------------- schema

def test_schema_rejects_broken_specs(rootfs, tmp_path):
    good = gen(rootfs, tmp_path)
    breakers = [
        lambda s: s["process"].pop("cwd"),
        lambda s: s["process"].update(args=[]),
        lambda s: s["linux"]["namespaces"].append({"type": "net"}),
        lambda s: s["process"]["rlimits"][0].pop("hard"),
        lambda s: s["process"]["capabilities"]["bounding"].append("chown"),
        lambda s: s["mounts"].append({"destination": "/x", "type": "bind", "options": ["rbind"]}),
        lambda s: s["mounts"].append({"destination": "rel", "type": "tmpfs", "source": "tmpfs"}),
        lambda s: s["linux"]["resources"]["devices"][0].update(access="rwx"),
        lambda s: s["linux"]["seccomp"].update(defaultAction="ALLOW"),
        lambda s: s["process"]["user"].update(uid=-1),
        lambda s: s["process"].update(env=["NOEQUALS"]),
        lambda s: s["linux"].update(cgroupPath="/typo"),
        lambda s: s["annotations"].update(x=1),
    ]
    for breaker in breakers:
        broken = json.loads(json.dumps(good))
        breaker(broken)
        assert not VALIDATOR.is_valid(broken), breaker


def test_write_config_json(rootfs, tmp_path):
    s = gen(rootfs, tmp_path)
    path = spec.write_config_json(str(tmp_path), s)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    with open(path) as f:
        assert json.load(f) == s


# --------------------------------------------------------------------------- real runs with runc

needs_runc = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists(RUNC) or not os.path.exists("/usr/bin/busybox"),
                                reason="needs root, runc and busybox-static")


@pytest.fixture
def runner(tmp_path, rootfs):
    """Run one container to completion with runc; stdio goes to files (runc hands it to the container)."""
    parent = "libpod-engine-test-%d" % os.getpid()
    state_root = str(tmp_path / "runc-root")
    started = []

    def run(ctx_kw=None, image=None, **cfg):
        cid = uuid.uuid4().hex + uuid.uuid4().hex
        kw = {"cgroup_parent": "/" + parent}
        kw.update(ctx_kw or {})
        config = {"id": cid, "name": "t-" + cid[:6], "network": {"mode": "none", "networks": []}}
        config.update(cfg)
        ctx = spec.SpecContext(config=config, rootfs=rootfs, run_dir=str(tmp_path / cid[:12] / "run"),
                               image_config=image or {"Cmd": ["sh"]}, **kw)
        hostname = etcfiles.container_hostname(config)
        files = etcfiles.EtcFiles(
            hosts=etcfiles.hosts_content(hostname=hostname, name=config["name"], add_hosts=["db.local:10.9.8.7"]),
            hostname=etcfiles.hostname_content(hostname),
            resolv_conf=etcfiles.resolv_conf_content(),
            containerenv=etcfiles.containerenv_content(privileged=bool(cfg.get("privileged")), name=config["name"],
                                                       ctr_id=cid))
        files.write(ctx.run_dir)
        s = spec.generate_spec(ctx)
        validate(s)
        bundle = tmp_path / cid[:12] / "bundle"
        bundle.mkdir(parents=True)
        spec.write_config_json(str(bundle), s)
        out_path, err_path = bundle / "stdout", bundle / "stderr"
        started.append(cid)
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.run([RUNC, "--root", state_root, "run", "-b", str(bundle), cid],
                                  stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=120, check=False)
        return proc.returncode, out_path.read_bytes().decode(errors="replace"), \
            err_path.read_bytes().decode(errors="replace"), files, s

    yield run
    for cid in started:
        subprocess.run([RUNC, "--root", state_root, "delete", "--force", cid],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    # remove our cgroup parent from every hierarchy, deepest first
    for hier in os.listdir("/sys/fs/cgroup") if os.path.isdir("/sys/fs/cgroup") else []:
        top = os.path.join("/sys/fs/cgroup", hier, parent)
        if not os.path.isdir(top):
            continue
        for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda w: -w[0].count("/")):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


def _status(out: str) -> dict:
    return {k: v.strip() for k, v in (line.split(":", 1) for line in out.splitlines()
                                      if line.startswith(("Cap", "Seccomp:")))}


def _kv(out: str) -> dict:
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line and ":" not in line.split("=")[0])


PROBE = r"""
grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|Seccomp):' /proc/self/status
for f in kcore keys timer_list; do
  if [ -c /proc/$f ]; then echo $f=masked; elif [ -e /proc/$f ]; then echo $f=visible; else echo $f=absent; fi
done
echo "firmware=$(ls -A /sys/firmware | wc -l)"
echo "sysmount=$(grep ' /sys sysfs ' /proc/mounts | cut -d' ' -f4 2>/dev/null || grep ' /sys sysfs ' /proc/mounts)"
echo "hostname=$(hostname)"
echo "nofile=$(ulimit -n):$(ulimit -Hn)"
echo "id=$(id)"
if unshare -U true 2>/dev/null; then echo userns=allowed; else echo userns=denied; fi
echo "----env"; env; echo "----hosts"; cat /etc/hosts; echo "----end"
"""


@needs_runc
def test_runc_default_container(runner):
    rc, out, err, files, s = runner(command=["sh", "-c", PROBE], hostname="spec-test", env={"FOO": "bar baz"},
                                    ulimits=[{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 2048}])
    assert rc == 0, err
    st = _status(out)
    for k in ("CapPrm", "CapEff", "CapBnd"):
        assert int(st[k], 16) == DEFAULT_CAP_MASK, (k, st)
    assert int(st["CapInh"], 16) == 0 and int(st["CapAmb"], 16) == 0
    assert st["Seccomp"] == "2"
    kv = _kv(out)
    # masked paths are /dev/null binds (files) or empty tmpfs (dirs); this VM's kernel has no /proc/kcore
    assert kv["kcore"] in ("masked", "absent") and kv["keys"] == "masked" and kv["timer_list"] == "masked"
    assert kv["firmware"] == "0"
    assert kv["sysmount"].split(",")[0] == "ro"
    assert kv["hostname"] == "spec-test"
    assert kv["nofile"] == "1024:2048"
    assert kv["id"].startswith("uid=0(root) gid=0(root)")
    assert kv["userns"] == "denied"          # seccomp (and no CAP_SYS_ADMIN) refuses unshare
    env_block = out.split("----env\n")[1].split("----hosts\n")[0].splitlines()
    assert "FOO=bar baz" in env_block and "container=podman" in env_block
    assert "HOSTNAME=spec-test" in env_block and "HOME=/root" in env_block
    hosts = out.split("----hosts\n")[1].split("----end")[0]
    assert hosts == files.hosts
    assert "10.9.8.7\tdb.local" in hosts and "\tspec-test " in hosts


@needs_runc
def test_runc_user_app_with_clamped_default_rlimits(runner):
    rc, out, err, _unused, s = runner(command=["sh", "-c", PROBE], user="app")
    assert rc == 0, err
    st = _status(out)
    assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0
    assert int(st["CapBnd"], 16) == DEFAULT_CAP_MASK
    kv = _kv(out)
    assert kv["id"].startswith("uid=1000(app) gid=1000(app)")
    assert "50(staff)" in kv["id"]
    # podman's NOFILE default (1048576) clamped to this process's hard limit (20000 on the VM)
    _unused, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    expected = 1048576 if hard < 0 else min(1048576, hard)
    assert s["process"]["rlimits"][0] == {"type": "RLIMIT_NOFILE", "hard": expected, "soft": expected}
    assert kv["nofile"] == "%d:%d" % (expected, expected)
    env_block = out.split("----env\n")[1]
    assert "HOME=/home/app" in env_block


@needs_runc
def test_runc_read_only_init_and_mounts(runner, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "hello").write_text("hello from the host\n")
    script = r"""
if touch /newfile 2>/dev/null; then echo rootw=yes; else echo rootw=no; fi
if touch /tmp/x 2>/dev/null; then echo tmpw=yes; else echo tmpw=no; fi
if touch /data/x 2>/dev/null; then echo dataw=yes; else echo dataw=no; fi
if touch /etc/hosts 2>/dev/null; then echo hostsw=yes; else echo hostsw=no; fi
echo "data=$(cat /data/hello)"
echo "scratch=$(grep ' /scratch ' /proc/mounts | cut -d' ' -f4)"
echo "pid=$$"
echo "init=$(tr '\0' ' ' < /proc/1/cmdline)"
"""
    rc, out, err, _unused, s = runner(
        command=["sh", "-c", script], read_only=True, init=True,
        mounts=[{"type": "bind", "source": str(data), "destination": "/data", "options": ["ro"]},
                {"type": "tmpfs", "source": "tmpfs", "destination": "/scratch", "options": ["size=1048576"]}])
    assert rc == 0, err
    kv = _kv(out)
    assert kv["rootw"] == "no" and kv["tmpw"] == "yes" and kv["dataw"] == "no" and kv["hostsw"] == "no"
    assert kv["data"] == "hello from the host"
    assert "size=1024k" in kv["scratch"] and "nosuid" in kv["scratch"] and "noexec" in kv["scratch"]
    assert kv["pid"] != "1"
    assert kv["init"].startswith("/run/podman-init -- sh -c")


@needs_runc
def test_runc_privileged(runner):
    rc, out, err, _unused, _unused = runner(command=["sh", "-c", PROBE + "\n[ -c /dev/kmsg ] && echo kmsg=yes\n"],
                                            privileged=True)
    assert rc == 0, err
    st = _status(out)
    with open("/proc/self/status") as f:
        host_bnd = next(int(line.split()[1], 16) for line in f if line.startswith("CapBnd:"))
    assert int(st["CapEff"], 16) == host_bnd
    assert st["Seccomp"] == "0"
    kv = _kv(out)
    assert kv["keys"] == "visible" and kv["firmware"] != "0" and kv["sysmount"].split(",")[0] == "rw"
    assert kv["userns"] == "allowed"
    assert kv.get("kmsg") == "yes"


@needs_runc
def test_runc_resources_and_unconfined_seccomp(runner):
    script = r"""
echo "mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
echo "quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)"
echo "pids=$(cat /sys/fs/cgroup/pids/pids.max)"
grep Seccomp: /proc/self/status
if unshare -U true 2>/dev/null; then echo userns=allowed; else echo userns=denied; fi
"""
    if not os.path.isdir("/sys/fs/cgroup/memory"):
        pytest.skip("cgroup v1 layout expected")
    rc, out, err, _unused, _unused = runner(command=["sh", "-c", script], memory=64 * 1024**2, cpus=0.5, pids_limit=100,
                                            seccomp_profile="unconfined")
    assert rc == 0, err
    kv = _kv(out)
    assert kv["mem"] == str(64 * 1024**2)
    assert kv["quota"] == "50000"
    assert kv["pids"] == "100"
    assert _status(out)["Seccomp"] == "0"
    assert kv["userns"] == "allowed"        # so the default profile is what denied it above


def test_rootless_on_cgroup_v1_has_no_cgroup_and_warns_only_about_declared_limits(rootfs, tmp_path):
    """podman on a cgroup v1 rootless system: no cgroupsPath, no resources; a declared limit is warned about."""
    ctx = make_ctx(rootfs, tmp_path, ctx_kw={"cgroups": False})
    s = spec.generate_spec(ctx)
    validate(s)
    assert "cgroupsPath" not in s["linux"] and s["linux"]["resources"] == {}
    assert ctx.warnings == []
    ctx = make_ctx(rootfs, tmp_path, ctx_kw={"cgroups": False}, memory=64 << 20)
    s = spec.generate_spec(ctx)
    assert s["linux"]["resources"] == {}
    assert any("cgroups V1 rootless" in w for w in ctx.warnings)


def test_rootless_without_cgroup_drops_limits_and_warns_with_the_given_reason(rootfs, tmp_path):
    ctx = make_ctx(rootfs, tmp_path, ctx_kw={"cgroups": False, "no_cgroup_warning": "not delegated: test"},
                   memory=64 * 1024 * 1024)
    out = spec.generate_spec(ctx)
    assert "cgroupsPath" not in out["linux"] and out["linux"]["resources"] == {}
    assert ctx.warnings == ["not delegated: test"]
    # delegated: the cgroup goes below the parent the container was given
    ctx = make_ctx(rootfs, tmp_path, ctx_kw={"cgroup_parent": "/user.slice/u@1.service/libpod-engine"},
                   memory=64 * 1024 * 1024)
    out = spec.generate_spec(ctx)
    assert out["linux"]["cgroupsPath"] == "/user.slice/u@1.service/libpod-engine/libpod-%s" % CID
    assert out["linux"]["resources"]["memory"]["limit"] == 64 * 1024 * 1024
