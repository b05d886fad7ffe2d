# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/helpers/rootless.throwaway_user leaves nothing of the user's engine behind, also when the
test fails before its system_reset: the user's own roots registry (engine host.userpaths: below its
runtime dir, which under ``become`` is /tmp/libpod-engine-UID) goes with the user's run dir, and
its static dir with its home. So the session teardown of root's registry (helpers/roots) need not
look at users' registries."""
from __future__ import annotations

import os

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import roots, userpaths
from ansible_collections.libpod.engine.tests.helpers.rootless import run_dir, throwaway_user


@pytest.mark.skipif(os.geteuid() != 0, reason="creates a user")
def test_the_users_roots_registry_goes_with_the_user():
    with throwaway_user() as (pw, _start):
        uid = pw.pw_uid
        # where a module run by the user through su (no XDG_RUNTIME_DIR, no /run/user/UID) keeps things
        dirs = userpaths.user_dirs(uid, {"HOME": pw.pw_dir}, create=False)
        assert dirs.runtime_dir == run_dir(uid)
        assert dirs.registry_dir == os.path.join(run_dir(uid), "libpod-engine-roots")
        os.makedirs(run_dir(uid), mode=0o700)
        me = roots.RootId.of(dirs.static_dir)
        roots.claim_paths(me, {"static_dir": dirs.static_dir, "tmp_dir": dirs.tmp_dir}, dirs.registry_dir,
                          create=("static_dir", "tmp_dir"))
        entries = os.listdir(os.path.join(dirs.registry_dir, "roots"))
        assert len(entries) == 1 and os.path.isdir(dirs.static_dir)
    # the test "failed" here: no system_reset ran, the entry was never forgotten
    assert not os.path.exists(run_dir(uid))
    assert not os.path.exists(pw.pw_dir)
