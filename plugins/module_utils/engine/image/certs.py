# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS for registries, as containers-certs.d(5) lays it out: ``<dir>/<host[:port]>/``.

In that directory ``*.crt`` files are CAs trusted for that registry (on top of the system's),
and each ``X.cert`` with its ``X.key`` is a client certificate. Directories searched, first
match wins: a task's ``cert_dir`` (the directory itself, as podman's ``--cert-dir``), else
``$LIBPOD_ENGINE_CERTS_DIR`` when set (tests), else ``/etc/libpod-engine/certs.d`` and
``/etc/containers/certs.d`` (+ ``/etc/docker/certs.d``).
"""
from __future__ import annotations

import glob
import os
import ssl
from typing import List, Optional, Sequence

from ..base.errors import RegistryError

ENV_VAR = "LIBPOD_ENGINE_CERTS_DIR"
DEFAULT_DIRS = ("/etc/libpod-engine/certs.d", "/etc/containers/certs.d", "/etc/docker/certs.d")


def cert_dirs() -> List[str]:
    """The certs.d directories searched by default (each holds ``<host[:port]>/`` subdirectories)."""
    override = os.environ.get(ENV_VAR)
    return [override] if override else list(DEFAULT_DIRS)


def host_dir(registry: str, dirs: Optional[Sequence[str]] = None, direct: Optional[str] = None) -> Optional[str]:
    """The directory with ``registry``'s certificates: ``direct`` itself (a task's cert_dir), else
    ``<d>/<registry>`` of the first certs.d directory that has one."""
    if direct:
        return direct
    for d in cert_dirs() if dirs is None else dirs:
        path = os.path.join(d, registry)
        if os.path.isdir(path):
            return path
    return None


def tls_context(registry: str, *, insecure: bool = False, cert_dirs: Optional[Sequence[str]] = None,
                cert_dir: Optional[str] = None) -> ssl.SSLContext:
    """The SSL context for ``registry``: system CAs + the registry's own, client certificates;
    no verification at all when ``insecure``."""
    ctx = ssl.create_default_context()
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    path = host_dir(registry, cert_dirs, cert_dir)
    if path is None:
        return ctx
    if cert_dir and not os.path.isdir(cert_dir):
        raise RegistryError("cert_dir %s: no such directory" % cert_dir,
                            hint="name a directory holding the registry's ca.crt (and client.cert/client.key)")
    for ca in sorted(glob.glob(os.path.join(path, "*.crt"))):
        try:
            ctx.load_verify_locations(cafile=ca)
        except (ssl.SSLError, OSError) as e:
            raise RegistryError("registry %s: CA file %s cannot be used: %s" % (registry, ca, e),
                                hint="it must hold PEM certificates")
    for cert in sorted(glob.glob(os.path.join(path, "*.cert"))):
        key = cert[:-len(".cert")] + ".key"
        if not os.path.isfile(key):
            raise RegistryError("registry %s: client certificate %s has no key %s" % (registry, cert, key),
                                hint="put the private key beside it, named like the certificate with .key")
        try:
            ctx.load_cert_chain(cert, key)
        except (ssl.SSLError, OSError) as e:
            raise RegistryError("registry %s: client certificate %s cannot be used: %s" % (registry, cert, e))
    return ctx
