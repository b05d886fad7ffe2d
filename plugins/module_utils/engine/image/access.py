# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a registry reference is pulled from: short names, blocked registries, mirrors, policy.

This is the engine's counterpart of c/image's SystemContext plus docker "pull sources":

* a short name becomes its candidates (shortnames.py); each is tried in order;
* for each candidate, the ``[[registry]]`` entry that matches it (registries_conf.py) may block
  it, rewrite its location and put mirrors in front (tried in order, the location last, with
  ``pull-from-mirror`` / ``mirror-by-digest-only`` honoured); ``insecure`` comes from there or
  from the task;
* the signature policy (policy.py) is checked against the candidate's own name, before any
  request.

The image keeps the candidate's name (``docker.io/library/nginx:latest``) whichever endpoint
served it. Every endpoint that failed is named in the final error.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any, Dict, List, Optional, Tuple

from ..base.errors import DigestMismatch, ImageError, RegistryError
from . import policy as policy_mod
from . import registries_conf, shortnames
from .auth import AuthArg
from .reference import Manifest, Reference, is_short_name, parse_reference
from .registry import RegistryClient


@dataclass
class Endpoint:
    """One place to fetch a candidate from (a mirror or the registry's location)."""

    ref: Reference  # the reference rewritten to this endpoint
    insecure: bool
    mirror: bool


class RegistryAccess:
    """registries.conf, aliases and the policy, read once per store (lazily: file transports
    never need them); ``cert_dir`` / ``tls_verify`` are per-call overrides."""

    def __init__(self, conf_files: Optional[List[str]] = None, policy_path: Optional[str] = None,
                 alias_path: Optional[str] = None, cert_dir: Optional[str] = None):
        #: a task's cert_dir (podman --cert-dir): its *.crt / *.cert+*.key for every registry it pulls from
        self.cert_dir = cert_dir
        self._conf_files = conf_files
        self._policy_path = policy_path
        self._alias_path = alias_path
        self._conf: Optional[registries_conf.RegistriesConf] = None
        self._policy: Optional[policy_mod.Policy] = None
        self._aliases: Optional[Dict[str, str]] = None

    @property
    def conf(self) -> registries_conf.RegistriesConf:
        if self._conf is None:
            self._conf = registries_conf.load(self._conf_files)
        return self._conf

    @property
    def policy(self) -> policy_mod.Policy:
        if self._policy is None:
            self._policy = policy_mod.load(self._policy_path)
        return self._policy

    def alias_file(self) -> str:
        return shortnames.alias_file() if self._alias_path is None else self._alias_path

    def candidates(self, name: str) -> Tuple[List[Reference], str]:
        """The references a plain or ``docker://`` name may be pulled as, and why."""
        if is_short_name(name) and not name.startswith("docker://"):
            if self._aliases is None:
                self._aliases = shortnames.load_alias_file(self.alias_file())
            res = shortnames.resolve(name, self.conf, self._aliases, self.alias_file())
            return [parse_reference(c) for c in res.candidates], res.origin
        return [parse_reference(name)], ""

    def endpoints(self, ref: Reference, insecure: bool = False) -> List[Endpoint]:
        """Mirrors then the location for ``ref``; RegistryError when its registry is blocked."""
        conf = self.conf
        name = "%s/%s" % (ref.registry, ref.repository)
        full = str(ref)
        entry = conf.find(full)
        if entry is None:
            return [Endpoint(ref, insecure, False)]
        if entry.blocked:
            raise RegistryError("registry %s is blocked in %s (prefix %s); %s is not pulled"
                                % (ref.registry, entry.source, entry.prefix, ref),
                                hint="remove blocked = true from that [[registry]] entry or use another registry")
        out = []
        by_digest = bool(ref.digest)
        for m in entry.mirrors:
            if (entry.mirror_by_digest_only or m.pull_from_mirror == "digest-only") and not by_digest:
                continue
            if m.pull_from_mirror == "tag-only" and by_digest:
                continue
            out.append(Endpoint(_rewrite(entry, name, ref, m.location), insecure or m.insecure, True))
        out.append(Endpoint(_rewrite(entry, name, ref, entry.location), insecure or entry.insecure, False))
        return out


def _rewrite(entry: registries_conf.RegistryEntry, name: str, ref: Reference, location: str) -> Reference:
    new = entry.rewrite(name, location)
    if new == name:
        return ref
    host, _unused, repo = new.partition("/")
    if not repo:
        raise RegistryError("registries.conf %s: location %s leaves no repository for %s"
                            % (entry.source, location, ref))
    return Reference(registry=host, repository=repo, tag=ref.tag, digest=ref.digest)


def _attempt_error(attempts: List[str], what: str, hint: str) -> RegistryError:
    return RegistryError("%s: %s" % (what, "; ".join(attempts)), hint=hint)


class RegistrySource:
    """The import pipeline's source for a registry pull (see store.py's ``_Source``): the first
    candidate / endpoint whose manifest can be read serves the whole image."""

    def __init__(self, name: str, access: RegistryAccess, *, insecure: bool, auth: AuthArg, timeout: float,
                 deadline: Optional[float] = None, cert_dir: Optional[str] = None):
        self.access = access
        self.candidates, self.origin = access.candidates(name)
        self.ref: Reference = self.candidates[0]
        self.what = "docker://%s" % self.ref
        self.insecure = insecure
        self.auth = auth
        self.timeout = timeout
        self.deadline = deadline
        self.cert_dir = cert_dir if cert_dir is not None else access.cert_dir
        self.client: Optional[RegistryClient] = None
        self.endpoint: Optional[Endpoint] = None
        self._top: Optional[Manifest] = None

    def _client(self, ep: Endpoint) -> RegistryClient:
        return RegistryClient(ep.ref.registry, insecure=ep.insecure, auth=self.auth, timeout=self.timeout,
                              deadline=self.deadline, repository=ep.ref.repository, cert_dir=self.cert_dir)

    def each_endpoint(self, fn: Any) -> Any:
        """``fn(client, endpoint)`` on the first endpoint (of the first candidate) where it works."""
        attempts: List[str] = []
        last: Optional[Exception] = None
        for cand in self.candidates:
            try:
                self.access.policy.check(cand)
                endpoints = self.access.endpoints(cand, self.insecure)
            except RegistryError as e:
                if len(self.candidates) == 1:
                    raise
                attempts.append("%s: %s" % (cand, e))
                last = e
                continue
            for ep in endpoints:
                client = self._client(ep)
                try:
                    out = fn(client, ep)
                except (RegistryError, DigestMismatch, ImageError) as e:
                    client.close()
                    attempts.append("%s%s: %s" % (ep.ref, " (mirror)" if ep.mirror else "", e))
                    last = e
                    continue
                self.ref, self.what = cand, "docker://%s" % cand
                return client, ep, out
        if len(attempts) == 1 and last is not None:
            raise last
        via = " (%s)" % self.origin if self.origin else ""
        raise _attempt_error(attempts, "%s could not be pulled from any source%s" % (self.what, via),
                             "the sources are tried in order; fix the first one that should have worked")

    # -- the _Source interface -----------------------------------------------------------------
    def top(self) -> Manifest:
        if self._top is None:
            self.client, self.endpoint, self._top = self.each_endpoint(
                lambda c, ep: c.get_manifest(ep.ref.repository, ep.ref.ref))
        return self._top

    def _connected(self) -> Tuple[RegistryClient, str]:
        """The client of the endpoint that answered ``top()``, and the repository there."""
        self.top()
        if self.client is None or self.endpoint is None:  # top() sets both or raises
            raise RegistryError("%s: no registry endpoint answered" % self.what)
        return self.client, self.endpoint.ref.repository

    def manifest(self, desc: Dict[str, Any]) -> Manifest:
        client, repo = self._connected()
        m = client.get_manifest(repo, desc["digest"])
        if len(m.data) != desc["size"]:
            raise DigestMismatch("%s: manifest %s has %d bytes, the list says %d"
                                 % (self.what, desc["digest"], len(m.data), desc["size"]))
        return m

    def config(self, desc: Dict[str, Any]) -> bytes:
        client, repo = self._connected()
        return client.get_blob(repo, desc["digest"], desc["size"])

    def open_blob(self, desc: Dict[str, Any]) -> IO[bytes]:
        client, repo = self._connected()
        return client.open_blob(repo, desc["digest"])

    def names(self) -> List[str]:
        if not self.ref.tag:
            return []  # pulled by digest only: no tag to name it by (as podman)
        return [str(Reference(self.ref.registry, self.ref.repository, self.ref.tag))]

    def head_digest(self) -> str:
        """The manifest (list) digest at the first source that answers (pull: newer)."""
        client, _unused, digest = self.each_endpoint(lambda c, ep: c.head_manifest(ep.ref.repository, ep.ref.ref))
        client.close()
        return digest

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
