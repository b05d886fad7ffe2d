# SPDX-License-Identifier: GPL-3.0-or-later
"""A container's user namespace in the objects layer: auto blocks from the records, image-sized, and the
shifted copy kept while another container with the same image and mapping remains."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects import userns

IMG = "cd" * 32


class FakeView:
    def __init__(self, files):
        self.files = files

    def read_text(self, path):
        return self.files.get(path)


def fake_rt(configs, files=None, removed=None):
    records = [SimpleNamespace(config=c) for c in configs]
    images = SimpleNamespace(view=lambda image: FakeView(files or {}))
    roots = SimpleNamespace(remove=lambda image_id, key: removed.append((image_id, key)) or True)
    state = SimpleNamespace(list=lambda kind, all_namespaces=False: records if all_namespaces else [])
    return SimpleNamespace(state=state, images=images, mapped_roots=roots)


@pytest.fixture
def subids(tmp_path, monkeypatch):
    for kind in ("UID", "GID"):
        (tmp_path / kind).write_text("containers:300000:5000\n")
        monkeypatch.setenv("LIBPOD_ENGINE_SUB%s" % kind, str(tmp_path / kind))


def test_auto_blocks_skip_the_recorded_ones(subids):
    rt = fake_rt([{"userns": "auto", "uidmap": ["0:300000:1024"], "gidmap": ["0:300000:1024"]},  # any namespace
                  {"userns": None, "uidmap": ["0:301024:100"]}])  # not auto: not a block of the pool
    cfg = userns.allocate_auto(rt, {"userns": "auto:size=100"}, None)
    assert cfg["uidmap"] == ["0:301024:100"] and cfg["gidmap"] == ["0:301024:100"]
    with pytest.raises(InvalidArg, match="no free block of 4000 UIDs"):
        userns.allocate_auto(rt, {"userns": "auto:size=4000"}, None)
    assert userns.allocate_auto(rt, {"userns": None}, None) == {"userns": None}


def test_auto_size_from_the_image_but_not_nobody(subids):
    passwd = "root:x:0:0::/root:/bin/sh\napp:x:2000:2000::/:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"
    rt = fake_rt([], {"/etc/passwd": passwd, "/etc/group": "root:x:0:\n"})
    cfg = userns.allocate_auto(rt, {"userns": "auto"}, None)
    assert cfg["uidmap"] == ["0:300000:2001"]
    rt = fake_rt([], {"/etc/passwd": "root:x:0:0::/root:/bin/sh\n"})
    assert userns.allocate_auto(rt, {"userns": "auto"}, None)["uidmap"] == ["0:300000:1024"]


def test_shifted_copy_released_with_its_last_user():
    removed = []
    cfg = {"image_id": IMG, "uidmap": ["0:200000:65536"], "gidmap": ["0:200000:65536"]}
    rt = fake_rt([], removed=removed)
    assert not userns.release_mapped_root(rt, cfg, [dict(cfg)])  # another container still uses it
    assert not removed
    assert userns.release_mapped_root(rt, cfg, [dict(cfg, uidmap=["0:100000:65536"], gidmap=[])])
    assert removed and removed[0][0] == IMG
    assert not userns.release_mapped_root(rt, {"image_id": IMG}, [])  # no mapping, no copy


def test_to_host():
    cfg = {"uidmap": ["0:200000:1000"], "gidmap": ["0:300000:1000"]}
    assert userns.to_host(cfg, 5, 6) == (200005, 300006)
    assert userns.to_host(cfg, 5000, 0) == (65534, 300000)
    assert userns.to_host({}, 5, 6) == (5, 6)


def _fake_crun(tmp_path, version):
    path = tmp_path / "crun"
    path.write_text("#!/bin/sh\necho 'crun version %s'\n" % version)
    path.chmod(0o755)
    return SimpleNamespace(name="crun", path=str(path))


def test_old_crun_is_refused_with_a_user_namespace(tmp_path):
    with pytest.raises(InvalidArg, match="crun 1.8.1 cannot run a container with a user namespace safely"):
        userns.check_runtime(_fake_crun(tmp_path, "1.8.1"), {"uidmap": ["0:1:1"]})
    userns.check_runtime(_fake_crun(tmp_path, "1.8.1"), {"uidmap": []})  # no user namespace: fine
    userns.check_runtime(_fake_crun(tmp_path, "1.24.0"), {"userns": "auto"})
    userns.check_runtime(SimpleNamespace(name="runc", path="/nonexistent"), {"uidmap": ["0:1:1"]})
