"""Every module ships the whole engine tree (one exit-command copy per engine version on a host).

Runtime.engine_copy hashes the engine files a module's AnsiballZ payload carries; if two modules
carried different subsets, a host would keep one copy per module. AnsiballZ ships what a module
imports, transitively (imports inside functions included): the closure computed here from the
same AST walk as the import-order test.
"""
from __future__ import annotations

import ast
import os

import pytest
from test_import_order import MODULE_UTILS, PREFIX, REPO, _existing, collect

MODULES = os.path.join(REPO, "plugins", "modules")


def _module_imports(path: str, known: set) -> set:
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
            for alias in node.names:
                mod = _existing(node.module[len(PREFIX):] + "." + alias.name, known)
                if mod:
                    out.add(mod)
    return out


def shipped(module_file: str) -> set:
    graph = collect()
    todo = list(_module_imports(module_file, set(graph)))
    seen = set()
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.add(mod)
        todo.extend(dep for _line, dep in graph.get(mod, []))
    return seen


def _engine_files() -> set:
    out = set()
    for dirpath, dirnames, names in os.walk(os.path.join(MODULE_UTILS, "engine")):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for n in names:
            if n.endswith(".py") and n != "__init__.py":
                rel = os.path.relpath(os.path.join(dirpath, n), MODULE_UTILS)[:-3]
                out.add(rel.replace(os.sep, "."))
    return out


@pytest.mark.parametrize("module", sorted(f for f in os.listdir(MODULES) if f.endswith(".py")))
def test_module_ships_the_whole_engine(module):
    engine = _engine_files()
    got = {m for m in shipped(os.path.join(MODULES, module)) if m.startswith("engine.")}
    assert engine - got == set(), "%s does not ship these engine files" % module
