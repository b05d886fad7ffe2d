# SPDX-License-Identifier: GPL-3.0-or-later
"""policy.json scopes and requirements; auth.json lookup, login/logout edits; certs.d contexts."""
from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import ConfigError, RegistryError
from ansible_collections.libpod.engine.plugins.module_utils.engine.image import auth, certs, policy
from ansible_collections.libpod.engine.plugins.module_utils.engine.image.reference import parse_reference

POLICY = {
    "default": [{"type": "reject"}],
    "transports": {"docker": {
        "": [{"type": "insecureAcceptAnything"}],
        "r.example.com/team": [{"type": "reject"}],
        "r.example.com/team/open": [{"type": "insecureAcceptAnything"}],
        "signed.example.com": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k.gpg"}],
        "*.blocked.example.com": [{"type": "reject"}],
    }},
}


def test_policy_scopes(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(POLICY))
    pol = policy.load(str(path))
    pol.check(parse_reference("quay.io/x:1"))  # transports.docker."" accepts
    pol.check(parse_reference("r.example.com/team/open/app:1"))  # more specific than the team's reject
    with pytest.raises(RegistryError, match=r"rejected by the signature policy .*scope r.example.com/team\)"):
        pol.check(parse_reference("r.example.com/team/app:1"))
    with pytest.raises(RegistryError, match="signedBy signature verification .* not support"):
        pol.check(parse_reference("signed.example.com/app:1"))
    with pytest.raises(RegistryError, match=r"scope \*.blocked.example.com"):
        pol.check(parse_reference("a.b.blocked.example.com/app:1"))
    del POLICY["transports"]["docker"][""]
    path.write_text(json.dumps(POLICY))
    with pytest.raises(RegistryError, match="scope default"):
        policy.load(str(path)).check(parse_reference("quay.io/x:1"))
    assert policy.load("").path == ""  # no file: accept
    policy.load("").check(parse_reference("quay.io/x:1"))


@pytest.mark.parametrize("doc,msg", [
    ("{", "not valid JSON"),
    ('{"transports": {}}', '"default" is required'),
    ('{"default": [{"type": "trustMe"}]}', "default\\[0\\]: unknown requirement"),
    ('{"default": [{"type": "reject"}], "transports": {"docker": {"x.io": []}}}', 'transports.docker."x.io" must'),
])
def test_policy_errors(tmp_path, doc, msg):
    path = tmp_path / "policy.json"
    path.write_text(doc)
    with pytest.raises(ConfigError, match=msg):
        policy.load(str(path))


def test_policy_file_order(tmp_path):
    with pytest.raises(ConfigError, match=policy.ENV_VAR):
        policy.policy_file({policy.ENV_VAR: str(tmp_path / "nope.json")})


def _b64(s):
    return base64.b64encode(s.encode()).decode()


def test_auth_lookup_most_specific_key(tmp_path):
    path = tmp_path / "auth.json"
    path.write_text(json.dumps({"auths": {
        "r.example.com": {"auth": _b64("host:pw1")},
        "r.example.com/team": {"auth": _b64("team:pw2")},
        "https://index.docker.io/v1/": {"auth": _b64("hub:pw3")},
        "broken.example.com": {"auth": "%%%"},
    }}))
    files = [str(path)]
    assert auth.credentials_from_files("r.example.com", files, "team/app") == ("team", "pw2")
    assert auth.credentials_from_files("r.example.com", files, "other/app") == ("host", "pw1")
    assert auth.credentials_from_files("docker.io", files, "library/x") == ("hub", "pw3")
    assert auth.credentials_from_files("broken.example.com", files) is None
    assert auth.resolve_credentials({"username": "u", "password": "p"}, "r.example.com") == ("u", "p")
    assert auth.resolve_credentials({"authfile": str(path)}, "r.example.com") == ("host", "pw1")


def test_login_logout_edits(tmp_path):
    path = str(tmp_path / "sub" / "auth.json")
    assert auth.store_credentials(path, "https://r.example.com:5000/", "u", "p:with:colons") is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert auth.stored_credentials(path, "r.example.com:5000") == ("u", "p:with:colons")
    assert auth.store_credentials(path, "r.example.com:5000", "u", "p:with:colons") is False  # same: unchanged
    assert auth.store_credentials(path, "r.example.com:5000", "u", "new") is True
    auth.store_credentials(path, "q.example.com", "v", "w")
    assert auth.remove_credentials(path, "r.example.com:5000") == ["r.example.com:5000"]
    assert auth.remove_credentials(path, "r.example.com:5000") == []
    assert auth.remove_credentials(path, None) == ["q.example.com"]
    assert auth.read_auth_file(path) == {"auths": {}}
    (tmp_path / "bad.json").write_text("[]")
    with pytest.raises(ConfigError, match="bad.json: expected"):
        auth.stored_credentials(str(tmp_path / "bad.json"), "r.example.com")


def test_auth_file_env(monkeypatch, tmp_path):
    monkeypatch.setenv(auth.ENV_VAR, str(tmp_path / "a.json"))
    assert auth.auth_files() == [str(tmp_path / "a.json")] and auth.default_auth_file() == str(tmp_path / "a.json")


def test_certs_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv(certs.ENV_VAR, str(tmp_path))
    (tmp_path / "r.example.com:5000").mkdir()
    assert certs.host_dir("r.example.com:5000") == str(tmp_path / "r.example.com:5000")
    assert certs.host_dir("other:5000") is None
    (tmp_path / "r.example.com:5000" / "ca.crt").write_text("not a certificate")
    with pytest.raises(RegistryError, match="ca.crt cannot be used"):
        certs.tls_context("r.example.com:5000")
    (tmp_path / "r.example.com:5000" / "ca.crt").unlink()
    (tmp_path / "r.example.com:5000" / "client.cert").write_text("x")
    with pytest.raises(RegistryError, match="has no key"):
        certs.tls_context("r.example.com:5000")
    with pytest.raises(RegistryError, match="cert_dir .*: no such directory"):
        certs.tls_context("r.example.com:5000", cert_dir=str(tmp_path / "nope"))


def test_file_transport_scopes(tmp_path):
    """oci/oci-archive scopes are the resolved path and its parents; docker-archive and tarball only ""."""
    (tmp_path / "trusted" / "sub").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "trusted")
    trusted = str(tmp_path / "trusted")
    doc = {"default": [{"type": "reject"}], "transports": {
        "oci-archive": {trusted: [{"type": "insecureAcceptAnything"}],
                        trusted + "/sub/bad.tar": [{"type": "reject"}]},
        "oci": {"": [{"type": "insecureAcceptAnything"}]},
        "docker-archive": {"": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k.gpg"}]},
    }}
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(doc))
    pol = policy.load(str(path))
    pol.check_file("oci-archive", trusted + "/sub/img.tar")  # parent directory scope accepts
    pol.check_file("oci-archive", str(tmp_path / "link" / "img.tar"))  # symlinks resolved first
    with pytest.raises(RegistryError, match=r"importing oci-archive:.*bad.tar is rejected .*bad.tar\"\)"):
        pol.check_file("oci-archive", trusted + "/sub/bad.tar")  # the file's own scope is most specific
    with pytest.raises(RegistryError, match="scope default"):
        pol.check_file("oci-archive", str(tmp_path / "elsewhere.tar"))
    pol.check_file("oci", "/anywhere/layout")  # transport "" scope
    with pytest.raises(RegistryError, match="signedBy signature verification"):
        pol.check_file("docker-archive", trusted + "/x.tar")  # no path scopes for docker-archive
    with pytest.raises(RegistryError, match="scope default"):
        pol.check_file("tarball", trusted + "/rootfs.tar")
    policy.Policy().check_file("docker-archive", "/x.tar")  # no policy file: accept
