# SPDX-License-Identifier: GPL-3.0-or-later
"""The host-facing container option rows (issue 23): normal forms, in place vs recreate, refusals."""
from __future__ import annotations

import pwd

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.base.records import CONTAINER_FIELDS
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci import userfiles
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci.resources import IN_PLACE_KEYS
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.options import IN_PLACE

BASE = {"name": "c", "image": "busybox"}


def test_omitted_equals_written_default():
    omitted = OPTIONS.declared(BASE)
    written = OPTIONS.declared(dict(BASE, cpu_shares=0, cpu_quota=-1, memory_swappiness=-1, oom_kill_disable=False,
                                    cgroups="enabled", userns="host", security_opt=[], read_only_tmpfs=True,
                                    seccomp_policy="default", device=[], ipc="", passwd=True,
                                    passwd_entry="", hostuser=""))
    assert OPTIONS.differences(omitted, written) == []


def test_passwd_omitted_is_podmans_default_and_older_records_compare_equal():
    # podman's --passwd defaults to true; a container declared before the option existed stored None
    omitted = OPTIONS.declared(BASE)
    assert omitted["passwd"] is True
    assert OPTIONS.differences(dict(omitted, passwd=None), omitted) == []
    assert OPTIONS.differences(omitted, OPTIONS.declared(dict(BASE, passwd=False))) == ["passwd"]


def test_in_place_rows_are_the_runtime_update_keys():
    in_place = {o.name for o in OPTIONS.compared() if o.update == IN_PLACE} - {"publish", "restart_policy"}
    assert in_place == set(IN_PLACE_KEYS)
    assert set(OPTIONS.config_values(OPTIONS.declared(BASE))) <= CONTAINER_FIELDS


def test_spellings_compare_equal():
    a = OPTIONS.declared(dict(BASE, memory_reservation="32m", umask="077", cpuset_cpus="0, 1",
                              security_opt=["no-new-privileges=true"], device_cgroup_rule="c 1:3  mr"))
    b = OPTIONS.declared(dict(BASE, memory_reservation=32 * 1024 * 1024, umask="0077", cpuset_cpus="0,1",
                              security_opt=["no-new-privileges"], device_cgroup_rule=["c 1:3 rm"]))
    assert OPTIONS.differences(a, b) == []


@pytest.mark.parametrize("params,msg", [
    ({"userns": "keep-id"}, "keep-id is only supported in rootless mode"),
    ({"userns": "nomap"}, "userns: nomap is only supported in rootless mode"),
    ({"userns": "auto:size=x"}, "userns: auto size 'x' is not a positive number"),
    ({"uidmap": ["0:1"]}, "uidmap: '0:1' is not an ID mapping"),
    ({"gidmap": ["0:1:5", "2:100:5"]}, "gidmap: container ranges 0:1:5 and 2:100:5 overlap"),
    ({"subuidname": "a:b"}, "subuidname: 'a:b' is not a user name"),
    ({"hostuser": "no-such-user-lpe"}, "hostuser: no-such-user-lpe is not a user of this host"),
    ({"passwd_entry": "$USERNAME:$UID"}, "invalid passwd_entry"),
    ({"group_entry": "$GROUPNAME:x:$GID:a\nb:x:1:"}, "invalid group_entry"),
    ({"cgroups": "split"}, "cgroups: split is not supported: the caller's cgroup"),
    ({"cgroup_parent": "relative"}, "the cgroupfs manager takes an absolute path"),
    ({"cgroupns": "container:x"}, "cgroupns is not supported yet"),
    ({"cpu_shares": 1}, "invalid cpu_shares"),
    ({"oom_score_adj": 2000}, "invalid oom_score_adj"),
    ({"chrootdirs": "rel"}, "invalid chrootdirs"),
])
def test_refusals_name_the_parameter(params, msg):
    with pytest.raises(InvalidArg, match=msg):
        OPTIONS.declared(dict(BASE, **params))


def test_hostuser_whose_home_passwd_cannot_hold_is_refused_when_declared(monkeypatch):
    """Refused while the task's parameters are read, before anything is created (an NSS user, faked)."""
    rec = pwd.struct_passwd(("ldapu", "x", 5005, 5005, "L", "/home/a:b", "/bin/sh"))
    monkeypatch.setattr(userfiles.pwd, "getpwnam", lambda n: rec)
    with pytest.raises(InvalidArg, match="hostuser: host user ldapu has a ':'.* in its home directory"):
        OPTIONS.declared(dict(BASE, hostuser="ldapu"))
