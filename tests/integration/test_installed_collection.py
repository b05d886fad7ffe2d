# SPDX-License-Identifier: GPL-3.0-or-later
"""The guide's first playbook, from the built tarball installed into a fresh collections path.

What a new user does: ``ansible-galaxy collection build``, ``ansible-galaxy collection install``
into an empty path, then the guide's "First playbook" block as written (with only the documented
substitutions of test_examples.py) in a directory outside the checkout, twice: the second run
changes nothing.

The guide's first playbook makes its image with the module ``libpod.engine.image`` (from a plain
``tar`` of a directory), so that it needs nothing of the checkout (the tarball ships neither
``scripts/`` nor ``playbooks/``). Until that module exists this test is skipped, saying so.
"""
from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import pytest
import yaml

from .examples_extract import REPO, guide_examples
from .helpers import PlaybookResult, TaskResult, _playbook_path, free_port
from .test_examples import prepare, substitutions

IMAGE_MODULE = os.path.join(REPO, "plugins", "modules", "image.py")


def _galaxy() -> str:
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")
    return exe if os.access(exe, os.X_OK) else "ansible-galaxy"


def _first_playbook() -> str:
    blocks = [ex for ex in guide_examples() if ex.name.endswith("(First playbook)")]
    assert blocks, "docs/index.md has no YAML block under 'First playbook'"
    return blocks[0].text


def _run(env: dict, cwd: str, playbook: str, result_file: str, *extra: str) -> PlaybookResult:
    cmd = [_playbook_path(), "-i", "localhost,", playbook, *extra]
    proc = subprocess.run(cmd, env=dict(env, LPE_IT_RESULT_FILE=result_file), cwd=cwd, check=False,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    doc = {"tasks": [], "stats": {}}
    if os.path.exists(result_file):
        with open(result_file, encoding="utf-8") as f:
            doc = json.load(f)
    return PlaybookResult(rc=proc.returncode, tasks=[TaskResult(**t) for t in doc["tasks"]], stats=doc["stats"],
                          stdout=proc.stdout, stderr=proc.stderr, playbook=playbook, command=cmd)


@pytest.mark.skipif(not os.path.exists(IMAGE_MODULE),
                    reason="libpod.engine.image does not exist yet: the guide's first playbook needs it to make its "
                           "image from an installed collection (the images branch adds it)")
def test_first_playbook_from_the_installed_tarball(engine_env, tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run([_galaxy(), "collection", "build", "--force", "--output-path", str(dist), REPO],
                           capture_output=True, text=True, timeout=300, check=False)
    assert build.returncode == 0, build.stdout + build.stderr
    tarball = glob.glob(str(dist / "libpod-engine-*.tar.gz"))[0]
    collections = tmp_path / "collections"
    fresh = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections))  # not the checkout's link
    install = subprocess.run([_galaxy(), "collection", "install", "--force", "--no-deps", "--offline", "-p",
                              str(collections), tarball], env=fresh, capture_output=True, text=True, timeout=300,
                             check=False)
    assert install.returncode == 0, install.stdout + install.stderr
    assert os.path.isfile(str(collections / "ansible_collections" / "libpod" / "engine" / "MANIFEST.json")), \
        install.stdout + install.stderr

    user = tmp_path / "user"  # the user's directory: no checkout anywhere near
    user.mkdir()
    prepare(engine_env.root, engine_env.conf)
    table = substitutions(engine_env.root, [free_port() for _unused in range(3)])
    text = _first_playbook()
    assert "scripts/" not in text and "playbooks/" not in text, \
        "the guide's first playbook uses the checkout, which an installed collection does not have:\n" + text
    for old, new in table:
        text = text.replace(old, new)
    playbook = user / "first.yml"
    playbook.write_text(yaml.safe_dump(yaml.safe_load(text), sort_keys=False))
    env = dict(engine_env, ANSIBLE_COLLECTIONS_PATH=str(collections))
    # --check first, as many users do, on a host where nothing exists yet: it predicts and writes nothing
    check = _run(env, str(user), str(playbook), str(tmp_path / "check.json"), "--check")
    assert check.rc == 0, check.log
    assert {"The image", "The web server"} <= {t.name for t in check.tasks if t.changed}, check.log
    rootfs_tar = dict(table)["/srv/images"] + "/demo-rootfs.tar"
    assert not os.path.exists(rootfs_tar), "--check wrote " + rootfs_tar
    first = _run(env, str(user), str(playbook), str(tmp_path / "first.json"))
    assert first.rc == 0, first.log
    assert first.changed > 0, first.log
    again = _run(env, str(user), str(playbook), str(tmp_path / "again.json"))
    assert again.rc == 0, again.log
    assert again.changed == 0, [(t.name, t.get("actions")) for t in again.tasks if t.changed]
