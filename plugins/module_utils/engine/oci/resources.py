# SPDX-License-Identifier: GPL-3.0-or-later
"""The one translation of the resource options (memory, cpus, pids_limit, cpu_*, cpuset_*, memory_*,
blkio_*, device_*_bps/iops, oom_kill_disable, cgroup_conf) into OCI ``linux.resources``.

Used by the spec at create (:func:`linux_resources`) and by the in-place update
(:func:`update_steps`), so both put the same values into the cgroup: memory with
podman's 6 MiB floor, memory+swap = twice the memory (podman's ``LimitToSwap``) where
the host accounts swap, the CPU quota over the default period, the pids limit with the
containers.conf default.

On cgroup v1 the kernel refuses ``memory.limit_in_bytes`` above
``memory.memsw.limit_in_bytes`` and the reverse, so an update that raises memory must
write swap first and one that lowers it must write memory first. Runtimes differ in
the order they write the two files, so :func:`update_steps` splits the change into
payloads that each move one of the two values: any write order of a payload is valid.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..base.errors import InvalidArg
from ..parse.values import CPU_PERIOD, cpus_to_quota, parse_cpus

#: podman refuses less ("minimum memory limit allowed is 6MB")
MIN_MEMORY = 6 * 1024 * 1024
#: "no limit" in an OCI resources payload for update (the v1 files take -1, v2 "max")
UNLIMITED = -1


#: podman's warning (pkg/specgen/generate) when a rootless container on cgroup v1 declares limits
ROOTLESS_V1_LIMITS = ("Resource limits are not supported and ignored on cgroups V1 rootless systems: the container "
                      "runs without memory, cpu, pids, blkio and device limits")
#: the warning for a container declared with cgroups: disabled and resource limits (%s: its name)
NO_CGROUP_LIMITS = "container %s has cgroups: disabled: its resource limits are not applied (it has no cgroup)"


def limit_to_swap(memory: int) -> int:
    """podman's LimitToSwap: without an explicit memory_swap, memory+swap is twice the memory."""
    return 2 * memory


def check_memory(memory: Optional[int], param: str = "memory") -> None:
    """Refuse a memory limit below podman's floor (0 / None = no limit)."""
    if memory and memory < MIN_MEMORY:
        raise InvalidArg("invalid %s %d: the minimum is 6m" % (param, memory), hint="give at least 6m")


#: options changed on a live container through ``runtime update`` (what runc/crun update accept)
IN_PLACE_KEYS = ("memory", "cpus", "pids_limit", "cpu_shares", "cpu_period", "cpu_quota", "cpu_rt_period",
                 "cpu_rt_runtime", "cpuset_cpus", "cpuset_mems", "memory_reservation", "memory_swap",
                 "blkio_weight")


@dataclass(frozen=True)
class Limits:
    """The resource options of a container config, resolved (None = no limit / not set)."""

    memory: Optional[int]
    swap: Optional[int]
    cpu_quota: Optional[int]
    pids: Optional[int]
    cpu_period: Optional[int] = None
    cpu: Tuple[Tuple[str, Any], ...] = ()       # shares, realtime, cpuset: OCI cpu keys as given
    memory_extra: Tuple[Tuple[str, Any], ...] = ()  # reservation, kernel, swappiness, disableOOMKiller
    blkio_weight: Optional[int] = None

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], *, default_pids_limit: int, swap_accounting: bool) -> Limits:
        memory = cfg.get("memory") or None
        check_memory(memory)
        check_combinations(cfg)
        cpus = cfg.get("cpus")
        quota = cpus_to_quota(parse_cpus(cpus))[0] if cpus else (cfg.get("cpu_quota") or None)
        period = cfg.get("cpu_period") or (CPU_PERIOD if quota else None)
        pids = cfg.get("pids_limit")
        if pids is None:
            pids = default_pids_limit
        declared_swap = cfg.get("memory_swap")
        if declared_swap is not None and memory:
            swap = None if declared_swap == -1 else declared_swap
        else:
            swap = limit_to_swap(memory) if memory and swap_accounting else None
        cpu = tuple((k, cfg[f]) for f, k in _CPU_KEYS if cfg.get(f) not in (None, "", 0))
        mem = tuple((k, cfg[f]) for f, k in _MEMORY_KEYS if cfg.get(f) is not None)
        if cfg.get("oom_kill_disable"):
            mem += (("disableOOMKiller", True),)
        return cls(memory=memory, swap=swap, cpu_quota=quota, cpu_period=period,
                   pids=int(pids) if pids and int(pids) > 0 else None, cpu=cpu, memory_extra=mem,
                   blkio_weight=cfg.get("blkio_weight") or None)


#: config field -> OCI linux.resources.cpu key
_CPU_KEYS = (("cpu_shares", "shares"), ("cpu_rt_period", "realtimePeriod"), ("cpu_rt_runtime", "realtimeRuntime"),
             ("cpuset_cpus", "cpus"), ("cpuset_mems", "mems"))
#: config field -> OCI linux.resources.memory key
_MEMORY_KEYS = (("memory_reservation", "reservation"), ("kernel_memory", "kernel"),
                ("memory_swappiness", "swappiness"))
#: config field -> OCI linux.resources.blockIO key (per device)
_THROTTLE_KEYS = (("device_read_bps", "throttleReadBpsDevice"), ("device_write_bps", "throttleWriteBpsDevice"),
                  ("device_read_iops", "throttleReadIOPSDevice"), ("device_write_iops", "throttleWriteIOPSDevice"))


def check_combinations(cfg: Mapping[str, Any]) -> None:
    """Refuse what podman refuses: cpus with a CFS quota/period, swap settings without memory."""
    if cfg.get("cpus") and (cfg.get("cpu_quota") or cfg.get("cpu_period")):
        raise InvalidArg("cpus cannot be combined with cpu_quota or cpu_period",
                         hint="give cpus (a number of CPUs), or cpu_period with cpu_quota")
    swap = cfg.get("memory_swap")
    if swap is not None and not cfg.get("memory"):
        raise InvalidArg("memory_swap needs memory: it is the limit of memory plus swap",
                         hint="set memory too, or drop memory_swap")
    if swap not in (None, -1) and swap < (cfg.get("memory") or 0):
        raise InvalidArg("memory_swap %d is below memory %d: it is the limit of memory plus swap"
                         % (swap, cfg["memory"]), hint="give at least memory's value, or -1 for unlimited swap")
    reservation = cfg.get("memory_reservation")
    if reservation and cfg.get("memory") and reservation > cfg["memory"]:
        raise InvalidArg("memory_reservation must be below memory", hint="lower memory_reservation or raise memory")


def device_numbers(path: str, param: str) -> Tuple[int, int]:
    """(major, minor) of a host block or character device."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InvalidArg("%s: %s: %s" % (param, path, exc.strerror), hint="give an existing host device")
    if not (stat.S_ISBLK(st.st_mode) or stat.S_ISCHR(st.st_mode)):
        raise InvalidArg("%s: %s is not a device" % (param, path), hint="give a block or character device")
    return os.major(st.st_rdev), os.minor(st.st_rdev)


def _block_io(cfg: Mapping[str, Any], lim: Limits) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if lim.blkio_weight:
        out["weight"] = lim.blkio_weight
    if cfg.get("blkio_weight_device"):
        out["weightDevice"] = [dict(zip(("major", "minor"), device_numbers(d["path"], "blkio_weight_device")),
                                    weight=d["weight"]) for d in cfg["blkio_weight_device"]]
    for field, key in _THROTTLE_KEYS:
        if cfg.get(field):
            out[key] = [dict(zip(("major", "minor"), device_numbers(d["path"], field)), rate=d["rate"])
                        for d in cfg[field]]
    return out


def linux_resources(cfg: Mapping[str, Any], *, default_pids_limit: int,
                    swap_accounting: bool) -> Dict[str, Any]:
    """``linux.resources`` entries (memory, cpu, pids, blockIO) for a new container: unset limits are left out."""
    lim = Limits.from_config(cfg, default_pids_limit=default_pids_limit, swap_accounting=swap_accounting)
    out: Dict[str, Any] = {}
    memory: Dict[str, Any] = {}
    if lim.memory:
        memory["limit"] = lim.memory
        if lim.swap:
            memory["swap"] = lim.swap
        elif cfg.get("memory_swap") == -1:
            memory["swap"] = UNLIMITED
    memory.update(lim.memory_extra)
    if memory:
        out["memory"] = memory
    cpu: Dict[str, Any] = dict(lim.cpu)
    if lim.cpu_quota:
        cpu["quota"] = lim.cpu_quota
    if lim.cpu_period:
        cpu["period"] = lim.cpu_period
    if cpu:
        out["cpu"] = cpu
    if lim.pids:
        out["pids"] = {"limit": lim.pids}
    block = _block_io(cfg, lim)
    if block:
        out["blockIO"] = block
    if cfg.get("cgroup_conf"):
        out["unified"] = dict(cfg["cgroup_conf"])
    return out


def _value(v: Optional[int]) -> int:
    return UNLIMITED if v is None else v


def _bigger(a: Optional[int], b: Optional[int]) -> bool:
    """a > b where None is no limit (infinite)."""
    if a is None:
        return b is not None
    return b is not None and a > b


#: what an unset cpu key is reset to on update (the kernel's defaults)
_CPU_RESET = {"shares": 1024, "realtimePeriod": 1000000, "realtimeRuntime": 0}


def _cpu_update(a: Limits, b: Limits) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if (a.cpu_quota, a.cpu_period) != (b.cpu_quota, b.cpu_period):
        out["quota"] = _value(b.cpu_quota)
        out["period"] = b.cpu_period or CPU_PERIOD
    old, new = dict(a.cpu), dict(b.cpu)
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            if key in new:
                out[key] = new[key]
            elif key in _CPU_RESET:
                out[key] = _CPU_RESET[key]
            else:  # cpus / mems: back to every CPU / node of the host
                out[key] = _host_cpuset(key)
    return out


def _host_cpuset(key: str) -> str:
    name = "cpuset.effective_cpus" if key == "cpus" else "cpuset.effective_mems"
    for path in ("/sys/fs/cgroup/cpuset/cpuset.%s" % key, "/sys/fs/cgroup/" + name):
        try:
            with open(path, encoding="ascii") as f:
                return f.read().strip()
        except OSError:
            continue
    return "0"


def update_steps(old: Mapping[str, Any], new: Mapping[str, Any], *, default_pids_limit: int,
                 swap_accounting: bool) -> List[Dict[str, Any]]:
    """Ordered ``runtime update --resources`` payloads taking a live container from ``old`` to ``new``.

    ``old`` / ``new`` are container configs; options that did not change are left out. An
    unset limit becomes -1 (lifted), so dropping ``memory`` from a task reaches the cgroup.
    """
    a = Limits.from_config(old, default_pids_limit=default_pids_limit, swap_accounting=swap_accounting)
    b = Limits.from_config(new, default_pids_limit=default_pids_limit, swap_accounting=swap_accounting)
    first: Dict[str, Any] = {}
    cpu = _cpu_update(a, b)
    if cpu:
        first["cpu"] = cpu
    if a.pids != b.pids:
        first["pids"] = {"limit": _value(b.pids)}
    if a.blkio_weight != b.blkio_weight:
        first["blockIO"] = {"weight": b.blkio_weight or 0}
    extra_a, extra_b = dict(a.memory_extra), dict(b.memory_extra)
    steps = [first]
    if extra_a.get("reservation") != extra_b.get("reservation"):
        first["memory"] = {"reservation": _value(extra_b.get("reservation"))}
    if a.memory != b.memory or a.swap != b.swap:
        mem = first.setdefault("memory", {})
        if not swap_accounting:
            mem["limit"] = _value(b.memory)
        elif _bigger(b.memory, a.memory) or (b.memory == a.memory and _bigger(b.swap, a.swap)):
            # raising: memory+swap first (memory stays where it is), then memory
            mem.update(limit=_value(a.memory), swap=_value(b.swap))
            steps.append({"memory": {"limit": _value(b.memory), "swap": _value(b.swap)}})
        else:
            # lowering: memory first (memory+swap stays), then memory+swap
            mem.update(limit=_value(b.memory), swap=_value(a.swap))
            steps.append({"memory": {"limit": _value(b.memory), "swap": _value(b.swap)}})
    return [s for s in steps if s]
