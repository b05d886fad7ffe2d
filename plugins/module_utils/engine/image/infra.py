# SPDX-License-Identifier: GPL-3.0-or-later
"""The pods' infra image, built locally from catatonit (as podman builds its pause image).

podman 4 builds ``localhost/podman-pause:<version>-<time>`` once, with one layer holding
``/catatonit`` and ``ENTRYPOINT ["/catatonit", "-P"]``. We do the same without buildah:
an OCI layout is written to a temp dir under the graph root (one uncompressed layer tar
with the static catatonit binary, a config, a manifest, an index naming the image) and
imported through the ordinary image store. The build is deterministic (fixed owner,
mode and mtime, fixed config timestamp), so the same catatonit always gives the same
image ID, on every host.

The name alone proves nothing (an import could once take it, issue 22): the ID of the image
the engine built is recorded in the state DB (meta ``infra_image/<name>``), and the image is
used only while the name still points to that ID and its layer is present; otherwise it is
built again. The store refuses every other import or tag into the infra repository.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from typing import Any, Dict, Optional

from ..base import faults
from ..base.errors import EngineError, ImageError, InvalidArg
from ..base.version import ENGINE_VERSION
from ..store.locks import Lock
from .store import INFRA_REPOSITORY, Image

INFRA_REPO = INFRA_REPOSITORY
#: meta key prefix of the recorded infra image ID (+ the image name)
META_PREFIX = "infra_image/"
#: where catatonit lands in the image, and the infra's default command (podman's pause image)
INFRA_BINARY = "/catatonit"
INFRA_ENTRYPOINT = ["/catatonit", "-P"]
INFRA_LABEL = "io.libpod-engine.infra"
_EPOCH = "1970-01-01T00:00:00Z"
_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def infra_image_name() -> str:
    """``localhost/libpod-engine-infra:<engine version>``."""

    return "%s:%s" % (INFRA_REPO, ENGINE_VERSION)


def find_catatonit(rt) -> str:
    """catatonit as the runtime finds it for ``init: true`` (init_path, then the usual places)."""
    path = rt.init_path()
    if not path or not os.path.isfile(path):
        raise InvalidArg("cannot build the pod infra image: catatonit not found (looked for %s)" % (path or "it"),
                         hint="install catatonit, set init_path in containers.conf, or give the pod an "
                              "infra_image")
    return path


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(catatonit: str) -> bytes:
    """One uncompressed layer: ``catatonit`` (0755, root, mtime 0)."""
    with open(catatonit, "rb") as f:
        data = f.read()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        info = tarfile.TarInfo(INFRA_BINARY.lstrip("/"))
        info.size = len(data)
        info.mode = 0o755
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def image_documents(layer: bytes, name: str, platform: Dict[str, str]) -> Dict[str, bytes]:
    """The OCI layout files (path -> bytes) of the infra image named ``name``."""
    layer_digest = _digest(layer)
    config = {
        "created": _EPOCH,
        "architecture": platform.get("architecture", "amd64"),
        "os": platform.get("os", "linux"),
        "config": {
            "Entrypoint": list(INFRA_ENTRYPOINT),
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "WorkingDir": "/",
            "StopSignal": "SIGTERM",
            "Labels": {INFRA_LABEL: "true"},
        },
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created": _EPOCH, "created_by": "libpod-engine: COPY catatonit /catatonit"}],
    }
    if platform.get("variant"):
        config["variant"] = platform["variant"]
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": _OCI_MANIFEST,
        "config": {"mediaType": _OCI_CONFIG, "digest": _digest(config_bytes), "size": len(config_bytes)},
        "layers": [{"mediaType": _OCI_LAYER, "digest": layer_digest, "size": len(layer)}],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    index = {
        "schemaVersion": 2,
        "manifests": [{"mediaType": _OCI_MANIFEST, "digest": _digest(manifest_bytes), "size": len(manifest_bytes),
                       "annotations": {"org.opencontainers.image.ref.name": name}}],
    }
    files = {
        "oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
        "index.json": json.dumps(index, sort_keys=True).encode(),
    }
    for blob in (layer, config_bytes, manifest_bytes):
        files["blobs/sha256/" + _digest(blob).split(":", 1)[1]] = blob
    return files


def build_infra_image(rt, name: Optional[str] = None):
    """Build and import the infra image (under the name, replacing what the name pointed to)."""
    from .reference import host_platform  # noqa: PLC0415

    name = name or infra_image_name()
    catatonit = find_catatonit(rt)
    files = image_documents(layer_tar(catatonit), name, host_platform())
    tmp_root = os.path.join(rt.graph_root, "tmp")
    os.makedirs(tmp_root, mode=0o700, exist_ok=True)
    # owner-tagged: the repair of a killed build removes it (ImageStore.remove_stale_temp)
    work = tempfile.mkdtemp(prefix=".tmp-%s-infra-build-" % faults.owner_tag(), dir=tmp_root)
    try:
        for rel, data in files.items():
            path = os.path.join(work, rel)
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        img = rt.images.pull("oci:%s:%s" % (work, name), infra_build=True)
        built = json.loads(files["index.json"])["manifests"][0]["digest"]
        if built not in img.digests:
            raise ImageError("the stored image %s (%s) is not the one just built (manifest %s)"
                             % (name, img.short_id, built))
        rt.state.set_meta(META_PREFIX + name, img.id)
        return img
    except EngineError as exc:
        exc.msg = "building the pod infra image %s from %s: %s" % (name, catatonit, exc.msg)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def trusted_infra_image(rt) -> Optional[Image]:
    """The built-in infra image if it is the one the engine built (recorded ID, layer present)."""
    name = infra_image_name()
    img = rt.images.resolve(name)
    if img is None or rt.state.get_meta(META_PREFIX + name) != img.id:
        return None
    try:
        rt.images.layer_dirs(img)
    except ImageError:
        return None
    return img


def ensure_infra_image(rt, *, check_mode: bool = False):
    """The built-in infra image, built once (under a lock) and again whenever its name points to
    anything else; None in check mode when it would be built."""
    img = trusted_infra_image(rt)
    if img is not None or check_mode:
        return img
    with Lock(os.path.join(rt.tmp_dir, "infra-image.lck"), 0):
        img = trusted_infra_image(rt)  # another process may have built it meanwhile
        if img is None:
            img = build_infra_image(rt, infra_image_name())
    return img


def infra_image_info(image: Any) -> Dict[str, Any]:
    """What the inspect output says about an infra image."""
    return {"Id": getattr(image, "id", ""), "Names": list(getattr(image, "names", []) or [])}
