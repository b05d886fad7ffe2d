"""The engine's packages import only packages below them, and nothing imports in a cycle.

An AST walk over plugins/module_utils (imports inside functions included): a package may import
itself and the packages before it in LAYERS; reconcile/ may import the engine; the engine never
imports reconcile/ or ansible_engine. Within a package, files must not import each other in a
cycle either.
"""
from __future__ import annotations

import ast
import os
from typing import Dict, Iterator, List, Set, Tuple

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MODULE_UTILS = os.path.join(REPO, "plugins", "module_utils")
PREFIX = "ansible_collections.libpod.engine.plugins.module_utils."

# Lowest first. "runtime" is engine/runtime.py, the composition root.
LAYERS = ["base", "parse", "host", "config", "store", "storage", "image", "network", "volume", "secret", "oci",
          "runtime", "objects", "ops"]
ABOVE_ENGINE = ["reconcile", "ansible_engine"]


def _module_name(path: str) -> str:
    rel = os.path.relpath(path, MODULE_UTILS)[:-3].replace(os.sep, ".")
    return rel[: -len(".__init__")] if rel.endswith(".__init__") else rel


def _imports(path: str) -> Iterator[Tuple[int, str]]:
    """(line, dotted target under module_utils) for every import of a module_utils module."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    me = _module_name(path).split(".")
    pkg = me if path.endswith("__init__.py") else me[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - (node.level - 1)] if node.level > 1 else pkg
                mod = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith(PREFIX):
                mod = node.module[len(PREFIX):]
            else:
                continue
            for alias in node.names:
                yield node.lineno, mod + "." + alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PREFIX):
                    yield node.lineno, alias.name[len(PREFIX):]


def _existing(dotted: str, files: Set[str]) -> str:
    """The longest prefix of ``dotted`` that is a module or package of ours."""
    parts = dotted.split(".")
    while parts and ".".join(parts) not in files:
        parts.pop()
    return ".".join(parts)


def _layer(mod: str) -> str:
    parts = mod.split(".")
    if parts[0] == "engine":
        return parts[1] if len(parts) > 1 else "engine"
    return parts[0]


def _rank(layer: str) -> int:
    if layer in LAYERS:
        return LAYERS.index(layer)
    if layer in ABOVE_ENGINE:
        return len(LAYERS) + ABOVE_ENGINE.index(layer)
    return -1  # engine/__init__.py


def collect(root: str = MODULE_UTILS) -> Dict[str, List[Tuple[int, str]]]:
    files = {}
    for dirpath, dirnames, names in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for n in names:
            if n.endswith(".py"):
                files[os.path.join(dirpath, n)] = None
    known = {_module_name(p) for p in files}
    graph = {}
    for path in files:
        deps = []
        for line, target in _imports(path):
            mod = _existing(target, known)
            if mod and mod != _module_name(path):
                deps.append((line, mod))
        graph[_module_name(path)] = sorted(set(deps), key=lambda d: (d[1], d[0]))
    return graph


def violations(graph: Dict[str, List[Tuple[int, str]]]) -> List[str]:
    out = []
    for mod, deps in sorted(graph.items()):
        mine = _layer(mod)
        for line, dep in deps:
            theirs = _layer(dep)
            if theirs == "engine" or mine == "engine":
                continue  # the (empty) package marker
            if _rank(theirs) > _rank(mine):
                out.append("%s:%d imports %s (%s is above %s)" % (mod, line, dep, theirs, mine))
    return out


def cycles(graph: Dict[str, List[Tuple[int, str]]]) -> List[List[str]]:
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for _line, dep in graph.get(node, []):
            if state.get(dep) == 1:
                found.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_every_engine_package_is_in_the_order():
    engine = os.path.join(MODULE_UTILS, "engine")
    pkgs = {d for d in os.listdir(engine) if os.path.isdir(os.path.join(engine, d)) and d != "__pycache__"}
    pkgs |= {f[:-3] for f in os.listdir(engine) if f.endswith(".py") and f != "__init__.py"}
    assert pkgs == set(LAYERS)


def test_no_upward_import():
    assert violations(collect()) == []


def test_no_import_cycle():
    assert cycles(collect()) == []


@pytest.mark.parametrize("source, expected", [
    ("from ..objects.container import Container\n", "engine.store.bad:1 imports engine.objects.container"),
    ("def f():\n    from ..runtime import Runtime\n", "engine.store.bad:2 imports engine.runtime"),
    ("from ...reconcile.options import Option\n", "engine.store.bad:1 imports reconcile.options"),
])
def test_an_upward_import_is_caught(tmp_path, source, expected):
    """The rule fails on a deliberately added upward import, inside a function too."""
    root = tmp_path / "module_utils"
    for rel in ("engine/__init__.py", "engine/store/__init__.py", "engine/runtime.py",
                "engine/objects/__init__.py", "engine/objects/container.py", "reconcile/__init__.py",
                "reconcile/options.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("")
    (root / "engine" / "store" / "bad.py").write_text(source)
    global MODULE_UTILS
    saved, MODULE_UTILS = MODULE_UTILS, str(root)
    try:
        found = violations(collect(str(root)))
    finally:
        MODULE_UTILS = saved
    assert len(found) == 1 and found[0].startswith(expected)


def test_a_cycle_is_caught():
    graph = {"engine.oci.a": [(1, "engine.oci.b")], "engine.oci.b": [(3, "engine.oci.a")]}
    assert cycles(graph) == [["engine.oci.a", "engine.oci.b", "engine.oci.a"]]
