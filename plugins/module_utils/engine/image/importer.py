# SPDX-License-Identifier: GPL-3.0-or-later
"""Import an image from a file: detect what the file is; make an image of a plain rootfs tarball.

``detect`` tells an OCI layout dir (``oci:``), an OCI archive (``oci-archive:``), a
``docker save`` archive (``docker-archive:``) and a plain root filesystem tarball (what
``tar -C dir -cf file .`` writes, imported as ``podman import`` does) apart; a transport
prefix in the path skips the detection.

A rootfs import makes a one-layer image: the tarball (plain or gzip) is the layer, its
config comes from ``change`` (cmd, entrypoint, env, workdir, user, labels, as podman's
``--change``). It goes through the ordinary import pipeline: a temporary OCI layout under the
graph root whose layer blob is a symlink to the tarball, so the file is read once to hash it
and once to unpack it (verified against the hash), never copied.

Idempotency is by content: ``plan_rootfs`` computes the layer's diff_id and the config
without its timestamps; ``same_content`` compares them with a stored image, so importing
the same tarball with the same change again is no change, although ``created`` differs.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shlex
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..base import faults
from ..base.errors import ImageError, InvalidArg
from ..storage.layers import detect_compression
from .registry import parse_platform
from .store import FILE_TRANSPORTS, REF_NAME, Image, ImageStore, check_file_policy

ROOTFS = "rootfs"
CHANGE_KEYS = ("cmd", "entrypoint", "env", "workdir", "user", "labels")
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
_LAYER_TYPES = {"none": "application/vnd.oci.image.layer.v1.tar", "gzip": "application/vnd.oci.image.layer.v1.tar+gzip"}
CHUNK = 1 << 16


def detect(path: str) -> Tuple[str, str]:
    """(transport, reference) for ``path``: an explicit ``transport:`` prefix, else what the file is."""
    if not isinstance(path, str) or not path.strip():
        raise InvalidArg("image parameter path must be a file or directory path", hint="e.g. path: /tmp/rootfs.tar")
    for t in FILE_TRANSPORTS:
        if path.startswith(t + ":"):
            return t, path
    full = os.path.abspath(path)
    if os.path.isdir(full):
        if os.path.isfile(os.path.join(full, "oci-layout")):
            return "oci", "oci:" + full
        raise InvalidArg("image parameter path: %s is a directory without an oci-layout file" % full,
                         hint="give an OCI layout directory, an archive, or a rootfs tarball (tar -C DIR -cf FILE .)")
    if not os.path.isfile(full):
        raise InvalidArg("image parameter path: %s does not exist or is not a regular file" % full,
                         hint="check the path on the managed node")
    try:
        with tarfile.open(full, mode="r:*") as tf:
            top = set()
            for m in tf:
                name = os.path.normpath(m.name.lstrip("/"))
                if name in ("oci-layout", "manifest.json"):
                    top.add(name)
                    if name == "oci-layout":
                        break
    except (tarfile.TarError, EOFError, OSError) as e:
        raise InvalidArg("image parameter path: %s is not a tar archive: %s" % (full, e),
                         hint="give an oci-archive, a docker-archive or a rootfs tarball")
    if "oci-layout" in top:
        return "oci-archive", "oci-archive:" + full
    if "manifest.json" in top:
        return "docker-archive", "docker-archive:" + full
    return ROOTFS, full


# -- change (pure) ---------------------------------------------------------------------------
def _argv(key: str, value: Any) -> List[str]:
    """A list as given; a string in shell form, as a Dockerfile writes it: ["/bin/sh", "-c", value]."""
    if isinstance(value, str):
        return ["/bin/sh", "-c", value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InvalidArg("image parameter change.%s must be a list of strings or a string, got %r" % (key, value),
                     hint='e.g. change: {%s: ["/bin/httpd", "-f"]}' % key)


def _env(value: Any) -> List[str]:
    items: List[Tuple[str, str]] = []
    if isinstance(value, Mapping):
        items = [(str(k), "" if v is None else str(v)) for k, v in value.items()]
    elif isinstance(value, (list, tuple)):
        for v in value:
            if not isinstance(v, str) or "=" not in v:
                raise InvalidArg("image parameter change.env: entry %r is not KEY=VALUE" % (v,),
                                 hint="give a dict or a list of KEY=VALUE strings")
            k, _unused, val = v.partition("=")
            items.append((k, val))
    else:
        raise InvalidArg("image parameter change.env must be a dict or a list of KEY=VALUE strings")
    for k, _unused in items:
        if not k or "=" in k:
            raise InvalidArg("image parameter change.env: invalid variable name %r" % k)
    return ["%s=%s" % kv for kv in items]


def change_config(change: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """The image config section (OCI ``config``) that ``change`` declares."""
    change = change or {}
    if not isinstance(change, Mapping):
        raise InvalidArg("image parameter change must be a dict", hint="keys: %s" % ", ".join(CHANGE_KEYS))
    unknown = sorted(set(change) - set(CHANGE_KEYS))
    if unknown:
        raise InvalidArg("image parameter change: unknown key(s) %s" % ", ".join(unknown),
                         hint="known keys: %s" % ", ".join(CHANGE_KEYS))
    out: Dict[str, Any] = {}
    if change.get("cmd") is not None:
        out["Cmd"] = _argv("cmd", change["cmd"])
    if change.get("entrypoint") is not None:
        out["Entrypoint"] = _argv("entrypoint", change["entrypoint"])
    if change.get("env") is not None:
        out["Env"] = _env(change["env"])
    for key, field in (("workdir", "WorkingDir"), ("user", "User")):
        if change.get(key) is not None:
            if not isinstance(change[key], (str, int)) or isinstance(change[key], bool):
                raise InvalidArg("image parameter change.%s must be a string" % key)
            out[field] = str(change[key])
    if change.get("labels") is not None:
        if not isinstance(change["labels"], Mapping):
            raise InvalidArg("image parameter change.labels must be a dict of names to values")
        out["Labels"] = {str(k): "" if v is None else str(v) for k, v in change["labels"].items()}
    return out


def describe_change(change: Mapping[str, Any]) -> str:
    """A short text of the config, for actions."""
    return ", ".join("%s=%s" % (k, shlex.join(v) if isinstance(v, list) else v) for k, v in sorted(change.items()))


# -- rootfs tarballs ----------------------------------------------------------------------------
@dataclass
class RootfsPlan:
    """What importing a rootfs tarball makes: its layer digests and the config without timestamps."""

    path: str
    digest: str  # sha256 of the file
    diff_id: str  # sha256 of the uncompressed tar
    size: int  # bytes of the file
    compression: str
    core: Dict[str, Any]  # architecture, os, [variant], config


def _hash_file(path: str) -> Tuple[str, str, int, str]:
    with open(path, "rb") as f:
        comp = detect_compression(f.read(6))
    if comp not in _LAYER_TYPES:
        raise ImageError("image parameter path: %s is %s-compressed, which cannot be imported" % (path, comp),
                         hint="give a plain or gzip-compressed tar")
    raw = hashlib.sha256()
    plain = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        if comp == "gzip":
            class _Tee:
                def read(self, n: int = -1) -> bytes:
                    data = f.read(n)
                    raw.update(data)
                    return data
            try:
                with gzip.GzipFile(fileobj=_Tee(), mode="rb") as g:  # type: ignore[arg-type]
                    for chunk in iter(lambda: g.read(CHUNK), b""):
                        plain.update(chunk)
            except (OSError, EOFError) as e:
                raise ImageError("image parameter path: %s is not a valid gzip file: %s" % (path, e))
            size = f.tell()
            rest = f.read()
            raw.update(rest)
            size += len(rest)
        else:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                raw.update(chunk)
                size += len(chunk)
    digest = "sha256:" + raw.hexdigest()
    diff_id = digest if comp == "none" else "sha256:" + plain.hexdigest()
    return digest, diff_id, size, comp


def plan_rootfs(path: str, change: Optional[Mapping[str, Any]], platform: Optional[str]) -> RootfsPlan:
    """Hash the tarball and build the config core (reads the file; writes nothing)."""
    full = os.path.abspath(path)
    digest, diff_id, size, comp = _hash_file(full)
    plat = parse_platform(platform)
    core: Dict[str, Any] = {"architecture": plat["architecture"], "os": plat["os"], "config": change_config(change)}
    if plat.get("variant"):
        core["variant"] = plat["variant"]
    return RootfsPlan(path=full, digest=digest, diff_id=diff_id, size=size, compression=comp, core=core)


def same_content(image: Image, plan: RootfsPlan) -> bool:
    """Whether ``image`` is what importing ``plan`` would make (timestamps and history aside)."""
    if image.layers != [plan.diff_id.split(":", 1)[1]]:
        return False
    keys = ("architecture", "os", "variant")
    have = {k: image.config.get(k) for k in keys}
    want = {k: plan.core.get(k) for k in keys}
    return have == want and (image.config.get("config") or {}) == plan.core["config"]


def _rfc3339(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def import_rootfs(store: ImageStore, plan: RootfsPlan, name: str) -> Image:
    """Import the tarball as a one-layer image named ``name`` (the name moves to it)."""
    check_file_policy("tarball", plan.path)
    now = _rfc3339(time.time())
    config = dict(plan.core, created=now, rootfs={"type": "layers", "diff_ids": [plan.diff_id]},
                  history=[{"created": now, "created_by": "libpod-engine import %s" % os.path.basename(plan.path),
                            "comment": "imported from a rootfs tarball"}])
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": _sha(config_bytes), "size": len(config_bytes)},
        "layers": [{"mediaType": _LAYER_TYPES[plan.compression], "digest": plan.digest, "size": plan.size}],
    }, sort_keys=True, separators=(",", ":")).encode()
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": OCI_MANIFEST, "digest": _sha(manifest), "size": len(manifest),
        "annotations": {REF_NAME: name}}]}).encode()
    tmp_root = os.path.join(store.graph_root, "tmp")
    os.makedirs(tmp_root, mode=0o700, exist_ok=True)
    # owner-tagged: the repair of a killed import removes it (ImageStore.remove_stale_temp)
    work = tempfile.mkdtemp(prefix=".tmp-%s-import-" % faults.owner_tag(), dir=tmp_root)
    try:
        blobs = os.path.join(work, "blobs", "sha256")
        os.makedirs(blobs)
        for rel, data in (("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index)):
            with open(os.path.join(work, rel), "wb") as f:
                f.write(data)
        for data in (config_bytes, manifest):
            with open(os.path.join(blobs, _sha(data).split(":", 1)[1]), "wb") as f:
                f.write(data)
        os.symlink(plan.path, os.path.join(blobs, plan.digest.split(":", 1)[1]))
        img = store.pull("oci:%s:%s" % (work, name), policy_checked=True)
        store.set_source(img.id, plan.path)
        return store.get(img.id)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
