# SPDX-License-Identifier: GPL-3.0-or-later
"""Task parameters of the bench containers (no imports of its own: used by bench/_worker.py
before its timed imports)."""
from __future__ import annotations

IMAGE = "localhost/busybox:latest"


def container_params(name, *, network="none", state="started", command=None, timeout=0, runtime=None):
    """reconcile_container() params: every option None (as AnsibleModule would pass), then ours."""
    from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS

    params = {o.name: None for o in OPTIONS.options}
    params.update(name=name, image=IMAGE, state=state, pull="missing", recreate=False, force_restart=False,
                  insecure_registry=False, command=command or ["sleep", "1000"], network=network,
                  timeout=timeout)
    if runtime:
        params["oci_runtime"] = runtime
    return params
