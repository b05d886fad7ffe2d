# SPDX-License-Identifier: GPL-3.0-or-later
"""The container module's image decision: ``pull: newer`` follows a tag moved in a (plain HTTP) registry.

The recreate that follows a new image ID is covered end to end by
tests/integration/test_container.py::test_moved_image_recreates_and_says_why.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from helpers.images import RegistryServer, build_image, busybox_layer, push_image
from helpers.registries import docker_registries

from ansible_collections.libpod.engine.plugins.module_utils.engine.image.store import ImageStore
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container import _resolve_image
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.result import Result


@pytest.fixture
def registry(tmp_path):
    with docker_registries(RegistryServer(str(tmp_path / "registry"))) as (server,):
        yield server


def test_pull_newer_follows_a_moved_tag_of_an_insecure_registry(registry, tmp_path):
    layer = busybox_layer(str(tmp_path))
    v1, v2 = build_image([layer]), build_image([layer], config={"Cmd": ["v2"]})
    st = State(str(tmp_path / "state.db"))
    try:
        rt = SimpleNamespace(images=ImageStore(st, str(tmp_path / "graph"), registry_timeout=10),
                             event=lambda *_a, **_kw: None)
        ref = "docker://%s/team/app:1" % registry.host
        params = {"pull": "newer", "insecure_registry": True}
        push_image(registry.url, "team/app", "1", v1)
        res = Result(kind="container")
        assert _resolve_image(rt, ref, params, False, res).id == v1.image_id
        res = Result(kind="container")
        assert _resolve_image(rt, ref, params, False, res).id == v1.image_id
        assert not res.changed, res.actions  # the tag did not move: no pull
        push_image(registry.url, "team/app", "1", v2)
        res = Result(kind="container")
        assert _resolve_image(rt, ref, params, True, res).id == v1.image_id  # check mode: would pull
        assert res.actions == ["pull image %s" % ref]
        res = Result(kind="container")
        assert _resolve_image(rt, ref, params, False, res).id == v2.image_id
        assert res.changed and v2.image_id[:12] in res.actions[0], res.actions
    finally:
        st.close()


def test_a_container_pull_writes_a_pull_event_as_the_image_module_does(registry, tmp_path):
    """``podman run``'s pull writes the same ``pull`` image event as ``podman pull``; no pull, no event."""
    v1 = build_image([busybox_layer(str(tmp_path))])
    push_image(registry.url, "team/app", "1", v1)
    st = State(str(tmp_path / "state.db"))
    events = []
    try:
        rt = SimpleNamespace(images=ImageStore(st, str(tmp_path / "graph"), registry_timeout=10),
                             event=lambda type_, status, **kw: events.append(dict(kw, type=type_, status=status)))
        ref = "docker://%s/team/app:1" % registry.host
        params = {"pull": "missing", "insecure_registry": True}
        assert _resolve_image(rt, ref, params, False, Result(kind="container")).id == v1.image_id
        assert events == [{"type": "image", "status": "pull", "id": v1.image_id, "name": ref}]
        _resolve_image(rt, ref, params, False, Result(kind="container"))  # present: nothing pulled
        assert len(events) == 1, events
    finally:
        st.close()
