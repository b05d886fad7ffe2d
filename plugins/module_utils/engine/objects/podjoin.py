# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a container meets its pod: what a member needs at start, and the infra's removal guard.

Lower than pod.py (which manages members as Containers), so that container.py can call the
pod hooks without importing pod.py: the infra is built with the member's own class.
Lock order: member lock -> infra lock (see pod.py).
"""
from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..base.errors import CtrInUse, CtrStateInvalid
from ..base.netmodes import status_ips
from ..base.status import RUNNING
from ..host.cgroups import cgroup_mode, set_cgroup_resources, swap_accounting
from .locked import LockedObject

_OCI_NS = {"cgroup": "cgroup", "ipc": "ipc", "net": "network", "pid": "pid", "uts": "uts"}


#: pod config fields that are limits of the pod's cgroup (all members and the infra share them)
POD_RESOURCE_KEYS = ("cpus", "memory", "cpu_shares", "cpuset_cpus", "cpuset_mems", "memory_swap", "device_read_bps",
                     "device_write_bps")


def apply_pod_limits(cgroup: str, cfg: Dict[str, Any]) -> List[str]:
    """Write a pod's limits into its cgroup through the one translation of the resource options
    (oci/resources.linux_resources, as a container's), so both mean the same."""
    # imported here: inspect and sync use this module on every task, the resource code only a pod start
    from ..oci.resources import linux_resources  # noqa: PLC0415

    limits = {k: cfg.get(k) for k in POD_RESOURCE_KEYS}
    swap = cgroup_mode() == "v2" or swap_accounting()
    resources = linux_resources(limits, default_pids_limit=0, swap_accounting=swap)
    return set_cgroup_resources(cgroup, resources)


def pod_volume_names(rt, pod_id: Optional[str], own: List[Dict[str, Any]]) -> List[str]:
    """The named volumes a container of the pod mounts through the pod (its ``volume``), where it mounts
    nothing itself (as PodJoin.all_mounts): recorded as the container's, so that the volumes are in
    use while the pod's containers (its infra at least) exist, as a container's own volumes are."""
    rec = rt.state.find("pod", pod_id) if pod_id else None
    if rec is None or rec.id != pod_id:
        return []
    taken = {m["destination"] for m in own}
    return [m["source"] for m in (rec.config or {}).get("mounts") or []
            if m.get("type") == "volume" and m["destination"] not in taken]


def cgroup_base(rt: Any = None) -> str:
    """The cgroup parent of containers outside pods (the spec's default); a rootless engine's goes
    below the cgroup delegated to the user (host/cgdelegation.py) when there is one."""
    delegated = rt.rootless_cgroup if rt is not None else None
    if delegated is not None and delegated.parent:
        return delegated.parent
    from ..oci.spec import SpecContext  # noqa: PLC0415

    return str(SpecContext.cgroup_parent)


def pod_limits(rt: Any, cgroup: str, cfg: Dict[str, Any]) -> List[str]:
    """apply_pod_limits, unless the engine is rootless without a cgroup it may create (cgroup v1, or v2
    without delegation): then the pod has no cgroup and declared limits are ignored with the warning."""
    delegated = rt.rootless_cgroup
    if delegated is not None and not delegated.parent:
        if any(cfg.get(k) for k in POD_RESOURCE_KEYS) and delegated.reason not in rt.warnings:
            rt.warnings.append(delegated.reason)
        return []
    return apply_pod_limits(cgroup, cfg)


class PodRecord(LockedObject):
    """A pod's record: identity, config, the settings its members read."""

    KIND = "pod"

    @property
    def infra_id(self) -> Optional[str]:
        return self.config.get("infra_id")

    @property
    def cgroup_parent(self) -> str:
        return self.config.get("cgroup_parent") or "%s/%s" % (cgroup_base(self.rt).rstrip("/"), self.id)

    @property
    def share_parent(self) -> bool:
        return bool(self.config.get("share_parent", True))

    @property
    def member_cgroup_parent(self) -> str:
        """Its containers' cgroup parent: the pod cgroup, or the engine's base without share_parent."""
        return self.cgroup_parent if self.share_parent else cgroup_base(self.rt)

    @property
    def hostname(self) -> str:
        return self.config.get("hostname") or self.name

    @property
    def share(self) -> List[str]:
        return list(self.config.get("share") or [])


@dataclass
class PodJoin:
    """What a container of a pod needs at start: the infra's namespaces, the pod cgroup, /etc data."""

    pod_id: str
    pod_name: str
    cgroup_parent: str
    is_infra: bool = False
    infra_id: Optional[str] = None
    hostname: Optional[str] = None
    #: OCI namespace type -> path (or "host") of the infra's shared namespaces
    namespaces: Dict[str, str] = field(default_factory=dict)
    netns: Optional[str] = None
    ips: List[str] = field(default_factory=list)
    #: the pod's network settings, for a member's /etc/hosts and resolv.conf
    etc: Dict[str, Any] = field(default_factory=dict)
    #: what the pod gives every container of it: devices, mounts (volume, volumes_from), shm size
    devices: List[Dict[str, Any]] = field(default_factory=list)
    gpus: Optional[str] = None
    mounts: List[Dict[str, Any]] = field(default_factory=list)
    shm_size: Optional[int] = None
    #: (id, ip, names) of the pod's running members on its network: /etc/hosts lines of a member, as
    #: podman's one hosts file of the pod names every container of it (at the infra's address)
    siblings: List[Tuple[str, str, List[str]]] = field(default_factory=list)
    #: the infra's network status, whose DNS servers a member sharing its network names in resolv.conf
    infra_status: Dict[str, Any] = field(default_factory=dict)
    #: a rootless engine's ``[network] default_rootless_network_cmd`` (None as root): the network of a
    #: member in mode pod whose pod does not share its network namespace
    rootless_network: Optional[str] = None

    @property
    def shares_net(self) -> bool:
        return "network" in self.namespaces

    def own_network(self, net: Dict[str, Any]) -> Dict[str, Any]:
        """The network of a member in mode pod when the pod does not share its network: the engine's
        default (bridge as root, the rootless network command rootless: a rootless engine has no bridges)."""
        if self.rootless_network:
            return {"mode": self.rootless_network, "networks": [], "options": []}
        return {"mode": "bridge", "networks": list(net.get("networks") or [])}

    def network(self) -> Tuple[Optional[str], Optional[Dict[str, Any]], List[str]]:
        """_setup_network's result for a member that joins the infra's network namespace."""
        return self.netns, {"netns": self.netns or "", "networks": {}, "ports": [], "joined": self.infra_id}, \
            list(self.ips)

    def etc_config(self, config: Dict[str, Any]) -> Dict[str, Any]:
        """The member's config as its /etc files see it: the pod's hostname, DNS and hosts."""
        cfg = dict(config)
        if self.is_infra:
            return cfg
        if "uts" in self.namespaces:
            cfg["hostname"] = self.hostname
        if self.shares_net:
            for key in ("dns", "dns_search", "dns_option"):
                cfg[key] = list(self.etc.get(key) or []) + [v for v in config.get(key) or []
                                                            if v not in (self.etc.get(key) or [])]
            cfg["add_host"] = list(self.etc.get("add_host") or []) + list(config.get("add_host") or [])
            cfg["network"] = dict(self.etc.get("network") or {})
            # the pod's /etc/hosts settings (podman: one hosts file for the pod's network)
            if self.etc.get("no_hosts"):
                cfg["no_hosts"] = True
            if self.etc.get("hosts_file") and not config.get("hosts_file"):
                cfg["hosts_file"] = self.etc["hosts_file"]
        return cfg

    def all_mounts(self, own: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """The container's mounts and the pod's (volume, volumes_from) where it mounts nothing itself."""
        taken = {m["destination"] for m in own}
        return list(own) + [m for m in self.mounts if m["destination"] not in taken]

    def apply_spec(self, ctx) -> None:
        """Fill a SpecContext: cgroup parent, the pod's devices (every container, as podman); for
        members the infra's namespaces, hostname and the shared IPC's /dev/shm size."""
        ctx.cgroup_parent = self.cgroup_parent
        if self.devices:
            own = ctx.config.get("devices") or []
            taken = {d["container"] for d in own}
            ctx.config = dict(ctx.config, devices=[d for d in self.devices if d["container"] not in taken] + own)
        if self.gpus and not ctx.config.get("gpus"):  # as devices: every container, its own gpus win
            ctx.config = dict(ctx.config, gpus=self.gpus)
        if self.is_infra:
            return
        if self.shares_net and self.etc.get("no_hosts"):
            ctx.config = dict(ctx.config, no_hosts=True)
        if "ipc" in self.namespaces and self.shm_size and not ctx.config.get("shm_size"):
            ctx.config = dict(ctx.config, shm_size=self.shm_size)
        ctx.infra_id = self.infra_id
        ctx.pod_namespaces = dict(self.namespaces)
        if "uts" in self.namespaces:
            ctx.shared_hostname = self.hostname
        net = ctx.config.get("network") or {}
        if net.get("mode") == "pod" and not self.shares_net:
            # the pod does not share its network: the member has its own (the engine's default)
            ctx.config = dict(ctx.config, network=self.own_network(net))


def member_join(ctr: LockedObject) -> Optional[PodJoin]:
    """Called at the start of every container start: None outside pods. For a member, the infra is
    started first (member lock held, then the infra's: the documented lock order)."""
    pod_id = ctr.config.get("pod")
    if not pod_id:
        return None
    rt = ctr.rt
    rec = rt.state.find("pod", pod_id)
    if rec is None or rec.id != pod_id:
        raise CtrStateInvalid("container %s belongs to pod %s, which no longer exists" % (ctr.name, pod_id[:12]),
                              hint="remove the container and create it again in an existing pod")
    pod = PodRecord(rt, rec)
    cfg = pod.config
    if pod.share_parent:
        pod_limits(rt, pod.cgroup_parent, cfg)
    join = PodJoin(pod_id=pod.id, pod_name=pod.name, cgroup_parent=pod.member_cgroup_parent, hostname=pod.hostname,
                   is_infra=ctr.config.get("is_infra", False) or ctr.id == pod.infra_id,
                   infra_id=pod.infra_id,
                   etc={k: cfg.get(k) for k in ("dns", "dns_search", "dns_option", "add_host", "network", "no_hosts",
                                                "hosts_file")},
                   devices=list(cfg.get("devices") or []), gpus=cfg.get("gpus"), mounts=list(cfg.get("mounts") or []),
                   shm_size=cfg.get("shm_size"),
                   rootless_network=rt.cfg.get("network", "default_rootless_network_cmd") if rt.rootless else None)
    if join.is_infra or not pod.infra_id or not pod.share:
        return join
    infra_rec = rt.state.find("container", pod.infra_id)
    infra = type(ctr)(rt, infra_rec) if infra_rec is not None and infra_rec.id == pod.infra_id else None
    if infra is None:
        raise CtrStateInvalid("pod %s has lost its infra container %s" % (pod.name, pod.infra_id[:12]),
                              hint="recreate the pod (state: absent with force, then present)")
    infra.start()  # no-op when it runs; takes the infra lock
    pid = infra.state.get("pid") or 0
    if infra.status != RUNNING or not pid:
        raise CtrStateInvalid("the infra container %s of pod %s is not running" % (infra.name, pod.name),
                              hint="start the pod")
    inet = infra.config.get("network") or {}
    for kind in pod.share:
        oci = _OCI_NS[kind]
        if oci == "network":
            if inet.get("mode") == "host":
                join.namespaces[oci] = "host"
                continue
            join.netns = infra.state.get("netns") or None
            join.namespaces[oci] = join.netns or "/proc/%d/ns/net" % pid
            join.infra_status = dict(infra.state.get("network_status") or {})
            join.ips = status_ips(join.infra_status)
            if join.ips:
                join.siblings = pod_siblings(rt, pod.id, pod.infra_id, ctr.id, join.ips[0])
        elif kind in ("pid", "uts") and infra.config.get(kind) == "host":
            join.namespaces[oci] = "host"  # the pod's pid / uts: host (the infra's mode)
            if kind == "uts":
                join.hostname = socket.gethostname()
        else:
            join.namespaces[oci] = "/proc/%d/ns/%s" % (pid, kind)
    return join


def pod_siblings(rt, pod_id: str, infra_id: Optional[str], own_id: str, ip: str) -> List[Tuple[str, str, List[str]]]:
    """(id, ip, names) of the running containers of a pod that share its infra's network, but ``own_id``:
    all are reached at the infra's ``ip``."""
    out = []
    for rec in rt.state.list("container", pod_id=pod_id):
        if rec.id in (own_id, infra_id) or rec.state.get("status") != RUNNING:
            continue
        if (rec.state.get("network_status") or {}).get("joined") == infra_id:
            out.append((rec.id, ip, [rec.name]))
    return out


def check_infra_removal(ctr: LockedObject) -> None:
    """The infra container goes only with its pod (container.remove calls this for infra containers)."""
    pod_id = ctr.config.get("pod")
    rec = ctr.rt.state.find("pod", pod_id) if pod_id else None
    if rec is None or rec.id != pod_id or (rec.state or {}).get("removing"):
        return
    raise CtrInUse("container %s is the infra container of pod %s and cannot be removed alone" % (ctr.name, rec.name),
                   hint="remove the pod instead (libpod.engine.pod state: absent)")
