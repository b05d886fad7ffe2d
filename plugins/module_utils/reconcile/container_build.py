# SPDX-License-Identifier: GPL-3.0-or-later
"""What the parity options (issue 23) add to a container's config when it is built: the host's
environment, env_merge, label_file, timezone, volumes_from, the image's VOLUMEs, publish_all
ports and the log settings. Called by container.build_config, which owns the record.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Optional

from ..engine.base.errors import InvalidArg, NoSuchContainer
from ..engine.oci.specvalues import effective_env
from .container_params import merged_env, timezone_file

#: the variables http_proxy passes on (podman's config.ProxyEnv)
PROXY_ENV = ("http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY",
             "NO_PROXY")


def host_env(declared: Mapping[str, Any], environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The module process's environment as podman passes the CLI's: all of it (env_host) or the
    proxy variables (http_proxy, on by default)."""
    environ = os.environ if environ is None else environ
    if declared.get("env_host"):
        return dict(environ)
    if declared.get("http_proxy", True):
        return {k: environ[k] for k in PROXY_ENV if k in environ}
    return {}


def env_merge_values(declared: Mapping[str, Any], image_config: Mapping[str, Any], default_env: Any,
                     captured: Mapping[str, str]) -> Dict[str, str]:
    """env_merge with ${VAR} taken from the environment the container would have without it."""
    merge = declared.get("env_merge") or {}
    if not merge:
        return {}
    base = effective_env(dict(default_env, **captured) if isinstance(default_env, dict) else default_env,
                         image_config, {})
    return merged_env(merge, base)


def extra_mounts(rt, declared: Mapping[str, Any], image_config: Mapping[str, Any],
                 taken: List[str]) -> List[Dict[str, Any]]:
    """Mounts from timezone, volumes_from and the image's VOLUMEs, where the task mounts nothing."""
    out: List[Dict[str, Any]] = []
    seen = set(taken)

    def add(m: Dict[str, Any]) -> None:
        if m["destination"] not in seen:
            seen.add(m["destination"])
            out.append(m)

    tz = timezone_file(declared.get("timezone"))
    if tz:
        add({"type": "bind", "source": tz, "destination": "/etc/localtime", "options": ["ro"]})
    for item in declared.get("volumes_from") or []:
        name, _sep, mode = item.partition(":")
        rec = rt.state.find("container", name)
        if rec is None:
            raise NoSuchContainer("volumes_from: no container %s" % name,
                                  hint="create %s first (volumes_from copies its volumes and binds)" % name)
        for m in rec.config.get("mounts") or []:
            if m["type"] in ("tmpfs", "devpts"):
                continue
            opts = [o for o in m.get("options") or [] if o not in ("ro", "rw")]
            if "ro" in mode.split(",") or ("rw" not in mode.split(",") and "ro" in (m.get("options") or [])):
                opts.append("ro")
            add({k: v for k, v in dict(m, options=opts).items() if k != "anonymous"})
    mode = declared.get("image_volume") or "bind"
    for dest in sorted(image_config.get("Volumes") or {}):
        if mode == "ignore":
            break
        dest = os.path.normpath(dest)
        if not dest.startswith("/"):
            raise InvalidArg("the image declares VOLUME %r, not an absolute path" % dest,
                             hint="image_volume: ignore to run it without its volumes")
        if mode == "tmpfs":
            add({"type": "tmpfs", "source": "tmpfs", "destination": dest, "options": []})
        else:
            add({"type": "volume", "source": "", "destination": dest, "options": []})
    return out


def exposed_ports(declared: Mapping[str, Any], image_config: Mapping[str, Any]) -> List[str]:
    """expose ∪ the image's ExposedPorts, as "port/proto"."""
    ports = set(declared.get("expose") or [])
    for key in image_config.get("ExposedPorts") or {}:
        port, _sep, proto = str(key).partition("/")
        if port.isdigit():
            ports.add("%s/%s" % (port, proto or "tcp"))
    return sorted(ports, key=lambda e: (e.split("/")[1], int(e.split("/")[0])))


def publish_all_ports(declared: Mapping[str, Any], image_config: Mapping[str, Any],
                      previous: Optional[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """publish_all: a host port for every exposed port that is not published, chosen now and kept
    by a recreate (the previous container's port for the same container port when it had one)."""
    if not declared.get("publish_all"):
        return []
    from ..engine.network.portmap import free_host_port  # noqa: PLC0415 - networking only when asked

    published = {(p["container_port"], p["protocol"]) for p in declared.get("publish") or []}
    before = {(p["container_port"], p["protocol"]): p for p in (previous or {}).get("publish") or []
              if p.get("host_ip", "") == ""}
    out = []
    for entry in exposed_ports(declared, image_config):
        port, proto = entry.split("/")
        key = (int(port), proto)
        if key in published:
            continue
        if key in before:
            out.append(dict(before[key]))
            continue
        out.append({"host_ip": "", "host_port": free_host_port("", proto), "container_port": key[0],
                    "protocol": proto})
    return out


def log_config(declared: Mapping[str, Any]) -> Dict[str, Any]:
    opt = declared.get("log_opt") or {}
    return {"driver": declared.get("log_driver") or "k8s-file", "max_size": opt.get("max_size"),
            "path": opt.get("path"), "tag": opt.get("tag"), "max_files": opt.get("max_files")}
