# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load the engine from bytecode instead of compiling it from the AnsiballZ zip on every task.

Python never caches bytecode for modules imported from a zip, so each task compiled the ~27
engine files a no-op imports (~80 ms against ~17 ms from bytecode, issue 20). ``install()``
keeps one copy of the shipped ``engine/`` and ``reconcile/`` sources per content hash in a
root-only directory, compiled to hash-checked pycs (``PycInvalidationMode.CHECKED_HASH``: the
import system compares each pyc with its source, so stale bytecode is never run), and puts a
finder first on ``sys.meta_path`` that serves those modules from the copy.

The copy is used only when everything checks out; otherwise the task silently imports from the
zip as before:

* the module runs from an AnsiballZ zip and as root (only root may write the cache);
* every directory from ``/`` down to the copy is owned by root and not writable by group or
  others (a root-owned sticky directory such as /tmp is accepted as an ancestor only);
* every file of the copy has exactly the bytes the zip ships (read and compared on each task:
  a tampered copy is ignored, and removed so that the next task rebuilds it), and its pyc exists.

The directory name is the sha256 of the shipped sources and the interpreter's cache tag, so a
different collection version (or Python) uses its own copy. Not the exit command's engine copy
(``Runtime.engine_copy``): that one lives under the configured static_dir, which is only known
after the engine is imported. Standard library only, and nothing here may raise.
"""
from __future__ import annotations

import hashlib
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


def shipped_sources(archive: str) -> dict:
    """{module_utils-relative path: bytes} of the served packages' .py files in the zip."""
    import zipfile  # noqa: PLC0415 - AnsiballZ's wrapper has already imported it

    out = {}
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            rel = name[len(_ZIP_ROOT):]
            if name.startswith(_ZIP_ROOT) and rel.endswith(".py") and rel.split("/", 1)[0] in PACKAGES:
                out[rel] = zf.read(name)
    return out


def copy_key(sources: dict) -> str:
    h = hashlib.sha256(sys.implementation.cache_tag.encode() + b"\0")
    for rel in sorted(sources):
        h.update(rel.encode() + b"\0" + hashlib.sha256(sources[rel]).digest())
    return h.hexdigest()[:32]


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


def verified(copy: str, sources: dict) -> bool:
    """Every shipped file is in the copy with the same bytes, and has a pyc for this interpreter."""
    import importlib.util  # noqa: PLC0415

    if unsafe_dir(copy):
        return False
    for rel, data in sources.items():
        path = os.path.join(copy, *rel.split("/"))
        try:
            with open(path, "rb") as f:
                if f.read() != data:
                    return False
            if not os.path.isfile(importlib.util.cache_from_source(path)):
                return False
        except OSError:
            return False
    return True


class CopyFinder:
    """Serves the shipped engine modules from the verified copy (their pycs)."""

    def __init__(self, copy: str, sources: dict):
        self.copy = copy
        self.names = {}
        for rel in sources:
            mod = rel[:-3].replace("/", ".")
            if mod.endswith(".__init__"):
                self.names[PREFIX + mod[:-9]] = (rel, True)
            else:
                self.names[PREFIX + mod] = (rel, False)

    def find_spec(self, fullname, path=None, target=None):  # pylint: disable=unused-argument
        hit = self.names.get(fullname)
        if hit is None:
            return None
        import importlib.util  # noqa: PLC0415

        rel, package = hit
        location = os.path.join(self.copy, *rel.split("/"))
        search = [os.path.dirname(location)] if package else None
        return importlib.util.spec_from_file_location(fullname, location, submodule_search_locations=search)

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
    sources = shipped_sources(archive)
    if not sources:
        return "zip: no engine sources in %s" % archive
    if not os.path.isdir(base):
        os.makedirs(base, mode=0o700, exist_ok=True)
    why = unsafe_dir(base)
    if why:
        return "zip: unsafe bytecode directory: %s" % why
    copy = os.path.join(base, copy_key(sources))
    if not os.path.isdir(copy):
        try:
            _build(base, copy, sources)
        except OSError:
            if not os.path.isdir(copy):  # else: a concurrent task built it first
                raise
    if not verified(copy, sources):
        import shutil  # noqa: PLC0415

        shutil.rmtree(copy, ignore_errors=True)  # tampered or incomplete: the next task rebuilds it
        return "zip: copy did not match the shipped sources"
    sys.meta_path.insert(0, CopyFinder(copy, sources))
    STATUS["dir"] = copy
    return "bytecode"
