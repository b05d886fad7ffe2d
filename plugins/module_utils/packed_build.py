# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load the engine and reconcile packages from the pack a module carries (issue 20): what a task
runs only when it cannot use its bytecode copy as it is (packed_loader.py is the fast path).

Ansible's controller builds a module's AnsiballZ payload by parsing every module_utils file the
module imports, once per module and playbook run; the engine is ~140 files, so that alone cost
0.8-1.5 s of CPU per module. The modules therefore reach ``engine`` and ``reconcile`` only through
``packed_loader.load()`` (no import statement names them). Two generated files hold them
(``scripts/pack_engine.py``): ``packed_index`` (digests, each packed file's CRC-32 and size), which
every payload carries, and ``packed_sources`` (one blob: the files with comments and docstrings
stripped, every line kept, concatenated and deflated), which no payload carries: at 400 kB it was
two thirds of every task's payload, and a third of what a no-op task cost over ``ping``. The
collection's action (plugins/plugin_utils/engine_action.py) sends the blob only to a task that asks for
it (packed_loader.ask_for_pack: the node has no usable copy of this version), in a file of the
task's own remote temporary directory named by ``LIBPOD_ENGINE_PACK``; it is used only if its
files have the digest the payload's index records. ``packed_loader.install()`` puts a finder first
on ``sys.meta_path`` that serves those packages:

* from a **bytecode copy** of this pack version when it is safe: compiled to hash-checked pycs
  (``PycInvalidationMode.CHECKED_HASH``: each pyc is compared with its source on import, so stale
  bytecode never runs), in ``/var/cache/libpod-engine/bytecode/<key>`` for root or
  ``~/.cache/libpod-engine/bytecode/<key>`` for another user. Every directory from ``/`` down to it
  must be owned by root or that user and not writable by group or others (a root-owned sticky
  ancestor such as /tmp is accepted); every file a task imports must have the CRC-32 and size the
  index records (checked on the one read the import system makes of it anyway). A file that does
  not match is compiled from the pack instead, and the copy is removed so that the next task
  rebuilds it; a pyc that is not checked-hash is ignored. The key is the pack's digest and the
  interpreter's cache tag, so another collection version (or Python) uses its own copy;
* otherwise **from the pack in memory**, compiled on import (as from a zip).

A task that finds its copy valid compiles and runs packed_loader.py only: this file is imported
to build a copy (once per engine version, user and Python), to serve from the pack, when a copied
file does not match, and for the exit command's engine copy (read from the bytecode copy, each
file checked against the index). When the packages are importable as files
(a checkout, the tests, ansible-test) nothing changes. Standard library only.
"""
from __future__ import annotations

import hashlib
import os
import py_compile
import shutil
import stat
import sys
import tempfile
import time
import zlib

from ansible_collections.libpod.engine.plugins.module_utils import packed_loader

#: copies kept per base directory (one per collection version and Python): older ones are
#: removed when a new one is built (a task still using one falls back to its pack)
KEEP = 8


def ask_for_pack(why: str) -> None:
    """End the task before it does anything, asking the action plugin for the pack (NEEDS). Not through
    AnsibleModule: its argument spec comes from the engine, and one built without it would refuse the
    task's parameters or echo them back unmasked (no_log is in the spec too)."""
    import json  # noqa: PLC0415 - Ansible's module_utils imported it

    from ansible_collections.libpod.engine.plugins.module_utils import packed_index  # noqa: PLC0415

    answer = {"failed": True, packed_loader.NEEDS: packed_index.DIGEST,
              "msg": "libpod.engine: %s. The collection's action plugin sends the engine to a node that needs "
                     "it and runs the task again; this task ran without it (run libpod.engine modules as tasks "
                     "of the collection, not as a bare AnsiballZ file)" % why}
    print(json.dumps(answer))  # pylint: disable=ansible-bad-function
    sys.exit(1)  # pylint: disable=ansible-bad-function


def unpack(blob: bytes, index: dict) -> dict:
    """{module_utils-relative path: bytes} of the deflated pack (packed_sources.BLOB decoded), cut by the
    index's sizes (in the blob's order)."""
    data = zlib.decompress(blob)
    out, at = {}, 0
    for rel, (_crc, size) in index.items():
        out[rel] = data[at:at + size]
        at += size
    if at != len(data):
        raise ValueError("packed_sources does not match packed_index (%d bytes, the index says %d)" % (len(data), at))
    return out


def pack_digest(files: dict) -> str:
    """What packed_index.DIGEST is of the packed files (scripts/pack_engine.py computes it the same way)."""
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + files[rel] + b"\0")
    return h.hexdigest()


def read_pack(index, why: str = "") -> dict:
    """The files of the pack the action plugin sent (``LIBPOD_ENGINE_PACK``), checked against ``index``;
    without one, PackNeeded says ``why`` the task needs it."""
    path = os.environ.get(packed_loader.ENV_PACK, "")
    if not path:
        raise packed_loader.PackNeeded((why or "a packed file is needed") + "; this task was not sent the pack")
    try:
        with open(path, "rb") as f:
            files = unpack(f.read(), index.FILES)
    except (OSError, ValueError, zlib.error) as exc:
        raise ImportError("%s=%s: cannot read the engine's pack: %s" % (packed_loader.ENV_PACK, path, exc)) from None
    if pack_digest(files) != index.DIGEST:
        raise ImportError("%s=%s: not this engine version's pack (its digest differs from the payload's index)"
                          % (packed_loader.ENV_PACK, path))
    return files


def sources(finder) -> dict:
    """{module_utils-relative path: bytes} of every packed file (unpacked once per process)."""
    if finder.files is None:
        finder.files = read_pack(finder.index, getattr(finder, "why", ""))
    return finder.files


def source(finder, rel: str) -> bytes:
    return sources(finder)[rel]


def engine_sources(finder) -> dict:
    """{engine-relative path: bytes} of the packed engine files (for the exit command's copy): from the
    bytecode copy when the task uses one (each file as the index records it), else from the pack."""
    if finder.copy and finder.files is None:
        out = {}
        for rel, entry in finder.index.FILES.items():
            if rel.startswith("engine/"):
                try:
                    with open(os.path.join(finder.copy, *rel.split("/")), "rb") as f:
                        data = f.read()
                except OSError:
                    data = None
                if data is None or not packed_loader.matches(data, entry):
                    mismatch(finder, rel)  # without the pack at hand: PackNeeded
                    return engine_sources_from(sources(finder))
                out[rel[len("engine/"):]] = data
        return out
    return engine_sources_from(sources(finder))


def engine_sources_from(files: dict) -> dict:
    return {rel[len("engine/"):]: data for rel, data in files.items() if rel.startswith("engine/")}


def mismatch(finder, rel: str) -> bytes:
    """A copied file differs from the pack (or is gone): its bytes from the pack. The copy is removed
    (the next task rebuilds it) and the rest of this task is served from the pack; a task that was not
    sent it asks for it (packed_loader.PackNeeded, saying what happened)."""
    copy = finder.copy
    if copy:
        packed_loader.STATUS.update(state="pack: copy did not match the packed sources (%s)" % rel, dir="")
        shutil.rmtree(copy, ignore_errors=True)
        finder.copy = ""
        # what a task that was not sent the pack says when it asks for it (read_pack)
        finder.why = "the bytecode copy %s was changed (%s): it is removed, and the next task rebuilds it" % (copy, rel)
    return source(finder, rel)


def build_copy(base: str, copy: str) -> None:
    """Build this pack's copy ``copy`` under ``base`` (unless a concurrent task did), then prune."""
    from ansible_collections.libpod.engine.plugins.module_utils import packed_index  # noqa: PLC0415

    try:
        build(base, copy, read_pack(packed_index))
    except OSError:
        if not os.path.isdir(copy):  # else: a concurrent task built it first
            raise
    prune(base)


def build(base: str, final: str, files: dict) -> None:
    """Write the sources and their checked-hash pycs into a temp dir, then rename it into place."""
    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=base)
    try:
        for rel, data in files.items():
            target = os.path.join(tmp, *rel.split("/"))
            os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
            py_compile.compile(target, dfile=target.replace(tmp, final, 1), doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
        os.chmod(tmp, 0o700)
        os.rename(tmp, final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another task won the race, or the disk is full
        raise


def prune(base: str, keep: int = KEEP) -> list:
    """Remove all but the ``keep`` newest copies (by build time) under ``base``, and builds left
    half-done (a task killed while building: ``.tmp-*`` older than an hour); returns the removed names."""
    copies, gone = [], []
    for name in os.listdir(base):
        full = os.path.join(base, name)
        try:
            st = os.lstat(full)
        except OSError:
            continue  # removed meanwhile by another task
        if not stat.S_ISDIR(st.st_mode):
            continue
        if len(name) == 32 and all(c in "0123456789abcdef" for c in name):
            copies.append((st.st_mtime, name))
        elif name.startswith(".tmp-") and st.st_mtime < time.time() - 3600:
            gone.append(name)
    gone += [name for _mtime, name in sorted(copies, reverse=True)[keep:]]
    for name in gone:
        shutil.rmtree(os.path.join(base, name), ignore_errors=True)
    return gone
