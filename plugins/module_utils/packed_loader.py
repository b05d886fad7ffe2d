# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Serve the engine and reconcile packages from this node's bytecode copy (issue 20): the fast path.

Every task compiles this file from its payload, so it holds only what a task that finds its
verified bytecode copy runs; building the copy, serving from the pack and the why of it all are
in packed_build.py (imported only when needed). The payload does not carry the pack: when this
node has no usable copy, the task answers with ``NEEDS`` (ask_for_pack) before it does anything,
and the module's action (plugins/plugin_utils/engine_action.py) runs it again with the pack sent
along, its path in ``LIBPOD_ENGINE_PACK``.
"""
from __future__ import annotations

import hashlib  # module_utils.basic imports it anyway
import importlib
import importlib.machinery
import importlib.util
import os
import stat
import sys
import zlib  # built in: zipimport uses it

from ansible_collections.libpod.engine.plugins.module_utils import packed_index

PREFIX = "ansible_collections.libpod.engine.plugins.module_utils."
#: the packed packages (everything a module uses below ansible_engine.py)
PACKAGES = ("engine", "reconcile")
ROOT_DIR = "/var/cache/libpod-engine/bytecode"
#: another base directory (tests); "off" keeps the pack in memory
ENV_DIR = "LIBPOD_ENGINE_BYTECODE_DIR"
#: the pack the action plugin sent (packed_sources.BLOB, decoded), when the node has no usable copy
ENV_PACK = "LIBPOD_ENGINE_PACK"
#: the result key of a task that needs the pack (plugin_utils/engine_action.py sends it, runs the task again)
NEEDS = "libpod_engine_needs_pack"

#: what install() did in this process (for bench/tests): "" until called; "needs" when the pack is missing
STATUS = {"state": "", "dir": "", "needs": ""}


class PackNeeded(ImportError):
    """A packed file is needed from the pack and this task was not sent it (ask_for_pack)."""


def needs_pack() -> bool:
    """install() found no usable copy and no pack: the task must ask for it (ask_for_pack)."""
    return bool(STATUS["needs"])


def ask_for_pack(why: str = "") -> None:
    """End the task before it does anything, asking the action plugin for the pack (packed_build)."""
    _build().ask_for_pack(why or STATUS["needs"])


_CHECKED_HASH = 0b11  # pyc flags: hash-based, checked against the source on import


def load(name: str):
    """The engine or reconcile module ``name`` ("engine.ops.admin", "reconcile.container"). Called while
    a module sets itself up, before it changes anything: a file it needs from the pack when the task
    was not sent one ends the task with ask_for_pack."""
    try:
        return importlib.import_module(PREFIX + name)
    except PackNeeded as exc:
        ask_for_pack(str(exc))
        raise  # not reached: ask_for_pack exits


def _build():
    """The rest of the loader (not on the fast path)."""
    from ansible_collections.libpod.engine.plugins.module_utils import packed_build  # noqa: PLC0415

    return packed_build


def matches(data: bytes, entry) -> bool:
    """``data`` has the (CRC-32, size) the index records for it."""
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
        return _build().engine_sources(self.finder)

    def get_data(self, path):
        copy = self.finder.copy
        if path == self.path:
            if not copy:
                return _build().source(self.finder, self.rel)
            try:
                data = super().get_data(path)
            except OSError:
                data = None  # removed from the copy
            if data is None or not matches(data, self.finder.index.FILES[self.rel]):
                data = _build().mismatch(self.finder, self.rel)
            return data
        if not copy:
            raise OSError("no bytecode for a file served from the pack")
        data = super().get_data(path)
        if int.from_bytes(data[4:8], "little") != _CHECKED_HASH:
            raise OSError("not a checked-hash pyc: %s" % path)  # the verified source is compiled instead
        return data

    def set_data(self, path, data, *, _mode=0o666):  # pylint: disable=unused-argument
        pass  # the copy is written by packed_build only


class PackFinder:
    """Serves the packed modules: from the copy (``copy``) or from the pack (``copy`` empty)."""

    def __init__(self, index, copy: str, origin: str):
        self.index = index
        self.copy = copy
        self.origin = origin  # where the packed files would be as files (for __file__ and tracebacks)
        self.files = None  # {rel: bytes} once the pack is unpacked (packed_build.sources)

    def find_spec(self, fullname, path=None, target=None):  # pylint: disable=unused-argument
        if not fullname.startswith(PREFIX):
            return None
        rel = fullname[len(PREFIX):].replace(".", "/")
        if rel.endswith("/__init__"):
            return None  # a package is imported by its own name
        package = rel + "/__init__.py" in self.index.FILES
        if package:
            rel += "/__init__.py"
        elif rel + ".py" in self.index.FILES:
            rel += ".py"
        else:
            return None
        location = os.path.join(self.copy or self.origin, *rel.split("/"))
        loader = PackLoader(fullname, location, self, rel)
        return importlib.util.spec_from_file_location(fullname, location, loader=loader,
                                                      submodule_search_locations=[os.path.dirname(location)]
                                                      if package else None)

    def invalidate_caches(self):
        pass


def install() -> str:
    """Serve the packed packages for the rest of this process when they are not files here;
    never raises (the copy is a cache). Without a usable copy the packages are served from the
    pack the action plugin sent, and without that STATUS["needs"] says why (ask_for_pack)."""
    try:
        STATUS["state"] = _install()
    except Exception as exc:  # pylint: disable=broad-exception-caught  # never fail a task for a cache
        STATUS["state"] = "pack: %s" % exc
        if not any(isinstance(f, PackFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, PackFinder(packed_index, "", _origin()))
    if not STATUS["dir"] and STATUS["state"] != "from files" and not os.environ.get(ENV_PACK):
        STATUS["needs"] = "this node has no usable bytecode copy of this engine version (%s)" % STATUS["state"]
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
        if not os.environ.get(ENV_PACK):
            return "", "no copy yet under %s" % base
        _build().build_copy(base, copy)
    why = unsafe_dir(copy)
    if why:
        return "", "pack: unsafe bytecode directory: %s" % why
    return copy, "bytecode"
