# SPDX-License-Identifier: GPL-3.0-or-later
"""A rootless pod's network: its infra gets ``[network] default_rootless_network_cmd`` (a rootless engine has
no bridges), a member that declares no network is stored in mode ``pod`` (it joins the infra's namespace, as
a rootful member), and a member of a pod that does not share its network gets the rootless default.

A real engine root (vfs, nothing started) made to look rootless (Runtime.rootless): what is stored and
what a start would use; tests/integration/test_rootless.py runs the containers as a real unprivileged user.
"""
from __future__ import annotations

import os

import pytest
from helpers.images import busybox_image, write_oci_archive
from helpers.roots import throwaway_root

from ansible_collections.libpod.engine.plugins.module_utils.engine import runtime as runtime_mod
from ansible_collections.libpod.engine.plugins.module_utils.engine.image import infra as infra_mod
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects import pod as podmod
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects import podjoin
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.container import find_container
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci.spec import SpecContext
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import open_runtime
from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container import reconcile_container
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.pod import declared_spec, pod_config

IMAGE = "localhost/busybox:latest"
needs_catatonit = pytest.mark.skipif(not os.path.isfile("/usr/bin/catatonit"), reason="catatonit not installed")


def _params(name: str, **extra) -> dict:
    params = {o.name: None for o in OPTIONS.options}
    params.update(name=name, image=IMAGE, state="created", pull="missing", recreate=False, force_restart=False,
                  insecure_registry=False, command=["sleep", "1000"], timeout=0)
    params.update(extra)
    return params


def _pod_cfg(**kw) -> dict:
    return dict(pod_config(declared_spec(dict({"name": "p"}, **kw))), name="p")


@pytest.fixture
def rt(tmp_path, monkeypatch):
    """An engine root that says it is rootless (nothing here needs the user's namespace: nothing starts)."""
    overrides, env = throwaway_root(tmp_path)
    runtime = open_runtime(OpenOptions(overrides=overrides, env=env))
    img = busybox_image(str(tmp_path), config={"Cmd": ["sh"]})
    runtime.images.pull("oci-archive:" + write_oci_archive(str(tmp_path / "bb.tar"), [(img, IMAGE)]))
    monkeypatch.setattr(runtime_mod.Runtime, "rootless", property(lambda self: True))
    yield runtime
    runtime.shutdown()


def test_a_member_without_network_is_stored_in_mode_pod_and_an_old_one_is_not_recreated(rt):
    pod = podmod.create_pod(rt, _pod_cfg(infra=False), name="rlpod")
    res = reconcile_container(rt, _params("m", pod="rlpod"))
    assert res.changed, res.actions
    member = find_container(rt, "m")
    assert member.config["network"] == {"mode": "pod", "networks": []}
    assert member.config["declared"]["network"] == {"mode": "bridge", "networks": []}  # the declared spec as before
    # outside a pod: the rootless default, as before
    reconcile_container(rt, _params("alone"))
    assert find_container(rt, "alone").config["network"]["mode"] == "slirp4netns"
    # a member made before the fix (stored with the rootless default): the same task changes nothing
    rt.state.rewrite_config("container", member.id, dict(member.config, network={
        "mode": "slirp4netns", "networks": [], "options": []}))
    again = reconcile_container(rt, _params("m", pod="rlpod"))
    assert not again.changed, again.actions
    assert find_container(rt, "m").id == member.id
    assert pod.id == member.config["pod"]


def test_a_member_of_a_pod_without_a_shared_network_gets_the_rootless_default(rt):
    podmod.create_pod(rt, _pod_cfg(infra=False), name="rlpod")
    reconcile_container(rt, _params("m", pod="rlpod"))
    member = find_container(rt, "m")
    with member.locked():
        join = podjoin.member_join(member)
    assert join is not None and not join.shares_net
    ctx = SpecContext(config=dict(member.config), rootfs="/", run_dir="/")
    join.apply_spec(ctx)
    assert ctx.config["network"] == {"mode": "slirp4netns", "networks": [], "options": []}
    assert join.own_network(member.config["network"]) == ctx.config["network"]


@needs_catatonit
def test_the_infra_of_a_rootless_pod_gets_the_rootless_default_network(rt):
    image = infra_mod.ensure_infra_image(rt)
    pod = podmod.create_pod(rt, _pod_cfg(publish=["127.0.0.1:18399:80"]), name="web", infra_image=image)
    infra = pod.infra()
    assert infra.config["network"] == {"mode": "slirp4netns", "networks": [], "options": []}
    assert infra.config["publish"][0]["host_port"] == 18399
    assert pod.config["network"] == {"mode": "bridge", "networks": []}  # the pod's declared network as before
    assert pod.inspect()["InfraConfig"]["NetworkMode"] == "slirp4netns"
