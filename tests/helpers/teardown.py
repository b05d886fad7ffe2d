# SPDX-License-Identifier: GPL-3.0-or-later
"""Remove every object of a test's engine root in podman's reset order (pods, containers,
volumes, networks), leaving images and the DB: the integration tests' teardown (not a part of
the engine, so that modules do not ship it)."""
from __future__ import annotations

from typing import List

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import EngineError


def teardown_all(rt, timeout: int = 0) -> List[str]:
    """Force-remove all containers (stop timeout ``timeout``), volumes and networks; names removed."""
    from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.container import list_containers

    removed: List[str] = []
    pods = rt.state.list("pod")
    if pods:
        from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.pod import remove_pod

        for rec in pods:
            try:
                remove_pod(rt, rec.id, force=True, timeout=timeout)
                removed.append("pod %s" % rec.name)
            except EngineError:
                pass
    for ctr in list_containers(rt):
        ctr.remove(force=True, timeout=timeout)
        removed.append("container %s" % ctr.name)
    if rt.state.count("volume"):
        for vol in rt.volumes.list():
            rt.volumes.remove(vol.name, force=True)
            removed.append("volume %s" % vol.name)
    if rt.has_networking():
        net = rt.network
        for n in net.list_networks():
            net.remove_network(n["name"], force=True)
            removed.append("network %s" % n["name"])
    from ansible_collections.libpod.engine.plugins.module_utils.engine.network.manager import remove_netns_dir

    remove_netns_dir(rt.network.netns_dir)
    return removed
