# SPDX-License-Identifier: GPL-3.0-or-later
"""rootfs: true: the declared directory, its checks, and what the container record keeps."""
from __future__ import annotations

import os

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg, UnsafePath
from ansible_collections.libpod.engine.plugins.module_utils.reconcile import container_rootfs as cr
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS


def test_the_path_is_normalised_and_keeps_the_overlay_suffix():
    assert cr.canonical("/srv//root/") == "/srv/root"
    assert cr.canonical("/srv/root/:O") == "/srv/root:O"
    declared = OPTIONS.declared({"name": "c", "image": "/srv/root", "rootfs": True})
    assert declared["rootfs"] is True
    assert OPTIONS.declared({"name": "c", "image": "busybox"})["rootfs"] is False


@pytest.mark.parametrize("image,msg", [
    ("relative/dir", "needs image: to be an absolute directory path"),
    ("/srv/root:idmap", "option 'idmap' of image /srv/root:idmap is not supported"),
    ("/srv/root:ro", "option 'ro'"),
])
def test_what_podman_rootfs_would_not_take_here_is_refused(image, msg):
    with pytest.raises(InvalidArg, match=msg):
        cr.canonical(image)


def test_the_directory_must_exist_be_a_directory_and_be_safe(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "file").write_text("x")
    image = cr.rootfs_image({"image": str(root) + ":O"})
    assert (image.path, image.overlay, image.id) == (str(root), True, "")
    with pytest.raises(InvalidArg, match="does not exist"):
        cr.rootfs_image({"image": str(root / "missing")})
    with pytest.raises(InvalidArg, match="is not a directory"):
        cr.rootfs_image({"image": str(root / "file")})
    with pytest.raises(InvalidArg, match="cannot be combined with uidmap"):
        cr.rootfs_image({"image": str(root), "uidmap": ["0:100000:65536"]})
    os.chmod(str(root), 0o777)
    with pytest.raises(UnsafePath, match="writable by group and others"):
        cr.rootfs_image({"image": str(root)})


def test_check_mode_only_warns_about_a_directory_an_earlier_task_may_create(tmp_path):
    warnings = []
    image = cr.rootfs_image({"image": str(tmp_path / "later")}, check_mode=True, warnings=warnings)
    assert image.path == str(tmp_path / "later")
    assert warnings == ["check mode: rootfs directory %s does not exist (yet); a real run fails unless an earlier "
                        "task creates it" % (tmp_path / "later")]
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidArg, match="is not a directory"):  # what exists is checked in check mode too
        cr.rootfs_image({"image": str(tmp_path / "file")}, check_mode=True, warnings=warnings)
