# SPDX-License-Identifier: GPL-3.0-or-later
"""The containers.conf keys the engine understands, as one JSON schema.

A Python module (not a .json file) because AnsiballZ ships only .py files of
module_utils to the managed node. ``DEFAULTS`` are podman's built-in defaults,
with our own paths so the engine can live beside a podman install.
"""
from __future__ import annotations

from typing import Any, Dict

STR = {"type": "string"}
INT = {"type": "integer"}
NONNEG_INT = {"type": "integer", "minimum": 0}
BOOL = {"type": "boolean"}
STR_LIST = {"type": "array", "items": {"type": "string"}}
STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}

#: A bridge is named <prefix><N> and a veth <prefix>v<8+ hex digits of a hash>, in at most 15
#: characters (IFNAMSIZ - 1): 6 characters leave 8 hex digits. The network manager applies the same rule.
BRIDGE_PREFIX_PATTERN = "^[a-z][a-z0-9]{0,5}$"
BRIDGE_PREFIX_RULE = "1 to 6 lowercase letters or digits, starting with a letter"


def bridge_prefix_error(prefix: str) -> str:
    """The message for a bridge_prefix that breaks BRIDGE_PREFIX_PATTERN."""
    return "[network] bridge_prefix %r: use %s (e.g. lpe)" % (prefix, BRIDGE_PREFIX_RULE)


SCHEMA: Dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "libpod.engine containers.conf",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "engine": {
            "type": "object",
            "properties": {
                "runtime": STR,
                "runtimes": {"type": "object", "additionalProperties": STR_LIST},
                "conmon_path": STR_LIST,
                "conmon_env_vars": STR_LIST,
                "static_dir": STR,
                "tmp_dir": STR,
                "volume_path": STR,
                "lock_type": {"type": "string", "enum": ["", "file", "shm"]},
                "num_locks": {"type": "integer", "minimum": 1, "maximum": 1048576},
                "events_logger": {"type": "string", "enum": ["file", "none", "journald"]},
                "events_logfile_path": STR,
                "events_logfile_max_size": {"type": ["string", "integer"]},
                "namespace": STR,
                "infra_image": STR,
                "infra_command": STR,
                "init_path": STR,
                "stop_timeout": NONNEG_INT,
                "cgroup_manager": {"type": "string", "enum": ["cgroupfs", "systemd"]},
                "no_pivot_root": BOOL,
                "hooks_dir": STR_LIST,
                "volume_plugins": STR_MAP,
                "volume_plugin_timeout": {"type": "number", "exclusiveMinimum": 0},
                "image_pull_timeout": {"type": "number", "exclusiveMinimum": 0},
                "runtime_supports_json": STR_LIST,
                "runtime_supports_nocgroups": STR_LIST,
                "conmon_log_level": {"type": "string", "enum": ["debug", "info", "warning", "error"]},
            },
        },
        "containers": {
            "type": "object",
            "properties": {
                "default_ulimits": STR_LIST,
                "default_capabilities": STR_LIST,
                "default_sysctls": STR_LIST,
                "env": STR_LIST,
                "init_path": STR,
                "pids_limit": INT,
                "log_size_max": INT,
                "shm_size": STR,
                "dns_servers": STR_LIST,
                "dns_searches": STR_LIST,
                "dns_options": STR_LIST,
                "log_driver": {"type": "string", "enum": ["k8s-file"]},
                "no_new_privileges": BOOL,
                "seccomp_profile": STR,
            },
        },
        "network": {
            "type": "object",
            "properties": {
                "default_network": {"type": "string", "pattern": "^[a-zA-Z0-9][a-zA-Z0-9_.-]*$"},
                "default_subnet": STR,
                "bridge_prefix": {"type": "string", "pattern": BRIDGE_PREFIX_PATTERN},
                "default_rootless_network_cmd": {"type": "string", "enum": ["pasta", "slirp4netns"]},
            },
        },
        # Our own section: podman keeps these in storage.conf.
        "storage": {
            "type": "object",
            "properties": {
                "graph_root": STR,
                "run_root": STR,
                "graph_driver": {"type": "string", "enum": ["", "overlay", "vfs"]},
                # containers/storage's [storage.options.overlay] mount_program: a FUSE overlay program
                "mount_program": {"type": "string", "pattern": "^(/.*)?$"},
            },
        },
    },
}

# podman's 11 default capabilities (containers.conf default_capabilities).
DEFAULT_CAPABILITIES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
    "CAP_SYS_CHROOT",
]

DEFAULT_STATIC_DIR = "/var/lib/libpod-engine"
DEFAULT_TMP_DIR = "/run/libpod-engine"

DEFAULTS: Dict[str, Dict[str, Any]] = {
    "engine": {
        "runtime": "",
        "runtimes": {
            "crun": ["/usr/bin/crun", "/usr/sbin/crun", "/usr/local/bin/crun", "/usr/local/sbin/crun",
                     "/sbin/crun", "/bin/crun"],
            "runc": ["/usr/bin/runc", "/usr/sbin/runc", "/usr/local/bin/runc", "/usr/local/sbin/runc",
                     "/sbin/runc", "/bin/runc", "/usr/lib/cri-o-runc/sbin/runc"],
            "runsc": ["/usr/bin/runsc", "/usr/sbin/runsc", "/usr/local/bin/runsc", "/usr/local/sbin/runsc"],
            "kata": ["/usr/bin/kata-runtime", "/usr/sbin/kata-runtime", "/usr/local/bin/kata-runtime"],
        },
        "conmon_path": ["/usr/libexec/podman/conmon", "/usr/local/libexec/podman/conmon",
                        "/usr/local/lib/podman/conmon", "/usr/bin/conmon", "/usr/sbin/conmon",
                        "/usr/local/bin/conmon", "/usr/local/sbin/conmon"],
        "conmon_env_vars": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "static_dir": DEFAULT_STATIC_DIR,
        "tmp_dir": DEFAULT_TMP_DIR,
        "volume_path": DEFAULT_STATIC_DIR + "/volumes",
        "lock_type": "file",
        "num_locks": 2048,
        "events_logger": "file",
        "events_logfile_path": "",
        "events_logfile_max_size": "1m",  # podman's default; 0 = no limit
        "namespace": "",
        "infra_image": "",
        "infra_command": "",
        "init_path": "",
        "stop_timeout": 10,
        "cgroup_manager": "cgroupfs",
        "no_pivot_root": False,
        "hooks_dir": [],
        "volume_plugins": {},
        "volume_plugin_timeout": 5,
        "image_pull_timeout": 1200,  # seconds for a whole pull from a registry (a trickling one holds locks)
        "runtime_supports_json": ["crun", "runc", "kata", "runsc", "krun"],
        "runtime_supports_nocgroups": ["crun", "krun"],
        "conmon_log_level": "warning",
    },
    "containers": {
        "default_ulimits": [],
        "default_capabilities": list(DEFAULT_CAPABILITIES),
        "default_sysctls": ["net.ipv4.ping_group_range=0 0"],
        "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
        "init_path": "",
        "pids_limit": 2048,
        "log_size_max": -1,
        "shm_size": "65536k",
        "dns_servers": [],
        "dns_searches": [],
        "dns_options": [],
        "log_driver": "k8s-file",
        "no_new_privileges": False,
        "seccomp_profile": "",
    },
    "network": {
        "default_network": "engine",
        "default_subnet": "10.90.0.0/24",
        "bridge_prefix": "lpe",
        # the network mode of rootless containers (network/usermode.py): podman 4.x (our seeds'
        # vintage, containers/common 0.5x) defaults to slirp4netns; podman 5 changed it to pasta
        "default_rootless_network_cmd": "slirp4netns",
    },
    "storage": {
        "graph_root": "",   # "" = <static_dir>/storage
        "run_root": "",     # "" = <tmp_dir>/storage
        "graph_driver": "",  # "" = overlay when the kernel has it (native, else fuse-overlayfs), else vfs
        "mount_program": "",  # e.g. /usr/bin/fuse-overlayfs: used instead of native overlay
    },
}

# Keys whose value is a path stored in the DB config record (mergeDBConfig / ValidateDBConfig).
DB_CONFIG_KEYS = {
    "static_dir": ("engine", "static_dir"),
    "tmp_dir": ("engine", "tmp_dir"),
    "volume_path": ("engine", "volume_path"),
    "graph_root": ("storage", "graph_root"),
    "run_root": ("storage", "run_root"),
    "graph_driver": ("storage", "graph_driver"),
}
