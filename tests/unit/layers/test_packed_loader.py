# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/packed_loader.py: the engine served from a verified, checked-hash bytecode copy when
it is safe, else from the pack the action plugin sends to a task that asks for it.

Each case runs a fresh interpreter on a zip laid out like an AnsiballZ payload (the collection's
real module_utils files, with engine/ and reconcile/ only packed and packed_sources.py left out, as
the controller ships them), as a module process would, and reports where the engine came from.
The pack the action plugin would send is a file beside the zip (``pack=True``: its path in
LIBPOD_ENGINE_PACK, as plugins/plugin_utils/engine_action.py sets it).
"""
from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile

import pytest

from ansible_collections.libpod.engine.plugins.module_utils import packed_build, packed_loader

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MODULE_UTILS = os.path.join(REPO, "plugins", "module_utils")
ZIP_ROOT = "ansible_collections/libpod/engine/plugins/module_utils/"
sys.path.insert(0, os.path.join(REPO, "scripts"))
import pack_engine  # noqa: E402  pylint: disable=wrong-import-position
import strip_source  # noqa: E402  pylint: disable=wrong-import-position

CHILD = r"""
import hashlib, json, os, sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.libpod.engine.plugins.module_utils import packed_loader
installed = packed_loader.install()
if packed_loader.needs_pack():
    packed_loader.ask_for_pack()  # as ansible_engine.py does
runtime = packed_loader.load("engine.runtime")
version = packed_loader.load("engine.base.version")
options = packed_loader.load("reconcile.options")
res = {"state": packed_loader.STATUS["state"], "installed": installed, "dir": packed_loader.STATUS["dir"],
       "runtime": runtime.__file__,
       "options": options.__file__, "tampered": hasattr(runtime, "TAMPERED"),
       "marker": getattr(version, "MARKER", None),
       # what ran beside packed_loader (the fast path imports neither)
       "fast": [m for m in ("packed_build", "packed_sources") if packed_loader.PREFIX + m in sys.modules],
       "engine_sha256": runtime.engine_digest()}
if not os.environ.get("NO_EXIT_COPY"):
    res.update(engine_files=len(runtime.engine_sources()),
               engine_sources=hashlib.sha256(repr(sorted(runtime.engine_sources().items())).encode()).hexdigest())
print(json.dumps(res))
"""


def make_payload(path: str, tmp: str, extra: str = "") -> str:
    """A zip with the collection's module_utils under AnsiballZ's layout: engine/ and reconcile/
    packed, not as files, without packed_sources.py (no payload carries it), and beside it
    ``path + ".pack"``, what the action plugin sends; ``extra`` is appended to
    engine/base/version.py (another collection version)."""
    src = os.path.join(tmp, "module_utils")
    shutil.copytree(MODULE_UTILS, src, ignore=shutil.ignore_patterns("__pycache__"))
    with open(os.path.join(src, "engine", "base", "version.py"), "a") as f:
        f.write(extra)
    packed = {os.path.basename(p): text for p, text in pack_engine.rendered(src).items()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        parts = ZIP_ROOT.strip("/").split("/")
        for i in range(len(parts) - 1):  # module_utils/__init__.py comes from the repo
            zf.writestr("/".join(parts[:i + 1]) + "/__init__.py", "")
        for name in sorted(os.listdir(src)):
            if name.endswith(".py") and name != "packed_sources.py":
                with open(os.path.join(src, name), "rb") as f:
                    data = f.read()
                zf.writestr(ZIP_ROOT + name, packed.get(name, data))
    namespace: dict = {}
    exec(packed["packed_sources.py"], namespace)  # noqa: S102  pylint: disable=exec-used
    with open(path + ".pack", "wb") as f:
        f.write(base64.b64decode(namespace["BLOB"]))
    shutil.rmtree(src)
    return path


def run_task(payload: str, base: str, exit_copy: bool = True, pack: bool = True) -> dict:
    """What a task in a fresh interpreter found (its answer when it asked for the pack);
    ``exit_copy=False``: without the exit command's copy; ``pack``: the action plugin sent the pack."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), packed_loader.ENV_DIR: base}
    if not exit_copy:
        env["NO_EXIT_COPY"] = "1"
    if pack:
        env[packed_loader.ENV_PACK] = payload + ".pack"
    proc = subprocess.run([sys.executable, "-I", "-c", CHILD, payload], env=env, capture_output=True, text=True,
                          check=False)
    out = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}
    assert proc.returncode == (1 if packed_loader.NEEDS in out else 0), proc.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("zip")
    return make_payload(str(tmp / "payload.zip"), str(tmp))


@pytest.fixture
def base(tmp_path):
    d = tmp_path / "bytecode"
    d.mkdir(mode=0o700)
    return str(d)


def _pyc_flags(source: str) -> int:
    with open(importlib.util.cache_from_source(source), "rb") as f:
        return int.from_bytes(f.read(8)[4:8], "little")


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user")


@needs_root
def test_the_engine_loads_from_a_checked_hash_copy_and_the_pack_is_the_source_of_truth(payload, base):
    first = run_task(payload, base)
    assert first["state"] == "bytecode"
    assert first["runtime"].startswith(first["dir"] + os.sep) and first["options"].startswith(first["dir"] + os.sep)
    assert os.path.dirname(first["dir"]) == base
    assert _pyc_flags(first["runtime"]) == 0b11  # hash-based, checked against the source on import
    with open(first["runtime"], "rb") as f, open(os.path.join(MODULE_UTILS, "engine", "runtime.py"), "rb") as g:
        copied, checkout = f.read(), g.read()
    # the checkout's file without comments and docstrings, every line where it is in the checkout
    assert copied == strip_source.strip(checkout) and copied.count(b"\n") == checkout.count(b"\n")
    assert first["fast"] == ["packed_build"]  # it built the copy from the pack it was sent
    # the second task reuses the copy, without the pack: only packed_loader runs
    second = run_task(payload, base, exit_copy=False, pack=False)
    assert second["fast"] == [] and second["dir"] == first["dir"] and second["state"] == "bytecode"
    # the exit command's copy is read from the bytecode copy, each file checked
    assert run_task(payload, base, pack=False) == dict(first, fast=[])


@needs_root
def test_a_task_without_a_copy_asks_for_the_pack_before_doing_anything(payload, base):
    asked = run_task(payload, base, pack=False)
    assert asked[packed_loader.NEEDS] == packed_loader.packed_index.DIGEST and asked["failed"]
    assert "no usable bytecode copy of this engine version (no copy yet under %s)" % base in asked["msg"]
    assert os.listdir(base) == []
    assert run_task(payload, "off", pack=False)[packed_loader.NEEDS]  # no copy kept: every task needs it
    assert run_task(payload, "off")["state"] == "off"


def test_a_pack_of_another_version_or_damaged_is_refused(payload, base, tmp_path):
    import zlib  # pylint: disable=import-outside-toplevel

    with open(payload + ".pack", "rb") as f:
        data = bytearray(zlib.decompress(f.read()))
    data[100] ^= 1  # same size, other content: the digest tells
    cases = {"changed": (zlib.compress(bytes(data)), "not this engine version's pack"),
             "cut": (zlib.compress(bytes(data[:-10])), "cannot read the engine's pack: packed_sources does not match"),
             "damaged": (b"not deflated", "cannot read the engine's pack")}
    for name, (blob, why) in cases.items():
        pack = tmp_path / name
        pack.write_bytes(blob)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), packed_loader.ENV_DIR: base,
               packed_loader.ENV_PACK: str(pack)}
        proc = subprocess.run([sys.executable, "-I", "-c", CHILD, payload], env=env, capture_output=True, text=True,
                              check=False)
        assert proc.returncode != 0 and why in proc.stderr, name
        assert os.listdir(base) == [], name


@needs_root
def test_a_tampered_copy_is_ignored_and_rebuilt(payload, base):
    copy = run_task(payload, base)["dir"]
    with open(os.path.join(copy, "engine", "runtime.py"), "a") as f:
        f.write("\nTAMPERED = 1\n")
    # the engine's modules are checked as they are imported: a task without the pack asks for it
    asked = run_task(payload, base, pack=False)
    assert asked[packed_loader.NEEDS] and not os.path.exists(copy)
    assert "the bytecode copy %s was changed (engine/runtime.py): it is removed" % copy in asked["msg"]
    with open(os.path.join(os.path.dirname(copy), "x"), "w"):
        pass  # the base directory stays usable
    res = run_task(payload, base)  # sent the pack: the copy is built again
    assert res["state"] == "bytecode" and res["dir"] == copy and not res["tampered"]
    with open(os.path.join(copy, "engine", "runtime.py"), "a") as f:
        f.write("\nTAMPERED = 1\n")
    res = run_task(payload, base)  # with the pack at hand, runtime.py is compiled from it
    assert res["state"] == "pack: copy did not match the packed sources (engine/runtime.py)"
    assert not res["tampered"] and not os.path.exists(copy)


@needs_root
def test_stale_bytecode_never_runs(payload, base, tmp_path):
    """A pyc compiled from other source (same path) fails its hash check: the verified source is compiled."""
    copy = run_task(payload, base)["dir"]
    other = tmp_path / "runtime.py"
    with open(os.path.join(copy, "engine", "runtime.py")) as f:
        other.write_text(f.read() + "\nTAMPERED = 1\n")
    py_compile.compile(str(other), cfile=importlib.util.cache_from_source(os.path.join(copy, "engine", "runtime.py")),
                       invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    res = run_task(payload, base)
    assert res["state"] == "bytecode" and not res["tampered"]


@needs_root
def test_a_timestamp_pyc_is_never_run(payload, base):
    """A timestamp pyc with the copy's source mtime and size passes Python's own check without
    the source being read: the loader accepts checked-hash pycs only."""
    from importlib._bootstrap_external import _code_to_timestamp_pyc  # pylint: disable=import-outside-toplevel

    copy = run_task(payload, base)["dir"]
    source = os.path.join(copy, "engine", "runtime.py")
    with open(source, "rb") as f:
        text = f.read()
    st = os.stat(source)
    code = compile(text + b"\nTAMPERED = 1\n", source, "exec")
    with open(importlib.util.cache_from_source(source), "wb") as f:
        f.write(_code_to_timestamp_pyc(code, int(st.st_mtime), st.st_size))
    res = run_task(payload, base)
    assert res["state"] == "bytecode" and not res["tampered"]


@needs_root
def test_a_file_missing_from_the_copy_comes_from_the_pack(payload, base):
    copy = run_task(payload, base)["dir"]
    os.unlink(os.path.join(copy, "reconcile", "options.py"))
    res = run_task(payload, base)
    assert res["state"] == "pack: copy did not match the packed sources (reconcile/options.py)"
    assert not os.path.exists(copy)
    assert run_task(payload, base)["state"] == "bytecode"


@needs_root
def test_a_different_collection_version_uses_its_own_copy(payload, base, tmp_path):
    other = make_payload(str(tmp_path / "other.zip"), str(tmp_path), extra="\nMARKER = 'other'\n")
    mine, theirs = run_task(payload, base), run_task(other, base)
    assert mine["state"] == theirs["state"] == "bytecode"
    assert mine["dir"] != theirs["dir"] and sorted(os.listdir(base)) == sorted(
        os.path.basename(d) for d in (mine["dir"], theirs["dir"]))
    assert (mine["marker"], theirs["marker"]) == (None, "other")
    assert run_task(payload, base)["marker"] is None


@needs_root
@pytest.mark.parametrize("mode, owner, where", [
    (0o770, 0, "base"),         # group-writable
    (0o707, 0, "base"),         # world-writable
    (0o1777, 0, "base"),        # sticky is accepted for an ancestor only
    (0o700, 65534, "base"),     # not owned by root
    (0o777, 0, "parent"),       # an ancestor anyone may rename entries in
])
def test_an_unsafe_directory_is_refused(payload, tmp_path, mode, owner, where):
    parent = tmp_path / "p"
    parent.mkdir(mode=0o755)
    base = parent / "bytecode"
    base.mkdir(mode=0o700)
    target = base if where == "base" else parent
    os.chmod(target, mode)
    os.chown(target, owner, owner)
    res = run_task(payload, str(base))
    assert res["state"].startswith("pack: unsafe bytecode directory: %s" % target)
    assert res["runtime"].startswith(payload) and os.listdir(base) == []


@needs_root
def test_off_and_a_missing_base_directory(payload, tmp_path):
    assert run_task(payload, "off")["state"] == "off"
    res = run_task(payload, str(tmp_path / "new" / "bytecode"))
    assert res["state"] == "bytecode"
    assert os.stat(tmp_path / "new" / "bytecode").st_mode & 0o777 == 0o700


def test_packages_present_as_files_are_left_alone():
    assert packed_loader.install() == "from files"
    assert not any(isinstance(f, packed_loader.PackFinder) for f in sys.meta_path)


def test_the_exit_commands_copy_is_named_and_filled_from_the_pack(payload, tmp_path):
    """Runtime.engine_copy gets the engine's digest and files from the pack when it has no files:
    the same digest as from the files of this checkout, so both install one copy; its files are
    the checkout's stripped of comments and docstrings (the same code at the same lines)."""
    from ansible_collections.libpod.engine.plugins.module_utils.engine import runtime  # pylint: disable=import-outside-toplevel

    stripped = {rel: strip_source.strip(data) for rel, data in runtime.engine_sources().items()}
    for base in (str(tmp_path / "bytecode"), "off"):
        res = run_task(payload, base)
        assert res["engine_sha256"] == runtime.engine_digest()
        assert res["engine_files"] == len(runtime.engine_sources())
        assert res["engine_sources"] == hashlib.sha256(repr(sorted(stripped.items())).encode()).hexdigest()


@pytest.fixture
def world_readable_dir():
    """A directory another user can reach (pytest's own temp dirs are root's, mode 0700)."""
    d = tempfile.mkdtemp(prefix="lpe-packed-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d)


def test_a_user_gets_a_copy_in_their_own_cache(world_readable_dir):
    """Not root: the copy lives under $XDG_CACHE_HOME (owned by that user), never in root's directory."""
    if os.geteuid() != 0 or not os.access("/usr/bin/python3", os.X_OK):
        pytest.skip("needs root (to run the task as another user) and /usr/bin/python3")
    zip_path = make_payload(os.path.join(world_readable_dir, "payload.zip"), world_readable_dir)
    os.chmod(zip_path, 0o644)
    cache = os.path.join(world_readable_dir, "cache")
    os.mkdir(cache, 0o700)
    os.chown(cache, 65534, 65534)
    env = {"PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": cache}

    def task():
        proc = subprocess.run(["/usr/bin/python3", "-I", "-c", CHILD, zip_path], env=env, capture_output=True,
                              text=True, check=False, user=65534, group=65534)
        out = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}
        assert proc.returncode == (1 if packed_loader.NEEDS in out else 0), proc.stderr[-3000:]
        return out

    env[packed_loader.ENV_PACK] = zip_path + ".pack"  # sent by the action plugin
    first = task()
    del env[packed_loader.ENV_PACK]
    assert first["state"] == "bytecode", first
    assert first["dir"].startswith(os.path.join(cache, "libpod-engine", "bytecode") + os.sep)
    assert os.stat(first["dir"]).st_uid == 65534
    assert task() == dict(first, fast=[])
    os.chmod(cache, 0o777)  # another user could now replace the copy: it is not used
    env[packed_loader.ENV_PACK] = zip_path + ".pack"
    res = task()
    assert res["state"].startswith("pack: unsafe bytecode directory: %s" % cache) and res["dir"] == ""
    assert res["runtime"].startswith(zip_path)


def test_only_the_newest_copies_and_no_stale_half_builds_are_kept(tmp_path):
    base = tmp_path / "bytecode"
    base.mkdir()
    names = ["%032x" % i for i in range(packed_build.KEEP + 3)]
    for i, name in enumerate(names):
        (base / name).mkdir()
        os.utime(base / name, (1000 + i, 1000 + i))
    (base / "not-a-copy").mkdir()
    (base / ".tmp-killed").mkdir()  # a task killed while building
    os.utime(base / ".tmp-killed", (1000, 1000))
    (base / ".tmp-building").mkdir()  # a build under way in another task
    assert sorted(packed_build.prune(str(base))) == sorted([".tmp-killed"] + names[:3])
    assert sorted(os.listdir(base)) == sorted(names[3:] + ["not-a-copy", ".tmp-building"])


def test_a_copy_that_cannot_be_written_leaves_the_engine_in_memory(payload, tmp_path):
    """A full or read-only disk (here: a file where the directory should be) fails no task."""
    (tmp_path / "afile").write_text("")
    res = run_task(payload, str(tmp_path / "afile" / "bytecode"))
    assert res["state"].startswith("pack: ") and res["dir"] == ""
    assert res["runtime"].startswith(payload)
    assert res["engine_files"] > 100


def test_the_blob_is_cut_by_the_index_and_a_blob_that_does_not_match_it_is_refused():
    import zlib  # pylint: disable=import-outside-toplevel

    blob = zlib.compress(b"abcdefg")
    assert packed_build.unpack(blob, {"a.py": (0, 3), "b.py": (0, 0), "c.py": (0, 4)}) == {
        "a.py": b"abc", "b.py": b"", "c.py": b"defg"}
    with pytest.raises(ValueError, match="7 bytes, the index says 6"):
        packed_build.unpack(blob, {"a.py": (0, 3), "c.py": (0, 3)})
