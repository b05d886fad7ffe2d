# SPDX-License-Identifier: GPL-3.0-or-later
"""The one ctypes handle on libc, with the signatures of every call the engine makes.

Loaded on first use from the running process (``CDLL(None)``: no ldconfig lookup), shared by
mounts, namespaces, cgroups, inotify and syncfs. Safe to call from a ``preexec_fn`` (the
handle is loaded in the parent before the fork).
"""
from __future__ import annotations

import ctypes
import os
from typing import Optional

_LIBC: Optional[ctypes.CDLL] = None


def libc() -> ctypes.CDLL:
    global _LIBC
    if _LIBC is None:
        lib = ctypes.CDLL(None, use_errno=True)
        lib.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
        lib.mount.restype = ctypes.c_int
        lib.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
        lib.umount2.restype = ctypes.c_int
        lib.unshare.argtypes = [ctypes.c_int]
        lib.setns.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.syncfs.argtypes = [ctypes.c_int]
        lib.inotify_init1.argtypes = [ctypes.c_int]
        lib.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        lib.syscall.restype = ctypes.c_long
        _LIBC = lib
    return _LIBC


def errno_error(what: str) -> OSError:
    """The OSError for the errno the last libc call left (``what`` names the call and its target)."""
    e = ctypes.get_errno()
    return OSError(e, "%s: %s" % (what, os.strerror(e)))


def encode(s: Optional[str]) -> Optional[bytes]:
    return None if s is None else os.fsencode(s)
