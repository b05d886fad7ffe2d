# SPDX-License-Identifier: GPL-3.0-or-later
"""The signature policy (containers-policy.json(5)) for pulls and file imports.

File: ``$LIBPOD_ENGINE_POLICY`` when set (it must exist), else the engine's own
``/etc/libpod-engine/policy.json`` if present, else ``/etc/containers/policy.json`` if present,
else no policy: every image is accepted (what the distro's default policy.json says too).

Requirements: ``insecureAcceptAnything`` accepts, ``reject`` refuses. Signature checks
(``signedBy``, ``sigstoreSigned``, ``signedBaseLayer``) are refused with a clear "not supported"
error: the engine cannot verify signatures, and accepting an image the policy wants verified
would be worse. Scopes of the ``docker`` transport are matched as c/image does: the most
specific of ``host/repo:tag`` (or ``@digest``), ``host/repo``, each parent namespace, ``host``,
``*.domain`` wildcards, then the transport's ``""`` scope, then ``default``.

File transports are checked too, as containers/image does for ``podman load``/``pull oci:``:
``oci`` and ``oci-archive`` scopes are the resolved (symlink-free, absolute) path of the layout
or archive and each parent directory, most specific first; ``docker-archive`` and ``tarball``
(a plain rootfs import) have no scopes of their own, only the transport's ``""`` scope. So a
policy whose ``default`` is ``reject`` also refuses loading archives unless it names them.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ..base.errors import ConfigError, RegistryError
from .reference import Reference

ENV_VAR = "LIBPOD_ENGINE_POLICY"
ENGINE_POLICY = "/etc/libpod-engine/policy.json"
SYSTEM_POLICY = "/etc/containers/policy.json"
ACCEPT = "insecureAcceptAnything"
REJECT = "reject"
SIGNATURE_TYPES = ("signedBy", "sigstoreSigned", "signedBaseLayer")
_TYPES = (ACCEPT, REJECT) + SIGNATURE_TYPES
#: File transports whose scopes are paths (the image's path and its parent directories).
PATH_SCOPED = ("oci", "oci-archive", "dir")


@dataclass
class Policy:
    """A parsed policy.json (``path`` "" = none found: accept everything)."""

    default: List[Dict[str, Any]] = field(default_factory=lambda: [{"type": ACCEPT}])
    #: transport name -> scope -> requirements (``docker``, ``oci``, ``oci-archive``, ...)
    transports: Dict[str, Dict[str, List[Dict[str, Any]]]] = field(default_factory=dict)
    path: str = ""

    @property
    def docker(self) -> Dict[str, List[Dict[str, Any]]]:
        return self.transports.get("docker", {})

    def requirements(self, ref: Reference) -> tuple:
        """(scope, requirements) that apply to ``ref``."""
        name = ref.name
        scopes = [str(ref)] if (ref.tag or ref.digest) else []
        parts = name.split("/")
        scopes += ["/".join(parts[:n]) for n in range(len(parts), 0, -1)]
        host = parts[0].split(":", 1)[0]
        labels = host.split(".")
        scopes += ["*." + ".".join(labels[i:]) for i in range(1, len(labels))]
        for scope in scopes:
            if scope in self.docker:
                return scope, self.docker[scope]
        if "" in self.docker:
            return 'transports.docker.""', self.docker[""]
        return "default", self.default

    def file_requirements(self, transport: str, path: str) -> tuple:
        """(scope, requirements) for importing ``path`` through file ``transport``."""
        scopes = self.transports.get(transport)
        if scopes is None:
            return "default", self.default
        if transport in PATH_SCOPED:
            here = os.path.realpath(path)
            while here and here != "/":
                if here in scopes:
                    return "transports.%s.%s" % (transport, json.dumps(here)), scopes[here]
                here = os.path.dirname(here)
        if "" in scopes:
            return 'transports.%s.""' % transport, scopes[""]
        return "default", self.default

    def check(self, ref: Reference) -> None:
        """RegistryError unless the policy accepts pulling ``ref`` without verifying signatures."""
        scope, reqs = self.requirements(ref)
        self._enforce(reqs, "pulling %s" % ref, scope)

    def check_file(self, transport: str, path: str) -> None:
        """RegistryError unless the policy accepts importing ``path`` through ``transport`` unverified."""
        scope, reqs = self.file_requirements(transport, path)
        self._enforce(reqs, "importing %s:%s" % (transport, path), scope)

    def _enforce(self, reqs: List[Dict[str, Any]], what: str, scope: str) -> None:
        where = "signature policy %s (scope %s)" % (self.path, scope)
        for req in reqs:
            kind = req.get("type")
            if kind == REJECT:
                raise RegistryError("%s is rejected by the %s" % (what, where),
                                    hint="change the policy (an insecureAcceptAnything requirement for this scope) "
                                         "or use another image")
            if kind in SIGNATURE_TYPES:
                raise RegistryError("%s requires %s signature verification for %s, which libpod.engine does not "
                                    "support; refused rather than used unverified" % (where, kind, what),
                                    hint="use podman, or give this scope an insecureAcceptAnything "
                                         "requirement if unsigned images are acceptable")


def policy_file(env: Optional[Dict[str, str]] = None) -> str:
    """The policy file in use ("" = none)."""
    env = os.environ if env is None else env
    override = env.get(ENV_VAR)
    if override:
        if not os.path.isfile(override):
            raise ConfigError("%s=%s: no such file" % (ENV_VAR, override),
                              hint="point %s at an existing policy.json or unset it" % ENV_VAR)
        return override
    for path in (ENGINE_POLICY, SYSTEM_POLICY):
        if os.path.isfile(path):
            return path
    return ""


def _requirements(path: str, key: str, value: Any) -> List[Dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise ConfigError("policy %s: %s must be a non-empty list of requirements" % (path, key),
                          hint="see containers-policy.json(5)")
    for i, req in enumerate(value):
        if not isinstance(req, dict) or req.get("type") not in _TYPES:
            raise ConfigError("policy %s: %s[%d]: unknown requirement %r" % (path, key, i, req),
                              hint="known types: %s" % ", ".join(_TYPES))
    return value


def parse(path: str, text: str) -> Policy:
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise ConfigError("policy %s is not valid JSON: %s" % (path, e), hint="fix the file")
    if not isinstance(doc, dict) or "default" not in doc:
        raise ConfigError("policy %s: the key \"default\" is required" % path,
                          hint='e.g. {"default": [{"type": "insecureAcceptAnything"}]}')
    pol = Policy(default=_requirements(path, "default", doc["default"]), path=path)
    transports = doc.get("transports", {})
    if not isinstance(transports, dict):
        raise ConfigError("policy %s: transports must be an object" % path)
    for transport, scopes in transports.items():
        if not isinstance(scopes, dict):
            raise ConfigError("policy %s: transports.%s must be an object of scopes" % (path, transport))
        pol.transports[transport] = {
            scope: _requirements(path, "transports.%s.%s" % (transport, json.dumps(scope)), reqs)
            for scope, reqs in scopes.items()}
    return pol


def load(path: Optional[str] = None) -> Policy:
    path = policy_file() if path is None else path
    if not path:
        return Policy()
    try:
        with open(path, encoding="utf-8") as f:
            return parse(path, f.read())
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError("cannot read policy %s: %s" % (path, e))
