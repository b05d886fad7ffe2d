# SPDX-License-Identifier: GPL-3.0-or-later
"""Find the examples the user reads: every module's EXAMPLES and every YAML block of docs/index.md.

An example is a YAML list; each top-level entry (a task, or a play when it has ``hosts``) is an
*item*. Comments in the example mark what the examples test (test_examples.py) must know::

    # example-test: skip (why it cannot run in the test: e.g. needs a registry on the internet)
    # example-test: unchanged    (this task must report changed=false: "the same task again")
    # example-test: warns (why the module warns here: e.g. no systemd as PID 1 in the test)
    # example-test: diff (env)    (a preview whose diff must show exactly these options)

A marker belongs to the item it is written in, or to the next item when it sits on the comment
lines just above it. A skip without a reason in parentheses is an error: nothing is skipped
silently.
"""
from __future__ import annotations

import ast
import glob
import os
import re
from dataclasses import dataclass, field
from typing import List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GUIDE = os.path.join(REPO, "docs", "index.md")

MARKER = re.compile(r"#\s*example-test:\s*(?P<kind>[a-z-]+)\s*(?:\((?P<why>[^)]*)\))?")
KINDS = ("skip", "unchanged", "warns", "diff")


@dataclass
class Item:
    """One top-level entry of an example: a task or a play, with its markers."""

    index: int
    text: str
    skip: Optional[str] = None
    unchanged: bool = False
    warns: Optional[str] = None  # why a warning of the module is expected here
    diff: Optional[List[str]] = None  # the options a preview's diff must show, no more
    errors: List[str] = field(default_factory=list)


@dataclass
class Example:
    """One example: a module's EXAMPLES or one YAML block of the guide."""

    name: str  # "module container" or "docs/index.md:123 (First playbook)"
    text: str
    items: List[Item]
    is_playbook: bool = False  # entries are plays (they have hosts)


def module_examples() -> List[Example]:
    """Every plugins/modules/*.py EXAMPLES, in file name order (new modules are picked up)."""
    found = []
    for path in sorted(glob.glob(os.path.join(REPO, "plugins", "modules", "*.py"))):
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "EXAMPLES" for t in node.targets):
                name = "module %s" % os.path.basename(path)[:-3]
                found.append(Example(name, node.value.value, split_items(node.value.value)))
    return found


def guide_examples(path: str = GUIDE) -> List[Example]:
    """Every fenced ```yaml block of the guide, with its line and section."""
    found = []
    section = ""
    block: Optional[list] = None
    start = 0
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for number, line in enumerate(lines, 1):
        if block is None:
            if line.startswith("#"):
                section = line.lstrip("#").strip()
            elif line.strip() in ("```yaml", "```yml"):
                block, start = [], number
        elif line.strip() == "```":
            text = "\n".join(block) + "\n"
            name = "%s:%d (%s)" % (os.path.relpath(path, REPO), start, section)
            found.append(Example(name, text, split_items(text)))
            block = None
        else:
            block.append(line)
    return found


def all_examples() -> List[Example]:
    """Module examples first (in name order), then the guide's blocks in page order."""
    import yaml  # noqa: PLC0415 - PyYAML, an ansible-core dependency

    examples = module_examples() + guide_examples()
    for ex in examples:
        for item in ex.items:
            if item.skip is None:
                try:
                    data = yaml.safe_load(item.text)
                except yaml.YAMLError as err:
                    item.errors.append("not YAML: %s" % err)
                    continue
                if not isinstance(data, list) or len(data) != 1 or not isinstance(data[0], dict):
                    item.errors.append("not a task or a play (a YAML list entry that is a mapping)")
                elif "hosts" in data[0]:
                    ex.is_playbook = True
    return examples


def split_items(text: str) -> List[Item]:
    """Top-level list entries of ``text``; comment lines just above an entry belong to it."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("- ")]
    items = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        begin = start
        while begin > 0 and lines[begin - 1].lstrip().startswith("#"):
            begin -= 1  # the comments above belong to this entry
        while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1  # trailing comments belong to the next entry
        body = lines[begin:end]
        item = Item(index=n, text="\n".join(body) + "\n")
        for line in body:
            m = MARKER.search(line)
            if not m:
                continue
            kind, why = m.group("kind"), (m.group("why") or "").strip()
            if kind not in KINDS:
                item.errors.append("unknown marker %r (known: %s)" % (kind, ", ".join(KINDS)))
            elif kind in ("skip", "warns"):
                if not why:
                    item.errors.append("'# example-test: %s' needs its reason: '# example-test: %s (why)'"
                                       % (kind, kind))
                setattr(item, kind, why or "?")
            elif kind == "diff":
                item.diff = sorted(w.strip() for w in why.split(",") if w.strip())
                if not item.diff:
                    item.errors.append("'# example-test: diff' needs the options: '# example-test: diff (env)'")
            else:
                item.unchanged = True
        items.append(item)
    return items
