# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the integration tests (real ansible-playbook runs); see helpers.py."""
from __future__ import annotations

import os
import sys

import pytest

from .helpers import cleanup_engine_env, make_engine_env, run_playbook

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pytest_sessionstart(session):  # pylint: disable=unused-argument
    """The playbooks run the engine packed in module_utils (scripts/pack_engine.py): a pack older
    than the sources would test old code, so stop before anything runs."""
    sys.path.insert(0, os.path.join(REPO, "scripts"))
    try:
        import pack_engine  # pylint: disable=import-outside-toplevel
    finally:
        sys.path.pop(0)
    for path, text in pack_engine.rendered().items():
        with open(path, encoding="utf-8") as f:
            if f.read() != text:
                pytest.exit("%s is out of date: run python3 scripts/pack_engine.py" % path, returncode=2)


@pytest.fixture
def engine_env(tmp_path):
    """Environment for ansible-playbook with this test's own engine root; cleaned afterwards."""
    env = make_engine_env(tmp_path)
    yield env
    cleanup_engine_env(env)


@pytest.fixture
def playbook(engine_env):
    """``playbook(tasks, check=False, diff=False, extra_vars=None)``: run_playbook bound to engine_env."""

    def run(tasks, **kwargs):
        return run_playbook(engine_env, tasks, **kwargs)

    return run


@pytest.fixture(scope="session")
def busybox_archive(tmp_path_factory):
    """An oci-archive of a busybox-static image built locally (no registry, no podman).

    Image config: Cmd ["sh"], Env PATH, WorkingDir "/", name localhost/busybox:latest.
    Use it in tasks as ``image: oci-archive:<path>``.
    """
    from ansible_collections.libpod.engine.tests.helpers.images import busybox_image, write_oci_archive

    work = str(tmp_path_factory.mktemp("busybox-image"))
    img = busybox_image(work, config={"Cmd": ["sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                                      "WorkingDir": "/", "Labels": {"org.example.from": "image"}})
    path = write_oci_archive(work + "/busybox.tar", [(img, "localhost/busybox:latest")])
    return path
