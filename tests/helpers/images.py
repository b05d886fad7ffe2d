# SPDX-License-Identifier: GPL-3.0-or-later
"""Image fixtures built from files, without a registry download or podman.

* ``build_image()``: OCI or docker-schema2 manifest + a real image config (Env, Cmd,
  Entrypoint, WorkingDir, User, Labels, StopSignal) + gzip or plain layers, all bytes.
* writers for the three file transports: ``write_oci_layout`` (oci:), ``write_oci_archive``
  (oci-archive:), ``write_docker_archive`` (docker-archive:, the legacy ``docker save``
  layout with manifest.json, repositories and ``<v1id>/layer.tar`` symlinks).
* ``HOSTILE_LAYERS``: tars that try to write outside the unpack root.
* ``RegistryServer`` (the Debian ``docker-registry`` binary on 127.0.0.1, no auth) and
  ``push_image`` / ``push_index``, a small urllib uploader (monolithic or chunked).

Everything is deterministic: the same inputs give the same digests.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import socket
import ssl
import stat as st_mod
import subprocess
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import mounts

from .rootfs import make_busybox_rootfs

MTIME = 1700000000
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
REGISTRY_BIN = "/usr/bin/docker-registry"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


# -- tars --------------------------------------------------------------------------------------
def _norm_info(ti: tarfile.TarInfo) -> tarfile.TarInfo:
    ti.mtime = MTIME
    ti.uname = ti.gname = ""
    return ti


def tar_from_dir(root: str, *, uid: Optional[int] = None) -> bytes:
    """A deterministic uncompressed tar of ``root`` (names relative, sorted, fixed mtimes)."""
    paths = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        paths.extend(n if rel == "." else rel + "/" + n for n in dirnames + filenames)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for arc in sorted(paths):
            path = os.path.join(root, arc)
            ti = _norm_info(tf.gettarinfo(path, arcname=arc))
            if uid is not None:
                ti.uid = ti.gid = uid
            if ti.isreg():
                with open(path, "rb") as f:
                    tf.addfile(ti, f)
            else:
                tf.addfile(ti)
    return buf.getvalue()


@dataclass
class E:
    """One tar entry for hand-made layers: kind = file|dir|symlink|hardlink|char|block|fifo."""

    name: str
    kind: str = "file"
    data: bytes = b""
    target: str = ""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    dev: Tuple[int, int] = (0, 0)
    size: Optional[int] = None  # declared size override (hostile)
    xattrs: Dict[str, bytes] = field(default_factory=dict)


_TYPES = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
          "hardlink": tarfile.LNKTYPE, "char": tarfile.CHRTYPE, "block": tarfile.BLKTYPE,
          "fifo": tarfile.FIFOTYPE}


def tar_from_entries(entries: Iterable[E]) -> bytes:
    """An uncompressed tar from explicit entries (names are written verbatim)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for e in entries:
            ti = tarfile.TarInfo(e.name)
            ti.type = _TYPES[e.kind]
            ti.mode = e.mode if e.kind != "dir" or e.mode != 0o644 else 0o755
            ti.uid, ti.gid, ti.mtime = e.uid, e.gid, MTIME
            if e.xattrs:
                ti.pax_headers = {"SCHILY.xattr." + k: v.decode("utf-8", "surrogateescape")
                                  for k, v in e.xattrs.items()}
            if e.kind in ("symlink", "hardlink"):
                ti.linkname = e.target
            if e.kind in ("char", "block"):
                ti.devmajor, ti.devminor = e.dev
            if e.kind == "file":
                ti.size = len(e.data)
                tf.addfile(ti, io.BytesIO(e.data))
            else:
                tf.addfile(ti)
    data = buf.getvalue()
    return data


def tar_with_declared_size(name: str, declared: int, actual: bytes = b"x" * 10) -> bytes:
    """A tar whose single file header claims ``declared`` bytes but carries ``actual``."""
    ti = tarfile.TarInfo(name)
    ti.size = declared
    ti.mtime = MTIME
    header = ti.tobuf(format=tarfile.PAX_FORMAT)  # PAX carries sizes above 8 GiB
    return header + actual + b"\0" * (512 - len(actual) % 512) + b"\0" * 1024


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


# -- images ------------------------------------------------------------------------------------
@dataclass
class Blob:
    data: bytes
    media_type: str

    @property
    def digest(self) -> str:
        return sha256(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self, **extra) -> dict:
        d = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        d.update(extra)
        return d


@dataclass
class BuiltImage:
    config: Blob
    manifest: Blob
    layers: List[Blob]  # as stored (maybe gzip)
    layer_tars: List[bytes]  # uncompressed
    platform: Dict[str, str]

    @property
    def image_id(self) -> str:
        return self.config.digest.split(":", 1)[1]

    @property
    def diff_ids(self) -> List[str]:
        return [sha256(t) for t in self.layer_tars]

    @property
    def config_json(self) -> dict:
        return json.loads(self.config.data)

    def blobs(self) -> List[Blob]:
        return [self.config, *self.layers, self.manifest]


DEFAULT_CONFIG = {
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hello world"],
    "Cmd": ["sh", "-c", "echo $GREETING"],
    "Entrypoint": ["/bin/busybox"],
    "WorkingDir": "/home/app",
    "User": "1000:1000",
    "Labels": {"org.example.fixture": "busybox", "version": "1"},
    "StopSignal": "SIGINT",
    "ExposedPorts": {"8080/tcp": {}},
    "Volumes": {"/data": {}},
}


def make_config(diff_ids: Sequence[str], *, config: Optional[dict] = None, arch: str = "amd64",
                os_name: str = "linux", variant: Optional[str] = None,
                created: str = "2026-01-01T00:00:00Z") -> bytes:
    """A real OCI image config (canonical JSON, so its digest is stable)."""
    doc = {
        "architecture": arch, "os": os_name, "created": created,
        "config": DEFAULT_CONFIG if config is None else config,
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        "history": [{"created": created, "created_by": "tests/helpers/images.py"} for _i in diff_ids],
    }
    if variant:
        doc["variant"] = variant
    return canonical(doc)


def build_image(layer_tars: Sequence[bytes], *, compression: str = "gzip", fmt: str = "oci",
                config: Optional[dict] = None, arch: str = "amd64", variant: Optional[str] = None,
                created: str = "2026-01-01T00:00:00Z") -> BuiltImage:
    """Manifest + config + layers for the given uncompressed layer tars."""
    diff_ids = [sha256(t) for t in layer_tars]
    cfg = Blob(make_config(diff_ids, config=config, arch=arch, variant=variant, created=created),
               OCI_CONFIG if fmt == "oci" else DOCKER_CONFIG)
    layers = []
    for t in layer_tars:
        if compression == "gzip":
            layers.append(Blob(gz(t), OCI_LAYER_GZIP if fmt == "oci" else DOCKER_LAYER_GZIP))
        elif compression == "zstd":
            import zstandard  # noqa: PLC0415 - only the zstd fixtures need it
            layers.append(Blob(zstandard.ZstdCompressor(level=3).compress(t), OCI_LAYER_ZSTD))
        else:
            layers.append(Blob(t, OCI_LAYER if fmt == "oci" else DOCKER_LAYER))
    man = {"schemaVersion": 2, "mediaType": OCI_MANIFEST if fmt == "oci" else DOCKER_MANIFEST,
           "config": cfg.descriptor(), "layers": [layer.descriptor() for layer in layers]}
    platform = {"os": "linux", "architecture": arch}
    if variant:
        platform["variant"] = variant
    return BuiltImage(cfg, Blob(canonical(man), man["mediaType"]), layers, list(layer_tars), platform)


def busybox_layer(workdir: str) -> bytes:
    """The busybox rootfs (tests/helpers/rootfs.py) as one uncompressed layer tar."""
    root = os.path.join(workdir, "busybox-rootfs")
    if not os.path.isdir(root):
        make_busybox_rootfs(root)
    return tar_from_dir(root)


def busybox_image(workdir: str, **kw) -> BuiltImage:
    return build_image([busybox_layer(workdir)], **kw)


def make_index(entries: Sequence[Tuple[BuiltImage, Optional[str]]], *, fmt: str = "oci",
               with_platform: bool = True) -> Blob:
    """An OCI index / docker manifest list over the images (ref names as annotations)."""
    manifests = []
    for img, ref in entries:
        d = img.manifest.descriptor()
        if with_platform:
            d["platform"] = dict(img.platform)
        if ref:
            d["annotations"] = {"org.opencontainers.image.ref.name": ref}
        manifests.append(d)
    doc = {"schemaVersion": 2, "mediaType": OCI_INDEX if fmt == "oci" else DOCKER_LIST, "manifests": manifests}
    return Blob(canonical(doc), doc["mediaType"])


# -- file transports ---------------------------------------------------------------------------
def write_oci_layout(path: str, entries: Sequence[Tuple[BuiltImage, Optional[str]]], *,
                     with_platform: bool = False) -> str:
    """An OCI image layout dir (oci:) holding the images; ref = ref.name annotation."""
    blobs = os.path.join(path, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    with open(os.path.join(path, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    for img, _unused in entries:
        for b in img.blobs():
            with open(os.path.join(blobs, b.digest.split(":", 1)[1]), "wb") as f:
                f.write(b.data)
    index = make_index(entries, with_platform=with_platform)
    with open(os.path.join(path, "index.json"), "wb") as f:
        f.write(index.data)
    return path


def _tar_add_bytes(tf: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.mtime = len(data), mode, MTIME
    tf.addfile(ti, io.BytesIO(data))


def _tar_add_dir(tf: tarfile.TarFile, name: str) -> None:
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, MTIME
    tf.addfile(ti)


def write_oci_archive(path: str, entries: Sequence[Tuple[BuiltImage, Optional[str]]]) -> str:
    """oci-archive: the OCI layout as a plain tar (what podman save --format oci-archive writes)."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        _tar_add_bytes(tf, "oci-layout", canonical({"imageLayoutVersion": "1.0.0"}))
        _tar_add_bytes(tf, "index.json", make_index(entries, with_platform=False).data)
        _tar_add_dir(tf, "blobs")
        _tar_add_dir(tf, "blobs/sha256")
        seen = set()
        for img, _unused in entries:
            for b in img.blobs():
                if b.digest not in seen:
                    seen.add(b.digest)
                    _tar_add_bytes(tf, "blobs/sha256/" + b.digest.split(":", 1)[1], b.data)
    return path


def write_docker_archive(path: str, img: BuiltImage, repo_tags: Sequence[str], *,
                         compressed_layers: bool = False) -> str:
    """docker-archive in the legacy ``docker save`` layout (as podman save writes it).

    Layers are uncompressed ``<diffid>.tar``; ``<v1id>/layer.tar`` is a symlink to them.
    The config bytes are the image's config blob, so the image ID is the same as the
    OCI variants of ``img``.
    """
    return write_docker_archive_multi(path, [(img, repo_tags)], compressed_layers=compressed_layers)


def write_docker_archive_multi(path: str, images: Sequence[Tuple[BuiltImage, Sequence[str]]], *,
                               compressed_layers: bool = False) -> str:
    """Several images in one docker-archive (podman save -m)."""
    manifest, repos, written = [], {}, set()
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        for img, repo_tags in images:
            cfg_hex = img.config.digest.split(":", 1)[1]
            layer_names, parent, v1ids = [], "", []
            for t in img.layer_tars:
                hexid = sha256(t).split(":", 1)[1]
                name = hexid + (".tar.gz" if compressed_layers else ".tar")
                layer_names.append(name)
                v1id = hashlib.sha256((parent + " " + hexid).encode()).hexdigest()
                parent = v1id
                v1ids.append(v1id)
                if name in written:
                    continue
                written.add(name)
                _tar_add_bytes(tf, name, gz(t) if compressed_layers else t)
                _tar_add_dir(tf, v1id)
                _tar_add_bytes(tf, v1id + "/VERSION", b"1.0")
                _tar_add_bytes(tf, v1id + "/json", canonical({"id": v1id, "created": "2026-01-01T00:00:00Z"}))
                link = tarfile.TarInfo(v1id + "/layer.tar")
                link.type, link.linkname, link.mtime = tarfile.SYMTYPE, "../" + name, MTIME
                tf.addfile(link)
            if cfg_hex + ".json" not in written:
                written.add(cfg_hex + ".json")
                _tar_add_bytes(tf, cfg_hex + ".json", img.config.data)
            manifest.append({"Config": cfg_hex + ".json", "RepoTags": list(repo_tags), "Layers": layer_names})
            for tag in repo_tags:
                repo, _unused, t = tag.rpartition(":")
                repos.setdefault(repo, {})[t] = v1ids[-1] if v1ids else ""
        _tar_add_bytes(tf, "manifest.json", canonical(manifest))
        _tar_add_bytes(tf, "repositories", canonical(repos))
    return path


# -- hostile layers ----------------------------------------------------------------------------
def _truncated_gzip() -> bytes:
    data = gz(tar_from_entries([E("bin/a", data=os.urandom(300000))]))
    return data[: len(data) // 2]


#: name -> (tar bytes, the canary path relative to the unpack root's parent that must not appear)
HOSTILE_LAYERS: Dict[str, Callable[[], bytes]] = {
    "dotdot": lambda: tar_from_entries([E("ok"), E("../escape-dotdot", data=b"pwned")]),
    "dotdot-deep": lambda: tar_from_entries([E("a/b/../../../escape-deep", data=b"pwned")]),
    "symlink-parent": lambda: tar_from_entries([E("a", "symlink", target="/etc"), E("a/passwd", data=b"pwned")]),
    "symlink-parent-relative": lambda: tar_from_entries([E("a", "symlink", target=".."),
                                                         E("a/escape-rel", data=b"pwned")]),
    "symlink-chain": lambda: tar_from_entries([E("l1", "symlink", target="l2"), E("l2", "symlink", target="../.."),
                                               E("l1/escape-chain", data=b"pwned")]),
    "symlink-dir-replaced": lambda: tar_from_entries([E("d", "dir"), E("d", "symlink", target=".."),
                                                      E("d/escape-replaced", data=b"pwned")]),
    "hardlink-escape": lambda: tar_from_entries([E("passwd", "hardlink", target="../../etc/passwd")]),
    "hardlink-absolute-missing": lambda: tar_from_entries([E("passwd", "hardlink", target="/etc/passwd")]),
    "hardlink-through-symlink": lambda: tar_from_entries([E("s", "symlink", target="/etc"),
                                                          E("passwd", "hardlink", target="s/passwd")]),
    "hardlink-before-target": lambda: tar_from_entries([E("x", "hardlink", target="y"), E("y", data=b"y")]),
    "whiteout-dotdot": lambda: tar_from_entries([E("a/.wh...", data=b"")]),
    "root-replaced": lambda: tar_from_entries([E(".", "symlink", target="/")]),
    "huge-declared-size": lambda: tar_with_declared_size("big", 1 << 50),
}

#: layers that are not refused but must stay inside the root
CONTAINED_LAYERS: Dict[str, Callable[[], bytes]] = {
    "absolute": lambda: tar_from_entries([E("/abs/x", data=b"inside")]),
    "devices": lambda: tar_from_entries([E("dev", "dir"), E("dev/null", "char", dev=(1, 3), mode=0o666),
                                         E("dev/sda", "block", dev=(8, 0), mode=0o600),
                                         E("dev/pipe", "fifo", mode=0o600)]),
    "symlink-anywhere": lambda: tar_from_entries([E("etc-link", "symlink", target="/etc"),
                                                  E("up", "symlink", target="../../../..")]),
}


def truncated_gzip_layer() -> bytes:
    return _truncated_gzip()


# -- registry ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RegistryServer:
    """``docker-registry serve`` (distribution 2.8) on 127.0.0.1, storage in ``workdir``, no auth.

    ``tls``: (certificate, key) files to serve https; ``htpasswd``: an htpasswd file (bcrypt lines)
    for basic auth; ``storage``: another storage directory (two servers may share one: push to
    a plain one, serve it from a TLS one)."""

    def __init__(self, workdir: str, *, tls: Optional[Tuple[str, str]] = None, htpasswd: Optional[str] = None,
                 storage: Optional[str] = None):
        self.workdir = workdir
        self.port = free_port()
        self.host = "127.0.0.1:%d" % self.port
        self.url = ("https://" if tls else "http://") + self.host
        self.tls = tls
        self.htpasswd = htpasswd
        self.storage = storage or os.path.join(workdir, "data")
        self.proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 15.0) -> RegistryServer:
        os.makedirs(self.workdir, exist_ok=True)
        cfg = os.path.join(self.workdir, "config.yml")
        tls = ", tls: {certificate: %s, key: %s}" % self.tls if self.tls else ""
        auth = "auth: {htpasswd: {realm: test, path: %s}}\n" % self.htpasswd if self.htpasswd else ""
        with open(cfg, "w") as f:
            f.write("version: 0.1\n"
                    "log: {level: error, accesslog: {disabled: true}}\n"
                    "storage: {filesystem: {rootdirectory: %s}, delete: {enabled: true}}\n"
                    "http: {addr: '%s', secret: test-only-secret%s}\n%s"
                    % (self.storage, self.host, tls, auth))
        with open(os.path.join(self.workdir, "registry.log"), "wb") as log:
            # distribution reads REGISTRY_* variables as config overrides (REGISTRY_AUTH_FILE = auth.file)
            env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
            self.proc = subprocess.Popen([REGISTRY_BIN, "serve", cfg], stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env)
        ctx = ssl._create_unverified_context() if self.tls else None  # noqa: S323 - readiness probe only
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + "/v2/", timeout=1, context=ctx) as r:
                    if r.status == 200:
                        return self
            except urllib.error.HTTPError as e:
                if e.code == 401:
                    return self
                time.sleep(0.05)
            except (OSError, urllib.error.URLError):
                time.sleep(0.05)
        self.stop()
        with open(os.path.join(self.workdir, "registry.log"), "rb") as f:
            raise RuntimeError("docker-registry did not come up: %s" % f.read().decode(errors="replace"))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None


def _req(method: str, url: str, data: Optional[bytes] = None, headers: Optional[dict] = None,
         timeout: float = 30) -> Tuple[int, dict, bytes]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def push_blob(base: str, repo: str, blob: Blob, *, chunked: bool = False, chunk_size: int = 256 << 10) -> None:
    """Upload one blob (monolithic POST+PUT, or POST + PATCH chunks + PUT)."""
    status, _unused, _unused = _req("HEAD", "%s/v2/%s/blobs/%s" % (base, repo, blob.digest))
    if status == 200:
        return
    status, headers, body = _req("POST", "%s/v2/%s/blobs/uploads/" % (base, repo), b"")
    assert status == 202, (status, body)
    location = urllib.parse.urljoin(base + "/", headers["Location"])
    if chunked:
        for start in range(0, blob.size, chunk_size):
            chunk = blob.data[start:start + chunk_size]
            status, headers, body = _req("PATCH", location, chunk, {
                "Content-Type": "application/octet-stream",
                "Content-Range": "%d-%d" % (start, start + len(chunk) - 1)})
            assert status == 202, (status, body)
            location = urllib.parse.urljoin(base + "/", headers["Location"])
        data = b""
    else:
        data = blob.data
    sep = "&" if "?" in location else "?"
    status, _unused, body = _req("PUT", location + sep + "digest=" + urllib.parse.quote(blob.digest), data,
                                 {"Content-Type": "application/octet-stream"})
    assert status == 201, (status, body)


def push_manifest(base: str, repo: str, ref: str, blob: Blob) -> None:
    status, _unused, body = _req("PUT", "%s/v2/%s/manifests/%s" % (base, repo, ref), blob.data,
                                 {"Content-Type": blob.media_type})
    assert status == 201, (status, body)


def push_image(base: str, repo: str, tag: str, img: BuiltImage, *, chunked: bool = False) -> None:
    for b in [img.config, *img.layers]:
        push_blob(base, repo, b, chunked=chunked)
    push_manifest(base, repo, tag, img.manifest)


def push_index(base: str, repo: str, tag: str, images: Sequence[BuiltImage], *, fmt: str = "oci") -> Blob:
    """Push each image by digest, then an index / manifest list of them under ``tag``."""
    for img in images:
        for b in [img.config, *img.layers]:
            push_blob(base, repo, b)
        push_manifest(base, repo, img.manifest.digest, img.manifest)
    index = make_index([(img, None) for img in images], fmt=fmt)
    push_manifest(base, repo, tag, index)
    return index


# -- comparing trees ---------------------------------------------------------------------------
def tree_snapshot(root: str, *, mtimes: bool = False) -> Dict[str, tuple]:
    """rel path -> (type, mode, uid, gid, content sha / link target / rdev[, mtime]) via lstat."""
    out: Dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            mode = st_mod.S_IMODE(st.st_mode)
            if st_mod.S_ISLNK(st.st_mode):
                kind, extra = "l", os.readlink(path)
            elif st_mod.S_ISDIR(st.st_mode):
                kind, extra = "d", ""
            elif st_mod.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    kind, extra = "f", hashlib.sha256(f.read()).hexdigest()
            elif st_mod.S_ISCHR(st.st_mode) or st_mod.S_ISBLK(st.st_mode):
                kind, extra = "c" if st_mod.S_ISCHR(st.st_mode) else "b", str(st.st_rdev)
            else:
                kind, extra = "p", ""
            entry = (kind, mode, st.st_uid, st.st_gid, extra)
            if mtimes and kind != "l":
                entry += (int(st.st_mtime),)
            out[rel] = entry
    return out


def unmount_all_under(prefix: str) -> None:
    """Finalizer: lazily detach every mount below ``prefix`` (deepest first)."""
    for mp in mounts.mounts_under(prefix):
        mounts.umount_detach(mp)
