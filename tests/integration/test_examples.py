# SPDX-License-Identifier: GPL-3.0-or-later
"""Every example the user reads runs as written: module EXAMPLES and the YAML blocks of docs/index.md.

The examples are found by examples_extract.py (new modules and new blocks are picked up without
changing this file) and run in ONE ansible-playbook run against this test's engine root, in order:
module examples (by file name), then the guide's blocks (page order). Before each example the
engine is reset (``system_reset``) so that examples do not see each other's objects; a task list
runs as one play on localhost, a playbook's plays run as they are. (The reset is left out when
the example uses no object name or host port that an example since the last reset used: see
build_plan.)

Each task runs in check mode first, then for real, and the check run must predict the real
run's ``changed``. Each play runs in check mode, then for real, then once more and must then
report changed=false (the guide promises that a second run changes nothing). A task marked
``# example-test: unchanged`` must report changed=false on its real run ("the same task again").
A preview marked ``# example-test: diff (env)`` must show exactly those options in its diff.
A module warning fails the test too (a container that exits at once after ``state: started``
warns), unless the item is marked ``# example-test: warns (why)``.
Tasks that are themselves check-mode previews, ``debug`` and ``*_info`` tasks run once.
An item marked ``# example-test: skip (why)`` is left out and listed in the test's output; any
other item that fails fails this test: fix the example or mark it, with the reason, in the docs.

Substitution table (SUBSTITUTIONS, applied to the example text; nothing else is changed):

=============================  =====================================================
in the example                 in the test
=============================  =====================================================
``/srv/images/busybox.tar``    the demo archive, built by scripts/build_demo_image.py
``/srv/images``, ``/srv/demo-rootfs``   directories of the test (the guide's tarball and rootfs)
``/srv/rootfs``                a busybox root filesystem directory (the image module's rootfs import)
``/tmp/demo-rootfs.tar``, ``/tmp/demo.tar``   files in the test's images directory
``/tmp/app-oci.tar``           the demo archive (an OCI archive, as podman save writes)
``/srv/site``                  a directory with an index.html
``/srv/engine``, ``/run/engine-srv``, ``-b`` variants    a second engine root of the test
``/srv/vault``, ``/srv/backups``   empty directories (the shell secret driver's store, copies)
``/etc/shop/tls.key``          a file in the test's directory
``scripts/...``                the checkout's scripts/ (run from another directory)
host ports 18080, 18081, 8080  free ports (``127.0.0.1:PORT:`` in publish)
=============================  =====================================================

Inventory: the groups ``web`` and ``container_hosts`` hold localhost (connection local, this
Python). Play variables: ``vault_db_password``, ``vault_api_token``. PRELUDE lists what an
example assumes exists before it starts (the image in the store, the container ``web``).
``LPE_EXAMPLES_ONLY`` (comma-separated parts of example names, e.g. ``module pod,Long operations``)
runs only those examples, while fixing one.

Any ``/srv/`` left after substitution fails the test: examples never write to the host's /srv.

The engine root's containers.conf sets ``stop_timeout = 1`` (busybox httpd as PID 1 ignores
SIGTERM, so each stop would wait 10 s) and is restored after an example that uses runtime_config,
undoing what it changed. Facts are not gathered (``ANSIBLE_GATHERING=explicit``: no
example uses them); pipelining is on. Both only save time.
"""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from typing import Dict, List, Optional, Set

import yaml

from .examples_extract import REPO, Example, Item, all_examples
from .helpers import PlaybookResult, TaskResult, _playbook_path, free_port

IMAGE_NAME = "localhost/busybox:latest"
#: busybox httpd as PID 1 ignores SIGTERM: every stop would wait the default 10 s for SIGKILL
STOP_TIMEOUT = 1
#: what an example needs before its first task (the example's name -> tasks)
PRELUDE: Dict[str, List[dict]] = {}
IMAGE_ARCHIVE = "oci-archive:/srv/images/busybox.tar"  # substituted like the examples
#: imports the image into the store, for examples that name it (IMAGE_NAME) without the archive
IMPORT = [
    {"name": "import the image",
     "libpod.engine.container": {"name": "example-test-import", "image": IMAGE_ARCHIVE, "state": "created"}},
    {"name": "remove the importer", "libpod.engine.container": {"name": "example-test-import", "state": "absent"}},
]
_WEB = {
    "name": "web",
    "image": IMAGE_ARCHIVE,
    "command": ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
    "state": "started",
}
for _name in ("container_copy", "container_exec", "container_info"):
    PRELUDE["module " + _name] = [{"libpod.engine.container": dict(_WEB)}]
PRELUDE["module pod_info"] = [{"libpod.engine.pod": {"name": "web"}},
                              {"libpod.engine.container": dict(_WEB, name="web-server", pod="web")}]
PRELUDE["module secret_info"] = [{"libpod.engine.secret": {"name": "db-pass", "data": "example"}},
                                 {"libpod.engine.container": dict(_WEB, secrets=["db-pass"])}]
PRELUDE["module volume_info"] = [{"libpod.engine.volume": {"name": "appdata"}}]

#: actions that run once (never in check mode first): they change nothing
BUSYBOX = "/usr/bin/busybox"  # Debian's busybox-static (scripts/setup.sh installs it)
NAME_RE = re.compile(r"^\s*(?:- )?\s*name:\s*['\"]?([A-Za-z0-9_.-]+)['\"]?\s*$", re.M)
PORT_RE = re.compile(r"127\.0\.0\.1:([0-9]+):")
RUN_ONCE = ("ansible.builtin.debug", "debug", "ansible.builtin.set_fact", "set_fact", "ansible.builtin.assert")


def substitutions(root: str, ports: List[int]) -> List[tuple]:
    """The substitution table (see the module docstring), in the order it is applied."""
    return [
        ("/srv/images/busybox.tar", os.path.join(root, "images", "busybox.tar")),
        ("/srv/images", os.path.join(root, "images")),
        ("/srv/rootfs", os.path.join(root, "rootfs")),
        ("/tmp/demo-rootfs.tar", os.path.join(root, "images", "module-rootfs.tar")),
        ("/tmp/app-oci.tar", os.path.join(root, "images", "busybox.tar")),
        ("/tmp/demo.tar", os.path.join(root, "images", "demo-saved.tar")),
        ("/srv/demo-rootfs", os.path.join(root, "demo-rootfs")),
        ("/srv/site", os.path.join(root, "site")),
        ("/srv/engine-b", os.path.join(root, "engine-b")),
        ("/run/engine-b", os.path.join(root, "engine-b-run")),
        ("/srv/engine", os.path.join(root, "engine-srv")),
        ("/run/engine-srv", os.path.join(root, "engine-srv-run")),
        ("/srv/vault", os.path.join(root, "vault")),
        ("/srv/backups", os.path.join(root, "backups")),
        ("/etc/shop/tls.key", os.path.join(root, "files", "tls.key")),
        ("argv: [python3, scripts/", "argv: [%s, %s/scripts/" % (sys.executable, REPO)),
        ("127.0.0.1:18080:", "127.0.0.1:%d:" % ports[0]),
        ("127.0.0.1:18081:", "127.0.0.1:%d:" % ports[1]),
        ("127.0.0.1:8080:", "127.0.0.1:%d:" % ports[2]),
    ]


def substitute(text: str, table: List[tuple]) -> str:
    for old, new in table:
        text = text.replace(old, new)
    return text


def _load(item: Item, table: List[tuple]) -> dict:
    text = substitute(item.text, table)
    if "/srv/" in text:
        raise AssertionError("an unsubstituted /srv/ path (add it to the substitution table):\n" + text)
    return yaml.safe_load(text)[0]


def _action(task: dict) -> str:
    keys = [k for k in task if "." in k or k in RUN_ONCE]
    return keys[0] if keys else ""


def _marker(tag: str) -> dict:
    """A task that opens a play's segment (a play's own task names cannot carry the tag)."""
    return {"name": tag, "ansible.builtin.debug": {"msg": "{{ now().timestamp() }}"}}


def _tagged(tag: str, tasks: List[dict]) -> List[dict]:
    """The tasks, named ``<tag> | <name>`` so that judge() knows whose results they are."""
    return [dict(t, name="%s | %s" % (tag, t.get("name") or _action(t))) for t in tasks]


def _once(task: dict) -> bool:
    action = _action(task)
    return action in RUN_ONCE or action.endswith("_info") or "check_mode" in task


class Plan:
    """The playbook, and what each of its segments (between marker tasks) must show."""

    def __init__(self):
        self.plays: List[dict] = []
        self.segments: Dict[str, dict] = {}  # tag -> {example, item, mode, unchanged}
        self.skipped: List[str] = []

    def tag(self, ex: Example, item: Optional[Item], mode: str, unchanged: bool = False) -> str:
        tag = "example-test %d %s" % (len(self.segments), mode)
        self.segments[tag] = {"example": ex.name, "item": item, "mode": mode, "unchanged": unchanged}
        return tag


def _local_play(name: str, tasks: list, play_vars: dict) -> dict:
    return {"name": name, "hosts": "localhost", "connection": "local", "gather_facts": False,
            "vars": dict(play_vars), "tasks": tasks}


def claims(text: str) -> Set[str]:
    """The object names (a ``name:`` with one word) and host ports an example uses."""
    return {"name " + m for m in NAME_RE.findall(text)} | {"port " + m for m in PORT_RE.findall(text)}


def build_plan(examples: List[Example], table: List[tuple], play_vars: dict, conf: str) -> Plan:
    """The playbook. The engine is reset before an example only when it uses an object name or a
    host port that an example since the last reset used (or after runtime_config examples):
    resets, and the image import after them, are most of the test's time."""
    plan = Plan()
    used: Set[str] = set()
    imported = dirty = conf_changed = False
    for ex in examples:
        errors = ["%s, entry %d: %s" % (ex.name, it.index + 1, e) for it in ex.items for e in it.errors]
        assert not errors, "\n".join(errors)
        runnable = [it for it in ex.items if it.skip is None]
        plan.skipped += ["%s, entry %d: %s" % (ex.name, it.index + 1, it.skip) for it in ex.items if it.skip]
        if not runnable:
            continue
        prelude_text = yaml.safe_dump(PRELUDE.get(ex.name, []))
        need = claims(ex.text + prelude_text)
        restore = {"name": "undo the configuration changes of the last example",
                   "ansible.builtin.copy": {"src": conf + ".orig", "dest": conf, "remote_src": True}}
        reset = [restore] if conf_changed else []
        dirty = dirty or "libpod.engine.runtime_config" in ex.text  # renumbering, migrating: on an empty engine
        if need & used or dirty:  # a name or port an earlier example may still hold: start from empty
            reset.insert(0, {"name": "reset the engine", "libpod.engine.system_reset": {"confirm": True}})
            used, imported = set(), False
        prelude = PRELUDE.get(ex.name, []) + (IMPORT if IMAGE_NAME in ex.text and not imported else [])
        reset = _tagged(plan.tag(ex, None, "reset"), reset + yaml.safe_load(substitute(yaml.safe_dump(prelude), table)))
        used |= need
        imported = imported or IMAGE_NAME in ex.text + prelude_text or IMAGE_ARCHIVE in ex.text + prelude_text
        dirty = conf_changed = "libpod.engine.runtime_config" in ex.text  # conf edited, locks renumbered
        if "libpod.engine.system_reset" in ex.text:  # the example itself removed everything
            used, imported = set(), False
        if not ex.is_playbook:
            tasks = list(reset)
            for item in runnable:
                task = _load(item, table)
                check_tag = None
                if not _once(task):
                    check_tag = plan.tag(ex, item, "check")
                    tasks += _tagged(check_tag, [dict(copy.deepcopy(task), check_mode=True)])
                real_tag = plan.tag(ex, item, "real", item.unchanged)
                tasks += _tagged(real_tag, [task])
                if check_tag:
                    plan.segments[check_tag]["real"] = real_tag
            plan.plays.append(_local_play(ex.name, tasks, play_vars))
            continue
        if reset:
            plan.plays.append(_local_play(ex.name + " (reset)", reset, play_vars))
        for item in runnable:
            play = _load(item, table)
            tags = {}
            for mode in ("check", "real", "again"):
                p = copy.deepcopy(play)
                tags[mode] = plan.tag(ex, item, mode, mode == "again" or item.unchanged)
                p["pre_tasks"] = [_marker(tags[mode])] + p.get("pre_tasks", [])
                if mode == "check":
                    p["check_mode"] = True
                p["vars"] = dict(play_vars, **p.get("vars", {}))
                plan.plays.append(p)
            plan.segments[tags["check"]]["real"] = tags["real"]
    return plan


def judge(plan: Plan, tasks: List[TaskResult]) -> List[str]:
    """What went wrong, per segment: failures, check runs that mispredict, changes where none may be."""
    problems = []
    current: Optional[str] = None
    by_tag: Dict[str, List[TaskResult]] = {}
    for t in tasks:
        tag, sep, _unused = t.name.partition(" | ")
        if t.name in plan.segments:  # the marker task that opens a play's segment
            current = t.name
            by_tag[current] = []
        elif sep and tag in plan.segments:  # a task named by _tagged()
            current = tag
            by_tag.setdefault(current, []).append(t)
        elif current is not None:
            by_tag[current].append(t)
    for tag, seg in plan.segments.items():
        got = by_tag.get(tag)
        where = "%s, entry %s (%s)" % (seg["example"], seg["item"].index + 1 if seg["item"] else "-", seg["mode"])
        if got is None:
            continue
        for t in got:
            if t.failed:
                problems.append("%s: task %r failed: %s" % (where, t.name, t.msg or json.dumps(t.result)[:800]))
            elif t.get("warnings") and not (seg["item"] and seg["item"].warns):
                problems.append("%s: task %r warned (fix the example, or mark it '# example-test: warns (why)'): %s"
                                % (where, t.name, t.get("warnings")))
            elif seg["item"] and seg["item"].diff and diff_options(t.get("diff") or {}, seg["item"].diff) \
                    != seg["item"].diff:
                problems.append("%s: task %r: its diff should show only %s, it shows %s: %s"
                                % (where, t.name, seg["item"].diff, diff_options(t.get("diff") or {}, seg["item"].diff),
                                   t.get("diff")))
            elif seg["unchanged"] and t.changed:
                problems.append("%s: task %r reported changed=true, the example says it changes nothing: %s"
                                % (where, t.name, t.get("actions")))
        if seg["mode"] == "check":
            real = by_tag.get(seg["real"])
            for c, r in zip(got, real or []):
                if not c.skipped and not r.skipped and c.changed != r.changed:
                    problems.append("%s: check mode predicted changed=%s for %r, the real run said %s (actions %s / %s)"
                                    % (where, c.changed, c.name, r.changed, c.get("actions"), r.get("actions")))
    return problems


def diff_options(diff, expected: List[str]) -> List[str]:
    """The options a diff shows: its keys, below the levels that only name a list or an object
    (a stack's ``{"containers": {"web-httpd": {...}}}``)."""
    before, after = diff.get("before") or {}, diff.get("after") or {}
    while True:
        keys = set(before) | set(after)
        if len(keys) != 1 or keys & set(expected):
            return sorted(keys)
        key = keys.pop()
        if not isinstance(before.get(key, {}), dict) or not isinstance(after.get(key, {}), dict):
            return [key]
        before, after = before.get(key) or {}, after.get(key) or {}


def run(env, plan: Plan, inventory: str) -> PlaybookResult:
    playbook = os.path.join(env.root, "examples.yml")
    with open(playbook, "w", encoding="utf-8") as f:
        yaml.safe_dump(plan.plays, f, sort_keys=False)
    result_file = os.path.join(env.root, "examples.result.json")
    cmd = [_playbook_path(), "-i", inventory, playbook]
    run_env = dict(env, LPE_IT_RESULT_FILE=result_file, ANSIBLE_PIPELINING="True", ANSIBLE_GATHERING="explicit")
    proc = subprocess.run(cmd, env=run_env, cwd=env.root, check=False,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
    doc = {"tasks": [], "stats": {}}
    if os.path.exists(result_file):
        with open(result_file, encoding="utf-8") as f:
            doc = json.load(f)
    return PlaybookResult(rc=proc.returncode, tasks=[TaskResult(**t) for t in doc["tasks"]], stats=doc["stats"],
                          stdout=proc.stdout, stderr=proc.stderr, playbook=playbook, command=cmd)


def prepare(root: str, conf: str) -> None:
    """The files the substitution table points at, and the engine's configuration of the test."""
    with open(conf, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("[engine]\n", "[engine]\nstop_timeout = %d\n" % STOP_TIMEOUT, 1)
    for path in (conf, conf + ".orig"):  # .orig: restored after the runtime_config examples
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    for sub in ("images", "site", "vault", "files", "backups"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    with open(os.path.join(root, "site", "index.html"), "w", encoding="utf-8") as f:
        f.write("hello\n")
    rootfs_bin = os.path.join(root, "rootfs", "bin")
    os.makedirs(rootfs_bin, exist_ok=True)
    shutil.copy2(BUSYBOX, os.path.join(rootfs_bin, "busybox"))
    for applet in ("sh", "httpd"):
        if not os.path.lexists(os.path.join(rootfs_bin, applet)):
            os.symlink("busybox", os.path.join(rootfs_bin, applet))
    with open(os.path.join(root, "files", "tls.key"), "w", encoding="utf-8") as f:
        f.write("not a real key\n")
    subprocess.run([sys.executable, os.path.join(REPO, "scripts", "build_demo_image.py"), "--output",
                    os.path.join(root, "images", "busybox.tar"), "--name", IMAGE_NAME],
                   check=True, capture_output=True)


def _inventory(root: str) -> str:
    path = os.path.join(root, "inventory.yml")
    host = {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump({"all": {"children": {"web": {"hosts": host}, "container_hosts": {"hosts": host}}}}, f)
    return path


def test_markers_are_well_formed():
    """Every example parses, every marker is known and every skip says why (no engine needed)."""
    problems = ["%s, entry %d: %s" % (ex.name, it.index + 1, e)
                for ex in all_examples() for it in ex.items for e in it.errors]
    assert not problems, "\n".join(problems)


def test_every_example_runs(engine_env):
    root = engine_env.root
    prepare(root, engine_env.conf)
    ports = [free_port() for _unused in range(3)]
    table = substitutions(root, ports)
    play_vars = {"vault_db_password": "example-db-password", "vault_api_token": "example-api-token",
                 "ansible_python_interpreter": sys.executable}
    examples = all_examples()
    only = [w for w in os.environ.get("LPE_EXAMPLES_ONLY", "").split(",") if w]
    if only:  # while fixing one example: LPE_EXAMPLES_ONLY="module pod,First playbook"
        examples = [ex for ex in examples if any(w in ex.name for w in only)]
    plan = build_plan(examples, table, play_vars, engine_env.conf)
    print("examples marked to skip:\n  " + "\n  ".join(plan.skipped))
    res = run(engine_env, plan, _inventory(root))
    problems = judge(plan, res.tasks)
    assert not problems, "\n".join(problems) + "\n\n" + res.log
    assert res.rc == 0, res.log
