"""Every task carries its module's file to the managed node and compiles it there (issue 20).

A module's long option docs live in a doc fragment (plugins/doc_fragments/<module>_options.py),
which only ansible-doc and ansible-test read: in the container module they were 42 kB of its 49 kB,
~10 M instructions of every task (valgrind, one no-op). This budget keeps module files small; the
docs pages (scripts/gen_module_docs.py --check) show that the docs did not change.
"""
from __future__ import annotations

import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MODULES = os.path.join(REPO, "plugins", "modules")
FRAGMENTS = os.path.join(REPO, "plugins", "doc_fragments")
#: bytes of a module file; a module over it moves its options' docs to a fragment
BUDGET = 16_000


@pytest.mark.parametrize("name", sorted(f for f in os.listdir(MODULES) if f.endswith(".py")))
def test_a_module_file_stays_small(name):
    size = os.path.getsize(os.path.join(MODULES, name))
    assert size <= BUDGET, "%s is %d bytes: move its options' docs to plugins/doc_fragments/%s_options.py" % (
        name, size, name[:-3])


@pytest.mark.parametrize("module", ["container", "pod"])
def test_the_moved_option_docs_are_used_by_their_module(module):
    with open(os.path.join(MODULES, module + ".py"), encoding="utf-8") as f:
        text = f.read()
    assert "  - libpod.engine.%s_options\n" % module in text
    assert "\noptions:" not in text
    assert os.path.exists(os.path.join(FRAGMENTS, module + "_options.py"))
