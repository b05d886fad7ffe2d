# SPDX-License-Identifier: GPL-3.0-or-later
"""Save a stored image as an archive, as ``podman save`` writes it (and ``podman load`` reads it).

* ``oci-archive``: an OCI image layout in a tar (``oci-layout``, ``index.json`` naming the
  image with ``org.opencontainers.image.ref.name``, ``blobs/sha256/...``).
* ``docker-archive``: ``docker save``'s layout (``manifest.json`` with RepoTags,
  ``<config-hex>.json``, ``<diffid-hex>.tar`` per layer, ``repositories``).

Layers are written uncompressed, rebuilt byte for byte from the unpacked layer and its
tar-split (storage/tarsplit.py), so each layer's digest is its diff_id and the config is
written unchanged: loading the archive gives the same image ID. A new manifest is written
(its layer descriptors differ from a pulled, compressed one), as podman does.

The archive is written to a temp file beside the target and renamed into place, so a
failure never leaves a half-written archive under the target name.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional

from ..base.errors import ImageError
from ..storage import tarsplit
from ..storage.layers import hex_of
from .store import REF_NAME, Image, ImageStore

FORMATS = ("oci-archive", "docker-archive")
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


@dataclass
class Saved:
    """What save() wrote."""

    path: str
    format: str
    image_id: str
    names: List[str]
    size: int  # bytes of the archive


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class _Stream(io.RawIOBase):
    """A file-like view of the rebuilt layer that hashes what tarfile reads from it."""

    def __init__(self, chunks: Iterator[bytes]):
        super().__init__()
        self.chunks = chunks
        self.buf = b""
        self.hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        while n < 0 or len(self.buf) < n:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.buf += chunk
        if n < 0:
            out, self.buf = self.buf, b""
        else:
            out, self.buf = self.buf[:n], self.buf[n:]
        self.hash.update(out)
        return out


def _info(name: str, size: int = 0, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type, ti.size = kind, size
    ti.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    ti.mtime = 0
    return ti


def _add_bytes(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    tf.addfile(_info(name, len(data)), io.BytesIO(data))


def layer_splits(store: ImageStore, image: Image) -> List[tuple]:
    """(diff_id, tar-split path, diff dir, tar size) per layer; ImageError naming a layer without one."""
    out = []
    dirs = store.layer_dirs(image)
    for lid, diff in zip(image.layers, dirs):
        split = os.path.join(os.path.dirname(diff), tarsplit.FILE_NAME)
        if not os.path.isfile(split):
            raise ImageError("image %s (%s): layer %s was stored before the engine kept layer tar-splits, so it "
                             "cannot be saved byte for byte" % (image.short_id, ", ".join(image.names) or "<none>",
                                                                lid[:12]),
                             hint="remove the image and pull or import it again, then save it")
        out.append(("sha256:" + lid, split, diff, tarsplit.tar_size(split)))
    return out


def _add_layer(tf: tarfile.TarFile, member: str, layer: tuple) -> None:
    diff_id, split, diff, size = layer
    stream = _Stream(tarsplit.rebuild(split, diff, diff_id[7:19]))
    tf.addfile(_info(member, size), stream)
    got = "sha256:" + stream.hash.hexdigest()
    if got != diff_id:
        raise ImageError("layer %s rebuilt from its unpacked files has digest %s" % (diff_id[7:19], got),
                         hint="the unpacked layer was changed; remove the image and pull or import it again")


def _oci(tf: tarfile.TarFile, image: Image, config: bytes, layers: List[tuple], names: List[str]) -> None:
    manifest = _canonical({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": _digest(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": d, "size": size} for d, _s, _d, size in layers],
    })
    desc: Dict[str, Any] = {"mediaType": OCI_MANIFEST, "digest": _digest(manifest), "size": len(manifest)}
    if names:
        desc["annotations"] = {REF_NAME: names[0]}
    index = _canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [desc]})
    _add_bytes(tf, "oci-layout", _canonical({"imageLayoutVersion": "1.0.0"}))
    _add_bytes(tf, "index.json", index)
    tf.addfile(_info("blobs", kind=tarfile.DIRTYPE))
    tf.addfile(_info("blobs/sha256", kind=tarfile.DIRTYPE))
    seen = set()
    for diff_id, split, diff, size in layers:
        if diff_id not in seen:
            seen.add(diff_id)
            _add_layer(tf, "blobs/sha256/" + hex_of(diff_id), (diff_id, split, diff, size))
    _add_bytes(tf, "blobs/sha256/" + hex_of(_digest(config)), config)
    _add_bytes(tf, "blobs/sha256/" + hex_of(_digest(manifest)), manifest)


def _docker(tf: tarfile.TarFile, image: Image, config: bytes, layers: List[tuple], names: List[str]) -> None:
    seen = set()
    for diff_id, split, diff, size in layers:
        if diff_id not in seen:
            seen.add(diff_id)
            _add_layer(tf, hex_of(diff_id) + ".tar", (diff_id, split, diff, size))
    _add_bytes(tf, image.id + ".json", config)
    entry = {"Config": image.id + ".json", "RepoTags": names,
             "Layers": [hex_of(d) + ".tar" for d, _s, _x, _z in layers]}
    _add_bytes(tf, "manifest.json", json.dumps([entry], separators=(",", ":")).encode())
    repos: Dict[str, Dict[str, str]] = {}
    for n in names:
        repo, _unused, tag = n.rpartition(":")
        repos.setdefault(repo, {})[tag] = hex_of(layers[-1][0]) if layers else image.id
    _add_bytes(tf, "repositories", json.dumps(repos, separators=(",", ":")).encode())


def save(store: ImageStore, image: Image, path: str, fmt: str = "oci-archive",
         names: Optional[List[str]] = None) -> Saved:
    """Write ``image`` to ``path`` as ``fmt`` (see the module docstring); ``names`` default to the image's."""
    if fmt not in FORMATS:
        raise ImageError("unknown archive format %r" % fmt, hint="use one of: %s" % ", ".join(FORMATS))
    names = list(image.names if names is None else names)
    path = os.path.abspath(path)
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        raise ImageError("save_path %s: directory %s does not exist" % (path, parent),
                         hint="create the directory first, or choose another save_path")
    if os.path.isdir(path):
        raise ImageError("save_path %s is a directory" % path, hint="give the path of the archive file to write")
    config = store.read_blob("sha256:" + image.id)
    layers = layer_splits(store, image)
    fd, tmp = tempfile.mkstemp(prefix=".%s.tmp-" % os.path.basename(path), dir=parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
                (_oci if fmt == "oci-archive" else _docker)(tf, image, config, layers, names)
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Saved(path=path, format=fmt, image_id=image.id, names=names, size=os.path.getsize(path))
