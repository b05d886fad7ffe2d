# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only Ansible-aware glue under module_utils: open the runtime for a module
and turn engine errors into fail_json with a message and an ``error_kind``."""
from __future__ import annotations

import atexit
import gc
import importlib.util

from ansible.module_utils.basic import missing_required_lib

# The engine and reconcile packages are reached through packed_loader.load only: an import
# statement naming them would make Ansible's controller parse all ~140 of their files for every
# module and playbook run (issue 20); the payload carries them packed instead.
from ansible_collections.libpod.engine.plugins.module_utils import packed_loader

packed_loader.install()
engine_import = packed_loader.load

# At exit the interpreter's last garbage collections walk every object the imports made (Ansible's
# and the engine's: ~40 ms of CPU per task, issue 20); the process is about to end, so let them skip
# all of it. Registered first, so it runs after every other exit handler (they run last-in first-out).
atexit.register(gc.freeze)

EngineError = engine_import("engine.base.errors").EngineError
_session = engine_import("engine.ops.session")
_runtime = engine_import("engine.runtime")

# Only checked for presence (the engine imports it lazily, when a config file changed).
HAS_JSONSCHEMA = importlib.util.find_spec("jsonschema") is not None
JSONSCHEMA_ERROR = None if HAS_JSONSCHEMA else "ModuleNotFoundError: No module named 'jsonschema'"

ENGINE_ARGSPEC = {"engine_options": {"type": "dict"}}


def engine_argspec(spec: dict) -> dict:
    """The module's own options plus the options every engine module shares."""
    out = dict(spec)
    out.update(ENGINE_ARGSPEC)
    return out


def fail(module, err: EngineError, **extra) -> None:
    module.fail_json(msg=str(err), error_kind=err.kind, **extra)


def open_runtime(module, **open_kw):
    if not HAS_JSONSCHEMA:
        module.fail_json(msg=missing_required_lib("jsonschema"), exception=JSONSCHEMA_ERROR)
    try:
        rt = _session.open_runtime(_runtime.OpenOptions(overrides=module.params.get("engine_options") or {}, **open_kw))
    except EngineError as err:
        fail(module, err)
    for warning in rt.warnings:
        module.warn(warning)
    return rt


def run_reconcile(module, reconcile) -> None:
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


def run_info(module, collect, read_only=None) -> None:
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


#: the one option of an *_info module that reports objects by name (run_named_info)
NAMES_ARGSPEC = {"name": {"type": "list", "elements": "str"}}


def run_named_info(module, key: str, source) -> None:
    """The whole body of an *_info module whose objects are chosen by ``name`` only:
    ``source(rt)`` -> ``(find, list_all, show)`` (see select), the result is
    ``{key: [show(obj) ...], "missing": [names that found nothing]}``."""

    def collect(rt, params):
        find, list_all, show = source(rt)
        found, missing = select(params["name"], find, list_all)
        return {key: [show(obj) for obj in found], "missing": missing}

    run_info(module, collect)


def select(names, find, list_all):
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
