# SPDX-License-Identifier: GPL-3.0-or-later
"""objects/podjoin.py: a rootless engine's pod cgroups follow the cgroup v2 delegation decision
(host/cgdelegation.py): below the delegated cgroup, or none (limits ignored with the warning)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.host.cgdelegation import Delegation
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects import podjoin


def fake_rt(delegation):
    return SimpleNamespace(rootless_cgroup=delegation, warnings=[])


def test_cgroup_base_as_root_and_rootless():
    assert podjoin.cgroup_base() == podjoin.cgroup_base(fake_rt(None)) == "/libpod-engine"
    assert podjoin.cgroup_base(fake_rt(Delegation("/u.slice/u@1.service/libpod-engine"))) == \
        "/u.slice/u@1.service/libpod-engine"
    assert podjoin.cgroup_base(fake_rt(Delegation("", reason="no"))) == "/libpod-engine"


def test_pod_limits_without_a_cgroup_warn_only_when_declared(monkeypatch):
    monkeypatch.setattr(podjoin, "apply_pod_limits", lambda *a: pytest.fail("no cgroup may be written"))
    rt = fake_rt(Delegation("", reason="not delegated"))
    assert podjoin.pod_limits(rt, "/libpod-engine/p", {"memory": None}) == []
    assert rt.warnings == []
    podjoin.pod_limits(rt, "/libpod-engine/p", {"memory": 64 << 20})
    podjoin.pod_limits(rt, "/libpod-engine/p", {"cpus": 1.0})
    assert rt.warnings == ["not delegated"]


def test_pod_limits_with_a_cgroup_are_written(monkeypatch):
    seen = []
    monkeypatch.setattr(podjoin, "apply_pod_limits", lambda cg, cfg: seen.append(cg) or [cg])
    for rt in (fake_rt(None), fake_rt(Delegation("/d/libpod-engine"))):
        assert podjoin.pod_limits(rt, "/d/libpod-engine/p", {"memory": 64 << 20}) == ["/d/libpod-engine/p"]
    assert len(seen) == 2
