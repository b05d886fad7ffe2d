# SPDX-License-Identifier: GPL-3.0-or-later
"""ID-shifted image copies: built once per (image, mapping), whiteouts applied, removed per key or image."""
from __future__ import annotations

import os

from ansible_collections.libpod.engine.plugins.module_utils.engine.parse.idmap import IDMap
from ansible_collections.libpod.engine.plugins.module_utils.engine.storage.idmapped import MappedRoots, mapping_key

IMG = "ab" * 32
U, G = [IDMap(0, 200000, 65536)], [IDMap(0, 200000, 65536)]


def _layers(tmp_path):
    base, top = tmp_path / "l1", tmp_path / "l2"
    (base / "etc").mkdir(parents=True)
    (base / "etc" / "gone").write_text("old")
    (base / "etc" / "kept").write_text("kept")
    (top / "etc").mkdir(parents=True)
    os.mknod(str(top / "etc" / "gone"), 0o600 | 0o020000, os.makedev(0, 0))  # overlay whiteout
    return [str(base), str(top)]


def test_build_reuse_remove(tmp_path):
    roots = MappedRoots(str(tmp_path / "graph"))
    layers = _layers(tmp_path)
    root = roots.ensure(IMG, layers, U, G)
    assert sorted(os.listdir(os.path.join(root, "etc"))) == ["kept"]
    assert os.stat(os.path.join(root, "etc", "kept")).st_uid == 200000
    assert os.stat(root).st_mode & 0o777 == 0o755
    marker = os.path.join(root, "marker")
    open(marker, "w").close()
    assert roots.ensure(IMG, layers, U, G) == root and os.path.exists(marker)  # cached, not rebuilt
    other = roots.ensure(IMG, layers, [IDMap(0, 300000, 65536)], G)
    assert other != root and roots.keys(IMG) == sorted([mapping_key(U, G), mapping_key([IDMap(0, 300000, 65536)], G)])
    assert roots.remove(IMG, mapping_key(U, G)) and not os.path.exists(root) and os.path.isdir(other)
    assert roots.remove_image(IMG) and roots.images() == []
