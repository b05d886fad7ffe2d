# SPDX-License-Identifier: GPL-3.0-or-later
"""The OCI spec of a container with a user namespace: the namespace, its mappings, and the mounts and
sysctls that still work in it (namespaces it does not own: the host's /sys, no mqueue, no net defaults)."""
from __future__ import annotations

# pylint: disable-next=unused-import
from test_spec import gen, mount_at, rootfs  # noqa: F401 - rootfs: the module fixture

MAP = ["0:200000:65536"]


def _types(s):
    return {n["type"]: n.get("path") for n in s["linux"]["namespaces"]}


def test_private_user_namespace_with_mappings(rootfs, tmp_path):  # noqa: F811
    s = gen(rootfs, tmp_path, uidmap=MAP, gidmap=["0:300000:65536"], network={"mode": "none", "networks": []})
    assert _types(s)["user"] is None
    assert s["linux"]["uidMappings"] == [{"containerID": 0, "hostID": 200000, "size": 65536}]
    assert s["linux"]["gidMappings"] == [{"containerID": 0, "hostID": 300000, "size": 65536}]
    assert mount_at(s, "/sys")["type"] == "sysfs"  # its own network namespace: a sysfs of its own
    assert s["linux"]["sysctl"] == {"net.ipv4.ping_group_range": "0 0"}


def test_joined_network_and_host_ipc(rootfs, tmp_path):  # noqa: F811
    s = gen(rootfs, tmp_path, uidmap=MAP, ipc="host", network={"mode": "host", "networks": []})
    sys_mount = mount_at(s, "/sys")
    assert sys_mount["type"] == "bind" and sys_mount["source"] == "/sys" and "ro" in sys_mount["options"]
    assert "sysctl" not in s["linux"]  # the default net sysctl cannot be written there
    assert all(m["destination"] != "/dev/mqueue" or m["type"] == "bind" for m in s["mounts"])


def test_ns_path_and_host(rootfs, tmp_path):  # noqa: F811
    s = gen(rootfs, tmp_path, userns="ns:/proc/1/ns/user", uidmap=MAP, gidmap=MAP)
    assert _types(s)["user"] == "/proc/1/ns/user" and s["linux"]["uidMappings"][0]["hostID"] == 200000
    s = gen(rootfs, tmp_path)
    assert "user" not in _types(s) and "uidMappings" not in s["linux"]
