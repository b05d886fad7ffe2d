# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers of the host-facing container options (issue 23): one normalised form, clear refusals."""
from __future__ import annotations

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.parse import hostopts as h


def test_normal_forms():
    assert h.parse_cpuset(" 0-2, 4", "cpuset_cpus") == "0-2,4"
    assert h.parse_memory_swap("-1") == -1 and h.parse_memory_swap("1g") == 1 << 30
    assert h.parse_throttles(["/dev/sda:1mb", "/dev/sda:2mb"], "device_read_bps", size=True) == [
        {"path": "/dev/sda", "rate": 2 << 20}]
    assert h.parse_weight_devices({"/dev/sda": 200}) == [{"path": "/dev/sda", "weight": 200}]
    assert h.parse_device("/dev/fuse") == {"host": "/dev/fuse", "container": "/dev/fuse", "permissions": "rwm"}
    assert h.parse_device("/dev/null:/dev/x:mr") == {"host": "/dev/null", "container": "/dev/x", "permissions": "rm"}
    assert h.parse_device_cgroup_rules("c  1:3 mr") == ["c 1:3 rm"]
    assert h.device_cgroup_rule("b *:* rwm") == {"allow": True, "type": "b", "access": "rwm"}
    assert h.parse_namespace_mode("container:web", "ipc") == "container:web"
    assert h.parse_namespace_mode("", "pid") is None
    assert h.parse_umask("077") == "0077" and h.parse_umask("0022") == "0022"
    assert h.parse_group_add(["10", "wheel", "10"]) == ["10", "wheel"]
    assert h.parse_security_opt(["seccomp=unconfined", "no-new-privileges", "mask=/a:/b", "label=disable",
                                 "proc-opts=hidepid=2"]) == {
        "seccomp": "unconfined", "no_new_privileges": True, "mask": ["/a", "/b"], "label": ["disable"],
        "proc_opts": ["hidepid=2"]}


@pytest.mark.parametrize("call,msg", [
    (lambda: h.parse_cpuset("0-", "cpuset_cpus"), "invalid cpuset_cpus"),
    (lambda: h.parse_cpuset("3-1", "cpuset_mems"), "invalid cpuset_mems"),
    (lambda: h.parse_throttles(["sda:1mb"], "device_read_bps", size=True), "invalid device_read_bps"),
    (lambda: h.parse_weight_devices({"/dev/sda": 5}), "invalid blkio_weight_device"),
    (lambda: h.parse_device("fuse"), "invalid device"),
    (lambda: h.parse_device_cgroup_rules("x 1:3 r"), "invalid device_cgroup_rule"),
    (lambda: h.parse_namespace_mode("bridge", "uts"), "invalid uts"),
    (lambda: h.parse_umask("0988"), "invalid umask"),
    (lambda: h.parse_group_add(["keep-groups"]), "invalid group_add"),
    (lambda: h.parse_security_opt(["seccomp"]), "invalid security_opt"),
    (lambda: h.parse_security_opt(["mask=relative"]), "invalid security_opt"),
    (lambda: h.parse_int_range(True, "cpu_shares", 2), "invalid cpu_shares"),
])
def test_refusals_name_the_parameter(call, msg):
    with pytest.raises(InvalidArg, match=msg):
        call()
