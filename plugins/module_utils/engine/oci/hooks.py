# SPDX-License-Identifier: GPL-3.0-or-later
"""OCI hooks from ``[engine] hooks_dir``, as podman injects them (oci-hooks(5), format 1.0.0).

Each ``*.json`` file of a hooks directory describes one hook: the command (``hook``: path,
args, env, timeout, an OCI spec hook), when it applies (``when``: always, annotations,
commands, hasBindMounts; any one that matches is enough) and its ``stages``. A file of the
same name in a later directory replaces the earlier one; hooks run in file-name order.
The OCI runtime runs them: the engine only writes them into config.json.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Sequence

from ..base.errors import ConfigError

STAGES = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")
_MAX_HOOK_FILE = 1 << 20


@dataclass
class Hook:
    """One hook file (oci-hooks 1.0.0)."""

    source: str
    hook: Dict[str, Any]
    stages: List[str]
    always: bool = False
    annotations: Dict[str, str] = field(default_factory=dict)
    commands: List[str] = field(default_factory=list)
    has_bind_mounts: bool = False

    def matches(self, annotations: Mapping[str, str], command: str, has_bind_mounts: bool) -> bool:
        if self.always or (self.has_bind_mounts and has_bind_mounts):
            return True
        for key_re, value_re in self.annotations.items():
            if any(re.search(key_re, k) and re.search(value_re, v) for k, v in annotations.items()):
                return True
        return any(re.search(c, command) for c in self.commands)


def _bad(path: str, why: str) -> ConfigError:
    return ConfigError("OCI hook %s: %s" % (path, why),
                       hint="fix or remove the file (format: oci-hooks(5), version 1.0.0), or drop its "
                            "directory from [engine] hooks_dir")


def _regexes(path: str, what: str, values: Sequence[str]) -> None:
    for value in values:
        try:
            re.compile(value)
        except (re.error, TypeError) as exc:
            raise _bad(path, "invalid %s regular expression %r: %s" % (what, value, exc))


def read_hook(path: str) -> Hook:
    """Parse and validate one hook file (as podman's hooks/1.0.0 Validate)."""
    try:
        with open(path, "rb") as f:
            raw = f.read(_MAX_HOOK_FILE + 1)
        if len(raw) > _MAX_HOOK_FILE:
            raise _bad(path, "larger than 1 MiB")
        doc = json.loads(raw)
    except OSError as exc:
        raise _bad(path, exc.strerror or str(exc))
    except ValueError as exc:
        raise _bad(path, "invalid JSON: %s" % exc)
    if not isinstance(doc, dict):
        raise _bad(path, "expected a JSON object")
    if doc.get("version") != "1.0.0":
        raise _bad(path, "version %r is not supported (only 1.0.0)" % doc.get("version"))
    hook = doc.get("hook")
    if not isinstance(hook, dict) or not isinstance(hook.get("path"), str) or not os.path.isabs(hook["path"]):
        raise _bad(path, "hook.path must be an absolute path")
    if not os.path.exists(hook["path"]):
        raise _bad(path, "hook.path %s does not exist" % hook["path"])
    for key in ("args", "env"):
        if key in hook and not (isinstance(hook[key], list) and all(isinstance(a, str) for a in hook[key])):
            raise _bad(path, "hook.%s must be a list of strings" % key)
    if "timeout" in hook and (not isinstance(hook["timeout"], int) or isinstance(hook["timeout"], bool)
                              or hook["timeout"] < 1):
        raise _bad(path, "hook.timeout must be a positive integer")
    stages = doc.get("stages")
    if not isinstance(stages, list) or not stages or any(s not in STAGES for s in stages):
        raise _bad(path, "stages must list one or more of %s" % ", ".join(STAGES))
    when = doc.get("when")
    if not isinstance(when, dict):
        raise _bad(path, "when must be an object")
    annotations = when.get("annotations") or {}
    commands = when.get("commands") or []
    if not isinstance(annotations, dict) or not all(isinstance(v, str) for v in annotations.values()):
        raise _bad(path, "when.annotations must map regular expressions to regular expressions")
    if not isinstance(commands, list):
        raise _bad(path, "when.commands must be a list of regular expressions")
    _regexes(path, "annotation", list(annotations) + list(annotations.values()))
    _regexes(path, "command", commands)
    always, bind = when.get("always"), when.get("hasBindMounts")
    if always is None and bind is None and not annotations and not commands:
        raise _bad(path, "when sets no condition (always, annotations, commands or hasBindMounts)")
    keep = {k: hook[k] for k in ("path", "args", "env", "timeout") if k in hook}
    return Hook(source=path, hook=keep, stages=list(dict.fromkeys(stages)), always=bool(always),
                annotations=dict(annotations), commands=list(commands), has_bind_mounts=bool(bind))


def read_hooks(dirs: Sequence[str]) -> List[Hook]:
    """The hooks of ``dirs`` in file-name order (a later directory's file replaces the same name)."""
    by_name: Dict[str, str] = {}
    for directory in dirs:
        try:
            names = os.listdir(directory)
        except FileNotFoundError:
            continue  # as podman: a configured directory that does not exist has no hooks
        except OSError as exc:
            raise ConfigError("[engine] hooks_dir %s: %s" % (directory, exc.strerror))
        for name in names:
            if name.endswith(".json"):
                by_name[name] = os.path.join(directory, name)
    return [read_hook(by_name[name]) for name in sorted(by_name)]


def add_hooks(spec: Dict[str, Any], dirs: Sequence[str], *, has_bind_mounts: bool) -> List[str]:
    """Write the matching hooks into ``spec["hooks"]``; returns the files used."""
    if not dirs:
        return []
    annotations = spec.get("annotations") or {}
    args = (spec.get("process") or {}).get("args") or [""]
    used = []
    for hook in read_hooks(dirs):
        if hook.matches(annotations, args[0], has_bind_mounts):
            for stage in hook.stages:
                spec.setdefault("hooks", {}).setdefault(stage, []).append(dict(hook.hook))
            used.append(hook.source)
    return used
