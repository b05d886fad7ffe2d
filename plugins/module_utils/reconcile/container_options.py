# SPDX-License-Identifier: GPL-3.0-or-later
"""The container module's options, declared once (names as containers.podman's
podman_container, community.docker names as aliases).

Omitted options mean "the default" and normalise to the same declared value as
the default written out, so adding ``privileged: false`` to a task is no change.
Where the default depends on the image (command, entrypoint, stop signal, user,
workdir) the declared value is None and the image decides at start time.
"""
from __future__ import annotations

import shlex
from typing import Any, Dict, List, Tuple

from ..engine.base.errors import InvalidArg
from ..engine.base.names import validate_name
from ..engine.oci.resources import check_memory
from ..engine.parse import health as parse_health
from ..engine.parse import values as parse
from .container_secrets import normalise_secrets
from .options import CONFIG, IN_PLACE, NOT_COMPARED, Option, OptionTable

STATES = ("present", "created", "started", "stopped", "restarted", "absent", "healthy")
PULL_POLICIES = ("missing", "always", "newer", "never")


def _argv(value: Any, param: str) -> List[str]:
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise InvalidArg("invalid %s %r: %s" % (param, value, exc),
                             hint="give it as a list of arguments to avoid shell quoting")
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    raise InvalidArg("invalid %s %r: expected a string or a list of strings" % (param, value))


def _command(value: Any, ctx: Any) -> List[str]:
    return _argv(value, "command")


def _entrypoint(value: Any, ctx: Any) -> List[str]:
    # "" clears the image's entrypoint, as podman --entrypoint ""
    if value == "":
        return []
    return _argv(value, "entrypoint")


def _unique_destinations(mounts: List[Dict[str, Any]], param: str) -> List[Dict[str, Any]]:
    seen = set()
    for m in mounts:
        if m["destination"] in seen:
            raise InvalidArg("%s: two mounts at %s" % (param, m["destination"]),
                             hint="give each container path once")
        seen.add(m["destination"])
    # sorted by destination: order in the task is not meaningful, and a parent path
    # sorts before its children, which is also the order to mount them in
    return sorted(mounts, key=lambda m: m["destination"])


def _volumes(value: Any, ctx: Any) -> List[Dict[str, Any]]:
    return _unique_destinations([parse.parse_volume(v, "volume") for v in value], "volume")


def _mounts(value: Any, ctx: Any) -> List[Dict[str, Any]]:
    return _unique_destinations([parse.parse_mount(v, "mount") for v in value], "mount")


def _tmpfs(value: Any, ctx: Any) -> List[Dict[str, Any]]:
    return _unique_destinations(parse.parse_tmpfs_list(value, "tmpfs"), "tmpfs")


def _publish(value: Any, ctx: Any) -> List[Dict[str, Any]]:
    from ..engine.network.portmap import parse_publish  # noqa: PLC0415 - networking only when asked

    ports: List[Dict[str, Any]] = []
    for item in value:
        ports.extend(parse_publish(item))
    return sorted(ports, key=lambda p: (p["protocol"], p["container_port"], p["host_ip"], p["host_port"]))


def _network(value: Any, ctx: Any) -> Dict[str, Any]:
    items = [value] if isinstance(value, str) else list(value)
    if not items:
        return {"mode": "bridge", "networks": []}
    if len(items) == 1:
        item = str(items[0])
        if item in ("bridge", "default"):
            return {"mode": "bridge", "networks": []}
        if item in ("host", "none"):
            return {"mode": item, "networks": []}
        if item.startswith("container:"):
            target = item.split(":", 1)[1]
            if not target:
                raise InvalidArg("network: container: needs a container name or ID",
                                 hint="for example network: container:web")
            return {"mode": "container", "networks": [], "container": target}
    names = []
    attach: Dict[str, Dict[str, Any]] = {}
    for raw in items:
        if isinstance(raw, dict):
            name, settings = _network_entry(raw)
        else:
            name, settings = str(raw), {}
        if name in ("host", "none", "bridge", "default") or name.startswith("container:"):
            raise InvalidArg("network: %r cannot be combined with other networks" % name,
                             hint="give one mode, or a list of network names")
        names.append(validate_name(name, "network", "network"))
        if settings:
            attach[name] = settings
    if len(set(names)) != len(names):
        raise InvalidArg("network: %s names a network twice" % names, hint="give each network once")
    out: Dict[str, Any] = {"mode": "bridge", "networks": names}
    if attach:
        out["attach"] = attach
    return out


#: keys of a network given in the long form, and the parameter names they stand for
_ENTRY_KEYS = ("name", "aliases", "ip", "ip6", "mac_address", "interface_name")


def _network_entry(raw: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    """``{name: a, aliases: [x], ip: ..., mac_address: ..., interface_name: ...}`` -> (name, settings)."""
    unknown = sorted(set(raw) - set(_ENTRY_KEYS))
    if unknown or not raw.get("name"):
        raise InvalidArg("network: entry %r needs a name and may only have %s" % (raw, ", ".join(_ENTRY_KEYS)),
                         hint="for example {name: backend, aliases: [db], ip: 10.89.0.5}")
    settings = attach_settings(aliases=raw.get("aliases"), ip=raw.get("ip"), ip6=raw.get("ip6"),
                               mac_address=raw.get("mac_address"), interface_name=raw.get("interface_name"),
                               where="network %s" % raw["name"])
    return str(raw["name"]), settings


def attach_settings(*, aliases: Any = None, ip: Any = None, ip6: Any = None, mac_address: Any = None,
                    interface_name: Any = None, where: str) -> Dict[str, Any]:
    """Per-network settings of a container, validated and normalised (only the given ones)."""
    import ipaddress  # noqa: PLC0415 - only for containers that give addresses
    import re  # noqa: PLC0415

    out: Dict[str, Any] = {}
    if aliases:
        if isinstance(aliases, str):
            aliases = [aliases]
        out["aliases"] = [validate_name(str(a), "network_aliases", "alias") for a in aliases]
    if ip:
        try:
            out["ip"] = str(ipaddress.IPv4Address(str(ip).strip()))
        except ValueError:
            raise InvalidArg("%s: ip %r is not an IPv4 address" % (where, ip), hint="for example 10.89.0.5")
    if ip6:
        raise InvalidArg("%s: ip6 %r: IPv6 networks are not supported yet" % (where, ip6), hint="remove ip6")
    if mac_address:
        mac = str(mac_address).strip().lower()
        if not re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", mac) or int(mac[:2], 16) & 1:
            raise InvalidArg("%s: mac_address %r is not a unicast MAC address" % (where, mac_address),
                             hint="for example 92:d0:c6:0a:29:33")
        out["mac_address"] = mac
    if interface_name:
        name = str(interface_name)
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,14}", name):
            raise InvalidArg("%s: interface_name %r is not a valid interface name" % (where, name),
                             hint="up to 15 letters, digits, '_' or '-', starting with a letter")
        out["interface_name"] = name
    return out


def fold_attach(network: Dict[str, Any], default_network: str, **single: Any) -> Dict[str, Any]:
    """The top-level ip/ip6/mac_address/network_aliases (podman's --ip, --mac-address,
    --network-alias) apply to the container's only (or first) bridge network."""
    given = {k: v for k, v in single.items() if v}
    if not given or network.get("mode", "bridge") != "bridge":
        if given:
            what = ", ".join(sorted(given))
            raise InvalidArg("%s need a bridge network (network mode is %s)" % (what, network.get("mode")),
                             hint="remove them, or use a bridge network")
        return network
    names = list(network.get("networks") or [default_network])
    settings = attach_settings(where="network %s" % names[0], **given)
    attach = {k: dict(v) for k, v in (network.get("attach") or {}).items()}
    clash = sorted(set(settings) & set(attach.get(names[0], {})))
    if clash:
        raise InvalidArg("%s given both as parameters and in the network entry of %s" % (", ".join(clash), names[0]),
                         hint="give them once")
    attach[names[0]] = dict(attach.get(names[0], {}), **settings)
    return dict(network, attach=attach)


NEW_POD = "new:"


def _pod(value: Any, ctx: Any) -> str:
    """``new:NAME`` (podman run --pod new:NAME) declares the same pod as ``NAME``; reconcile creates
    it when it is missing."""
    name = str(value)
    if name.startswith(NEW_POD):
        name = name[len(NEW_POD):]
        if not name:
            raise InvalidArg("pod: new: needs a pod name", hint="for example pod: new:web")
    return validate_name(name, "pod", "pod")


def _add_host(value: Any, ctx: Any) -> List[str]:
    if isinstance(value, dict):
        value = ["%s:%s" % (k, v) for k, v in value.items()]
    return sorted("%s:%s" % parse.parse_add_host(v, "add_host") for v in value)


def _caps(param: str):
    def norm(value: Any, ctx: Any) -> List[str]:
        return sorted(set(parse.normalize_capabilities(value, param)))
    return norm


def _ulimits(value: Any, ctx: Any) -> List[Dict[str, Any]]:
    return sorted(parse.parse_ulimits(value, "ulimit"), key=lambda r: r["type"])


def _log_opt(value: Any, ctx: Any) -> Dict[str, Any]:
    unknown = set(value) - {"max_size", "max-size"}
    if unknown:
        raise InvalidArg("log_opt: unknown key(s) %s" % ", ".join(sorted(unknown)),
                         hint="supported: max_size (the k8s-file log is truncated past it)")
    size = value.get("max_size", value.get("max-size"))
    return {"max_size": None if size in (None, "", -1) else parse.parse_size(size, "log_opt.max_size")}


def _nonneg_int(param: str):
    def norm(value: Any, ctx: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidArg("invalid %s %r: expected an integer >= 0" % (param, value))
        return value
    return norm


def _env_file(value: Any, ctx: Any) -> Dict[str, Any]:
    # declared (stored, compared, shown) as path + variable names + hash; the values are read
    # again when the container is built (env_file_values) and never reach a result or a diff
    return parse.env_file_record(parse.parse_env_file(value, "env_file"), value)


def _env_file_key(value: Any) -> str:
    """Compared: the variables' hash (a container declared before records were kept has the variables)."""
    return value["sha256"] if isinstance(value, dict) and "sha256" in value else parse.env_digest(value or {})


def _env_file_shown(value: Any) -> Any:
    if not value or "sha256" in value:
        return value
    return {"keys": sorted(value), "sha256": parse.env_digest(value)}


def env_file_values(declared: Dict[str, Any]) -> Dict[str, str]:
    """The variables of the declared env file, read now; refused if it changed since it was declared."""
    rec = declared.get("env_file") or {}
    if "sha256" not in rec:
        return dict(rec)
    env = parse.parse_env_file(rec["path"], "env_file")
    if parse.env_digest(env) != rec["sha256"]:
        raise InvalidArg("env_file %s changed while the task ran" % rec["path"], hint="run the task again")
    return env


def created_env_file_values(config: Dict[str, Any]) -> Dict[str, str]:
    """The env file's variables as the container was created with them (for generate kube)."""
    rec = (config.get("declared") or {}).get("env_file") or {}
    if "sha256" not in rec:
        return dict(rec)
    env = config.get("env") or {}
    return {k: env[k] for k in rec["keys"] if k in env}


def _memory(value: Any, ctx: Any) -> Any:
    # the floor the spec applies at create (oci.resources), refused before anything is done
    memory = parse.parse_size(value, "memory") or None
    check_memory(memory)
    return memory


def _pids_limit(value: Any, ctx: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < -1:
        raise InvalidArg("invalid pids_limit %r: expected a positive integer, or 0 / -1 for no limit" % value)
    return 0 if value == -1 else value


OPTIONS = OptionTable([
    # identity and action flags (never compared)
    Option("name", required=True, update=NOT_COMPARED),
    Option("state", choices=STATES, arg_default="started", update=NOT_COMPARED),
    Option("recreate", type="bool", arg_default=False, update=NOT_COMPARED),
    Option("force_restart", type="bool", aliases=("restart",), arg_default=False, update=NOT_COMPARED),
    Option("pull", choices=PULL_POLICIES, arg_default="missing", update=NOT_COMPARED),
    Option("insecure_registry", type="bool", arg_default=False, update=NOT_COMPARED),
    Option("registry_username", update=NOT_COMPARED),
    Option("registry_password", no_log=True, update=NOT_COMPARED),
    Option("timeout", type="int", update=NOT_COMPARED),
    Option("wait_healthy_timeout", type="int", arg_default=120, update=NOT_COMPARED),
    # what the container is
    Option("image"),
    Option("command", type="raw", normalise=_command),
    Option("entrypoint", type="raw", normalise=_entrypoint),
    Option("env", type="dict", default={}, config=None, normalise=lambda v, c: parse.parse_env(v, "env")),
    Option("env_file", type="path", default={}, config=None, normalise=_env_file, compare_key=_env_file_key,
           shown=_env_file_shown),
    Option("label", type="dict", aliases=("labels",), default={}, config="labels",
           normalise=lambda v, c: parse.parse_labels(v, "label")),
    Option("annotation", type="dict", aliases=("annotations",), default={}, config="annotations",
           normalise=lambda v, c: parse.parse_labels(v, "annotation")),
    Option("workdir", aliases=("working_dir",)),
    Option("user"),
    Option("hostname", normalise=lambda v, c: parse.parse_hostname(v, "hostname")),
    Option("oci_runtime", aliases=("runtime",)),
    # storage
    Option("volume", type="list", elements="str", aliases=("volumes",), default=[], config=None,
           normalise=_volumes),
    Option("mount", type="list", elements="raw", aliases=("mounts",), default=[], config=None, normalise=_mounts),
    Option("tmpfs", type="raw", default=[], config=None, normalise=_tmpfs),
    Option("read_only", type="bool", default=False),
    Option("secrets", type="list", elements="raw", default=[], no_log=False, normalise=normalise_secrets),
    Option("shm_size", type="raw", normalise=lambda v, c: parse.parse_size(v, "shm_size")),
    # network
    Option("network", type="raw", aliases=("net", "network_mode"), default={"mode": "bridge", "networks": []},
           config=None, normalise=_network),
    Option("network_aliases", type="list", elements="str", aliases=("network_alias",), default=[], config=None),
    Option("ip", config=None),
    Option("ip6", config=None),
    Option("mac_address", config=None),
    Option("publish", type="list", elements="raw", aliases=("ports", "published_ports"), default=[],
           update=IN_PLACE, normalise=_publish),
    Option("dns", type="list", elements="str", aliases=("dns_servers",), default=[],
           normalise=lambda v, c: parse.parse_dns_servers(v, "dns")),
    Option("dns_search", type="list", elements="str", aliases=("dns_search_domains",), default=[],
           normalise=lambda v, c: parse.parse_dns_search(v, "dns_search")),
    Option("dns_option", type="list", elements="str", aliases=("dns_opts",), default=[],
           normalise=lambda v, c: parse.parse_dns_options(v, "dns_option")),
    Option("add_host", type="raw", aliases=("etc_hosts",), default=[], normalise=_add_host),
    Option("pod", config=None, normalise=_pod),
    # security
    Option("privileged", type="bool", default=False),
    Option("cap_add", type="list", elements="str", aliases=("capabilities",), default=[],
           normalise=_caps("cap_add")),
    Option("cap_drop", type="list", elements="str", default=[], normalise=_caps("cap_drop")),
    Option("sysctl", type="dict", aliases=("sysctls",), default={},
           normalise=lambda v, c: parse.parse_sysctls(v, "sysctl")),
    # process
    Option("init", type="bool", default=False),
    Option("tty", type="bool", default=False),
    Option("ulimit", type="list", elements="str", aliases=("ulimits",), default=[], config="ulimits",
           normalise=_ulimits),
    Option("stop_signal", type="raw", normalise=lambda v, c: parse.parse_stop_signal(v, "stop_signal")),
    Option("stop_timeout", type="int", update=CONFIG, normalise=_nonneg_int("stop_timeout")),
    Option("log_opt", type="dict", aliases=("log_options",), default={"max_size": None}, config=None,
           normalise=_log_opt),
    # healthcheck (recreate on change, as podman); "NONE" disables the image's HEALTHCHECK
    Option("healthcheck", type="raw", aliases=("health_cmd",), config=None,
           normalise=lambda v, c: parse_health.healthcheck_argv(v) or "NONE"),
    Option("healthcheck_interval", type="str", aliases=("health_interval",), config=None,
           normalise=lambda v, c: parse_health.parse_duration(v, "healthcheck_interval")),
    Option("healthcheck_timeout", type="str", aliases=("health_timeout",), config=None,
           normalise=lambda v, c: parse_health.parse_duration(v, "healthcheck_timeout")),
    Option("healthcheck_start_period", type="str", aliases=("health_start_period",), config=None,
           normalise=lambda v, c: parse_health.parse_duration(v, "healthcheck_start_period")),
    Option("healthcheck_retries", type="int", aliases=("health_retries",), config=None),
    Option("healthcheck_on_failure", choices=parse_health.ON_FAILURE, aliases=("health_on_failure",), config=None),
    # resources and policy: changed in place
    Option("memory", type="raw", update=IN_PLACE, normalise=_memory),
    Option("cpus", type="raw", update=IN_PLACE, normalise=lambda v, c: parse.parse_cpus(v, "cpus") or None),
    Option("pids_limit", type="int", update=IN_PLACE, normalise=_pids_limit),
    Option("restart_policy", aliases=("restart_policy_name",), default={"name": "no", "max_retries": 0},
           update=IN_PLACE, normalise=lambda v, c: parse.parse_restart_policy(v, "restart_policy")),
])
