# SPDX-License-Identifier: GPL-3.0-or-later
"""The image store: import/pull by containers/image transport, names, inspect, removal.

Transports (as containers/image spells them):

* ``oci:DIR[:REF]`` — an OCI layout directory; REF selects by the
  ``org.opencontainers.image.ref.name`` annotation.
* ``oci-archive:FILE[:REF]`` — the same layout as a tar (read in place, not extracted).
* ``docker-archive:FILE[:REF]`` — the legacy ``docker save`` tar; REF is a RepoTag or
  ``@N`` (the N-th image).
* ``docker://HOST[:PORT]/NAME[:TAG|@DIGEST]`` — a registry (see registry.py).
* a plain name is looked up locally first: ``x`` means ``x:latest``; a short name (no
  registry) matches ``localhost/x`` and ``docker.io/library/x``, then any single stored
  name ending in ``/x:tag``. When it is not there, a short name is pulled through
  registries.conf (aliases, unqualified-search-registries) and a fully qualified one with
  ``docker://``; access.py decides where from (mirrors, blocked registries, policy).

Storage (``<graph_root>``):

* ``blobs/sha256/<hex>``: manifests, configs and manifest lists, content-addressed.
  Each is verified, then written to a temp file, fsynced and renamed. Layer blobs are
  not kept, because they are unpacked straight from the source stream (c/storage
  does not keep them either).
* ``layers/<diffid-hex>/diff``: each layer is unpacked once (see layers.py) and
  recorded in the ``layers`` table.
* DB tables ``images`` (id = config digest hex, digest = manifest digest),
  ``image_names`` (a name points to one image and moves when a new image takes the
  tag). The ``images.source`` column holds JSON ``{"ref": ..., "digests": [...]}``:
  every manifest digest the image was seen under, including manifest-list digests,
  which are needed for ``--pull=newer``.

Every blob read from any source is checked for digest and size. A mismatch raises
DigestMismatch, and no blob, layer or DB row of that image is committed.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import posixpath
import re
import stat
import time
from dataclasses import asdict, dataclass, field
from typing import IO, TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Tuple

from ..base import faults
from ..base.errors import ImageError, ImageInUse, NoSuchImage, RegistryError
from ..base.lazyre import lazy_compile
from ..host.files import write_atomic

# the layer code (storage.layers) is imported by the methods that pull, import or remove: a lookup
# (every task) needs only the digest's file name (issue 20)
from ..storage.digest import hex_of
from .reference import (
    DOCKER_MANIFEST,
    INDEX_TYPES,
    MAX_CONFIG,
    MAX_MANIFEST,
    Manifest,
    is_short_name,
    parse_platform,
    parse_reference,
    select_platform,
    sha256_digest,
    verify_blob,
)

if TYPE_CHECKING:  # annotations only: the registry client and tarfile are imported where they are used
    import tarfile

    from .access import RegistryAccess, RegistrySource
    from .auth import AuthArg

PULL_POLICIES = ("missing", "always", "newer", "never")
FILE_TRANSPORTS = ("oci", "oci-archive", "docker-archive")
TRANSPORTS = (*FILE_TRANSPORTS, "docker")
UNSUPPORTED_TRANSPORTS = ("dir", "containers-storage", "docker-daemon", "ostree", "sif", "tarball")
LOCAL_REGISTRY = "localhost"
#: the engine's own pod infra image (infra.py builds it); no import or tag may take a name in it
INFRA_REPOSITORY = "localhost/libpod-engine-infra"
REF_NAME = "org.opencontainers.image.ref.name"
DOCKER_CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
#: seconds a whole pull from a registry may take (containers.conf [engine] image_pull_timeout)
DEFAULT_PULL_TIMEOUT = 1200.0
#: stale unpack/trash dirs older than this are removed by prune_layers
STALE_TMP_SECONDS = 6 * 3600
#: what archive files held when last read, kept across tasks (in the graph root): see _peek_archive
PEEK_MEMO = "archive-peeks.json"
PEEK_MEMO_ENTRIES = 16

_ID_RE = lazy_compile(r"^(?:sha256:)?([0-9a-f]{64})\Z")
_PREFIX_RE = lazy_compile(r"^(?:sha256:)?([0-9a-f]{3,63})\Z")


@dataclass
class Image:
    """One stored image (a row of ``images`` plus its names)."""

    id: str  # config digest hex (64)
    digest: str  # manifest digest "sha256:..."
    names: List[str]
    config: Dict[str, Any]  # full OCI image config JSON
    manifest: Dict[str, Any]
    layers: List[str]  # diff_id hex, base first
    size: int  # uncompressed bytes of all layers
    created: float  # when stored locally (epoch seconds)
    source: str  # the reference it was pulled/imported from
    digests: List[str] = field(default_factory=list)  # every manifest (list) digest seen

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def dangling(self) -> bool:
        return not self.names

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def check_file_policy(transport: str, path: str) -> None:
    """RegistryError unless the signature policy accepts importing ``path`` through ``transport``."""
    from . import policy  # noqa: PLC0415 - file imports only; a no-op task never reads policy.json

    policy.load().check_file(transport, path)


@dataclass
class SourceRef:
    """A reference split into transport and parts (transport "" = local name)."""

    transport: str
    path: str = ""
    ref: str = ""
    original: str = ""

    def __str__(self) -> str:
        return self.original


def parse_image_ref(ref: str) -> SourceRef:
    """Split ``transport:...`` references; anything else is a plain name."""
    if not isinstance(ref, str) or not ref.strip():
        raise ImageError("empty image reference", hint="name an image, e.g. oci-archive:/path/img.tar or "
                                                       "docker://registry.example.com/app:1")
    ref = ref.strip()
    if ref.startswith("docker://"):
        return SourceRef("docker", ref=ref[len("docker://"):], original=ref)
    for t in FILE_TRANSPORTS:
        if ref.startswith(t + ":"):
            rest = ref[len(t) + 1:]
            path, _unused, sub = rest.partition(":")
            if not path:
                raise ImageError("image reference %r has no path" % ref, hint="use %s:PATH[:REF]" % t)
            return SourceRef(t, path=os.path.abspath(path), ref=sub, original=ref)
    prefix = ref.split(":", 1)[0]
    if ":" in ref and prefix in UNSUPPORTED_TRANSPORTS:
        raise ImageError("transport %s: (in image reference %r) is not supported" % (prefix, ref),
                         hint="supported: oci:, oci-archive:, docker-archive:, docker://, or a plain name")
    return SourceRef("", ref=ref, original=ref)


def normalize_name(name: str) -> str:
    """The stored form of an image name: ``localhost/x:latest`` for ``x`` (libimage)."""
    return str(parse_reference(name, default_registry=LOCAL_REGISTRY))


def refuse_reserved(names: List[str], what: str) -> None:
    """ImageError if a name is in the infra image's repository: only the engine's build may use it,
    else any archive naming itself so would become the infra container of every new pod."""
    for name in names:
        try:
            repo = parse_reference(name, default_registry=LOCAL_REGISTRY).name
        except ImageError:
            continue
        if repo == INFRA_REPOSITORY:
            raise ImageError("%s: the image name %s is reserved for the engine's pod infra image; refused"
                             % (what, name),
                             hint="import the image under another name (oci-archive:PATH:OTHER-NAME picks one, "
                                  "or retag it before saving); give pods another infra image with infra_image")


# -- sources -----------------------------------------------------------------------------------
def _descriptor(d: Any, what: str) -> Dict[str, Any]:
    if not isinstance(d, dict) or not isinstance(d.get("digest"), str) or not isinstance(d.get("size"), int):
        raise ImageError("%s: malformed descriptor %r" % (what, d), hint="the image metadata is corrupt")
    hex_of(d["digest"])
    return d


class _Source:
    """What a transport provides to the import pipeline (all reads verified)."""

    what = ""

    def top(self) -> Manifest:
        raise NotImplementedError

    def manifest(self, desc: Dict[str, Any]) -> Manifest:
        raise NotImplementedError

    def config(self, desc: Dict[str, Any]) -> bytes:
        raise NotImplementedError

    def open_blob(self, desc: Dict[str, Any]) -> IO[bytes]:
        raise NotImplementedError

    def names(self) -> List[str]:
        return []

    def close(self) -> None:
        pass


class _DirFiles:
    def __init__(self, root: str, what: str):
        self.root = root
        self.what = what
        if not os.path.isdir(root):
            raise ImageError("%s: %s is not a directory" % (what, root), hint="give the path of an OCI layout dir")

    def open(self, name: str) -> IO[bytes]:
        path = os.path.join(self.root, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            raise ImageError("%s: %s is missing from %s" % (self.what, name, self.root),
                             hint="the OCI layout is incomplete")
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a fifo or device would block or never end
            os.close(fd)
            raise ImageError("%s: %s in %s is not a regular file" % (self.what, name, self.root))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")

    def close(self) -> None:
        pass


class _TarFiles:
    """Members of a tar read in place (plain or compressed); symlinks resolved inside it."""

    def __init__(self, path: str, what: str):
        self.path = path
        self.what = what
        import tarfile  # noqa: PLC0415 - only archive transports read tars (a no-op task must not load it)

        self.raw = _open_regular(path, what)
        try:
            self.tf = tarfile.open(fileobj=self.raw, mode="r:*")  # noqa: SIM115 (kept open; closed by close())
            self.members = {}
            for m in self.tf.getmembers():
                key = posixpath.normpath(m.name.lstrip("/"))
                self.members[key] = m
        except (tarfile.TarError, EOFError, OSError) as e:
            self.raw.close()
            raise ImageError("%s: %s is truncated or not a tar archive: %s" % (what, path, e),
                             hint="create the archive again")

    def member(self, name: str) -> tarfile.TarInfo:
        key = posixpath.normpath(name.lstrip("/"))
        for _i in range(16):
            m = self.members.get(key)
            if m is None:
                raise ImageError("%s: %s is missing from archive %s" % (self.what, name, self.path),
                                 hint="the archive is incomplete or not of this format")
            if m.issym():
                key = posixpath.normpath(posixpath.join(posixpath.dirname(key), m.linkname))
            elif m.islnk():
                key = posixpath.normpath(m.linkname.lstrip("/"))
            else:
                return m
        raise ImageError("%s: %s in archive %s is a symlink loop" % (self.what, name, self.path))

    def open(self, name: str) -> IO[bytes]:
        f = self.tf.extractfile(self.member(name))
        if f is None:
            raise ImageError("%s: %s in archive %s is not a file" % (self.what, name, self.path))
        return _GuardedReader(f, self)

    def close(self) -> None:
        self.tf.close()
        self.raw.close()


def _open_regular(path: str, what: str) -> IO[bytes]:
    """Open an archive that must be a regular file: a device (/dev/zero) never ends, a FIFO blocks.

    O_NONBLOCK keeps the open itself from waiting for a FIFO's writer; the type is checked on
    the open descriptor, so a rename between check and read cannot swap the file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except FileNotFoundError:
        raise ImageError("%s: %s does not exist" % (what, path), hint="check the archive path")
    except OSError as e:
        raise ImageError("%s: cannot open %s: %s" % (what, path, e.strerror), hint="check the archive path")
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = _FILE_KINDS.get(stat.S_IFMT(mode), "not a file")
        raise ImageError("%s: %s is not a regular file (%s)" % (what, path, kind),
                         hint="archive transports read regular files only; give the path of an image archive")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


_FILE_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
               stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket"}


class _GuardedReader:
    """Turns a truncated-archive read error into a clear ImageError."""

    def __init__(self, f: IO[bytes], files: _TarFiles):
        self.f = f
        self.files = files

    def read(self, n: int = -1) -> bytes:
        import tarfile  # noqa: PLC0415 - already loaded by _TarFiles (see there)

        try:
            return self.f.read(n)
        except (tarfile.TarError, EOFError) as e:
            raise ImageError("%s: archive %s is truncated: %s" % (self.files.what, self.files.path, e),
                             hint="create the archive again")

    def close(self) -> None:
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _read_limited(f: IO[bytes], limit: int, what: str) -> bytes:
    with contextlib.closing(f):
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ImageError("%s is larger than %d bytes; refused" % (what, limit))
    return data


def _norm_names(names: List[str], what: str) -> List[str]:
    out = []
    for n in names:
        try:
            out.append(normalize_name(n))
        except ImageError as e:
            raise ImageError("%s: cannot use %r as an image name: %s" % (what, n, e.msg))
    return out


class _OCILayoutSource(_Source):
    def __init__(self, sref: SourceRef, archive: bool):
        self.sref = sref
        self.what = sref.original
        self.files = _TarFiles(sref.path, self.what) if archive else _DirFiles(sref.path, self.what)
        self._names: List[str] = []
        self.want: Dict[str, str] = parse_platform(None)

    def _blob(self, desc: Dict[str, Any], limit: Optional[int] = None) -> bytes:
        f = self.files.open("blobs/sha256/" + hex_of(desc["digest"]))
        data = _read_limited(f, limit or MAX_MANIFEST, "%s: blob %s" % (self.what, desc["digest"]))
        verify_blob(data, desc["digest"], desc["size"], "%s: blob %s" % (self.what, desc["digest"]))
        return data

    def top(self) -> Manifest:
        layout = _read_limited(self.files.open("oci-layout"), 4096, self.what + ": oci-layout")
        try:
            version = json.loads(layout).get("imageLayoutVersion")
        except (ValueError, AttributeError):
            version = None
        if not version:
            raise ImageError("%s: oci-layout file is not valid" % self.what, hint="this is not an OCI layout")
        try:
            index = json.loads(_read_limited(self.files.open("index.json"), MAX_MANIFEST, self.what))
            manifests = [_descriptor(d, self.what) for d in index.get("manifests") or []]
        except (ValueError, AttributeError):
            raise ImageError("%s: index.json is not valid JSON" % self.what, hint="the OCI layout is corrupt")
        if not manifests:
            raise ImageError("%s: the layout holds no image" % self.what)
        ref = self.sref.ref
        if ref:
            chosen = [d for d in manifests if (d.get("annotations") or {}).get(REF_NAME) == ref]
            if not chosen:
                try:
                    want = normalize_name(ref)
                    chosen = [d for d in manifests if _safe_norm((d.get("annotations") or {}).get(REF_NAME)) == want]
                except ImageError:
                    chosen = []
            if not chosen:
                have = sorted({(d.get("annotations") or {}).get(REF_NAME, "") for d in manifests} - {""})
                raise NoSuchImage("%s: no image named %r in the layout (it has: %s)"
                                  % (self.what, ref, ", ".join(have) or "no named images"),
                                  hint="use one of the listed names, or omit it when there is one image")
        else:
            chosen = manifests
        if len(chosen) > 1:
            if all(isinstance(d.get("platform"), dict) for d in chosen):
                chosen = [select_platform(chosen, self.want, self.what)]
            else:
                raise ImageError("%s: the layout holds %d images" % (self.what, len(chosen)),
                                 hint="name one: %s:PATH:REF" % self.sref.transport)
        desc = chosen[0]
        ann = (desc.get("annotations") or {}).get(REF_NAME, "")
        if ref:
            self._names = _norm_names([ref], self.what)
        elif ann:
            self._names = _norm_names([ann], self.what)
        return self.manifest(desc)

    def manifest(self, desc: Dict[str, Any]) -> Manifest:
        data = self._blob(desc)
        mt = desc.get("mediaType") or ""
        return Manifest(data=data, media_type=mt, digest=desc["digest"])

    def config(self, desc: Dict[str, Any]) -> bytes:
        return self._blob(desc, MAX_CONFIG)

    def open_blob(self, desc: Dict[str, Any]) -> IO[bytes]:
        return self.files.open("blobs/sha256/" + hex_of(desc["digest"]))

    def names(self) -> List[str]:
        return self._names

    def close(self) -> None:
        self.files.close()


def _docker_norm(name: Optional[str]) -> str:
    """A RepoTag as docker means it (short names are docker.io); "" if unusable."""
    if not name:
        return ""
    try:
        return str(parse_reference(name))
    except ImageError:
        return ""


def _same_tag(ref: str, tag: Any) -> bool:
    """Whether a user's REF names this RepoTag (read as docker or as podman wrote it)."""
    if not isinstance(tag, str):
        return False
    mine = {_safe_norm(ref), _docker_norm(ref)} - {""}
    return bool(mine & ({_safe_norm(tag), _docker_norm(tag)} - {""}))


def _safe_norm(name: Optional[str]) -> str:
    if not name:
        return ""
    try:
        return normalize_name(name)
    except ImageError:
        return ""


class _DockerArchiveSource(_Source):
    """docker save layout: manifest.json + config + layer tars; a schema2 manifest is built."""

    def __init__(self, sref: SourceRef):
        self.sref = sref
        self.what = sref.original
        self.files = _TarFiles(sref.path, self.what)
        self._names: List[str] = []
        self._blobs: Dict[str, str] = {}  # digest -> member path
        self._config: bytes = b""

    def top(self) -> Manifest:
        from ..storage.layers import detect_compression  # noqa: PLC0415 - see hex_of's import

        try:
            entries = json.loads(_read_limited(self.files.open("manifest.json"), MAX_MANIFEST, self.what))
        except ValueError:
            raise ImageError("%s: manifest.json is not valid JSON" % self.what, hint="the archive is corrupt")
        if not isinstance(entries, list) or not entries:
            raise ImageError("%s: manifest.json lists no image" % self.what)
        ref = self.sref.ref
        if ref.startswith("@"):
            try:
                entry = entries[int(ref[1:])]
            except (ValueError, IndexError):
                raise NoSuchImage("%s: no image number %s (the archive has %d)" % (self.what, ref[1:], len(entries)),
                                  hint="images are numbered from @0")
        elif ref:
            found = [e for e in entries if any(_same_tag(ref, t) for t in e.get("RepoTags") or [])]
            if not found:
                have = sorted({t for e in entries for t in e.get("RepoTags") or []})
                raise NoSuchImage("%s: no image tagged %r in the archive (it has: %s)"
                                  % (self.what, ref, ", ".join(have) or "no tags"),
                                  hint="use one of the listed tags or @N")
            entry = found[0]
        elif len(entries) == 1:
            entry = entries[0]
        else:
            raise ImageError("%s: the archive holds %d images" % (self.what, len(entries)),
                             hint="name one: docker-archive:PATH:TAG or docker-archive:PATH:@N")
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str):
            raise ImageError("%s: manifest.json entry has no Config" % self.what)
        tags = [t for t in entry.get("RepoTags") or [] if isinstance(t, str)]
        if ref and not ref.startswith("@"):
            tags = [t for t in tags if _same_tag(ref, t)]
        # RepoTags written by docker are short names meaning docker.io (podman writes full names)
        self._names = [_docker_norm(t) for t in tags if _docker_norm(t)]
        self._config = _read_limited(self.files.open(entry["Config"]), MAX_CONFIG, self.what + ": config")
        try:
            diff_ids = json.loads(self._config)["rootfs"]["diff_ids"]
        except (ValueError, KeyError, TypeError):
            raise ImageError("%s: config %s has no rootfs.diff_ids" % (self.what, entry["Config"]))
        layer_paths = entry.get("Layers") or []
        if not isinstance(diff_ids, list) or len(diff_ids) != len(layer_paths):
            raise ImageError("%s: %d layers in manifest.json but %d diff_ids in the config"
                             % (self.what, len(layer_paths), len(diff_ids) if isinstance(diff_ids, list) else 0))
        cdigest = sha256_digest(self._config)
        self._blobs[cdigest] = entry["Config"]
        layers = []
        for path, diff_id in zip(layer_paths, diff_ids):
            member = self.files.member(path)
            with self.files.open(path) as f:
                comp = detect_compression(f.read(6))
            if comp == "none":
                digest = diff_id  # an uncompressed layer's digest is its diff_id (checked when unpacked)
                mtype = DOCKER_LAYER_TAR
            else:
                digest = self._hash_member(path)
                mtype = DOCKER_LAYER_GZIP if comp == "gzip" else "application/octet-stream+" + comp
            hex_of(digest)
            self._blobs[digest] = path
            layers.append({"mediaType": mtype, "size": member.size, "digest": digest})
        doc = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
               "config": {"mediaType": DOCKER_CONFIG_TYPE, "size": len(self._config), "digest": cdigest},
               "layers": layers}
        data = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        return Manifest(data=data, media_type=DOCKER_MANIFEST, digest=sha256_digest(data))

    def _hash_member(self, path: str) -> str:
        h = hashlib.sha256()
        with self.files.open(path) as f:
            for chunk in iter(lambda: f.read(1 << 16), b""):
                h.update(chunk)
        return "sha256:" + h.hexdigest()

    def manifest(self, desc: Dict[str, Any]) -> Manifest:
        raise ImageError("%s: a docker archive has no manifest lists" % self.what)

    def config(self, desc: Dict[str, Any]) -> bytes:
        verify_blob(self._config, desc["digest"], desc["size"], "%s: config" % self.what)
        return self._config

    def open_blob(self, desc: Dict[str, Any]) -> IO[bytes]:
        path = self._blobs.get(desc["digest"])
        if path is None:
            raise ImageError("%s: no blob %s in the archive" % (self.what, desc["digest"]))
        return self.files.open(path)

    def names(self) -> List[str]:
        return self._names

    def close(self) -> None:
        self.files.close()


@dataclass
class _Resolved:
    """An image located in a source: manifest, config, and the list it came through."""

    top: Manifest
    manifest: Manifest
    manifest_doc: Dict[str, Any]
    config_desc: Dict[str, Any]
    config_bytes: bytes
    config: Dict[str, Any]
    layers: List[Tuple[Dict[str, Any], str]]  # (descriptor, diff_id)
    lists: List[Manifest]

    @property
    def image_id(self) -> str:
        return hex_of(self.config_desc["digest"])

    @property
    def digests(self) -> List[str]:
        return [self.manifest.digest] + [m.digest for m in self.lists]


# -- the store ---------------------------------------------------------------------------------
_COLS = "id, digest, manifest, config, layers, size, source, created"


class ImageStore:
    """Images in the state DB plus their blobs and unpacked layers under ``graph_root``."""

    def __init__(self, state: Any, graph_root: str, *, registry_timeout: float = 30.0,
                 pull_timeout: Optional[float] = DEFAULT_PULL_TIMEOUT, access: Optional[RegistryAccess] = None,
                 read_only: bool = False):
        """``registry_timeout``: seconds per connect/read; ``pull_timeout``: seconds for a whole pull
        from a registry (containers.conf ``[engine] image_pull_timeout``), None = unlimited;
        ``access``: registries.conf, aliases and policy (access.py; default: the host's files);
        ``read_only``: a check-mode runtime's store, which writes nothing (not even PEEK_MEMO)."""
        self._access = access
        self.read_only = read_only
        self.state = state
        self.graph_root = os.path.abspath(graph_root)
        self.blobs_dir = os.path.join(self.graph_root, "blobs", "sha256")
        self.layers_dir = os.path.join(self.graph_root, "layers")
        self.registry_timeout = registry_timeout
        self.pull_timeout = pull_timeout
        # resolve() results while the DB is unchanged (a 500-container stack resolved the same
        # reference ~3 times per container, each decoding the image's JSON: issue 20)
        self._memo: Dict[Tuple[Any, ...], Optional[Image]] = {}
        self._memo_mark: Any = None

    # -- sources -----------------------------------------------------------------------------
    def _plain_to_docker(self, sref: SourceRef) -> SourceRef:
        name = sref.ref
        if is_short_name(name):  # resolved through registries.conf by access.py
            return SourceRef("docker", ref=name, original=name)
        if name.split("/", 1)[0] == LOCAL_REGISTRY:
            raise NoSuchImage("%s names a local image (localhost/...) and is not in the store" % name,
                              hint="import it first, e.g. from oci-archive:PATH")
        return SourceRef("docker", ref=name, original="docker://" + name)

    @contextlib.contextmanager
    def _source(self, sref: SourceRef, insecure: bool, auth: AuthArg, platform: Optional[str]) -> Iterator[_Source]:
        if sref.transport == "":
            sref = self._plain_to_docker(sref)
        src: Any
        if sref.transport == "oci":
            src = _OCILayoutSource(sref, archive=False)
        elif sref.transport == "oci-archive":
            src = _OCILayoutSource(sref, archive=True)
        elif sref.transport == "docker-archive":
            src = _DockerArchiveSource(sref)
        else:
            src = self._registry_source(sref, insecure, auth)
        if isinstance(src, _OCILayoutSource):
            src.want = parse_platform(platform)
        try:
            yield src
        finally:
            src.close()

    @property
    def access(self) -> RegistryAccess:
        """registries.conf, aliases and policy, read on the first registry use."""
        if self._access is None:
            # deferred: access.py imports the registry client (ssl, http.client, urllib), which a task
            # that only resolves a local name must not pay for
            from .access import RegistryAccess  # noqa: PLC0415

            self._access = RegistryAccess()
        return self._access

    def _registry_source(self, sref: SourceRef, insecure: bool, auth: AuthArg) -> RegistrySource:
        """A plain short name (``original`` without ``docker://``) resolves through registries.conf;
        ``docker://name`` means docker.io as in podman."""
        name = sref.ref if sref.original.startswith("docker://") or not is_short_name(sref.ref) \
            else sref.original
        if sref.original.startswith("docker://") and is_short_name(name):
            name = str(parse_reference(name))
        from .access import RegistrySource  # noqa: PLC0415 - the registry client only when a registry is contacted

        return RegistrySource(name, self.access, insecure=insecure, auth=auth, timeout=self.registry_timeout,
                              deadline=self.pull_timeout)

    def _locate(self, src: _Source, platform: Optional[str]) -> _Resolved:
        """Follow lists to the platform's manifest, then read and check the config."""
        want = parse_platform(platform)
        top = man = src.top()
        lists: List[Manifest] = []
        while man.is_index:
            if len(lists) >= 3:
                raise ImageError("%s: manifest lists nested too deeply" % src.what)
            lists.append(man)
            doc = man.json()
            entries = [_descriptor(d, src.what) for d in doc.get("manifests") or []]
            man = src.manifest(select_platform(entries, want, src.what))
        doc = man.json()
        if doc.get("schemaVersion") == 1:
            raise ImageError("%s is a docker schema 1 image, which is not supported" % src.what,
                             hint="push the image again with a current client (schema 2 or OCI)")
        if man.media_type in INDEX_TYPES or not isinstance(doc.get("layers"), list):
            raise ImageError("%s: manifest %s has no layers list" % (src.what, man.digest))
        cdesc = _descriptor(doc.get("config"), src.what)
        layer_descs = [_descriptor(d, src.what) for d in doc["layers"]]
        cbytes = src.config(cdesc)
        try:
            man.data.decode("utf-8")
            cbytes.decode("utf-8")
        except UnicodeDecodeError:
            raise ImageError("%s: manifest or config is not UTF-8 JSON" % src.what, hint="the image is corrupt")
        try:
            config = json.loads(cbytes)
            diff_ids = config["rootfs"]["diff_ids"]
        except (ValueError, KeyError, TypeError):
            diff_ids = None
        if not isinstance(diff_ids, list):
            raise ImageError("%s: image config %s has no rootfs.diff_ids" % (src.what, cdesc["digest"]),
                             hint="the image config is corrupt")
        if len(diff_ids) != len(layer_descs):
            raise ImageError("%s: manifest lists %d layers but the config has %d diff_ids"
                             % (src.what, len(layer_descs), len(diff_ids)), hint="the image is corrupt")
        for d in diff_ids:
            hex_of(d)
        return _Resolved(top=top, manifest=man, manifest_doc=doc, config_desc=cdesc, config_bytes=cbytes,
                         config=config, layers=list(zip(layer_descs, diff_ids)), lists=lists)

    # -- blobs -------------------------------------------------------------------------------
    def blob_path(self, digest: str) -> str:
        return os.path.join(self.blobs_dir, hex_of(digest))

    def _write_blob(self, data: bytes, digest: str) -> None:
        """Content-addressed write: verify, temp file, fsync, rename."""
        verify_blob(data, digest, None, "blob %s" % digest)
        path = self.blob_path(digest)
        try:
            with open(path, "rb") as f:  # manifests and configs are small: check, repair if corrupt
                if sha256_digest(f.read(len(data) + 1)) == digest:
                    return
        except OSError:
            pass
        os.makedirs(self.blobs_dir, mode=0o700, exist_ok=True)
        write_atomic(path, data, mode=0o644, fsync=True, tmp_prefix=".tmp-%s-" % faults.owner_tag())

    def read_blob(self, digest: str) -> bytes:
        """A stored blob, verified again (NoSuchImage if it is gone)."""
        try:
            with open(self.blob_path(digest), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise NoSuchImage("blob %s is not in the store" % digest, hint="pull the image again")
        verify_blob(data, digest, None, "stored blob %s" % digest)
        return data

    # -- layers ------------------------------------------------------------------------------
    def layer_path(self, diff_id: str) -> str:
        return os.path.join(self.layers_dir, hex_of(diff_id), "diff")

    def _ensure_layer(self, src: _Source, desc: Dict[str, Any], diff_id: str) -> Optional[int]:
        """Unpack one layer unless present; returns its uncompressed size if unpacked now."""
        from ..storage.layers import install_layer  # noqa: PLC0415 - see hex_of's import

        if os.path.isdir(self.layer_path(diff_id)):
            return None
        f = src.open_blob(desc)
        try:
            _unused, stats = install_layer(f, self.layers_dir, diff_id, name="%s (%s)" % (desc["digest"], src.what),
                                           media_type=desc.get("mediaType", ""), expected_digest=desc["digest"],
                                           expected_size=desc["size"])
        finally:
            f.close()
        return stats.uncompressed_size if stats else None

    @staticmethod
    def _du(path: str) -> int:
        total = 0
        for dirpath, _unused, files in os.walk(path):
            for n in files:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(dirpath, n)).st_size
        return total

    # -- import ------------------------------------------------------------------------------
    def pull(self, ref: str, *, insecure: bool = False, auth: AuthArg = None,
             platform: Optional[str] = None, infra_build: bool = False, policy_checked: bool = False) -> Image:
        """Import/pull ``ref`` (any transport); returns the stored image with its layers unpacked.

        A short name, a ``localhost/`` name or an image ID has no registry to pull from:
        it returns the local image, or raises when there is none. Names in the infra image's
        repository are refused unless ``infra_build`` (infra.py's own build). File transports are
        checked against the signature policy here (registry pulls in access.py), except the
        engine's own layouts: the infra build and ``policy_checked`` (a rootfs import, checked
        as the ``tarball`` transport by importer.py).
        """
        sref = parse_image_ref(ref)
        if sref.transport in FILE_TRANSPORTS and not (infra_build or policy_checked):
            check_file_policy(sref.transport, sref.path)
        if sref.transport == "" and (is_short_name(ref) or ref.split("/", 1)[0] == LOCAL_REGISTRY
                                     or _PREFIX_RE.fullmatch(ref) or _ID_RE.fullmatch(ref)):
            local = self._lookup(ref)[0]
            if local is not None:
                return local
        with self._source(sref, insecure, auth, platform) as src, self._import_intent():
            res = self._locate(src, platform)
            if not infra_build:
                refuse_reserved(src.names(), src.what)
            for attempt in range(2):
                sizes: Dict[str, int] = {}
                for desc, diff_id in res.layers:
                    size = self._ensure_layer(src, desc, diff_id)
                    if size is not None:
                        sizes[hex_of(diff_id)] = size
                self._write_blob(res.config_bytes, res.config_desc["digest"])
                self._write_blob(res.manifest.data, res.manifest.digest)
                for lst in res.lists:
                    self._write_blob(lst.data, lst.digest)
                self._commit(res, src.names(), sref.original, sizes)
                missing = [d for _unused, d in res.layers if not os.path.isdir(self.layer_path(d))]
                if not missing:
                    break
                if attempt:  # pruned by another process twice in a row
                    raise ImageError("%s: layers %s vanished while importing" % (src.what, ", ".join(missing)),
                                     hint="do not prune layers while pulling; pull again")
        return self._by_id(res.image_id)

    @contextlib.contextmanager
    def _import_intent(self) -> Iterator[None]:
        """Journal the import (faults.py): a killed one leaves its partial layer and temp blobs, and the
        next open's repair removes them (remove_stale_temp). An import that fails with an exception
        removes its own, so the entry goes either way."""
        key_id = "import-%d" % os.getpid()
        faults.begin(self.state, "image", key_id, "import")
        try:
            yield
        finally:
            faults.end(self.state, "image", key_id)

    def remove_stale_temp(self) -> List[str]:
        """Remove the temp layer dirs, trash dirs and temp blobs of import processes that are gone."""
        from ..storage.layers import rmtree, stale_temp_names  # noqa: PLC0415 - see hex_of's import

        removed = []
        for d, what in ((self.layers_dir, "partial layer"), (self.blobs_dir, "partial blob"),
                        (os.path.join(self.graph_root, "tmp"), "partial infra image build")):
            try:
                names = os.listdir(d)
            except OSError:
                continue
            for name in stale_temp_names(names):
                with contextlib.suppress(OSError):
                    rmtree(os.path.join(d, name))
                    removed.append("%s %s" % (what, name))
        return removed

    def _commit(self, res: _Resolved, names: List[str], source: str, sizes: Dict[str, int]) -> None:
        now = time.time()
        layer_hex = [hex_of(d) for _unused, d in res.layers]
        with self.state.tx() as conn:
            for (desc, _unused), lid in zip(res.layers, layer_hex):
                size = sizes.get(lid)
                row = conn.execute("SELECT size FROM layers WHERE id=?", (lid,)).fetchone()
                if row is None:
                    if size is None:
                        size = self._du(self.layer_path(lid))
                    conn.execute("INSERT INTO layers(id, compressed_digest, size, created) VALUES(?,?,?,?)",
                                 (lid, desc["digest"], size, now))
            total = 0
            for lid in layer_hex:
                row = conn.execute("SELECT size FROM layers WHERE id=?", (lid,)).fetchone()
                total += row[0] if row else 0
            old = conn.execute("SELECT source FROM images WHERE id=?", (res.image_id,)).fetchone()
            digests = list(res.digests)
            if old is not None:
                digests += [d for d in _decode_source(old[0])[1] if d not in digests]
                conn.execute("UPDATE images SET digest=?, manifest=?, source=? WHERE id=?",
                             (res.manifest.digest, res.manifest.data.decode("utf-8"),
                              _encode_source(source, digests), res.image_id))
            else:
                conn.execute("INSERT INTO images(id, digest, manifest, config, layers, size, source, created) "
                             "VALUES(?,?,?,?,?,?,?,?)",
                             (res.image_id, res.manifest.digest, res.manifest.data.decode("utf-8"),
                              res.config_bytes.decode("utf-8"), json.dumps(layer_hex), total,
                              _encode_source(source, digests), now))
            for name in names:
                conn.execute("INSERT INTO image_names(name, image_id) VALUES(?,?) "
                             "ON CONFLICT(name) DO UPDATE SET image_id=excluded.image_id", (name, res.image_id))

    # -- lookups -----------------------------------------------------------------------------
    def _row_to_image(self, row: Any) -> Image:
        iid, digest, manifest, config, layers, size, source, created = row
        names = [r[0] for r in self.state.conn.execute(
            "SELECT name FROM image_names WHERE image_id=? ORDER BY name", (iid,)).fetchall()]
        src, digests = _decode_source(source)
        return Image(id=iid, digest=digest, names=names, config=json.loads(config), manifest=json.loads(manifest),
                     layers=json.loads(layers), size=size, created=created, source=src,
                     digests=digests or [digest])

    def _by_id(self, image_id: str) -> Image:
        row = self.state.conn.execute("SELECT %s FROM images WHERE id=?" % _COLS, (image_id,)).fetchone()
        if row is None:
            raise NoSuchImage("image %s is not in the store" % image_id[:12])
        return self._row_to_image(row)

    def _id_for_name(self, name: str) -> Optional[str]:
        row = self.state.conn.execute("SELECT image_id FROM image_names WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def _lookup(self, ref: str) -> Tuple[Optional[Image], Optional[str]]:
        """(image, the stored name it matched or None when matched by ID/digest)."""
        ref = ref.strip()
        if ref.startswith("docker://"):
            ref = ref[len("docker://"):]
        m = _ID_RE.fullmatch(ref)
        if m:
            row = self.state.conn.execute("SELECT %s FROM images WHERE id=?" % _COLS, (m.group(1),)).fetchone()
            if row:
                return self._row_to_image(row), None
            if ref.startswith("sha256:"):
                for img in self.list():
                    if ref in img.digests:
                        return img, None
                return None, None
        try:
            parsed = parse_reference(ref, default_registry=LOCAL_REGISTRY)
        except ImageError:
            parsed = None
        if parsed is not None and parsed.digest:
            for img in self.list():
                if parsed.digest in img.digests:
                    return img, None
        elif parsed is not None:
            candidates = [str(parsed)]
            if is_short_name(ref):
                repo = parsed.repository
                candidates.append("docker.io/%s:%s" % (repo if "/" in repo else "library/" + repo, parsed.tag))
            for cand in candidates:
                iid = self._id_for_name(cand)
                if iid:
                    return self._by_id(iid), cand
            if is_short_name(ref):
                suffix = "/%s:%s" % (parsed.repository, parsed.tag)
                rows = self.state.conn.execute(
                    "SELECT name, image_id FROM image_names WHERE substr(name, -?) = ?",
                    (len(suffix), suffix)).fetchall()
                ids = sorted({r[1] for r in rows})
                if len(ids) == 1:
                    return self._by_id(ids[0]), rows[0][0]
                if len(ids) > 1:
                    raise ImageError("short name %s matches several images: %s" % (ref, ", ".join(
                        sorted(r[0] for r in rows))), hint="use the full name")
        m = _PREFIX_RE.fullmatch(ref)
        if m:
            rows = self.state.conn.execute("SELECT %s FROM images WHERE id LIKE ? LIMIT 2" % _COLS,
                                           (m.group(1) + "%",)).fetchall()
            if len(rows) == 1:
                return self._row_to_image(rows[0]), None
            if len(rows) > 1:
                raise ImageError("image ID prefix %s is ambiguous" % ref, hint="give more characters of the ID")
        return None, None

    def _db_mark(self) -> Any:
        """Changes when anything was committed to the DB, by this connection (its change count)
        or by another one (``PRAGMA data_version``)."""
        conn = self.state.conn
        return (conn, conn.total_changes, conn.execute("PRAGMA data_version").fetchone()[0])

    def resolve(self, ref: str, *, platform: Optional[str] = None) -> Optional[Image]:
        """The local image for ``ref``, or None. No network access.

        Names, IDs, unique ID prefixes and digests are looked up in the DB. For a file
        transport, the image's ID is read from the file (manifest and config only), and
        the image counts as local only if it is stored and every name it would get
        points to it. Results are remembered until the DB (or the archive file) changes;
        callers must not modify the Image returned.
        """
        sref = parse_image_ref(ref)
        key: Tuple[Any, ...] = (ref, platform)
        if sref.transport in FILE_TRANSPORTS:
            # an archive is read again only when the file changed (a layout directory always)
            try:
                st = os.stat(sref.path) if sref.transport != "oci" else None
            except OSError:
                st = None
            if st is None or not stat.S_ISREG(st.st_mode):
                return self._resolve(sref, ref, platform)
            key += (os.path.abspath(sref.path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        mark = self._db_mark()
        if mark != self._memo_mark:
            self._memo, self._memo_mark = {}, mark
        if key not in self._memo:
            self._memo[key] = self._resolve(sref, ref, platform, file_key=key[2:])
        return self._memo[key]

    def _peek_archive(self, sref: SourceRef, platform: Optional[str],
                      file_key: Tuple[Any, ...]) -> Tuple[str, List[str]]:
        """(image ID, names) an archive file holds: read once per file content, then remembered
        across tasks in the graph root, keyed by the file's path, device, inode, size, mtime and
        ctime (any write or replacement changes the ctime, which only the kernel sets) and the
        platform. A no-op task on an ``oci-archive:`` image read the archive (and imported tarfile)
        every time: ~3 ms (issue 20)."""
        path = os.path.join(self.graph_root, PEEK_MEMO)
        name = json.dumps([*file_key, platform])
        try:
            with open(path, encoding="utf-8") as f:
                memo = json.load(f)
        except (OSError, ValueError):
            memo = {}
        hit = memo.get(name) if isinstance(memo, dict) else None
        if (isinstance(hit, list) and len(hit) == 2 and isinstance(hit[0], str)
                and isinstance(hit[1], list) and all(isinstance(n, str) for n in hit[1])):
            return hit[0], hit[1]
        iid, _unused, names = self._peek_file(sref, platform)
        try:
            st = os.stat(sref.path)
            unchanged = (os.path.abspath(sref.path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
                         st.st_ctime_ns) == file_key
            if unchanged and not self.read_only and os.path.isdir(self.graph_root):
                kept = {k: v for k, v in memo.items() if k != name} if isinstance(memo, dict) else {}
                kept = dict(list(kept.items())[-(PEEK_MEMO_ENTRIES - 1):])
                kept[name] = [iid, names]
                write_atomic(path, json.dumps(kept))
        except OSError:
            pass  # changed while read, or a read-only store: remembered in this process only
        return iid, names

    def _resolve(self, sref: SourceRef, ref: str, platform: Optional[str],
                 file_key: Optional[Tuple[Any, ...]] = None) -> Optional[Image]:
        if sref.transport in FILE_TRANSPORTS:
            if file_key:
                iid, names = self._peek_archive(sref, platform, file_key)
            else:
                iid, _unused, names = self._peek_file(sref, platform)
            row = self.state.conn.execute("SELECT %s FROM images WHERE id=?" % _COLS, (iid,)).fetchone()
            if row is None:
                return None
            if any(self._id_for_name(n) != iid for n in names):
                return None
            return self._row_to_image(row)
        if sref.transport == "docker":
            try:
                parsed = parse_reference(sref.ref)
            except ImageError:
                return None
            return self._lookup(str(parsed))[0]
        return self._lookup(ref)[0]

    def matched_name(self, ref: str) -> Optional[str]:
        """The stored name a plain or ``docker://`` reference resolves to now (``alpine`` ->
        ``docker.io/library/alpine:latest``); None for IDs, digests, file transports and misses."""
        try:
            sref = parse_image_ref(ref)
            if sref.transport in FILE_TRANSPORTS:
                return None
            if sref.transport == "docker":
                return self._lookup(str(parse_reference(sref.ref)))[1]
            return self._lookup(ref)[1]
        except ImageError:
            return None

    def get(self, ref: str) -> Image:
        """Like resolve(), but NoSuchImage (naming the reference) when absent."""
        img = self.resolve(ref)
        if img is None:
            raise NoSuchImage("image %s is not in the local store" % ref,
                              hint="pull or import it first (e.g. oci-archive:PATH or docker://REGISTRY/NAME:TAG)")
        return img

    def exists(self, ref: str) -> bool:
        return self.resolve(ref) is not None

    def list(self) -> List[Image]:
        rows = self.state.conn.execute("SELECT %s FROM images ORDER BY created, id" % _COLS).fetchall()
        return [self._row_to_image(r) for r in rows]

    def set_source(self, image_id: str, ref: str) -> None:
        """Record where an image came from (an import through a temporary layout names the user's file)."""
        with self.state.tx() as conn:
            row = conn.execute("SELECT source FROM images WHERE id=?", (image_id,)).fetchone()
            if row is not None:
                conn.execute("UPDATE images SET source=? WHERE id=?",
                             (_encode_source(ref, _decode_source(row[0])[1]), image_id))

    def peek(self, ref: str, platform: Optional[str] = None) -> Tuple[str, List[str]]:
        """(image ID, names) of the image a file transport reference holds, read without importing."""
        iid, _unused, names = self._peek_file(parse_image_ref(ref), platform)
        return iid, names

    # -- pull policy -------------------------------------------------------------------------
    def _peek_file(self, sref: SourceRef, platform: Optional[str]) -> Tuple[str, str, List[str]]:
        with self._source(sref, False, None, platform) as src:
            res = self._locate(src, platform)
            return res.image_id, res.top.digest, src.names()

    def remote_digest(self, ref: str, *, insecure: bool = False, auth: AuthArg = None) -> str:
        """The digest ``ref`` has at its source, without fetching layers.

        Registry: the manifest (or manifest list) digest from a HEAD request. oci:,
        oci-archive:: the digest in the index. docker-archive: the digest of the
        schema2 manifest built from manifest.json.
        """
        sref = parse_image_ref(ref)
        if sref.transport == "":
            sref = self._plain_to_docker(sref)
        if sref.transport in FILE_TRANSPORTS:
            with self._source(sref, False, None, None) as src:
                return src.top().digest
        src = self._registry_source(sref, insecure, auth)
        try:
            return src.head_digest()
        finally:
            src.close()

    def needs_pull(self, ref: str, policy: str = "missing", *, insecure: bool = False, auth: AuthArg = None,
                   platform: Optional[str] = None) -> bool:
        """podman's --pull: missing|always|newer|never. "never" never pulls (use get() to fail)."""
        if policy not in PULL_POLICIES:
            raise ImageError("unknown pull policy %r" % policy, hint="use one of: %s" % ", ".join(PULL_POLICIES))
        if policy == "always":
            return True
        if policy == "never":
            return False
        sref = parse_image_ref(ref)
        if sref.transport in FILE_TRANSPORTS:
            return self.resolve(ref, platform=platform) is None
        local = self.resolve(ref)
        if local is None:
            return True
        if policy == "missing":
            return False
        try:
            remote = self.remote_digest(ref, insecure=insecure, auth=auth)
        except (RegistryError, ImageError):
            return False  # as podman: cannot check, keep using the local image
        return remote not in local.digests

    # -- names -------------------------------------------------------------------------------
    def tag(self, ref: str, name: str) -> Image:
        """Point ``name`` at the image (moving it away from any other image)."""
        img = self.get(ref)
        norm = normalize_name(name)
        if "@" in norm:
            raise ImageError("cannot tag %s with digest reference %s" % (ref, name), hint="use name:tag")
        refuse_reserved([norm], "tag %s" % ref)
        with self.state.tx() as conn:
            conn.execute("INSERT INTO image_names(name, image_id) VALUES(?,?) "
                         "ON CONFLICT(name) DO UPDATE SET image_id=excluded.image_id", (norm, img.id))
        return self._by_id(img.id)

    def untag(self, name: str) -> str:
        """Remove one name (short names resolve as in get()); returns the ID it pointed to."""
        with self.state.tx() as conn:
            img, matched = self._lookup(name)
            if img is None or matched is None:
                raise NoSuchImage("no image is named %s" % name, hint="list images to see their names")
            conn.execute("DELETE FROM image_names WHERE name=?", (matched,))
        return img.id

    # -- removal -----------------------------------------------------------------------------
    def remove(self, ref: str, *, force: bool = False,
               in_use: Optional[Callable[[str], List[str]]] = None) -> List[str]:
        """podman rmi: untag only when ``ref`` is one of several names, else delete.

        Refuses (ImageInUse) while ``in_use(image_id)`` names containers, unless
        ``force``. In that case the layers are kept, because those containers may still
        have them mounted; prune_layers() removes them later. Returns the removed IDs.
        """
        img, matched = self._lookup(ref)
        if img is None:
            raise NoSuchImage("image %s is not in the local store" % ref, hint="nothing to remove")
        if matched and len(img.names) > 1 and not force:
            self.untag(matched)
            return []
        users = in_use(img.id) if in_use else []
        if users and not force:
            raise ImageInUse("image %s (%s) is in use by container(s) %s" % (
                img.short_id, ", ".join(img.names) or "<none>", ", ".join(u[:12] for u in users)),
                hint="remove the containers first, or use force")
        with self.state.tx() as conn:
            conn.execute("DELETE FROM images WHERE id=?", (img.id,))
            conn.execute("DELETE FROM image_names WHERE image_id=?", (img.id,))
            orphans = [] if users else self._orphan_layers(conn, img.layers)
            for lid in orphans:
                conn.execute("DELETE FROM layers WHERE id=?", (lid,))
        for lid in orphans:
            self._delete_layer_dir(lid)
        if not users:  # the ID-shifted copies of the image (user namespaces) go with it
            from ..storage.idmapped import MappedRoots  # noqa: PLC0415 - only on removal, not on a no-op

            MappedRoots(self.graph_root).remove_image(img.id)
        keep = self._referenced_blobs()
        for d in {img.digest, "sha256:" + img.id, *img.digests}:
            if d not in keep:
                with contextlib.suppress(OSError, ImageError):
                    os.unlink(self.blob_path(d))
        return [img.id]

    def _orphan_layers(self, conn: Any, candidates: List[str]) -> List[str]:
        used = set()
        for (layers,) in conn.execute("SELECT layers FROM images").fetchall():
            used.update(json.loads(layers))
        return [lid for lid in dict.fromkeys(candidates) if lid not in used]

    def _referenced_blobs(self) -> set:
        keep = set()
        for img in self.list():
            keep.update(img.digests)
            keep.add(img.digest)
            keep.add("sha256:" + img.id)
        return keep

    def _delete_layer_dir(self, lid: str) -> None:
        """Rename away first so nobody sees a half-deleted layer, then delete."""
        from ..storage.layers import rmtree  # noqa: PLC0415 - see hex_of's import

        path = os.path.join(self.layers_dir, lid)
        trash = os.path.join(self.layers_dir, ".trash-%s-%d-%d" % (lid[:12], os.getpid(), time.monotonic_ns()))
        try:
            os.rename(path, trash)
        except OSError as e:
            if e.errno == errno.ENOENT:
                return
            raise
        rmtree(trash)

    def prune_dangling(self, in_use: Optional[Callable[[str], List[str]]] = None) -> List[str]:
        """Remove images without names that no container uses; returns their IDs."""
        removed = []
        for img in self.list():
            if img.names or (in_use and in_use(img.id)):
                continue
            removed += self.remove(img.id, in_use=in_use)
        return removed

    def prune_layers(self, grace: float = 60.0) -> List[str]:
        """Delete layer dirs no image references (older than ``grace`` seconds: a
        concurrent pull may have unpacked one whose image row is not written yet), and
        stale temp/trash dirs. Returns the removed layer IDs."""
        from ..storage.layers import rmtree  # noqa: PLC0415 - see hex_of's import

        now = time.time()
        removed = []
        try:
            entries = os.listdir(self.layers_dir)
        except FileNotFoundError:
            return []
        with self.state.tx() as conn:
            used = set()
            for (layers,) in conn.execute("SELECT layers FROM images").fetchall():
                used.update(json.loads(layers))
            rows = {r[0]: r[1] for r in conn.execute("SELECT id, created FROM layers").fetchall()}
            doomed = []
            for name in entries:
                if not re.fullmatch(r"[0-9a-f]{64}", name) or name in used:
                    continue
                created = rows.get(name)
                if created is None:
                    with contextlib.suppress(OSError):
                        created = os.stat(os.path.join(self.layers_dir, name)).st_mtime
                if created is not None and now - created < grace:
                    continue
                doomed.append(name)
                conn.execute("DELETE FROM layers WHERE id=?", (name,))
            for lid, created in rows.items():
                if lid not in used and lid not in entries and now - created >= grace:
                    conn.execute("DELETE FROM layers WHERE id=?", (lid,))
        for name in doomed:
            self._delete_layer_dir(name)
            removed.append(name)
        for name in entries:
            if name.startswith((".tmp-", ".trash-")):
                path = os.path.join(self.layers_dir, name)
                with contextlib.suppress(OSError):
                    if name.startswith(".trash-") or now - os.stat(path).st_mtime > max(grace, STALE_TMP_SECONDS):
                        rmtree(path)
        return removed

    # -- views -------------------------------------------------------------------------------
    def view(self, image: Image):
        """The image's merged file tree, read from its layers without mounting (storage/layerview)."""
        from ..storage.layerview import LayerView  # noqa: PLC0415 - only for check-mode predictions

        return LayerView(self.layer_dirs(image))

    def layer_dirs(self, image: Image) -> List[str]:
        """The image's unpacked layer dirs, base first (the overlay lowers)."""
        out = []
        for lid in image.layers:
            path = os.path.join(self.layers_dir, lid, "diff")
            if not os.path.isdir(path):
                raise ImageError("layer %s of image %s (%s) is missing from %s"
                                 % (lid[:12], image.short_id, ", ".join(image.names) or "<none>", self.layers_dir),
                                 hint="pull the image again")
            out.append(path)
        return out

    @staticmethod
    def image_config(image: Image) -> Dict[str, Any]:
        """The ``config`` section (Env, Cmd, Entrypoint, WorkingDir, User, ...)."""
        cfg = image.config.get("config")
        return cfg if isinstance(cfg, dict) else {}

    def inspect(self, image: Image) -> Dict[str, Any]:
        """A podman-inspect-like view of an image."""
        repo_digests = []
        for n in image.names:
            repo = n.rsplit(":", 1)[0] if ":" in n.rsplit("/", 1)[-1] else n
            repo_digests += ["%s@%s" % (repo, d) for d in image.digests]
        cfg = self.image_config(image)
        return {
            "Id": image.id, "Digest": image.digest, "RepoTags": list(image.names),
            "RepoDigests": sorted(set(repo_digests)), "Created": image.config.get("created"),
            "Architecture": image.config.get("architecture"), "Os": image.config.get("os"),
            "Variant": image.config.get("variant"), "Config": cfg, "Labels": cfg.get("Labels") or {},
            "Size": image.size, "RootFS": {"Type": "layers", "Layers": ["sha256:" + lid for lid in image.layers]},
            "Source": image.source, "Dangling": image.dangling,
        }


def _encode_source(ref: str, digests: List[str]) -> str:
    return json.dumps({"ref": ref, "digests": digests}, sort_keys=True, separators=(",", ":"))


def _decode_source(text: str) -> Tuple[str, List[str]]:
    try:
        doc = json.loads(text)
        if isinstance(doc, dict):
            return str(doc.get("ref", "")), [d for d in doc.get("digests") or [] if isinstance(d, str)]
    except ValueError:
        pass
    return text or "", []
