# SPDX-License-Identifier: GPL-3.0-or-later
"""registries.conf v2 parsing and merging, short-name resolution and pull endpoints (mirrors,
blocked registries), without a registry."""
from __future__ import annotations

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import (
    ConfigError,
    ImageError,
    RegistryError,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.image import registries_conf as rc
from ansible_collections.libpod.engine.plugins.module_utils.engine.image import shortnames
from ansible_collections.libpod.engine.plugins.module_utils.engine.image.access import RegistryAccess
from ansible_collections.libpod.engine.plugins.module_utils.engine.image.reference import parse_reference

MAIN = """
unqualified-search-registries = ["registry.example.com", "docker.io"]
short-name-mode = "permissive"

[aliases]
"web" = "quay.example.com/team/web"

[[registry]]
prefix = "docker.io"
location = "docker.io"

[[registry.mirror]]
location = "mirror1.example.com:5000/dockerhub"
insecure = true

[[registry.mirror]]
location = "mirror2.example.com"
pull-from-mirror = "digest-only"

[[registry]]
location = "bad.example.com"
blocked = true

[[registry]]
prefix = "bad.example.com/ok"
location = "bad.example.com/ok"
"""


def _load(tmp_path, main, *dropins):
    path = tmp_path / "registries.conf"
    path.write_text(main)
    if dropins:
        (tmp_path / "registries.conf.d").mkdir()
        for i, text in enumerate(dropins):
            (tmp_path / "registries.conf.d" / ("%02d.conf" % i)).write_text(text)
    return rc.load(rc.config_files({rc.ENV_VAR: str(path)}))


def test_parse_and_merge(tmp_path):
    conf = _load(tmp_path, MAIN, 'short-name-mode = "enforcing"\n[aliases]\n"db" = "docker.io/library/postgres"\n'
                                 '[[registry]]\nlocation = "bad.example.com"\nblocked = false\n')
    assert conf.search == ["registry.example.com", "docker.io"]
    assert conf.short_name_mode == "enforcing"  # replaced by the drop-in
    assert conf.aliases == {"web": "quay.example.com/team/web", "db": "docker.io/library/postgres"}
    assert len(conf.files) == 2
    assert not conf.find("bad.example.com/x:1").blocked  # same prefix: the drop-in's entry replaced it
    assert conf.find("bad.example.com/ok/x").prefix == "bad.example.com/ok"  # longest prefix wins
    assert conf.find("quay.io/x") is None
    assert [m.location for m in conf.find("docker.io/library/nginx").mirrors] == [
        "mirror1.example.com:5000/dockerhub", "mirror2.example.com"]


def test_v1_format(tmp_path):
    conf = _load(tmp_path, '[registries.search]\nregistries = ["r.example.com"]\n'
                           '[registries.insecure]\nregistries = ["i.example.com:5000"]\n'
                           '[registries.block]\nregistries = ["b.example.com"]\n')
    assert conf.search == ["r.example.com"]
    assert conf.find("i.example.com:5000/x").insecure
    assert conf.find("b.example.com/x").blocked


@pytest.mark.parametrize("text,key", [
    ("unqualified-search-registries = \"docker.io\"", "unqualified-search-registries: must be a list"),
    ("short-name-mode = \"strict\"", "short-name-mode: must be one of enforcing, permissive, disabled"),
    ("unqualified-serach-registries = []", "unqualified-serach-registries: unknown key"),
    ("[[registry]]\nlocation = \"https://r.example.com\"",
     "registry[0].location: 'https://r.example.com' must not have a scheme"),
    ("[[registry]]\nlocation = \"r.example.com\"\nblocked = \"yes\"", "registry[0].blocked: must be true or false"),
    ("[[registry]]\nlocation = \"r.example.com\"\n[[registry.mirror]]\ninsecure = true",
     "registry[0].mirror[0].location: is required"),
    ("[[registry]]\nlocation = \"r.example.com\"\nmirrors = []", "registry[0].mirrors: unknown key"),
    ("[aliases]\n\"web\" = \"web:1\"", "aliases.web: 'web:1' is not fully qualified"),
    ("[aliases]\n\"r.io/web\" = \"r.io/web\"", "aliases.r.io/web: an alias must be a short name"),
    ("[registries.search]\nregistries = []\n[[registry]]\nlocation = \"x.io\"", "registries: the v1 format"),
    ("credential-helpers = [\"secretservice\"]", "credential-helpers: only containers-auth.json"),
    ("this is = not toml =", "invalid TOML"),
])
def test_errors_name_file_and_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as ei:
        _load(tmp_path, text)
    assert key in str(ei.value) and str(tmp_path / "registries.conf") in str(ei.value)


def test_override_must_exist(tmp_path):
    with pytest.raises(ConfigError, match=rc.ENV_VAR):
        rc.config_files({rc.ENV_VAR: str(tmp_path / "nope.conf")})


def test_short_names(tmp_path):
    conf = _load(tmp_path, MAIN)
    res = shortnames.resolve("nginx:1.25", conf)
    assert res.candidates == ["registry.example.com/nginx:1.25", "docker.io/library/nginx:1.25"]
    assert "unqualified-search-registries" in res.origin
    assert shortnames.resolve("web", conf).candidates == ["quay.example.com/team/web:latest"]
    assert shortnames.resolve("web:2", conf).candidates == ["quay.example.com/team/web:2"]
    # the alias file wins over registries.conf
    cache = tmp_path / "aliases.conf"
    cache.write_text('[aliases]\n"web" = "cache.example.com/web"\n')
    got = shortnames.resolve("web", conf, shortnames.load_alias_file(str(cache)), str(cache))
    assert got.candidates == ["cache.example.com/web:latest"] and str(cache) in got.origin
    conf.short_name_mode = "enforcing"
    with pytest.raises(ImageError) as ei:
        shortnames.resolve("nginx", conf)
    msg = str(ei.value)
    assert "ambiguous" in msg and "registry.example.com/nginx:latest, docker.io/library/nginx:latest" in msg
    conf.search = ["registry.example.com"]
    assert shortnames.resolve("nginx", conf).candidates == ["registry.example.com/nginx:latest"]
    conf.search = []
    with pytest.raises(ImageError, match="no unqualified-search-registries"):
        shortnames.resolve("nginx", conf)


def test_endpoints_mirrors_and_blocked(tmp_path):
    _load(tmp_path, MAIN)
    access = RegistryAccess(conf_files=[str(tmp_path / "registries.conf")], alias_path="")
    eps = access.endpoints(parse_reference("docker.io/library/nginx:1"))
    assert [(str(e.ref), e.insecure, e.mirror) for e in eps] == [
        ("mirror1.example.com:5000/dockerhub/library/nginx:1", True, True),
        ("docker.io/library/nginx:1", False, False)]  # mirror2 is digest-only
    digest = "sha256:" + "a" * 64
    eps = access.endpoints(parse_reference("docker.io/library/nginx@" + digest))
    assert [e.ref.registry for e in eps] == ["mirror1.example.com:5000", "mirror2.example.com", "docker.io"]
    with pytest.raises(RegistryError, match="registry bad.example.com is blocked in .*registries.conf"):
        access.endpoints(parse_reference("bad.example.com/x:1"))
    assert access.endpoints(parse_reference("bad.example.com/ok/x:1"))[0].ref.registry == "bad.example.com"
    refs, origin = access.candidates("nginx")
    assert [str(r) for r in refs] == ["registry.example.com/nginx:latest", "docker.io/library/nginx:latest"]
    assert access.candidates("docker://nginx")[0][0].registry == "docker.io"
