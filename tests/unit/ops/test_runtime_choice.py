# SPDX-License-Identifier: GPL-3.0-or-later
"""The default OCI runtime when containers.conf names none (Runtime._init_runtimes), and the reason
runtime_info reports (issue 20: crun in a private mount namespace per call is slower than runc)."""
from __future__ import annotations

from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import choose_default_runtime


def test_crun_first_when_it_needs_no_private_namespace():
    name, why = choose_default_runtime(["crun", "runc"], {"crun": False, "runc": False})
    assert name == "crun" and why.startswith("crun: first installed runtime in the preference order crun, runc")


def test_runc_on_a_hybrid_host_where_crun_needs_a_namespace_per_call():
    name, why = choose_default_runtime(["crun", "runc"], {"crun": True, "runc": False})
    assert name == "runc"
    assert "private mount namespace" in why and '[engine] runtime = "crun"' in why


def test_crun_stays_when_runc_is_not_installed_and_says_so():
    name, why = choose_default_runtime(["crun"], {"crun": True})
    assert name == "crun" and "runc is not installed" in why


def test_runc_alone():
    assert choose_default_runtime(["runc"], {"runc": False})[0] == "runc"
