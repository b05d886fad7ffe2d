# SPDX-License-Identifier: GPL-3.0-or-later
"""Old copies of the engine under ``<static_dir>/lib``: which ones nothing can still run, and removing them.

Runtime.engine_copy writes ``lib/<digest16>/`` (the engine + run.py) once per engine version:
conmon's exit command, the [::1] loopproxy, the health monitor and the boot unit run files of
it long after the task. Without pruning, every collection upgrade leaves ~4 MB behind. A copy is
removed only when all of these hold:

* it is ours: a directory (never a symlink, never followed) named like a digest (or a leftover
  ``<digest>.tmp<pid>`` of an interrupted copy), owned by root or the engine's user;
* no live process names it in its argv (conmon's ``--exit-command-arg``, a running exit
  command, loopproxy, health monitor, port holder: of any engine root);
* no boot unit (``libpod-engine-restart*.service``) names it;
* nobody used it for an hour (engine_copy refreshes the mtime of the copy it reuses): a task of
  that version may be between engine_copy() and starting conmon.

It is renamed away first, so that a task of its version finds no ``run.py`` and writes it again
rather than using a half-removed tree. Errors are ignored: pruning never fails a task.
"""
from __future__ import annotations

import os
import re
import stat
import time
from typing import Iterable, List, Optional, Set

from . import ownership
from .files import rmtree
from .proc import argvs

#: where admin.ensure_boot_unit installs the boot unit (``libpod-engine-restart[-<hash>].service``)
UNIT_DIR = "/etc/systemd/system"
UNIT_PREFIX = "libpod-engine-restart"
#: a copy untouched for longer than this (seconds) is no longer between engine_copy() and conmon
IDLE_SECONDS = 3600.0

_COPY_RE = re.compile(r"^[0-9a-f]{16}$")
_TMP_RE = re.compile(r"^[0-9a-f]{16}\.tmp[0-9]+$")


def _prefixes(lib_dir: str) -> List[str]:
    out = [os.path.abspath(lib_dir).rstrip("/") + "/"]
    real = os.path.realpath(lib_dir).rstrip("/") + "/"
    return out if real in out else out + [real]


def _names_in(texts: Iterable[str], prefixes: List[str]) -> Set[str]:
    """The first path component after any of ``prefixes`` in ``texts``."""
    pat = re.compile("(?:%s)([^/\\s\"'\\x00]+)" % "|".join(re.escape(p) for p in prefixes))
    out: Set[str] = set()
    for text in texts:
        out.update(pat.findall(text))
    return out


def _unit_texts(unit_dir: str) -> Iterable[str]:
    try:
        names = [n for n in os.listdir(unit_dir) if n.startswith(UNIT_PREFIX) and n.endswith(".service")]
    except OSError:
        return
    for name in names:
        try:
            with open(os.path.join(unit_dir, name), encoding="utf-8", errors="replace") as f:
                yield f.read(65536)
        except OSError:
            continue


def in_use(lib_dir: str, unit_dir: Optional[str] = None) -> Set[str]:
    """Names under ``lib_dir`` that a live process or a boot unit names."""
    prefixes = _prefixes(lib_dir)
    argv_texts = ("\0".join(args) for _unused, args in argvs())
    return _names_in(argv_texts, prefixes) | _names_in(_unit_texts(unit_dir or UNIT_DIR), prefixes)


def _candidates(lib_dir: str, keep: str, now: float) -> List[str]:
    """Our idle copies and temp dirs (lstat only: a symlink is never followed nor removed)."""
    owners = ownership.default_owners()
    out = []
    for name in sorted(os.listdir(lib_dir)):
        if name == keep or not (_COPY_RE.match(name) or _TMP_RE.match(name)):
            continue
        try:
            st = os.lstat(os.path.join(lib_dir, name))
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_uid in owners and now - st.st_mtime > IDLE_SECONDS:
            out.append(name)
    return out


def prune(lib_dir: str, keep: str, unit_dir: Optional[str] = None) -> List[str]:
    """Remove the copies under ``lib_dir`` other than ``keep`` that nothing can still run (see the
    module doc); returns the names removed. Never raises."""
    try:
        names = _candidates(lib_dir, keep, time.time())
        if names:
            used = in_use(lib_dir, unit_dir)
            names = [n for n in names if n not in used]
    except OSError:
        return []
    removed = []
    for name in names:
        path = os.path.join(lib_dir, name)
        trash = path if _TMP_RE.match(name) else "%s.tmp%d" % (path, os.getpid())
        try:
            if trash != path:
                os.rename(path, trash)
            rmtree(trash)
        except OSError:
            continue
        removed.append(name)
    return removed
