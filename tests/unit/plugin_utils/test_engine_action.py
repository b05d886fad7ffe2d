# SPDX-License-Identifier: GPL-3.0-or-later
"""plugins/plugin_utils/engine_action.py and the module side (module_utils/packed_loader.py) agree on the
names they talk by; every module's action is it (scripts/check_action_groups.py checks the files, the
behaviour runs in tests/integration/test_packed_loader.py)."""
from __future__ import annotations

import os

from ansible_collections.libpod.engine.plugins.module_utils import packed_loader
from ansible_collections.libpod.engine.plugins.plugin_utils import engine_action

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_the_action_and_the_loader_use_the_same_names():
    assert engine_action.NEEDS == packed_loader.NEEDS
    assert engine_action.ENV_PACK == packed_loader.ENV_PACK


def test_the_pack_sent_is_the_one_the_index_describes():
    from ansible_collections.libpod.engine.plugins.module_utils import packed_build, packed_index  # pylint: disable=import-outside-toplevel

    files = packed_build.unpack(engine_action.pack_bytes(), packed_index.FILES)
    assert packed_build.pack_digest(files) == packed_index.DIGEST


def test_every_module_runs_through_the_engine_action():
    from ansible_collections.libpod.engine.plugins.action import container, stack  # pylint: disable=import-outside-toplevel

    assert container.ActionModule is stack.ActionModule is engine_action.ActionModule
    modules = sorted(f for f in os.listdir(os.path.join(REPO, "plugins", "modules")) if f.endswith(".py"))
    assert sorted(f for f in os.listdir(os.path.join(REPO, "plugins", "action")) if f.endswith(".py")) == modules
