# SPDX-License-Identifier: GPL-3.0-or-later
"""Pods in the engine: status, share parsing, records and removal rules, infra image, hooks.

A real Runtime on a temp root (state DB, locks, image store, rootfs dirs); nothing is started,
so no conmon/runc is needed (tests/integration/test_pod.py runs real pods).
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import tarfile

import pytest
from helpers.images import (
    E,
    build_image,
    tar_from_entries,
    write_docker_archive,
    write_oci_archive,
    write_oci_layout,
)
from helpers.roots import throwaway_root

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import (
    CtrInUse,
    ImageError,
    InvalidArg,
    NameInUse,
    NoSuchPod,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.image import infra as infra_mod
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects import pod as podmod
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects import podjoin
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.container import (
    create_container,
    find_container,
    list_containers,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci.spec import SpecContext
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import open_runtime
from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import Record
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container import build_config
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import (
    OPTIONS as CTR_OPTIONS,
)
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.pod import declared_spec, pod_config

needs_catatonit = pytest.mark.skipif(not os.path.isfile("/usr/bin/catatonit"), reason="catatonit not installed")


# -- pure helpers ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("statuses,want", [
    ([], "Created"),
    (["running", "running"], "Running"),
    (["running", "exited"], "Degraded"),
    (["running", "configured"], "Degraded"),
    (["paused", "paused"], "Paused"),
    (["exited", "stopped"], "Exited"),
    (["exited", "configured"], "Stopped"),
    (["configured", "created"], "Created"),
    (["removing"], "Error"),
])
def test_compute_status(statuses, want):
    assert podmod.compute_status(statuses) == want


@pytest.mark.parametrize("value,want", [
    ("ipc,net,uts", ["ipc", "net", "uts"]),
    (["uts", "net", "net"], ["net", "uts"]),
    ("none", []),
    ("", []),
    ("network,pid", ["net", "pid"]),
    ("cgroup", ["cgroup"]),
])
def test_parse_share(value, want):
    assert podmod.parse_share(value) == want


@pytest.mark.parametrize("value,match", [("mnt", "mount namespace"), ("user", "user namespaces"),
                                         ("ipc,bogus", "unknown namespace")])
def test_parse_share_refuses(value, match):
    with pytest.raises(InvalidArg, match=match):
        podmod.parse_share(value)


def _cfg(**kw):
    declared = declared_spec(dict({"name": "p"}, **kw))
    return dict(pod_config(declared), name="p")


@pytest.mark.parametrize("kw,match", [
    ({"infra": False, "share": "net"}, "needs an infra container"),
    ({"infra": False, "publish": ["8080:80"]}, "publish: belongs to the pod's infra"),
    ({"infra": False, "network": "host"}, "network: belongs"),
    ({"infra": False, "infra_image": "x"}, "the pod has no infra container"),
    ({"share": "ipc,uts", "publish": ["8080:80"]}, "does not share its network"),
    ({"network": "host", "publish": ["8080:80"]}, "host network cannot publish"),
    ({"network": "container:x"}, "cannot join another container"),
])
def test_validate_pod_config_refuses(kw, match):
    with pytest.raises(InvalidArg, match=match):
        podmod.validate_pod_config(_cfg(**kw))


def test_declared_share_without_infra_defaults_to_none():
    assert declared_spec({"name": "p", "infra": False})["share"] == []
    assert declared_spec({"name": "p"})["share"] == ["ipc", "net", "uts"]
    podmod.validate_pod_config(_cfg(infra=False))  # valid


def test_pod_join_applies_namespaces_hostname_and_etc():
    join = podjoin.PodJoin(pod_id="p" * 64, pod_name="web", cgroup_parent="/libpod-engine/" + "p" * 64,
                           infra_id="i" * 64, hostname="webhost",
                           namespaces={"network": "/run/x/netns/i", "uts": "/proc/9/ns/uts", "ipc": "/proc/9/ns/ipc"},
                           netns="/run/x/netns/i", ips=["10.90.0.2"],
                           etc={"dns": ["1.1.1.1"], "dns_search": [], "dns_option": [], "add_host": ["db:10.0.0.1"],
                                "network": {"mode": "bridge", "networks": []}})
    ctx = SpecContext(config={"id": "c" * 64, "network": {"mode": "pod"}}, rootfs="/", run_dir="/")
    join.apply_spec(ctx)
    assert ctx.cgroup_parent == "/libpod-engine/" + "p" * 64
    assert ctx.pod_namespaces["network"] == "/run/x/netns/i" and ctx.shared_hostname == "webhost"
    assert ctx.infra_id == "i" * 64
    netns, status, ips = join.network()
    assert netns == "/run/x/netns/i" and status["joined"] == "i" * 64 and ips == ["10.90.0.2"]
    etc = join.etc_config({"hostname": None, "dns": ["9.9.9.9"], "add_host": ["me:1.2.3.4"],
                           "network": {"mode": "pod"}})
    assert etc["hostname"] == "webhost" and etc["dns"] == ["1.1.1.1", "9.9.9.9"]
    assert etc["add_host"] == ["db:10.0.0.1", "me:1.2.3.4"] and etc["network"]["mode"] == "bridge"


def test_pod_join_without_shared_net_gives_the_member_its_own_network():
    join = podjoin.PodJoin(pod_id="p" * 64, pod_name="web", cgroup_parent="/x", infra_id="i" * 64,
                           hostname="web", namespaces={"ipc": "/proc/9/ns/ipc"})
    ctx = SpecContext(config={"id": "c" * 64, "network": {"mode": "pod", "networks": []}}, rootfs="/", run_dir="/")
    join.apply_spec(ctx)
    assert ctx.config["network"] == {"mode": "bridge", "networks": []}
    assert ctx.shared_hostname is None and not join.shares_net


# -- a real runtime, nothing started -----------------------------------------------------------------------
@pytest.fixture
def rt(tmp_path):
    overrides, env = throwaway_root(tmp_path)
    runtime = open_runtime(OpenOptions(overrides=overrides, env=env))
    yield runtime
    runtime.shutdown()


def _member(rt, pod, name, image):
    declared = CTR_OPTIONS.declared({"name": name, "image": "localhost/libpod-engine-infra:x", "pod": pod.name,
                                     "command": ["sleep", "1"], "env": {"WHO": name}})
    return create_container(rt, build_config(rt, declared, image, pod.id), name=name)


@needs_catatonit
def test_infra_image_is_built_once_and_deterministic(rt):
    img = infra_mod.ensure_infra_image(rt)
    assert img.names == [infra_mod.infra_image_name()]
    assert rt.images.image_config(img)["Entrypoint"] == ["/catatonit", "-P"]
    layer = rt.images.layer_dirs(img)[0]
    with open(os.path.join(layer, "catatonit"), "rb") as f, open("/usr/bin/catatonit", "rb") as g:
        assert f.read() == g.read()
    assert os.stat(os.path.join(layer, "catatonit")).st_mode & 0o777 == 0o755
    assert infra_mod.ensure_infra_image(rt).id == img.id
    assert infra_mod.ensure_infra_image(rt, check_mode=True).id == img.id
    # same input, same bytes: the image ID does not depend on when or where it was built
    files = infra_mod.image_documents(infra_mod.layer_tar("/usr/bin/catatonit"), "x:1", {"architecture": "amd64"})
    again = infra_mod.image_documents(infra_mod.layer_tar("/usr/bin/catatonit"), "x:1", {"architecture": "amd64"})
    assert files == again
    with tarfile.open(fileobj=io.BytesIO(infra_mod.layer_tar("/usr/bin/catatonit"))) as tf:
        (m,) = tf.getmembers()
        assert (m.name, m.uid, m.mtime) == ("catatonit", 0, 0)
    index = json.loads(files["index.json"])
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "x:1"


def _trojan(tmp_path, transport: str, name: str) -> str:
    """An image that names itself ``name`` (whose catatonit is a script)."""
    img = build_image([tar_from_entries([E("catatonit", data=b"#!/bin/sh\necho pwned\n", mode=0o755)])],
                      config={"Entrypoint": ["/catatonit", "-P"]})
    path = str(tmp_path / ("trojan-" + transport))
    if transport == "oci":
        write_oci_layout(path, [(img, name)])
    elif transport == "oci-archive":
        write_oci_archive(path, [(img, name)])
    else:
        write_docker_archive(path, img, [name])
    return "%s:%s" % (transport, path)


@pytest.mark.parametrize("transport", ["oci", "oci-archive", "docker-archive"])
def test_no_import_takes_the_infra_name(rt, tmp_path, transport):
    """Issue 22 item 3: an archive naming itself localhost/libpod-engine-infra:<version> became every
    new pod's infra."""
    ref = _trojan(tmp_path, transport, infra_mod.infra_image_name())
    with pytest.raises(ImageError, match="reserved") as ei:
        rt.images.pull(ref)
    assert infra_mod.infra_image_name() in str(ei.value)
    assert rt.images.list() == []
    other = rt.images.pull(_trojan(tmp_path, "oci-archive", "localhost/harmless:1"))
    with pytest.raises(ImageError, match="reserved"):
        rt.images.tag(other.id, infra_mod.infra_image_name())
    assert rt.images.resolve(infra_mod.infra_image_name()) is None


@needs_catatonit
def test_infra_image_is_verified_and_rebuilt(rt, tmp_path):
    """A name that points elsewhere (an import before this check, a hand-edited DB) is not trusted."""
    name = infra_mod.infra_image_name()
    trojan = rt.images.pull(_trojan(tmp_path, "oci-archive", "localhost/harmless:1"))
    with rt.state.tx() as conn:  # the name taken the way an older engine let an import take it
        conn.execute("INSERT INTO image_names(name, image_id) VALUES(?,?)", (name, trojan.id))
    assert infra_mod.ensure_infra_image(rt, check_mode=True) is None  # would build, does not use it
    built = infra_mod.ensure_infra_image(rt)
    assert built.id != trojan.id and rt.images.resolve(name).id == built.id
    with rt.state.tx() as conn:  # taken again after the build
        conn.execute("UPDATE image_names SET image_id=? WHERE name=?", (trojan.id, name))
    assert infra_mod.ensure_infra_image(rt).id == built.id
    assert rt.images.resolve(name).id == built.id


def test_missing_catatonit_is_a_clear_error(rt, monkeypatch):
    monkeypatch.setattr(rt, "init_path", lambda: "/nonexistent/catatonit")
    with pytest.raises(InvalidArg, match="catatonit not found") as exc:
        infra_mod.ensure_infra_image(rt)
    assert "infra_image" in str(exc.value)


@needs_catatonit
def test_pod_records_names_removal_rules_and_recreate(rt):
    image = infra_mod.ensure_infra_image(rt)
    pod = podmod.create_pod(rt, _cfg(publish=["127.0.0.1:18399:80"], hostname="h1"), name="web",
                            infra_image=image)
    infra = pod.infra()
    assert infra is not None and infra.name == "%s-infra" % pod.id[:12]
    assert infra.config["is_infra"] and infra.config["hostname"] == "h1"
    assert infra.config["publish"][0]["host_port"] == 18399 and infra.config["pod"] == pod.id
    assert infra.config["stop_timeout"] == podmod.INFRA_STOP_TIMEOUT
    assert infra.config["image"] == infra_mod.infra_image_name() and infra.config["entrypoint"] is None
    cmd = podmod.infra_container_config(dict(_cfg(infra_command="/bin/pause -x"), id="x" * 64), image)
    assert cmd["entrypoint"] == ["/bin/pause", "-x"] and cmd["command"] is None
    assert rt.state.lookup_name("web") == ("pod", pod.id)
    # pods and containers share one name space
    with pytest.raises(NameInUse):
        podmod.create_pod(rt, _cfg(), name=infra.name, infra_image=image)
    assert pod.status() == "Created"
    a = _member(rt, pod, "web-a", image)
    b = _member(rt, pod, "web-b", image)
    assert [c.name for c in pod.containers()] == [infra.name, "web-a", "web-b"]
    inspect = pod.inspect()
    assert inspect["InfraContainerId"] == infra.id and inspect["NumContainers"] == 3
    assert inspect["Containers"][1] == {"Id": a.id, "Name": "web-a", "State": "created"}
    assert inspect["InfraConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18399"}]}
    # the infra goes only with its pod
    with pytest.raises(CtrInUse, match="infra container of pod web"):
        find_container(rt, infra.name).remove(force=True)
    # members are removed only with force; the refusal names them and changes nothing
    with pytest.raises(CtrInUse, match="web-a, web-b") as exc:
        pod.remove()
    assert "force" in str(exc.value)
    assert len(list_containers(rt)) == 3 and not rt.state.find("pod", pod.id).state.get("removing")
    # what the infra owns is refused on members
    with pytest.raises(InvalidArg, match="publish the ports on the pod"):
        podmod.check_member_config(rt, "web", {"publish": [{"host_port": 1}]}, "x")
    with pytest.raises(InvalidArg, match="hostname"):
        podmod.check_member_config(rt, "web", {"hostname": "other"}, "x")
    # recreate: the members come back in the new pod with their own configs
    old_cfg = {c.name: dict(c.config) for c in (a, b)}
    new, restore, left = podmod.recreate_pod(rt, pod, _cfg(publish=["127.0.0.1:18398:80"]), infra_image=image)
    assert new.id != pod.id and new.name == "web" and restore == [("web-a", False), ("web-b", False)] and left == []
    assert rt.state.find("pod", pod.id) is None
    for name in ("web-a", "web-b"):
        ctr = find_container(rt, name)
        assert ctr.config["pod"] == new.id and ctr.rec.pod_id == new.id
        keep = {k: v for k, v in old_cfg[name].items() if k not in ("id", "name", "created_at", "pod")}
        assert {k: v for k, v in ctr.config.items() if k not in ("id", "name", "created_at", "pod")} == keep
    assert new.infra().config["publish"][0]["host_port"] == 18398
    # with force everything goes: members, infra, record, lock
    locks_before = len(rt.locks.allocated())
    removed = podmod.remove_pod(rt, "web", force=True, timeout=0)
    assert removed[:2] == ["web-b", "web-a"] and len(removed) == 3
    assert list_containers(rt) == [] and podmod.list_pods(rt) == []
    assert len(rt.locks.allocated()) == locks_before - 4
    with pytest.raises(NoSuchPod):
        podmod.get_pod(rt, "web")


@needs_catatonit
def test_recreate_failure_puts_the_old_pod_back(rt):
    image = infra_mod.ensure_infra_image(rt)
    pod = podmod.create_pod(rt, _cfg(), name="keep", infra_image=image)
    _member(rt, pod, "keep-a", image)
    bad = dict(_cfg(), infra_name="-invalid name-")  # fails only when the new infra container is made
    with pytest.raises(InvalidArg, match="recreating pod keep") as exc:
        podmod.recreate_pod(rt, pod, bad, infra_image=image)
    assert "put back" in str(exc.value)
    back = podmod.get_pod(rt, "keep")
    assert [c.name for c in back.members()] == ["keep-a"]
    assert find_container(rt, "keep-a").config["pod"] == back.id


@needs_catatonit
def test_pod_without_infra_and_refresh(rt):
    pod = podmod.create_pod(rt, _cfg(infra=False), name="bare")
    assert pod.infra() is None and pod.inspect()["InfraContainerId"] == ""
    assert pod.remove() == []  # nothing in it: no force needed
    image = infra_mod.ensure_infra_image(rt)
    pod = podmod.create_pod(rt, _cfg(), name="again", infra_image=image)
    state = dict(pod.state, removing=True, cgroup_path="/stale")
    rt.state.save_state("pod", pod.id, state)
    podmod.refresh_pods(rt)
    assert podmod.get_pod(rt, "again").state == {"cgroup_path": "", "removing": False}


def test_member_join_outside_pods_and_of_vanished_pod(rt):
    class Fake:
        def __init__(self, cfg):
            self.config, self.rt, self.name, self.id = cfg, rt, "x", "c" * 64

    assert podjoin.member_join(Fake({})) is None
    from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import CtrStateInvalid

    with pytest.raises(CtrStateInvalid, match="no longer exists"):
        podjoin.member_join(Fake({"pod": "f" * 64}))


@needs_catatonit
def test_pod_volumes_are_in_use_by_the_pods_containers(rt):
    """A named volume of the pod's ``volume`` is used by the infra and the members (so it cannot be
    removed while the pod exists), unless a member mounts something else at that destination."""
    image = infra_mod.ensure_infra_image(rt)
    pod = podmod.create_pod(rt, _cfg(volume=["pv:/pv", "other:/other"]), name="vp", infra_image=image)
    member = _member(rt, pod, "vp-m", image)
    assert rt.state.volume_users("pv") == sorted([pod.infra().id, member.id])
    bind = {"type": "bind", "source": "/tmp", "destination": "/pv", "options": []}
    own = create_container(rt, dict(member.config, mounts=[bind]), name="vp-own")
    assert own.id not in rt.state.volume_users("pv") and own.id in rt.state.volume_users("other")


def test_pod_id_file_written_refused_when_present_and_removed(rt, tmp_path):
    """pod_id_file (podman pod create --pod-id-file): the ID at create, removed with the pod; an existing
    file is refused and the half-made pod removed (as a container's cidfile)."""
    path = str(tmp_path / "pod.id")
    pod = podmod.create_pod(rt, _cfg(infra=False, pod_id_file=path), name="idf")
    assert tmp_path.joinpath("pod.id").read_text() == pod.id
    with pytest.raises(InvalidArg, match="pod_id_file %s: File exists" % path):
        podmod.create_pod(rt, _cfg(infra=False, pod_id_file=path), name="idf2")
    assert podmod.find_pod(rt, "idf2") is None and tmp_path.joinpath("pod.id").read_text() == pod.id
    pod.remove()
    assert not os.path.exists(path)


def test_pod_join_gives_gpus_and_no_hosts_to_members(monkeypatch):
    """gpus reach every container of the pod (a container's own win), as devices; no_hosts and hosts_file reach
    the members sharing the pod's network (their /etc/hosts is the pod's)."""
    etc = {"network": {"mode": "bridge", "networks": []}, "no_hosts": True, "hosts_file": "/srv/hosts"}
    join = podjoin.PodJoin(pod_id="p" * 64, pod_name="web", cgroup_parent="/x", infra_id="i" * 64, hostname="web",
                           namespaces={"network": "/run/netns/i"}, netns="/run/netns/i", etc=etc, gpus="all")
    ctx = SpecContext(config={"id": "c" * 64, "network": {"mode": "pod"}}, rootfs="/", run_dir="/")
    join.apply_spec(ctx)
    assert ctx.config["gpus"] == "all" and ctx.config["no_hosts"] is True
    own = SpecContext(config={"id": "c" * 64, "network": {"mode": "pod"}, "gpus": "device=0"}, rootfs="/", run_dir="/")
    join.apply_spec(own)
    assert own.config["gpus"] == "device=0"
    assert join.etc_config({"network": {"mode": "pod"}})["hosts_file"] == "/srv/hosts"
    assert join.etc_config({"network": {"mode": "pod"}, "hosts_file": "none"})["hosts_file"] == "none"
    infra = dataclasses.replace(join, is_infra=True)
    ctx = SpecContext(config={"id": "i" * 64}, rootfs="/", run_dir="/")
    infra.apply_spec(ctx)
    assert ctx.config["gpus"] == "all" and "no_hosts" not in ctx.config  # the infra's own no_hosts is its config


def test_share_parent_false_puts_members_under_the_engine_parent(rt):
    pod = podmod.create_pod(rt, _cfg(infra=False, share_parent=False), name="sp")
    assert not pod.share_parent and pod.member_cgroup_parent == podjoin.cgroup_base()
    info = pod.inspect()
    assert info["CgroupPath"] == "" and info["CgroupParent"] == podjoin.cgroup_base() and not info["ShareParent"]
    pod.remove()
    shared = podmod.create_pod(rt, _cfg(infra=False), name="sp2")
    assert shared.member_cgroup_parent == shared.cgroup_parent and shared.cgroup_parent.endswith(shared.id)
    shared.remove()


_NO_HOSTS_CASES = [
    ({"share": ["ipc", "net", "uts"], "no_hosts": True}, True),    # the pod writes no /etc/hosts: dropped
    ({"share": ["ipc", "net", "uts"], "no_hosts": False}, False),  # add_host joins, hosts_file is the base
    ({"share": ["ipc", "uts"], "no_hosts": True}, False),          # the member has its own network and hosts file
]


@pytest.mark.parametrize("option,value,unset", [("add_host", ["db:10.0.0.1"], []),
                                                ("hosts_file", "/etc/hosts.base", None)])
@pytest.mark.parametrize("pod_cfg,refused", _NO_HOSTS_CASES)
def test_member_hosts_options_are_refused_only_where_the_pod_has_no_hosts(option, value, unset, pod_cfg, refused):
    pod = podjoin.PodRecord(None, Record(id="p" * 64, name="web", namespace="", lock_id=None, config=pod_cfg,
                                         state={}, created=0.0))
    member = {"hosts_file": None, "add_host": [], "publish": [], "hostname": None, "network": None, option: value}
    if refused:
        with pytest.raises(InvalidArg, match="%s: container m joins pod web, which has no_hosts" % option) as exc:
            podmod.refuse_member_config(pod, member, "m")
        assert "set %s on the pod, or drop no_hosts from the pod" % option in exc.value.hint
    else:
        podmod.refuse_member_config(pod, member, "m")
    podmod.refuse_member_config(pod, dict(member, **{option: unset}), "m")  # nothing dropped: accepted


class _MembersPod(podjoin.PodRecord):
    """A stored pod whose members are given (check_members_for reads only their names and configs)."""

    def __init__(self, config, members):
        super().__init__(None, Record(id="p" * 64, name="web", namespace="", lock_id=None, config=config,
                                      state={}, created=0.0))
        self._members = members

    def members(self):
        return self._members


@pytest.mark.parametrize("new_cfg,member,match", [
    ({"share": ["ipc", "net", "uts"]}, {"hostname": "own"}, "hostname: container m shares the UTS namespace"),
    ({"share": ["ipc", "net"]}, {"publish": [{"host_port": 8080, "container_port": 80}]}, "publish: container m"),
    ({"share": ["ipc", "net"]}, {"network": {"mode": "bridge", "networks": ["back"]}}, "network: container m"),
    ({"share": ["ipc", "net"], "no_hosts": True}, {"add_host": ["db:10.0.0.1"]}, "add_host: container m"),
    ({"share": ["ipc", "net"], "no_hosts": True}, {"hosts_file": "image"}, "hosts_file: container m"),
])
def test_a_pod_recreated_into_a_new_config_checks_every_member_rule(new_cfg, member, match):
    # the member was made in a pod sharing nothing: all of its own settings applied then
    unset = {"publish": [], "hostname": None, "network": {"mode": "bridge", "networks": []}, "add_host": [],
             "hosts_file": None}
    declared = dict(unset, **member)
    ctr_type = dataclasses.make_dataclass("Member", ["name", "config"])
    ctr = ctr_type("m", dict(declared, declared=declared))
    pod = _MembersPod({"share": []}, [ctr])
    with pytest.raises(InvalidArg, match=match):
        podmod.check_members_for(pod, new_cfg)
    podmod.check_members_for(pod, {"share": []})  # the pod as it is: nothing to refuse
    podmod.check_members_for(pod, new_cfg, redeclared=["m"])  # a stack declares m anew (and checked it)
    plain = ctr_type("p", {"declared": unset, "network": {"mode": "pod", "networks": []}})
    podmod.check_members_for(_MembersPod({"share": []}, [plain]), new_cfg)  # nothing of its own: accepted
