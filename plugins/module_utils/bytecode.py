# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load the engine from bytecode instead of compiling it from the AnsiballZ zip on every task.

Python never caches bytecode for modules imported from a zip, so each task compiled the ~27
engine files a no-op imports (~80 ms against ~17 ms from bytecode, issue 20). ``install()``
keeps one copy of the shipped ``engine/`` and ``reconcile/`` sources per shipped version in a
root-only directory, compiled to hash-checked pycs (``PycInvalidationMode.CHECKED_HASH``: the
import system compares each pyc with its source, so stale bytecode is never run), and puts a
finder first on ``sys.meta_path`` that serves those modules from the copy.

The copy is used only when everything checks out; otherwise the task silently imports from the
zip as before:

* the module runs from an AnsiballZ zip and as root (only root may write the cache);
* every directory from ``/`` down to the copy is owned by root and not writable by group or
  others (a root-owned sticky directory such as /tmp is accepted as an ancestor only);
* every file of the copy that a task imports has the size and CRC-32 that the zip's directory
  records for it. The loader checks this on the one read the import system makes of each source
  anyway (to check the pyc's hash), so only imported files are read, once each. A tampered or
  stale file never runs: it is compiled from the zip's bytes instead, the rest of the task
  imports from the zip, and the copy is removed so that the next task rebuilds it;
* a pyc is used only if it is checked-hash and matches that verified source; any other pyc is
  ignored (the verified source is compiled, nothing is written).

The directory name is a sha256 over the shipped files' names, sizes and CRC-32s, read from the
zip's central directory with nothing decompressed (decompressing, hashing and comparing every
shipped source on each task cost ~15 ms, issue 20), and the interpreter's cache tag, so a
different collection version (or Python) uses its own copy. Not the exit command's engine copy
(``Runtime.engine_copy``): that one lives under the configured static_dir, which is only known
after the engine is imported. Standard library only, and nothing here may raise.
"""
from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import stat
import sys

PREFIX = "ansible_collections.libpod.engine.plugins.module_utils."
#: the packages served from bytecode (everything a module imports below ansible_engine.py)
PACKAGES = ("engine", "reconcile")
DEFAULT_DIR = "/var/cache/libpod-engine/bytecode"
#: another base directory (tests); "off" disables the bytecode copy
ENV_DIR = "LIBPOD_ENGINE_BYTECODE_DIR"
_ZIP_ROOT = PREFIX.replace(".", "/")

#: what install() did in this process (for bench/tests): "" until called
STATUS = {"state": "", "dir": ""}


def _served(name: str) -> str:
    """The module_utils-relative path of a zip entry served from the copy ("" if not one)."""
    rel = name[len(_ZIP_ROOT):]
    if name.startswith(_ZIP_ROOT) and rel.endswith(".py") and rel.split("/", 1)[0] in PACKAGES:
        return rel
    return ""


def shipped_index(archive: str) -> dict:
    """{module_utils-relative path: (CRC-32, size)} of the served packages' .py files, from the
    zip's central directory (nothing decompressed)."""
    import zipfile  # noqa: PLC0415 - AnsiballZ's wrapper has already imported it

    with zipfile.ZipFile(archive) as zf:
        infos = [(_served(info.filename), info) for info in zf.infolist()]
    return {rel: (info.CRC, info.file_size) for rel, info in infos if rel}


def shipped_sources(archive: str, only=None) -> dict:
    """{module_utils-relative path: bytes} of the served packages' .py files in the zip (all, or those in ``only``)."""
    import zipfile  # noqa: PLC0415

    out = {}
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            rel = _served(name)
            if rel and (only is None or rel in only):
                out[rel] = zf.read(name)
    return out


def copy_key(index: dict) -> str:
    h = hashlib.sha256(sys.implementation.cache_tag.encode() + b"\0")
    for rel in sorted(index):
        crc, size = index[rel]
        h.update(b"%s\0%d\0%d\0" % (rel.encode(), crc, size))
    return h.hexdigest()[:32]


def matches(data: bytes, entry) -> bool:
    """``data`` has the (CRC-32, size) the zip records for it."""
    import zlib  # noqa: PLC0415 - built in; zipfile has imported it

    return len(data) == entry[1] and zlib.crc32(data) == entry[0]


def unsafe_dir(path: str) -> str:
    """Why ``path`` (an existing directory) could be replaced by someone other than root ("" if it cannot)."""
    real = os.path.realpath(path)
    parts = real.strip("/").split("/") if real != "/" else []
    walk = ["/"] + ["/" + "/".join(parts[:i + 1]) for i in range(len(parts))]
    for i, comp in enumerate(walk):
        try:
            st = os.stat(comp)
        except OSError as e:
            return "%s: %s" % (comp, e.strerror)
        if not stat.S_ISDIR(st.st_mode):
            return "%s is not a directory" % comp
        if st.st_uid != 0:
            return "%s is owned by uid %d, not root" % (comp, st.st_uid)
        if st.st_mode & 0o022:
            last = i == len(walk) - 1
            if last or not st.st_mode & stat.S_ISVTX:
                return "%s is writable by group or others (mode %o)" % (comp, stat.S_IMODE(st.st_mode))
    return ""


def _build(base: str, final: str, sources: dict) -> None:
    """Write the sources and their checked-hash pycs into a temp dir, then rename it into place."""
    import py_compile  # noqa: PLC0415 - only when a copy is built (once per version)
    import shutil  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=base)
    try:
        for rel, data in sources.items():
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


_CHECKED_HASH = 0b11  # pyc flags: hash-based, checked against the source on import


class CopyLoader(importlib.machinery.SourceFileLoader):
    """Loads one file of the copy: its source only when it matches the zip (else the zip's bytes),
    checked-hash pycs only, and never writes a pyc."""

    def __init__(self, fullname, path, finder, rel):
        super().__init__(fullname, path)
        self.finder = finder
        self.rel = rel

    def get_data(self, path):
        if path == self.path:
            try:
                data = super().get_data(path)
            except OSError:
                data = None  # removed from the copy
            if data is None or not matches(data, self.finder.index[self.rel]):
                data = self.finder.mismatch(self.rel)
            return data
        data = super().get_data(path)
        if int.from_bytes(data[4:8], "little") != _CHECKED_HASH:
            raise OSError("not a checked-hash pyc: %s" % path)  # the verified source is compiled instead
        return data

    def set_data(self, path, data, *, _mode=0o666):  # pylint: disable=unused-argument
        pass  # the copy is written by _build only


class CopyFinder:
    """Serves the shipped engine modules from the copy (their pycs; any file that does not match, from the zip)."""

    def __init__(self, copy: str, index: dict, archive: str):
        self.copy = copy
        self.index = index
        self.archive = archive
        self.names = {}
        for rel in index:
            mod = rel[:-3].replace("/", ".")
            if mod.endswith(".__init__"):
                self.names[PREFIX + mod[:-9]] = (rel, True)
            else:
                self.names[PREFIX + mod] = (rel, False)

    def find_spec(self, fullname, path=None, target=None):  # pylint: disable=unused-argument
        hit = self.names.get(fullname)
        if hit is None:
            return None
        rel, package = hit
        location = os.path.join(self.copy, *rel.split("/"))
        search = [os.path.dirname(location)] if package else None
        loader = CopyLoader(fullname, location, self, rel)
        return importlib.util.spec_from_file_location(fullname, location, loader=loader,
                                                      submodule_search_locations=search)

    def mismatch(self, rel: str) -> bytes:
        """A copied file differs from the zip (or is gone): its bytes from the zip. The first time, the
        copy is removed (the next task rebuilds it), so the rest of this task compiles from the zip too."""
        if STATUS["dir"]:
            import shutil  # noqa: PLC0415

            STATUS.update(state="zip: copy did not match the shipped sources (%s)" % rel, dir="")
            shutil.rmtree(self.copy, ignore_errors=True)
        return shipped_sources(self.archive, only={rel})[rel]

    def invalidate_caches(self):
        pass


def install(loader=None) -> str:
    """Use the bytecode copy for the rest of this process when it is safe; returns what happened."""
    try:
        STATUS["state"] = _install(loader)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # never fail a task for a cache
        STATUS["state"] = "zip: %s" % exc
    return STATUS["state"]


def _install(loader) -> str:
    archive = getattr(loader if loader is not None else __loader__, "archive", None)
    if not archive:
        return "not from a zip"
    base = os.environ.get(ENV_DIR) or DEFAULT_DIR
    if base == "off":
        return "off"
    if os.geteuid() != 0:
        return "zip: not root"
    if any(isinstance(f, CopyFinder) for f in sys.meta_path):
        return "already installed"
    if any(m.startswith(PREFIX + p + ".") for m in sys.modules for p in PACKAGES):
        return "zip: engine modules already imported"
    index = shipped_index(archive)
    if not index:
        return "zip: no engine sources in %s" % archive
    if not os.path.isdir(base):
        os.makedirs(base, mode=0o700, exist_ok=True)
    why = unsafe_dir(base)
    if why:
        return "zip: unsafe bytecode directory: %s" % why
    copy = os.path.join(base, copy_key(index))
    if not os.path.isdir(copy):
        try:
            _build(base, copy, shipped_sources(archive))
        except OSError:
            if not os.path.isdir(copy):  # else: a concurrent task built it first
                raise
    why = unsafe_dir(copy)
    if why:
        return "zip: unsafe bytecode directory: %s" % why
    sys.meta_path.insert(0, CopyFinder(copy, index, archive))
    STATUS["dir"] = copy
    return "bytecode"
