# SPDX-License-Identifier: GPL-3.0-or-later
"""Inspect-like views (podman inspect's shape, the keys users know) of engine objects."""
from __future__ import annotations

import os
from typing import Any, Dict, List

from ..base.errors import EngineError
from ..base.status import RUNNING, display_status
from ..oci.specvalues import bounding_capabilities, effective_env, effective_stop_signal, systemd_mode
from ..parse.values import format_size, parse_size
from .restart import pod_restart_policy

_PROPAGATIONS = ("rprivate", "private", "rshared", "shared", "rslave", "slave")


def _env_list(env: Dict[str, str]) -> List[str]:
    return ["%s=%s" % kv for kv in env.items()]


def _image_name(ctr, img) -> str:
    """The image's name as podman shows it (``docker.io/library/alpine:latest`` for ``alpine``),
    not a transport reference (``oci-archive:/path``); the reference when nothing better is known."""
    ref = ctr.config.get("image", "")
    if ctr.config.get("rootfs"):
        return ""  # run from a directory: no image (podman's RootfsImageName is empty)
    if img is None:
        return ref
    name = ctr.rt.images.matched_name(ref) if ref else None
    if name and name in img.names:
        return name
    return img.names[0] if img.names else ref


def _mount(ctr, m: Dict[str, Any]) -> Dict[str, Any]:
    """One Mounts[] entry as podman: a named volume's Source is its host path, its name in Name."""
    opts = list(m.get("options", []))
    source, name, driver = m["source"], "", ""
    if m["type"] == "volume":
        name, driver = m["source"], "local"
        try:
            vol = ctr.rt.volumes.inspect(m["source"])
            source, driver = vol.get("Mountpoint") or source, vol.get("Driver") or driver
        except EngineError:
            pass  # removed behind our back: keep the name
    propagation = next((o for o in opts if o in _PROPAGATIONS), "" if m["type"] in ("tmpfs", "devpts") else "rprivate")
    mode = ",".join(o for o in opts if o in ("z", "Z", "U"))
    return {"Type": m["type"], "Name": name, "Source": source, "Destination": m["destination"],
            "Driver": driver, "Mode": mode, "Options": opts, "RW": "ro" not in opts, "Propagation": propagation}


def inspect_container(ctr) -> Dict[str, Any]:
    cfg, st = ctr.config, ctr.state
    img = ctr.image()
    img_cfg = ctr.rt.images.image_config(img) if img is not None else {}
    hostname = cfg.get("hostname") or ctr.id[:12]
    env = effective_env(dict(ctr.default_env(), **(cfg.get("host_env") or {})), img_cfg, {})
    env.setdefault("HOSTNAME", hostname)
    unset = set(env) if cfg.get("unsetenv_all") else set(cfg.get("unsetenv") or [])
    env = dict({k: v for k, v in env.items() if k not in unset}, **(cfg.get("env") or {}))
    labels = dict(img_cfg.get("Labels") or {}, **(cfg.get("labels") or {}))
    entrypoint = cfg.get("entrypoint")
    command = cfg.get("command")
    if command is None and entrypoint is None:
        command = img_cfg.get("Cmd")
    if entrypoint is None:
        entrypoint = img_cfg.get("Entrypoint")
    log = cfg.get("log") or {}
    image_name = _image_name(ctr, img)
    net = cfg.get("network") or {}
    ns = st.get("network_status") or {}
    networks = ns.get("networks") or {}
    first = next(iter(networks.values()), {}) if networks else {}
    ports: Dict[str, List[Dict[str, str]]] = {}
    for p in cfg.get("publish", []):
        key = "%s/%s" % (p["container_port"], p["protocol"])
        ports.setdefault(key, []).append({"HostIp": p.get("host_ip", ""), "HostPort": str(p.get("host_port", ""))})
    cpus = cfg.get("cpus")
    policy = dict({"name": "no", "max_retries": 0}, **pod_restart_policy(ctr))  # its own, else its pod's
    return {
        "Id": ctr.id,
        "Name": ctr.name,
        "Created": cfg.get("created_at", ""),
        "Image": cfg.get("image_id", ""),
        "ImageName": image_name,
        "ImageDigest": img.digest if img is not None else "",
        "Rootfs": cfg.get("rootfs") or "",
        "Pod": cfg.get("pod") or "",
        "OCIRuntime": cfg.get("oci_runtime", ""),
        "LogPath": ctr.log_path,
        "ResolvConfPath": os.path.join(ctr.run_dir, "resolv.conf"),
        "HostsPath": os.path.join(ctr.run_dir, "hosts"),
        "HostnamePath": os.path.join(ctr.run_dir, "hostname"),
        "RestartCount": st.get("restart_count", 0),
        "BoundingCaps": bounding_capabilities(cfg, ctr.rt.cfg.get("containers", "default_capabilities")),
        "State": {
            "Status": display_status(st.get("status", "")),
            "Running": st.get("status") == RUNNING,
            "Paused": st.get("status") == "paused",
            "Restarting": bool(st.get("restarting")),
            "Pid": st.get("pid", 0),
            "ConmonPid": st.get("conmon_pid", 0),
            "ExitCode": st.get("exit_code", 0),
            "OOMKilled": bool(st.get("oom_killed")),
            "Error": st.get("error") or "",
            "StartedAt": st.get("started_at", ""),
            "FinishedAt": st.get("finished_at", ""),
            "RestartCount": st.get("restart_count", 0),
            **({"Health": st["health"]} if st.get("health") else {}),
        },
        "Config": {
            "Image": image_name,
            "Cmd": command,
            "Entrypoint": entrypoint,
            "Env": _env_list(env),
            "Labels": labels,
            "Annotations": cfg.get("annotations") or {},
            "WorkingDir": cfg.get("workdir") or img_cfg.get("WorkingDir") or "/",
            "User": cfg.get("user") or img_cfg.get("User") or "",
            "Hostname": hostname,
            "StopSignal": effective_stop_signal(cfg, img_cfg),
            "StopTimeout": cfg.get("stop_timeout"),
            "Tty": bool(cfg.get("tty")),
            "OpenStdin": bool(cfg.get("interactive")),
            "ExposedPorts": {p: {} for p in sorted(set(cfg.get("expose") or [])
                                                   | set(img_cfg.get("ExposedPorts") or {}))},
            "Timezone": cfg.get("timezone") or "",
            "SystemdMode": systemd_mode(cfg, img_cfg),
        },
        "ConmonPidFile": cfg.get("conmon_pidfile") or "",
        "PidFile": cfg.get("pid_file") or "",
        "HostConfig": {
            "Binds": ["%s:%s%s" % (m["source"], m["destination"], (":" + ",".join(m["options"])) if m.get("options")
                                   else "") for m in cfg.get("mounts", []) if m["type"] in ("bind", "volume")],
            "Tmpfs": {m["destination"]: ",".join(m.get("options", [])) for m in cfg.get("mounts", [])
                      if m["type"] == "tmpfs"},
            "PortBindings": ports,
            "NetworkMode": net.get("mode", "bridge") if net.get("mode") != "container"
            else "container:%s" % net.get("container"),
            "Privileged": bool(cfg.get("privileged")),
            "ReadonlyRootfs": bool(cfg.get("read_only")),
            "CapAdd": cfg.get("cap_add") or [],
            "CapDrop": cfg.get("cap_drop") or [],
            "Memory": cfg.get("memory") or 0,
            "NanoCpus": int(round(cpus * 1e9)) if cpus else 0,
            "PidsLimit": cfg.get("pids_limit") or 0,
            "RestartPolicy": {"Name": policy.get("name", "no"), "MaximumRetryCount": policy.get("max_retries", 0)},
            "Ulimits": [{"Name": u["type"], "Soft": u["soft"], "Hard": u["hard"]} for u in cfg.get("ulimits", [])],
            "Init": bool(cfg.get("init")),
            "AutoRemove": bool(cfg.get("auto_remove")),
            "PublishAllPorts": bool(cfg.get("publish_all")),
            "ContainerIDFile": cfg.get("cidfile") or "",
            "VolumesFrom": list(cfg.get("volumes_from") or []),
            "Sysctls": cfg.get("sysctl") or {},
            "Dns": cfg.get("dns") or [],
            "DnsSearch": cfg.get("dns_search") or [],
            "ExtraHosts": cfg.get("add_host") or [],
            "LogConfig": {"Type": log.get("driver", "k8s-file"), "Config": None, "Path": ctr.log_path,
                          "Tag": log.get("tag") or "",
                          "Size": format_size(log["max_size"]).upper() + "B" if log.get("max_size") else "0B"},
            "ShmSize": cfg.get("shm_size") or parse_size(ctr.rt.cfg.get("containers", "shm_size"), "shm_size"),
            **_host_options(cfg),
        },
        "Mounts": [_mount(ctr, m) for m in cfg.get("mounts", [])],
        "NetworkSettings": {
            "SandboxKey": st.get("netns", ""),
            "IPAddress": first.get("ip", ""),
            "Gateway": first.get("gateway", ""),
            "IPPrefixLen": first.get("prefix_len", 0),
            "Bridge": "",
            "MacAddress": first.get("mac", ""),
            "Ports": ports,
            "Networks": {name: _network_entry(ctr, name, n, (net.get("attach") or {}).get(name) or {})
                         for name, n in networks.items()},
        },
        "Declared": cfg.get("declared") or {},
    }


def _security_opt(sec: Any) -> List[str]:
    """security_opt as podman inspect lists it (``key=value`` strings)."""
    if isinstance(sec, list):
        return list(sec)
    out = []
    for key in ("seccomp", "apparmor"):
        if sec.get(key):
            out.append("%s=%s" % (key, sec[key]))
    out += ["label=%s" % v for v in sec.get("label") or []]
    if sec.get("no_new_privileges"):
        out.append("no-new-privileges")
    for key in ("mask", "unmask"):
        if sec.get(key):
            out.append("%s=%s" % (key, ":".join(sec[key])))
    if sec.get("proc_opts"):
        out.append("proc-opts=%s" % ",".join(sec["proc_opts"]))
    return out


def _host_options(cfg: Dict[str, Any]) -> Dict[str, Any]:
    """The HostConfig keys of the resource, device, namespace and security options (podman's names)."""
    def rates(field: str) -> List[Dict[str, Any]]:
        return [{"Path": d["path"], "Rate": d["rate"]} for d in cfg.get(field) or []]

    return {
        "CpuShares": cfg.get("cpu_shares") or 0,
        "CpuPeriod": cfg.get("cpu_period") or 0,
        "CpuQuota": cfg.get("cpu_quota") or 0,
        "CpuRealtimePeriod": cfg.get("cpu_rt_period") or 0,
        "CpuRealtimeRuntime": cfg.get("cpu_rt_runtime") or 0,
        "CpusetCpus": cfg.get("cpuset_cpus") or "",
        "CpusetMems": cfg.get("cpuset_mems") or "",
        "MemoryReservation": cfg.get("memory_reservation") or 0,
        "MemorySwap": cfg.get("memory_swap") or 0,
        "MemorySwappiness": -1 if cfg.get("memory_swappiness") is None else cfg["memory_swappiness"],
        "KernelMemory": cfg.get("kernel_memory") or 0,
        "OomKillDisable": bool(cfg.get("oom_kill_disable")),
        "OomScoreAdj": cfg.get("oom_score_adj") or 0,
        "BlkioWeight": cfg.get("blkio_weight") or 0,
        "BlkioWeightDevice": [{"Path": d["path"], "Weight": d["weight"]} for d in cfg.get("blkio_weight_device") or []],
        "BlkioDeviceReadBps": rates("device_read_bps"),
        "BlkioDeviceWriteBps": rates("device_write_bps"),
        "BlkioDeviceReadIOps": rates("device_read_iops"),
        "BlkioDeviceWriteIOps": rates("device_write_iops"),
        "CgroupParent": cfg.get("cgroup_parent") or "",
        "Cgroups": "disabled" if cfg.get("cgroups") == "disabled" else "default",
        "CgroupMode": cfg.get("cgroupns") or "",
        "Devices": [{"PathOnHost": d["host"], "PathInContainer": d["container"], "CgroupPermissions": d["permissions"]}
                    for d in cfg.get("devices") or []],
        "DeviceCgroupRules": list(cfg.get("device_cgroup_rules") or []),
        "IpcMode": cfg.get("ipc") or "",
        "PidMode": cfg.get("pid") or "",
        "UTSMode": cfg.get("uts") or "",
        **_userns(cfg),
        "GroupAdd": list(cfg.get("group_add") or []),
        "SecurityOpt": _security_opt(cfg.get("security_opt") or {}),
    }


def _userns(cfg: Dict[str, Any]) -> Dict[str, Any]:
    """podman's UsernsMode ("" host, "private" own mappings, "ns:PATH") and IDMappings (only with mappings)."""
    mode = cfg.get("userns") or ""
    out: Dict[str, Any] = {"UsernsMode": mode if mode.startswith("ns:") else ("private" if cfg.get("uidmap") else "")}
    if cfg.get("uidmap"):
        out["IDMappings"] = {"UidMap": list(cfg["uidmap"]), "GidMap": list(cfg.get("gidmap") or cfg["uidmap"])}
    return out


def _network_entry(ctr, name: str, n: Dict[str, Any], settings: Dict[str, Any]) -> Dict[str, Any]:
    """One ``NetworkSettings.Networks.<name>`` block, with the keys podman 4 shows."""
    return {"EndpointID": "", "Gateway": n.get("gateway", ""), "IPAddress": n.get("ip", ""),
            "IPPrefixLen": n.get("prefix_len", 0), "IPv6Gateway": n.get("gateway6", ""),
            "GlobalIPv6Address": n.get("ip6", ""), "GlobalIPv6PrefixLen": n.get("prefix_len6", 0),
            "MacAddress": n.get("mac", ""), "NetworkID": name, "DriverOpts": None,
            "IPAMConfig": None, "Links": None, "InterfaceName": n.get("interface", ""),
            "Aliases": list(settings.get("aliases") or []) + [ctr.id[:12]]}
