"""Make the repo importable as ansible_collections.libpod.engine (as ansible-test does)."""
import atexit
import os
import shutil
import sys
import tempfile

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
