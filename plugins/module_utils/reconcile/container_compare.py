# SPDX-License-Identifier: GPL-3.0-or-later
"""Declared-spec differences that are no difference once the image is known (issue 23.3, 23.4).

The option table compares declared with declared, exactly. Two options need the image to say
whether a difference is real:

* ``image``: ``docker.io/alpine``, ``alpine:latest`` and ``docker.io/library/alpine`` name one
  image. References are compared normalised (``docker.io/library/``, default tag ``latest``);
  where a short name is ambiguous (``alpine`` may be ``localhost/alpine``) the stored name each
  resolves to decides. The image ID is compared separately, so a moved tag still recreates.
* ``label``: the effective labels are the image's labels with the declared ones over them
  (podman inspect shows that set). Declaring a label the image already has, with the same
  value, or dropping it again, changes nothing.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from ..engine.base.errors import EngineError
from ..engine.image.reference import parse_reference
from ..engine.image.store import FILE_TRANSPORTS, parse_image_ref


def normalise_image_ref(ref: str) -> str:
    """The canonical spelling of a reference: ``docker.io/library/x:latest`` for ``x`` or
    ``docker://x``; a file transport with its absolute path; the reference itself if unparsable."""
    try:
        sref = parse_image_ref(ref)
        if sref.transport in FILE_TRANSPORTS:
            return "%s:%s%s" % (sref.transport, sref.path, (":" + sref.ref) if sref.ref else "")
        return str(parse_reference(sref.ref))
    except EngineError:
        return ref


def same_image_ref(images, old: Optional[str], new: Optional[str]) -> bool:
    """True when two references name the same image by name (not only by ID)."""
    if old == new:
        return True
    if old is None or new is None:
        return False
    if normalise_image_ref(old) == normalise_image_ref(new):
        return True
    old_name = images.matched_name(old)
    return old_name is not None and old_name == images.matched_name(new)


def effective_labels(image_config: Mapping[str, Any], declared: Optional[Mapping[str, str]]) -> Dict[str, str]:
    """Image labels with the declared labels over them (what podman inspect shows)."""
    return dict(image_config.get("Labels") or {}, **(declared or {}))


def drop_equivalent(rt, names: List[str], old: Mapping[str, Any], new: Mapping[str, Any], *,
                    old_image_config: Mapping[str, Any], new_image) -> List[str]:
    """``names`` (options whose declared values differ) without those that mean the same."""
    out = []
    for name in names:
        if name == "image" and same_image_ref(rt.images, old.get("image"), new.get("image")):
            continue
        if name == "label":
            new_cfg = rt.images.image_config(new_image) if new_image is not None else old_image_config
            if effective_labels(old_image_config, old.get("label")) == effective_labels(new_cfg, new.get("label")):
                continue
        out.append(name)
    return out
