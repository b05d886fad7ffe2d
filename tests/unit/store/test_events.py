# SPDX-License-Identifier: GPL-3.0-or-later
"""The events log is rotated at events_logfile_max_size (issue 22 item 13)."""
from __future__ import annotations

import os

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import EngineError
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.events import Event, Eventer


def _flood(ev: Eventer, n: int) -> None:
    for i in range(n):
        ev.write(Event(type="container", status="restart", id="%064x" % i, name="crashy"))


def test_the_log_stays_below_its_limit_and_keeps_the_newest_events(tmp_path):
    ev = Eventer("file", str(tmp_path / "events" / "events.log"), max_size=4096)
    _flood(ev, 500)
    assert os.path.getsize(ev.path) <= 4096
    events = list(ev.read())
    assert all(set(e) >= {"Type", "Status", "Time"} for e in events)  # whole lines only
    ids = [e["ID"] for e in events if e["Status"] == "restart"]
    assert ids[-1] == "%064x" % 499 and ids == sorted(ids)
    assert ev.find("system", "log-rotation")


def test_no_limit_keeps_everything(tmp_path):
    ev = Eventer("file", str(tmp_path / "events.log"), max_size=0)
    _flood(ev, 200)
    assert len(ev.find("container", "restart")) == 200
    assert not ev.find("system", "log-rotation")


def test_the_limit_comes_from_containers_conf(tmp_path, monkeypatch):
    from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions, Runtime

    conf = tmp_path / "c.conf"
    conf.write_text('[engine]\nstatic_dir = "%s"\ntmp_dir = "%s"\nevents_logfile_max_size = "%s"\n'
                    % (tmp_path / "static", tmp_path / "tmp", "2k"))
    rt = Runtime.open(OpenOptions(env={"LIBPOD_ENGINE_CONF": str(conf)}))
    try:
        assert rt.events.max_size == 2048
    finally:
        rt.shutdown()
    conf.write_text('[engine]\nstatic_dir = "%s"\ntmp_dir = "%s"\nevents_logfile_max_size = "lots"\n'
                    % (tmp_path / "static", tmp_path / "tmp"))
    with pytest.raises(EngineError, match="events_logfile_max_size"):
        Runtime.open(OpenOptions(env={"LIBPOD_ENGINE_CONF": str(conf)}))
