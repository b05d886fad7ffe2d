# SPDX-License-Identifier: GPL-3.0-or-later
"""tarsplit.py: a layer unpacked by install_layer is rebuilt byte for byte (same diff_id)."""
from __future__ import annotations

import gzip
import hashlib
import io
import os

import pytest
from helpers.images import E, tar_from_entries

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import ImageError
from ansible_collections.libpod.engine.plugins.module_utils.engine.storage import tarsplit
from ansible_collections.libpod.engine.plugins.module_utils.engine.storage.layers import install_layer


def _layer(big: int = 300_000) -> bytes:
    return tar_from_entries([
        E("bin", "dir"), E("bin/big", data=os.urandom(big), mode=0o755), E("bin/empty", data=b""),
        E("bin/sh", "symlink", target="big"), E("etc", "dir"), E("etc/x", data=b"x" * 513),
        E("etc/hard", "hardlink", target="etc/x"), E("etc/.wh.gone", data=b""),
        E("a" * 120 + "/long-name-" + "b" * 120, data=b"pax names"),
        E("etc/attr", data=b"y", xattrs={"user.k": b"v"}),
    ])


@pytest.mark.parametrize("compress", [False, True])
def test_rebuild_reproduces_the_layer(tmp_path, compress):
    tar = _layer()
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    blob = gzip.compress(tar) if compress else tar
    final, stats = install_layer(io.BytesIO(blob), str(tmp_path), diff_id, sync=False)
    assert stats is not None
    split = os.path.join(final, tarsplit.FILE_NAME)
    rebuilt = b"".join(tarsplit.rebuild(split, os.path.join(final, "diff")))
    assert rebuilt == tar
    assert tarsplit.tar_size(split) == len(tar)
    # file data is not in the tar-split (only headers): it stays small
    assert os.path.getsize(split) < 20_000


def test_changed_content_is_reported(tmp_path):
    tar = _layer(1000)
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    final, _stats = install_layer(io.BytesIO(tar), str(tmp_path), diff_id, sync=False)
    os.truncate(os.path.join(final, "diff", "bin", "big"), 10)
    with pytest.raises(ImageError, match="shorter than recorded"):
        b"".join(tarsplit.rebuild(os.path.join(final, tarsplit.FILE_NAME), os.path.join(final, "diff")))
