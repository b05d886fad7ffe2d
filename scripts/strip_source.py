# SPDX-License-Identifier: GPL-3.0-or-later
"""Python source without its comments and docstrings, every line where it was (for the pack, issue 20).

The modules carry the engine packed (scripts/pack_engine.py); its comments and docstrings are
a third of its size and every task pays for the payload's size. ``strip()`` blanks comments and
empties docstrings, keeping every line and every column of the code: a traceback from the
stripped copy names the line of the checkout's file. Only a docstring is emptied (the first
statement of a module or function when it is a plain string literal, kept as ``""`` so that a
body holding only a docstring still has a statement); any other string, f-strings included, is
kept. Class docstrings are kept: a dataclass without one gets a ``__doc__`` computed with
``inspect.signature`` when it is built, on every import (issue 20). Nothing in engine/ or
reconcile/ reads ``__doc__`` (tests/unit/layers/test_strip_source.py). Standard library only.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from typing import Dict, List, Tuple

_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=]")


def docstrings(tree: ast.AST) -> List[ast.Constant]:
    """The docstring nodes of ``tree`` that the pack empties: the first statement of the module or
    of a function when it is a plain ``str`` constant (class docstrings stay, see the module doc)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                out.append(first.value)
    return out


def strip(source: bytes) -> bytes:
    """``source`` (UTF-8) with comments removed and docstrings emptied, lines and columns of the code kept."""
    text = source.decode("utf-8")
    lines = text.splitlines(keepends=True)
    # (row, start col, end row, end col, replacement): non-overlapping, applied from the end
    edits: List[Tuple[int, int, int, int, str]] = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            row, col = tok.start
            if row <= 2 and _CODING.match(lines[row - 1]):
                continue  # an encoding declaration
            # with the blanks before it: never inside a string (the comment follows the code on its line)
            line = lines[row - 1]
            begin = len(line[:col].rstrip(" \t\f"))
            edits.append((row, begin, row, tok.end[1], ""))
    for node in docstrings(ast.parse(text)):
        row, col, end_row, end_col = node.lineno, node.col_offset, node.end_lineno, node.end_col_offset
        rest = lines[end_row - 1][_char_col(lines[end_row - 1], end_col):]
        if end_row != row and rest.strip() and not rest.lstrip().startswith("#"):
            continue  # code after a multi-line docstring on its last line: left as it is
        edits.append((row, _char_col(lines[row - 1], col), end_row, _char_col(lines[end_row - 1], end_col),
                      '""' + "\n" * (end_row - row)))
    for row, col, end_row, end_col, new in sorted(edits, reverse=True):
        head = lines[row - 1][:col]
        tail = lines[end_row - 1][end_col:]
        if end_row != row:
            tail = tail.lstrip(" \t\f")  # the rest of the docstring's last line (its newline, a comment)
        joined = (head + new + tail).splitlines(keepends=True) or [""]
        lines[row - 1:end_row] = joined
    return "".join(lines).encode("utf-8")


def _char_col(line: str, byte_col: int) -> int:
    """ast's columns are UTF-8 byte offsets: the character index in ``line``."""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8"))


def strip_all(files: Dict[str, bytes]) -> Dict[str, bytes]:
    return {rel: strip(data) for rel, data in files.items()}
