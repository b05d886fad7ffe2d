# SPDX-License-Identifier: GPL-3.0-or-later
"""Inspect-like views (podman inspect's shape, the keys users know) of engine objects."""
from __future__ import annotations

from typing import Any, Dict, List

from ..base.status import RUNNING, display_status


def _env_list(env: Dict[str, str]) -> List[str]:
    return ["%s=%s" % kv for kv in env.items()]


def inspect_container(ctr) -> Dict[str, Any]:
    cfg, st = ctr.config, ctr.state
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
        "ImageName": cfg.get("image", ""),
        "Pod": cfg.get("pod") or "",
        "OCIRuntime": cfg.get("oci_runtime", ""),
        "LogPath": ctr.log_path,
        "RestartCount": st.get("restart_count", 0),
        "State": {
            "Status": display_status(st.get("status", "")),
            "Running": st.get("status") == RUNNING,
            "Paused": st.get("status") == "paused",
            "Pid": st.get("pid", 0),
            "ConmonPid": st.get("conmon_pid", 0),
            "ExitCode": st.get("exit_code", 0),
            "OOMKilled": bool(st.get("oom_killed")),
            "StartedAt": st.get("started_at", ""),
            "FinishedAt": st.get("finished_at", ""),
            "RestartCount": st.get("restart_count", 0),
            **({"Health": st["health"]} if st.get("health") else {}),
        },
        "Config": {
            "Image": cfg.get("image", ""),
            "Cmd": cfg.get("command"),
            "Entrypoint": cfg.get("entrypoint"),
            "Env": _env_list(cfg.get("env") or {}),
            "Labels": cfg.get("labels") or {},
            "Annotations": cfg.get("annotations") or {},
            "WorkingDir": cfg.get("workdir") or "",
            "User": cfg.get("user") or "",
            "Hostname": cfg.get("hostname") or ctr.id[:12],
            "StopSignal": cfg.get("stop_signal"),
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
        },
        "Mounts": [{"Type": m["type"], "Source": m["source"], "Destination": m["destination"],
                    "Options": m.get("options", []), "RW": "ro" not in m.get("options", [])}
                   for m in cfg.get("mounts", [])],
        "NetworkSettings": {
            "SandboxKey": st.get("netns", ""),
            "IPAddress": first.get("ip", ""),
            "Gateway": first.get("gateway", ""),
            "MacAddress": first.get("mac", ""),
            "Ports": ports,
            "Networks": {name: {"IPAddress": n.get("ip", ""), "Gateway": n.get("gateway", ""),
                                "IPPrefixLen": n.get("prefix_len", 0), "MacAddress": n.get("mac", "")}
                         for name, n in networks.items()},
        },
        "Declared": cfg.get("declared") or {},
    }
