# SPDX-License-Identifier: GPL-3.0-or-later
"""A pod's declared spec, its config record and its infra image: what creating a pod needs.

Below reconcile/pod.py (which also reconciles a manifest's containers) so that the container
reconcile can create a pod for ``pod: new:NAME`` without importing it.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping

from ..engine.base.records import PodConfig
from ..engine.image.infra import ensure_infra_image, infra_image_name, trusted_infra_image
from ..engine.objects.imagepull import pull as pull_image
from ..engine.objects.pod import create_pod, validate_pod_config
from .container_options import fold_attach
from .container_userns import userns_values
from .pod_options import OPTIONS
from .result import Result, short


def pod_config(declared: Mapping[str, Any], rt=None) -> Dict[str, Any]:
    """The pod config record (base/records.PodConfig) from a declared spec: labels are label_file's
    and label's; the mounts every container of the pod gets are volume's and volumes_from's (``rt``
    resolves the latter, through the container module's volumes_from)."""
    cfg = PodConfig(**OPTIONS.config_values(declared), declared=dict(declared))
    # ip / ip6 / mac_address / network_alias: the infra's on its first bridge network, folded in as the
    # container module folds its own (one translation for both modules)
    default_net = rt.cfg.get("network", "default_network") if rt is not None else "podman"
    cfg.network = fold_attach(dict(declared["network"]), default_net, aliases=declared.get("network_alias"),
                              ip=declared.get("ip"), ip6=declared.get("ip6"), mac_address=declared.get("mac_address"))
    cfg.labels = dict(declared.get("label_file") or {}, **cfg.labels)
    ns = userns_values(declared)  # the container module's translation (auto is allocated with the infra)
    cfg.userns, cfg.uidmap, cfg.gidmap = ns["userns"], ns["uidmap"], ns["gidmap"]
    cfg.mounts = [dict(m) for m in declared.get("volume") or []]
    if declared.get("volumes_from"):
        from .container_build import extra_mounts  # noqa: PLC0415 - only for pods that copy mounts

        cfg.mounts += extra_mounts(rt, {"volumes_from": declared["volumes_from"], "image_volume": "ignore"}, {},
                                   [m["destination"] for m in cfg.mounts])
    return cfg.to_dict()


def declared_spec(params: Mapping[str, Any]) -> Dict[str, Any]:
    declared = OPTIONS.declared(params)
    if not declared["infra"] and params.get("share") is None:
        declared["share"] = []  # no infra: nothing can be shared (podman's --infra=false)
    return declared


def conf_infra_defaults(rt, declared: Dict[str, Any]) -> Dict[str, Any]:
    """[engine] infra_image / infra_command of containers.conf for pods that set none (as podman)."""
    if not declared["infra"]:
        return declared
    out = dict(declared)
    if out.get("infra_image") is None and rt.cfg.get("engine", "infra_image"):
        out["infra_image"] = rt.cfg.get("engine", "infra_image")
    if out.get("infra_command") is None and rt.cfg.get("engine", "infra_command"):
        out["infra_command"] = OPTIONS.by_name["infra_command"].normalise(rt.cfg.get("engine", "infra_command"), None)
    return out


def infra_image_for(rt, declared: Mapping[str, Any], check_mode: bool, res: Result):
    """The infra container's image: built from catatonit once, or the declared one (pulled if missing)."""
    if not declared["infra"]:
        return None
    ref = declared.get("infra_image")
    if ref is None:
        name = infra_image_name()
        had = trusted_infra_image(rt)  # the name alone is not enough: the image the engine built
        if had is not None:
            return had
        if check_mode:
            res.act("build infra image %s from catatonit" % name)
            return None
        img = ensure_infra_image(rt)
        res.act("built infra image %s (%s) from catatonit" % (name, short(img.id)))
        return img
    img = rt.images.resolve(ref)
    if img is not None:
        return img
    if check_mode:
        res.act("pull image %s" % ref)
        return None
    img = pull_image(rt, ref)
    res.act("pulled image %s (%s)" % (ref, short(img.id)))
    return img


def create_default_pod(rt, name: str, check_mode: bool, res: Result) -> None:
    """A pod with the pod module's defaults (and containers.conf's infra settings), as
    ``podman run --pod new:NAME`` makes it."""
    declared = conf_infra_defaults(rt, declared_spec({"name": name}))
    config = pod_config(declared)
    validate_pod_config(dict(config, name=name))
    image = infra_image_for(rt, declared, check_mode, res)
    if not check_mode:
        create_pod(rt, config, name=name, infra_image=image)
    res.act("%s pod %s" % ("create" if check_mode else "created", name))
