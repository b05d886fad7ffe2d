# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 15 (registries): short names through unqualified-search-registries, mirrors and their
fallback, a blocked registry, login/logout against a TLS + htpasswd registry, a zstd image and a
two-platform index, all against real docker-registry servers on 127.0.0.1, in one playbook run.

Two registries share one storage directory: a plain-http one (pushed to, also the mirror) and a
TLS one with basic auth (a CA made with openssl here, trusted through the test's certs.d).
"""
from __future__ import annotations

import json
import os
import subprocess
import warnings

import pytest
from helpers.images import (
    RegistryServer,
    build_image,
    busybox_layer,
    free_port,
    push_image,
    push_index,
)
from helpers.registries import docker_registries, mirrored_conf

pytestmark = pytest.mark.timeout(300)

USER = "tester"
PASSWORD = "s3cret-Pa55-never-shown"


def _bcrypt(password: str) -> str:
    """An htpasswd bcrypt hash (distribution accepts only bcrypt) with the libc's crypt."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt  # noqa: PLC0415 - deprecated module, test-only
        except ImportError:
            pytest.skip("no crypt module to make a bcrypt htpasswd line (Python >= 3.13)")
        if crypt.METHOD_BLOWFISH not in crypt.methods:
            pytest.skip("the libc's crypt has no bcrypt")
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))


def _openssl(*args: str, cwd: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _make_ca(d: str) -> None:
    """ca.crt/ca.key and a server certificate for IP 127.0.0.1 signed by it."""
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName = IP:127.0.0.1\n")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
             "-subj", "/CN=libpod-engine test CA", "-days", "2", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
             "-subj", "/CN=127.0.0.1", cwd=d)
    _openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "srv.crt", "-days", "2", "-extfile", "ext.cnf", cwd=d)


@pytest.fixture(scope="module")
def regs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("registries"))
    _make_ca(d)
    with open(os.path.join(d, "htpasswd"), "w") as f:
        f.write("%s:%s\n" % (USER, _bcrypt(PASSWORD)))
    storage = os.path.join(d, "storage")
    plain = RegistryServer(os.path.join(d, "plain"), storage=storage)
    secure = RegistryServer(os.path.join(d, "secure"), storage=storage, htpasswd=os.path.join(d, "htpasswd"),
                            tls=(os.path.join(d, "srv.crt"), os.path.join(d, "srv.key")))
    with docker_registries(plain, secure):
        layer = busybox_layer(d)
        imgs = {
            "app": build_image([layer], config={"Cmd": ["sh"], "Labels": {"from": "search"}}),
            "zstd": build_image([layer], compression="zstd", config={"Cmd": ["echo", "zstd"]}),
            "amd64": build_image([layer], config={"Cmd": ["echo", "amd64"]}),
            "arm64": build_image([layer], arch="arm64", variant="v8", config={"Cmd": ["echo", "arm64"]}),
        }
        push_image(plain.url, "app", "latest", imgs["app"])
        push_image(plain.url, "test/busybox", "latest", imgs["app"])
        push_image(plain.url, "test/zstd", "latest", imgs["zstd"])
        push_index(plain.url, "test/multi", "latest", [imgs["arm64"], imgs["amd64"]])
        yield {"dir": d, "plain": plain, "secure": secure, "dead": "127.0.0.1:%d" % free_port(), "imgs": imgs}


def _configure(engine_env, regs) -> None:
    """The test's registries.conf and certs.d (the env vars point into the engine root already)."""
    conf = engine_env["LIBPOD_ENGINE_REGISTRIES_CONF"]
    plain, secure, dead = regs["plain"].host, regs["secure"].host, regs["dead"]
    with open(conf, "w") as f:
        f.write("""
unqualified-search-registries = ["%(secure)s"]
short-name-mode = "enforcing"

[[registry]]
location = "blocked.example.com"
blocked = true
""" % {"secure": secure} + mirrored_conf(plain, dead))
    cadir = os.path.join(engine_env["LIBPOD_ENGINE_CERTS_DIR"], secure)
    os.makedirs(cadir)
    with open(os.path.join(regs["dir"], "ca.crt")) as src, open(os.path.join(cadir, "ca.crt"), "w") as dst:
        dst.write(src.read())


def _ctr(name: str, image: str, **extra) -> dict:
    task = {"libpod.engine.container": dict({"name": name, "image": image, "state": "created",
                                             "network": "none"}, **extra), "register": name}
    return task


def test_registries_end_to_end(playbook, engine_env, regs):
    _configure(engine_env, regs)
    plain, secure = regs["plain"].host, regs["secure"].host
    empty = os.path.join(engine_env.root, "empty-cert-dir")
    os.makedirs(empty)
    login = {"registry": secure, "username": USER, "password": PASSWORD}
    tasks = [
        {"libpod.engine.login": dict(login, password="wrong"), "ignore_errors": True},
        {"libpod.engine.login": login},
        {"libpod.engine.login": login},
        _ctr("short", "app"),  # -> <secure>/app:latest, with the stored login, over TLS with the test CA
        _ctr("short", "app"),
        # the task's cert_dir replaces certs.d: an empty one has no CA for the registry
        dict(_ctr("badca", "%s/app:latest" % secure, pull="always", cert_dir=empty), ignore_errors=True),
        _ctr("fallback", "%s/test/busybox" % plain),  # its mirror is down: the location serves it
        _ctr("mirrored", "mirrored.example.com/test/busybox:latest"),  # location down: the mirror serves it
        dict(_ctr("blocked", "blocked.example.com/team/app:1"), ignore_errors=True),
        _ctr("zstd", "%s/test/zstd" % plain),
        _ctr("multi", "%s/test/multi" % plain),
        {"libpod.engine.logout": {"registry": secure}},
        {"libpod.engine.logout": {"registry": secure}},
        dict(_ctr("nologin", "%s/app:latest" % secure, pull="always"), ignore_errors=True),
        {"libpod.engine.logout": {}, "ignore_errors": True},
    ]
    res = playbook(tasks, extra_args=["-vvv"])
    t = res.tasks
    assert [x.status for x in t] == ["ignored", "changed", "ok", "changed", "ok", "ignored", "changed", "changed",
                                     "ignored", "changed", "changed", "changed", "ok", "ignored", "ignored"], \
        res.stdout[-3000:]
    assert "refused the credentials" in t[0].result["msg"]
    assert t[1].result["authfile"] == engine_env["REGISTRY_AUTH_FILE"]
    assert t[2].result["actions"] == ["already logged in to %s as %s" % (secure, USER)]
    imgs = regs["imgs"]
    ctr = {x.result["container"]["Name"]: x.result["container"] for x in t if "container" in x.result}
    assert ctr["short"]["Image"] == imgs["app"].image_id
    assert ctr["short"]["ImageName"] == "%s/app:latest" % secure
    assert ctr["fallback"]["Image"] == ctr["mirrored"]["Image"] == imgs["app"].image_id
    assert "TLS error talking to registry %s" % secure in t[5].result["msg"]
    assert "certificate verify failed" in t[5].result["msg"]
    t = t[:5] + t[6:]
    assert "registry blocked.example.com is blocked in %s" % engine_env["LIBPOD_ENGINE_REGISTRIES_CONF"] \
        in t[7].result["msg"]
    assert ctr["zstd"]["Image"] == imgs["zstd"].image_id
    assert ctr["multi"]["Image"] == imgs["amd64"].image_id  # the host's platform from the two-platform index
    assert t[10].result["removed"] == [secure] and t[11].result["removed"] == []
    assert "requires a username and password" in t[12].result["msg"]
    assert t[13].result["msg"] == "registry: name one registry, or set all: true (not both)"
    # the password is in no output (-vvv included), no event and no file of the engine
    assert PASSWORD not in res.stdout and PASSWORD not in res.stderr
    for root in (engine_env.paths["static_dir"], engine_env.paths["tmp_dir"]):
        for dirpath, _unused, files in os.walk(root):
            for name in files:
                path = os.path.join(dirpath, name)
                if os.path.islink(path) or not os.path.isfile(path) or "/layers/" in path:
                    continue
                with open(path, "rb") as f:
                    assert PASSWORD.encode() not in f.read(), path
    with open(engine_env["REGISTRY_AUTH_FILE"]) as f:
        assert json.load(f) == {"auths": {}}
