# SPDX-License-Identifier: GPL-3.0-or-later
"""registry.py against a real docker-registry (distribution 2.8) on 127.0.0.1, and an auth
front end of our own (bearer token server / basic auth, blob redirects, corruption)."""
from __future__ import annotations

import base64
import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers.images import (
    Blob,
    RegistryServer,
    build_image,
    busybox_layer,
    canonical,
    free_port,
    push_image,
    push_index,
    push_manifest,
)
from helpers.registries import LoopbackHTTP, docker_registries, mirrored_conf
from helpers.slowhttp import Trickle

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import (
    DigestMismatch,
    ImageError,
    RegistryError,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.image import reference as refmod
from ansible_collections.libpod.engine.plugins.module_utils.engine.image import registry as reg
from ansible_collections.libpod.engine.plugins.module_utils.engine.image.store import ImageStore
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State

pytestmark = pytest.mark.timeout(120)


# -- pure functions ----------------------------------------------------------------------------
@pytest.mark.parametrize("ref,expect", [
    ("busybox", ("docker.io", "library/busybox", "latest", "")),
    ("docker://busybox:1.36", ("docker.io", "library/busybox", "1.36", "")),
    ("user/app", ("docker.io", "user/app", "latest", "")),
    ("index.docker.io/library/x:y", ("docker.io", "library/x", "y", "")),
    ("quay.io/a/b/c:v1", ("quay.io", "a/b/c", "v1", "")),
    ("localhost/x", ("localhost", "x", "latest", "")),
    ("127.0.0.1:5000/t/b:latest", ("127.0.0.1:5000", "t/b", "latest", "")),
    ("r.io/x@sha256:" + "a" * 64, ("r.io", "x", "", "sha256:" + "a" * 64)),
    ("r.io/x:t@sha256:" + "b" * 64, ("r.io", "x", "t", "sha256:" + "b" * 64)),
    ("[::1]:5000/x", ("[::1]:5000", "x", "latest", "")),
])
def test_parse_reference(ref, expect):
    r = refmod.parse_reference(ref)
    assert (r.registry, r.repository, r.tag, r.digest) == expect


@pytest.mark.parametrize("bad", ["", "UP/per", "x@sha256:short", "x:-tag", "a//b", "x@md5:" + "a" * 32,
                                 "busybox\n", "r.io/x:" + "t" * 129])
def test_parse_reference_rejects(bad):
    with pytest.raises(ImageError):
        refmod.parse_reference(bad)


def test_parse_challenge():
    kind, p = reg.parse_challenge('Bearer realm="https://auth.example/token",service="registry.example",'
                                  'scope="repository:a/b:pull,push"')
    assert kind == "bearer"
    assert p == {"realm": "https://auth.example/token", "service": "registry.example",
                 "scope": "repository:a/b:pull,push"}
    assert reg.parse_challenge('Basic realm="x"') == ("basic", {"realm": "x"})


def test_select_platform():
    ms = [{"digest": "a", "platform": {"os": "linux", "architecture": "arm", "variant": "v6"}},
          {"digest": "b", "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
          {"digest": "c", "platform": {"os": "linux", "architecture": "arm64"}},
          {"digest": "d", "platform": {"os": "linux", "architecture": "amd64"}}]
    assert refmod.select_platform(ms, refmod.parse_platform("linux/arm/v7"), "x")["digest"] == "b"
    assert refmod.select_platform(ms, refmod.parse_platform("linux/arm64/v8"), "x")["digest"] == "c"
    assert refmod.select_platform(ms, refmod.parse_platform("linux/x86_64"), "x")["digest"] == "d"
    with pytest.raises(ImageError, match="no image for platform linux/s390x .*linux/arm/v6"):
        refmod.select_platform(ms, refmod.parse_platform("linux/s390x"), "x")
    with pytest.raises(ImageError, match="invalid platform"):
        refmod.parse_platform("linux")
    assert refmod.host_platform()["os"] == "linux"


def test_credentials_from_files(tmp_path):
    f = tmp_path / "auth.json"
    f.write_text(json.dumps({"auths": {"r.example:5000": {"auth": base64.b64encode(b"u:p:w").decode()},
                                       "https://index.docker.io/v1/": {"auth": base64.b64encode(b"d:x").decode()}}}))
    assert reg.credentials_from_files("r.example:5000", [str(f)]) == ("u", "p:w")
    assert reg.credentials_from_files("docker.io", [str(f)]) == ("d", "x")
    assert reg.credentials_from_files("other", [str(f), str(tmp_path / "missing.json")]) is None


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def images(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("img"))
    layer = busybox_layer(d)
    return {
        "oci": build_image([layer]),
        "docker": build_image([layer], fmt="docker"),
        "arm64": build_image([layer], arch="arm64", variant="v8"),
        "v2": build_image([layer], config={"Cmd": ["v2"]}),
    }


@pytest.fixture(scope="module")
def registry(tmp_path_factory, images):
    with docker_registries(RegistryServer(str(tmp_path_factory.mktemp("registry")))) as (server,):
        push_image(server.url, "test/busybox", "latest", images["oci"])
        push_image(server.url, "test/busybox", "v2s2", images["docker"], chunked=True)
        push_index(server.url, "test/multi", "latest", [images["oci"], images["arm64"]])
        push_index(server.url, "test/multi", "dockerlist", [images["oci"], images["arm64"]], fmt="docker")
        yield server


@pytest.fixture
def store(tmp_path):
    st = State(str(tmp_path / "state.db"))
    yield ImageStore(st, str(tmp_path / "graph"), registry_timeout=10)
    st.close()


# -- client against the real registry ----------------------------------------------------------
def test_client_manifests_and_blobs(registry, images):
    c = reg.RegistryClient(registry.host, insecure=True, timeout=10)
    m = c.get_manifest("test/busybox", "latest")
    assert m.media_type == refmod.OCI_MANIFEST and m.digest == images["oci"].manifest.digest
    assert not m.is_index
    m2 = c.get_manifest("test/busybox", "v2s2")
    assert m2.media_type == refmod.DOCKER_MANIFEST and m2.digest == images["docker"].manifest.digest
    assert c.get_manifest("test/busybox", m2.digest).data == m2.data
    assert c.head_manifest("test/busybox", "latest") == m.digest
    idx = c.get_manifest("test/multi", "latest")
    assert idx.is_index and idx.media_type == refmod.OCI_INDEX
    assert c.get_manifest("test/multi", "dockerlist").media_type == refmod.DOCKER_LIST
    cfg = images["oci"].config
    assert c.get_blob("test/busybox", cfg.digest, cfg.size) == cfg.data
    with pytest.raises(DigestMismatch, match="expected %d" % (cfg.size + 1)):
        c.get_blob("test/busybox", cfg.digest, cfg.size + 1)
    with pytest.raises(RegistryError, match="MANIFEST_UNKNOWN") as ei:
        c.get_manifest("test/busybox", "nope")
    assert "check the image name" in str(ei.value)
    with pytest.raises(RegistryError, match="404"):
        c.get_blob("test/busybox", "sha256:" + "0" * 64, 1)


def test_pull_oci_and_schema2(registry, images, store):
    a = store.pull("docker://%s/test/busybox:latest" % registry.host, insecure=True)
    b = store.pull("docker://%s/test/busybox:v2s2" % registry.host, insecure=True)
    assert a.id == images["oci"].image_id
    assert b.id == images["docker"].image_id
    assert b.digest == images["docker"].manifest.digest
    assert a.layers == b.layers  # same layer, unpacked once
    assert os.listdir(os.path.join(store.graph_root, "layers")) == a.layers
    assert store.image_config(b)["Cmd"] == ["sh", "-c", "echo $GREETING"]


def test_pull_manifest_list_by_platform(registry, images, store):
    ref = "docker://%s/test/multi:latest" % registry.host
    index_digest = reg.RegistryClient(registry.host, insecure=True).head_manifest("test/multi", "latest")
    amd = store.pull(ref, insecure=True, platform="linux/amd64")
    assert amd.id == images["oci"].image_id
    assert index_digest in amd.digests and amd.digest == images["oci"].manifest.digest
    arm = store.pull(ref, insecure=True, platform="linux/arm64")
    assert arm.id == images["arm64"].image_id and arm.config["architecture"] == "arm64"
    assert store.get("%s/test/multi:latest" % registry.host).id == arm.id  # the tag moved to the last pull
    dl = store.pull("docker://%s/test/multi:dockerlist" % registry.host, insecure=True, platform="linux/amd64")
    assert dl.id == amd.id
    with pytest.raises(ImageError, match="no image for platform linux/s390x"):
        store.pull(ref, insecure=True, platform="linux/s390x")
    assert store.remote_digest(ref, insecure=True) == index_digest


def test_pull_by_digest_and_newer_policy(registry, images, store):
    host = registry.host
    digest = images["oci"].manifest.digest
    img = store.pull("docker://%s/test/busybox@%s" % (host, digest), insecure=True)
    assert img.names == [] and img.digest == digest
    assert store.resolve("%s/test/busybox@%s" % (host, digest)).id == img.id
    push_image(registry.url, "test/moving", "latest", images["oci"])
    ref = "docker://%s/test/moving:latest" % host
    assert store.needs_pull(ref, "missing") is True
    store.pull(ref, insecure=True)
    assert store.needs_pull(ref, "missing") is False
    assert store.needs_pull(ref, "newer", insecure=True) is False
    push_image(registry.url, "test/moving", "latest", images["v2"])
    assert store.needs_pull(ref, "newer", insecure=True) is True
    assert store.needs_pull(ref, "missing", insecure=True) is False
    new = store.pull(ref, insecure=True)
    assert new.id == images["v2"].image_id
    assert store.get(images["oci"].image_id).names == []  # the old image is now untagged
    # newer falls back to the local image when the registry cannot be asked
    assert store.needs_pull("docker://127.0.0.1:%d/test/moving:latest" % free_port(), "newer") is True
    store.tag(new.id, "127.0.0.1:1/test/moving:latest")
    assert store.needs_pull("docker://127.0.0.1:1/test/moving:latest", "newer") is False


def test_registry_errors_are_clear(registry, store):
    with pytest.raises(RegistryError, match="not found in registry.*MANIFEST_UNKNOWN|NAME_UNKNOWN"):
        store.pull("docker://%s/test/busybox:missing" % registry.host, insecure=True)
    port = free_port()
    with pytest.raises(RegistryError, match="cannot reach registry 127.0.0.1:%d" % port) as ei:
        store.pull("docker://127.0.0.1:%d/x:1" % port, insecure=True)
    assert "running" in str(ei.value)
    with pytest.raises(RegistryError, match="TLS error") as ei:
        store.pull("docker://%s/test/busybox:latest" % registry.host)
    assert "insecure" in str(ei.value)
    assert store.list() == []


# -- auth front end ----------------------------------------------------------------------------
class FakeFront(LoopbackHTTP):
    """A v2 endpoint that demands auth and proxies to the real registry.

    mode "bearer": 401 + Bearer challenge, tokens from /token (optionally checking basic
    credentials), each token valid for ``token_uses`` requests. mode "basic": HTTP basic.
    Blobs are answered with a 307 to /cdn/..., which records whether an Authorization
    header arrived there (it must not). ``corrupt`` flips a byte of served blobs;
    ``bad_header`` sends a wrong Docker-Content-Digest for manifests.
    """

    def __init__(self, upstream: str, mode: str = "bearer", creds=None, token_uses: int = 1000):
        self.upstream = upstream
        self.mode = mode
        self.creds = creds
        self.token_uses = token_uses
        self.tokens = {}
        self.token_requests = []
        self.cdn_auth_headers = []
        self.corrupt = False
        self.bad_header = False
        super().__init__()

    def _handler(self):
        front = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, code, body=b"", headers=None):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _basic_ok(self):
                want = "Basic " + base64.b64encode(("%s:%s" % front.creds).encode()).decode()
                return self.headers.get("Authorization") == want

            def _authorized(self):
                auth = self.headers.get("Authorization", "")
                if front.mode == "basic":
                    return self._basic_ok()
                tok = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
                if tok not in front.tokens or front.tokens[tok] <= 0:
                    return False
                front.tokens[tok] -= 1
                return True

            def _challenge(self, scope):
                if front.mode == "basic":
                    h = 'Basic realm="fake"'
                else:
                    h = 'Bearer realm="http://%s/token",service="fake-registry"' % front.host
                    if scope:
                        h += ',scope="%s"' % scope
                body = canonical({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]})
                self._send(401, body, {"WWW-Authenticate": h, "Content-Type": "application/json"})

            def _token(self):
                q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                front.token_requests.append({k: v[0] for k, v in q.items()})
                if front.creds and not self._basic_ok():
                    return self._send(401, b'{"details":"bad credentials"}')
                tok = "tok-%d" % len(front.token_requests)
                front.tokens[tok] = front.token_uses
                return self._send(200, canonical({"token": tok, "expires_in": 300}),
                                  {"Content-Type": "application/json"})

            def _proxy(self, path, accept=None):
                req = urllib.request.Request(front.upstream + path, method=self.command,
                                             headers={"Accept": accept} if accept else {})
                try:
                    with urllib.request.urlopen(req, timeout=10) as r:
                        return r.status, r.read(), dict(r.headers)
                except urllib.error.HTTPError as e:
                    return e.code, e.read(), dict(e.headers)

            def do_HEAD(self):
                self.do_GET()

            def do_GET(self):
                path = urllib.parse.urlparse(self.path).path
                if path == "/token":
                    return self._token()
                if path.startswith("/cdn/"):
                    front.cdn_auth_headers.append(self.headers.get("Authorization"))
                    status, body, headers = self._proxy("/v2/" + path[len("/cdn/"):])
                    if front.corrupt and status == 200 and body:
                        body = bytes([body[0] ^ 0xFF]) + body[1:]
                    return self._send(status, body, {"Content-Type": "application/octet-stream"})
                parts = path.split("/")
                scope = ""
                if len(parts) >= 5 and parts[1] == "v2":
                    scope = "repository:%s:pull" % "/".join(parts[2:-2])
                if not self._authorized():
                    return self._challenge(scope)
                if path == "/v2/":
                    return self._send(200, b"{}", {"Content-Type": "application/json"})
                if "/blobs/" in path:
                    return self._send(307, b"", {"Location": "http://%s/cdn/%s" % (front.host, path[len("/v2/"):])})
                status, body, headers = self._proxy(path, self.headers.get("Accept"))
                out = {k: v for k, v in headers.items() if k in ("Content-Type", "Docker-Content-Digest")}
                if front.bad_header and "Docker-Content-Digest" in out:
                    out["Docker-Content-Digest"] = "sha256:" + "0" * 64
                return self._send(status, body, out)

        return H


def test_bearer_token_anonymous(registry, images, store):
    with FakeFront(registry.url) as front:
        img = store.pull("docker://%s/test/busybox:latest" % front.host, insecure=True)
    assert img.id == images["oci"].image_id
    assert front.token_requests, "the token server was never asked"
    assert front.token_requests[0]["scope"] == "repository:test/busybox:pull"
    assert front.token_requests[0]["service"] == "fake-registry"
    assert len(front.token_requests) == 1  # cached for the whole pull
    assert front.cdn_auth_headers and not any(front.cdn_auth_headers)  # no token leaked to the CDN


def test_bearer_token_with_credentials(registry, images, store, tmp_path):
    with FakeFront(registry.url, creds=("alice", "s3cret")) as front:
        ref = "docker://%s/test/busybox:latest" % front.host
        with pytest.raises(RegistryError, match="token request .* failed: HTTP 401") as ei:
            store.pull(ref, insecure=True, auth=("alice", "wrong"))
        assert "check the username and password" in str(ei.value)
        with pytest.raises(RegistryError, match="needs credentials"):
            store.pull(ref, insecure=True, auth={})
        img = store.pull(ref, insecure=True, auth={"username": "alice", "password": "s3cret"})
        assert img.id == images["oci"].image_id
        assert front.token_requests[-1]["account"] == "alice"
        authfile = tmp_path / "auth.json"
        authfile.write_text(json.dumps({"auths": {front.host: {"auth": base64.b64encode(b"alice:s3cret").decode()}}}))
        assert store.pull(ref, insecure=True, auth={"authfile": str(authfile)}).id == img.id


def test_expired_token_is_renewed(registry, images, store):
    with FakeFront(registry.url, token_uses=2) as front:
        img = store.pull("docker://%s/test/busybox:latest" % front.host, insecure=True)
    assert img.id == images["oci"].image_id
    assert len(front.token_requests) >= 2


def test_basic_auth(registry, images, store):
    with FakeFront(registry.url, mode="basic", creds=("bob", "pw")) as front:
        ref = "docker://%s/test/busybox:latest" % front.host
        with pytest.raises(RegistryError, match="requires a username and password"):
            store.pull(ref, insecure=True, auth={})
        with pytest.raises(RegistryError, match="refused the credentials"):
            store.pull(ref, insecure=True, auth=("bob", "nope"))
        assert store.pull(ref, insecure=True, auth=("bob", "pw")).id == images["oci"].image_id


def test_corrupt_blob_and_bad_digest_header(registry, store):
    with FakeFront(registry.url) as front:
        ref = "docker://%s/test/busybox:latest" % front.host
        front.corrupt = True
        with pytest.raises(DigestMismatch):
            store.pull(ref, insecure=True)
        front.corrupt = False
        front.bad_header = True
        with pytest.raises(DigestMismatch, match="Docker-Content-Digest"):
            store.pull(ref, insecure=True)
    assert store.list() == []
    assert not os.listdir(os.path.join(store.graph_root, "layers")) if os.path.isdir(
        os.path.join(store.graph_root, "layers")) else True


def test_index_entry_size_is_checked(registry, images, store):
    """A manifest list whose entry declares the wrong size is refused."""
    img = images["oci"]
    bad = {"schemaVersion": 2, "mediaType": refmod.OCI_INDEX, "manifests": [
        dict(img.manifest.descriptor(), size=img.manifest.size + 5, platform=img.platform)]}
    blob = Blob(canonical(bad), refmod.OCI_INDEX)
    push_image(registry.url, "test/badindex", img.manifest.digest, img)
    push_manifest(registry.url, "test/badindex", "latest", blob)
    with pytest.raises(DigestMismatch, match="the list says"):
        store.pull("docker://%s/test/badindex:latest" % registry.host, insecure=True)


# -- hostile registries (issue 22 item 7) ------------------------------------------------------
@pytest.mark.timeout(40)
@pytest.mark.parametrize("mode", ["body", "headers"])
def test_slow_registry_hits_the_pull_deadline(store, mode):
    """One byte every 0.2 s never trips a per-read timeout: only the pull's deadline ends it."""
    store.pull_timeout = 1.5
    with Trickle(mode) as srv, pytest.raises(RegistryError, match="image_pull_timeout") as ei:
        store.pull("docker://%s/slow/image:1" % srv.host, insecure=True)
    assert srv.host in str(ei.value)
    assert not store.list()


@pytest.mark.parametrize("registry_host,target,allowed", [
    ("203.0.113.5:5000", "http://127.0.0.1:8080/blob", False),
    ("203.0.113.5:5000", "http://169.254.169.254/latest/meta-data/", False),
    ("203.0.113.5", "http://[::1]/blob", False),
    ("203.0.113.5", "http://[fe80::1]:80/blob", False),
    ("203.0.113.5", "http://localhost/blob", False),
    ("203.0.113.5", "http://[::ffff:127.0.0.1]/blob", False),
    ("203.0.113.5", "http://0.0.0.0/blob", False),
    ("203.0.113.5", "https://198.51.100.7/cdn/blob", True),
    ("127.0.0.1:5000", "http://127.0.0.1:6000/cdn/blob", True),
    ("localhost:5000", "http://127.0.0.1/cdn/blob", True),
    ("127.0.0.1:5000", "http://169.254.169.254/", False),
])
def test_redirects_to_loopback_or_link_local(registry_host, target, allowed):
    """A registry elsewhere must not point the engine at this host's own services (metadata, admin)."""
    client = reg.RegistryClient(registry_host, timeout=5)
    handler = next(h for h in client._opener.handlers if isinstance(h, urllib.request.HTTPRedirectHandler))
    req = urllib.request.Request("https://%s/v2/x/blobs/sha256:%s" % (registry_host, "a" * 64))
    if allowed:
        assert handler.redirect_request(req, None, 307, "Temporary Redirect", {}, target) is not None
    else:
        with pytest.raises(RegistryError, match="redirected .* refused"):
            handler.redirect_request(req, None, 307, "Temporary Redirect", {}, target)


def test_connection_hints_name_the_real_option():
    # issue 14 item 13: the hint named options that do not exist (insecure, tls_verify)
    import ssl
    import urllib.error

    from ansible_collections.libpod.engine.plugins.module_utils.engine.image.registry import RegistryClient

    client = RegistryClient("registry.example:5000")
    for err in (ssl.SSLError("certificate verify failed"), urllib.error.URLError("connection refused")):
        hint = client._fail("pull", err).hint  # noqa: SLF001
        assert "insecure_registry: true" in hint and "tls_verify" not in hint, hint


# -- registries.conf, short names, mirrors, policy (access.py) through the store ----------------
def _access_store(tmp_path, conf_text, policy_doc=None):
    from ansible_collections.libpod.engine.plugins.module_utils.engine.image.access import RegistryAccess

    conf = tmp_path / "registries.conf"
    conf.write_text(conf_text)
    pol = ""
    if policy_doc is not None:
        (tmp_path / "policy.json").write_text(json.dumps(policy_doc))
        pol = str(tmp_path / "policy.json")
    st = State(str(tmp_path / "state.db"))
    access = RegistryAccess(conf_files=[str(conf)], policy_path=pol, alias_path="")
    return st, ImageStore(st, str(tmp_path / "graph"), registry_timeout=10, access=access)


def test_short_name_through_search_registries_and_mirrors(registry, images, tmp_path):
    dead = "127.0.0.1:%d" % free_port()
    st, store = _access_store(tmp_path, """
unqualified-search-registries = ["%(dead)s", "%(reg)s"]
short-name-mode = "permissive"
[[registry]]
location = "%(dead)s"
insecure = true
""" % {"dead": dead, "reg": registry.host} + mirrored_conf(registry.host, dead))
    try:
        img = store.pull("test/busybox")  # the first search registry is down: the second serves it
        assert img.id == images["oci"].image_id
        assert img.names == ["%s/test/busybox:latest" % registry.host]
        assert store.needs_pull("test/busybox", "missing") is False  # found locally by its short name
        assert store.needs_pull("test/busybox", "newer") is False  # HEAD through the same candidates
        img2 = store.pull("mirrored.example.com/test/busybox:v2s2")  # location down: the mirror serves it
        assert img2.id == images["docker"].image_id and "mirrored.example.com/test/busybox:v2s2" in img2.names
        with pytest.raises(RegistryError) as ei:
            store.pull("nothere/x")
        msg = str(ei.value)
        assert "could not be pulled from any source (unqualified-search-registries in" in msg
        assert "%s/nothere/x:latest" % dead in msg and "%s/nothere/x:latest" % registry.host in msg
    finally:
        st.close()


def test_enforcing_mode_and_policy_refuse_before_any_request(registry, tmp_path):
    st, store = _access_store(tmp_path, 'unqualified-search-registries = ["a.example.com", "%s"]\n'
                                        '[[registry]]\nlocation = "%s"\ninsecure = true\n'
                              % (registry.host, registry.host),
                              {"default": [{"type": "insecureAcceptAnything"}],
                               "transports": {"docker": {registry.host + "/test/multi": [{"type": "reject"}],
                                                         registry.host + "/test/busybox": [
                                                             {"type": "signedBy", "keyType": "GPGKeys"}]}}})
    try:
        with pytest.raises(ImageError, match="short name test/busybox is ambiguous.*a.example.com/test/busybox"):
            store.pull("test/busybox")
        with pytest.raises(RegistryError, match="rejected by the signature policy"):
            store.pull("%s/test/multi:latest" % registry.host)
        with pytest.raises(RegistryError, match="signedBy signature verification .*not support"):
            store.pull("%s/test/busybox:latest" % registry.host)
        assert store.list() == []
    finally:
        st.close()


def test_login_check_with_bearer_token(registry):
    from ansible_collections.libpod.engine.plugins.modules import login

    with FakeFront(registry.url, creds=("u", "pw")) as front:
        login.check_login(front.host, "u", "pw", False, None)
        assert front.token_requests and front.token_requests[-1].get("account") == "u"
        with pytest.raises(RegistryError, match="token request .* failed: HTTP 401"):
            login.check_login(front.host, "u", "wrong", False, None)
    with FakeFront(registry.url, mode="basic", creds=("u", "pw")) as front:
        login.check_login(front.host, "u", "pw", False, None)
        with pytest.raises(RegistryError, match="refused the credentials"):
            login.check_login(front.host, "u", "wrong", False, None)


def test_schema1_is_refused_with_a_clear_message(store):
    """A docker schema 1 manifest (signed or not) is refused naming the format and the fix."""
    doc = canonical({"schemaVersion": 1, "name": "old/app", "tag": "latest", "architecture": "amd64",
                     "fsLayers": [], "history": []})

    class H(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body, ctype = (b"{}", "application/json") if self.path == "/v2/" else (doc, reg.DOCKER_V1_SIGNED)
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host = "127.0.0.1:%d" % server.server_address[1]
        with pytest.raises(ImageError, match="docker schema 1 manifest, which is not supported") as ei:
            store.pull("docker://%s/old/app:latest" % host, insecure=True)
        assert "push the image again with a current client" in str(ei.value)
    finally:
        server.shutdown()
        server.server_close()
