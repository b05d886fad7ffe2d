# SPDX-License-Identifier: GPL-3.0-or-later
"""Pull of a ~100 MB image from a local registry (issue 15): the engine's ImageStore.pull vs
``podman pull`` of the same image.

A plain-http ``docker-registry`` on 127.0.0.1 serves an image of 4 layers of 25 MB random
bytes (gzip level 1: incompressible, so ~100 MB on the wire and on disk). Each pass starts from
an empty store: the engine in this process (a fresh state DB and graph root; no Ansible), podman
as a CLI process with its own ``--root``/``--runroot`` and the vfs driver (no mounts; it unpacks
like the engine does), ``--tls-verify=false``. Figures only, nothing asserted.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict

from common import PKG, REPO, Section, summary

LAYERS = 4
LAYER_BYTES = 25 << 20


def _image():
    """4 layers of 25 MB random bytes (gzip: ~100 MB on the wire), built with the test helpers."""
    from helpers.images import E, build_image, tar_from_entries  # noqa: PLC0415 - test helpers, bench only

    tars = [tar_from_entries([E("data/blob%d" % i, data=os.urandom(LAYER_BYTES))]) for i in range(LAYERS)]
    return build_image(tars, config={"Cmd": ["sh"]})


def run(quick: bool = False) -> Dict[str, Any]:
    sec = Section("pull", "Pull of a ~100 MB image from a local registry vs podman pull (issue 15)")
    passes = 2 if quick else 3
    if not os.path.exists("/usr/bin/docker-registry"):
        sec.note("docker-registry is not installed: skipped")
        return sec.close()
    sys.path.insert(0, os.path.join(REPO, "tests"))  # the test helpers (images, registry server)
    from helpers.images import RegistryServer, push_image  # noqa: PLC0415 - test helpers, bench only

    work = tempfile.mkdtemp(prefix="lpe-bench-pull-", dir="/tmp")
    server = None
    try:
        img = _image()
        server = RegistryServer(os.path.join(work, "registry")).start()
        push_image(server.url, "bench/big", "latest", img)
        ref = "%s/bench/big:latest" % server.host
        wire = sum(b.size for b in img.layers)
        sec.data["bytes"] = wire
        engine, podman = [], []
        state_mod = __import__(PKG + ".engine.store.state", fromlist=["State"])
        store_mod = __import__(PKG + ".engine.image.store", fromlist=["ImageStore"])
        for i in range(passes):
            d = os.path.join(work, "engine%d" % i)
            os.makedirs(d)
            st = state_mod.State(os.path.join(d, "state.db"))
            store = store_mod.ImageStore(st, os.path.join(d, "graph"))
            t0 = time.perf_counter()
            store.pull("docker://" + ref, insecure=True)
            engine.append(time.perf_counter() - t0)
            st.close()
            shutil.rmtree(d)
        sec.row("engine: pull %d MB (%d layers)" % (wire >> 20, LAYERS), summary(engine))
        if shutil.which("podman"):
            for i in range(passes):
                root, runroot = os.path.join(work, "podman%d" % i), os.path.join(work, "podman-run%d" % i)
                cmd = ["podman", "--root", root, "--runroot", runroot, "--storage-driver", "vfs",
                       "pull", "-q", "--tls-verify=false", ref]
                t0 = time.perf_counter()
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
                podman.append(time.perf_counter() - t0)
                if out.returncode:
                    sec.note("podman pull failed: %s" % out.stderr.strip()[-300:])
                    podman = []
                    break
                subprocess.run(["podman", "--root", root, "--runroot", runroot, "--storage-driver", "vfs",
                                "system", "reset", "-f"], capture_output=True, timeout=300, check=False)
                shutil.rmtree(root, ignore_errors=True)
                shutil.rmtree(runroot, ignore_errors=True)
            if podman:
                sec.row("podman pull (vfs, same image)", summary(podman))
                ratio = summary(engine)["median"] / summary(podman)["median"]
                sec.row("ratio engine / podman (median)", None, ratio=round(ratio, 2))
        else:
            sec.note("podman is not installed: no comparison")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return sec.close()


if __name__ == "__main__":
    import json as _json

    print(_json.dumps(run(quick="--quick" in sys.argv), indent=1))
