# SPDX-License-Identifier: GPL-3.0-or-later
"""Image references, media types, platforms and digests: what naming and looking up a stored image
needs, without the registry client (registry.py pulls in ssl, http.client and urllib, ~15 ms that a
task which only resolves a local name must not pay)."""
from __future__ import annotations

import hashlib
import json
import platform as _platform
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from ..base.errors import DigestMismatch, ImageError
from ..base.lazyre import lazy_compile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_V1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_V1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
ACCEPT = ", ".join((OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_LIST, DOCKER_V1_SIGNED, DOCKER_V1))
#: manifests and configs are small; anything bigger is refused (c/image uses 4 MiB too)
MAX_MANIFEST = 4 << 20
MAX_CONFIG = 4 << 20

DOCKER_IO = "docker.io"
DOCKER_IO_ENDPOINT = "registry-1.docker.io"

_REPO_RE = lazy_compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*\Z")
_TAG_RE = lazy_compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
DIGEST_RE = lazy_compile(r"^sha256:[0-9a-f]{64}\Z")
_HOST_RE = lazy_compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                        r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?\Z")


# -- references --------------------------------------------------------------------------------
@dataclass
class Reference:
    """A docker reference split into its parts; tag "latest" when neither tag nor digest."""

    registry: str
    repository: str
    tag: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        return "%s/%s" % (self.registry, self.repository)

    @property
    def ref(self) -> str:
        """What goes after /manifests/: the digest if there is one, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        s = self.name
        if self.tag:
            s += ":" + self.tag
        if self.digest:
            s += "@" + self.digest
        return s


def _looks_like_host(component: str) -> bool:
    return "." in component or ":" in component or component == "localhost"


def is_short_name(ref: str) -> bool:
    """True when ``ref`` names no registry (``busybox``, ``library/x:1``)."""
    first, sep, _unused = ref.partition("/")
    return not sep or not _looks_like_host(first)


def parse_reference(ref: str, default_registry: str = DOCKER_IO) -> Reference:
    """Parse ``[host[:port]/]name[:tag][@digest]``; short names get ``default_registry``."""
    s = ref
    if s.startswith("docker://"):
        s = s[len("docker://"):]
    digest = ""
    if "@" in s:
        s, digest = s.split("@", 1)
        if not DIGEST_RE.fullmatch(digest):
            raise ImageError("invalid digest %r in image reference %r" % (digest, ref),
                             hint="use name@sha256:<64 lowercase hex>")
    tag = ""
    slash = s.rfind("/")
    colon = s.rfind(":")
    if colon > slash:
        s, tag = s[:colon], s[colon + 1:]
        if not _TAG_RE.fullmatch(tag):
            raise ImageError("invalid tag %r in image reference %r" % (tag, ref),
                             hint="tags are up to 128 of [A-Za-z0-9_.-], not starting with . or -")
    first, sep, rest = s.partition("/")
    if sep and _looks_like_host(first):
        registry, repo = first, rest
        if not _HOST_RE.fullmatch(registry):
            raise ImageError("invalid registry %r in image reference %r" % (registry, ref))
    else:
        registry, repo = default_registry, s
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DOCKER_IO
    if registry == DOCKER_IO and "/" not in repo:
        repo = "library/" + repo
    if not repo or not _REPO_RE.fullmatch(repo):
        raise ImageError("invalid image name %r in reference %r" % (repo, ref),
                         hint="names are lowercase letters, digits and separators (. _ - /)")
    if not tag and not digest:
        tag = "latest"
    return Reference(registry=registry, repository=repo, tag=tag, digest=digest)


# -- platforms ---------------------------------------------------------------------------------
_ARCH = {
    "x86_64": ("amd64", ""), "amd64": ("amd64", ""), "aarch64": ("arm64", "v8"), "arm64": ("arm64", "v8"),
    "armv7l": ("arm", "v7"), "armv6l": ("arm", "v6"), "armv5tel": ("arm", "v5"), "i686": ("386", ""),
    "i386": ("386", ""), "ppc64le": ("ppc64le", ""), "s390x": ("s390x", ""), "riscv64": ("riscv64", ""),
    "mips64": ("mips64", ""), "loongarch64": ("loong64", ""),
}


def host_platform() -> Dict[str, str]:
    arch, variant = _ARCH.get(_platform.machine(), (_platform.machine(), ""))
    out = {"os": "linux", "architecture": arch}
    if variant:
        out["variant"] = variant
    return out


def parse_platform(spec: Optional[str]) -> Dict[str, str]:
    """``os/arch[/variant]`` (or None for the host) as a dict."""
    if not spec:
        return host_platform()
    parts = spec.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise ImageError("invalid platform %r" % spec, hint="use os/arch[/variant], e.g. linux/arm64")
    out = {"os": parts[0], "architecture": _ARCH.get(parts[1], (parts[1], ""))[0]}
    if len(parts) == 3:
        out["variant"] = parts[2]
    return out


def platform_str(p: Dict[str, Any]) -> str:
    s = "%s/%s" % (p.get("os", "?"), p.get("architecture", "?"))
    return s + ("/" + p["variant"] if p.get("variant") else "")


def select_platform(manifests: List[Dict[str, Any]], want: Dict[str, str], what: str) -> Dict[str, Any]:
    """Pick the descriptor for ``want`` from a manifest list / index (exact variant first)."""
    cands = [m for m in manifests if isinstance(m.get("platform"), dict)
             and m["platform"].get("os") == want["os"] and m["platform"].get("architecture") == want["architecture"]]
    variant = want.get("variant", "")
    exact = [m for m in cands if m["platform"].get("variant", "") == variant]
    if exact:
        return exact[0]
    loose = [m for m in cands if not m["platform"].get("variant") or not variant]
    if loose:
        return loose[0]
    have = ", ".join(platform_str(m.get("platform") or {}) for m in manifests) or "none"
    raise ImageError("%s has no image for platform %s (it has: %s)" % (what, platform_str(want), have),
                     hint="choose one of the listed platforms")


@dataclass
class Manifest:
    """A manifest as a registry or layout served it: the exact bytes, their media type and digest."""

    data: bytes
    media_type: str
    digest: str

    def json(self) -> Dict[str, Any]:
        try:
            doc = json.loads(self.data)
        except ValueError as e:
            raise ImageError("manifest %s is not valid JSON: %s" % (self.digest, e))
        if not isinstance(doc, dict):
            raise ImageError("manifest %s is not a JSON object" % self.digest)
        return doc

    @property
    def is_index(self) -> bool:
        if self.media_type in INDEX_TYPES:
            return True
        try:
            doc = json.loads(self.data)
        except ValueError:
            return False
        if not isinstance(doc, dict):
            return False
        return doc.get("mediaType") in INDEX_TYPES or ("manifests" in doc and "layers" not in doc)


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def verify_blob(data: bytes, digest: str, size: Optional[int], what: str) -> None:
    """DigestMismatch unless ``data`` has ``size`` bytes and hashes to ``digest``."""
    if size is not None and size >= 0 and len(data) != size:
        raise DigestMismatch("%s: got %d bytes, expected %d" % (what, len(data), size),
                             hint="the source is truncated or was changed; fetch it again")
    actual = sha256_digest(data)
    if actual != digest:
        raise DigestMismatch("%s: content hashes to %s, expected %s" % (what, actual, digest),
                             hint="the source is corrupt or was changed; fetch it again")
