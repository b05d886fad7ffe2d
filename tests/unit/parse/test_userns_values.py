# SPDX-License-Identifier: GPL-3.0-or-later
"""userns values as podman run as root reads them: canonical forms and refusals."""
from __future__ import annotations

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.parse.idmap import IDMap
from ansible_collections.libpod.engine.plugins.module_utils.engine.parse.userns import parse_userns


@pytest.mark.parametrize("value", [None, "", "host", "private", " host "])
def test_host_forms_are_the_default(value):
    assert parse_userns(value).mode == "host" and parse_userns(value).canonical() is None


def test_auto_with_options_is_canonical():
    m = parse_userns("auto:gidmapping=0:5000:1, size=2048,uidmapping=0:4000:1")
    assert (m.mode, m.size, m.uidmapping, m.gidmapping) == ("auto", 2048, [IDMap(0, 4000, 1)], [IDMap(0, 5000, 1)])
    assert m.canonical() == "auto:size=2048,uidmapping=0:4000:1,gidmapping=0:5000:1"
    assert parse_userns("auto").canonical() == "auto"


def test_ns_path():
    assert parse_userns("ns:/proc/1/ns/user").canonical() == "ns:/proc/1/ns/user"


@pytest.mark.parametrize("value, msg", [
    ("keep-id", "userns: keep-id is only supported in rootless mode"),
    ("keep-id:uid=1", "userns: keep-id is only supported in rootless mode"),
    ("nomap", "userns: nomap is only supported in rootless mode"),
    ("auto:size=0", "auto size '0' is not a positive number"),
    ("auto:bogus=1", "unknown auto option 'bogus'"),
    ("auto:size", "auto option 'size' needs a value"),
    ("auto:uidmapping=1:2", "userns auto uidmapping: '1:2' is not an ID mapping"),
    ("ns:relative", "is not an absolute path"),
    ("container:other", "container:other is not supported"),
    ("weird", "invalid userns 'weird'"),
])
def test_refusals_name_the_parameter(value, msg):
    with pytest.raises(InvalidArg, match=msg):
        parse_userns(value)
