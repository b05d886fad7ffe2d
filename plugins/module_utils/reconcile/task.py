# SPDX-License-Identifier: GPL-3.0-or-later
"""The body of a module task: open the runtime, reconcile or collect, report through the module.

``module`` is the task's AnsibleModule (params, check_mode, _diff, warn, exit_json, fail_json);
nothing here imports Ansible. These bodies are packed with the engine, so a task loads them as
bytecode; ansible_engine.py, which the payload carries as source and every task compiles, only
hands them out (issue 20). Engine errors become fail_json with a message and an ``error_kind``.
"""
from __future__ import annotations

import importlib.util
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..engine.base.errors import EngineError
from ..engine.ops import session
from ..engine.runtime import OpenOptions

#: the options every engine module shares
ENGINE_ARGSPEC = {"engine_options": {"type": "dict"}}
#: the one option of an *_info module that reports objects by name (run_named_info)
NAMES_ARGSPEC = {"name": {"type": "list", "elements": "str"}}


def engine_argspec(spec: dict) -> dict:
    """The module's own options plus the options every engine module shares."""
    out = dict(spec)
    out.update(ENGINE_ARGSPEC)
    return out


def fail(module, err: EngineError, **extra) -> None:
    module.fail_json(msg=str(err), error_kind=err.kind, **extra)


def _missing_jsonschema(module) -> None:
    """Ansible's own message for a missing library (the config validation needs jsonschema)."""
    if importlib.util.find_spec("jsonschema") is None:
        from ansible.module_utils.basic import missing_required_lib  # noqa: PLC0415 - only when it is missing

        module.fail_json(msg=missing_required_lib("jsonschema"),
                         exception="ModuleNotFoundError: No module named 'jsonschema'")


def open_runtime(module, **open_kw):
    _missing_jsonschema(module)
    try:
        rt = session.open_runtime(OpenOptions(overrides=module.params.get("engine_options") or {}, **open_kw))
    except EngineError as err:
        fail(module, err)
    for warning in rt.warnings:
        module.warn(warning)
    return rt


def run_reconcile(module, reconcile: Callable[..., Any]) -> None:
    """The whole body of a reconciling module: open, ``reconcile(rt, params, check_mode)``,
    warnings (the result's and the engine's), then exit_json or fail_json."""
    rt = open_runtime(module, read_only=module.check_mode)
    seen = len(rt.warnings)  # open_runtime already showed these
    try:
        result = reconcile(rt, module.params, check_mode=module.check_mode)
    except EngineError as err:
        fail(module, err, actions=getattr(err, "actions", []))
        return  # fail_json exits; this keeps the flow explicit
    finally:
        rt.shutdown()
    for warning in list(result.warnings) + rt.warnings[seen:]:
        module.warn(warning)
    module.exit_json(**result.as_module_result(module._diff))


def run_info(module, collect: Callable[[Any, Dict[str, Any]], Dict[str, Any]],
             read_only: Optional[bool] = None) -> None:
    """The whole body of an *_info module: open the runtime (read-only in check mode unless
    ``read_only`` says otherwise), ``collect(rt, params)`` -> the result keys (a ``warnings`` key
    becomes module warnings), then exit_json with changed=False, or fail_json on an engine error."""
    # create=False: a reader never creates a root that does not exist yet (no DB, no directories)
    rt = open_runtime(module, read_only=module.check_mode if read_only is None else read_only, create=False)
    try:
        out = collect(rt, module.params)
    except EngineError as err:
        fail(module, err)
        return  # fail_json exits; this keeps the flow explicit
    finally:
        rt.shutdown()
    for warning in out.pop("warnings", []):
        module.warn(warning)
    module.exit_json(changed=False, **out)


def run_named_info(module, key: str, source: Callable[[Any], Tuple[Callable, Callable, Callable]]) -> None:
    """The whole body of an *_info module whose objects are chosen by ``name`` only:
    ``source(rt)`` -> ``(find, list_all, show)`` (see select), the result is
    ``{key: [show(obj) ...], "missing": [names that found nothing]}``."""

    def collect(rt, params):
        find, list_all, show = source(rt)
        found, missing = select(params["name"], find, list_all)
        return {key: [show(obj) for obj in found], "missing": missing}

    run_info(module, collect)


def select(names: Optional[List[str]], find: Callable, list_all: Callable) -> Tuple[List[Any], List[str]]:
    """The objects an *_info module reports: those ``names`` find (in order, once each, with the
    names that found nothing), or ``list_all()`` when no names are given."""
    if not names:
        return list(list_all()), []
    found, missing, seen = [], [], set()
    for ref in names:
        obj = find(ref)
        if obj is None:
            missing.append(ref)
        elif getattr(obj, "id", id(obj)) not in seen:
            seen.add(getattr(obj, "id", id(obj)))
            found.append(obj)
    return found, missing
