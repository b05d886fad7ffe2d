# SPDX-License-Identifier: GPL-3.0-or-later
"""What a container result shows: the full inspect, or (for a stack run, ``_summary_only``) only the ID and
status the stack keeps, equal to the inspect's. A real engine root with a created container (vfs, no start)."""
from __future__ import annotations

import pytest
from helpers.images import busybox_image, write_oci_archive
from helpers.roots import throwaway_root

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import open_runtime
from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container import reconcile_container
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS

IMAGE = "localhost/busybox:latest"


def _params(name: str, **extra) -> dict:
    params = {o.name: None for o in OPTIONS.options}
    params.update(name=name, image=IMAGE, state="created", pull="missing", recreate=False, force_restart=False,
                  insecure_registry=False, command=["sleep", "1000"], network="none", timeout=0)
    params.update(extra)
    return params


def _runtime(tmp_path):
    overrides, env = throwaway_root(tmp_path)
    rt = open_runtime(OpenOptions(overrides=overrides, env=env))
    img = busybox_image(str(tmp_path), config={"Cmd": ["sh"]})
    rt.images.pull("oci-archive:" + write_oci_archive(str(tmp_path / "bb.tar"), [(img, IMAGE)]))
    return rt


def test_a_stack_run_gets_the_id_and_status_of_the_full_inspect(tmp_path):
    rt = _runtime(tmp_path)
    try:
        full = reconcile_container(rt, _params("summ")).obj
        assert full["Config"] and full["State"]["Status"] == "created"
        for check_mode in (False, True):
            short = reconcile_container(rt, _params("summ", _summary_only=True), check_mode=check_mode)
            assert not short.changed, short.actions
            assert short.obj == {"Id": full["Id"], "State": {"Status": full["State"]["Status"]}}
        created = reconcile_container(rt, _params("summ2", _summary_only=True))
        assert created.changed and created.obj == {"Id": created.obj["Id"], "State": {"Status": "created"}}
    finally:
        rt.shutdown()


def test_a_declared_spec_given_by_the_stack_is_the_one_compared(tmp_path):
    """A stack passes the spec its check normalised (_declared): the same no-op, the same change."""
    rt = _runtime(tmp_path)
    try:
        reconcile_container(rt, _params("decl"))
        same = _params("decl")
        res = reconcile_container(rt, dict(same, _declared=OPTIONS.declared(same)))
        assert not res.changed, res.actions
        other = _params("decl", env={"A": "1"})
        res = reconcile_container(rt, dict(other, _declared=OPTIONS.declared(other)), check_mode=True)
        assert res.changed and res.actions[0].startswith("recreate decl: env changed"), res.actions
    finally:
        rt.shutdown()


def test_the_infra_container_of_a_pod_is_refused_before_its_lock(tmp_path):
    """The lookup before the lock reads only the key and is_infra (State.find_key): still refused."""
    rt = _runtime(tmp_path)
    try:
        made = reconcile_container(rt, _params("infra"))
        rec = rt.state.find("container", "infra")
        rt.state.rewrite_config("container", rec.id, dict(rec.config, is_infra=True))
        with pytest.raises(InvalidArg, match="name: infra is the infra container of a pod"):
            reconcile_container(rt, _params("infra"))
        assert made.changed
    finally:
        rt.shutdown()
