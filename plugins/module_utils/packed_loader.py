# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load the engine and reconcile packages from the pack a module carries (issue 20).

Ansible's controller builds a module's AnsiballZ payload by parsing every module_utils file the
module imports, once per module and playbook run; the engine is ~140 files, so that alone cost
0.8-1.5 s of CPU per module. The modules therefore reach ``engine`` and ``reconcile`` only through
``load()`` (no import statement names them), and the payload carries them as two generated files
(``scripts/pack_engine.py``): ``packed_index`` (digests, each file's CRC-32 and size) and
``packed_sources`` (the texts, deflated). ``install()`` puts a finder first on ``sys.meta_path`` that serves
those packages:

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

When the packages are importable as files (a checkout, the tests, ansible-test) nothing changes.
Standard library only, and ``install()`` never raises: the copy is a cache.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import stat
import sys

from ansible_collections.libpod.engine.plugins.module_utils import packed_index

PREFIX = "ansible_collections.libpod.engine.plugins.module_utils."
#: the packed packages (everything a module uses below ansible_engine.py)
PACKAGES = ("engine", "reconcile")
ROOT_DIR = "/var/cache/libpod-engine/bytecode"
#: another base directory (tests); "off" keeps the pack in memory
ENV_DIR = "LIBPOD_ENGINE_BYTECODE_DIR"
#: copies kept per base directory (one per collection version and Python): older ones are
#: removed when a new one is built (a task still using one falls back to its pack)
KEEP = 8

#: what install() did in this process (for bench/tests): "" until called
STATUS = {"state": "", "dir": ""}


def load(name: str):
    """The engine or reconcile module ``name`` ("engine.ops.admin", "reconcile.container")."""
    return importlib.import_module(PREFIX + name)


def unpack(blob: str) -> bytes:
    """One file of packed_sources.SOURCES."""
    import base64  # noqa: PLC0415 - AnsiballZ's wrapper has imported it
    import zlib  # noqa: PLC0415 - built in

    return zlib.decompress(base64.b64decode(blob))


def matches(data: bytes, entry) -> bool:
    """``data`` has the (CRC-32, size) the index records for it."""
    import zlib  # noqa: PLC0415 - built in

    return len(data) == entry[1] and zlib.crc32(data) == entry[0]


def default_dir() -> str:
    """Where this user's bytecode copies live: root's under /var/cache, anyone else's in their cache."""
    if os.geteuid() == 0:
        return ROOT_DIR
    cache = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(cache):
        import pwd  # noqa: PLC0415 - not for root

        cache = os.path.join(pwd.getpwuid(os.geteuid()).pw_dir, ".cache")
    return os.path.join(cache, "libpod-engine", "bytecode")


def unsafe_dir(path: str) -> str:
    """Why ``path`` (an existing directory) could be replaced by someone other than root or us ("" if it cannot)."""
    me = os.geteuid()
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
        if st.st_uid not in (0, me):
            return "%s is owned by uid %d, not root%s" % (comp, st.st_uid, "" if me == 0 else " or uid %d" % me)
        if st.st_mode & 0o022:
            last = i == len(walk) - 1
            if last or not st.st_mode & stat.S_ISVTX or st.st_uid != 0:
                return "%s is writable by group or others (mode %o)" % (comp, stat.S_IMODE(st.st_mode))
    return ""


def copy_key(digest: str) -> str:
    return hashlib.sha256(("%s\0%s" % (sys.implementation.cache_tag, digest)).encode()).hexdigest()[:32]


def _build(base: str, final: str, sources: dict) -> None:
    """Write the sources and their checked-hash pycs into a temp dir, then rename it into place."""
    import py_compile  # noqa: PLC0415 - only when a copy is built (once per version)
    import shutil  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=base)
    try:
        for rel, blob in sources.items():
            target = os.path.join(tmp, *rel.split("/"))
            os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
            with open(target, "wb") as f:
                f.write(unpack(blob))
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
    import shutil  # noqa: PLC0415 - only after a build
    import time  # noqa: PLC0415

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


_CHECKED_HASH = 0b11  # pyc flags: hash-based, checked against the source on import


class PackLoader(importlib.machinery.SourceFileLoader):
    """Loads one packed file: from the copy when its source matches the index (checked-hash pycs
    only), else from the pack; never writes a pyc."""

    def __init__(self, fullname, path, finder, rel):
        super().__init__(fullname, path)
        self.finder = finder
        self.rel = rel
        #: Runtime.engine_copy's digest of the engine files (the exit command's copy)
        self.engine_sha256 = finder.index.ENGINE_SHA256

    def engine_sources(self) -> dict:
        """{engine-relative path: bytes} of the packed engine files (for the exit command's copy)."""
        return {rel[len("engine/"):]: unpack(blob)
                for rel, blob in self.finder.sources().items() if rel.startswith("engine/")}

    def get_data(self, path):
        copy = self.finder.copy
        if path == self.path:
            if not copy:
                return self.finder.source(self.rel)
            try:
                data = super().get_data(path)
            except OSError:
                data = None  # removed from the copy
            if data is None or not matches(data, self.finder.index.FILES[self.rel]):
                data = self.finder.mismatch(self.rel)
            return data
        if not copy:
            raise OSError("no bytecode for a file served from the pack")
        data = super().get_data(path)
        if int.from_bytes(data[4:8], "little") != _CHECKED_HASH:
            raise OSError("not a checked-hash pyc: %s" % path)  # the verified source is compiled instead
        return data

    def set_data(self, path, data, *, _mode=0o666):  # pylint: disable=unused-argument
        pass  # the copy is written by _build only


class PackFinder:
    """Serves the packed modules: from the copy (``copy``) or from the pack (``copy`` empty)."""

    def __init__(self, index, copy: str, origin: str):
        self.index = index
        self.copy = copy
        self.origin = origin  # where the packed files would be as files (for __file__ and tracebacks)
        self._sources = None
        self.names = {}
        for rel in index.FILES:
            mod = rel[:-3].replace("/", ".")
            if mod.endswith(".__init__"):
                self.names[PREFIX + mod[:-9]] = (rel, True)
            else:
                self.names[PREFIX + mod] = (rel, False)

    def sources(self) -> dict:
        if self._sources is None:
            from ansible_collections.libpod.engine.plugins.module_utils import packed_sources  # noqa: PLC0415

            self._sources = packed_sources.SOURCES
        return self._sources

    def source(self, rel: str) -> bytes:
        return unpack(self.sources()[rel])

    def find_spec(self, fullname, path=None, target=None):  # pylint: disable=unused-argument
        hit = self.names.get(fullname)
        if hit is None:
            return None
        rel, package = hit
        location = os.path.join(self.copy or self.origin, *rel.split("/"))
        search = [os.path.dirname(location)] if package else None
        loader = PackLoader(fullname, location, self, rel)
        return importlib.util.spec_from_file_location(fullname, location, loader=loader,
                                                      submodule_search_locations=search)

    def mismatch(self, rel: str) -> bytes:
        """A copied file differs from the pack (or is gone): its bytes from the pack. The copy is
        removed (the next task rebuilds it) and the rest of this task is served from the pack."""
        if self.copy:
            import shutil  # noqa: PLC0415

            STATUS.update(state="pack: copy did not match the packed sources (%s)" % rel, dir="")
            shutil.rmtree(self.copy, ignore_errors=True)
            self.copy = ""
        return self.source(rel)

    def invalidate_caches(self):
        pass


def install() -> str:
    """Serve the packed packages for the rest of this process when they are not files here."""
    try:
        STATUS["state"] = _install()
    except Exception as exc:  # pylint: disable=broad-exception-caught  # never fail a task for a cache
        STATUS["state"] = "pack: %s" % exc
        if not any(isinstance(f, PackFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, PackFinder(packed_index, "", _origin()))
    return STATUS["state"]


def _origin() -> str:
    return os.path.dirname(os.path.abspath(packed_index.__file__))


def _install() -> str:
    if any(isinstance(f, PackFinder) for f in sys.meta_path):
        return "already installed"
    here = sys.modules[PREFIX[:-1]].__path__
    if importlib.machinery.PathFinder.find_spec(PREFIX + PACKAGES[0], here) is not None:
        return "from files"
    copy, state = _copy()
    sys.meta_path.insert(0, PackFinder(packed_index, copy, _origin()))
    STATUS["dir"] = copy
    return state


def _copy():
    """(the bytecode copy to use, what happened): ("", why) when none can be used."""
    base = os.environ.get(ENV_DIR) or default_dir()
    if base == "off":
        return "", "off"
    if not os.path.isdir(base):
        os.makedirs(base, mode=0o700, exist_ok=True)
    why = unsafe_dir(base)
    if why:
        return "", "pack: unsafe bytecode directory: %s" % why
    copy = os.path.join(base, copy_key(packed_index.DIGEST))
    if not os.path.isdir(copy):
        from ansible_collections.libpod.engine.plugins.module_utils import packed_sources  # noqa: PLC0415

        try:
            _build(base, copy, packed_sources.SOURCES)
        except OSError:
            if not os.path.isdir(copy):  # else: a concurrent task built it first
                raise
        prune(base)
    why = unsafe_dir(copy)
    if why:
        return "", "pack: unsafe bytecode directory: %s" % why
    return copy, "bytecode"
