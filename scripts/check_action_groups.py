# SPDX-License-Identifier: GPL-3.0-or-later
"""Check meta/runtime.yml's action group `all` and action routing against the modules (sanity does not).

Every module in the group must exist; every module must be in it and name the
ACTIONGROUP doc fragment (which documents the membership) in its docs. Every module must have its
action plugin, plugins/action/<module>.py, and it must be the engine's (plugins/plugin_utils/
engine_action.py, which sends the engine to a node that needs it: without it such a task fails).
"""
from __future__ import annotations

import ast
import os
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAGMENT = "libpod.engine.engine.ACTIONGROUP"
ACTION = "ansible_collections.libpod.engine.plugins.plugin_utils.engine_action"


def module_docs(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DOCUMENTATION" for t in node.targets):
            try:
                return yaml.safe_load(ast.literal_eval(node.value)) or {}
            except (ValueError, yaml.YAMLError):
                return {}  # unparsable docs: ansible-test sanity reports those
    return {}


def main() -> int:
    with open(os.path.join(REPO, "meta", "runtime.yml"), encoding="utf-8") as f:
        meta = yaml.safe_load(f)
    group = set((meta.get("action_groups") or {}).get("all") or [])
    mod_dir = os.path.join(REPO, "plugins", "modules")
    modules = {n[:-3] for n in os.listdir(mod_dir) if n.endswith(".py") and not n.startswith("_")}
    errors = ["meta/runtime.yml: action group 'all' lists %s, which does not exist" % m
              for m in sorted(group - modules)]
    errors += ["meta/runtime.yml: module %s is missing from action group 'all'" % m
               for m in sorted(modules - group)]
    act_dir = os.path.join(REPO, "plugins", "action")
    actions = {n[:-3] for n in os.listdir(act_dir) if n.endswith(".py") and not n.startswith("_")}
    for name in sorted(modules):
        text = ""
        if name in actions:
            with open(os.path.join(act_dir, name + ".py"), encoding="utf-8") as f:
                text = f.read()
        if ACTION not in text:
            errors.append("plugins/action/%s.py: missing, or not `from %s import ActionModule`" % (name, ACTION))
    errors += ["plugins/action/%s.py: an action plugin without a module" % n for n in sorted(actions - modules)]
    for name in sorted(modules & group):
        docs = module_docs(os.path.join(mod_dir, name + ".py"))
        if docs and FRAGMENT not in (docs.get("extends_documentation_fragment") or []):
            errors.append("plugins/modules/%s.py: in action group 'all' but its docs lack %s" % (name, FRAGMENT))
    for e in errors:
        print(e)
    print("action groups: %d module(s), %s" % (len(modules), "ok" if not errors else "%d problem(s)" % len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
