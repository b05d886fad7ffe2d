# SPDX-License-Identifier: GPL-3.0-or-later
"""LayerView: overlay lookups over unpacked layers without mounting (check-mode predictions)."""
from __future__ import annotations

import os

from ansible_collections.libpod.engine.plugins.module_utils.engine.storage.layerview import LayerView


def _layer(root, name, *, files=(), links=(), whiteouts=(), opaque=()):
    base = os.path.join(str(root), name)
    os.makedirs(base)
    for rel, mode in files:
        path = os.path.join(base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(rel)
        os.chmod(path, mode)
    for rel, target in links:
        path = os.path.join(base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(target, path)
    for rel in whiteouts:
        path = os.path.join(base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.mknod(path, 0o600 | 0o020000, os.makedev(0, 0))
    for rel in opaque:
        path = os.path.join(base, rel)
        os.makedirs(path, exist_ok=True)
        os.setxattr(path, "trusted.overlay.opaque", b"y")
    return base


def test_top_layer_wins_symlinks_cross_layers(tmp_path):
    low = _layer(tmp_path, "low", files=[("usr/bin/busybox", 0o755), ("etc/passwd", 0o644)],
                 links=[("bin", "usr/bin"), ("usr/bin/sleep", "/usr/bin/busybox")])
    up = _layer(tmp_path, "up", files=[("etc/passwd", 0o644), ("usr/bin/tool", 0o644)])
    view = LayerView([low, up])
    assert view.read_text("/etc/passwd") == "etc/passwd" and view.resolve("/etc/passwd")[0].startswith(up)
    assert view.is_executable("/bin/sleep")  # /bin -> usr/bin (low), sleep -> /usr/bin/busybox
    assert not view.is_executable("/usr/bin/tool")  # no execute bit
    assert view.resolve("/bin/../../etc/passwd") is not None  # .. after a symlink: its target's parent
    assert view.resolve("/nope/x") is None


def test_whiteout_and_opaque_hide_lower_layers(tmp_path):
    low = _layer(tmp_path, "low", files=[("etc/passwd", 0o644), ("opt/app/run", 0o755), ("opt/app/keep", 0o755)])
    up = _layer(tmp_path, "up", whiteouts=["etc/passwd"], opaque=["opt/app"], files=[("opt/app/keep", 0o755)])
    view = LayerView([low, up])
    assert view.read_text("/etc/passwd") is None
    assert not view.is_executable("/opt/app/run")
    assert view.is_executable("/opt/app/keep")


def test_symlink_loop_is_not_found(tmp_path):
    low = _layer(tmp_path, "low", links=[("a", "b"), ("b", "a")])
    assert LayerView([low]).resolve("/a") is None
