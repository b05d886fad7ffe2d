# SPDX-License-Identifier: GPL-3.0-or-later
"""Module-level regular expressions compiled on first use.

Compiled at import, the patterns of the modules a task loads cost ~2 ms of every task, and most
serve paths a no-op task never takes (issue 20). ``lazy_compile`` is a drop-in for the pattern
methods the engine uses.
"""
from __future__ import annotations

import re
from typing import Any, Iterator, List, Optional, Union

Text = Union[str, bytes]


class LazyPattern:
    """``re.compile(pattern, flags)``, done by the first method call."""

    __slots__ = ("pattern", "_flags", "_compiled")

    def __init__(self, pattern: Text, flags: int = 0):
        self.pattern = pattern
        self._flags = flags
        self._compiled: Optional[re.Pattern] = None

    def compiled(self) -> re.Pattern:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self._flags)
        return self._compiled

    def match(self, string: Text, *args: int) -> Optional[re.Match]:
        return self.compiled().match(string, *args)

    def fullmatch(self, string: Text, *args: int) -> Optional[re.Match]:
        return self.compiled().fullmatch(string, *args)

    def search(self, string: Text, *args: int) -> Optional[re.Match]:
        return self.compiled().search(string, *args)

    def findall(self, string: Text, *args: int) -> List[Any]:
        return self.compiled().findall(string, *args)

    def finditer(self, string: Text, *args: int) -> Iterator[re.Match]:
        return self.compiled().finditer(string, *args)

    def sub(self, repl: Any, string: Text, count: int = 0) -> Text:
        return self.compiled().sub(repl, string, count)

    def split(self, string: Text, maxsplit: int = 0) -> List[Any]:
        return self.compiled().split(string, maxsplit)


def lazy_compile(pattern: Text, flags: int = 0) -> LazyPattern:
    return LazyPattern(pattern, flags)
