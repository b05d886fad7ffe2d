# SPDX-License-Identifier: GPL-3.0-or-later
"""Inspect-like views (podman inspect's shape, the keys users know) of engine objects."""
from __future__ import annotations

import os
from typing import Any, Dict, List

from ..base.errors import EngineError
from ..base.status import RUNNING, display_status
from ..oci.spec import effective_env, effective_stop_signal
from ..parse.values import format_size, parse_size

_PROPAGATIONS = ("rprivate", "private", "rshared", "shared", "rslave", "slave")


def _env_list(env: Dict[str, str]) -> List[str]:
    return ["%s=%s" % kv for kv in env.items()]


def _image_name(ctr, img) -> str:
    """The image's name as podman shows it (``docker.io/library/alpine:latest`` for ``alpine``),
    not a transport reference (``oci-archive:/path``); the reference when nothing better is known."""
    ref = ctr.config.get("image", "")
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
    propagation = next((o for o in opts if o in _PROPAGATIONS), "" if m["type"] == "tmpfs" else "rprivate")
    mode = ",".join(o for o in opts if o in ("z", "Z", "U"))
    return {"Type": m["type"], "Name": name, "Source": source, "Destination": m["destination"],
            "Driver": driver, "Mode": mode, "Options": opts, "RW": "ro" not in opts, "Propagation": propagation}


def inspect_container(ctr) -> Dict[str, Any]:
    cfg, st = ctr.config, ctr.state
    img = ctr.image()
    img_cfg = ctr.rt.images.image_config(img) if img is not None else {}
    hostname = cfg.get("hostname") or ctr.id[:12]
    env = effective_env(ctr.default_env(), img_cfg, cfg.get("env") or {})
    env.setdefault("HOSTNAME", hostname)
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
    policy = cfg.get("restart_policy") or {"name": "no", "max_retries": 0}
    return {
        "Id": ctr.id,
        "Name": ctr.name,
        "Created": cfg.get("created_at", ""),
        "Image": cfg.get("image_id", ""),
        "ImageName": image_name,
        "ImageDigest": img.digest if img is not None else "",
        "Pod": cfg.get("pod") or "",
        "OCIRuntime": cfg.get("oci_runtime", ""),
        "LogPath": ctr.log_path,
        "ResolvConfPath": os.path.join(ctr.run_dir, "resolv.conf"),
        "HostsPath": os.path.join(ctr.run_dir, "hosts"),
        "HostnamePath": os.path.join(ctr.run_dir, "hostname"),
        "RestartCount": st.get("restart_count", 0),
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
        },
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
            "Sysctls": cfg.get("sysctl") or {},
            "Dns": cfg.get("dns") or [],
            "DnsSearch": cfg.get("dns_search") or [],
            "ExtraHosts": cfg.get("add_host") or [],
            "LogConfig": {"Type": log.get("driver", "k8s-file"), "Config": None, "Path": ctr.log_path, "Tag": "",
                          "Size": format_size(log["max_size"]).upper() + "B" if log.get("max_size") else "0B"},
            "ShmSize": cfg.get("shm_size") or parse_size(ctr.rt.cfg.get("containers", "shm_size"), "shm_size"),
            "SecurityOpt": list(cfg.get("security_opt") or []),
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


def _network_entry(ctr, name: str, n: Dict[str, Any], settings: Dict[str, Any]) -> Dict[str, Any]:
    """One ``NetworkSettings.Networks.<name>`` block, with the keys podman 4 shows."""
    return {"EndpointID": "", "Gateway": n.get("gateway", ""), "IPAddress": n.get("ip", ""),
            "IPPrefixLen": n.get("prefix_len", 0), "IPv6Gateway": "", "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0, "MacAddress": n.get("mac", ""), "NetworkID": name, "DriverOpts": None,
            "IPAMConfig": None, "Links": None, "InterfaceName": n.get("interface", ""),
            "Aliases": list(settings.get("aliases") or []) + [ctr.id[:12]]}
