# SPDX-License-Identifier: GPL-3.0-or-later
"""archive.py, importer.py, prune.py: save keeps the ID, rootfs imports compare by content, prune frees what it says."""
from __future__ import annotations

import gzip
import os
import subprocess
import time

import pytest
from helpers.images import E, build_image, busybox_layer, tar_from_entries, write_oci_archive

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import (
    ImageError,
    InvalidArg,
    RegistryError,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.image import archive, importer
from ansible_collections.libpod.engine.plugins.module_utils.engine.image import prune as pruner
from ansible_collections.libpod.engine.plugins.module_utils.engine.image.store import ImageStore
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State

NAME = "localhost/busybox:latest"


@pytest.fixture
def store(tmp_path):
    st = State(str(tmp_path / "state.db"))
    yield ImageStore(st, str(tmp_path / "graph"))
    st.close()


@pytest.fixture
def gz_archive(tmp_path):
    """A busybox image with a gzip layer (as pulled from a registry): the store never keeps that blob."""
    img = build_image([busybox_layer(str(tmp_path))])
    return img, write_oci_archive(str(tmp_path / "in.tar"), [(img, NAME)])


@pytest.mark.parametrize("fmt", archive.FORMATS)
def test_save_remove_import_keeps_the_id(store, gz_archive, tmp_path, fmt):
    built, path = gz_archive
    img = store.pull("oci-archive:" + path)
    out = str(tmp_path / "out.tar")
    saved = archive.save(store, img, out, fmt)
    assert saved.size == os.path.getsize(out) and saved.names == [NAME]
    assert store.peek("%s:%s" % (fmt, out)) == (img.id, [NAME])
    store.remove(img.id)
    assert store.list() == []
    again = store.pull("%s:%s" % (fmt, out))
    assert again.id == img.id == built.image_id and again.names == [NAME]


def test_save_refuses_a_layer_without_tar_split(store, gz_archive, tmp_path):
    img = store.pull("oci-archive:" + gz_archive[1])
    os.unlink(os.path.join(store.layers_dir, img.layers[0], "tar-split.gz"))
    with pytest.raises(ImageError, match="cannot be saved byte for byte"):
        archive.save(store, img, str(tmp_path / "x.tar"))
    assert not os.path.exists(tmp_path / "x.tar")


def _rootfs_tar(tmp_path, name="rootfs.tar", compress=False) -> str:
    data = tar_from_entries([E("./", "dir"), E("./bin", "dir"),
                             E("./bin/hello", data=b"#!/bin/sh\necho hi\n", mode=0o755)])
    path = str(tmp_path / name)
    with open(path, "wb") as f:
        f.write(gzip.compress(data) if compress else data)
    return path


def test_detect_tells_the_kinds_apart(gz_archive, tmp_path):
    assert importer.detect(gz_archive[1]) == ("oci-archive", "oci-archive:" + gz_archive[1])
    rootfs = _rootfs_tar(tmp_path)
    assert importer.detect(rootfs) == (importer.ROOTFS, rootfs)
    assert importer.detect("docker-archive:/x.tar") == ("docker-archive", "docker-archive:/x.tar")
    with pytest.raises(InvalidArg, match="does not exist"):
        importer.detect(str(tmp_path / "missing.tar"))
    (tmp_path / "junk").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(InvalidArg, match="not a tar archive"):
        importer.detect(str(tmp_path / "junk"))


def test_change_config():
    cfg = importer.change_config({"cmd": "httpd -f", "entrypoint": ["/init"], "env": {"A": 1},
                                  "workdir": "/srv", "user": 1000, "labels": {"x": None}})
    assert cfg == {"Cmd": ["/bin/sh", "-c", "httpd -f"], "Entrypoint": ["/init"], "Env": ["A=1"],
                   "WorkingDir": "/srv", "User": "1000", "Labels": {"x": ""}}
    assert importer.change_config({"env": ["A=b=c"]}) == {"Env": ["A=b=c"]}
    with pytest.raises(InvalidArg, match="unknown key"):
        importer.change_config({"expose": [80]})
    with pytest.raises(InvalidArg, match="change.env"):
        importer.change_config({"env": ["NOEQUALS"]})


@pytest.mark.parametrize("compress", [False, True])
def test_rootfs_import_is_compared_by_content(store, tmp_path, compress):
    path = _rootfs_tar(tmp_path, compress=compress)
    plan = importer.plan_rootfs(path, {"cmd": ["/bin/hello"]}, None)
    img = importer.import_rootfs(store, plan, "localhost/hello:1")
    assert img.names == ["localhost/hello:1"] and img.source == path
    assert store.image_config(img)["Cmd"] == ["/bin/hello"]
    assert importer.same_content(img, importer.plan_rootfs(path, {"cmd": ["/bin/hello"]}, None))
    assert not importer.same_content(img, importer.plan_rootfs(path, {"cmd": ["/bin/other"]}, None))
    assert os.path.isfile(os.path.join(store.layer_path(plan.diff_id), "bin", "hello"))
    # a rootfs layer can be saved too, and comes back with the same ID
    out = str(tmp_path / "hello.tar")
    archive.save(store, img, out, "docker-archive")
    store.remove(img.id)
    assert store.pull("docker-archive:" + out).id == img.id


def test_until_and_label_filters():
    now = 1_000_000.0
    assert pruner.parse_until("24h", now) == now - 86400
    assert pruner.parse_until("1700000000", now) == 1_700_000_000
    assert pruner.parse_until("2024-01-31T00:00:00Z", now) == 1706659200
    with pytest.raises(InvalidArg, match="until"):
        pruner.parse_until("yesterday", now)
    with pytest.raises(InvalidArg, match="unknown filter"):
        pruner.validate_filters({"dangling": True})
    assert pruner.validate_filters({"label": "a=b"})["label"] == ["a=b"]


def _du(path: str) -> int:
    return int(subprocess.run(["du", "-sb", path], capture_output=True, text=True, check=True).stdout.split()[0])


def test_prune_frees_what_it_reports(store, gz_archive, tmp_path):
    img = store.pull("oci-archive:" + gz_archive[1])
    other = importer.import_rootfs(store, importer.plan_rootfs(_rootfs_tar(tmp_path), {"labels": {"keep": "1"}}, None),
                                   "localhost/keep:1")
    store.untag(NAME)  # dangling now
    filters = pruner.validate_filters({"label!": ["keep"], "until": str(time.time() + 60)})
    planned = pruner.prune(store, "all", filters, check_mode=True)
    assert [i.id for i in planned.removed] == [img.id]
    before = _du(store.graph_root)
    done = pruner.prune(store, "all", filters)
    assert done.bytes == planned.bytes == before - _du(store.graph_root) > 0
    assert [i.id for i in store.list()] == [other.id]
    assert pruner.prune(store, "dangling", pruner.validate_filters(None)).removed == []


def test_rootfs_import_obeys_the_tarball_policy(store, tmp_path, monkeypatch):
    """A rootfs import is the ``tarball`` transport for the policy; the engine's own temp layout is not checked."""
    path = _rootfs_tar(tmp_path)
    pol = tmp_path / "policy.json"
    pol.write_text('{"default": [{"type": "reject"}]}')
    monkeypatch.setenv("LIBPOD_ENGINE_POLICY", str(pol))
    plan = importer.plan_rootfs(path, None, None)
    with pytest.raises(RegistryError, match=r"importing tarball:.* is rejected"):
        importer.import_rootfs(store, plan, "localhost/hello:1")
    assert store.list() == []
    pol.write_text('{"default": [{"type": "reject"}], '
                   '"transports": {"tarball": {"": [{"type": "insecureAcceptAnything"}]}}}')
    assert importer.import_rootfs(store, plan, "localhost/hello:1").names == ["localhost/hello:1"]
