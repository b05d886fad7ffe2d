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
from ..engine.base.netmodes import USERMODE_NETWORKS
from ..engine.parse import health as parse_health
from ..engine.parse import hostopts
from ..engine.parse import values as parse
from . import container_params as cp
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
        mode, sep, opts = item.partition(":")
        if mode in USERMODE_NETWORKS:
            from ..engine.network import usermode  # noqa: PLC0415 - the network package only for these modes

            if sep and not opts:
                raise InvalidArg("network: %s: has no options after the colon" % mode,
                                 hint="give %s alone, or options such as %s" % (mode, usermode.example(mode)))
            return {"mode": mode, "networks": [], "options": usermode.parse_options(mode, opts)}
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
        if name in ("host", "none", "bridge", "default") or name.startswith("container:") \
                or name.partition(":")[0] in USERMODE_NETWORKS:
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
        try:
            out["ip6"] = str(ipaddress.IPv6Address(str(ip6).strip()))
        except ValueError:
            raise InvalidArg("%s: ip6 %r is not an IPv6 address" % (where, ip6), hint="for example fd00:90::5")
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
    # podman spells them max-size / max-file, the peer max_size / max_files
    value = {str(k).replace("-", "_"): v for k, v in value.items()}
    if "max_file" in value:
        value["max_files"] = value.pop("max_file")
    unknown = set(value) - set(LOG_OPT_DEFAULT)
    if unknown:
        raise InvalidArg("log_opt: unknown key(s) %s" % ", ".join(sorted(unknown)),
                         hint="supported: path, tag, max_size (the k8s-file log is truncated past it), max_files")
    size = value.get("max_size")
    out = dict(LOG_OPT_DEFAULT, max_size=None if size in (None, "", -1) else parse.parse_size(size, "log_opt.max_size"))
    path = value.get("path")
    if path not in (None, ""):
        if not isinstance(path, str) or not path.startswith("/"):
            raise InvalidArg("invalid log_opt.path %r: expected an absolute path" % (path,),
                             hint="for example log_opt: {path: /var/log/web.log}")
        out["path"] = path
    if value.get("tag") not in (None, ""):
        out["tag"] = parse.reject_control(str(value["tag"]), "log_opt.tag")
    if value.get("max_files") not in (None, ""):
        out["max_files"] = _nonneg_int("log_opt.max_files")(int(value["max_files"]), ctx)
    return out


#: the declared log_opt of a task that omits it (max_size only, as engines before path/tag wrote it)
LOG_OPT_DEFAULT = {"max_size": None, "path": None, "tag": None, "max_files": None}


def _log_opt_shown(value: Any) -> Dict[str, Any]:
    """What results and diffs show: the options set (an older engine's record shows as before)."""
    return {k: v for k, v in (value or {}).items() if v is not None or k == "max_size"}


def _log_opt_key(value: Any) -> Dict[str, Any]:
    """Compared with the keys an older engine did not store filled with their defaults."""
    return dict(LOG_OPT_DEFAULT, **(value or {}))


def _nonneg_int(param: str):
    def norm(value: Any, ctx: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidArg("invalid %s %r: expected an integer >= 0" % (param, value))
        return value
    return norm


def _env_file(value: Any, ctx: Any) -> Dict[str, Any]:
    # declared (stored, compared, shown) as path(s) + variable names + hash; the values are read
    # again when the container is built (env_file_values) and never reach a result or a diff.
    # One file keeps the record of a single path (as before the option took a list).
    paths = [value] if isinstance(value, str) else list(value)
    if not paths:
        return {}
    return parse.env_file_record(_read_env_files(paths), paths[0] if len(paths) == 1 else paths)


def _read_env_files(paths: Any) -> Dict[str, str]:
    """The variables of one or several env files, later files winning (as podman --env-file)."""
    env: Dict[str, str] = {}
    for path in [paths] if isinstance(paths, str) else paths:
        env.update(parse.parse_env_file(path, "env_file"))
    return env


#: parse.env_digest({}): no env file (compared twice per container of a no-op stack; a test checks it)
NO_ENV_DIGEST = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def _env_file_key(value: Any) -> str:
    """Compared: the variables' hash (a container declared before records were kept has the variables)."""
    if not value:
        return NO_ENV_DIGEST
    return value["sha256"] if isinstance(value, dict) and "sha256" in value else parse.env_digest(value)


def _env_file_shown(value: Any) -> Any:
    if not value or "sha256" in value:
        return value
    return {"keys": sorted(value), "sha256": parse.env_digest(value)}


def env_file_values(declared: Dict[str, Any]) -> Dict[str, str]:
    """The variables of the declared env file, read now; refused if it changed since it was declared."""
    rec = declared.get("env_file") or {}
    if "sha256" not in rec:
        return dict(rec)
    env = _read_env_files(rec["path"])
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
    # these parsers are imported when an option needs them: a no-op task that sets none does not
    # load them (issue 20)
    from ..engine.oci.resources import check_memory  # noqa: PLC0415

    check_memory(memory)
    return memory


def _pids_limit(value: Any, ctx: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < -1:
        raise InvalidArg("invalid pids_limit %r: expected a positive integer, or 0 / -1 for no limit" % value)
    return 0 if value == -1 else value


# --------------------------------------------------------------------------- host-facing options (issue 23)

def _int_range(param: str, low: int, high: Any = None, unset: Any = ()):
    """An integer option; values in ``unset`` mean "not set" (declared None, like omitting it)."""
    def norm(value: Any, ctx: Any) -> Any:
        n = hostopts.parse_int_range(value, param, min([low] + list(unset)), high)
        if n in unset:
            return None
        if n < low:
            raise InvalidArg("invalid %s %r" % (param, value), hint="expected an integer >= %d" % low)
        return n
    return norm


def _size(param: str):
    def norm(value: Any, ctx: Any) -> Any:
        return parse.parse_size(value, param) or None
    return norm


def _cpuset(param: str):
    def norm(value: Any, ctx: Any) -> Any:
        return hostopts.parse_cpuset(value, param) if str(value).strip() else None
    return norm


def _throttle(param: str, size: bool):
    def norm(value: Any, ctx: Any) -> List[Dict[str, Any]]:
        return hostopts.parse_throttles(value, param, size=size)
    return norm


def _cgroup_parent(value: Any, ctx: Any) -> Any:
    text = str(value).strip()
    if not text:
        return None
    if not text.startswith("/") or ".." in text.split("/"):
        raise InvalidArg("invalid cgroup_parent %r: the cgroupfs manager takes an absolute path" % value,
                         hint="for example /mygroup (it is created under each controller's hierarchy)")
    return text.rstrip("/") or "/"


def _cgroup_conf(value: Any, ctx: Any) -> Dict[str, str]:
    return {str(k): str(v) for k, v in sorted(value.items())}


#: cgroups values: conmon is never moved into a cgroup by this engine, so no-conmon = enabled;
#: disabled: no cgroup for the container (crun only: oci/spechost.check_no_cgroups)
_CGROUPS_SUPPORTED = ("enabled", "no-conmon", "disabled")


def _cgroups(value: Any, ctx: Any) -> str:
    text = str(value).strip()
    if text in _CGROUPS_SUPPORTED:
        return text
    if text == "split":
        # podman's split puts conmon and the container below the cgroup of the podman process (a
        # systemd unit's); a module runs in the transient cgroup of the SSH session or task that
        # called it, which is no place for a long-lived container (docs/migration-from-containers-podman.md)
        raise InvalidArg("cgroups: split is not supported: the caller's cgroup is the Ansible task's transient "
                         "session, not a unit the container could live in",
                         hint="use enabled (the default), no-conmon or disabled; cgroup_parent places the "
                              "container's cgroup")
    raise InvalidArg("invalid cgroups %r" % value, hint="one of enabled, no-conmon, disabled")


def _userns(value: Any, ctx: Any) -> Any:
    from ..engine.parse.userns import parse_userns  # noqa: PLC0415 - see _memory

    return parse_userns(value, "userns").canonical()


def _idmaps(param: str):
    def norm(value: Any, ctx: Any) -> List[str]:
        from ..engine.parse.idmap import format_idmaps, parse_idmaps  # noqa: PLC0415 - see _memory

        return format_idmaps(parse_idmaps(value or [], param))
    return norm


def _subid_name(param: str):
    def norm(value: Any, ctx: Any) -> Any:
        text = str(value).strip() if value is not None else ""
        if ":" in text or "\n" in text:
            raise InvalidArg("%s: %r is not a user name" % (param, value), hint="a name listed in /etc/sub%sid"
                             % param[3])
        return text or None
    return norm


def _refused(param: str, why: str):
    def norm(value: Any, ctx: Any) -> Any:
        if value in (None, "", [], {}):
            return None
        raise InvalidArg("%s is not supported yet: %s" % (param, why), hint="drop %s" % param)
    return norm


def _passwd_key(value: Any) -> bool:
    """Compared as podman's flag: None (a container declared before passwd was supported) is the default."""
    return value is not False


def _entry_template(param: str, example: str):
    """passwd_entry / group_entry: one line with podman's variables, as many fields as ``example``."""
    fields = example.count(":") + 1

    def norm(value: Any, ctx: Any) -> Any:
        text = str(value)
        if not text.strip():
            return None
        if "\n" in text or "\r" in text or text.count(":") != fields - 1:
            raise InvalidArg("invalid %s %r: expected one line of %d colon-separated fields" % (param, value, fields),
                             hint="for example %s" % example)
        return text
    return norm


def _hostuser(value: Any, ctx: Any) -> Any:
    """A user name or UID of this host (podman --hostuser), looked up now: a typo fails before anything runs."""
    from ..engine.oci.userfiles import host_user  # noqa: PLC0415 - the host's passwd only when asked

    text = str(value).strip()
    if not text:
        return None
    host_user(text)
    return text


def _security_opt(value: Any, ctx: Any) -> Dict[str, Any]:
    return hostopts.parse_security_opt(value, "security_opt")


def _chrootdirs(value: Any, ctx: Any) -> List[str]:
    items = [value] if isinstance(value, str) else list(value or [])
    out = []
    for item in items:
        for path in str(item).split(","):
            path = path.strip()
            if not path:
                continue
            if not path.startswith("/") or ".." in path.split("/"):
                raise InvalidArg("invalid chrootdirs %r: absolute paths in the container" % item,
                                 hint="for example /var/lib/named")
            if path.rstrip("/") not in out:
                out.append(path.rstrip("/") or "/")
    return sorted(out)


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
    Option("cert_dir", type="path", update=NOT_COMPARED),
    Option("timeout", type="int", update=NOT_COMPARED),
    # removal and restart (action flags of the task's own stop/remove; the peer's names)
    Option("delete_depend", type="bool", update=NOT_COMPARED),
    Option("delete_time", update=NOT_COMPARED),
    Option("delete_volumes", type="bool", update=NOT_COMPARED),
    Option("force_delete", type="bool", arg_default=True, update=NOT_COMPARED),
    Option("restart_time", update=NOT_COMPARED),
    # image source (the pull; the image ID is compared, not these)
    Option("platform", update=NOT_COMPARED),
    Option("arch", update=NOT_COMPARED),
    Option("os", update=NOT_COMPARED),
    Option("variant", update=NOT_COMPARED),
    Option("authfile", type="path", update=NOT_COMPARED),
    Option("tls_verify", type="bool", update=NOT_COMPARED),
    Option("creds", no_log=True, update=NOT_COMPARED),
    # podman CLI and unit-file parameters: accepted, ignored with a warning (container_params.CLI_ONLY)
    Option("executable", update=NOT_COMPARED),
    Option("debug", type="bool", update=NOT_COMPARED),
    Option("cmd_args", type="list", elements="str", update=NOT_COMPARED),
    Option("detach", type="bool", update=NOT_COMPARED),
    Option("sig_proxy", type="bool", update=NOT_COMPARED),
    Option("image_strict", type="bool", update=NOT_COMPARED),
    Option("log_level", choices=("debug", "info", "warn", "error", "fatal", "panic"), update=NOT_COMPARED),
    Option("detach_keys", no_log=False, update=NOT_COMPARED),
    Option("generate_systemd", type="dict", update=NOT_COMPARED),
    Option("quadlet_dir", type="path", update=NOT_COMPARED),
    Option("quadlet_filename", update=NOT_COMPARED),
    Option("quadlet_file_mode", type="raw", update=NOT_COMPARED),
    Option("quadlet_options", type="list", elements="str", update=NOT_COMPARED),
    Option("wait_healthy_timeout", type="int", arg_default=120, update=NOT_COMPARED),
    # what the container is
    Option("image"),
    Option("command", type="raw", normalise=_command),
    Option("entrypoint", type="raw", normalise=_entrypoint),
    Option("env", type="dict", default={}, config=None, normalise=lambda v, c: parse.parse_env(v, "env")),
    Option("env_file", type="list", elements="path", aliases=("env_files",), default={}, config=None,
           normalise=_env_file, compare_key=_env_file_key, shown=_env_file_shown),
    Option("env_host", type="bool", default=False),
    Option("http_proxy", type="bool", default=True),
    Option("env_merge", type="dict", default={}, config=None, normalise=cp.env_merge),
    Option("unsetenv", type="list", elements="str", default=[], normalise=cp.env_names),
    Option("unsetenv_all", type="bool", default=False),
    Option("label_file", default={}, config=None, normalise=cp.label_file),
    Option("label", type="dict", aliases=("labels",), default={}, config="labels",
           normalise=lambda v, c: parse.parse_labels(v, "label")),
    Option("annotation", type="dict", aliases=("annotations",), default={}, config="annotations",
           normalise=lambda v, c: parse.parse_labels(v, "annotation")),
    Option("workdir", aliases=("working_dir",)),
    Option("user"),
    Option("hostname", normalise=lambda v, c: parse.parse_hostname(v, "hostname")),
    Option("oci_runtime", aliases=("runtime",)),
    Option("requires", type="list", elements="str", default=[], normalise=cp.requires),
    # storage
    Option("volume", type="list", elements="str", aliases=("volumes",), default=[], config=None,
           normalise=_volumes),
    Option("mount", type="list", elements="raw", aliases=("mounts",), default=[], config=None, normalise=_mounts),
    Option("tmpfs", type="raw", default=[], config=None, normalise=_tmpfs),
    Option("read_only", type="bool", default=False),
    Option("volumes_from", type="list", elements="str", default=[], normalise=cp.volumes_from),
    Option("image_volume", choices=cp.IMAGE_VOLUME_MODES, default="bind"),
    # image is a host directory (reconcile/container_rootfs.py); compared: an image <-> a directory recreates
    Option("rootfs", type="bool", default=False, config=None),
    Option("secrets", type="list", elements="raw", default=[], no_log=False, normalise=normalise_secrets),
    Option("shm_size", type="raw", normalise=lambda v, c: parse.parse_size(v, "shm_size")),
    # network
    Option("network", type="raw", aliases=("net", "network_mode"), default={"mode": "bridge", "networks": []},
           config=None, normalise=_network),
    Option("network_aliases", type="list", elements="str", aliases=("network_alias",), default=[], config=None),
    Option("ip", config=None),
    Option("ip6", config=None),
    Option("mac_address", config=None),
    Option("publish", type="list", elements="raw", aliases=("ports", "published", "published_ports"), default=[],
           update=IN_PLACE, normalise=_publish),
    Option("expose", type="list", elements="str", aliases=("exposed", "exposed_ports"), default=[],
           normalise=cp.expose),
    Option("publish_all", type="bool", default=False),
    Option("no_hosts", type="bool", default=False),
    Option("hosts_file", normalise=cp.hosts_file),
    Option("no_hostname", type="bool", default=False),
    Option("dns", type="list", elements="str", aliases=("dns_servers",), default=[],
           normalise=lambda v, c: parse.parse_dns_servers(v, "dns")),
    Option("dns_search", type="list", elements="str", aliases=("dns_search_domains",), default=[],
           normalise=lambda v, c: parse.parse_dns_search(v, "dns_search")),
    Option("dns_option", type="list", elements="str", aliases=("dns_opts",), default=[],
           normalise=lambda v, c: parse.parse_dns_options(v, "dns_option")),
    Option("add_host", type="raw", aliases=("etc_hosts", "add_hosts"), default=[], normalise=_add_host),
    Option("pod", config=None, normalise=_pod),
    # security
    Option("privileged", type="bool", default=False),
    Option("cap_add", type="list", elements="str", aliases=("capabilities",), default=[],
           normalise=_caps("cap_add")),
    Option("cap_drop", type="list", elements="str", default=[], normalise=_caps("cap_drop")),
    Option("sysctl", type="dict", aliases=("sysctls",), default={},
           normalise=lambda v, c: parse.parse_sysctls(v, "sysctl")),
    # resources beyond memory/cpus/pids (oci/resources.py): in place where runtime update allows it
    Option("cpu_shares", type="int", update=IN_PLACE, normalise=_int_range("cpu_shares", 2, 262144, unset=(0,))),
    Option("cpu_period", type="int", update=IN_PLACE, normalise=_int_range("cpu_period", 1000, 1000000, unset=(0,))),
    Option("cpu_quota", type="int", update=IN_PLACE, normalise=_int_range("cpu_quota", 1000, None, unset=(0, -1))),
    Option("cpu_rt_period", type="int", update=IN_PLACE,
           normalise=_int_range("cpu_rt_period", 1, 1000000, unset=(0,))),
    Option("cpu_rt_runtime", type="int", update=IN_PLACE,
           normalise=_int_range("cpu_rt_runtime", 1, 1000000, unset=(0, -1))),
    Option("cpuset_cpus", update=IN_PLACE, normalise=_cpuset("cpuset_cpus")),
    Option("cpuset_mems", update=IN_PLACE, normalise=_cpuset("cpuset_mems")),
    Option("memory_reservation", update=IN_PLACE, normalise=_size("memory_reservation")),
    Option("memory_swap", update=IN_PLACE,
           normalise=lambda v, c: hostopts.parse_memory_swap(v, "memory_swap") or None),
    Option("memory_swappiness", type="int", normalise=_int_range("memory_swappiness", 0, 100, unset=(-1,))),
    Option("kernel_memory", normalise=_size("kernel_memory")),
    Option("oom_kill_disable", type="bool", default=False),
    Option("oom_score_adj", type="int", normalise=_int_range("oom_score_adj", -1000, 1000)),
    Option("blkio_weight", type="int", update=IN_PLACE, normalise=_int_range("blkio_weight", 10, 1000, unset=(0,))),
    Option("blkio_weight_device", type="dict", default=[],
           normalise=lambda v, c: hostopts.parse_weight_devices(v, "blkio_weight_device")),
    Option("device_read_bps", type="list", elements="str", default=[], normalise=_throttle("device_read_bps", True)),
    Option("device_read_iops", type="list", elements="str", default=[],
           normalise=_throttle("device_read_iops", False)),
    Option("device_write_bps", type="list", elements="str", default=[],
           normalise=_throttle("device_write_bps", True)),
    Option("device_write_iops", type="list", elements="str", default=[],
           normalise=_throttle("device_write_iops", False)),
    Option("cgroup_parent", type="path", normalise=_cgroup_parent),
    Option("cgroupns", normalise=lambda v, c: hostopts.parse_namespace_mode(v, "cgroupns") if not
           str(v).startswith("container:") else _refused("cgroupns", "container:NAME")(v, c)),
    Option("cgroups", default="enabled", normalise=_cgroups),
    Option("cgroup_conf", type="dict", default={}, normalise=_cgroup_conf),
    # devices
    Option("device", type="list", elements="str", aliases=("devices",), default=[], config="devices",
           normalise=lambda v, c: sorted((hostopts.parse_device(d, "device") for d in v),
                                         key=lambda d: d["container"])),
    Option("device_cgroup_rule", type="raw", default=[], config="device_cgroup_rules",
           normalise=lambda v, c: hostopts.parse_device_cgroup_rules(v, "device_cgroup_rule")),
    Option("gpus", normalise=lambda v, c: str(v).strip() or None),
    # namespaces and users
    Option("ipc", aliases=("ipc_mode",),
           normalise=lambda v, c: hostopts.parse_namespace_mode(v, "ipc", ("shareable",))),
    Option("pid", aliases=("pid_mode",), normalise=lambda v, c: hostopts.parse_namespace_mode(v, "pid")),
    Option("uts", normalise=lambda v, c: hostopts.parse_namespace_mode(v, "uts")),
    # userns, uidmap, gidmap, subuidname, subgidname: one user namespace (container_build.userns_values)
    Option("userns", aliases=("userns_mode",), config=None, normalise=_userns),
    Option("uidmap", type="list", elements="str", default=[], config=None, normalise=_idmaps("uidmap")),
    Option("gidmap", type="list", elements="str", default=[], config=None, normalise=_idmaps("gidmap")),
    Option("subuidname", config=None, normalise=_subid_name("subuidname")),
    Option("subgidname", config=None, normalise=_subid_name("subgidname")),
    Option("group_add", type="list", elements="str", aliases=("groups",), default=[],
           normalise=lambda v, c: hostopts.parse_group_add(v, "group_add")),
    Option("umask", normalise=lambda v, c: hostopts.parse_umask(v, "umask")),
    # /etc/passwd and /etc/group entries added at start (engine/oci/userfiles.py), as podman
    Option("passwd", type="bool", no_log=False, default=True, compare_key=_passwd_key),
    Option("passwd_entry", no_log=False,
           normalise=_entry_template("passwd_entry", "$USERNAME:*:$UID:$GID:$NAME:$HOME:/bin/sh")),
    Option("group_entry", normalise=_entry_template("group_entry", "$GROUPNAME:x:$GID:$USERLIST")),
    Option("hostuser", normalise=_hostuser),
    Option("personality", choices=("LINUX", "LINUX32")),
    Option("chrootdirs", type="raw", default=[], normalise=_chrootdirs),
    # security
    Option("security_opt", type="list", elements="str", default={}, normalise=_security_opt),
    Option("seccomp_policy", choices=("default", "image"), default="default"),
    Option("read_only_tmpfs", type="bool", default=True),
    # process
    Option("init", type="bool", default=False),
    Option("init_path", type="path"),
    Option("systemd", type="raw", default="true", normalise=cp.systemd_mode),
    Option("sdnotify", choices=cp.SDNOTIFY_MODES),
    Option("timezone", normalise=cp.timezone),
    Option("tty", type="bool", default=False),
    Option("interactive", type="bool", default=False),
    Option("rm", type="bool", aliases=("remove", "auto_remove"), default=False, config="auto_remove"),
    Option("ulimit", type="list", elements="str", aliases=("ulimits",), default=[], config="ulimits",
           normalise=_ulimits),
    Option("stop_signal", type="raw", normalise=lambda v, c: parse.parse_stop_signal(v, "stop_signal")),
    Option("stop_timeout", type="int", aliases=("stop_time",), update=CONFIG, normalise=_nonneg_int("stop_timeout")),
    Option("log_driver", choices=cp.LOG_DRIVERS, default="k8s-file", config=None, normalise=cp.log_driver),
    Option("log_opt", type="dict", aliases=("log_options",), default=LOG_OPT_DEFAULT, config=None,
           normalise=_log_opt, compare_key=_log_opt_key, shown=_log_opt_shown),
    Option("cidfile", type="path"),
    Option("conmon_pidfile", type="path", update=CONFIG),
    Option("pid_file", type="path", update=CONFIG),
    # healthcheck (recreate on change, as podman); "NONE" disables the image's HEALTHCHECK
    Option("healthcheck", type="raw", aliases=("health_cmd",), config=None,
           normalise=lambda v, c: parse_health.healthcheck_argv(v) or "NONE"),
    # podman --no-healthcheck: the image's HEALTHCHECK is not used (as healthcheck: NONE)
    Option("no_healthcheck", type="bool", default=False, config=None),
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
