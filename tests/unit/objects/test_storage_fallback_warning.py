# SPDX-License-Identifier: GPL-3.0-or-later
"""A container created on vfs because no overlay can mount (native refused, fuse-overlayfs unusable)
says so in a warning naming the fix, instead of silently making full copies."""
from __future__ import annotations

import os

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.image import infra as infra_mod
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.container import create_container
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import open_runtime
from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions
from ansible_collections.libpod.engine.plugins.module_utils.engine.storage import fuseoverlay, rootfs
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container import build_config
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS as CTR_OPTIONS


@pytest.mark.skipif(not os.path.isfile("/usr/bin/catatonit"), reason="catatonit not installed (the test image)")
def test_vfs_fallback_warns_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(rootfs, "overlay_supported", lambda root, cache_dir="": (False, "overlay refused: test"))
    monkeypatch.setattr(fuseoverlay, "DEFAULT_PROGRAM", str(tmp_path / "no-fuse-overlayfs"))
    static = tmp_path / "static"
    conf = tmp_path / "containers.conf"
    conf.write_text("")
    overrides = {"engine": {"static_dir": str(static), "tmp_dir": str(tmp_path / "run"),
                            "volume_path": str(static / "volumes")},
                 "storage": {"graph_root": str(static / "storage")}}
    rt = open_runtime(OpenOptions(overrides=overrides, env={"LIBPOD_ENGINE_CONF": str(conf)}))
    try:
        image = infra_mod.ensure_infra_image(rt)
        declared = CTR_OPTIONS.declared({"name": "v", "image": infra_mod.infra_image_name(), "command": ["x"]})
        ctr = create_container(rt, build_config(rt, declared, image, None), name="v")
        assert rt.storage.driver == "vfs"
        warned = [w for w in rt.warnings if w.startswith("graph driver vfs")]
        assert len(warned) == 1 and "overlay refused: test" in warned[0] and "fuse-overlayfs" in warned[0], rt.warnings
        ctr.remove()
    finally:
        rt.shutdown()
