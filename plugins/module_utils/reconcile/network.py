# SPDX-License-Identifier: GPL-3.0-or-later
"""Reconcile one bridge network: the task's declared spec vs the one stored with the network.

A network cannot be changed in place (podman has no ``network update`` for these options):
any difference recreates it. Running containers on it are disconnected first and connected
again afterwards (same process, same address when it still fits the subnet); the actions say
so. Removal is refused while containers are configured for the network, unless ``force``,
which disconnects them (they stay, without that network).
"""
from __future__ import annotations

import ipaddress
from typing import Any, Dict, List, Mapping, Optional

from ..engine.base.errors import EngineError, InvalidArg, NetworkError
from ..engine.network.ipam import check_gateway, check_gateway6, check_ip_range, parse_subnet, parse_subnet6
from ..engine.network.manager import check_network_name
from ..engine.network.record import KNOWN_OPTIONS
from ..engine.objects import netattach
from ..engine.objects.container import Container
from ..engine.parse import values as parse
from .options import NOT_COMPARED, Option, OptionTable, reasons
from .result import Result

STATES = ("present", "absent")
_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")


def _subnet(value: Any, ctx: Any = None) -> str:
    return str(parse_subnet(value, what="network parameter subnet"))


def _subnet6(value: Any, ctx: Any = None) -> str:
    return str(parse_subnet6(value, what="network parameter ipv6_subnet"))


def _address6(value: Any, ctx: Any = None) -> str:
    try:
        return str(ipaddress.IPv6Address(str(value).strip()))
    except ValueError:
        raise InvalidArg("network parameter ipv6_gateway %r is not an IPv6 address" % (value,),
                         hint="for example fd00:90::1")


def _address(param: str):
    def norm(value: Any, ctx: Any = None) -> str:
        try:
            return str(ipaddress.IPv4Address(str(value).strip()))
        except ValueError:
            raise InvalidArg("network parameter %s %r is not an IPv4 address" % (param, value),
                             hint="for example 10.89.0.1")
    return norm


def _ip_range(value: Any, ctx: Any = None) -> str:
    try:
        return str(ipaddress.IPv4Network(str(value).strip(), strict=False))
    except ValueError as err:
        raise InvalidArg("network parameter ip_range %r is not a CIDR range: %s" % (value, err),
                         hint="for example 10.89.0.128/25, inside subnet")


def _labels(value: Any, ctx: Any = None) -> Dict[str, str]:
    return parse.parse_labels(value, "labels")


def normalize_options(value: Any, ctx: Any = None) -> Dict[str, str]:
    """``{mtu: 1400, isolate: true}`` (or ``["mtu=1400", "isolate=true"]``) -> stored strings."""
    if isinstance(value, (list, tuple)):
        pairs = []
        for item in value:
            key, sep, val = str(item).partition("=")
            pairs.append((key.strip(), val.strip() if sep else "true"))
        value = dict(pairs)
    if not isinstance(value, Mapping):
        raise InvalidArg("network parameter options must be a dict such as {mtu: 1400, isolate: true}")
    out: Dict[str, str] = {}
    for key, val in value.items():
        if key not in KNOWN_OPTIONS:
            raise InvalidArg("network parameter options: unknown option %r" % key,
                             hint="known options: %s" % ", ".join(KNOWN_OPTIONS))
        if key == "mtu":
            try:
                mtu = int(str(val).strip())
            except ValueError:
                mtu = -1
            if not 68 <= mtu <= 65535:
                raise InvalidArg("network parameter options: mtu %r must be a number from 68 to 65535" % (val,))
            out["mtu"] = str(mtu)
        else:
            text = str(val).strip().lower()
            if text not in _TRUE + _FALSE:
                raise InvalidArg("network parameter options: isolate %r must be true or false" % (val,))
            if text in _TRUE:
                out["isolate"] = "true"
    return out


OPTIONS = OptionTable([
    Option("name", required=True, update=NOT_COMPARED),
    Option("state", choices=STATES, arg_default="present", update=NOT_COMPARED),
    Option("force", type="bool", arg_default=False, update=NOT_COMPARED),
    Option("recreate", type="bool", arg_default=False, update=NOT_COMPARED),
    Option("driver", choices=("bridge",), default="bridge"),
    Option("subnet", normalise=_subnet),
    Option("gateway", normalise=_address("gateway")),
    Option("ip_range", normalise=_ip_range),
    Option("ipv6", type="bool", default=False, arg_default=False),
    Option("ipv6_subnet", normalise=_subnet6),
    Option("ipv6_gateway", normalise=_address6),
    Option("internal", type="bool", default=False, arg_default=False),
    Option("disable_dns", type="bool", default=False, arg_default=False),
    Option("interface_name"),
    Option("labels", type="dict", aliases=("label",), default={}, normalise=_labels),
    Option("options", type="raw", aliases=("opt",), default={}, normalise=normalize_options),
])


def declared_spec(params: Mapping[str, Any]) -> Dict[str, Any]:
    """Task parameters -> the declared spec stored with the network and compared, validated."""
    spec = OPTIONS.declared(params)
    for key in ("gateway", "ip_range"):
        if spec[key] is not None and spec["subnet"] is None:
            raise InvalidArg("network parameter %s needs subnet" % key,
                             hint="give the subnet too (the automatic one is not known in advance)")
    if spec["gateway"] is not None:
        check_gateway(spec["subnet"], spec["gateway"])
    if spec["ip_range"] is not None:
        check_ip_range(spec["subnet"], spec["ip_range"])
    if spec["ipv6_gateway"] is not None:
        if spec["ipv6_subnet"] is None:
            raise InvalidArg("network parameter ipv6_gateway needs ipv6_subnet",
                             hint="give ipv6_subnet too (the automatic one is not known in advance)")
        check_gateway6(spec["ipv6_subnet"], spec["ipv6_gateway"])
    if spec["ipv6_subnet"] is not None:
        spec["ipv6"] = True  # an IPv6 subnet is dual stack (podman: --subnet v6 implies --ipv6)
    return spec


def declared_from_record(net) -> Dict[str, Any]:
    """The spec a stored network implies when it was made without one (the default network)."""
    if net.declared is not None:
        # specs stored before dual stack existed: IPv4 only
        return {"ipv6": False, "ipv6_subnet": None, "ipv6_gateway": None, **net.declared}
    return {"driver": net.driver, "ipv6": False, "ipv6_subnet": None, "ipv6_gateway": None, "subnet": None,
            "gateway": None, "ip_range": None, "internal": net.internal,
            "disable_dns": not net.dns_enabled, "interface_name": None, "labels": dict(net.labels),
            "options": dict(net.options)}


def _create(rt, name: str, spec: Mapping[str, Any]) -> Dict[str, Any]:
    rec = rt.network.ensure_network(
        name, subnet=spec["subnet"], gateway=spec["gateway"], bridge=spec["interface_name"],
        internal=spec["internal"], ip_range=spec["ip_range"], dns_enabled=not spec["disable_dns"],
        labels=spec["labels"], options=spec["options"], declared=dict(spec), ipv6=bool(spec.get("ipv6")),
        subnet6=spec.get("ipv6_subnet"), gateway6=spec.get("ipv6_gateway"))
    rt.event("network", "create", id=rec["id"], name=name)
    return rec


def _remove(rt, net) -> None:
    rt.network.remove_network(net.name, force=True)
    rt.event("network", "remove", id=net.id, name=net.name)


def reconcile_network(rt, params: Mapping[str, Any], check_mode: bool = False) -> Result:
    res = Result(kind="network")
    try:
        _reconcile(rt, params, check_mode, res)
    except EngineError as err:
        err.actions = list(res.actions)
        raise
    return res


def _names(recs: List[Any]) -> str:
    return ", ".join(r.name for r in recs)


def _reconcile(rt, params: Mapping[str, Any], check_mode: bool, res: Result) -> None:
    name = params.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidArg("network parameter name is required")
    check_network_name(name)
    state = params.get("state") or "present"
    force = bool(params.get("force"))
    mgr = rt.network
    net = mgr.find(name)
    users = netattach.users(rt, name)

    if state == "absent":
        if net is None:
            return
        if name == rt.cfg.get("network", "default_network"):
            raise InvalidArg("network %s is the engine's default network and cannot be removed" % name,
                             hint="set [network] default_network to another name first")
        if users and not force:
            raise NetworkError("network %s cannot be removed: container(s) %s use it" % (name, _names(users)),
                               hint="remove or disconnect those containers first, or set force: true, which "
                                    "disconnects them")
        res.before, res.after = {"exists": True}, {"exists": False}
        verb = "disconnect" if check_mode else "disconnected"
        if users:
            if not check_mode:
                for rec in users:
                    netattach.disconnect(Container(rt, rec), name)
            res.act("%s container(s) %s from network %s" % (verb, _names(users), name))
        if check_mode:
            res.act("remove network %s" % name)
            return
        _remove(rt, net)
        res.act("removed network %s" % name)
        return

    spec = declared_spec(params)
    if net is None:
        res.before, res.after = {"exists": False}, {"exists": True}
        if check_mode:
            res.act("create network %s" % name)
            return
        _create(rt, name, spec)
        res.act("created network %s" % name)
        res.obj = mgr.find(name).inspect()
        return

    old = declared_from_record(net)
    changed = OPTIONS.differences(old, spec)
    why = [reasons(changed)] if changed else []
    if params.get("recreate"):
        why.append("recreate requested")
    if not why:
        res.obj = net.inspect()
        return
    if changed:
        d = OPTIONS.diff(old, spec, changed)
        res.before, res.after = d["before"], d["after"]
    live = [r for r in users if (r.state.get("network_status") or {}).get("networks", {}).get(name)]
    if check_mode:
        res.act("recreate network %s: %s" % (name, "; ".join(why)))
        if live:
            res.act("reconnect container(s) %s" % _names(live))
        res.obj = net.inspect()
        return
    _recreate(rt, net, spec, live, why=why, res=res)


def _recreate(rt, net, spec: Mapping[str, Any], live: List[Any], *, why: List[str], res: Result) -> None:
    name = net.name
    old_ips: Dict[str, Optional[str]] = {}
    old_ips6: Dict[str, Optional[str]] = {}
    for rec in live:
        old_ips[rec.id] = rt.network.ipam.lease_of(rec.id, name)
        old_ips6[rec.id] = rt.network.ipam.lease_of(rec.id, name, 6) if net.subnet6 else None
        ctr = Container(rt, rec)
        with ctr.locked():
            ctr.sync()
            netattach.disconnect_live(ctr, name)
    _remove(rt, net)
    _create(rt, name, spec)
    res.act("recreated network %s: %s" % (name, "; ".join(why)))
    new = rt.network.find(name)
    for rec in live:
        ip = old_ips.get(rec.id)
        keep = ip if ip and ipaddress.IPv4Address(ip) in ipaddress.IPv4Network(new.subnet) \
            and ip != new.gateway else None
        ip6 = old_ips6.get(rec.id)
        keep6 = ip6 if ip6 and new.subnet6 and ipaddress.IPv6Address(ip6) in ipaddress.IPv6Network(new.subnet6) \
            and ip6 != new.gateway6 else None
        ctr = Container(rt, rec)
        with ctr.locked():
            ctr.sync()
            # the declared ip / ip6 / mac_address / interface_name of the attachment, else the old addresses
            settings = ((ctr.config.get("network") or {}).get("attach") or {}).get(name)
            netattach.connect_live(ctr, name, static_ip=keep, static_ip6=keep6, settings=settings)
    if live:
        res.act("reconnected container(s) %s to network %s" % (_names(live), name))
    res.obj = new.inspect()
