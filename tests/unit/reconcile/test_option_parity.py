# SPDX-License-Identifier: GPL-3.0-or-later
"""Option normalisation that containers.podman users trip over (issue 23)."""
from __future__ import annotations

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS


@pytest.mark.parametrize("value", [True, False])
def test_env_yaml_booleans_are_refused_with_a_hint_to_quote(value):
    with pytest.raises(InvalidArg) as exc:
        OPTIONS.declared({"name": "c", "image": "x", "env": {"FLAG": value}})
    assert "env FLAG" in exc.value.msg and "YAML boolean" in exc.value.msg
    assert 'FLAG: "%s"' % str(value).lower() in exc.value.hint


def test_quoted_and_numeric_env_values_stay_strings():
    declared = OPTIONS.declared({"name": "c", "image": "x", "env": {"A": "false", "B": 0, "C": 1.5}})
    assert declared["env"] == {"A": "false", "B": "0", "C": "1.5"}


@pytest.mark.parametrize("ref", ["alpine", "alpine:latest", "docker.io/alpine", "docker.io/library/alpine:latest",
                                 "docker://alpine", "index.docker.io/library/alpine"])
def test_image_references_normalise_to_one_spelling(ref):
    from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_compare import normalise_image_ref

    assert normalise_image_ref(ref) == "docker.io/library/alpine:latest"


def test_file_transports_and_other_registries_stay_apart():
    from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_compare import normalise_image_ref

    assert normalise_image_ref("localhost/alpine") == "localhost/alpine:latest"
    assert normalise_image_ref("oci-archive:/x/a.tar") == "oci-archive:/x/a.tar"
    assert normalise_image_ref("quay.io/a/b:1") == "quay.io/a/b:1"
