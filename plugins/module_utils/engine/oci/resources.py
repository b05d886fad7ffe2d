# SPDX-License-Identifier: GPL-3.0-or-later
"""The one translation of memory / cpus / pids_limit into OCI ``linux.resources``.

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

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

from ..base.errors import InvalidArg
from ..parse.values import CPU_PERIOD, cpus_to_quota, parse_cpus

#: podman refuses less ("minimum memory limit allowed is 6MB")
MIN_MEMORY = 6 * 1024 * 1024
#: "no limit" in an OCI resources payload for update (the v1 files take -1, v2 "max")
UNLIMITED = -1


def limit_to_swap(memory: int) -> int:
    """podman's LimitToSwap: without an explicit memory_swap, memory+swap is twice the memory."""
    return 2 * memory


def check_memory(memory: Optional[int], param: str = "memory") -> None:
    """Refuse a memory limit below podman's floor (0 / None = no limit)."""
    if memory and memory < MIN_MEMORY:
        raise InvalidArg("invalid %s %d: the minimum is 6m" % (param, memory), hint="give at least 6m")


@dataclass(frozen=True)
class Limits:
    """The resource options of a container config, resolved (None = no limit)."""

    memory: Optional[int]
    swap: Optional[int]
    cpu_quota: Optional[int]
    pids: Optional[int]

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], *, default_pids_limit: int, swap_accounting: bool) -> Limits:
        memory = cfg.get("memory") or None
        check_memory(memory)
        cpus = cfg.get("cpus")
        quota = cpus_to_quota(parse_cpus(cpus))[0] if cpus else None
        pids = cfg.get("pids_limit")
        if pids is None:
            pids = default_pids_limit
        return cls(memory=memory,
                   swap=limit_to_swap(memory) if memory and swap_accounting else None,
                   cpu_quota=quota,
                   pids=int(pids) if pids and int(pids) > 0 else None)


def linux_resources(cfg: Mapping[str, Any], *, default_pids_limit: int,
                    swap_accounting: bool) -> Dict[str, Any]:
    """``linux.resources`` entries (memory, cpu, pids) for a new container: unset limits are left out."""
    lim = Limits.from_config(cfg, default_pids_limit=default_pids_limit, swap_accounting=swap_accounting)
    out: Dict[str, Any] = {}
    if lim.memory:
        out["memory"] = {"limit": lim.memory}
        if lim.swap:
            out["memory"]["swap"] = lim.swap
    if lim.cpu_quota:
        out["cpu"] = {"quota": lim.cpu_quota, "period": CPU_PERIOD}
    if lim.pids:
        out["pids"] = {"limit": lim.pids}
    return out


def _value(v: Optional[int]) -> int:
    return UNLIMITED if v is None else v


def _bigger(a: Optional[int], b: Optional[int]) -> bool:
    """a > b where None is no limit (infinite)."""
    if a is None:
        return b is not None
    return b is not None and a > b


def update_steps(old: Mapping[str, Any], new: Mapping[str, Any], *, default_pids_limit: int,
                 swap_accounting: bool) -> List[Dict[str, Any]]:
    """Ordered ``runtime update --resources`` payloads taking a live container from ``old`` to ``new``.

    ``old`` / ``new`` are container configs; options that did not change are left out. An
    unset limit becomes -1 (lifted), so dropping ``memory`` from a task reaches the cgroup.
    """
    a = Limits.from_config(old, default_pids_limit=default_pids_limit, swap_accounting=swap_accounting)
    b = Limits.from_config(new, default_pids_limit=default_pids_limit, swap_accounting=swap_accounting)
    first: Dict[str, Any] = {}
    if a.cpu_quota != b.cpu_quota:
        first["cpu"] = {"quota": _value(b.cpu_quota), "period": CPU_PERIOD}
    if a.pids != b.pids:
        first["pids"] = {"limit": _value(b.pids)}
    steps = [first]
    if a.memory != b.memory or a.swap != b.swap:
        if not swap_accounting:
            first["memory"] = {"limit": _value(b.memory)}
        elif _bigger(b.memory, a.memory):
            # raising: memory+swap first (memory stays where it is), then memory
            first["memory"] = {"limit": _value(a.memory), "swap": _value(b.swap)}
            steps.append({"memory": {"limit": _value(b.memory), "swap": _value(b.swap)}})
        else:
            # lowering: memory first (memory+swap stays), then memory+swap
            first["memory"] = {"limit": _value(b.memory), "swap": _value(a.swap)}
            steps.append({"memory": {"limit": _value(b.memory), "swap": _value(b.swap)}})
    return [s for s in steps if s]
