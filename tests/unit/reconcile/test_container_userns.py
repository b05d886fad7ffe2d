# SPDX-License-Identifier: GPL-3.0-or-later
"""userns, uidmap, gidmap, subuidname, subgidname → one record: podman's defaults and exclusions."""
from __future__ import annotations

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_userns import userns_values


def values(**params):
    return userns_values(OPTIONS.declared(dict({"name": "c", "image": "busybox"}, **params)))


def test_gidmap_follows_uidmap_and_back():
    assert values(uidmap=["0:200000:65536"]) == {"userns": None, "uidmap": ["0:200000:65536"],
                                                 "gidmap": ["0:200000:65536"]}
    assert values(gidmap=["0:1000:1"])["uidmap"] == ["0:1000:1"]
    assert values() == {"userns": None, "uidmap": [], "gidmap": []}
    assert values(userns="private") == {"userns": None, "uidmap": [], "gidmap": []}


def test_subuidname_reads_the_ranges(tmp_path, monkeypatch):
    for kind, text in (("UID", "app:100000:1000\napp:500000:10\n"), ("GID", "app:400000:2000\n")):
        (tmp_path / kind).write_text(text)
        monkeypatch.setenv("LIBPOD_ENGINE_SUB%s" % kind, str(tmp_path / kind))
    v = values(subuidname="app")
    assert v["uidmap"] == ["0:100000:1000", "1000:500000:10"] and v["gidmap"] == ["0:400000:2000"]
    with pytest.raises(InvalidArg, match="subgidname: user nobody has no subordinate GIDs in %s" % (tmp_path / "GID")):
        values(subuidname="app", subgidname="nobody")


@pytest.mark.parametrize("params, msg", [
    ({"userns": "auto", "uidmap": ["0:1:1"]}, "userns: auto cannot be combined with uidmap"),
    ({"uidmap": ["0:1:1"], "subuidname": "x"}, "uidmap/gidmap cannot be combined with subuidname"),
])
def test_exclusions(params, msg):
    with pytest.raises(InvalidArg, match=msg):
        values(**params)


def test_a_pod_member_cannot_have_its_own():
    declared = OPTIONS.declared({"name": "c", "image": "busybox", "uidmap": ["0:1:1"]})
    with pytest.raises(InvalidArg, match="a container in a pod cannot have a user namespace of its own"):
        userns_values(declared, "podid")
