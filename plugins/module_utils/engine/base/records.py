# SPDX-License-Identifier: GPL-3.0-or-later
"""The container config as a typed record: what reconcile builds and the engine reads.

Stored in the state DB as a JSON object (``to_dict()``), so the engine reads it with
``ctr.config.get(...)`` and a record written by an older engine (a missing key) still
reads as the default. Each container option row of ``reconcile/container_options.py``
names the field it fills (``Option.config``); fields made from several options (env,
mounts, network, log) are computed by ``reconcile.container.build_config``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional


def default_network() -> Dict[str, Any]:
    """A network left unset: the default bridge network (a pod member's: the pod's)."""
    return {"mode": "bridge", "networks": []}


@dataclass
class ContainerConfig:
    """A container's immutable configuration (the normalised declared spec, plus what the engine
    derived from it at create time: the image ID, the pod, the mounts in mount order)."""

    image: str = ""                                  # as declared
    image_id: str = ""                               # "" for a rootfs container
    #: rootfs: true: the host directory the container runs from (image_id ""), and whether an
    #: overlay over it takes the writes (podman's PATH:O)
    rootfs: Optional[str] = None
    rootfs_overlay: bool = False
    oci_runtime: Optional[str] = None                # None: the engine's default runtime
    command: Optional[List[str]] = None              # None: the image's
    entrypoint: Optional[List[str]] = None           # None: the image's; [] clears it
    env: Dict[str, str] = field(default_factory=dict)
    labels: Dict[str, str] = field(default_factory=dict)
    annotations: Dict[str, str] = field(default_factory=dict)
    workdir: Optional[str] = None
    user: Optional[str] = None
    hostname: Optional[str] = None
    #: [{type: bind|volume|tmpfs, source, destination, options: [str], ...}] sorted by destination
    mounts: List[Dict[str, Any]] = field(default_factory=list)
    #: [{host_ip, host_port, container_port, protocol}]
    publish: List[Dict[str, Any]] = field(default_factory=list)
    #: {mode: bridge|host|none|container|pod|pasta|slirp4netns, networks: [str], container: str,
    #: options: [str] (pasta / slirp4netns)}
    network: Dict[str, Any] = field(default_factory=default_network)
    dns: List[str] = field(default_factory=list)
    dns_search: List[str] = field(default_factory=list)
    dns_option: List[str] = field(default_factory=list)
    add_host: List[str] = field(default_factory=list)  # "name:ip"
    pod: Optional[str] = None                          # the pod's ID
    is_infra: bool = False
    cap_add: List[str] = field(default_factory=list)
    cap_drop: List[str] = field(default_factory=list)
    privileged: bool = False
    read_only: bool = False
    init: bool = False
    ulimits: List[Dict[str, Any]] = field(default_factory=list)  # [{type: RLIMIT_NOFILE, soft, hard}]
    memory: Optional[int] = None                     # bytes
    cpus: Optional[float] = None
    pids_limit: Optional[int] = None
    restart_policy: Dict[str, Any] = field(default_factory=lambda: {"name": "no", "max_retries": 0})
    stop_signal: Optional[int] = None                # None: the image's STOPSIGNAL, else SIGTERM
    stop_timeout: Optional[int] = None
    tty: bool = False
    sysctl: Dict[str, str] = field(default_factory=dict)
    shm_size: Optional[int] = None                   # bytes
    log: Dict[str, Any] = field(default_factory=lambda: {"driver": "k8s-file", "max_size": None})
    #: [{name, type: mount|env, target, uid, gid, mode}] and each secret's keyed hash at create time
    secrets: List[Dict[str, Any]] = field(default_factory=list)
    secret_digests: Dict[str, str] = field(default_factory=dict)
    #: the effective healthcheck when the task set a healthcheck option (None: disabled with NONE);
    #: without healthcheck_set the image's HEALTHCHECK applies
    healthcheck: Optional[Dict[str, Any]] = None
    healthcheck_set: bool = False
    # resources beyond memory/cpus/pids (reconcile/container_options.py rows, oci/resources.py)
    cpu_shares: Optional[int] = None
    cpu_period: Optional[int] = None
    cpu_quota: Optional[int] = None
    cpu_rt_period: Optional[int] = None
    cpu_rt_runtime: Optional[int] = None
    cpuset_cpus: Optional[str] = None
    cpuset_mems: Optional[str] = None
    memory_reservation: Optional[int] = None         # bytes
    memory_swap: Optional[int] = None                # bytes of memory+swap; -1 unlimited
    memory_swappiness: Optional[int] = None
    kernel_memory: Optional[int] = None
    oom_kill_disable: bool = False
    oom_score_adj: Optional[int] = None
    blkio_weight: Optional[int] = None
    blkio_weight_device: List[Dict[str, Any]] = field(default_factory=list)  # [{path, weight}]
    device_read_bps: List[Dict[str, Any]] = field(default_factory=list)      # [{path, rate}]
    device_read_iops: List[Dict[str, Any]] = field(default_factory=list)
    device_write_bps: List[Dict[str, Any]] = field(default_factory=list)
    device_write_iops: List[Dict[str, Any]] = field(default_factory=list)
    cgroup_parent: Optional[str] = None              # None: the engine's (or the pod's) parent
    cgroupns: Optional[str] = None                   # host / private; None: podman's default
    cgroup_conf: Dict[str, str] = field(default_factory=dict)
    cgroups: str = "enabled"                         # enabled | no-conmon (the same here) | disabled
    #: devices [{host, container, permissions}], device cgroup rules ["c 1:3 mr"], CDI names
    devices: List[Dict[str, str]] = field(default_factory=list)
    device_cgroup_rules: List[str] = field(default_factory=list)
    gpus: Optional[str] = None
    # namespaces and users: host / private / container:NAME; None: the default
    ipc: Optional[str] = None
    pid: Optional[str] = None
    uts: Optional[str] = None
    #: user namespace: None = the host's; "auto[:opts]" or "ns:/path" (parse/userns.py canonical form)
    userns: Optional[str] = None
    #: the effective mappings, "CONTAINER:HOST:SIZE" (uidmap/gidmap, subuidname/subgidname, or the auto
    #: block allocated at create); empty = no user namespace of its own
    uidmap: List[str] = field(default_factory=list)
    gidmap: List[str] = field(default_factory=list)
    group_add: List[str] = field(default_factory=list)
    umask: Optional[str] = None                      # "0022"; None: containers.conf umask
    personality: Optional[str] = None                # LINUX / LINUX32
    #: /etc/passwd and /etc/group entries added at start (oci/userfiles.py): passwd false adds none
    passwd: bool = True
    passwd_entry: Optional[str] = None               # podman's template ($USERNAME $UID $GID $NAME $HOME)
    group_entry: Optional[str] = None                # ($GROUPNAME $GID $USERLIST)
    hostuser: Optional[str] = None                   # a host user copied into /etc/passwd
    chrootdirs: List[str] = field(default_factory=list)  # where the run files are mounted again
    #: security_opt as a record (seccomp, apparmor, label, no_new_privileges, mask, unmask, proc_opts)
    security_opt: Dict[str, Any] = field(default_factory=dict)
    seccomp_policy: str = "default"
    read_only_tmpfs: bool = True
    # process and init (issue 23)
    env_host: bool = False                           # host_env was captured at create
    http_proxy: bool = True
    #: the creating process's environment (env_host: all of it; http_proxy: the proxy variables),
    #: below the image's Env, as podman
    host_env: Dict[str, str] = field(default_factory=dict)
    unsetenv: List[str] = field(default_factory=list)
    unsetenv_all: bool = False
    init_path: Optional[str] = None                  # None: containers.conf init_path / catatonit
    systemd: str = "true"                            # true (when the command is init) | false | always
    sdnotify: Optional[str] = None
    timezone: Optional[str] = None                   # bind-mounted at /etc/localtime (in mounts)
    interactive: bool = False
    auto_remove: bool = False
    requires: List[str] = field(default_factory=list)  # containers started before this one
    volumes_from: List[str] = field(default_factory=list)
    image_volume: str = "bind"
    # networking syntax
    expose: List[str] = field(default_factory=list)  # "port/proto"
    publish_all: bool = False
    no_hosts: bool = False
    hosts_file: Optional[str] = None                 # path | image | none
    no_hostname: bool = False
    # files written for the caller
    cidfile: Optional[str] = None
    conmon_pidfile: Optional[str] = None
    pid_file: Optional[str] = None
    #: the declared spec it was built from (what a re-run compares with)
    declared: Dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


CONTAINER_FIELDS = frozenset(ContainerConfig.__dataclass_fields__)


@dataclass
class PodConfig:
    """A pod's configuration: the declared pod options (``reconcile/pod_options.py`` rows name
    their field), plus what the engine sets at create time (ID, name, cgroup, infra IDs)."""

    infra: bool = True
    infra_image: Optional[str] = None                # None: the engine's catatonit image
    infra_command: Optional[List[str]] = None
    infra_name: Optional[str] = None
    infra_conmon_pidfile: Optional[str] = None       # the infra's conmon PID is written there at each start
    pod_id_file: Optional[str] = None                # the pod's ID is written there at create (podman --pod-id-file)
    share: List[str] = field(default_factory=lambda: ["ipc", "net", "uts"])
    publish: List[Dict[str, Any]] = field(default_factory=list)
    network: Dict[str, Any] = field(default_factory=default_network)
    hostname: Optional[str] = None
    add_host: List[str] = field(default_factory=list)
    dns: List[str] = field(default_factory=list)
    dns_search: List[str] = field(default_factory=list)
    dns_option: List[str] = field(default_factory=list)
    no_hosts: bool = False                           # the infra's (and members') /etc/hosts is the image's
    hosts_file: Optional[str] = None                 # base of the infra's and members' /etc/hosts
    labels: Dict[str, str] = field(default_factory=dict)
    #: the pod cgroup is its containers' cgroup parent (podman --share-parent); else the engine's base
    share_parent: bool = True
    pid: Optional[str] = None                        # the infra's PID namespace: host | ns:PATH | None (private)
    uts: Optional[str] = None                        # the infra's UTS namespace: host | ns:PATH | None (private)
    gpus: Optional[str] = None                       # CDI devices of every container of the pod (as devices)
    cpus: Optional[float] = None
    memory: Optional[int] = None
    # the pod cgroup's other limits (objects/podjoin.POD_RESOURCE_KEYS)
    cpu_shares: Optional[int] = None
    cpuset_cpus: Optional[str] = None
    cpuset_mems: Optional[str] = None
    memory_swap: Optional[int] = None
    device_read_bps: List[Dict[str, Any]] = field(default_factory=list)
    device_write_bps: List[Dict[str, Any]] = field(default_factory=list)
    # given to every container of the pod (infra included): devices, mounts (volume + volumes_from)
    devices: List[Dict[str, str]] = field(default_factory=list)
    mounts: List[Dict[str, Any]] = field(default_factory=list)
    volumes_from: List[str] = field(default_factory=list)
    # the infra's: sysctls of the shared namespaces, the shared IPC's /dev/shm size, security options
    sysctl: Dict[str, str] = field(default_factory=dict)
    shm_size: Optional[int] = None
    security_opt: Dict[str, Any] = field(default_factory=dict)
    #: the default of the pod's containers (a container's own policy other than "no" wins)
    restart_policy: Dict[str, Any] = field(default_factory=lambda: {"name": "no", "max_retries": 0})
    exit_policy: str = "continue"
    # a pod-wide user namespace: the infra's, joined by every member (container records' userns/uidmap/gidmap)
    userns: Optional[str] = None
    uidmap: List[str] = field(default_factory=list)
    gidmap: List[str] = field(default_factory=list)
    declared: Dict[str, Any] = field(default_factory=dict)
    # set by objects.pod.create_pod
    id: str = ""
    name: str = ""
    created_at: str = ""
    cgroup_parent: str = ""
    infra_image_id: Optional[str] = None
    infra_id: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)
