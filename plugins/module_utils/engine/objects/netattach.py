# SPDX-License-Identifier: GPL-3.0-or-later
"""A container joins or leaves one network without a restart (``podman network connect/disconnect``).

``connect_live``/``disconnect_live`` change a running container's netns (the caller holds
the container's lock); ``connect``/``disconnect`` also store the new network list in the
config (and in the declared spec, so a re-run of the container task sees the difference).
A stopped container joins its configured networks at its next start.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..base.status import PAUSED, RUNNING
from ..network import attach


def bridge_networks(cfg: Dict[str, Any], default: str) -> Optional[List[str]]:
    """The networks a container config names (its default network when none); None if not bridged."""
    net = cfg.get("network") or {"mode": "bridge", "networks": []}
    if net.get("mode", "bridge") != "bridge":
        return None
    return list(net.get("networks") or [default])


def _store(ctr, names: List[str]) -> None:
    cfg = dict(ctr.config)
    cfg["network"] = dict(cfg.get("network") or {"mode": "bridge"}, networks=list(names))
    declared = cfg.get("declared")
    if isinstance(declared, dict) and isinstance(declared.get("network"), dict):
        cfg["declared"] = dict(declared, network=dict(declared["network"], networks=list(names)))
    ctr.rt.state.rewrite_config("container", ctr.id, cfg)
    ctr.rec.config = cfg


def _live_networks(ctr) -> Optional[Dict[str, Any]]:
    if ctr.status not in (RUNNING, PAUSED):
        return None
    status = ctr.state.get("network_status") or {}
    return status.get("networks") if status.get("netns") and not status.get("joined") else None


def users(rt, network: str) -> List[Any]:
    """Container records configured for ``network`` (any state), in name order."""
    default = rt.cfg.get("network", "default_network")
    out = [rec for rec in rt.state.list("container") if network in (bridge_networks(rec.config, default) or [])]
    return sorted(out, key=lambda r: r.name)


def _event(ctr, status: str, network: str) -> None:
    ctr.rt.event("network", status, id=ctr.id, name=network, attributes={"container": ctr.name})


def connect_live(ctr, network: str, *, static_ip: Optional[str] = None,
                 settings: Optional[Dict[str, Any]] = None, static_ip6: Optional[str] = None) -> bool:
    """Add the interface on ``network`` to a running container (lock held); False if not running or on it.

    ``settings``: the container's declared ip / ip6 / mac_address / interface_name on that network;
    ``static_ip`` / ``static_ip6``: addresses to keep where none is declared (a network recreate)."""
    live = _live_networks(ctr)
    if live is None or network in live:
        return False
    settings = settings or {}
    live[network] = attach.connect(ctr.rt.network, ctr.id, network, static_ip=settings.get("ip") or static_ip,
                                   mac=settings.get("mac_address"), ifname=settings.get("interface_name"),
                                   static_ip6=settings.get("ip6") or static_ip6)
    ctr.save()
    ctr.rt.network.dns_sync([network], lambda: ctr.rt.state.list("container"))
    _event(ctr, "connect", network)
    return True


def disconnect_live(ctr, network: str) -> bool:
    """Remove a running container's interface on ``network`` (lock held); False if it had none."""
    live = _live_networks(ctr)
    if live is None or network not in live:
        return False
    attach.disconnect(ctr.rt.network, ctr.id, network)
    del live[network]
    ctr.save()
    ctr.rt.network.dns_sync([network], lambda: ctr.rt.state.list("container"))
    _event(ctr, "disconnect", network)
    return True


def disconnect(ctr, network: str) -> bool:
    """Take ``network`` out of the container's config and its live netns (locks the container)."""
    with ctr.locked():
        ctr.sync()
        names = bridge_networks(ctr.config, ctr.rt.cfg.get("network", "default_network"))
        if names is None or network not in names:
            return disconnect_live(ctr, network)
        names.remove(network)
        _store(ctr, names)
        if not disconnect_live(ctr, network):
            _event(ctr, "disconnect", network)
        return True
