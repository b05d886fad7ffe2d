# SPDX-License-Identifier: GPL-3.0-or-later
"""Image references (``[host[:port]/]name[:tag][@digest]``, docker.io normalisation) and platforms
(``os/arch[/variant]``, the choice from a manifest list / OCI index)."""
from __future__ import annotations

import platform as _platform
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from ..base.errors import ImageError

DOCKER_IO = "docker.io"
DOCKER_IO_ENDPOINT = "registry-1.docker.io"

_REPO_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*\Z")
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}\Z")
_HOST_RE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
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
        if not _DIGEST_RE.fullmatch(digest):
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
