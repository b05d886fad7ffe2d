# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the fault suite (real ansible-playbook runs, one engine root per test, as
tests/integration) and the session's fault table (printed by pytest_terminal_summary).

Run alone: ``python -m pytest tests/fault -q``. The table also goes to
``.build/fault-report.json``.
"""
from __future__ import annotations

import os

import pytest

from ansible_collections.libpod.engine.tests.integration.helpers import (
    REPO,
    cleanup_engine_env,
    make_engine_env,
    run_playbook,
)

from .report import REPORT


@pytest.fixture
def engine_env(tmp_path):
    """ansible-playbook environment with this test's own engine root; cleaned afterwards."""
    env = make_engine_env(tmp_path)
    yield env
    cleanup_engine_env(env)


@pytest.fixture
def playbook(engine_env):
    def run(tasks, **kwargs):
        return run_playbook(engine_env, tasks, **kwargs)

    return run


@pytest.fixture(scope="session")
def busybox_archive(tmp_path_factory):
    """oci-archive of a locally built busybox image (localhost/busybox:latest, Cmd sh)."""
    from ansible_collections.libpod.engine.tests.helpers.images import busybox_image, write_oci_archive

    work = str(tmp_path_factory.mktemp("busybox-image"))
    img = busybox_image(work, config={"Cmd": ["sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                                      "WorkingDir": "/"})
    return write_oci_archive(work + "/busybox.tar", [(img, "localhost/busybox:latest")])


@pytest.fixture(scope="session")
def image(busybox_archive):
    return "oci-archive:" + busybox_archive


@pytest.fixture(scope="session")
def fault_report():
    return REPORT


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not REPORT.rows:
        return
    terminalreporter.section("fault table")
    terminalreporter.write_line(REPORT.table())
    failures = REPORT.failures()
    if failures:
        terminalreporter.write_line("")
        for row in failures:
            terminalreporter.write_line("%s: %s" % (row.scenario, " | ".join(row.notes) or "not converged"))
    try:
        REPORT.dump(os.path.join(REPO, ".build", "fault-report.json"))
    except OSError:
        pass
