# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether a rootless engine may make cgroups, and where: cgroup v2 delegation (issue 19).

An unprivileged user can create cgroups only below a cgroup delegated to it (systemd's
``user@UID.service`` with ``Delegate=yes``: the directory and its ``cgroup.procs`` and
``cgroup.subtree_control`` belong to the user, and controllers are enabled in its
``cgroup.subtree_control``). Moving a process between cgroups also needs write access to
``cgroup.procs`` of their common ancestor, so the candidate is searched from the process's own
cgroup (``0::/PATH`` of /proc/self/cgroup) upwards: a delegated ancestor of the process is a
common ancestor of it and the containers' cgroups made below it.

Delegated: containers get cgroups below ``<delegated>/libpod-engine`` and limits work. Not
delegated (or cgroup v1/hybrid, where rootless has no cgroups at all): no cgroupsPath, no limits,
and a warning when limits are declared, as podman. ``delegation`` is pure but for the files it
reads below the given root, so it is unit-tested on a fake cgroupfs tree.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

#: controllers the limits of a container need at the least (systemd delegates these two by default)
REQUIRED = ("memory", "pids")
ENGINE_CGROUP = "libpod-engine"


@dataclass(frozen=True)
class Delegation:
    """``parent``: the cgroup (path in the unified hierarchy) containers' cgroups go below, "" for none;
    ``reason``: why there is none (the warning given when limits are declared)."""

    parent: str
    controllers: List[str] = field(default_factory=list)
    reason: str = ""


def unified_path(proc_cgroup_text: str) -> Optional[str]:
    """The ``0::/PATH`` entry of /proc/PID/cgroup (the cgroup v2 hierarchy), or None."""
    for line in proc_cgroup_text.splitlines():
        hier, _sep, rest = line.partition(":")
        ctrls, sep, path = rest.partition(":")
        if hier == "0" and sep and not ctrls and path.startswith("/"):
            return path
    return None


def _owned_writable(path: str, uid: int) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return st.st_uid == uid and bool(st.st_mode & stat.S_IWUSR)


def _enabled(cgdir: str) -> List[str]:
    try:
        with open(os.path.join(cgdir, "cgroup.subtree_control"), encoding="ascii") as f:
            return f.read().split()
    except (OSError, UnicodeDecodeError):
        return []


def delegation(proc_cgroup_text: str, uid: int, root: str = "/sys/fs/cgroup",
               required: Sequence[str] = REQUIRED) -> Delegation:
    """Where a rootless engine may make containers' cgroups on a cgroup v2 host (see module doc).

    ``uid``: how the user's files appear to this process (0 inside the engine's user namespace)."""
    own = unified_path(proc_cgroup_text)
    fix = ("delegate a cgroup to the user with the controllers %s enabled in its cgroup.subtree_control "
           "(systemd: the user's user@UID.service, Delegate=yes, with a login session or lingering)"
           % ", ".join(required))
    if own is None:
        return Delegation("", reason="Resource limits are ignored: this process has no cgroup v2 entry in "
                                     "/proc/self/cgroup, so the rootless container runs without a cgroup; " + fix)
    cur = own.rstrip("/")
    while cur:
        cgdir = root.rstrip("/") + cur
        if all(_owned_writable(os.path.join(cgdir, f), uid) for f in ("", "cgroup.procs", "cgroup.subtree_control")):
            enabled = _enabled(cgdir)
            if set(required) <= set(enabled):
                return Delegation("%s/%s" % (cur, ENGINE_CGROUP), enabled)
        cur = os.path.dirname(cur).rstrip("/")
    return Delegation("", reason="Resource limits are ignored on this cgroup v2 rootless host: the user's cgroup %s "
                                 "is not delegated (not writable by the user, or no delegated ancestor with %s "
                                 "enabled), so the container runs without a cgroup; %s"
                      % (own, " and ".join(required), fix))


def rootless_delegation(mode: str, uid: int, v1_reason: str, proc_cgroup: str = "/proc/self/cgroup",
                        root: str = "/sys/fs/cgroup") -> Delegation:
    """The decision for this process: cgroup v1/hybrid rootless has no cgroups (``v1_reason``: podman's
    warning, oci/resources.ROOTLESS_V1_LIMITS)."""
    if mode != "v2":
        return Delegation("", reason=v1_reason)
    try:
        with open(proc_cgroup, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        text = ""
    return delegation(text, uid, root)
