# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/strip_source.py: the pack's sources lose their comments and docstrings, never a line or a
token of code (a traceback from the copy names the checkout's line)."""
from __future__ import annotations

import ast
import io
import os
import re
import sys
import tokenize

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import pack_engine  # noqa: E402  pylint: disable=wrong-import-position
from strip_source import docstrings, strip  # noqa: E402  pylint: disable=wrong-import-position

FILES = pack_engine.read_packages()


def _normalized(text: str) -> str:
    """ast.dump with positions, every docstring made ``""`` where it starts (and a body holding
    only its docstring ending there)."""
    tree = ast.parse(text)
    found = {id(n) for n in docstrings(tree)}
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and id(body[0].value) in found:
            expr = body[0]
            expr.value.value = ""
            for n in (expr, expr.value):
                n.end_lineno, n.end_col_offset = n.lineno, n.col_offset + 2
            if len(body) == 1 and not isinstance(node, ast.Module):
                node.end_lineno, node.end_col_offset = expr.end_lineno, expr.end_col_offset
    return ast.dump(tree, include_attributes=True)


def _comments(text: str) -> list:
    return [t.string for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.COMMENT]


@pytest.mark.parametrize("rel", sorted(FILES))
def test_a_packed_file_keeps_every_line_and_token_of_its_code(rel):
    before = FILES[rel].decode()
    after = strip(FILES[rel]).decode()
    assert after.count("\n") == before.count("\n")
    assert _normalized(after) == _normalized(before)  # same nodes at the same lines and columns
    assert _comments(after) == []
    assert all(n.value == "" for n in docstrings(ast.parse(after)))


def test_stripping_makes_the_pack_smaller():
    before = sum(len(d) for d in FILES.values())
    after = sum(len(strip(d)) for d in FILES.values())
    assert after < before * 0.9


def test_only_docstrings_are_emptied():
    src = '''\
"""Module doc."""  # and a comment
X = "not a docstring"  # a comment with "quotes"


def f(a):
    f"{a} is an f-string, not a docstring"
    return "#not a comment"


def g():
    b"bytes are no docstring"


def h():
    x = 1
    "a string after a statement"
    return x


class C:
    """Class doc
    over two lines."""  # trailing

    def m(self):
        """Only a docstring."""


async def k():
    """Async doc."""; return 1
'''
    out = strip(src.encode()).decode()
    assert out.count("\n") == src.count("\n")
    for kept in ('X = "not a docstring"', 'f"{a} is an f-string, not a docstring"', 'return "#not a comment"',
                 'b"bytes are no docstring"', '"a string after a statement"', '""; return 1'):
        assert kept in out
    assert "doc" not in out.replace("docstring", "").replace("Class doc", "") and "#" not in out.replace('"#not', "")
    lines = out.splitlines()
    assert lines[0] == '""' and lines[20:22] == ['    """Class doc', '    over two lines."""']
    assert lines[24] == '        ""'
    namespace: dict = {}
    exec(compile(out, "stripped", "exec"), namespace)  # noqa: S102  pylint: disable=exec-used
    assert namespace["C"].m.__doc__ == "" and namespace["h"]() == 1
    assert namespace["C"].__doc__ == "Class doc\n    over two lines."


def test_record_classes_keep_their_docstrings():
    """A dataclass whose __doc__ is empty computes one with inspect.signature each time it is built."""
    for rel, data in FILES.items():
        before = {n.name: ast.get_docstring(n) for n in ast.walk(ast.parse(data)) if isinstance(n, ast.ClassDef)}
        after = {n.name: ast.get_docstring(n) for n in ast.walk(ast.parse(strip(data))) if isinstance(n, ast.ClassDef)}
        assert after == before, rel


def test_an_encoding_declaration_is_kept():
    src = b"#!/usr/bin/python3\n# -*- coding: utf-8 -*-\n# gone\nx = 1  # gone too\n"
    assert strip(src) == b"\n# -*- coding: utf-8 -*-\n\nx = 1\n"


def test_code_after_a_multi_line_docstring_on_its_line_keeps_it():
    src = 'def f():\n    """a\n    b"""; return 2\n'
    assert strip(src.encode()).decode() == src


def test_nothing_packed_reads_docstrings():
    """The pack empties them: code that read ``__doc__`` would behave differently from the pack."""
    pattern = re.compile(r"__doc__|inspect\.getdoc|\.getdoc\(")
    assert [rel for rel, data in FILES.items() if pattern.search(data.decode())] == []
