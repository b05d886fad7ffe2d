# SPDX-License-Identifier: GPL-3.0-or-later
"""Pods and their lifecycle, after libpod's pod_api.go / runtime_pod_common.go.

A pod is a DB record (sharing the name space with containers) with an immutable config
and a small mutable state; its status is never stored: it is computed from its members'
states each time it is asked for (pod_status.go). The infra container holds the shared
namespaces (default ``ipc,net,uts``), the pod's ports, hostname, DNS and /etc/hosts;
members join its namespaces when they start, which starts the infra first. Every member
and the infra get the pod's cgroup as parent (``<cgroup base>/<pod ID>``), where the
pod's ``cpus`` and ``memory`` limits live.

Lock order (never reversed, so no deadlock): pod lock -> member lock -> infra lock.
Container operations never take the pod lock.
"""
from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..base import faults
from ..base.clock import rfc3339_nano
from ..base.errors import CtrInUse, EngineError, InvalidArg, wrap
from ..base.names import generate_name, new_id, validate_name
from ..base.records import ContainerConfig, default_network
from ..base.status import PAUSED, STOPPING
from ..host.cgroups import remove_cgroup
from ..image.infra import infra_image_name
from ..oci.resources import check_combinations, device_numbers
from ..oci.spechost import cdi_devices
from ..store.state import Record
from . import freeze
from .container import RUNNING, Container, create_container, display_status, list_containers
from .podjoin import POD_RESOURCE_KEYS, PodRecord, cgroup_base, pod_limits

# pod states (define/podstate.go), as podman prints them
POD_CREATED = "Created"
POD_RUNNING = "Running"
POD_DEGRADED = "Degraded"
POD_STOPPED = "Stopped"
POD_EXITED = "Exited"
POD_PAUSED = "Paused"
POD_ERROR = "Error"

#: kernel namespaces a pod can share, in the order they are listed; the default is podman's
SHAREABLE = ("cgroup", "ipc", "net", "pid", "uts")
DEFAULT_SHARE = ("ipc", "net", "uts")
#: label on the named volumes made for a Kubernetes emptyDir: value = the pod's name
KUBE_EMPTYDIR_LABEL = "io.libpod-engine.kube.emptydir"
INFRA_STOP_TIMEOUT = 10


# -- pure helpers ----------------------------------------------------------------------------------
def compute_status(statuses: Sequence[str]) -> str:
    """The pod state from its containers' statuses (engine names: configured, created, running...)."""
    if not statuses:
        return POD_CREATED
    running = sum(1 for s in statuses if s == RUNNING)
    paused = sum(1 for s in statuses if s == "paused")
    stopped = sum(1 for s in statuses if s in ("stopped", "exited"))
    created = sum(1 for s in statuses if s in ("configured", "created"))
    odd = len(statuses) - running - paused - stopped - created
    if running:
        return POD_RUNNING if running == len(statuses) else POD_DEGRADED
    if paused == len(statuses):
        return POD_PAUSED
    if stopped == len(statuses):
        return POD_EXITED
    if stopped:
        return POD_STOPPED
    if odd:
        return POD_ERROR
    return POD_CREATED


def parse_share(value: Any, param: str = "share") -> List[str]:
    """``"ipc,net,uts"`` or a list -> sorted unique kinds; ``none`` / ``""`` -> [] (share nothing)."""
    items: List[str] = []
    raw = value.split(",") if isinstance(value, str) else list(value or [])
    for item in raw:
        kind = str(item).strip().lower()
        if kind in ("", "none"):
            continue
        if kind in ("mnt", "mount"):
            raise InvalidArg("%s: the mount namespace cannot be shared in a pod" % param,
                             hint="choose from %s" % ", ".join(SHAREABLE))
        if kind == "user":
            raise InvalidArg("%s: user namespaces are not supported by this engine" % param,
                             hint="choose from %s" % ", ".join(SHAREABLE))
        kind = {"network": "net"}.get(kind, kind)
        if kind not in SHAREABLE:
            raise InvalidArg("%s: unknown namespace %r" % (param, item), hint="choose from %s, or none"
                             % ", ".join(SHAREABLE))
        if kind not in items:
            items.append(kind)
    return sorted(items)


# -- the pod object --------------------------------------------------------------------------------
class Pod(PodRecord):
    """One pod of an open Runtime (libpod's *Pod): its members and lifecycle."""

    def _event(self, status: str) -> None:
        self.rt.event("pod", status, id=self.id, name=self.name)

    # -- members --------------------------------------------------------------------------------
    def containers(self) -> List[Container]:
        """Every container of the pod, the infra first, then in creation order."""
        ctrs = list_containers(self.rt, pod_id=self.id)
        return sorted(ctrs, key=lambda c: 0 if c.id == self.infra_id else 1)

    def members(self) -> List[Container]:
        return [c for c in self.containers() if c.id != self.infra_id]

    def infra(self) -> Optional[Container]:
        if not self.infra_id:
            return None
        for c in list_containers(self.rt, pod_id=self.id):
            if c.id == self.infra_id:
                return c
        return None

    def synced(self) -> List[Container]:
        """The containers with their state folded from conmon's exit files (not in read-only mode)."""
        ctrs = self.containers()
        if not getattr(self.rt, "read_only", False):
            for c in ctrs:
                with c.locked():
                    c.sync()
        return ctrs

    def status(self, ctrs: Optional[List[Container]] = None) -> str:
        ctrs = self.synced() if ctrs is None else ctrs
        return compute_status([c.status for c in ctrs])

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> List[str]:
        """Start the infra, then every member not running; the names started."""
        with self.locked():
            return self._start_locked()

    def start_members(self, names: Sequence[str]) -> Dict[str, str]:
        """Start the members ``names`` in the pod's start order (the infra first when it does not run),
        going on past a failure (a put back, restore_members); {name: why it is not running} of those
        that did not start."""
        failed: Dict[str, str] = {}
        with self.locked():
            self._start_locked(only=names, failed=failed)
        return failed

    def _start_locked(self, only: Optional[Sequence[str]] = None, failed: Optional[Dict[str, str]] = None) -> List[str]:
        """The one start sequence: infra, then the members in creation order. ``only``: those members
        (and the infra); ``failed``: collects each failure instead of raising at the first."""
        started = []
        for ctr in self.containers():
            if ctr.status == PAUSED:
                continue  # frozen, not stopped: unpause resumes it
            if only is not None and ctr.name not in only and ctr.id != self.infra_id:
                continue
            try:
                if ctr.start():
                    started.append(ctr.name)
            except EngineError as exc:
                if failed is not None:
                    failed[ctr.name] = str(exc)
                    continue
                if started:
                    exc.msg += " (started before the failure: %s)" % ", ".join(started)
                raise wrap(exc, "starting pod %s" % self.name)
        if started:
            self._event("start")
        return started

    def stop(self, timeout: Optional[int] = None) -> List[str]:
        """Stop the members (last created first), then the infra; the names stopped."""
        with self.locked():
            return self._stop_locked(timeout)

    def _stop_locked(self, timeout: Optional[int] = None) -> List[str]:
        stopped = []
        ctrs = self.containers()
        order = [c for c in reversed(ctrs) if c.id != self.infra_id] + [c for c in ctrs if c.id == self.infra_id]
        for ctr in order:
            try:
                if ctr.stop(timeout):
                    stopped.append(ctr.name)
            except EngineError as exc:
                raise wrap(exc, "stopping pod %s" % self.name)
        if stopped:
            self._event("stop")
        return stopped

    def restart(self, timeout: Optional[int] = None) -> Tuple[List[str], List[str]]:
        """Stop what runs, then start everything: (stopped, started)."""
        with self.locked():
            stopped = self._stop_locked(timeout)
            started = self._start_locked()
            if stopped or started:
                self._event("restart")
            return stopped, started

    def _members_then_infra(self) -> List[Container]:
        ctrs = self.containers()
        return [c for c in reversed(ctrs) if c.id != self.infra_id] + [c for c in ctrs if c.id == self.infra_id]

    def kill(self, signal: int, wait: float) -> List[str]:
        """podman pod kill: ``signal`` to every running container (members, then the infra), each
        waited for up to ``wait`` s; the names signalled."""
        with self.locked():
            ctrs = [c for c in self._members_then_infra() if c.status in (RUNNING, PAUSED, STOPPING)]
            done = self._each(ctrs, lambda c: freeze.kill(c, signal, wait), "killing")
            if done:
                self._event("kill")
            return done

    def pause(self) -> List[str]:
        """podman pod pause: freeze every running container (the infra too); the names paused."""
        with self.locked():
            done = self._each([c for c in self._members_then_infra() if c.status == RUNNING], freeze.pause, "pausing")
            if done:
                self._event("pause")
            return done

    def unpause(self) -> List[str]:
        """podman pod unpause: thaw every paused container (the infra first); the names resumed. Nothing
        frozen (the usual case of state: started): no lock taken."""
        if not any(c.status == PAUSED for c in self.containers()):
            return []
        with self.locked():
            done = self._each([c for c in self.containers() if c.status == PAUSED], freeze.unpause, "unpausing")
            if done:
                self._event("unpause")
            return done

    def _each(self, ctrs: List[Container], action, what: str) -> List[str]:
        done: List[str] = []
        for ctr in ctrs:
            try:
                if action(ctr):
                    done.append(ctr.name)
            except EngineError as exc:
                if done:
                    exc.msg += " (done before the failure: %s)" % ", ".join(done)
                raise wrap(exc, "%s pod %s" % (what, self.name))
        return done

    def update(self, changes: Dict[str, Any]) -> None:
        """Stored-only and in-place changes (labels, cpus, memory): config rewritten, cgroup updated."""
        with self.locked():
            cfg = dict(self.config)
            cfg.update(changes)
            if any(k in changes for k in POD_RESOURCE_KEYS):
                pod_limits(self.rt, self.cgroup_parent, cfg)
            self.rt.state.rewrite_config("pod", self.id, cfg)
            self.rec.config = cfg
            self._event("update")

    def remove(self, force: bool = False, timeout: Optional[int] = None, volumes: bool = True) -> List[str]:
        """removePod: members only with force (else a refusal naming them), the infra, cgroup, record."""
        removed: List[str] = []
        with self.locked():
            members = self.members()
            if members and not force:
                raise CtrInUse("pod %s has containers %s and cannot be removed without force"
                               % (self.name, ", ".join(c.name for c in members)),
                               hint="remove those containers first, or set force: true to stop and remove "
                                    "them with the pod")
            self.state["removing"] = True
            self.save()
            try:
                for ctr in reversed(members):
                    ctr.remove(force=True, timeout=timeout, volumes=volumes)
                    removed.append(ctr.name)
                infra = self.infra()
                if infra is not None:
                    infra.remove(force=True, timeout=timeout)
                    removed.append(infra.name)
            except BaseException as exc:
                self.state["removing"] = False
                try:
                    self.save()
                except EngineError:
                    pass
                if isinstance(exc, EngineError):
                    if removed:
                        exc.msg += " (removed before the failure: %s)" % ", ".join(removed)
                    raise wrap(exc, "removing pod %s" % self.name)
                raise
            left = remove_cgroup(self.cgroup_parent)
            if left:
                self.rt.warnings.append("pod %s: cgroup %s still in use, left in place" % (self.name, ", ".join(left)))
            with self.rt.state.tx():
                self.rt.state.remove("pod", self.rec)
                self.rt.locks.free(self.rec.lock_id)
            if self.config.get("pod_id_file"):
                try:
                    os.unlink(self.config["pod_id_file"])
                except OSError:
                    pass  # removed by someone else: nothing to undo
            self._event("remove")
        if volumes and self.rt.state.count("volume"):
            for vol in self.rt.volumes.list(labels={KUBE_EMPTYDIR_LABEL: self.name}):
                try:
                    self.rt.volumes.remove(vol.name)
                except EngineError:
                    pass  # still used by a container outside the pod: kept, as anonymous volumes are
        return removed

    # -- inspect --------------------------------------------------------------------------------
    def inspect(self, ctrs: Optional[List[Container]] = None) -> Dict[str, Any]:
        cfg = self.config
        ctrs = self.containers() if ctrs is None else ctrs
        ports: Dict[str, List[Dict[str, str]]] = {}
        for p in cfg.get("publish") or []:
            key = "%s/%s" % (p["container_port"], p["protocol"])
            ports.setdefault(key, []).append({"HostIp": p.get("host_ip", ""), "HostPort": str(p.get("host_port", ""))})
        net = cfg.get("network") or {"mode": "bridge", "networks": []}
        infra = next((c for c in ctrs if c.id == self.infra_id), None)
        return {
            "Id": self.id,
            "Name": self.name,
            "Created": cfg.get("created_at", ""),
            "State": compute_status([c.status for c in ctrs]),
            "Hostname": self.hostname,
            "Labels": cfg.get("labels") or {},
            "CgroupParent": self.cgroup_parent if self.share_parent else self.member_cgroup_parent,
            "CgroupPath": self.cgroup_parent if self.share_parent else "",
            "ShareParent": self.share_parent,
            "CPUs": cfg.get("cpus"),
            "MemoryLimit": cfg.get("memory"),
            # podman's pod inspect names (define.InspectPodData), as the peer's pod_info checks read them
            "cpu_shares": cfg.get("cpu_shares"),
            "cpuset_cpus": cfg.get("cpuset_cpus") or "",
            "cpuset_mems": cfg.get("cpuset_mems") or "",
            "memory_swap": cfg.get("memory_swap"),
            "gpus": cfg.get("gpus") or "",
            "devices": [{"PathOnHost": d.get("host"), "PathInContainer": d.get("container"),
                         "CgroupPermissions": d.get("permissions")} for d in cfg.get("devices") or []],
            "mounts": [{"Type": m.get("type"), "Source": m.get("source"), "Destination": m.get("destination"),
                        "Options": list(m.get("options") or [])} for m in cfg.get("mounts") or []],
            "volumes_from": list(cfg.get("volumes_from") or []),
            "RestartPolicy": (cfg.get("restart_policy") or {}).get("name", "no"),
            "ExitPolicy": cfg.get("exit_policy") or "continue",
            "InfraContainerId": self.infra_id or "",
            "SharedNamespaces": self.share,
            "NumContainers": len(ctrs),
            "Containers": [{"Id": c.id, "Name": c.name, "State": display_status(c.status)} for c in ctrs],
            "InfraConfig": {
                "Infra": bool(cfg.get("infra")),
                "InfraImage": cfg.get("infra_image") or "",
                "InfraImageId": cfg.get("infra_image_id") or "",
                "InfraCommand": cfg.get("infra_command"),
                "InfraName": infra.name if infra else "",
                "PortBindings": ports,
                "HostNetwork": net.get("mode") == "host",
                # the infra's: a rootless pod that declares no network uses the rootless default
                "NetworkMode": (infra.config.get("network") or net).get("mode") if infra else net.get("mode"),
                "Networks": list(net.get("networks") or []),
                "DNSServer": list(cfg.get("dns") or []),
                "DNSSearch": list(cfg.get("dns_search") or []),
                "DNSOption": list(cfg.get("dns_option") or []),
                "HostAdd": list(cfg.get("add_host") or []),
                "NoManageHosts": bool(cfg.get("no_hosts")),
                "HostsFile": cfg.get("hosts_file") or "",
                "StaticIP": _attach(net).get("ip", ""),
                "StaticIPv6": _attach(net).get("ip6", ""),
                "StaticMAC": _attach(net).get("mac_address", ""),
                "NetworkAliases": list(_attach(net).get("aliases") or []),
                "PidNS": cfg.get("pid") or "private",
                "UtsNS": cfg.get("uts") or "private",
                "NetworkSettings": _network_settings(infra),
            },
            "Declared": cfg.get("declared") or {},
        }


def _attach(net: Dict[str, Any]) -> Dict[str, Any]:
    """The infra's declared settings (ip, ip6, mac_address, aliases) on its first network."""
    attach = net.get("attach") or {}
    first = (net.get("networks") or list(attach) or [None])[0]
    return dict(attach.get(first) or {})


def _network_settings(infra: Optional[Container]) -> Dict[str, Any]:
    if infra is None:
        return {}
    status = infra.state.get("network_status") or {}
    nets = status.get("networks") or {}
    return {"Networks": {n: {"IPAddress": v.get("ip", ""), "Gateway": v.get("gateway", ""),
                             "MacAddress": v.get("mac", "")} for n, v in nets.items()},
            "SandboxKey": infra.state.get("netns") or ""}


# -- runtime-level operations (libpod runtime_pod_common.go) --------------------------------------------
def get_pod(rt, ref: str) -> Pod:
    return Pod(rt, rt.state.get("pod", ref))


def find_pod(rt, ref: str) -> Optional[Pod]:
    rec = rt.state.find("pod", ref)
    return Pod(rt, rec) if rec else None


def list_pods(rt) -> List[Pod]:
    return [Pod(rt, r) for r in rt.state.list("pod")]


def infra_container_config(pod_cfg: Dict[str, Any], image, rootless_network: Optional[str] = None) -> Dict[str, Any]:
    """The infra container's config: the pod's network, ports, hostname, DNS and hosts; catatonit -P.
    ``rootless_network``: a rootless engine's ``[network] default_rootless_network_cmd``, the infra's network
    where the pod declares none (a rootless engine has no bridges; podman's rootless pods use it too)."""
    command = pod_cfg.get("infra_command")
    network = dict(pod_cfg.get("network") or default_network())
    if rootless_network and network == default_network():
        network = {"mode": rootless_network, "networks": [], "options": []}
    return ContainerConfig(
        image=pod_cfg.get("infra_image") or infra_image_name(), image_id=image.id,
        # infra_command replaces the image's entrypoint (as podman's --infra-command)
        entrypoint=list(command) if command else None,
        hostname=pod_cfg.get("hostname") or pod_cfg["name"],
        publish=list(pod_cfg.get("publish") or []),
        network=network,
        dns=list(pod_cfg.get("dns") or []), dns_search=list(pod_cfg.get("dns_search") or []),
        dns_option=list(pod_cfg.get("dns_option") or []), add_host=list(pod_cfg.get("add_host") or []),
        pod=pod_cfg["id"], is_infra=True, stop_timeout=INFRA_STOP_TIMEOUT,
        conmon_pidfile=pod_cfg.get("infra_conmon_pidfile"),
        # what the infra holds for the pod: the shared namespaces' sysctls, the IPC's /dev/shm, its security
        sysctl=dict(pod_cfg.get("sysctl") or {}), shm_size=pod_cfg.get("shm_size"),
        security_opt=dict(pod_cfg.get("security_opt") or {}),
        # the pod-wide user namespace is the infra's (an auto block is allocated when it is created)
        userns=pod_cfg.get("userns"), uidmap=list(pod_cfg.get("uidmap") or []),
        gidmap=list(pod_cfg.get("gidmap") or []),
        # its /etc/hosts (members sharing the network follow it), its PID and UTS namespace modes
        no_hosts=bool(pod_cfg.get("no_hosts")), hosts_file=pod_cfg.get("hosts_file"),
        pid=pod_cfg.get("pid"), uts=pod_cfg.get("uts"),
    ).to_dict()


def validate_pod_config(cfg: Dict[str, Any]) -> None:
    """Combinations podman refuses, with the parameter and the fix in the message."""
    check_combinations({k: cfg.get(k) for k in POD_RESOURCE_KEYS})
    _check_pod_namespaces(cfg)
    cdi_devices(cfg.get("gpus"))  # no CDI spec, or no such device: named now, not at the first start
    for key in ("device_read_bps", "device_write_bps"):
        for dev in cfg.get(key) or []:
            device_numbers(dev["path"], key)  # a missing device is named now, not at the first start
    share = cfg.get("share") or []
    net = cfg.get("network") or {"mode": "bridge", "networks": []}
    if not cfg.get("infra"):
        if share:
            raise InvalidArg("share: sharing namespaces (%s) needs an infra container" % ",".join(share),
                             hint="set infra: true, or share: none")
        for key in ("publish", "hostname", "dns", "dns_search", "dns_option", "add_host"):
            if cfg.get(key):
                raise InvalidArg("%s: belongs to the pod's infra container, and infra is false" % key,
                                 hint="set infra: true, or set %s on the containers" % key)
        if net.get("attach"):
            raise InvalidArg("ip/ip6/mac_address/network_alias: belong to the pod's infra container, and infra is "
                             "false", hint="set infra: true, or set them on the containers")
        if net.get("mode") != "bridge" or net.get("networks"):
            raise InvalidArg("network: belongs to the pod's infra container, and infra is false",
                             hint="set infra: true, or set network on the containers")
        for key in ("sysctl", "shm_size", "security_opt", "no_hosts", "hosts_file", "pid", "uts"):
            if cfg.get(key):
                raise InvalidArg("%s: belongs to the pod's infra container, and infra is false" % key,
                                 hint="set infra: true, or set %s on the containers" % key)
        if cfg.get("userns") or cfg.get("uidmap"):
            raise InvalidArg("userns: a pod-wide user namespace is held by the infra container, and infra is false",
                             hint="set infra: true, or give the containers their own user namespace outside the pod")
        infra_opts = ("infra_image", "infra_command", "infra_name", "infra_conmon_pidfile")
        if any(cfg.get(k) for k in infra_opts):
            raise InvalidArg("%s: the pod has no infra container (infra: false)" % "/".join(infra_opts),
                             hint="drop them, or set infra: true")
        return
    if net.get("mode") == "container":
        raise InvalidArg("network: a pod cannot join another container's network",
                         hint="use bridge, host, none or network names")
    if "net" not in share:
        if cfg.get("publish"):
            raise InvalidArg("publish: the pod does not share its network namespace (share: %s), so ports "
                             "published on the infra would reach no member" % (",".join(share) or "none"),
                             hint="add net to share, or publish on the containers")
        if net.get("mode") == "host":
            raise InvalidArg("network: host needs net in share", hint="add net to share")
    if net.get("mode") == "host" and cfg.get("publish"):
        raise InvalidArg("publish: a pod on the host network cannot publish ports",
                         hint="drop publish, or use a bridge network")


def _check_pod_namespaces(cfg: Dict[str, Any]) -> None:
    """/etc/hosts, pid / uts and share_parent combinations podman refuses (or that would reach no member)."""
    if cfg.get("no_hosts"):
        for key in ("add_host", "hosts_file"):
            if cfg.get(key):
                raise InvalidArg("no_hosts: the pod's /etc/hosts is the image's, so %s has nowhere to go" % key,
                                 hint="drop %s, or no_hosts" % key)
    share = cfg.get("share") or []
    for kind in ("pid", "uts"):
        mode = cfg.get(kind)
        if not mode:
            continue
        if cfg.get("infra") and kind not in share:
            raise InvalidArg("%s: %s is the infra container's namespace, which the pod's containers join only when "
                             "the pod shares it (share: %s)" % (kind, mode, ",".join(share) or "none"),
                             hint="add %s to share, or set %s on the containers" % (kind, kind))
        if mode.startswith("ns:") and not os.path.exists(mode[3:]):
            raise InvalidArg("%s: %s does not exist" % (kind, mode[3:]), hint="the path of an existing %s "
                             "namespace (e.g. /proc/PID/ns/%s or a bind-mounted one)" % (kind, kind))
    if cfg.get("uts") == "host" and cfg.get("hostname"):
        raise InvalidArg("hostname: the pod uses the host's UTS namespace (uts: host), whose name is the host's",
                         hint="drop hostname, or uts")
    if not cfg.get("share_parent", True):
        limits = [k for k in POD_RESOURCE_KEYS if cfg.get(k)]
        if limits:
            raise InvalidArg("%s: the pod's limits live in the pod cgroup, which is not its containers' parent "
                             "(share_parent: false)" % ", ".join(limits),
                             hint="set share_parent: true, or set the limits on the containers")


def create_pod(rt, config: Dict[str, Any], name: Optional[str] = None, infra_image=None) -> Pod:
    """newPod + the infra container, in one DB transaction (a failure leaves nothing).

    ``config``: the normalised pod config (reconcile/pod.py); ``infra_image``: the image object
    of the infra container (required when ``config["infra"]``).
    """
    pod_id = new_id()
    if name:
        validate_name(name, "name", "pod")
    else:
        name = generate_name(lambda n: rt.state.lookup_name(n) is not None)
    cfg = {k: v for k, v in config.items() if k not in ("id", "infra_id", "created_at")}
    cfg.update(id=pod_id, name=name, created_at=rfc3339_nano(),
               cgroup_parent="%s/%s" % (cgroup_base(rt).rstrip("/"), pod_id))
    validate_pod_config(cfg)
    if cfg.get("infra"):
        if infra_image is None:
            raise InvalidArg("pod %s: no infra image given" % name, hint="the caller must resolve the infra image")
        cfg["infra_image_id"] = infra_image.id
    created = time.time()
    id_file = _claim_pod_id_file(cfg.get("pod_id_file"))
    try:
        rec = _insert_pod(rt, cfg, name, created, infra_image)
    except BaseException:
        if id_file is not None:
            id_file.close()
            os.unlink(cfg["pod_id_file"])
        raise
    pod = Pod(rt, rec)
    if id_file is not None:
        with id_file:
            id_file.write(pod.id)
    pod._event("create")
    return pod


def _insert_pod(rt, cfg: Dict[str, Any], name: str, created: float, infra_image) -> Record:
    """The pod's record and its infra container, in one DB transaction (a failure leaves nothing)."""
    pod_id = cfg["id"]
    with rt.state.tx():
        lock_id = rt.locks.allocate("pod", pod_id)
        rec = Record(id=pod_id, name=name, namespace=rt.state.namespace, lock_id=lock_id, config=cfg,
                     state={"cgroup_path": "", "removing": False}, created=created)
        rt.state.add("pod", rec)
        if cfg.get("infra"):
            infra_name = cfg.get("infra_name") or "%s-infra" % pod_id[:12]
            own_net = rt.cfg.get("network", "default_rootless_network_cmd") if rt.rootless else None
            infra = create_container(rt, infra_container_config(cfg, infra_image, own_net), name=infra_name)
            cfg["infra_id"] = infra.id
            rt.state.rewrite_config("pod", pod_id, cfg)
            rec.config = cfg
    return rec


def _claim_pod_id_file(path: Optional[str]):
    """pod_id_file: created (empty) before the pod, so that an existing file is refused (as podman's
    cidfile) with nothing made; the ID is written once the pod exists. None without pod_id_file."""
    if not path:
        return None
    try:
        return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "w")
    except OSError as exc:
        raise InvalidArg("pod_id_file %s: %s" % (path, exc.strerror or exc),
                         hint="remove the file, or choose another pod_id_file path") from None


def remove_pod(rt, ref: str, force: bool = False, timeout: Optional[int] = None, volumes: bool = True) -> List[str]:
    """Remove a pod by name or ID (see Pod.remove); the names of the containers removed with it."""
    return get_pod(rt, ref).remove(force=force, timeout=timeout, volumes=volumes)


def member_config(config: Dict[str, Any], pod_id: str) -> Dict[str, Any]:
    """A member's config for re-creation in another pod (identity fields are given anew)."""
    cfg = {k: v for k, v in config.items() if k not in ("id", "name", "created_at")}
    cfg["pod"] = pod_id
    return cfg


#: a member as a pod recreate saves it: (name, config, was running)
SavedMember = Tuple[str, Dict[str, Any], bool]


def recreate_pod(rt, pod: Pod, config: Dict[str, Any], *, infra_image=None, timeout: Optional[int] = None,
                 leave: Sequence[str] = ()) -> Tuple[Pod, List[Tuple[str, bool]], List[SavedMember]]:
    """Replace a pod by one with ``config``, keeping its members: each is recreated in the new pod
    with its own config (same image ID, same declared spec, same volumes, anonymous ones included),
    except those named in ``leave`` (a stack run creates them anew from their own entries): they go
    with the old pod.

    Returns the new pod, [(member name, was running)] of the members recreated, so the caller restores
    the run state, and [(name, config, was running)] of the members left out, so the caller can make
    them (or put them back: restore_member). With members left out the intent journal stays open until
    the caller ends it (end_recreate) once they are made: a process killed before has them made again,
    with their old configs, by the repair at the next open. If the new pod cannot be made, the old one
    is put back with all its members and the error raised.
    """
    with pod.locked():
        saved = []
        for ctr in pod.members():
            with ctr.locked():
                ctr.sync()
                saved.append((ctr.name, dict(ctr.config), ctr.status == RUNNING))
        old_cfg = dict(pod.config)
    old_image = None
    if old_cfg.get("infra") and old_cfg.get("infra_image_id"):
        try:
            old_image = rt.images.get(old_cfg["infra_image_id"])
        except EngineError:
            old_image = None
    faults.begin(rt.state, "pod", pod.name, "recreate", config=config, members=saved,
                 infra_image_id=infra_image.id if infra_image is not None else None)
    pod.remove(force=True, timeout=timeout, volumes=False)
    faults.point("pod.recreate.after_remove")
    try:
        new = create_pod(rt, config, name=pod.name, infra_image=infra_image)
        faults.point("pod.recreate.after_create")
        for name, cfg, _running in saved:
            if name not in leave:
                create_container(rt, member_config(cfg, new.id), name=name)
    except EngineError as exc:
        problems = []
        back = None
        try:
            leftover = find_pod(rt, pod.name)
            if leftover is not None:
                leftover.remove(force=True, timeout=0, volumes=False)
            back = create_pod(rt, old_cfg, name=pod.name, infra_image=old_image)
            for name, cfg, _running in saved:
                if rt.state.lookup_name(name) is None:
                    create_container(rt, member_config(cfg, back.id), name=name)
        except EngineError as exc2:
            problems.append(str(exc2))
        exc.msg = "recreating pod %s: %s" % (pod.name, exc.msg)
        if problems:
            exc.msg += "; the old pod could not be restored either: %s" % "; ".join(problems)
        else:
            ran = [name for name, _cfg, running in saved if running]
            exc.msg += "; the old pod and its containers were put back" + put_back_started(back, ran)
        raise
    left = [item for item in saved if item[0] in leave]
    if not left:
        faults.end(rt.state, "pod", pod.name)
    return new, [(name, running) for name, _cfg, running in saved if name not in leave], left


def end_recreate(rt, pod_name: str) -> None:
    """The members a recreate left out (recreate_pod ``leave``) are made again: its intent is done."""
    faults.end(rt.state, "pod", pod_name)


def restore_member(rt, pod_name: str, name: str, config: Dict[str, Any]) -> Container:
    """A member left out of a recreate (recreate_pod ``leave``) that was not made anew: made again in
    the pod with its old config, not started (restart_members starts those that ran), so that a failed
    run loses no container."""
    return create_container(rt, member_config(config, get_pod(rt, pod_name).id), name=name)


def restart_members(rt, pod_name: str, names: Sequence[str]) -> Dict[str, str]:
    """Members put back after a failed recreate that ran before: started again, as a pod start does
    (Pod.start_members); {name: why it is not running} of those that did not start."""
    if not names:
        return {}
    try:
        pod = get_pod(rt, pod_name)
    except EngineError as exc:
        return {name: str(exc) for name in names}
    return pod.start_members(names)


def put_back_started(pod: Pod, ran: Sequence[str]) -> str:
    """The end of the note on a pod put back with its members: those that ran are started again
    (restart_members); what became of them, truthfully."""
    if not ran:
        return " (none of its containers was running: not started)"
    failed = pod.start_members(ran)
    started = [name for name in ran if name not in failed]
    out = " and %s started again" % ", ".join(started) if started else ""
    if failed:
        out += "; not started: %s" % "; ".join("%s (%s)" % (name, why) for name, why in failed.items())
    return out


def apply_exit_policy(rt, pod_id: str, ctr_id: str) -> List[str]:
    """exit_policy stop (podman): when the last container of the pod has exited, the pod (its infra) is
    stopped. Called by the exit command after a member's cleanup; the names stopped."""
    rec = rt.state.find("pod", pod_id) if pod_id else None
    if rec is None or rec.id != pod_id:
        return []
    pod = Pod(rt, rec)
    if pod.config.get("exit_policy") != "stop" or ctr_id == pod.infra_id:
        return []
    for ctr in pod.synced():
        if ctr.id != pod.infra_id and (ctr.status in (RUNNING, PAUSED, STOPPING) or ctr.state.get("restarting")):
            return []  # another member still runs (or restarts): the pod goes on
    return pod.stop()


# -- hooks for container.py ---------------------------------------------------------------------------
def check_member_config(rt, pod_ref: str, config: Dict[str, Any], ctr_name: str = "") -> Pod:
    """A container joining a pod: what the infra owns cannot be set on it (parameter + fix named)."""
    pod = get_pod(rt, pod_ref)
    refuse_member_config(pod, config, ctr_name)
    return pod


def check_members_for(pod: Pod, config: Dict[str, Any], redeclared: Sequence[str] = ()) -> None:
    """A pod about to be recreated with ``config``: its members come back with their own configs, so
    whatever of theirs the new pod would refuse (or ignore: a hostname in a shared UTS namespace, add_host
    or hosts_file under no_hosts, ...) is refused before the pod changes, by the rules of a joining member.
    ``redeclared``: members a stack run declares anew, checked against this config there (and recreated
    with their new spec after the pod), so their old settings do not count."""
    future = PodRecord(pod.rt, dataclasses.replace(pod.rec, config=dict(config)))
    for ctr in pod.members():
        if ctr.name in redeclared:
            continue
        refuse_member_config(future, member_settings(ctr.config.get("declared") or ctr.config), ctr.name)


def declared_pod(name: str, config: Mapping[str, Any]) -> PodRecord:
    """A pod that is only declared (not stored yet, e.g. an entry of a stack): what the member rules read."""
    rec = Record(id="", name=name, namespace="", lock_id=None, config=dict(config), state={}, created=0.0)
    return PodRecord(None, rec)


#: a member's own settings that what the pod's infra owns may exclude (refuse_member_config)
MEMBER_KEYS = ("publish", "hostname", "network", "add_host", "hosts_file")


def member_settings(spec: Mapping[str, Any]) -> Dict[str, Any]:
    """What the member rules read of a container: from its declared spec (the container module's option
    names), or its config for one made without; a network left unset is the pod's, not one of its own."""
    out = {k: spec.get(k) for k in MEMBER_KEYS}
    if out["network"] == default_network():
        out["network"] = None
    return out


def refuse_member_config(pod: PodRecord, config: Dict[str, Any], ctr_name: str = "") -> None:
    """The rules of a pod member (check_member_config) against a pod record already read (no I/O):
    the one place they are written (a joining container, a pod recreated with members, a stack)."""
    share = pod.share
    who = "container %s" % ctr_name if ctr_name else "a container"
    if "net" in share:
        if config.get("publish"):
            raise InvalidArg("publish: %s joins pod %s, whose infra container owns the network and its ports"
                             % (who, pod.name), hint="publish the ports on the pod (libpod.engine.pod publish)")
        net = config.get("network") or {}
        if net.get("mode") not in (None, "pod"):
            raise InvalidArg("network: %s joins pod %s and shares the pod's network" % (who, pod.name),
                             hint="drop network from the container, or set it on the pod")
        for key, what in (("add_host", "these entries would go nowhere"), ("hosts_file", "this file would go unused")):
            if config.get(key) and pod.config.get("no_hosts"):
                # podman 4 refuses add-host on every member ("extra host entries must be specified on the
                # pod"); here a member's entries join the pod's /etc/hosts and its own hosts_file wins, so
                # only no_hosts, where they would be dropped without a word, is refused
                raise InvalidArg("%s: %s joins pod %s, which has no_hosts: its containers keep their image's "
                                 "/etc/hosts, so %s" % (key, who, pod.name, what),
                                 hint="set %s on the pod, or drop no_hosts from the pod (or drop %s from the container)"
                                      % (key, key))
    if "uts" in share and config.get("hostname"):
        raise InvalidArg("hostname: %s shares the UTS namespace of pod %s, whose hostname is %s"
                         % (who, pod.name, pod.hostname), hint="drop hostname, or set it on the pod")


def refresh_pods(rt) -> None:
    """After a reboot: pod cgroups (and their limits) are gone with the old cgroupfs: make them again."""
    for pod in list_pods(rt):
        cfg = pod.config
        try:
            if pod.share_parent:  # else no pod cgroup to restore
                pod_limits(rt, pod.cgroup_parent, cfg)
        except (EngineError, OSError) as exc:
            rt.warnings.append("pod %s: cannot restore its cgroup limits after a reboot: %s" % (pod.name, exc))
        state = dict(pod.state)
        state.update(cgroup_path="", removing=False)
        rt.state.save_state("pod", pod.id, state)
