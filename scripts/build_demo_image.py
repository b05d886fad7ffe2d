# SPDX-License-Identifier: GPL-3.0-or-later
"""Build a busybox image as an OCI archive from the host's static busybox, without a registry.

    python3 scripts/build_demo_image.py --output /path/busybox.tar [--name localhost/busybox:latest]

The image has one layer: ``/bin/busybox`` (Debian's busybox-static: no shared libraries),
a symlink in ``/bin`` for every applet it has (``sh``, ``httpd``, ``wget``, ...),
``/etc/passwd`` and ``/etc/group`` (root, www-data, nobody), and the empty directories a
container runtime expects. Its config runs ``sh`` with a PATH set.

The archive is deterministic: the same busybox binary gives the same bytes, so the same image
ID, and a container made from it is not recreated on the next run. The file is only rewritten
when its content would change. The script prints one JSON line, ``{"changed": ..., "path": ...,
"image_id": ..., "name": ...}``, so a playbook can use ``changed_when``. With ``--check`` it
only reports whether it would change the file.

Use the archive with ``image: oci-archive:<path>`` in libpod.engine.container (or in a stack).
Standard library only.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

MTIME = 1700000000  # fixed timestamps: reproducible layers
CREATED = "2024-01-01T00:00:00Z"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
REF_NAME = "org.opencontainers.image.ref.name"

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "www-data:x:33:33:www-data:/var/www:/bin/false\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = "root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n"
#: (path, mode) of the directories of the root filesystem
DIRS = (("bin", 0o755), ("dev", 0o755), ("etc", 0o755), ("proc", 0o555), ("root", 0o700), ("run", 0o755),
        ("sys", 0o555), ("tmp", 0o1777), ("var", 0o755), ("var/www", 0o755))
ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x",
        "i686": "386", "riscv64": "riscv64"}


def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def applets(busybox: str) -> list:
    """The applet names this busybox has (``busybox --list``), sorted."""
    out = subprocess.run([busybox, "--list"], check=True, capture_output=True, text=True).stdout
    names = sorted({n.strip() for n in out.split() if n.strip() and "/" not in n and n != "busybox"})
    if "sh" not in names:
        raise SystemExit("%s has no sh applet: is it busybox?" % busybox)
    return names


def _info(name: str, kind: bytes, mode: int, size: int = 0, link: str = "") -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.size, ti.linkname = kind, mode, size, link
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    ti.mtime = MTIME
    return ti


def layer_tar(busybox: str) -> bytes:
    """The root filesystem as one uncompressed tar (sorted names, fixed owners and times)."""
    with open(busybox, "rb") as f:
        binary = f.read()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for path, mode in DIRS:
            tf.addfile(_info(path, tarfile.DIRTYPE, mode))
        tf.addfile(_info("bin/busybox", tarfile.REGTYPE, 0o755, len(binary)), io.BytesIO(binary))
        for name in applets(busybox):
            tf.addfile(_info("bin/" + name, tarfile.SYMTYPE, 0o777, link="busybox"))
        for name, text in (("etc/group", GROUP), ("etc/passwd", PASSWD)):
            data = text.encode()
            tf.addfile(_info(name, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))
    return buf.getvalue()


def oci_archive(layer: bytes, name: str, arch: str) -> tuple:
    """(archive bytes, image ID): an OCI image layout with one image, as a tar."""
    config = canonical({
        "architecture": arch, "os": "linux", "created": CREATED,
        "config": {"Cmd": ["sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "WorkingDir": "/",
                   "Labels": {"org.opencontainers.image.title": "busybox (built from the host's busybox-static)"}},
        "rootfs": {"type": "layers", "diff_ids": [digest(layer)]},
        "history": [{"created": CREATED, "created_by": "scripts/build_demo_image.py"}],
    })
    manifest = canonical({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": digest(layer), "size": len(layer)}],
    })
    index = canonical({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest(manifest), "size": len(manifest),
                       "annotations": {REF_NAME: name}}],
    })
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        files = [("oci-layout", canonical({"imageLayoutVersion": "1.0.0"})), ("index.json", index)]
        tf.addfile(_info("blobs", tarfile.DIRTYPE, 0o755))
        tf.addfile(_info("blobs/sha256", tarfile.DIRTYPE, 0o755))
        files += [("blobs/sha256/" + digest(b).split(":", 1)[1], b) for b in (config, layer, manifest)]
        for path, data in files:
            tf.addfile(_info(path, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))
    return buf.getvalue(), digest(config).split(":", 1)[1]


def write_if_changed(path: str, data: bytes, check: bool) -> bool:
    try:
        with open(path, "rb") as f:
            if hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest():
                return False
    except FileNotFoundError:
        pass
    if check:
        return True
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".busybox-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--output", required=True, help="the OCI archive to write")
    ap.add_argument("--name", default="localhost/busybox:latest", help="image name (ref.name annotation)")
    ap.add_argument("--busybox", default="/usr/bin/busybox", help="a statically linked busybox binary")
    ap.add_argument("--check", action="store_true", help="only report whether the file would change")
    args = ap.parse_args(argv)
    if not os.path.isfile(args.busybox):
        print("build_demo_image: %s not found; install busybox-static (Debian) or busybox (RHEL)" % args.busybox,
              file=sys.stderr)
        return 2
    arch = ARCH.get(os.uname().machine, os.uname().machine)
    data, image_id = oci_archive(layer_tar(args.busybox), args.name, arch)
    changed = write_if_changed(args.output, data, args.check)
    print(json.dumps({"changed": changed, "path": os.path.abspath(args.output), "image_id": image_id,
                      "name": args.name}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
