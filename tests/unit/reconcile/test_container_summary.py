# SPDX-License-Identifier: GPL-3.0-or-later
"""What a container result shows: the full inspect, or (for a stack run, ``_summary_only``) only the ID and
status the stack keeps, equal to the inspect's. A real engine root with a created container (vfs, no start)."""
from __future__ import annotations

from helpers.images import busybox_image, write_oci_archive

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


def test_a_stack_run_gets_the_id_and_status_of_the_full_inspect(tmp_path):
    static = tmp_path / "static"
    overrides = {"engine": {"static_dir": str(static), "tmp_dir": str(tmp_path / "run"),
                            "volume_path": str(static / "volumes")},
                 "storage": {"graph_root": str(static / "storage"), "graph_driver": "vfs"}}
    conf = tmp_path / "containers.conf"
    conf.write_text("")
    rt = open_runtime(OpenOptions(overrides=overrides, env={"LIBPOD_ENGINE_CONF": str(conf)}))
    try:
        img = busybox_image(str(tmp_path), config={"Cmd": ["sh"]})
        rt.images.pull("oci-archive:" + write_oci_archive(str(tmp_path / "bb.tar"), [(img, IMAGE)]))
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
