# SPDX-License-Identifier: GPL-3.0-or-later
"""Which overlay a root uses, and fuse-overlayfs mounts (issue 19: "native overlay on kernels
that allow it, fuse-overlayfs as the fallback, vfs last").

As containers/storage's overlay driver: ``[storage] mount_program`` (its
``[storage.options.overlay] mount_program``) forces a FUSE program; without it native overlay is
probed once per root (rootfs.overlay_supported, cached in the run root) and, when the kernel
refuses it (older kernels in a user namespace), ``/usr/bin/fuse-overlayfs`` is used if it is
installed and ``/dev/fuse`` can be opened. ``choose`` is that decision, pure but for the probes it
is given. The kind is recorded per container at create (``<id>/mount_program``), so a container
keeps the overlay its upper dir was written by even when the configuration changes.

fuse-overlayfs daemonizes once the mount is in place; ``umount2`` (rootfs.unmount_path) ends it,
as root and inside the rootless user namespace, which owns the mount namespace the mount lives in.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Callable, Tuple

from ..base.errors import StorageError

NATIVE = "native"
FUSE = "fuse-overlayfs"
DEFAULT_PROGRAM = "/usr/bin/fuse-overlayfs"
FUSE_DEV = "/dev/fuse"
_MOUNT_TIMEOUT = 60
#: what to do when no overlay works (named by errors and warnings)
FIX = ("install fuse-overlayfs (apt-get install fuse-overlayfs) and make %s usable by the user (as root: chmod 0666 "
       "%s, as Debian's udev does), or set [storage] graph_driver = \"vfs\"" % (FUSE_DEV, FUSE_DEV))


@dataclass(frozen=True)
class OverlayChoice:
    """The overlay of a root: ``kind`` NATIVE, FUSE or "" (none works: vfs or an error)."""

    kind: str
    program: str = ""
    reason: str = ""


def fuse_usable(dev: str = FUSE_DEV) -> Tuple[bool, str]:
    """Whether this process can open ``dev`` read-write (what a FUSE program does first)."""
    try:
        fd = os.open(dev, os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return False, "cannot open %s: %s" % (dev, e.strerror)
    os.close(fd)
    return True, ""


def program_usable(program: str) -> Tuple[bool, str]:
    if not os.path.isabs(program):
        return False, "mount_program %r is not an absolute path" % program
    if not os.access(program, os.X_OK):
        return False, "%s is not installed (or not executable)" % program
    return True, ""


def choose(mount_program: str, native: Callable[[], Tuple[bool, str]], *, default_program: str = "",
           dev: str = "") -> OverlayChoice:
    """The overlay kind of a root: forced program, else native when ``native()`` says it mounts,
    else fuse-overlayfs when installed and ``dev`` opens, else none (the reason names the fix)."""
    if mount_program:
        return OverlayChoice(FUSE, mount_program, "[storage] mount_program")
    ok, why = native()
    if ok:
        return OverlayChoice(NATIVE)
    default_program, dev = default_program or DEFAULT_PROGRAM, dev or FUSE_DEV
    prog_ok, prog_why = program_usable(default_program)
    dev_ok, dev_why = fuse_usable(dev) if prog_ok else (False, "")
    if prog_ok and dev_ok:
        return OverlayChoice(FUSE, default_program, "%s; %s is used instead" % (why, default_program))
    return OverlayChoice("", "", "%s, and fuse-overlayfs cannot be used: %s" % (why, prog_why or dev_why))


def check(program: str, dev: str = FUSE_DEV) -> None:
    """Refuse a mount that cannot work, naming the fix (instead of the program's own message)."""
    ok, why = program_usable(program)
    if ok:
        ok, why = fuse_usable(dev)
    if not ok:
        raise StorageError("overlay through %s cannot mount: %s" % (program, why),
                           hint="%s; or drop [storage] mount_program to use native overlay" % FIX)


def mount(program: str, target: str, data: str) -> None:
    """Mount ``data`` (overlay's lowerdir=...,upperdir=...,workdir=... string) on ``target`` with the
    FUSE program; it returns once the mount is in place and leaves its daemon serving it."""
    check(program)
    # a file, not a pipe, for its messages: the daemon it leaves behind must not hold our pipe open
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.run([program, "-o", data, target], stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                  start_new_session=True, timeout=_MOUNT_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise StorageError("cannot run %s on %s: %s" % (program, target, e), hint=FIX) from None
        if proc.returncode != 0:
            err.seek(0)
            msg = " ".join(err.read().decode(errors="replace").split())[-400:]
            raise StorageError("%s failed on %s (exit code %d): %s" % (program, target, proc.returncode,
                                                                       msg or "no message"),
                               hint="check that %s works on the graph root's filesystem" % program)
