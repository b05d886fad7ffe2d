# SPDX-License-Identifier: GPL-3.0-or-later
"""A small registry v2 HTTP client (urllib only), after c/image's docker client.

It does: manifest GET/HEAD with the OCI and docker schema2 media types, blobs streamed
with digest and size checks, bearer tokens from the ``WWW-Authenticate`` challenge
(realm/service/scope, optional basic credentials), basic auth, TLS with the CAs and client
certificates of a certs.d directory (certs.py), and ``insecure`` registries (https without
verification, then plain http). Every failure is a RegistryError (or DigestMismatch) that
names the registry, the reference and the fix. References are in reference.py, credentials
in auth.py, which registry a name is pulled from in endpoints.py.
"""
from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import re
import socket
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import IO, Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..base.errors import DigestMismatch, ImageError, RegistryError
from . import certs

# pylint: disable-next=unused-import
from .auth import AuthArg, auth_files, credentials_from_files, resolve_credentials  # noqa: F401 (re-exports)

# pylint: disable-next=unused-import
from .reference import (  # noqa: F401 (re-exported: store.py and tests import them from here)
    ACCEPT,
    DOCKER_IO,
    DOCKER_IO_ENDPOINT,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    DOCKER_V1,
    DOCKER_V1_SIGNED,
    INDEX_TYPES,
    MANIFEST_TYPES,
    MAX_CONFIG,
    MAX_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Manifest,
    Reference,
    host_platform,
    is_short_name,
    parse_platform,
    parse_reference,
    platform_str,
    select_platform,
    sha256_digest,
    verify_blob,
)


def parse_challenge(header: str) -> Tuple[str, Dict[str, str]]:
    """``Bearer realm="...",service="...",scope="..."`` → ("bearer", {...})."""
    scheme, _unused, rest = header.strip().partition(" ")
    params = {}
    for m in re.finditer(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))', rest):
        params[m.group(1).lower()] = m.group(2).replace('\\"', '"') if m.group(2) is not None else m.group(3)
    return scheme.lower(), params


# -- HTTP --------------------------------------------------------------------------------------
def _addresses(host: str) -> List[Any]:
    """The IP addresses ``host`` (a literal or a name, no port) stands for; [] if unknown."""
    host = host.strip("[]")
    try:
        return [ipaddress.ip_address(host.split("%", 1)[0])]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    out = []
    for info in infos:
        try:
            out.append(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]))
        except ValueError:
            continue
    return out


def _internal_kind(addr: Any) -> str:
    """'loopback' or 'link-local' for addresses that reach this host or its link only, else ''."""
    mapped = getattr(addr, "ipv4_mapped", None)
    if mapped is not None:
        addr = mapped
    if addr.is_loopback or addr.is_unspecified:  # 0.0.0.0 and :: connect to this host too
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    return ""


def redirect_refusal(registry_host: str, url: str) -> str:
    """Why a redirect from ``registry_host`` to ``url`` is refused ("" = allowed).

    A registry may redirect blobs anywhere (CDNs) except to loopback or link-local addresses
    (this host's own services, cloud metadata endpoints), unless the registry itself is at such
    an address of the same kind (a local test or mirror registry).
    """
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https"):
        return "not an http(s) URL"
    target = sorted({k for k in map(_internal_kind, _addresses(parsed.hostname or "")) if k})
    if not target:
        return ""
    try:
        host = urllib.parse.urlsplit("//" + registry_host).hostname or registry_host
    except ValueError:
        host = registry_host
    own = {_internal_kind(a) for a in _addresses(host)}
    bad = [k for k in target if k not in own]
    return "a %s address" % bad[0] if bad else ""


class _NoAuthRedirect(urllib.request.HTTPRedirectHandler):
    """Follow blob redirects (CDNs) without carrying the Authorization header along, and never to
    loopback or link-local addresses of a registry that is not there itself."""

    def __init__(self, registry_host: str = ""):
        super().__init__()
        self.registry_host = registry_host

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: PLR0917 (urllib signature)
        why = redirect_refusal(self.registry_host, newurl)
        if why:
            raise RegistryError("registry %s redirected %s to %s (%s); refused" % (
                self.registry_host, urllib.parse.urlparse(req.full_url).path, newurl, why),
                hint="a registry may redirect to loopback or link-local addresses only when it is at such an "
                     "address itself; check the registry or the proxy in front of it")
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            new.headers.pop("Authorization", None)
            new.unredirected_hdrs.pop("Authorization", None)
        return new


class PullDeadline:
    """An overall deadline for one client's requests: when it passes, every socket the client opened
    is shut down, which ends a read blocked on a server that trickles bytes (a per-read timeout
    never fires when one byte arrives every few seconds)."""

    def __init__(self, seconds: Optional[float]):
        self.seconds = seconds
        self.expired = False
        self._socks: List[socket.socket] = []
        self._lock = threading.Lock()
        self._timer: Optional[threading.Timer] = None
        if seconds is not None:
            self._timer = threading.Timer(max(0.0, seconds), self._fire)
            self._timer.daemon = True
            self._timer.start()

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks = [s for s in self._socks if s.fileno() >= 0] + [sock]
            if self.expired:
                self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain method: also for an SSL socket
        except OSError:
            pass

    def _fire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._socks:
                self._shutdown(sock)

    def cancel(self) -> None:
        """Stop the clock, and the timer thread with it (the engine forks conmon later: no threads)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join(5)
        with self._lock:
            self._socks = []


def _connection_class(base: type, on_socket: Callable[[socket.socket], None]) -> type:
    """``base`` (HTTP(S)Connection) reporting each socket it connects, before any byte is read."""

    class Connection(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)

            def create(*a: Any, **kw: Any) -> socket.socket:
                sock = socket.create_connection(*a, **kw)
                on_socket(sock)
                return sock

            self._create_connection = create

        def connect(self) -> None:
            super().connect()
            on_socket(self.sock)  # the TLS-wrapped socket (the plain one was detached into it)

    return Connection


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, on_socket: Callable[[socket.socket], None]):
        super().__init__()
        self._conn = _connection_class(http.client.HTTPConnection, on_socket)

    def http_open(self, req):
        return self.do_open(self._conn, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, on_socket: Callable[[socket.socket], None], context: ssl.SSLContext):
        super().__init__(context=context)
        self._conn = _connection_class(http.client.HTTPSConnection, on_socket)

    def https_open(self, req):
        return self.do_open(self._conn, req, context=self._context)


class _Body:
    """A response whose reads end with a RegistryError (not a short read) once the deadline passed."""

    def __init__(self, resp: Any, client: RegistryClient, what: str):
        self.resp = resp
        self.client = client
        self.what = what
        self.headers = resp.headers
        self.status = getattr(resp, "status", None)

    def read(self, n: int = -1) -> bytes:
        self.client.check_deadline(self.what)
        try:
            data = self.resp.read(n) if n is not None and n >= 0 else self.resp.read()
        except (OSError, http.client.HTTPException) as e:
            self.client.check_deadline(self.what)
            raise RegistryError("%s: reading from registry %s failed: %s" % (self.what, self.client.registry, e),
                                hint="check that the registry is reachable; pull again")
        self.client.check_deadline(self.what)
        return data

    def close(self) -> None:
        self.resp.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RegistryClient:
    """One registry endpoint; tokens are cached per scope for the client's life."""

    def __init__(self, registry: str, *, insecure: bool = False, auth: AuthArg = None, timeout: float = 30.0,
                 user_agent: str = "libpod-engine", deadline: Optional[float] = None, repository: str = "",
                 cert_dirs: Optional[Sequence[str]] = None, cert_dir: Optional[str] = None):
        """``timeout``: seconds for each connect and read; ``deadline``: seconds for everything the
        client does (the pull), counted from now (None = no overall limit). close() stops the clock.
        ``repository`` picks the most specific auth.json entry; ``cert_dirs`` are certs.d-style
        directories searched for ``<host[:port]>/`` CAs and client certificates (None: the defaults),
        ``cert_dir`` one such ``<host>`` directory itself (a task's cert_dir)."""
        self.registry = registry
        self.host = DOCKER_IO_ENDPOINT if registry == DOCKER_IO else registry
        self.insecure = insecure
        self.creds = resolve_credentials(auth, registry, repository)
        self.timeout = timeout
        self.user_agent = user_agent
        self._scheme: Optional[str] = None if insecure else "https"
        self._tokens: Dict[str, str] = {}
        self._basic = False
        ctx = certs.tls_context(registry, insecure=insecure, cert_dirs=cert_dirs, cert_dir=cert_dir)
        self.deadline = PullDeadline(deadline)
        self._opener = urllib.request.build_opener(_HTTPHandler(self.deadline.add),
                                                   _HTTPSHandler(self.deadline.add, ctx), _NoAuthRedirect(self.host))

    def close(self) -> None:
        self.deadline.cancel()

    def check_deadline(self, what: str) -> None:
        """RegistryError once the overall deadline has passed."""
        if self.deadline.expired:
            raise RegistryError("%s: registry %s did not finish within %s s; the pull was stopped"
                                % (what, self.registry, _seconds(self.deadline.seconds)),
                                hint="check the registry and the network (a registry that sends data very slowly "
                                     "holds a pull); raise [engine] image_pull_timeout in containers.conf for very "
                                     "large images on slow links")

    # -- plumbing ----------------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return "%s://%s%s" % (self._scheme or "https", self.host, path)

    def _fail(self, what: str, err: Exception) -> RegistryError:
        self.check_deadline(what)
        reason = getattr(err, "reason", err)
        if isinstance(reason, ssl.SSLError) or isinstance(err, ssl.SSLError):
            return RegistryError("%s: TLS error talking to registry %s: %s" % (what, self.registry, reason),
                                 hint="put the registry's CA in %s/%s/ca.crt (or the task's cert_dir), or, if "
                                      "it has no valid certificate or speaks plain http, set insecure_registry: true "
                                      "on the task or insecure = true in registries.conf"
                                      % (certs.cert_dirs()[0], self.registry))
        return RegistryError("%s: cannot reach registry %s: %s" % (what, self.registry, reason),
                             hint="check that the registry is running and reachable from this host"
                                  + ("" if self.insecure else "; for a plain-http registry set "
                                     "insecure_registry: true on the task"))

    @staticmethod
    def _error_detail(err: urllib.error.HTTPError) -> str:
        try:
            body = err.read(65536)
            doc = json.loads(body)
            errs = doc.get("errors") or []
            parts = ["%s: %s" % (e.get("code", "?"), e.get("message", "")) for e in errs if isinstance(e, dict)]
            if parts:
                return "; ".join(parts)
            return body.decode(errors="replace")[:200]
        except (ValueError, OSError, AttributeError):
            return ""

    def _open(self, method: str, path: str, headers: Dict[str, str], auth_header: Optional[str]):
        req = urllib.request.Request(self._url(path), method=method, headers=dict(headers))
        req.add_header("User-Agent", self.user_agent)
        if auth_header:
            req.add_unredirected_header("Authorization", auth_header)
        return self._send_request(req, "%s %s" % (method, path))

    def _send_request(self, req: urllib.request.Request, what: str) -> Any:
        """The opener, with the deadline checked before and after (HTTP garbage is a clear error)."""
        self.check_deadline(what)
        try:
            return self._opener.open(req, timeout=self.timeout)
        except http.client.HTTPException as e:
            self.check_deadline(what)
            raise RegistryError("%s: registry %s sent an invalid HTTP answer: %r" % (what, self.registry, e))

    def _detect_scheme(self) -> None:
        """insecure: plain http if /v2/ answers like a registry there, else https unverified.

        http is probed first because a TLS hello sent to a plain-http server can stall
        until the timeout, while a plain request to a TLS port fails at once (400 or a
        closed connection). No credentials are sent by the probe.
        """
        req = urllib.request.Request("http://%s/v2/" % self.host, headers={"User-Agent": self.user_agent})
        try:
            with self._send_request(req, "ping %s" % self.registry) as resp:
                status = resp.status
        except urllib.error.HTTPError as e:
            status = e.code
            e.close()
        except (urllib.error.URLError, OSError):
            status = 0
        except RegistryError:
            self.check_deadline("ping %s" % self.registry)
            status = 0
        self._scheme = "http" if status in (200, 401) else "https"

    def _token(self, params: Dict[str, str], scope: str, what: str) -> str:
        scope = params.get("scope") or scope
        if scope in self._tokens:
            return self._tokens[scope]
        realm = params.get("realm")
        if not realm or urllib.parse.urlparse(realm).scheme not in ("http", "https"):
            raise RegistryError("%s: registry %s sent a bearer challenge without a usable realm (%r)"
                                % (what, self.registry, realm))
        why = redirect_refusal(self.host, realm)
        if why:
            raise RegistryError("%s: registry %s sent the engine to token server %s (%s); refused"
                                % (what, self.registry, realm, why),
                                hint="a registry may name a loopback or link-local token server only when it is at "
                                     "such an address itself")
        query = {}
        if params.get("service"):
            query["service"] = params["service"]
        if scope:
            query["scope"] = scope
        if self.creds:
            query["account"] = self.creds[0]
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        req = urllib.request.Request(url, headers={"User-Agent": self.user_agent})
        if self.creds:
            req.add_unredirected_header("Authorization", "Basic " + base64.b64encode(
                ("%s:%s" % self.creds).encode()).decode())
        try:
            with self._send_request(req, what) as r:
                doc = json.loads(_Body(r, self, what).read(1 << 20))
        except urllib.error.HTTPError as e:
            detail = self._error_detail(e)
            hint = "check the username and password" if self.creds else "this registry needs credentials (auth)"
            raise RegistryError("%s: token request to %s failed: HTTP %d %s" % (what, realm, e.code, detail),
                                hint=hint)
        except (urllib.error.URLError, OSError) as e:
            raise RegistryError("%s: cannot reach token server %s: %s" % (what, realm, getattr(e, "reason", e)))
        except ValueError:
            raise RegistryError("%s: token server %s did not return JSON" % (what, realm))
        token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
        if not token:
            raise RegistryError("%s: token server %s returned no token" % (what, realm))
        self._tokens[scope] = token
        return token

    def request(self, method: str, path: str, *, scope: str, what: str, headers: Optional[Dict[str, str]] = None):
        """Send one request, answering a 401 challenge once; returns the open response."""
        headers = headers or {}
        if self._scheme is None:
            self._detect_scheme()
        auth_header = None
        if scope in self._tokens:
            auth_header = "Bearer " + self._tokens[scope]
        elif self._basic and self.creds:
            auth_header = "Basic " + base64.b64encode(("%s:%s" % self.creds).encode()).decode()
        for attempt in range(2):
            try:
                return _Body(self._open(method, path, headers, auth_header), self, what)
            except urllib.error.HTTPError as e:
                if e.code != 401 or attempt:
                    detail = self._error_detail(e)
                    e.close()
                    if e.code == 401:
                        raise RegistryError("%s: registry %s refused the credentials (HTTP 401 %s)"
                                            % (what, self.registry, detail),
                                            hint="check the username and password" if self.creds
                                            else "this registry needs credentials (auth)")
                    if e.code == 404:
                        raise RegistryError("%s: not found in registry %s (HTTP 404 %s)"
                                            % (what, self.registry, detail),
                                            hint="check the image name and tag")
                    if e.code == 403:
                        raise RegistryError("%s: access denied by registry %s (HTTP 403 %s)"
                                            % (what, self.registry, detail),
                                            hint="the account has no pull access to this repository")
                    raise RegistryError("%s: registry %s answered HTTP %d %s" % (what, self.registry, e.code,
                                                                                 detail or e.reason))
                challenge = e.headers.get("WWW-Authenticate", "")
                e.close()
                kind, params = parse_challenge(challenge)
                if kind == "bearer":
                    self._tokens.pop(scope, None)  # expired or for another scope: ask again
                    self._tokens.pop(params.get("scope", ""), None)
                    token = self._token(params, scope, what)
                    self._tokens[scope] = token
                    auth_header = "Bearer " + token
                elif kind == "basic":
                    if not self.creds:
                        raise RegistryError("%s: registry %s requires a username and password" % (what, self.registry),
                                            hint="pass auth (username/password) or log in to create auth.json")
                    self._basic = True
                    auth_header = "Basic " + base64.b64encode(("%s:%s" % self.creds).encode()).decode()
                else:
                    raise RegistryError("%s: registry %s demands unsupported authentication %r"
                                        % (what, self.registry, challenge))
            except (urllib.error.URLError, OSError) as e:
                raise self._fail(what, e)
        raise RegistryError("%s: authentication with registry %s failed" % (what, self.registry))

    # -- API ---------------------------------------------------------------------------------
    @staticmethod
    def scope(repository: str) -> str:
        return "repository:%s:pull" % repository

    def ping(self) -> None:
        resp = self.request("GET", "/v2/", scope="", what="ping %s" % self.registry)
        resp.close()

    def get_manifest(self, repository: str, ref: str) -> Manifest:
        """GET a manifest (any supported type), checking its digest when one is known."""
        what = "manifest %s/%s:%s" % (self.registry, repository, ref) if not ref.startswith("sha256:") \
            else "manifest %s/%s@%s" % (self.registry, repository, ref)
        resp = self.request("GET", "/v2/%s/manifests/%s" % (repository, ref), scope=self.scope(repository),
                            what=what, headers={"Accept": ACCEPT})
        with resp:
            data = resp.read(MAX_MANIFEST + 1)
            ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
            header_digest = resp.headers.get("Docker-Content-Digest", "")
        if len(data) > MAX_MANIFEST:
            raise RegistryError("%s is larger than %d bytes; refused" % (what, MAX_MANIFEST))
        digest = sha256_digest(data)
        if ref.startswith("sha256:") and digest != ref:
            raise DigestMismatch("%s: content has digest %s" % (what, digest),
                                 hint="the registry returned the wrong or corrupt content")
        if header_digest.startswith("sha256:") and header_digest != digest:
            raise DigestMismatch("%s: Docker-Content-Digest is %s but the content hashes to %s"
                                 % (what, header_digest, digest), hint="the registry or a proxy altered it")
        if ctype in (DOCKER_V1, DOCKER_V1_SIGNED) or (ctype not in MANIFEST_TYPES + INDEX_TYPES and
                                                      b'"schemaVersion": 1' in data[:200]):
            raise ImageError("%s is a docker schema 1 manifest, which is not supported" % what,
                             hint="push the image again with a current client (schema 2 or OCI)")
        if ctype not in MANIFEST_TYPES + INDEX_TYPES:
            try:
                ctype = json.loads(data).get("mediaType") or ctype
            except (ValueError, AttributeError):
                pass
        return Manifest(data=data, media_type=ctype, digest=digest)

    def head_manifest(self, repository: str, ref: str) -> str:
        """The digest of a manifest without its body (falls back to GET when no header)."""
        resp = self.request("HEAD", "/v2/%s/manifests/%s" % (repository, ref), scope=self.scope(repository),
                            what="manifest %s/%s:%s" % (self.registry, repository, ref), headers={"Accept": ACCEPT})
        with resp:
            digest = resp.headers.get("Docker-Content-Digest", "")
        if re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            return digest
        return self.get_manifest(repository, ref).digest

    def open_blob(self, repository: str, digest: str) -> IO[bytes]:
        """An open stream of a blob (redirects followed); the caller verifies and closes."""
        return self.request("GET", "/v2/%s/blobs/%s" % (repository, digest), scope=self.scope(repository),
                            what="blob %s of %s/%s" % (digest, self.registry, repository))

    def get_blob(self, repository: str, digest: str, size: int, limit: int = MAX_CONFIG) -> bytes:
        """A small blob (config) read fully and verified against digest and size."""
        what = "blob %s of %s/%s" % (digest, self.registry, repository)
        if size > limit:
            raise RegistryError("%s declares %d bytes, more than the %d allowed" % (what, size, limit))
        with self.open_blob(repository, digest) as resp:
            data = resp.read(limit + 1)
        verify_blob(data, digest, size, what)
        return data


def _seconds(value: Optional[float]) -> str:
    return "%g" % value if value is not None else "?"
