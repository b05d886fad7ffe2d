# SPDX-License-Identifier: GPL-3.0-or-later
"""Compare a check-mode result with the real run's: check mode says what it would do
("create volume v"), the real run what it did ("created volume v"); the rest must be equal."""
from __future__ import annotations

from typing import List


def done_form(action: str) -> str:
    """The real run's wording of one check-mode action: its first word in the past tense."""
    verb, sep, rest = action.partition(" ")
    if not verb.endswith("ed"):
        verb += "d" if verb.endswith("e") else "ed"
    return verb + sep + rest


def as_done(actions: List[str]) -> List[str]:
    return [done_form(a) for a in actions]
