# SPDX-License-Identifier: GPL-3.0-or-later
"""The pod module's options, declared once (names as containers.podman's podman_pod).

As for containers, an omitted option means its default and normalises to the same declared
value as the default written out, and every value goes through the container module's parser
of the same option. Labels and the default restart policy are stored without touching the pod;
the pod cgroup's limits (cpus, memory, cpu_shares, cpuset_*, memory_swap) are changed in place;
every other change recreates the pod, and its containers are recreated into the new pod with
their own specs.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..engine.base.errors import InvalidArg
from ..engine.objects.pod import DEFAULT_SHARE, parse_share
from ..engine.parse import values as parse
from .container_options import OPTIONS as CTR
from .container_options import _add_host, _argv, _network, _publish, _refused
from .options import CONFIG, IN_PLACE, NOT_COMPARED, Option, OptionTable

STATES = ("created", "started", "stopped", "restarted", "killed", "paused", "unpaused", "absent")
DEFAULT_NETWORK = {"mode": "bridge", "networks": []}


def _infra_command(value: Any, ctx: Any) -> Optional[List[str]]:
    return _argv(value, "infra_command") or None


def _pod_namespace(param: str):
    """podman pod create's --pid / --uts: host, private (the default) or ns:PATH, the infra's mode."""
    def norm(value: Any, ctx: Any) -> Optional[str]:
        text = str(value).strip()
        if text in ("", "default", "private"):
            return None
        if text == "host":
            return text
        if text.startswith("ns:") and text[3:].startswith("/"):
            return text
        raise InvalidArg("invalid %s %r" % (param, value),
                         hint="host, private, or ns:PATH (an existing %s namespace, e.g. ns:/proc/1/ns/%s)"
                              % (param, param))
    return norm


def _volumes(value: Any, ctx: Any) -> List[Dict[str, Any]]:
    """The container's volume parser; an anonymous volume has no meaning for a whole pod."""
    mounts = CTR.by_name["volume"].normalise(value, ctx)
    for m in mounts:
        if m.get("type") == "volume" and not m.get("source"):
            raise InvalidArg("volume: %s: an anonymous volume cannot be shared by a pod's containers"
                             % m["destination"], hint="give a named volume (NAME:%s) or a host path" % m["destination"])
    return mounts


_BLKIO_WHY = "block IO weights belong to the containers here (the pod cgroup takes cpu, cpuset, memory and bps limits)"


def _ctr(name: str):
    """The container module's parser of an option: one parser for both modules."""
    return CTR.by_name[name].normalise


OPTIONS = OptionTable([
    # identity and action flags (never compared)
    Option("name", update=NOT_COMPARED),
    Option("state", choices=STATES, arg_default="created", update=NOT_COMPARED),
    Option("recreate", type="bool", arg_default=False, update=NOT_COMPARED),
    Option("force", type="bool", arg_default=False, update=NOT_COMPARED),
    Option("timeout", type="int", update=NOT_COMPARED),
    Option("signal", update=NOT_COMPARED),
    Option("definition", type="raw", update=NOT_COMPARED),
    # podman CLI and unit-file parameters: accepted, ignored with a warning (container_params.ignored_warnings)
    Option("executable", update=NOT_COMPARED),
    Option("debug", type="bool", update=NOT_COMPARED),
    Option("generate_systemd", type="dict", update=NOT_COMPARED),
    Option("quadlet_dir", type="path", update=NOT_COMPARED),
    Option("quadlet_filename", update=NOT_COMPARED),
    Option("quadlet_file_mode", type="raw", update=NOT_COMPARED),
    Option("quadlet_options", type="list", elements="str", update=NOT_COMPARED),
    # the infra container
    Option("infra", type="bool", default=True),
    Option("infra_image"),
    Option("infra_command", type="raw", normalise=_infra_command),
    Option("infra_name"),
    Option("infra_conmon_pidfile", type="path"),
    Option("pod_id_file", type="path"),
    Option("share", type="raw", default=list(DEFAULT_SHARE), normalise=lambda v, c: parse_share(v, "share")),
    # what the infra holds for the whole pod
    Option("publish", type="list", elements="raw", aliases=("ports", "published", "published_ports"), default=[],
           normalise=_publish),
    Option("network", type="raw", aliases=("net",), default=dict(DEFAULT_NETWORK), normalise=_network),
    # the infra's address on its (first) bridge network: the container module's top-level ip/ip6/mac/aliases
    Option("network_alias", type="list", elements="str", aliases=("network_aliases",), default=[], config=None),
    Option("ip", config=None),
    Option("ip6", config=None),
    Option("mac_address", config=None),
    Option("hostname", normalise=lambda v, c: parse.parse_hostname(v, "hostname")),
    Option("no_hosts", type="bool", default=False),
    Option("hosts_file", normalise=_ctr("hosts_file")),
    Option("add_host", type="raw", aliases=("etc_hosts",), default=[], normalise=_add_host),
    Option("dns", type="list", elements="str", aliases=("dns_servers",), default=[],
           normalise=lambda v, c: parse.parse_dns_servers(v, "dns")),
    Option("dns_search", type="list", elements="str", default=[],
           normalise=lambda v, c: parse.parse_dns_search(v, "dns_search")),
    Option("dns_option", type="list", elements="str", aliases=("dns_opt",), default=[],
           normalise=lambda v, c: parse.parse_dns_options(v, "dns_option")),
    # stored only / applied in place
    Option("label", type="dict", aliases=("labels",), default={}, update=CONFIG, config="labels",
           normalise=lambda v, c: parse.parse_labels(v, "label")),
    Option("cpus", type="raw", update=IN_PLACE, normalise=lambda v, c: parse.parse_cpus(v, "cpus") or None),
    Option("memory", type="raw", update=IN_PLACE, normalise=_ctr("memory")),
    # the pod cgroup's other limits (through oci/resources.py, as a container's), in place
    Option("cpu_shares", type="raw", update=IN_PLACE, normalise=_ctr("cpu_shares")),
    Option("cpuset_cpus", update=IN_PLACE, normalise=_ctr("cpuset_cpus")),
    Option("cpuset_mems", update=IN_PLACE, normalise=_ctr("cpuset_mems")),
    Option("memory_swap", update=IN_PLACE, normalise=_ctr("memory_swap")),
    Option("blkio_weight", config=None, normalise=_refused("blkio_weight", _BLKIO_WHY)),
    Option("blkio_weight_device", type="list", elements="str", config=None,
           normalise=_refused("blkio_weight_device", _BLKIO_WHY)),
    Option("device_read_bps", type="list", elements="str", default=[], update=IN_PLACE,
           normalise=_ctr("device_read_bps")),
    Option("device_write_bps", type="list", elements="str", default=[], update=IN_PLACE,
           normalise=_ctr("device_write_bps")),
    # whether the pod cgroup is the parent of its containers' cgroups (podman --share-parent)
    Option("share_parent", type="bool", default=True),
    # the infra's PID and UTS namespace modes, which members join when the pod shares them
    Option("pid", normalise=_pod_namespace("pid")),
    Option("uts", normalise=_pod_namespace("uts")),
    # given to every container of the pod (the infra included), as podman
    Option("gpus", normalise=_ctr("gpus")),
    Option("device", type="list", elements="str", default=[], config="devices", normalise=_ctr("device")),
    Option("volume", type="list", elements="str", aliases=("volumes",), default=[], config=None, normalise=_volumes),
    Option("volumes_from", type="list", elements="str", default=[], normalise=_ctr("volumes_from")),
    # the infra's: the shared namespaces' sysctls, the shared IPC's /dev/shm, its security options
    Option("sysctl", type="dict", default={}, normalise=_ctr("sysctl")),
    Option("shm_size", normalise=_ctr("shm_size")),
    Option("security_opt", type="list", elements="str", default={}, normalise=_ctr("security_opt")),
    # the pod's containers: their default restart policy (stored, read when one exits), the exit policy
    Option("restart_policy", default={"name": "no", "max_retries": 0}, update=CONFIG,
           normalise=_ctr("restart_policy")),
    Option("exit_policy", choices=("continue", "stop"), default="continue"),
    # a pod-wide user namespace: the infra's, which every member joins (pod_spec.pod_config fills the
    # record's userns/uidmap/gidmap through the container module's one translation)
    Option("userns", config=None, normalise=_ctr("userns")),
    Option("uidmap", type="list", elements="str", default=[], config=None, normalise=_ctr("uidmap")),
    Option("gidmap", type="list", elements="str", default=[], config=None, normalise=_ctr("gidmap")),
    Option("subuidname", config=None, normalise=_ctr("subuidname")),
    Option("subgidname", config=None, normalise=_ctr("subgidname")),
    Option("label_file", default={}, update=CONFIG, config=None, normalise=_ctr("label_file")),
])

#: options that describe the pod itself (a ``definition`` replaces all of them)
SPEC_OPTIONS = tuple(o.name for o in OPTIONS.compared())
