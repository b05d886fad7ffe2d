"""Make the repo importable as ansible_collections.libpod.engine (as ansible-test does)."""
import atexit
import os
import shutil
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(REPO, ".build", "collections")
LINK = os.path.join(BUILD, "ansible_collections", "libpod", "engine")

if not os.path.islink(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    try:
        os.symlink(REPO, LINK)
    except FileExistsError:
        pass
if BUILD not in sys.path:
    sys.path.insert(0, BUILD)
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", BUILD)

# Registry configuration of tests: never the host's (podman installed /etc/containers/*). Empty
# registries.conf (no search registries, no aliases), accept-all policy, no certs, no logins;
# tests that need their own point the LIBPOD_ENGINE_* / REGISTRY_AUTH_FILE variables elsewhere.
_REG_DIR = tempfile.mkdtemp(prefix="lpe-test-registries-")
atexit.register(shutil.rmtree, _REG_DIR, True)
for _name, _text in (("registries.conf", ""), ("policy.json", '{"default": [{"type": "insecureAcceptAnything"}]}')):
    with open(os.path.join(_REG_DIR, _name), "w") as _f:
        _f.write(_text)
os.makedirs(os.path.join(_REG_DIR, "certs.d"), exist_ok=True)
os.environ.setdefault("LIBPOD_ENGINE_REGISTRIES_CONF", os.path.join(_REG_DIR, "registries.conf"))
os.environ.setdefault("LIBPOD_ENGINE_POLICY", os.path.join(_REG_DIR, "policy.json"))
os.environ.setdefault("LIBPOD_ENGINE_CERTS_DIR", os.path.join(_REG_DIR, "certs.d"))
os.environ.setdefault("REGISTRY_AUTH_FILE", os.path.join(_REG_DIR, "auth.json"))


@pytest.fixture(scope="session", autouse=True)
def _forget_test_roots(tmp_path_factory):
    """After the run, no registry entry of a root the tests made below pytest's temp dir (pytest
    keeps those dirs, and with them their roots' DBs: each stayed registered)."""
    yield
    # imported here: the collection is importable only once the code above put BUILD on sys.path
    from ansible_collections.libpod.engine.tests.helpers.roots import forget_roots_under  # pylint: disable=import-outside-toplevel

    forget_roots_under(str(tmp_path_factory.getbasetemp()))


@pytest.fixture(scope="session", autouse=True)
def _settle_device_modes():
    """After the run, /dev/net/tun and /dev/fuse back at their original modes if a killed run (its
    record names no live process) left them opened up for the rootless tests (tests/helpers/devmode)."""
    yield
    from ansible_collections.libpod.engine.tests.helpers.devmode import settle_stale  # pylint: disable=import-outside-toplevel

    settle_stale()
