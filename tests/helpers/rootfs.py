# SPDX-License-Identifier: GPL-3.0-or-later
"""A minimal container root filesystem built from the static busybox binary.

Tests need a real rootfs for runc/crun without a registry or an image store: one copy
of ``/usr/bin/busybox`` (busybox-static, no shared libraries) with applet symlinks is
enough to run ``sh``, ``sleep``, ``httpd``, ``wget`` and friends.
"""
from __future__ import annotations

import os
import shutil
from typing import Iterable, Optional

BUSYBOX = "/usr/bin/busybox"

#: applets linked into /bin (busybox decides what to run from argv[0])
DEFAULT_APPLETS = (
    "sh", "echo", "sleep", "cat", "ls", "id", "ps", "hostname", "wget", "httpd", "ping", "ip",
    "grep", "true", "false", "env", "mount", "touch", "mkdir", "kill", "nc", "head", "wc",
)

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "app:x:1000:1000:app:/home/app:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = (
    "root:x:0:\n"
    "app:x:1000:\n"
    "nogroup:x:65534:\n"
)


def make_busybox_rootfs(path: str, applets: Optional[Iterable[str]] = None, busybox: str = BUSYBOX) -> str:
    """Create (or complete) a busybox rootfs at ``path`` and return ``path``.

    Layout: /bin/busybox plus one symlink per applet, /etc/passwd and /etc/group with
    root, app (uid 1000) and nobody, and the empty mount points a runtime expects.
    """
    if not os.path.isfile(busybox):
        raise FileNotFoundError("%s not found: install busybox-static" % busybox)
    for d in ("bin", "proc", "sys", "dev", "tmp", "etc", "root", "home/app", "run"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    os.chmod(os.path.join(path, "tmp"), 0o1777)
    os.chmod(os.path.join(path, "root"), 0o700)
    if os.geteuid() == 0:
        os.chown(os.path.join(path, "home/app"), 1000, 1000)
    target = os.path.join(path, "bin", "busybox")
    if not os.path.exists(target):
        shutil.copy2(busybox, target)
        os.chmod(target, 0o755)
    for name in DEFAULT_APPLETS if applets is None else applets:
        link = os.path.join(path, "bin", name)
        if not os.path.lexists(link):
            os.symlink("busybox", link)
    for name, text in (("passwd", PASSWD), ("group", GROUP)):
        with open(os.path.join(path, "etc", name), "w") as f:
            f.write(text)
    return path
