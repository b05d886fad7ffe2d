# SPDX-License-Identifier: GPL-3.0-or-later
"""images.py: every transport imports the same busybox image; names, removal, integrity."""
from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import tarfile
import time

import pytest
from helpers.images import (
    DEFAULT_CONFIG,
    Blob,
    E,
    RegistryServer,
    build_image,
    busybox_layer,
    canonical,
    push_image,
    sha256,
    tar_from_entries,
    write_docker_archive,
    write_docker_archive_multi,
    write_oci_archive,
    write_oci_layout,
)
from helpers.registries import docker_registries

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import (
    DigestMismatch,
    ImageError,
    NoSuchImage,
    RegistryError,
    UnsafeLayer,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.image import store as images_mod
from ansible_collections.libpod.engine.plugins.module_utils.engine.image.store import (
    ImageInUse,
    ImageStore,
    normalize_name,
    parse_image_ref,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State

NAME = "localhost/busybox:latest"


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    """The busybox image in every file format (built once per module)."""
    d = tmp_path_factory.mktemp("fixtures")
    layer = busybox_layer(str(d))
    img = build_image([layer])
    plain = build_image([layer], compression="none")
    out = {
        "img": img, "plain": plain, "dir": str(d),
        "oci_dir": write_oci_layout(str(d / "oci-dir"), [(img, NAME)]),
        "oci_dir_tag": write_oci_layout(str(d / "oci-dir-tag"), [(img, "latest")]),
        "oci_archive": write_oci_archive(str(d / "oci.tar"), [(img, NAME)]),
        "oci_plain": write_oci_archive(str(d / "oci-plain.tar"), [(plain, NAME)]),
        "docker_archive": write_docker_archive(str(d / "docker.tar"), img, [NAME]),
        "docker_archive_gz": write_docker_archive(str(d / "docker-gz.tar"), img, [NAME], compressed_layers=True),
    }
    return out


@pytest.fixture
def store(tmp_path):
    st = State(str(tmp_path / "state.db"))
    yield ImageStore(st, str(tmp_path / "graph"))
    st.close()


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    with docker_registries(RegistryServer(str(tmp_path_factory.mktemp("registry")))) as (reg,):
        yield reg


def graph_entries(store: ImageStore, sub: str):
    try:
        return sorted(os.listdir(os.path.join(store.graph_root, sub)))
    except FileNotFoundError:
        return []


# -- transports --------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["oci_dir", "oci_archive", "oci_plain", "docker_archive", "docker_archive_gz"])
def test_every_file_transport_gives_the_same_image(fx, store, kind):
    transport = {"oci_dir": "oci", "oci_archive": "oci-archive", "oci_plain": "oci-archive"}.get(
        kind, "docker-archive")
    image = store.pull("%s:%s" % (transport, fx[kind]))
    assert image.id == fx["img"].image_id  # same config bytes -> same ID, whatever the packaging
    assert image.names == [NAME]
    assert image.layers == [fx["img"].diff_ids[0].split(":")[1]]
    assert image.size == len(fx["img"].layer_tars[0])
    if kind == "oci_plain":
        assert image.digest == fx["plain"].manifest.digest
    elif kind.startswith("oci"):
        assert image.digest == fx["img"].manifest.digest
    [lower] = store.layer_dirs(image)
    assert os.path.isfile(os.path.join(lower, "bin", "busybox"))
    assert os.path.islink(os.path.join(lower, "bin", "sh"))
    assert store.get("busybox").id == image.id
    assert os.path.isfile(store.blob_path("sha256:" + image.id))
    assert store.read_blob(image.digest)
    assert graph_entries(store, "layers") == image.layers  # no temp dirs left


def test_registry_gives_the_same_image(fx, store, registry):
    push_image(registry.url, "test/busybox", "latest", fx["img"])
    ref = "docker://%s/test/busybox:latest" % registry.host
    image = store.pull(ref, insecure=True)
    assert image.id == fx["img"].image_id
    assert image.digest == fx["img"].manifest.digest
    assert image.names == ["%s/test/busybox:latest" % registry.host]
    oci = store.pull("oci-archive:%s" % fx["oci_archive"])
    assert oci.id == image.id
    assert sorted(oci.names) == sorted([NAME, "%s/test/busybox:latest" % registry.host])
    # a fully qualified plain name is pulled with docker://
    assert store.pull("%s/test/busybox:latest" % registry.host, insecure=True).id == image.id
    assert store.needs_pull(ref, "newer", insecure=True) is False
    assert store.remote_digest(ref, insecure=True) == fx["img"].manifest.digest


def test_config_fields_round_trip(fx, store):
    image = store.pull("oci-archive:%s" % fx["oci_archive"])
    cfg = store.image_config(image)
    for key in ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "Labels", "StopSignal", "ExposedPorts",
                "Volumes"):
        assert cfg[key] == DEFAULT_CONFIG[key], key
    assert image.config["architecture"] == "amd64"
    info = store.inspect(image)
    assert info["Id"] == image.id and info["RepoTags"] == [NAME]
    assert info["Labels"]["org.example.fixture"] == "busybox"
    assert info["RepoDigests"] == ["localhost/busybox@%s" % image.digest]
    again = store.get(image.id)
    assert again.config == image.config and again.manifest == image.manifest


def test_oci_ref_selection(fx, store, tmp_path):
    other = build_image([tar_from_entries([E("only-in-other", data=b"1")])], config={"Cmd": ["other"]})
    layout = write_oci_layout(str(tmp_path / "multi"), [(fx["img"], "localhost/busybox:1"), (other, "other:2")])
    with pytest.raises(ImageError, match="holds 2 images"):
        store.pull("oci:%s" % layout)
    with pytest.raises(NoSuchImage, match="no image named 'nope'"):
        store.pull("oci:%s:nope" % layout)
    img = store.pull("oci:%s:other:2" % layout)
    assert img.id == other.image_id and img.names == ["localhost/other:2"]
    assert store.pull("oci:%s:busybox:1" % layout).names == ["localhost/busybox:1"]  # normalised match
    # a bare tag as ref.name gets the libimage normalisation
    assert "localhost/latest:latest" in store.pull("oci:%s" % fx["oci_dir_tag"]).names


def test_docker_archive_selection(fx, store, tmp_path):
    assert store.pull("docker-archive:%s:@0" % fx["docker_archive"]).names == [NAME]
    assert store.pull("docker-archive:%s:busybox" % fx["docker_archive"]).id == fx["img"].image_id
    other = build_image([tar_from_entries([E("o", data=b"o")])], config={"Cmd": ["o"]})
    multi = write_docker_archive_multi(str(tmp_path / "multi.tar"), [
        (fx["img"], ["busybox:1.36", "quay.io/x/bb:1"]), (other, ["other:2"])])
    with pytest.raises(ImageError, match="holds 2 images"):
        store.pull("docker-archive:%s" % multi)
    # docker writes short RepoTags meaning docker.io
    img = store.pull("docker-archive:%s:@0" % multi)
    assert {"docker.io/library/busybox:1.36", "quay.io/x/bb:1"} <= set(img.names)
    assert store.get("busybox:1.36").id == img.id
    o = store.pull("docker-archive:%s:other:2" % multi)
    assert o.id == other.image_id and o.names == ["docker.io/library/other:2"]
    assert store.pull("docker-archive:%s:docker.io/library/other:2" % multi).id == other.image_id
    store.untag("quay.io/x/bb:1")
    store.untag("busybox:1.36")
    assert "quay.io/x/bb:1" in store.pull("docker-archive:%s:quay.io/x/bb:1" % multi).names
    assert "docker.io/library/busybox:1.36" not in store.get("quay.io/x/bb:1").names  # only the REF
    with pytest.raises(NoSuchImage, match="no image tagged"):
        store.pull("docker-archive:%s:other:1" % fx["docker_archive"])
    with pytest.raises(NoSuchImage, match="no image number 3"):
        store.pull("docker-archive:%s:@3" % fx["docker_archive"])


# -- names -------------------------------------------------------------------------------------
def test_name_normalisation_and_refs():
    assert normalize_name("busybox") == "localhost/busybox:latest"
    assert normalize_name("localhost/x") == "localhost/x:latest"
    assert normalize_name("quay.io/a/b:1") == "quay.io/a/b:1"
    assert normalize_name("docker.io/busybox") == "docker.io/library/busybox:latest"
    assert normalize_name("127.0.0.1:5000/x:y") == "127.0.0.1:5000/x:y"
    assert parse_image_ref("oci-archive:rel.tar:a:b").path == os.path.abspath("rel.tar")
    assert parse_image_ref("oci-archive:rel.tar:a:b").ref == "a:b"
    assert parse_image_ref("docker://q.io/a").transport == "docker"
    assert parse_image_ref("busybox:1").transport == ""
    for bad in ("", "dir:/x", "containers-storage:x"):
        with pytest.raises(ImageError):
            parse_image_ref(bad)
    with pytest.raises(ImageError, match="invalid"):
        normalize_name("UPPER/case")


def test_resolve_by_name_id_prefix_digest(fx, store):
    image = store.pull("oci-archive:%s" % fx["oci_archive"])
    for ref in ("busybox", "busybox:latest", NAME, image.id, image.id[:12], "sha256:" + image.id,
                "localhost/busybox@" + image.digest, image.digest, "docker://" + NAME):
        found = store.resolve(ref)
        assert found is not None and found.id == image.id, ref
    for ref in ("busybox:other", "nothere", "abc", "sha256:" + "0" * 64):
        assert store.resolve(ref) is None, ref
    with pytest.raises(NoSuchImage, match="nothere"):
        store.get("nothere")
    # short names also find docker.io/library/x and unique suffix matches
    store.tag(image.id, "docker.io/library/alpine:3")
    store.tag(image.id, "quay.io/team/tool:1")
    assert store.resolve("alpine:3").id == image.id
    assert store.resolve("tool:1").id == image.id
    store.tag(image.id, "ghcr.io/other/tool:1")
    assert store.resolve("tool:1").id == image.id  # several names, one image: fine


def test_resolve_is_remembered_until_the_db_changes(fx, store, tmp_path, monkeypatch):
    # issue 20: a stack resolved the same reference ~3 times per container, decoding its JSON each time
    first = store.pull("oci-archive:%s" % fx["oci_archive"])
    decoded = []
    real = ImageStore._row_to_image
    monkeypatch.setattr(ImageStore, "_row_to_image", lambda self, row: decoded.append(row[0]) or real(self, row))
    assert store.resolve(NAME).id == store.resolve(NAME).id == store.resolve(first.id).id == first.id
    assert decoded == [first.id, first.id]  # once per reference
    # a change through this connection
    newer = build_image(fx["img"].layer_tars, config=dict(DEFAULT_CONFIG, Cmd=["echo", "v2"]))
    write_oci_archive(str(tmp_path / "v2.tar"), [(newer, NAME)])
    second = store.pull("oci-archive:%s" % (tmp_path / "v2.tar"))
    assert store.resolve(NAME).id == second.id
    # a change committed by another process's connection
    other = State(store.state.path)
    try:
        ImageStore(other, store.graph_root).tag(first.id, NAME)
    finally:
        other.close()
    assert store.resolve(NAME).id == first.id
    assert store.resolve("busybox:nothere") is None and store.resolve("busybox:nothere") is None


def _pulled_archive_counting_reads(fx, store, archive, monkeypatch):
    """A copy of the fixture's oci-archive at ``archive``, pulled; then every read of an archive file
    by the store is counted in the returned list."""
    shutil.copyfile(fx["oci_archive"], archive)
    first = store.pull("oci-archive:%s" % archive)
    peeks = []
    real = ImageStore._peek_file
    monkeypatch.setattr(ImageStore, "_peek_file", lambda self, *a: peeks.append(1) or real(self, *a))
    return archive, first, peeks


def test_resolve_of_an_archive_is_read_again_when_the_file_changes(fx, store, tmp_path, monkeypatch):
    archive, first, peeks = _pulled_archive_counting_reads(fx, store, str(tmp_path / "img.tar"), monkeypatch)
    assert store.resolve("oci-archive:" + archive).id == first.id
    assert store.resolve("oci-archive:" + archive).id == first.id and len(peeks) == 1
    newer = build_image(fx["img"].layer_tars, config=dict(DEFAULT_CONFIG, Cmd=["echo", "v3"]))
    write_oci_archive(archive + ".new", [(newer, NAME)])
    os.replace(archive + ".new", archive)
    assert store.resolve("oci-archive:" + archive) is None and len(peeks) == 2  # not imported yet


def test_what_an_archive_holds_is_remembered_across_tasks_until_the_file_changes(fx, store, tmp_path, monkeypatch):
    """issue 20: a no-op task on an oci-archive: image read the archive (and imported tarfile) every
    time; the next task's store (a new process) now finds the archive's image ID and names in the
    graph root's memo, keyed by the file's identity, and reads the file again once it changed."""
    archive, first, peeks = _pulled_archive_counting_reads(fx, store, str(tmp_path / "memo.tar"), monkeypatch)
    assert store.resolve("oci-archive:" + archive).id == first.id and len(peeks) == 1

    def next_task(**kw):
        return ImageStore(store.state, store.graph_root, **kw)

    assert next_task().resolve("oci-archive:" + archive).id == first.id and len(peeks) == 1  # the memo
    store.untag(NAME)  # the DB is still asked: the names must point to the image
    assert next_task().resolve("oci-archive:" + archive) is None and len(peeks) == 1
    store.tag(first.id, NAME)
    os.utime(archive)  # any change of the file (here its times: a new ctime) means reading it again
    assert next_task().resolve("oci-archive:" + archive).id == first.id and len(peeks) == 2
    newer = build_image(fx["img"].layer_tars, config=dict(DEFAULT_CONFIG, Cmd=["echo", "memo"]))
    write_oci_archive(archive + ".new", [(newer, NAME)])
    os.replace(archive + ".new", archive)
    assert next_task().resolve("oci-archive:" + archive) is None and len(peeks) == 3  # not imported yet
    assert next_task().resolve("oci-archive:" + archive) is None and len(peeks) == 3
    # a check-mode (read-only) store reads the file and writes nothing
    os.utime(archive)
    with open(os.path.join(store.graph_root, images_mod.PEEK_MEMO), encoding="utf-8") as f:
        before = f.read()
    assert next_task(read_only=True).resolve("oci-archive:" + archive) is None and len(peeks) == 4
    with open(os.path.join(store.graph_root, images_mod.PEEK_MEMO), encoding="utf-8") as f:
        assert f.read() == before
    # a memo that is not what the store writes is ignored
    with open(os.path.join(store.graph_root, images_mod.PEEK_MEMO), "w", encoding="utf-8") as f:
        f.write("[not a memo")
    assert next_task().resolve("oci-archive:" + archive) is None and len(peeks) == 5
    assert next_task().resolve("oci-archive:" + archive) is None and len(peeks) == 5


def test_tag_moves_and_old_image_becomes_dangling(fx, store, tmp_path):
    first = store.pull("oci-archive:%s" % fx["oci_archive"])
    newer = build_image(fx["img"].layer_tars, config=dict(DEFAULT_CONFIG, Cmd=["echo", "v2"]))
    write_oci_archive(str(tmp_path / "v2.tar"), [(newer, NAME)])
    second = store.pull("oci-archive:%s" % (tmp_path / "v2.tar"))
    assert second.id != first.id and second.layers == first.layers  # the layer is shared
    assert store.get("busybox").id == second.id
    old = store.get(first.id)
    assert old.names == [] and old.dangling
    assert graph_entries(store, "layers") == first.layers  # unpacked once
    store.tag(first.id, "busybox:old")
    assert store.get("busybox:old").id == first.id
    store.tag(first.id, "busybox")  # the name moves back
    assert store.get("busybox").id == first.id and store.get(second.id).names == []
    assert store.untag("busybox:old") == first.id
    with pytest.raises(NoSuchImage):
        store.untag("busybox:old")
    with pytest.raises(ImageError, match="digest"):
        store.tag(first.id, "x@" + first.digest)


# -- removal -----------------------------------------------------------------------------------
def test_remove_untag_in_use_and_layers(fx, store, tmp_path):
    a = store.pull("oci-archive:%s" % fx["oci_archive"])
    store.tag(a.id, "second:1")
    assert store.remove("second:1") == []  # one of two names: untag only
    assert store.get(a.id).names == [NAME]
    with pytest.raises(ImageInUse, match="in use by container"):
        store.remove(NAME, in_use=lambda iid: ["f" * 64])
    other = build_image(fx["img"].layer_tars + [tar_from_entries([E("extra", data=b"e")])],
                        config={"Cmd": ["x"]})
    write_oci_archive(str(tmp_path / "b.tar"), [(other, "localhost/b:1")])
    b = store.pull("oci-archive:%s" % (tmp_path / "b.tar"))
    assert len(graph_entries(store, "layers")) == 2
    assert store.remove(NAME, in_use=lambda iid: []) == [a.id]
    assert store.resolve(a.id) is None
    assert graph_entries(store, "layers") == sorted(b.layers)  # the shared base layer stays
    assert not os.path.exists(store.blob_path("sha256:" + a.id))
    assert store.remove("b:1") == [b.id]
    assert graph_entries(store, "layers") == []
    assert graph_entries(store, "blobs/sha256") == []
    assert store.state.query("SELECT COUNT(*) FROM layers")[0][0] == 0
    with pytest.raises(NoSuchImage):
        store.remove("b:1")


def test_force_remove_keeps_layers_for_containers_then_prune(fx, store):
    a = store.pull("oci-archive:%s" % fx["oci_archive"])
    assert store.remove(NAME, force=True, in_use=lambda iid: ["f" * 64]) == [a.id]
    assert graph_entries(store, "layers") == a.layers
    assert store.prune_layers(grace=3600) == []  # too young
    assert store.prune_layers(grace=0) == a.layers
    assert graph_entries(store, "layers") == []


def test_prune_dangling(fx, store, tmp_path):
    first = store.pull("oci-archive:%s" % fx["oci_archive"])
    newer = build_image(fx["img"].layer_tars, config={"Cmd": ["v2"]})
    write_oci_archive(str(tmp_path / "v2.tar"), [(newer, NAME)])
    store.pull("oci-archive:%s" % (tmp_path / "v2.tar"))
    assert store.prune_dangling(in_use=lambda iid: ["x"] if iid == first.id else []) == []
    assert store.prune_dangling() == [first.id]
    assert [i.names for i in store.list()] == [[NAME]]


# -- integrity ---------------------------------------------------------------------------------
def _nothing_committed(store: ImageStore):
    assert store.list() == []
    assert store.state.query("SELECT COUNT(*) FROM layers")[0][0] == 0
    assert graph_entries(store, "layers") == []
    assert graph_entries(store, "blobs/sha256") == []


@pytest.mark.parametrize("which", ["layer", "config", "manifest"])
def test_wrong_digest_is_refused(fx, store, tmp_path, which):
    layout = shutil.copytree(fx["oci_dir"], str(tmp_path / "layout"))
    img = fx["img"]
    blob = {"layer": img.layers[0], "config": img.config, "manifest": img.manifest}[which]
    path = os.path.join(layout, "blobs", "sha256", blob.digest.split(":")[1])
    with open(path, "r+b") as f:  # flip one byte, keep the size
        f.seek(blob.size // 2)
        byte = f.read(1)
        f.seek(blob.size // 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(DigestMismatch) as ei:
        store.pull("oci:%s" % layout)
    assert blob.digest in str(ei.value)
    _nothing_committed(store)


def test_short_blob_is_refused(fx, store, tmp_path):
    layout = shutil.copytree(fx["oci_dir"], str(tmp_path / "layout"))
    path = os.path.join(layout, "blobs", "sha256", fx["img"].layers[0].digest.split(":")[1])
    with open(path, "ab") as f:
        f.write(b"trailing garbage")
    with pytest.raises(DigestMismatch, match="longer than its declared size"):
        store.pull("oci:%s" % layout)
    _nothing_committed(store)


def test_config_diff_ids_must_match_layers(fx, store, tmp_path):
    bad_cfg = json.loads(fx["img"].config.data)
    bad_cfg["rootfs"]["diff_ids"] = [sha256(b"not the layer")]
    cfg = Blob(canonical(bad_cfg), fx["img"].config.media_type)
    man = json.loads(fx["img"].manifest.data)
    man["config"] = cfg.descriptor()
    img = type(fx["img"])(cfg, Blob(canonical(man), man["mediaType"]), fx["img"].layers, fx["img"].layer_tars, {})
    layout = write_oci_layout(str(tmp_path / "l"), [(img, None)])
    with pytest.raises(DigestMismatch, match="diff_id"):
        store.pull("oci:%s" % layout)
    _nothing_committed(store)


def test_truncated_archive_is_a_clear_error(fx, store, tmp_path):
    with open(fx["oci_archive"], "rb") as f:
        data = f.read()
    with tarfile.open(fx["oci_archive"]) as tf:
        members = tf.getmembers()
    layer = next(m for m in members if m.size == fx["img"].layers[0].size)
    last = members[-1]  # the manifest blob
    # inside the layer's data, inside the last member's data, inside the first headers
    for cut in (layer.offset_data + layer.size // 2, last.offset_data + last.size // 2, 700):
        path = tmp_path / ("cut-%d.tar" % cut)
        path.write_bytes(data[:cut])
        with pytest.raises(ImageError, match="truncated|missing|not a tar") as ei:
            store.pull("oci-archive:%s" % path)
        assert str(path) in str(ei.value)
        _nothing_committed(store)
    with pytest.raises(ImageError, match="does not exist"):
        store.pull("oci-archive:%s" % (tmp_path / "nope.tar"))
    with pytest.raises(ImageError, match="not a directory"):
        store.pull("oci:%s" % (tmp_path / "nope"))


def test_fifo_blob_in_a_layout_is_refused(fx, store, tmp_path):
    layout = shutil.copytree(fx["oci_dir"], str(tmp_path / "layout"))
    path = os.path.join(layout, "blobs", "sha256", fx["img"].config.digest.split(":")[1])
    os.unlink(path)
    os.mkfifo(path)
    with pytest.raises(ImageError, match="not a regular file"):
        store.pull("oci:%s" % layout)
    _nothing_committed(store)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("transport", ["oci-archive", "docker-archive"])
def test_archive_transports_take_regular_files_only(store, tmp_path, transport):
    """/dev/zero used to spin at 100 % CPU forever and a FIFO to block forever (issue 22 item 8)."""
    fifo = str(tmp_path / "pipe.tar")
    os.mkfifo(fifo)
    for path in ("/dev/zero", fifo, str(tmp_path)):
        with pytest.raises(ImageError, match="is not a regular file") as ei:
            store.pull("%s:%s" % (transport, path))
        assert path in str(ei.value)
        with pytest.raises(ImageError, match="is not a regular file"):
            store.resolve("%s:%s" % (transport, path))
    _nothing_committed(store)


def test_hostile_layer_in_an_image(store, tmp_path):
    evil = build_image([tar_from_entries([E("a", "symlink", target="/etc"), E("a/pwned", data=b"x")])])
    layout = write_oci_layout(str(tmp_path / "evil"), [(evil, "evil")])
    with pytest.raises(UnsafeLayer, match="a/pwned"):
        store.pull("oci:%s" % layout)
    assert not os.path.exists("/etc/pwned")
    _nothing_committed(store)


def test_zstd_layers(fx, store, tmp_path):
    """A zstd-compressed image is the same image (same config, so same ID) as the gzip one."""
    pytest.importorskip("zstandard")
    img = fx["img"]
    zimg = build_image(img.layer_tars, compression="zstd", config={"Cmd": ["sh", "-c", "echo $GREETING"]})
    layout = write_oci_layout(str(tmp_path / "z"), [(zimg, None)])
    got = store.pull("oci:%s" % layout)
    assert json.loads(zimg.manifest.data)["layers"][0]["mediaType"].endswith("+zstd")
    assert got.layers == [d.split(":", 1)[1] for d in zimg.diff_ids]
    assert all(os.path.isdir(store.layer_path(d)) for d in zimg.diff_ids)


# -- pull policy -------------------------------------------------------------------------------
def test_needs_pull_for_files(fx, store, tmp_path):
    ref = "oci-archive:%s" % fx["oci_archive"]
    with pytest.raises(ImageError, match="pull policy"):
        store.needs_pull(ref, "sometimes")
    assert store.needs_pull(ref, "missing") is True
    assert store.needs_pull(ref, "never") is False
    store.pull(ref)
    assert store.needs_pull(ref, "missing") is False
    assert store.needs_pull(ref, "newer") is False
    assert store.needs_pull(ref, "always") is True
    assert store.needs_pull("busybox", "missing") is False
    assert store.needs_pull("nothere", "missing") is True
    assert store.remote_digest(ref) == fx["img"].manifest.digest
    # a new archive under the same name -> needs pulling again
    newer = build_image(fx["img"].layer_tars, config={"Cmd": ["v3"]})
    write_oci_archive(str(tmp_path / "v3.tar"), [(newer, NAME)])
    assert store.needs_pull("oci-archive:%s" % (tmp_path / "v3.tar"), "missing") is True
    # the name was moved away from the archive's image -> pull again to move it back
    store.pull("oci-archive:%s" % (tmp_path / "v3.tar"))
    assert store.needs_pull(ref, "missing") is True


def test_short_and_local_names_cannot_be_pulled(fx, store):
    with pytest.raises(ImageError, match="short name"):
        store.pull("busybox")
    with pytest.raises(NoSuchImage, match="local image"):
        store.pull("localhost/busybox")
    img = store.pull("oci-archive:%s" % fx["oci_archive"])
    for ref in ("busybox", "localhost/busybox", img.id, img.id[:12]):
        assert store.pull(ref).id == img.id  # nothing to pull from: the local image


# -- concurrency -------------------------------------------------------------------------------
def _pull_worker(args):
    db, graph, ref = args
    st = State(db)
    try:
        return ImageStore(st, graph).pull(ref).id
    finally:
        st.close()


def test_two_processes_pull_the_same_image(fx, tmp_path):
    db, graph = str(tmp_path / "state.db"), str(tmp_path / "graph")
    State(db).close()
    ctx = multiprocessing.get_context("fork")
    ref = "oci-archive:%s" % fx["oci_archive"]
    with ctx.Pool(3) as pool:
        ids = pool.map(_pull_worker, [(db, graph, ref)] * 3, chunksize=1)
    assert set(ids) == {fx["img"].image_id}
    st = State(db)
    store = ImageStore(st, graph)
    assert [i.id for i in store.list()] == [fx["img"].image_id]
    assert graph_entries(store, "layers") == store.list()[0].layers
    assert st.query("SELECT COUNT(*) FROM layers")[0][0] == 1
    assert not [n for n in graph_entries(store, "blobs/sha256") if n.startswith(".tmp")]
    st.close()


# -- timings (reported, not asserted) ----------------------------------------------------------
def test_import_timing(fx, tmp_path, record_property):
    cold, warm = [], []
    for i in range(5):
        st = State(str(tmp_path / ("s%d.db" % i)))
        store = ImageStore(st, str(tmp_path / ("g%d" % i)))
        t0 = time.perf_counter()
        store.pull("oci-archive:%s" % fx["oci_archive"])
        t1 = time.perf_counter()
        store.pull("oci-archive:%s" % fx["oci_archive"])
        t2 = time.perf_counter()
        cold.append(t1 - t0)
        warm.append(t2 - t1)
        st.close()
    cold.sort()
    warm.sort()
    record_property("import_cold_ms", round(cold[2] * 1000, 2))
    record_property("import_warm_ms", round(warm[2] * 1000, 2))
    print("busybox oci-archive import: cold %.1f ms, warm %.1f ms (median of 5)" % (cold[2] * 1000,
                                                                                    warm[2] * 1000))
    assert images_mod.PULL_POLICIES


@pytest.mark.parametrize("kind", ["oci_dir", "oci_archive", "docker_archive"])
def test_file_imports_obey_the_signature_policy(fx, store, tmp_path, monkeypatch, kind):
    """A default-reject policy refuses loading archives too (as podman load), and nothing is stored."""
    transport = {"oci_dir": "oci", "oci_archive": "oci-archive"}.get(kind, "docker-archive")
    pol = tmp_path / "policy.json"
    pol.write_text('{"default": [{"type": "reject"}]}')
    monkeypatch.setenv("LIBPOD_ENGINE_POLICY", str(pol))
    with pytest.raises(RegistryError, match=r"importing %s:.* is rejected by the signature policy" % transport):
        store.pull("%s:%s" % (transport, fx[kind]))
    assert store.list() == [] and graph_entries(store, "layers") == []
    pol.write_text('{"default": [{"type": "reject"}], "transports": {"%s": {"": [{"type": "insecureAcceptAnything"}]}}}'
                   % transport)
    assert store.pull("%s:%s" % (transport, fx[kind])).names == [NAME]
