# SPDX-License-Identifier: GPL-3.0-or-later
"""bridge_prefix: the schema (containers.conf, engine_options) and the network manager apply one rule."""
from __future__ import annotations

import re

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.config import schema
from ansible_collections.libpod.engine.plugins.module_utils.engine.network.manager import NetworkManager
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State


def _schema_accepts(prefix: str) -> bool:
    pattern = schema.SCHEMA["properties"]["network"]["properties"]["bridge_prefix"]["pattern"]
    return re.search(pattern, prefix) is not None


@pytest.mark.parametrize("prefix", ["lpe", "a", "abcdef", "abcdefg", "abcdefgh", "Lpe", "1pe", "lp-e"])
def test_manager_and_schema_agree(tmp_path, prefix):
    state = State(str(tmp_path / "state.db"))
    try:
        NetworkManager(state, tmp_dir=str(tmp_path / "tmp"), bridge_prefix=prefix)
        accepted, message = True, ""
    except InvalidArg as err:
        accepted, message = False, str(err)
    assert accepted == _schema_accepts(prefix), (prefix, message)
    if not accepted:
        assert "6" in message and "8" not in message.replace(prefix, ""), message


def test_longest_prefix_leaves_room_for_the_veth_hash():
    """A veth is <prefix>v<hash>, at most 15 characters: the 6-character limit keeps 8 hex digits."""
    assert len("abcdef" + "v") + 8 == 15
    assert schema.BRIDGE_PREFIX_RULE in schema.bridge_prefix_error("abcdefg")
