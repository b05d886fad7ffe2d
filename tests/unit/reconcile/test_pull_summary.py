# SPDX-License-Identifier: GPL-3.0-or-later
"""A pull's action line says what was fetched and how long it took (issue 21: no progress while a task runs)."""
from __future__ import annotations

from types import SimpleNamespace

from ansible_collections.libpod.engine.plugins.module_utils.reconcile.result import human_size, pull_summary


def test_pull_summary_names_id_digest_layers_size_and_time():
    img = SimpleNamespace(id="ab" * 32, digest="sha256:" + "cd" * 32, layers=["1" * 64, "2" * 64],
                          size=104_857_600)
    assert pull_summary(img, 2.345) == "abababababab, digest sha256:%s, 2 layer(s), 104.9 MB, in 2.3 s" % ("cd" * 32)


def test_human_size_uses_decimal_units():
    assert [human_size(n) for n in (999, 1000, 1_500_000, 3 * 10**12)] == ["999 B", "1.0 kB", "1.5 MB", "3000.0 GB"]
