# SPDX-License-Identifier: GPL-3.0-or-later
"""The pod option rows (issue 23): the container module's parsers, in place vs recreate, refusals."""
from __future__ import annotations

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.pod import validate_pod_config
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.podjoin import POD_RESOURCE_KEYS
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS as CTR
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.options import IN_PLACE
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.pod_options import OPTIONS
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.pod_spec import declared_spec, pod_config

SHARED = ("cpu_shares", "cpuset_cpus", "cpuset_mems", "memory", "memory_swap", "device", "volumes_from", "sysctl",
          "shm_size", "security_opt", "restart_policy", "label_file", "device_read_bps", "device_write_bps",
          "userns", "uidmap", "gidmap", "subuidname", "subgidname")


@pytest.mark.parametrize("name", SHARED)
def test_one_parser_per_option(name):
    """A pod option that a container also has is parsed by the container module's row (or a wrapper of it)."""
    assert OPTIONS.by_name[name].normalise is CTR.by_name[name].normalise


def test_omitted_equals_written_default():
    omitted = OPTIONS.declared({"name": "p"})
    written = OPTIONS.declared({"name": "p", "cpu_shares": 0, "device": [], "volume": [], "sysctl": {},
                                "security_opt": [], "restart_policy": "no", "exit_policy": "continue",
                                "userns": "host", "uidmap": []})
    assert OPTIONS.differences(omitted, written) == []


def test_pod_cgroup_limits_in_place_others_recreate():
    in_place = sorted(o.name for o in OPTIONS.compared() if o.update == IN_PLACE)
    assert in_place == sorted(POD_RESOURCE_KEYS)
    assert OPTIONS.needs_recreate(["device", "volume", "sysctl", "shm_size", "security_opt"]) == \
        ["device", "volume", "sysctl", "shm_size", "security_opt"]
    assert OPTIONS.needs_recreate(["restart_policy", "label", "label_file"]) == []


def test_config_merges_label_file_and_volumes(tmp_path):
    labels = tmp_path / "labels"
    labels.write_text("team=a\nx=file\n")
    declared = declared_spec({"name": "p", "label": {"x": "task"}, "label_file": str(labels),
                              "volume": ["/srv:/srv:ro"], "device": ["/dev/null:/dev/n:r"], "cpu_shares": "512"})
    cfg = pod_config(declared)
    assert cfg["labels"] == {"team": "a", "x": "task"}
    assert [m["destination"] for m in cfg["mounts"]] == ["/srv"] and cfg["devices"][0]["container"] == "/dev/n"
    assert cfg["cpu_shares"] == 512


@pytest.mark.parametrize("params, msg", [
    ({"blkio_weight": "300"}, "blkio_weight is not supported yet"),
    ({"gidmap": ["0:1"]}, "gidmap"),
    ({"userns": "keep-id"}, "keep-id is only supported in rootless mode"),
    ({"volume": ["/data"]}, "anonymous volume cannot be shared"),
    ({"memory": "1m"}, "the minimum is 6m"),
])
def test_refusals_name_the_parameter(params, msg):
    with pytest.raises(InvalidArg, match=msg):
        OPTIONS.declared(dict(params, name="p"))


def test_pod_user_namespace_record():
    """A pod-wide user namespace: the container module's translation into the pod record (the infra
    gets it, members join it); contradictions and a pod without infra are refused."""
    cfg = pod_config(declared_spec({"name": "p", "uidmap": ["0:300000:65536"]}))
    assert (cfg["userns"], cfg["uidmap"], cfg["gidmap"]) == (None, ["0:300000:65536"], ["0:300000:65536"])
    assert pod_config(declared_spec({"name": "p", "userns": "auto:size=1024"}))["userns"] == "auto:size=1024"
    assert pod_config(declared_spec({"name": "p"}))["uidmap"] == []
    with pytest.raises(InvalidArg, match="userns: auto cannot be combined with uidmap"):
        pod_config(declared_spec({"name": "p", "userns": "auto", "uidmap": ["0:300000:65536"]}))
    with pytest.raises(InvalidArg, match="held by the infra container, and infra is false"):
        validate_pod_config(pod_config(declared_spec({"name": "p", "infra": False, "userns": "auto"})))


def test_combinations_and_infra_options_refused():
    with pytest.raises(InvalidArg, match="memory_swap needs memory"):
        validate_pod_config(pod_config(declared_spec({"name": "p", "memory_swap": "1g"})))
    with pytest.raises(InvalidArg, match="device_read_bps: /dev/pod-missing"):
        validate_pod_config(pod_config(declared_spec({"name": "p", "device_read_bps": ["/dev/pod-missing:1mb"]})))
    with pytest.raises(InvalidArg, match="shm_size: belongs to the pod's infra container"):
        validate_pod_config(pod_config(declared_spec({"name": "p", "infra": False, "shm_size": "8m"})))


def test_infra_network_settings_are_the_container_modules_translation():
    """ip / ip6 / mac_address / network_alias land on the infra's first bridge network, as fold_attach does for a
    container; hosts_file is the container module's parser."""
    assert OPTIONS.by_name["hosts_file"].normalise is CTR.by_name["hosts_file"].normalise
    assert OPTIONS.by_name["gpus"].normalise is CTR.by_name["gpus"].normalise
    cfg = pod_config(declared_spec({"name": "p", "ip": "10.88.0.9", "mac_address": "92:D0:C6:0A:29:33",
                                    "network_alias": ["web"], "network": ["front", "back"]}))
    assert cfg["network"]["attach"] == {"front": {"aliases": ["web"], "ip": "10.88.0.9",
                                                  "mac_address": "92:d0:c6:0a:29:33"}}
    assert pod_config(declared_spec({"name": "p"}))["network"] == {"mode": "bridge", "networks": []}


NS_PATH = "ns:/proc/1/ns/pid"


@pytest.mark.parametrize("value, want", [("host", "host"), ("private", None), ("", None), (NS_PATH, NS_PATH)])
def test_pod_pid_uts_modes(value, want):
    assert OPTIONS.declared({"name": "p", "pid": value})["pid"] == want
    assert OPTIONS.declared({"name": "p", "uts": value})["uts"] == want


@pytest.mark.parametrize("params, msg", [
    ({"pid": "container:x"}, "invalid pid"),
    ({"uts": "ns:relative"}, "invalid uts"),
    ({"ip": "10.0.0.300"}, "ip '10.0.0.300' is not an IPv4 address"),
])
def test_pod_network_and_namespace_refusals(params, msg):
    with pytest.raises(InvalidArg, match=msg):
        pod_config(declared_spec(dict(params, name="p")))


@pytest.mark.parametrize("params, msg", [
    ({"pid": "host"}, "pid: host is the infra container's namespace, which the pod's containers join only"),
    ({"uts": "ns:/nonexistent"}, "uts: /nonexistent does not exist"),
    ({"uts": "host", "hostname": "h"}, "hostname: the pod uses the host's UTS namespace"),
    ({"share_parent": False, "memory": "64m"}, "memory: the pod's limits live in the pod cgroup"),
    ({"no_hosts": True, "hosts_file": "/etc/hosts"}, "no_hosts: .* so hosts_file has nowhere to go"),
    ({"infra": False, "no_hosts": True}, "no_hosts: belongs to the pod's infra container"),
    ({"infra": False, "mac_address": "92:d0:c6:0a:29:33"}, "ip/ip6/mac_address/network_alias: belong"),
])
def test_pod_namespace_hosts_and_parent_combinations_refused(params, msg):
    with pytest.raises(InvalidArg, match=msg):
        validate_pod_config(pod_config(declared_spec(dict(params, name="p"))))


def test_pod_namespace_modes_accepted_when_shared():
    validate_pod_config(pod_config(declared_spec({"name": "p", "pid": "host", "share": "net,pid,uts", "uts": "host"})))
    validate_pod_config(pod_config(declared_spec({"name": "p", "share_parent": False, "no_hosts": True})))
