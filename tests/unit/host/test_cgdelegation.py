# SPDX-License-Identifier: GPL-3.0-or-later
"""host/cgdelegation.py: where a rootless engine may make cgroups on a cgroup v2 host, decided on a
fake cgroupfs tree (this VM is hybrid, so the real v2 path cannot run here)."""
from __future__ import annotations

import os

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import cgdelegation

USER = 4242  # how the user's files appear to the engine (its uid; 0 inside its user namespace)
SVC = "/user.slice/user-1000.slice/user@1000.service"
OWN = SVC + "/app.slice/run-1.scope"
PROC = "0::%s\n" % OWN


def cgdir(root, path, owner=0, subtree="", mode=0o644):
    """A cgroup directory with cgroup.procs and cgroup.subtree_control, given to ``owner``."""
    d = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(d, exist_ok=True)
    for name, text in (("cgroup.procs", ""), ("cgroup.subtree_control", subtree)):
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(text + "\n")
        os.chmod(p, mode)
        os.chown(p, owner, owner)
    os.chown(d, owner, owner)
    return d


@pytest.fixture
def tree(tmp_path):
    """A systemd-like tree: root-owned slices above the user's service, nothing delegated yet."""
    if os.geteuid() != 0:
        pytest.skip("chown needs root")
    root = tmp_path / "cgroup"
    for path in ("/user.slice", "/user.slice/user-1000.slice"):
        cgdir(root, path, subtree="cpu io memory pids")
    return root


def test_unified_path_of_hybrid_and_v2_texts():
    hybrid = "12:memory:/x\n1:name=systemd:/y\n0::/user.slice/a.scope\n"
    assert cgdelegation.unified_path(hybrid) == "/user.slice/a.scope"
    assert cgdelegation.unified_path("0::/\n") == "/"
    assert cgdelegation.unified_path("12:memory:/x\n") is None


def test_delegated_service_gets_the_engine_cgroup_below_the_nearest_delegated_ancestor(tree):
    cgdir(tree, SVC, owner=USER, subtree="cpu io memory pids")
    cgdir(tree, SVC + "/app.slice", owner=USER, subtree="memory pids")
    cgdir(tree, OWN, owner=USER)  # the leaf the engine runs in: no controllers (no internal processes)
    d = cgdelegation.delegation(PROC, USER, str(tree))
    assert d.parent == SVC + "/app.slice/libpod-engine" and d.reason == ""
    assert d.controllers == ["memory", "pids"]


def test_an_ancestor_without_the_controllers_is_skipped(tree):
    cgdir(tree, SVC, owner=USER, subtree="cpu memory pids")
    cgdir(tree, SVC + "/app.slice", owner=USER, subtree="cpu")  # pids not enabled below it
    cgdir(tree, OWN, owner=USER)
    assert cgdelegation.delegation(PROC, USER, str(tree)).parent == SVC + "/libpod-engine"


@pytest.mark.parametrize("case", ["root-owned", "read-only files", "no controllers"])
def test_not_delegated_means_no_cgroup_and_a_reason_naming_the_fix(tree, case):
    if case == "root-owned":
        cgdir(tree, SVC, owner=0, subtree="cpu memory pids")
        cgdir(tree, OWN, owner=0)
    elif case == "read-only files":
        cgdir(tree, SVC, owner=USER, subtree="memory pids", mode=0o444)
        cgdir(tree, OWN, owner=USER, mode=0o444)
    else:
        cgdir(tree, SVC, owner=USER, subtree="")
        cgdir(tree, OWN, owner=USER)
    d = cgdelegation.delegation(PROC, USER, str(tree))
    assert d.parent == ""
    assert "is not delegated" in d.reason and OWN in d.reason and "Delegate=yes" in d.reason


def test_the_process_outside_the_delegated_subtree_gets_none(tree):
    cgdir(tree, SVC, owner=USER, subtree="memory pids")  # delegated, but the engine runs in a session scope
    cgdir(tree, "/user.slice/user-1000.slice/session-3.scope", owner=0)
    d = cgdelegation.delegation("0::/user.slice/user-1000.slice/session-3.scope\n", USER, str(tree))
    assert d.parent == "" and "session-3.scope" in d.reason


def test_v1_and_hybrid_have_no_cgroup_with_podmans_warning(tmp_path):
    for mode in ("v1", "hybrid"):
        d = cgdelegation.rootless_delegation(mode, USER, "v1 warning", proc_cgroup=str(tmp_path / "none"),
                                             root=str(tmp_path))
        assert d.parent == "" and d.reason == "v1 warning"
    d = cgdelegation.rootless_delegation("v2", USER, "v1 warning", proc_cgroup=str(tmp_path / "none"),
                                         root=str(tmp_path))
    assert d.parent == "" and "no cgroup v2 entry" in d.reason
