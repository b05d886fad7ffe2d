# SPDX-License-Identifier: GPL-3.0-or-later
"""Import of a ~100 MB oci-archive (issue 15): the engine's image import vs ``podman load -i``
of the same archive.

The archive holds one image of 4 layers of 25 MB random bytes (gzip level 1: incompressible, so
~100 MB in the archive and on disk), written with the test helpers. Each pass starts from an empty
store and the two sides are interleaved per pass (engine, podman, engine, podman, ...), so the
machine's load hits both alike:

* engine: ``engine.objects.image.import_archive`` (what the ``libpod.engine.image`` module runs for
  ``{name, path}``: import, tag, ``import`` event) in this process, against a fresh engine root
  (its open is not timed);
* podman: ``podman load -i`` as a CLI process with its own ``--root``/``--runroot`` (a short /tmp
  dir: podman refuses a runroot path over 50 characters) and the vfs driver (no mounts; it unpacks
  the layers as the engine does).

Figures only, nothing asserted.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List

from common import PKG, REPO, BenchRoot, Section, summary

LAYERS = 4
LAYER_BYTES = 25 << 20
NAME = "localhost/bench/big:latest"


def _archive(path: str) -> int:
    """Write the oci-archive; returns its size in bytes."""
    from helpers.images import E, build_image, tar_from_entries, write_oci_archive  # noqa: PLC0415 - bench only

    tars = [tar_from_entries([E("data/blob%d" % i, data=os.urandom(LAYER_BYTES))]) for i in range(LAYERS)]
    write_oci_archive(path, [(build_image(tars, config={"Cmd": ["sh"]}), NAME)])
    return os.path.getsize(path)


def _engine_pass(archive: str) -> float:
    objects_image = __import__(PKG + ".engine.objects.image", fromlist=["import_archive"])
    b = BenchRoot("imp")
    try:
        rt = b.open()
        try:
            t0 = time.perf_counter()
            img = objects_image.import_archive(rt, "oci-archive:" + archive, NAME)
            took = time.perf_counter() - t0
            if len(img.layers) != LAYERS or img.size < LAYERS * LAYER_BYTES:
                raise RuntimeError("engine import incomplete: %d layers, %d bytes" % (len(img.layers), img.size))
        finally:
            rt.shutdown()
    finally:
        left = b.cleanup()
        if left:
            print("  cleanup: %s" % left, flush=True)
    return took


def _podman_pass(archive: str) -> float:
    top = tempfile.mkdtemp(prefix="lpeb-", dir="/tmp")  # short: podman's runroot limit is 50 chars
    base = ["podman", "--root", os.path.join(top, "r"), "--runroot", os.path.join(top, "rr"),
            "--storage-driver", "vfs", "--events-backend", "file", "--cgroup-manager", "cgroupfs"]
    try:
        t0 = time.perf_counter()
        out = subprocess.run(base + ["load", "-q", "-i", archive], capture_output=True, text=True,
                             timeout=600, check=False)
        took = time.perf_counter() - t0
        if out.returncode:
            raise RuntimeError("podman load failed: %s" % out.stderr.strip()[-300:])
        subprocess.run(base + ["system", "reset", "-f"], capture_output=True, timeout=300, check=False)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return took


def run(quick: bool = False) -> Dict[str, Any]:
    sec = Section("import", "Import of a ~100 MB oci-archive vs podman load (issue 15)")
    passes = 2 if quick else 3
    sys.path.insert(0, os.path.join(REPO, "tests"))  # the test helpers (image builder)
    work = tempfile.mkdtemp(prefix="lpe-bench-import-", dir="/tmp")
    try:
        archive = os.path.join(work, "big.tar")
        size = _archive(archive)
        sec.data["bytes"] = size
        podman_ok = shutil.which("podman") is not None
        if not podman_ok:
            sec.note("podman is not installed: no comparison")
        engine: List[float] = []
        podman: List[float] = []
        ratios: List[float] = []
        for _pass in range(passes):
            engine.append(_engine_pass(archive))
            if podman_ok:
                try:
                    podman.append(_podman_pass(archive))
                except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                    sec.note(str(exc))
                    podman_ok = False
                    continue
                ratios.append(engine[-1] / podman[-1])
        sec.row("engine: import oci-archive %d MB (%d layers)" % (size >> 20, LAYERS), summary(engine))
        if podman:
            sec.row("podman load -i (vfs, same archive)", summary(podman))
            ratio = summary(engine)["median"] / summary(podman)["median"]
            sec.row("ratio engine / podman (median)", None, ratio=round(ratio, 2),
                    per_pass="/".join("%.2f" % r for r in ratios))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return sec.close()


if __name__ == "__main__":
    import json as _json

    print(_json.dumps(run(quick="--quick" in sys.argv), indent=1))
