# SPDX-License-Identifier: GPL-3.0-or-later
"""lazy_compile: a module-level pattern compiled on its first use, answering as re.compile's (issue 20)."""
from __future__ import annotations

import re

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.lazyre import lazy_compile


def test_nothing_is_compiled_until_a_method_is_called(monkeypatch):
    calls = []
    real = re.compile
    monkeypatch.setattr(re, "compile", lambda *a: calls.append(a) or real(*a))
    pat = lazy_compile(r"(\d+)([a-z]?)", re.IGNORECASE)
    assert calls == [] and pat.pattern == r"(\d+)([a-z]?)"
    assert pat.fullmatch("12K").groups() == ("12", "K")
    assert pat.match("7x").group(1) == "7"
    assert calls == [(r"(\d+)([a-z]?)", re.IGNORECASE)]  # once


def test_every_method_answers_as_the_compiled_pattern():
    text = "a1 b22 c333"
    lazy, real = lazy_compile(r"[a-z](\d+)"), re.compile(r"[a-z](\d+)")
    assert lazy.search(text).span() == real.search(text).span()
    assert lazy.search(text, 3).span() == real.search(text, 3).span()
    assert lazy.findall(text) == real.findall(text) == ["1", "22", "333"]
    assert [m.group() for m in lazy.finditer(text)] == [m.group() for m in real.finditer(text)]
    assert lazy.sub(r"<\1>", text, count=2) == real.sub(r"<\1>", text, count=2)
    assert lazy.split(text, maxsplit=1) == real.split(text, maxsplit=1)
    assert lazy.fullmatch(text) is None and lazy.match("x") is None
    assert lazy_compile(rb"^kind\s*:", re.M).search(b"a: 1\nkind: Secret").start() == 5
