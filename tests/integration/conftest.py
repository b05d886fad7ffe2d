# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the integration tests (real ansible-playbook runs); see helpers.py."""
from __future__ import annotations

import pytest

from .helpers import cleanup_engine_env, make_engine_env, run_playbook


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
