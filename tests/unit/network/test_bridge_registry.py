# SPDX-License-Identifier: GPL-3.0-or-later
"""Host-wide bridge/subnet owners (in a private registry dir)."""
from __future__ import annotations

import os

from ansible_collections.libpod.engine.plugins.module_utils.engine.host.roots import RootId
from ansible_collections.libpod.engine.plugins.module_utils.engine.network import registry


def _root(tmp_path, name) -> RootId:
    static = tmp_path / name
    static.mkdir()
    (static / "state.db").write_bytes(b"")
    return RootId.of(str(static))


def test_claims_name_their_owner_and_stale_ones_are_dropped(tmp_path):
    reg = str(tmp_path / "reg")
    a, b = _root(tmp_path, "a"), _root(tmp_path, "b")
    with registry.locked(a, reg) as claims:
        claims.write("engine", "zz0", "10.77.0.0/24")
    with registry.locked(b, reg) as claims:
        assert claims.bridge_owner("zz0").static_dir == a.static_dir
        assert claims.subnet_owner("10.77.0.128/25").network == "engine"
        assert claims.subnet_owner("10.77.1.0/24") is None
        claims.remove("zz0")  # not b's: stays
    assert registry.claim_of("zz0", reg).static_dir == a.static_dir
    os.unlink(a.db_path)
    with registry.locked(b, reg) as claims:
        assert claims.bridge_owner("zz0") is None
    assert registry.claim_of("zz0", reg) is None
