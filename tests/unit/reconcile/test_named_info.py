# SPDX-License-Identifier: GPL-3.0-or-later
"""run_named_info (reconcile/task.py, handed out by ansible_engine): the shared body of
image_info, network_info, secret_info and volume_info (the real modules run in tests/integration:
test_image, test_networks, test_secret, test_volume), here with a fake module and a fake runtime."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

import pytest

from ansible_collections.libpod.engine.plugins.module_utils import ansible_engine as ae
from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import EngineError
from ansible_collections.libpod.engine.plugins.module_utils.reconcile import task


@dataclass
class Obj:
    id: str
    name: str


class Exited(Exception):
    pass


class FakeModule:
    check_mode = True

    def __init__(self, names: Optional[List[str]]):
        self.params = {"name": names, "engine_options": None}
        self.result = None
        self.warnings: List[str] = []

    def warn(self, msg):
        self.warnings.append(msg)

    def exit_json(self, **kw):
        self.result = kw
        raise Exited()

    def fail_json(self, **kw):
        self.result = dict(kw, failed=True)
        raise Exited()


class FakeRuntime:
    def __init__(self):
        self.objs = [Obj("a1", "one"), Obj("b2", "two")]
        self.closed = False

    def find(self, ref):
        return next((o for o in self.objs if ref in (o.id, o.name)), None)

    def shutdown(self):
        self.closed = True


@pytest.fixture
def rt(monkeypatch):
    runtime = FakeRuntime()
    monkeypatch.setattr(task, "open_runtime", lambda module, **kw: runtime)
    return runtime


def _run(names, source):
    module = FakeModule(names)
    with pytest.raises(Exited):
        ae.run_named_info(module, "things", source)
    return module.result


def _source(rt_):
    return rt_.find, lambda: list(rt_.objs), lambda o: {"Name": o.name}


@pytest.mark.parametrize("names, shown, missing", [
    (None, ["one", "two"], []),  # no names: everything, as list_all orders it
    ([], ["one", "two"], []),
    (["two", "nope", "b2", "one"], ["two", "one"], ["nope"]),  # asked order, once each, unknown names listed
])
def test_named_info_selects_shows_and_lists_the_missing(rt, names, shown, missing):
    result = _run(names, _source)
    assert result == {"changed": False, "things": [{"Name": n} for n in shown], "missing": missing}
    assert rt.closed


def test_an_engine_error_fails_the_module_and_the_runtime_is_shut_down(rt):
    def broken(rt_):
        def find(ref):
            raise EngineError("cannot read %s" % ref)
        return find, list, None

    result = _run(["x"], broken)
    assert result["failed"] and result["msg"] == "cannot read x" and "error_kind" in result
    assert rt.closed
