# SPDX-License-Identifier: GPL-3.0-or-later
"""reconcile/image.py: parameter combinations are refused before the runtime is touched, naming the parameter."""
from __future__ import annotations

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.image import reconcile_image


@pytest.mark.parametrize("params, words", [
    ({"prune": "all", "name": "localhost/x:1"}, "prune is a task of its own: name"),
    ({"prune": "all", "state": "absent"}, "prune cannot be combined with state: absent"),
    ({"state": "present"}, "name is required"),
    ({"name": "x", "state": "absent", "path": "/tmp/x.tar"}, "path applies to state present only"),
    ({"name": "x", "state": "absent", "tags": ["y"]}, "tags applies to state present or tagged only"),
    ({"name": "x", "save_path": "/tmp/x.tar"}, "save_path applies to state saved only"),
    ({"name": "x", "change": {"cmd": ["sh"]}}, "change needs path"),
    ({"name": "x", "state": "bogus"}, "state must be one of"),
])
def test_bad_combinations_are_refused(params, words):
    with pytest.raises(InvalidArg, match=words):
        reconcile_image(None, params)
