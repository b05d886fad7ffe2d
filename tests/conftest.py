"""Make the repo importable as ansible_collections.libpod.engine (as ansible-test does)."""
import os
import sys

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
