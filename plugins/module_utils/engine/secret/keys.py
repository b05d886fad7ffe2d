# SPDX-License-Identifier: GPL-3.0-or-later
"""Keys of a secret: how a Kubernetes reference (secret name + key) finds its value.

A Kubernetes manifest names a Secret object and one of its keys (``secretKeyRef``, the
``items`` of a ``secret`` volume). The engine secret of the same name answers it:

* when its data is a Kubernetes Secret object, as JSON or YAML (a mapping with ``data``
  and/or ``stringData`` mappings, ``kind`` absent or ``Secret``: what ``kubectl get secret
  -o yaml`` prints, and what podman's ``kube play`` stores), the key is looked up in
  ``stringData`` (text) and then ``data`` (base64), as the API server merges them;
* otherwise the data is one raw value, which answers every key (a volume without
  ``items`` then shows one file named after the secret).

Nothing here returns or logs the data beyond the value asked for.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Dict, Mapping, Optional

from ..base.errors import InvalidArg, NoSuchSecret
from ..base.lazyre import lazy_compile

_YAML_HINT = lazy_compile(rb"^(data|stringData|kind)\s*:", re.M)


def _load(data: bytes) -> object:
    text = data.strip()
    if text.startswith(b"{"):
        try:
            return json.loads(text.decode("utf-8"))
        except ValueError:
            return None
    if not _YAML_HINT.search(text):
        return None
    try:
        import yaml  # noqa: PLC0415 - PyYAML (an ansible-core dependency), only for a secret that looks like YAML
    except ImportError:  # pragma: no cover - ansible-core always brings it
        return None
    try:
        return yaml.safe_load(text.decode("utf-8"))
    except (ValueError, yaml.YAMLError):
        return None


def secret_keys(name: str, data: bytes) -> Optional[Dict[str, bytes]]:
    """{key: value} when ``data`` is a Kubernetes Secret object; None when it is a raw value."""
    obj = _load(data)
    if not isinstance(obj, Mapping) or obj.get("kind", "Secret") != "Secret":
        return None
    enc, plain = obj.get("data"), obj.get("stringData")
    if not isinstance(enc, Mapping) and not isinstance(plain, Mapping):
        return None
    out: Dict[str, bytes] = {}
    for key, value in (enc or {}).items() if isinstance(enc, Mapping) else ():
        try:
            out[str(key)] = base64.b64decode(str(value or ""), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidArg("secret %s: data.%s is not valid base64" % (name, key),
                             hint="store the Kubernetes Secret with base64 values under data, or text under "
                                  "stringData")
    for key, value in (plain or {}).items() if isinstance(plain, Mapping) else ():
        out[str(key)] = ("" if value is None else str(value)).encode("utf-8")
    return out


def key_value(name: str, data: bytes, key: Optional[str]) -> Optional[bytes]:
    """The value of ``key`` in the secret ``name`` holding ``data``; None when the object lacks the key.

    ``key`` None: the whole data (the container option's plain secrets)."""
    if key is None:
        return data
    keys = secret_keys(name, data)
    if keys is None:
        return data
    return keys.get(key)


def all_keys(name: str, data: bytes) -> Dict[str, bytes]:
    """Every key of the secret (a volume without ``items``): a raw value is one key, the secret's name."""
    keys = secret_keys(name, data)
    return {name: data} if keys is None else keys


def missing_key(name: str, key: str) -> NoSuchSecret:
    return NoSuchSecret("secret %s has no key %s" % (name, key),
                        hint="store a Kubernetes Secret object (JSON or YAML with data/stringData) holding %s "
                             "in the engine secret %s, or mark the reference optional: true" % (key, name))
