# SPDX-License-Identifier: GPL-3.0-or-later
"""The OCI spec pieces of the host-facing container options: devices and device cgroup rules,
CDI devices (``gpus``), namespace modes, ``security_opt`` (seccomp, apparmor, masks, proc
options), the default seccomp profile, and the host checks that refuse what this host cannot do
before anything is created (reconcile/preflight calls :func:`check_host_options`).
"""
from __future__ import annotations

import json
import os
import stat
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..base.errors import InvalidArg
from ..host.cgroups import cgroup_mode
from ..parse.hostopts import device_cgroup_rule

#: podman's lookup of the default profile (containers-common): the admin's override, then the packaged one
DEFAULT_SECCOMP_PATHS = ("/etc/containers/seccomp.json", "/usr/share/containers/seccomp.json")
#: the image label podman reads with seccomp_policy: image
SECCOMP_IMAGE_LABEL = "io.containers.seccomp.profile"
#: where CDI specs are looked for (the CDI default spec dirs)
CDI_DIRS = ("/etc/cdi", "/var/run/cdi")


def default_seccomp_path() -> Optional[str]:
    """The host's containers-common profile when installed (what podman uses), else None (built-in)."""
    for path in DEFAULT_SECCOMP_PATHS:
        if os.path.isfile(path):
            return path
    return None


def seccomp_choice(cfg: Mapping[str, Any], configured: Optional[str],
                   image_config: Mapping[str, Any]) -> Tuple[str, Any]:
    """("none", None), ("file", PATH), ("json", TEXT) or ("builtin", None): which profile applies."""
    sec = cfg.get("security_opt") or {}
    if sec.get("seccomp") == "unconfined":
        return "none", None
    if sec.get("seccomp"):
        return "file", sec["seccomp"]
    if cfg.get("seccomp_policy") == "image":
        label = (image_config.get("Labels") or {}).get(SECCOMP_IMAGE_LABEL)
        if label:
            return "json", label
    if cfg.get("privileged"):
        return "none", None
    if configured == "unconfined":
        return "none", None
    if configured:
        return "file", configured
    return "builtin", None


def load_seccomp_json(text: str, origin: str) -> Dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidArg("seccomp profile %s is not JSON: %s" % (origin, exc),
                         hint="give a JSON seccomp profile, or security_opt: [seccomp=unconfined]")
    if not isinstance(data, dict):
        raise InvalidArg("seccomp profile %s is not a JSON object" % origin)
    return data


# --------------------------------------------------------------------------- devices

def _device_entry(host: str, container: str, param: str) -> Tuple[Dict[str, Any], str]:
    try:
        st = os.stat(host)
    except OSError as exc:
        raise InvalidArg("%s: host device %s: %s" % (param, host, exc.strerror),
                         hint="give an existing device of this host, for example /dev/fuse")
    if stat.S_ISCHR(st.st_mode):
        kind = "c"
    elif stat.S_ISBLK(st.st_mode):
        kind = "b"
    else:
        raise InvalidArg("%s: %s is not a device" % (param, host), hint="give a character or block device")
    return ({"path": container, "type": kind, "major": os.major(st.st_rdev), "minor": os.minor(st.st_rdev),
             "fileMode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid}, kind)


def linux_devices(cfg: Mapping[str, Any]) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """(linux.devices, linux.resources.devices allow rules) for device, device_cgroup_rule and gpus."""
    devices: List[Dict[str, Any]] = []
    rules: List[Dict[str, Any]] = []
    wanted = list(cfg.get("devices") or [])
    for dev in cdi_devices(cfg.get("gpus")):
        wanted.append(dev)
    for dev in wanted:
        entry, kind = _device_entry(dev["host"], dev["container"], "device")
        devices.append(entry)
        rules.append({"allow": True, "type": kind, "major": entry["major"], "minor": entry["minor"],
                      "access": dev.get("permissions") or "rwm"})
    for rule in cfg.get("device_cgroup_rules") or []:
        rules.append(device_cgroup_rule(rule))
    return devices, rules


def _cdi_specs() -> List[Dict[str, Any]]:
    specs = []
    for d in CDI_DIRS:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for name in names:
            if not name.endswith(".json"):
                continue  # YAML specs need a YAML parser the engine does not ship
            try:
                with open(os.path.join(d, name), encoding="utf-8") as f:
                    specs.append(json.load(f))
            except (OSError, ValueError) as exc:
                raise InvalidArg("gpus: CDI spec %s/%s is unreadable: %s" % (d, name, exc))
    return specs


def cdi_devices(gpus: Optional[str]) -> List[Dict[str, str]]:
    """The device nodes of the CDI devices ``gpus`` names (``all``, ``0,1``, ``device=0``, or
    ``vendor.com/class=NAME``); a clear error when this host has no CDI spec for them."""
    if not gpus:
        return []
    specs = _cdi_specs()
    if not specs:
        raise InvalidArg("gpus: no CDI specs (JSON) in %s on this host" % " or ".join(CDI_DIRS),
                         hint="generate one (for NVIDIA: nvidia-ctk cdi generate --format=json "
                              "--output=/etc/cdi/nvidia.json), or drop gpus")
    text = gpus[len("device="):] if gpus.startswith("device=") else gpus
    names = [n.strip() for n in text.split(",") if n.strip()]
    out: List[Dict[str, str]] = []
    found = set()
    for spec in specs:
        kind = spec.get("kind", "")
        for dev in spec.get("devices") or []:
            full = "%s=%s" % (kind, dev.get("name"))
            if "all" in names or dev.get("name") in names or full in names:
                found.add(dev.get("name"))
                found.add(full)
                for node in (dev.get("containerEdits") or {}).get("deviceNodes") or []:
                    host = node.get("hostPath") or node["path"]
                    out.append({"host": host, "container": node["path"],
                                "permissions": node.get("permissions") or "rwm"})
    missing = [n for n in names if n != "all" and n not in found]
    if missing or not out:
        wanted = ", ".join(missing or names)
        raise InvalidArg("gpus: no CDI device %s in the specs of %s" % (wanted, " or ".join(CDI_DIRS)),
                         hint="name a device the CDI specs define, or all")
    return out


# --------------------------------------------------------------------------- security_opt

def masked_paths(cfg: Mapping[str, Any], masked: Sequence[str], readonly: Sequence[str]
                 ) -> Tuple[List[str], List[str]]:
    """maskedPaths / readonlyPaths after security_opt mask= and unmask= (ALL lifts every default)."""
    sec = cfg.get("security_opt") or {}
    unmask = sec.get("unmask") or []
    if "ALL" in unmask:
        masked, readonly = [], []
    else:
        masked = [p for p in masked if p not in unmask]
        readonly = [p for p in readonly if p not in unmask]
    return list(masked) + [p for p in sec.get("mask") or [] if p not in masked], list(readonly)


def apparmor_enabled() -> bool:
    try:
        with open("/sys/module/apparmor/parameters/enabled", encoding="ascii") as f:
            return f.read().strip() == "Y"
    except OSError:
        return False


# --------------------------------------------------------------------------- host checks

def _blkio_file(name: str) -> bool:
    return os.path.exists("/sys/fs/cgroup/blkio/blkio.%s" % name) or os.path.exists("/sys/fs/cgroup/io.%s" % name)


def check_host_options(cfg: Mapping[str, Any], runtime_name: str = "") -> None:
    """Refuse, before anything is created, what this host cannot apply (each naming the parameter)."""
    mode = cgroup_mode()
    v2 = mode == "v2"
    if cfg.get("kernel_memory") and v2:
        raise InvalidArg("kernel_memory is not supported on cgroup v2 (the kernel accounts it with memory)",
                         hint="drop kernel_memory; memory limits kernel memory too on cgroup v2")
    if cfg.get("cgroup_conf") and not v2:
        raise InvalidArg("cgroup_conf needs cgroup v2 (unified): this host's cgroups are %s" % mode,
                         hint="drop cgroup_conf, or use the dedicated options (memory, cpu_shares, ...)")
    weights = _blkio_file("weight") or _blkio_file("bfq.weight")
    if (cfg.get("blkio_weight") or cfg.get("blkio_weight_device")) and not weights:
        param = "blkio_weight" if cfg.get("blkio_weight") else "blkio_weight_device"
        raise InvalidArg("%s: this host's block I/O controller has no weight file (blkio.weight): its "
                         "I/O schedulers do not support weights" % param,
                         hint="use a BFQ I/O scheduler on the host, or device_read_bps/device_write_bps limits")
    if cfg.get("oom_score_adj") is not None:
        _check_oom_score_adj(cfg["oom_score_adj"])
    sec = cfg.get("security_opt") or {}
    if sec.get("apparmor") not in (None, "unconfined") and not apparmor_enabled():
        raise InvalidArg("security_opt: apparmor=%s but AppArmor is not enabled on this host" % sec["apparmor"],
                         hint="drop the apparmor option (or use apparmor=unconfined)")
    if sec.get("seccomp") not in (None, "unconfined"):
        try:
            with open(sec["seccomp"], encoding="utf-8") as f:
                load_seccomp_json(f.read(), sec["seccomp"])
        except OSError as exc:
            raise InvalidArg("security_opt: seccomp profile %s: %s" % (sec["seccomp"], exc.strerror),
                             hint="give the path of a readable JSON profile on this host, or seccomp=unconfined")
    for dev in cfg.get("devices") or []:
        _device_entry(dev["host"], dev["container"], "device")
    cdi_devices(cfg.get("gpus"))
    if cfg.get("personality") and os.path.basename(runtime_name or "") == "runc" and not _runc_has_personality():
        raise InvalidArg("personality needs an OCI runtime that applies linux.personality (runc 1.1 ignores it)",
                         hint="set oci_runtime: crun, or drop personality")


def check_no_cgroups(cfg: Mapping[str, Any], runtime: str, runtime_path: str, supporting: Sequence[str]) -> None:
    """cgroups: disabled, as libpod's container validation: only with a runtime listed in
    [engine] runtime_supports_nocgroups (crun: --cgroup-manager=disabled; runc always makes a
    cgroup), with the container's own PID namespace and without a cgroup parent."""
    if cfg.get("cgroups") != "disabled":
        return
    names = {os.path.basename(runtime or ""), os.path.basename(runtime_path or "")} - {""}
    if not names & set(supporting):
        raise InvalidArg("cgroups: disabled needs an OCI runtime that can run a container without a cgroup; "
                         "%s cannot (it always creates one)" % (runtime or runtime_path),
                         hint="set oci_runtime: crun (or another runtime listed in [engine] "
                              "runtime_supports_nocgroups), or drop cgroups")
    if cfg.get("cgroup_parent"):
        raise InvalidArg("cgroups: disabled conflicts with cgroup_parent", hint="drop one of them")
    if cfg.get("pod"):
        raise InvalidArg("cgroups: disabled cannot be used for a pod member (the pod's cgroup is its parent)",
                         hint="drop pod, or use cgroups: enabled")
    pid = str(cfg.get("pid") or "")
    if pid == "host" or pid.startswith("container:"):
        raise InvalidArg("cgroups: disabled needs the container's own PID namespace (pid is %s)" % pid,
                         hint="drop pid, or use cgroups: enabled")


def _runc_has_personality() -> bool:
    return False  # runc learnt linux.personality in 1.2; this engine supports runc 1.1 (see substrate.md)


def _check_oom_score_adj(value: int) -> None:
    try:
        with open("/proc/self/oom_score_adj", encoding="ascii") as f:
            own = int(f.read().strip())
    except (OSError, ValueError):
        return
    if value >= own:
        return
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            eff = next((int(ln.split()[1], 16) for ln in f if ln.startswith("CapEff:")), 0)
    except OSError:
        eff = 0
    if not eff >> 24 & 1:  # CAP_SYS_RESOURCE
        raise InvalidArg("oom_score_adj %d is below the engine's own (%d) and this host denies "
                         "CAP_SYS_RESOURCE, so the kernel would refuse it" % (value, own),
                         hint="give a value from %d to 1000" % own)
