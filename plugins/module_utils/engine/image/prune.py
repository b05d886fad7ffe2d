# SPDX-License-Identifier: GPL-3.0-or-later
"""Which containers use an image; prune unused images (``podman image prune [-a] [--filter]``).

``dangling`` removes images without a name, ``all`` every image no container uses (in any
state, in any namespace of this root). ``filters``: ``label`` (``key`` or ``key=value``,
all must match; ``label!`` entries must not), ``until`` (images stored before a time: RFC 3339,
a Unix timestamp, or a duration such as ``24h`` or ``90m`` meaning that long ago).

The bytes reported are what the removal frees under the graph root, measured before
deleting: the apparent size (as ``du -b``) of every layer directory no remaining image
uses and of the manifest and config blobs that go.
"""
from __future__ import annotations

import calendar
import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..base.errors import ImageError, InvalidArg
from .store import Image, ImageStore

MODES = ("dangling", "all")
FILTER_KEYS = ("label", "label!", "until")
_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def image_users(state: Any, image_id: str) -> List[Tuple[str, str]]:
    """(container ID, name) of every container (all namespaces) created from the image."""
    out = []
    for cid, name, config in state.conn.execute("SELECT id, name, config FROM containers ORDER BY created").fetchall():
        try:
            if json.loads(config).get("image_id") == image_id:
                out.append((cid, name))
        except (ValueError, AttributeError):
            continue
    return out


def parse_until(value: Any, now: Optional[float] = None) -> float:
    """An ``until`` filter value as epoch seconds."""
    now = time.time() if now is None else now
    text = str(value).strip()
    m = _DURATION_RE.match(text)
    if m:
        return now - float(m.group(1)) * _UNIT[m.group(2)]
    try:
        return float(text)
    except ValueError:
        pass
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return float(calendar.timegm(time.strptime(text, fmt)))
        except ValueError:
            continue
    raise InvalidArg("image parameter filters.until: %r is not a time" % value,
                     hint="use a duration (24h, 90m, 7d), a Unix timestamp or 2024-01-31T00:00:00Z (UTC)")


def _as_list(value: Any) -> List[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def validate_filters(filters: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """Checked filters: {"label": [...], "label!": [...], "until": epoch or None}."""
    filters = filters or {}
    if not isinstance(filters, Mapping):
        raise InvalidArg("image parameter filters must be a dict", hint="e.g. filters: {label: [app=web], until: 24h}")
    unknown = sorted(set(filters) - set(FILTER_KEYS))
    if unknown:
        raise InvalidArg("image parameter filters: unknown filter(s) %s" % ", ".join(unknown),
                         hint="known: %s" % ", ".join(FILTER_KEYS))
    until = filters.get("until")
    return {"label": _as_list(filters.get("label")), "label!": _as_list(filters.get("label!")),
            "until": parse_until(until) if until not in (None, "") else None}


def _label_match(labels: Mapping[str, str], spec: str) -> bool:
    key, sep, val = spec.partition("=")
    return key in labels and (not sep or labels[key] == val)


def matches(image: Image, filters: Mapping[str, Any]) -> bool:
    labels = ImageStore.image_config(image).get("Labels") or {}
    if not all(_label_match(labels, s) for s in filters["label"]):
        return False
    if any(_label_match(labels, s) for s in filters["label!"]):
        return False
    return filters["until"] is None or image.created < filters["until"]


@dataclass
class Pruned:
    """What an image prune removed and the bytes it freed."""

    removed: List[Image] = field(default_factory=list)
    bytes: int = 0


def apparent_size(path: str) -> int:
    """``du -sb``: the apparent size of a tree, directories included; 0 if missing."""
    try:
        total = os.lstat(path).st_size
    except OSError:
        return 0
    if not os.path.isdir(path) or os.path.islink(path):
        return total
    for dirpath, dirs, files in os.walk(path):
        for n in dirs + files:
            try:
                total += os.lstat(os.path.join(dirpath, n)).st_size
            except OSError:
                continue
    return total


def candidates(store: ImageStore, mode: str, filters: Mapping[str, Any]) -> List[Image]:
    """The images a prune removes: unused, dangling unless ``all``, matching the filters."""
    if mode not in MODES:
        raise InvalidArg("image parameter prune must be one of %s, got %r" % (", ".join(MODES), mode))
    out = []
    for img in store.list():
        if mode == "dangling" and img.names:
            continue
        if image_users(store.state, img.id) or not matches(img, filters):
            continue
        out.append(img)
    return out


def freed_bytes(store: ImageStore, doomed: List[Image]) -> int:
    """What removing ``doomed`` frees: their layers no other image uses, and their blobs."""
    ids = {img.id for img in doomed}
    keep_layers, keep_blobs = set(), set()
    for img in store.list():
        if img.id not in ids:
            keep_layers.update(img.layers)
            keep_blobs.update([img.digest, "sha256:" + img.id, *img.digests])
    total = 0
    layers, blobs = set(), set()
    for img in doomed:
        layers.update(lid for lid in img.layers if lid not in keep_layers)
        blobs.update(d for d in {img.digest, "sha256:" + img.id, *img.digests} if d not in keep_blobs)
    for lid in layers:
        total += apparent_size(os.path.join(store.layers_dir, lid))
    for d in blobs:
        try:
            total += apparent_size(store.blob_path(d))
        except ImageError:  # a malformed digest is not stored: nothing to free
            continue
    return total


def prune(store: ImageStore, mode: str, filters: Mapping[str, Any], *, check_mode: bool = False) -> Pruned:
    """Remove the candidates (nothing in check mode); the bytes are measured before deleting."""
    doomed = candidates(store, mode, filters)
    res = Pruned(removed=doomed, bytes=freed_bytes(store, doomed))
    if not check_mode:
        for img in doomed:
            store.remove(img.id, force=True)
    return res
