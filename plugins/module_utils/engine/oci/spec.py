# SPDX-License-Identifier: GPL-3.0-or-later
"""OCI runtime config (config.json) for a container, as podman 4.3 generates it by default.

Input is the container's normalised config (docs/architecture.md) plus what only the
runtime knows at init time (rootfs, RunDir, netns path, pod namespaces, containers.conf
defaults, the caller's limits). Deviations from podman, all forced by the host or by
not shipping podman's files, are named where they happen:

* rlimits are clamped to the calling process's hard limits when it lacks CAP_SYS_RESOURCE
  (podman's RLIMIT_NOFILE=1048576 default cannot be set on such a host: runc fails);
* seccomp: podman's JSON profile is not shipped; without a configured profile a compact
  built-in deny-list is used (see ``default_seccomp``);
* the init binary is bind-mounted at podman's own path ``/run/podman-init``.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import resource
import socket
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ..base.errors import EngineError, InvalidArg, StorageError
from ..base.netmodes import USERMODE_NETWORKS
from ..host.cgroups import swap_accounting
from ..host.files import write_atomic
from ..host.proc import read_int
from ..parse.idmap import parse_idmaps, to_oci
from ..parse.values import (
    RLIM_INFINITY,
    normalize_capabilities,
    parse_env,
    parse_sysctls,
    parse_ulimits,
)
from .resources import NO_CGROUP_LIMITS, ROOTLESS_V1_LIMITS, linux_resources
from .spechost import linux_devices, load_seccomp_json, masked_paths, seccomp_choice
from .specvalues import (  # noqa: F401 - re-exported: spec.py is where callers know them
    DEFAULT_CAPABILITIES,
    DEFAULT_PATH,
    SYSTEMD_COMMANDS,
    SYSTEMD_STOP_SIGNAL,
    SYSTEMD_TMPFS,
    _proc_status_caps,
    bounding_capabilities,
    command_args,
    effective_env,
    effective_stop_signal,
    host_bounding_caps,
    merge_capabilities,
    systemd_mode,
)

if TYPE_CHECKING:  # annotations only: generate_spec imports etcfiles (inspect and stop do not need it)
    from .etcfiles import ExecUser

__all__ = [
    "OCI_VERSION", "DEFAULT_CAPABILITIES", "DEFAULT_MASKED_PATHS", "DEFAULT_READONLY_PATHS",
    "DEFAULT_PATH", "INIT_MOUNT_PATH", "INIT_CANDIDATES", "SpecContext", "generate_spec", "merge_capabilities",
    "bounding_capabilities",
    "default_seccomp", "compile_seccomp_profile", "write_config_json", "host_rlimits", "command_args",
    "effective_env", "effective_stop_signal", "systemd_mode", "host_bounding_caps", "SYSTEMD_COMMANDS",
    "SYSTEMD_STOP_SIGNAL",
]

OCI_VERSION = "1.0.2-dev"
DEFAULT_MASKED_PATHS: Tuple[str, ...] = (
    "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/fs/selinux",
    "/sys/dev/block",
)
DEFAULT_READONLY_PATHS: Tuple[str, ...] = (
    "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
)
#: Where the init binary appears in the container (podman's define.ContainerInitPath).
INIT_MOUNT_PATH = "/run/podman-init"
#: where catatonit is looked for when init_path is not configured
INIT_CANDIDATES = ("/usr/libexec/podman/catatonit", "/usr/bin/catatonit", "/usr/libexec/catatonit/catatonit",
                   "/usr/local/bin/catatonit")
DEFAULT_SHM_SIZE = 64 * 1024 * 1024
#: podman's addRlimits default for NOFILE and NPROC when not given.
_PODMAN_DEFAULT_RLIMIT = 1048576
_NS_ORDER = ("pid", "network", "ipc", "uts", "mount", "cgroup")
_NS_ALIASES = {"net": "network", "mnt": "mount", "pid": "pid", "ipc": "ipc", "uts": "uts",
               "cgroup": "cgroup", "network": "network", "mount": "mount", "user": "user"}
# option names that mean something to us or to podman but not to the kernel/runc
_NOT_FOR_RUNTIME = frozenset(("z", "Z", "U", "copy", "nocopy", "idmap"))
_PROPAGATIONS = frozenset(("shared", "rshared", "slave", "rslave", "private", "rprivate",
                           "unbindable", "runbindable"))
_IPC_SYSCTLS = frozenset(("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                          "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"))
_UTS_SYSCTLS = frozenset(("kernel.hostname", "kernel.domainname"))


# --------------------------------------------------------------------------- host facts

def host_rlimits() -> Dict[str, Tuple[int, int]]:
    """The calling process's (soft, hard) limits keyed by OCI type, infinity as 2**64-1."""
    out = {}
    for name in dir(resource):
        if not name.startswith("RLIMIT_"):
            continue
        try:
            soft, hard = resource.getrlimit(getattr(resource, name))
        except (ValueError, OSError):
            continue
        out[name] = (RLIM_INFINITY if soft < 0 else soft, RLIM_INFINITY if hard < 0 else hard)
    return out


def _cgroup_v2() -> bool:
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def _swap_accounting(v2: bool) -> bool:
    return True if v2 else swap_accounting()


def _now_rfc3339() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------- context

@dataclass
class SpecContext:
    """Everything generate_spec needs; host facts default to the calling process's own."""

    #: normalised container config (docs/architecture.md "Container config")
    config: Dict[str, Any]
    #: mounted rootfs (merged dir); /etc/passwd and /etc/group are read from it
    rootfs: str
    #: RunDir holding hosts, hostname, resolv.conf, .containerenv (bind-mounted)
    run_dir: str
    #: OCI image config "config" section: Env, Cmd, Entrypoint, WorkingDir, User, StopSignal...
    image_config: Dict[str, Any] = field(default_factory=dict)
    #: host dir (tmpfs) to bind at /dev/shm; None: runc mounts a fresh tmpfs of shm_size
    shm_path: Optional[str] = None
    #: network namespace made by the network layer (bridge mode); None = new empty netns
    netns_path: Optional[str] = None
    #: namespaces to join, type → path ("/proc/<pid>/ns/net") or "host" (network: container)
    join_namespaces: Dict[str, str] = field(default_factory=dict)
    #: the pod infra's namespaces (type → path) a pod member joins
    pod_namespaces: Dict[str, str] = field(default_factory=dict)
    #: hostname of a joined UTS namespace (pod name for pod members)
    shared_hostname: Optional[str] = None
    #: infra container id of the pod (annotations)
    infra_id: Optional[str] = None
    #: explicit cgroupfs path; default <cgroup_parent>/libpod-<id>
    cgroups_path: Optional[str] = None
    cgroup_parent: str = "/libpod-engine"
    #: False: rootless without a delegated cgroup v2 (cgroup v1 included), no cgroup at all (podman: empty
    #: cgroupsPath, limits dropped with ``no_cgroup_warning``)
    cgroups: bool = True
    #: container path -> host file bind-mounted over it (the /etc/passwd and /etc/group copies of
    #: oci/userfiles.py for a read-only rootfs): user lookups read these instead of the rootfs's
    etc_overrides: Dict[str, str] = field(default_factory=dict)
    no_cgroup_warning: str = ROOTLESS_V1_LIMITS
    #: containers.conf defaults
    default_capabilities: Sequence[str] = DEFAULT_CAPABILITIES
    default_ulimits: Sequence[Any] = ()
    #: containers.conf env / default_sysctls: a dict or a list of "k=v" (the TOML shape)
    default_env: Union[Dict[str, str], List[str]] = field(default_factory=dict)
    default_sysctls: Union[Dict[str, str], List[str]] = field(
        default_factory=lambda: {"net.ipv4.ping_group_range": "0 0"})
    default_pids_limit: int = 2048
    default_shm_size: int = DEFAULT_SHM_SIZE
    umask: int = 0o022
    #: containers.conf no_new_privileges (the container's own setting wins when given)
    no_new_privileges: bool = False
    #: host binary bind-mounted read-only at INIT_MOUNT_PATH for ``init: true``;
    #: None/"" = the first of INIT_CANDIDATES that exists
    init_path: Optional[str] = None
    #: None = built-in default; "unconfined" = none; else the path of a JSON profile
    seccomp_profile: Optional[str] = None
    #: OCI annotation io.kubernetes.cri-o.Created; default now
    created: Optional[str] = None
    #: host facts (None = detect from this process / host)
    host_rlimits: Optional[Dict[str, Tuple[int, int]]] = None
    can_raise_rlimits: Optional[bool] = None
    host_bounding_caps: Optional[Sequence[str]] = None
    cgroup_v2: Optional[bool] = None
    swap_accounting: Optional[bool] = None
    host_hostname: Optional[str] = None
    #: filled by generate_spec: things changed silently that a module may want to show
    warnings: List[str] = field(default_factory=list)


# --------------------------------------------------------------------------- seccomp

# syscall → the capabilities that make it harmless enough to allow (as the
# includes/excludes of the containers/common profile); () = always denied.
_DENY_SYSCALLS: Tuple[Tuple[Tuple[str, ...], Tuple[str, ...]], ...] = (
    ((), ("add_key", "keyctl", "request_key", "kexec_file_load", "nfsservctl", "query_module",
          "create_module", "get_kernel_syms", "uselib", "userfaultfd", "ustat", "sysfs", "_sysctl",
          "vm86", "vm86old")),
    (("CAP_SYS_ADMIN",), ("mount", "umount", "umount2", "pivot_root", "unshare", "setns",
                          "swapon", "swapoff", "quotactl", "quotactl_fd", "lookup_dcookie",
                          "fanotify_init", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
                          "open_tree", "mount_setattr")),
    (("CAP_SYS_MODULE",), ("init_module", "finit_module", "delete_module")),
    (("CAP_SYS_BOOT",), ("reboot", "kexec_load")),
    (("CAP_SYS_TIME",), ("settimeofday", "stime", "clock_settime", "clock_adjtime", "adjtimex")),
    (("CAP_SYS_RAWIO",), ("iopl", "ioperm")),
    (("CAP_SYS_PTRACE",), ("process_vm_readv", "process_vm_writev", "kcmp")),
    (("CAP_SYS_NICE",), ("get_mempolicy", "set_mempolicy", "mbind", "move_pages")),
    (("CAP_DAC_READ_SEARCH",), ("open_by_handle_at", "name_to_handle_at")),
    (("CAP_SYS_PACCT",), ("acct",)),
    (("CAP_SYS_TTY_CONFIG",), ("vhangup",)),
    (("CAP_SYSLOG",), ("syslog",)),
    (("CAP_SYS_ADMIN", "CAP_BPF"), ("bpf",)),
    (("CAP_SYS_ADMIN", "CAP_PERFMON"), ("perf_event_open",)),
)
# clone() flags that create namespaces: CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
_CLONE_NS_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)
_EPERM, _ENOSYS = 1, 38
_SCMP_ARCHES = {
    "x86_64": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "aarch64": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
    "ppc64le": ["SCMP_ARCH_PPC64LE"],
    "s390x": ["SCMP_ARCH_S390X", "SCMP_ARCH_S390"],
    "riscv64": ["SCMP_ARCH_RISCV64"],
}
_GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "ppc64le": "ppc64le", "s390x": "s390x",
            "riscv64": "riscv64", "i686": "386", "armv7l": "arm"}


def default_seccomp(caps: Sequence[str], machine: Optional[str] = None) -> Dict[str, Any]:
    """Built-in profile: allow by default, EPERM for syscalls that reach un-namespaced kernel
    state or widen the attack surface, each group lifted when the container holds the cap
    that would make it legitimate (as podman's profile does); clone3 gets ENOSYS so libc
    falls back to clone, whose namespace flags are then refused. Weaker than podman's
    allow-list, but needs no shipped file and cannot break ordinary programs."""
    have = set(caps)
    deny: List[str] = []
    for need, names in _DENY_SYSCALLS:
        if need and have.intersection(need):
            continue
        deny.extend(names)
    rules: List[Dict[str, Any]] = [{"names": sorted(deny), "action": "SCMP_ACT_ERRNO", "errnoRet": _EPERM}]
    if "CAP_SYS_ADMIN" not in have:
        rules.append({"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": _ENOSYS})
        # s390 swaps clone's first two arguments; everyone else has flags first
        idx = 1 if (machine or platform.machine()).startswith("s390") else 0
        for flag in _CLONE_NS_FLAGS:
            rules.append({"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": _EPERM,
                          "args": [{"index": idx, "value": flag, "valueTwo": flag,
                                    "op": "SCMP_CMP_MASKED_EQ"}]})
    prof: Dict[str, Any] = {"defaultAction": "SCMP_ACT_ALLOW"}
    arches = _SCMP_ARCHES.get(machine or platform.machine())
    if arches:
        prof["architectures"] = list(arches)
    prof["syscalls"] = rules
    return prof


def _kernel_version() -> Tuple[int, ...]:
    out = []
    for part in platform.release().split("-")[0].split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits or 0))
    return tuple(out)


def _version(text: str) -> Tuple[int, ...]:
    return tuple(int("".join(ch for ch in p if ch.isdigit()) or 0) for p in str(text).split(".")[:3])


def compile_seccomp_profile(profile: Mapping[str, Any], caps: Sequence[str],
                            machine: Optional[str] = None) -> Dict[str, Any]:
    """OCI seccomp section from a containers/docker-style profile (or an OCI one, unchanged
    in substance): evaluate includes/excludes (caps, arches, minKernel), expand archMap."""
    machine = machine or platform.machine()
    if not isinstance(profile, Mapping) or "defaultAction" not in profile:
        raise InvalidArg("invalid seccomp profile: no defaultAction")
    scmp_native = (_SCMP_ARCHES.get(machine) or [None])[0]
    go_arch = _GO_ARCH.get(machine, machine)
    out: Dict[str, Any] = {"defaultAction": profile["defaultAction"]}
    if "defaultErrnoRet" in profile:
        out["defaultErrnoRet"] = profile["defaultErrnoRet"]
    if profile.get("architectures"):
        out["architectures"] = list(profile["architectures"])
    elif profile.get("archMap"):
        for entry in profile["archMap"]:
            if entry.get("architecture") == scmp_native:
                out["architectures"] = [scmp_native] + list(entry.get("subArchitectures") or [])
    for key in ("flags", "listenerPath", "listenerMetadata"):
        if profile.get(key):
            out[key] = profile[key]
    have = set(caps)
    kernel = _kernel_version()

    def arch_match(arches: Sequence[str]) -> bool:
        return bool({go_arch, machine, scmp_native} & set(arches))

    rules = []
    for rule in profile.get("syscalls") or []:
        names = list(rule.get("names") or ([rule["name"]] if rule.get("name") else []))
        if not names:
            continue
        inc = rule.get("includes") or {}
        exc = rule.get("excludes") or {}
        if inc.get("caps") and not set(inc["caps"]) <= have:
            continue
        if inc.get("arches") and not arch_match(inc["arches"]):
            continue
        if inc.get("minKernel") and kernel < _version(inc["minKernel"]):
            continue
        if exc.get("caps") and set(exc["caps"]) & have:
            continue
        if exc.get("arches") and arch_match(exc["arches"]):
            continue
        if exc.get("minKernel") and kernel >= _version(exc["minKernel"]):
            continue
        r: Dict[str, Any] = {"names": names, "action": rule["action"]}
        for key in ("errnoRet", "args"):
            if rule.get(key) is not None:
                r[key] = rule[key]
        rules.append(r)
    if rules:
        out["syscalls"] = rules
    return out


def _load_seccomp(path: str, caps: Sequence[str]) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise InvalidArg("cannot use seccomp profile %s: %s" % (path, e),
                         hint="give a readable JSON profile or seccomp_profile=unconfined")
    return compile_seccomp_profile(data, caps)


# --------------------------------------------------------------------------- pieces

def _env(ctx: SpecContext, hostname: str, user: ExecUser) -> List[str]:
    cfg = ctx.config
    declared = cfg.get("env") or {}
    env = effective_env(ctx.default_env, ctx.image_config, {})
    env.setdefault("HOSTNAME", hostname)
    env.setdefault("HOME", user.home or "/")
    # unsetenv / unsetenv_all drop the defaults (engine, containers.conf, image), never the declared env
    unset = set(env) if cfg.get("unsetenv_all") else set(cfg.get("unsetenv") or [])
    env = {k: v for k, v in env.items() if k not in unset}
    env.update(parse_env(declared, "env"))
    return ["%s=%s" % kv for kv in env.items()]


def _rlimits(ctx: SpecContext) -> List[Dict[str, Any]]:
    """default_ulimits overlaid by the container's, NOFILE/NPROC added as podman, clamped."""
    merged: Dict[str, Dict[str, Any]] = {}
    for rl in parse_ulimits(list(ctx.default_ulimits), "default_ulimits"):
        merged[rl["type"]] = rl
    user_types = set()
    for rl in parse_ulimits(list(ctx.config.get("ulimits") or []), "ulimits"):
        merged[rl["type"]] = rl
        user_types.add(rl["type"])
    pid_max = read_int("/proc/sys/kernel/pid_max") or _PODMAN_DEFAULT_RLIMIT
    defaults = {"RLIMIT_NOFILE": _PODMAN_DEFAULT_RLIMIT, "RLIMIT_NPROC": pid_max}
    order = ["RLIMIT_NOFILE"] + [t for t in merged if t != "RLIMIT_NOFILE"]
    if "RLIMIT_NPROC" not in order:
        order.append("RLIMIT_NPROC")
    limits = ctx.host_rlimits if ctx.host_rlimits is not None else host_rlimits()
    can_raise = ctx.can_raise_rlimits
    if can_raise is None:
        eff = _proc_status_caps("CapEff")
        can_raise = eff is not None and bool(eff >> 24 & 1)  # CAP_SYS_RESOURCE
    nr_open = read_int("/proc/sys/fs/nr_open") or _PODMAN_DEFAULT_RLIMIT
    out = []
    for rtype in order:
        rl = dict(merged.get(rtype) or {"type": rtype, "soft": defaults[rtype], "hard": defaults[rtype]})
        cap: Optional[int] = None
        if not can_raise and rtype in limits:
            cap = limits[rtype][1]
        elif rtype == "RLIMIT_NOFILE":
            cap = nr_open
        if cap is not None and rl["hard"] > cap:
            if rtype in user_types:
                ctx.warnings.append("ulimit %s lowered from %d:%d to the caller's hard limit %d"
                                    % (rtype, rl["soft"], rl["hard"], cap))
            rl["hard"] = cap
            rl["soft"] = min(rl["soft"], cap)
        out.append({"type": rtype, "hard": rl["hard"], "soft": rl["soft"]})
    return out


def _group_add(ctx: SpecContext) -> List[int]:
    """group_add: numeric GIDs as given, names looked up in the image's /etc/group."""
    names = [g for g in ctx.config.get("group_add") or [] if not g.isdigit()]
    groups = {}
    if names:
        from .etcfiles import parse_group, read_rootfs_file  # noqa: PLC0415 - the /etc readers only for a new spec
        groups = {e.name: e.gid for e in parse_group(read_rootfs_file(ctx.rootfs, "/etc/group") or "")}
    out = []
    for g in ctx.config.get("group_add") or []:
        if g.isdigit():
            out.append(int(g))
        elif g in groups:
            out.append(groups[g])
        else:
            raise InvalidArg("group_add: group %s is not in the image's /etc/group" % g,
                             hint="give a numeric GID, or a group the image defines")
    return out


def _namespaces(ctx: SpecContext) -> Tuple[List[Dict[str, str]], Dict[str, str]]:
    """OCI namespace list and, per type, "private" / "host" / "joined"."""
    join: Dict[str, str] = {}
    for src in (ctx.pod_namespaces, ctx.join_namespaces):  # explicit joins win over the pod's
        for k, v in src.items():
            t = _NS_ALIASES.get(k)
            if t is None or t == "user":
                raise InvalidArg("invalid namespace type %r to join" % k,
                                 hint="one of pid, network, ipc, uts, mount, cgroup")
            join[t] = v
    net = ctx.config.get("network") or {}
    mode = net.get("mode") or "bridge"
    if "network" not in join:
        if mode == "host":
            join["network"] = "host"
        elif mode in ("container", "pod"):
            raise InvalidArg("network mode %s needs the namespace path of %s" % (
                mode, net.get("container") or "the pod's infra container"),
                hint="the container layer must pass join_namespaces/pod_namespaces")
        elif (mode == "bridge" or mode in USERMODE_NETWORKS) and ctx.netns_path:
            join["network"] = ctx.netns_path  # pasta / slirp4netns already serve this netns
        elif mode not in ("bridge", "none") + USERMODE_NETWORKS:
            raise InvalidArg("invalid network mode %r" % mode, hint="bridge, host, none, container, pod, pasta "
                                                                    "or slirp4netns")
    for t in ("ipc", "pid", "uts"):  # the container's own modes win over the pod's sharing
        mode = ctx.config.get(t)
        if mode == "host":
            join[t] = "host"
        elif mode in ("private", "shareable"):
            join.pop(t, None)
    cgroupns = ctx.config.get("cgroupns")
    v2 = ctx.cgroup_v2 if ctx.cgroup_v2 is not None else _cgroup_v2()
    nss: List[Dict[str, str]] = []
    kinds: Dict[str, str] = {}
    for t in _NS_ORDER:
        path = join.get(t)
        if path == "host":
            kinds[t] = "host"
            continue
        if t == "cgroup" and not path and (cgroupns == "host" or (not v2 and cgroupns != "private")):
            kinds[t] = "host"  # podman: cgroupns=host on cgroup v1
            continue
        if path:
            if not path.startswith("/"):
                raise InvalidArg("invalid %s namespace path %r" % (t, path), hint="an absolute path")
            nss.append({"type": t, "path": path})
            kinds[t] = "joined"
        else:
            nss.append({"type": t})
            kinds[t] = "private"
    userns = ctx.config.get("userns") or ""
    if userns.startswith("ns:"):
        nss.append({"type": "user", "path": userns[3:]})
        kinds["user"] = "joined"
    elif ctx.config.get("uidmap"):
        nss.append({"type": "user"})
        kinds["user"] = "private"
    else:
        kinds["user"] = "host"
    return nss, kinds


def _id_mappings(cfg: Mapping[str, Any]) -> Dict[str, List[Dict[str, int]]]:
    """linux.uidMappings / gidMappings of a container with a user namespace of its own (else {})."""
    if not cfg.get("uidmap"):
        return {}
    return {"uidMappings": to_oci(parse_idmaps(cfg["uidmap"], "uidmap")),
            "gidMappings": to_oci(parse_idmaps(cfg.get("gidmap") or cfg["uidmap"], "gidmap"))}


def _find_init(configured: Optional[str]) -> str:
    """The init binary: the configured one (must exist) or the first known location."""
    if configured:
        if not os.path.isfile(configured):
            raise InvalidArg("init: true but the init binary %s does not exist" % configured,
                             hint="install catatonit or fix init_path in containers.conf")
        return configured
    for path in INIT_CANDIDATES:
        if os.path.isfile(path):
            return path
    raise InvalidArg("init: true but no catatonit found (looked in %s)" % ", ".join(INIT_CANDIDATES),
                     hint="install catatonit or set init_path in containers.conf")


#: the options of the default /dev/pts (and of a declared type=devpts mount, under its own)
DEVPTS_OPTIONS = ("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")


def _bind(src: str, dst: str, opts: Sequence[str]) -> Dict[str, Any]:
    return {"destination": dst, "type": "bind", "source": src, "options": list(opts)}


def _user_mount(m: Mapping[str, Any]) -> Dict[str, Any]:
    dst = m.get("destination") or m.get("target")
    mtype = m.get("type") or "bind"
    opts = [o for o in (m.get("options") or []) if o not in _NOT_FOR_RUNTIME]
    if not isinstance(dst, str) or not dst.startswith("/"):
        raise InvalidArg("invalid mount %r: destination must be an absolute path" % (dict(m),))
    dst = os.path.normpath(dst)
    if mtype == "tmpfs":
        if not any(o in ("ro", "rw") for o in opts):
            opts.append("rw")
        if not any(o in _PROPAGATIONS for o in opts):
            opts.append("rprivate")
        for flag, pair in (("noexec", "exec"), ("nosuid", "suid"), ("nodev", "dev")):
            if flag not in opts and pair not in opts:
                opts.append(flag)
        if "notmpcopyup" in opts:
            opts.remove("notmpcopyup")
        elif "tmpcopyup" not in opts:
            opts.append("tmpcopyup")
        return {"destination": dst, "type": "tmpfs", "source": "tmpfs", "options": opts}
    if mtype == "devpts":  # a new instance with the default /dev/pts options; the declared ones win
        keys = {o.partition("=")[0] for o in opts}
        return {"destination": dst, "type": "devpts", "source": "devpts",
                "options": [o for o in DEVPTS_OPTIONS if o.partition("=")[0] not in keys] + opts}
    if mtype not in ("bind", "volume"):
        raise InvalidArg("invalid mount type %r for %s" % (mtype, dst), hint="bind, volume, tmpfs or devpts")
    src = m.get("source") or ""
    if not src.startswith("/"):
        raise InvalidArg("mount %s: volume %r was not resolved to a host path" % (dst, src or "(anonymous)"),
                         hint="the container layer must resolve named volumes before generating the spec")
    if "bind" not in opts and "rbind" not in opts:
        opts.insert(0, "rbind")
    if not any(o in _PROPAGATIONS for o in opts):
        opts.append("rprivate")
    return _bind(src, dst, opts)


def _depth(dest: str) -> int:
    return len([c for c in dest.split("/") if c])


def _mounts(ctx: SpecContext, kinds: Mapping[str, str], *, privileged: bool, read_only: bool,
            v2: bool, init_path: str) -> List[Dict[str, Any]]:
    cfg = ctx.config
    run = ctx.run_dir
    etc_opts = ["bind", "rprivate"] + (["ro", "nosuid", "noexec", "nodev"] if read_only else [])
    mounts: List[Dict[str, Any]] = [
        {"destination": "/proc", "type": "proc", "source": "proc",
         "options": ["nosuid", "noexec", "nodev"] + list((cfg.get("security_opt") or {}).get("proc_opts") or [])},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "noexec", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "rw" if privileged else "ro"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": list(DEVPTS_OPTIONS)},
    ]
    own_userns = kinds.get("user") in ("private", "joined")
    if own_userns and kinds.get("network") != "private":
        # sysfs can only be mounted by the owner of the network namespace: the host's /sys instead (as podman)
        mounts[2] = _bind("/sys", "/sys", ["rprivate", "nosuid", "noexec", "nodev", "ro", "rbind"])
    if kinds.get("ipc") == "host" and os.path.isdir("/dev/mqueue"):
        mounts.append(_bind("/dev/mqueue", "/dev/mqueue", ["bind", "nosuid", "noexec", "nodev"]))
    elif own_userns and kinds.get("ipc") != "private":
        pass  # an mqueue mount needs an IPC namespace the container's user namespace owns
    else:  # (also with ipc: host on a host without /dev/mqueue: a mqueue mount shows the host's queues then)
        mounts.append({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
                       "options": ["nosuid", "noexec", "nodev"]})
    if not cfg.get("no_hostname"):  # no_hostname / no_hosts: the image's own file stays
        mounts.append(_bind(os.path.join(run, "hostname"), "/etc/hostname", etc_opts))
    mounts.append(_bind(os.path.join(run, "resolv.conf"), "/etc/resolv.conf", etc_opts))
    if not cfg.get("no_hosts"):
        mounts.append(_bind(os.path.join(run, "hosts"), "/etc/hosts", etc_opts))
    shm_opts = ["bind", "rprivate", "nosuid", "noexec", "nodev"]
    if kinds.get("ipc") == "host":
        mounts.append(_bind("/dev/shm", "/dev/shm", shm_opts))
    elif ctx.shm_path:
        mounts.append(_bind(ctx.shm_path, "/dev/shm", shm_opts))
    else:
        size = cfg.get("shm_size") or ctx.default_shm_size
        mounts.append({"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                       "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=%d" % size]})
    mounts.append(_bind(os.path.join(run, ".containerenv"), "/run/.containerenv", ["bind", "rprivate"]))
    for chroot in cfg.get("chrootdirs") or []:  # podman's --chrootdirs: the run files again inside each chroot
        for name in ("hostname", "resolv.conf", "hosts"):
            mounts.append(_bind(os.path.join(run, name), os.path.join(chroot, "etc", name), etc_opts))
    systemd = systemd_mode(cfg, ctx.image_config or {})
    cg_ro = "rw" if (v2 and (privileged or systemd)) else "ro"
    mounts.append({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                   "options": ["rprivate", "nosuid", "noexec", "nodev", "relatime", cg_ro]})

    user = []
    seen = set()
    for m in cfg.get("mounts") or []:
        um = _user_mount(m)
        if um["destination"] in seen:
            raise InvalidArg("invalid mounts: %s is mounted more than once" % um["destination"],
                             hint="give each destination once")
        seen.add(um["destination"])
        user.append(um)
    if cfg.get("init"):
        if INIT_MOUNT_PATH in seen:
            raise InvalidArg("invalid mounts: %s is reserved for init: true" % INIT_MOUNT_PATH)
        user.append(_bind(init_path, INIT_MOUNT_PATH, ["bind", "ro", "rprivate"]))
        seen.add(INIT_MOUNT_PATH)
    if systemd:
        for dest in SYSTEMD_TMPFS:
            if dest not in seen:
                user.append({"destination": dest, "type": "tmpfs", "source": "tmpfs",
                             "options": ["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"]})
                seen.add(dest)
    if read_only and cfg.get("read_only_tmpfs", True):
        for dest in ("/tmp", "/var/tmp", "/run"):
            if dest not in seen:
                user.append({"destination": dest, "type": "tmpfs", "source": "tmpfs",
                             "options": ["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"]})
                seen.add(dest)
    mounts = [m for m in mounts if m["destination"] not in seen] + user
    # parents before children (podman sorts by depth; stable within a depth)
    mounts.sort(key=lambda m: _depth(m["destination"]))
    return mounts


def _host_devices(root: str = "/dev") -> List[Dict[str, Any]]:
    """Every char/block device of the host, for privileged containers (as podman)."""
    out = []
    skip_dirs = {"pts", "shm", "mqueue", "fd", ".lxc", ".lxd-mounts", ".udev"}
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == root:
            dirnames[:] = [d for d in dirnames if d not in skip_dirs]
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if path in ("/dev/console", "/dev/ptmx"):
                continue
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISCHR(st.st_mode):
                kind = "c"
            elif stat.S_ISBLK(st.st_mode):
                kind = "b"
            else:
                continue
            out.append({"path": path, "type": kind, "major": os.major(st.st_rdev),
                        "minor": os.minor(st.st_rdev), "fileMode": stat.S_IMODE(st.st_mode),
                        "uid": st.st_uid, "gid": st.st_gid})
    return out


def _sysctls(ctx: SpecContext, kinds: Mapping[str, str]) -> Dict[str, str]:
    def allowed(key: str) -> Optional[str]:
        """None if the sysctl is namespaced and its namespace is private, else the reason."""
        if key.startswith("net."):
            ns = "network"
        elif key in _IPC_SYSCTLS or key.startswith("fs.mqueue."):
            ns = "ipc"
        elif key in _UTS_SYSCTLS:
            ns = "uts"
        else:
            return "it is not namespaced (it would change the host)"
        if kinds.get(ns) == "host":
            return "the container shares the host's %s namespace" % ns
        return None

    def foreign(key: str) -> bool:
        """A default of a namespace made before the container's own user namespace: not writable in it."""
        ns = "network" if key.startswith("net.") else "ipc" if (key in _IPC_SYSCTLS or key.startswith("fs.mqueue.")) \
            else "uts"
        return kinds.get("user") in ("private", "joined") and kinds.get(ns) != "private"

    out: Dict[str, str] = {}
    for k, v in parse_sysctls(ctx.default_sysctls, "default_sysctls").items():
        if allowed(k) is None and not foreign(k):  # podman drops defaults that cannot apply (e.g. host network)
            out[k] = v
    for k, v in parse_sysctls(ctx.config.get("sysctl") or {}, "sysctl").items():
        why = allowed(k)
        if why:
            raise InvalidArg("invalid sysctl %r: %s" % (k, why),
                             hint="only net.*, IPC (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*) "
                                  "and kernel.hostname/domainname sysctls of private namespaces")
        out[k] = v
    return out


def _flag(b: Any) -> str:
    return "TRUE" if b else "FALSE"


# --------------------------------------------------------------------------- main

def _etc_reader(ctx: SpecContext):
    """None (read the rootfs) unless a RunDir copy is mounted over /etc/passwd or /etc/group."""
    if not ctx.etc_overrides:
        return None
    from .userfiles import reader  # noqa: PLC0415 - only for read-only containers with added entries

    return reader(ctx.rootfs, ctx.etc_overrides)


def generate_spec(ctx: SpecContext) -> Dict[str, Any]:
    """The OCI config.json (as a dict) for one container; raises InvalidArg for bad input.

    Reads the rootfs's /etc/passwd and /etc/group (user resolution), so the rootfs must be
    mounted; writes nothing.
    """
    from .etcfiles import container_hostname, resolve_user  # noqa: PLC0415 - the /etc readers only for a new spec

    cfg = ctx.config
    img = ctx.image_config or {}
    cid = str(cfg.get("id") or "")
    if not cid:
        raise InvalidArg("container config has no id")
    privileged = bool(cfg.get("privileged"))
    read_only = bool(cfg.get("read_only"))
    v2 = ctx.cgroup_v2 if ctx.cgroup_v2 is not None else _cgroup_v2()

    nss, kinds = _namespaces(ctx)
    # hostname: own UTS → the spec sets it; shared → the joined namespace's name
    if kinds["uts"] == "private":
        hostname = container_hostname(cfg)
    elif ctx.shared_hostname:
        hostname = ctx.shared_hostname
    elif kinds["uts"] == "host":
        hostname = ctx.host_hostname or socket.gethostname()
    else:
        hostname = container_hostname(cfg)

    args = command_args(cfg, img)
    if not args:
        raise InvalidArg("container %s has no command: the image defines neither Entrypoint nor Cmd"
                         % (cfg.get("name") or cid), hint="set command (or entrypoint)")
    init_path = ""
    if cfg.get("init"):
        if kinds["pid"] != "private":
            raise InvalidArg("init: true needs the container's own PID namespace",
                             hint="do not share the pid namespace, or drop init")
        init_path = _find_init(ctx.init_path)
        args = [INIT_MOUNT_PATH, "--"] + args

    workdir = cfg.get("workdir") or img.get("WorkingDir") or "/"
    if not workdir.startswith("/"):
        raise InvalidArg("invalid workdir %r: must be an absolute path" % workdir)

    user_spec = cfg.get("user") if cfg.get("user") not in (None, "") else img.get("User")
    try:
        user = resolve_user(ctx.rootfs, user_spec, read_file=_etc_reader(ctx))
    except EngineError as e:
        if isinstance(e, StorageError):
            raise
        raise InvalidArg("container %s: %s" % (cfg.get("name") or cid, e.msg), hint=e.hint)

    # capabilities
    caps = bounding_capabilities(cfg, ctx.default_capabilities, ctx.host_bounding_caps)
    capabilities: Dict[str, List[str]] = {"bounding": caps}
    if user.uid == 0:
        capabilities["effective"] = list(caps)
        capabilities["permitted"] = list(caps)
    else:
        # podman: a non-root user only gets the explicitly added caps (also as ambient)
        added = normalize_capabilities(cfg.get("cap_add") or [], "cap_add")
        ucaps = sorted(caps) if "ALL" in added else sorted(c for c in added if c in caps)
        for k in ("effective", "permitted", "inheritable", "ambient"):
            capabilities[k] = list(ucaps)

    process: Dict[str, Any] = {}
    if cfg.get("tty"):
        process["terminal"] = True
    umask = int(cfg["umask"], 8) if cfg.get("umask") else ctx.umask
    process["user"] = {"uid": user.uid, "gid": user.gid, "umask": umask}
    gids = list(user.additional_gids) + [g for g in _group_add(ctx) if g not in user.additional_gids]
    if gids:
        process["user"]["additionalGids"] = gids
    process["args"] = args
    process["env"] = _env(ctx, hostname, user)
    process["cwd"] = os.path.normpath(workdir)
    process["capabilities"] = capabilities
    process["rlimits"] = _rlimits(ctx)
    sec = cfg.get("security_opt") or {}
    nnp = sec.get("no_new_privileges", cfg.get("no_new_privileges"))
    if nnp if nnp is not None else ctx.no_new_privileges:
        process["noNewPrivileges"] = True
    if cfg.get("oom_score_adj") is not None:
        process["oomScoreAdj"] = cfg["oom_score_adj"]
    if sec.get("apparmor") and sec["apparmor"] != "unconfined":
        process["apparmorProfile"] = sec["apparmor"]

    # resources
    devices, device_rules = linux_devices(cfg)
    resources: Dict[str, Any] = {"devices": [{"allow": privileged, "access": "rwm"}] + device_rules}
    resources.update(linux_resources(
        cfg, default_pids_limit=ctx.default_pids_limit,
        swap_accounting=ctx.swap_accounting if ctx.swap_accounting is not None else _swap_accounting(v2)))

    stop_signal = effective_stop_signal(cfg, img)

    annotations = {
        "io.container.manager": "libpod",
        "io.kubernetes.cri-o.Created": ctx.created or _now_rfc3339(),
        "io.kubernetes.cri-o.TTY": "true" if cfg.get("tty") else "false",
        "io.podman.annotations.autoremove": _flag(cfg.get("auto_remove")),
        "io.podman.annotations.init": _flag(cfg.get("init")),
        "io.podman.annotations.privileged": _flag(privileged),
        "io.podman.annotations.publish-all": _flag(cfg.get("publish_all")),
        "org.opencontainers.image.stopSignal": str(stop_signal),
    }
    if ctx.infra_id:
        annotations["io.kubernetes.cri-o.ContainerType"] = "container"
        annotations["io.kubernetes.cri-o.SandboxID"] = ctx.infra_id
    annotations.update({str(k): str(v) for k, v in (cfg.get("annotations") or {}).items()})

    linux: Dict[str, Any] = {}
    sysctl = _sysctls(ctx, kinds)
    if sysctl:
        linux["sysctl"] = sysctl
    if ctx.cgroups:
        linux["resources"] = resources
        parent = cfg.get("cgroup_parent") or ctx.cgroup_parent
        linux["cgroupsPath"] = ctx.cgroups_path or "%s/libpod-%s" % (parent.rstrip("/"), cid)
    else:
        linux["resources"] = {}
        if device_rules or linux_resources(cfg, default_pids_limit=0, swap_accounting=True):
            ctx.warnings.append(NO_CGROUP_LIMITS % (cfg.get("name") or cid) if cfg.get("cgroups") == "disabled"
                                else ctx.no_cgroup_warning)
    linux["namespaces"] = nss
    linux.update(_id_mappings(cfg))
    if privileged:
        linux["devices"] = _host_devices()
    if devices:  # declared devices win over a privileged container's host device of the same path
        paths = {d["path"] for d in devices}
        linux["devices"] = [d for d in linux.get("devices") or [] if d["path"] not in paths] + devices
    kind, source = seccomp_choice(cfg, cfg.get("seccomp_profile") or ctx.seccomp_profile, img)
    if kind == "file":
        linux["seccomp"] = _load_seccomp(source, caps)
    elif kind == "json":
        linux["seccomp"] = compile_seccomp_profile(load_seccomp_json(source, "of the image label"), caps)
    elif kind == "builtin":
        linux["seccomp"] = default_seccomp(caps)
    if not privileged:
        linux["maskedPaths"], linux["readonlyPaths"] = masked_paths(cfg, DEFAULT_MASKED_PATHS,
                                                                    DEFAULT_READONLY_PATHS)
    if cfg.get("personality"):
        linux["personality"] = {"domain": cfg["personality"]}

    spec: Dict[str, Any] = {
        "ociVersion": OCI_VERSION,
        "process": process,
        "root": {"path": ctx.rootfs, "readonly": read_only} if read_only else {"path": ctx.rootfs},
    }
    if kinds["uts"] == "private":
        spec["hostname"] = hostname
    spec["mounts"] = _mounts(ctx, kinds, privileged=privileged, read_only=read_only, v2=v2,
                             init_path=init_path)
    spec["annotations"] = annotations
    spec["linux"] = linux
    return spec


def write_config_json(bundle: str, spec: Mapping[str, Any]) -> str:
    """Atomically write <bundle>/config.json (0600: it can carry secrets in env)."""
    path = os.path.join(bundle, "config.json")
    try:
        write_atomic(path, json.dumps(spec, indent=1), mode=0o600)
    except OSError as e:
        raise StorageError("cannot write %s: %s" % (path, e.strerror or e))
    return path
