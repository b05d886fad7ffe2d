# SPDX-License-Identifier: GPL-3.0-or-later
"""A container's user namespace: its ``auto`` block, its ID-shifted root filesystem, their release.

The ``auto`` block is chosen inside the transaction that stores the container (create_container),
from the blocks the other containers' records hold, so the record is the allocation and removing
the container frees it. A container with a mapping mounts the (image, mapping) copy of
storage/idmapped.py as its only overlay lower; the copy goes with the last container using it.
"""
from __future__ import annotations

import os
import stat
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from ..base.errors import InvalidArg, StorageError
from ..host.autons import AUTO_USER, auto_maps, free_block, name_ranges
from ..parse.idmap import IDMap, format_idmaps, host_id, parse_idmaps
from ..parse.userns import AUTO_MIN_SIZE, parse_userns

__all__ = ["maps_of", "allocate_auto", "pod_member_maps", "POD_USERNS", "check_runtime", "joined_maps",
           "rootfs_layers", "own_upper", "release_mapped_root", "mapped_root_owner", "to_host"]

#: names whose IDs do not size an auto namespace (containers/storage skips them too)
_OVERFLOW_NAMES = ("nobody", "nogroup", "nfsnobody")


def maps_of(cfg: Mapping[str, Any]) -> Tuple[List[IDMap], List[IDMap]]:
    """(uid maps, gid maps) of a container record; ([], []) without a user namespace of its own."""
    uids = parse_idmaps(cfg.get("uidmap") or [], "uidmap")
    gids = parse_idmaps(cfg.get("gidmap") or cfg.get("uidmap") or [], "gidmap")
    return uids, gids


def _image_size(rt, image) -> int:
    """podman's heuristic: the highest ID the image's /etc/passwd and /etc/group name, plus one."""
    top = 0
    view = rt.images.view(image)
    for path in ("/etc/passwd", "/etc/group"):
        for line in (view.read_text(path) or "").splitlines():
            parts = line.split(":")
            if len(parts) < 4 or parts[0] in _OVERFLOW_NAMES:
                continue
            ids = [parts[2]] + ([parts[3]] if path == "/etc/passwd" else [])
            for text in ids:
                if text.isdigit() and int(text) < 65534:
                    top = max(top, int(text) + 1)
    return max(AUTO_MIN_SIZE, top)


def _used(rt, kind: str) -> List[Tuple[int, int]]:
    out: List[Tuple[int, int]] = []
    for rec in rt.state.list("container", all_namespaces=True):  # the ID ranges are the host's
        if str(rec.config.get("userns") or "").startswith("auto"):
            out += [(m.host_id, m.size) for m in parse_idmaps(rec.config.get(kind) or [], kind)]
    return out


def allocate_auto(rt, cfg: Dict[str, Any], image) -> Dict[str, Any]:
    """``cfg`` with uidmap/gidmap of a free block when its userns is auto (call inside the create transaction)."""
    if not str(cfg.get("userns") or "").startswith("auto") or cfg.get("uidmap"):
        return cfg
    mode = parse_userns(cfg["userns"])
    size = mode.size or _image_size(rt, image)
    out = dict(cfg)
    for kind, extra in (("uid", mode.uidmapping), ("gid", mode.gidmapping)):
        granted = name_ranges(AUTO_USER, kind, "userns: auto")
        start = free_block(granted, _used(rt, kind + "map"), size)
        if start is None:
            raise InvalidArg("userns: auto: no free block of %d %sIDs left in the ranges of user %s"
                             % (size, kind.upper()[0], AUTO_USER),
                             hint="remove containers, give a smaller auto:size=N, or grant user %s more IDs"
                                  % AUTO_USER)
        out[kind + "map"] = format_idmaps(auto_maps(start, size, extra))
    return out


#: a pod member's record userns: the pod's mapping in a user namespace of its own
POD_USERNS = "pod"


def pod_member_maps(rt, cfg: Dict[str, Any]) -> Dict[str, Any]:
    """``cfg`` of a container joining a pod with a user namespace: the infra's mappings (its root
    filesystem is shifted through them) and the ``pod`` mode; unchanged for any other container.

    The member gets a user namespace of its own with the infra's mapping rather than joining the
    infra's: runc 1.1 joins a user namespace before the other namespaces, and once inside it cannot
    join the pod's network namespace, which the host's user namespace owns (EPERM). A new user
    namespace is made after the joins, so the member shares the pod's network, IPC, UTS and PID
    namespaces and its files have the same host IDs as the infra's."""
    pod_id = cfg.get("pod")
    if not pod_id or cfg.get("is_infra"):
        return cfg
    pod = rt.state.find("pod", pod_id)
    infra_id = (pod.config or {}).get("infra_id") if pod is not None and pod.id == pod_id else None
    infra = rt.state.find("container", infra_id) if infra_id else None
    if infra is None or infra.id != infra_id or not infra.config.get("uidmap"):
        return cfg
    return dict(cfg, userns=POD_USERNS, uidmap=list(infra.config["uidmap"]),
                gidmap=list(infra.config.get("gidmap") or infra.config["uidmap"]))


def joined_maps(path: str) -> Tuple[List[str], List[str]]:
    """The uidmap/gidmap strings of the namespace ``userns: ns:PATH`` joins (its rootfs is shifted through them)."""
    from ..host.nsmaps import namespace_maps  # noqa: PLC0415 - nsenter only for userns: ns:PATH

    uids, gids = namespace_maps(path)
    return format_idmaps(uids), format_idmaps(gids)


#: crun before this version chowns its standard streams, the host's /dev/null included, to the container's
#: root (crun issue 1845, "linux: never chown devices"): with a user namespace that gives /dev/null away
CRUN_CHOWNS_DEV_NULL_BEFORE = (1, 24, 0)


def check_runtime(oci, cfg: Mapping[str, Any]) -> None:
    """Refuse an OCI runtime that would hand host files to the container's mapped root."""
    if not (cfg.get("uidmap") or str(cfg.get("userns") or "").startswith(("auto", "ns:"))) or oci.name != "crun":
        return
    from ..oci.driver import _parse_version, runtime_version  # noqa: PLC0415 - only for crun with a userns

    try:
        version = _parse_version(runtime_version(oci.path))
    except Exception:  # noqa: BLE001 - an unreadable version is treated as an old one
        version = None
    if version is None or version < CRUN_CHOWNS_DEV_NULL_BEFORE:
        raise InvalidArg("oci_runtime: crun %s cannot run a container with a user namespace safely: it would chown "
                         "the host's /dev/null to the container's root (crun issue 1845, fixed in crun 1.24)"
                         % (".".join(map(str, version)) if version else "(unknown version)"),
                         hint="use oci_runtime: runc for containers with uidmap, subuidname or userns")


def rootfs_layers(rt, cfg: Mapping[str, Any], image) -> List[str]:
    """The overlay lowers of a container: the image's layers, or its ID-shifted copy; for
    ``rootfs`` the host directory (``:O``: an overlay over it), else none (it is used as it is)."""
    if cfg.get("rootfs"):
        from .rootfsdir import rootfs_dir  # noqa: PLC0415 - only containers run from a directory

        return [rootfs_dir(cfg)] if cfg.get("rootfs_overlay") else []
    layers = rt.images.layer_dirs(image)
    uids, gids = maps_of(cfg)
    if not uids:
        return layers
    return [rt.mapped_roots.ensure(image.id, layers, uids, gids)]


def to_host(cfg: Mapping[str, Any], uid: int, gid: int) -> Tuple[int, int]:
    """Container IDs as the host's (files written for the container: podman cp); unmapped: the overflow ID."""
    uids, gids = maps_of(cfg)
    if not uids:
        return uid, gid
    hu, hg = host_id(uids, uid), host_id(gids, gid)
    return (65534 if hu is None else hu), (65534 if hg is None else hg)


def mapped_root_owner(cfg: Mapping[str, Any]) -> Tuple[int, int]:
    """The host (uid, gid) of the container's root; (0, 0) without a mapping."""
    return to_host(cfg, 0, 0)


def _searchable_above(path: str) -> None:
    """Every directory above the graph root must let the container's root (an "other" user) pass."""
    d = os.path.dirname(os.path.abspath(path))
    while True:
        if not os.stat(d).st_mode & stat.S_IXOTH:
            raise StorageError("a container with a user namespace cannot reach its root filesystem: %s is not "
                               "searchable by other users (the container's root is one)" % d,
                               hint="chmod o+x %s, or move the graph root below searchable directories" % d)
        if d == "/":
            return
        d = os.path.dirname(d)


def own_upper(rt, ctr_id: str, cfg: Mapping[str, Any]) -> None:
    """As containers/storage with mappings: the storage dirs 0711 (the mapped root passes through them)
    and the writable layer's root owned by the mapped root (overlay shows the upper dir's owner at /)."""
    if not cfg.get("uidmap"):
        return
    uid, gid = mapped_root_owner(cfg)
    cdir = rt.storage.container_dir(ctr_id)
    _searchable_above(rt.graph_root)
    for d in (rt.graph_root, os.path.dirname(cdir), cdir):
        os.chmod(d, 0o711)
    upper = os.path.join(cdir, "upper")
    if os.path.isdir(upper):
        os.chown(upper, uid, gid)


def release_mapped_root(rt, cfg: Mapping[str, Any], others: Sequence[Mapping[str, Any]]) -> bool:
    """Remove the container's shifted copy when none of ``others`` (the remaining containers) uses it."""
    uids, gids = maps_of(cfg)
    if not uids:
        return False
    from ..storage.idmapped import mapping_key  # noqa: PLC0415 - storage code only for mapped containers

    key = mapping_key(uids, gids)
    for o in others:
        if o.get("image_id") == cfg.get("image_id") and o.get("uidmap") and mapping_key(*maps_of(o)) == key:
            return False
    return rt.mapped_roots.remove(cfg["image_id"], key)
