# SPDX-License-Identifier: GPL-3.0-or-later
"""Reconcile containers.conf (the runtime_config module): desired settings vs the file, then act.

Order: validate everything against the new settings first (runtime, conmon, ulimits, path moves,
locks, a requested renumber or migrate in check mode), so that a refusal leaves the file as it
was; then 1. a reset with the old paths when paths move, 2. the file (atomically, comments kept),
3. the DB config record, 4. renumber / migrate / boot unit on a runtime opened with the new
settings, 5. the effective configuration as the next open will see it.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Mapping

from ..engine.base.errors import EngineError
from ..engine.ops import admin, confedit
from ..engine.ops.session import open_runtime as open_session
from ..engine.runtime import OpenOptions

NEW_FILE_HEADER = "# containers.conf of libpod.engine (created by the runtime_config module)\n"


def _check_runtime(after, overrides):
    """A read-only runtime that sees the new configuration before it is written (check mode)."""
    import tempfile  # noqa: PLC0415

    tk = confedit._tomlkit()  # noqa: SLF001
    fd, tmp = tempfile.mkstemp(prefix="lpe-conf-", suffix=".conf")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(tk.dumps(after.values))
        env = dict(os.environ, LIBPOD_ENGINE_CONF=tmp)
        return open_session(OpenOptions(overrides=overrides, env=env, read_only=True))
    finally:
        os.unlink(tmp)


def _preflight(p: Mapping[str, Any], after, overrides) -> None:
    """Run the requested renumber/migrate in check mode against the new configuration, so that
    a refusal (running containers, too few locks, unknown runtime) comes before the file is written."""
    if not (p["renumber"] or p["migrate_runtime"]):
        return
    rt = _check_runtime(after, overrides)
    try:
        if p["renumber"]:
            admin.renumber(rt, force=p["force"], check=True)
        if p["migrate_runtime"]:
            admin.migrate(rt, p["migrate_runtime"], timeout=p["timeout"], check=True)
    finally:
        rt.shutdown()


def reconcile_runtime_config(p: Mapping[str, Any], out: Dict[str, Any], *, check: bool, diff: bool,
                             open_rt: Callable[..., Any]) -> List[str]:
    """The runtime_config module's work: validate everything, then (reset,) write, renumber, migrate,
    boot unit. Fills ``out`` (the module result, also on failure) and returns the warnings.
    ``open_rt(**OpenOptions fields)`` opens a runtime the way the module does."""
    overrides = p["engine_options"] or {}
    path = os.path.abspath(p["path"] or confedit.default_path())
    out.update(changed=False, file=path, changes=[], actions=[])
    warnings = []

    settings = confedit.normalize_settings(p["settings"], p["state"])
    doc = confedit.ConfDocument.read(path)
    out["changes"] = confedit.apply_settings(doc, settings, p["state"])
    new_text = doc.text()
    if not doc.exists and new_text:
        new_text = NEW_FILE_HEADER + new_text
    file_changed = new_text != doc.original
    chain, in_chain = confedit.engine_chain(path)
    if not in_chain:
        warnings.append("%s is not read by the engine (it reads: %s); set LIBPOD_ENGINE_CONF or choose one of "
                        "those files" % (path, ", ".join(chain) or "no file"))
    after_chain = chain if in_chain else chain + [path]
    if file_changed:
        warnings += confedit.validate_file_data(doc.data(), path)
    before = confedit.merge_chain(chain, {}, overrides)
    after = confedit.merge_chain(after_chain, {path: new_text} if file_changed else {}, overrides)
    path_plan = confedit.PathPlan()
    try:
        if file_changed:
            confedit.check_runtime(after)
            confedit.check_conmon(after)
            confedit.check_ulimits(after)
            path_plan = confedit.plan_path_changes(before, after, p["reset"])
        if p["renumber"] or after.get("engine", "num_locks") != before.get("engine", "num_locks"):
            db = confedit.db_path_of(after) if not path_plan.needs_reset else ""
            warnings += confedit.check_num_locks(after, db, p["renumber"]) if db else []
        if file_changed and not check and not path_plan.needs_reset:
            _preflight(p, after, overrides)
    except EngineError as err:
        if "not changed" not in str(err):
            err.msg = "settings: %s; %s was not changed" % (err.msg, path)
        raise

    # 1. reset with the old paths, 2. the file, 3. the DB config record
    if path_plan.needs_reset:
        out["actions"].append("reset the engine before moving %s (it had %s)" % (
            ", ".join(c.key for c in path_plan.changes), path_plan.summary()))
        if check:
            rt = open_rt(reset=True, read_only=True)
            try:
                out["reset"] = {"plan": admin.reset_plan(rt)}
            finally:
                rt.shutdown()
        else:
            rt = open_rt(reset=True, stop_timeout=p["timeout"])
            out["reset"] = rt.admin_result or {}
            if out["reset"].get("problems"):
                raise EngineError("reset before the path change was incomplete: %s"
                                  % "; ".join(out["reset"]["problems"]),
                                  hint="fix the cause and run the task again; the file was not changed")
        out["changed"] = True
    if file_changed:
        if not check:
            confedit.write_atomic(path, new_text)
        out["actions"].append("%s %s" % ("wrote" if not check else "write", path))
        out["changed"] = True
        if diff:
            out["diff"] = {"before": doc.original, "after": new_text,
                           "before_header": "%s (before)" % path, "after_header": "%s (after)" % path}
    if path_plan.clear_record:
        if not check:
            confedit.clear_db_record(path_plan.clear_record)
        out["actions"].append("%s the DB config record of %s (no objects; the new paths will be recorded on "
                              "next use)" % ("cleared" if not check else "clear", path_plan.clear_record))
        out["changed"] = True

    # 4. operations on a runtime opened with the new configuration
    if p["renumber"] or p["migrate_runtime"] or p["restart_on_boot"] is not None:
        rt = _check_runtime(after, overrides) if check and file_changed else open_rt(read_only=check)
        try:
            if p["renumber"]:
                res = admin.renumber(rt, force=p["force"], check=check)
                out["renumber"] = res
                if res["changed"]:
                    out["changed"] = True
                    out["actions"].append("%s locks of %d objects (%d got another number)" % (
                        "renumbered" if not check else "renumber", res["objects"], len(res["changes"])))
            if p["migrate_runtime"]:
                try:
                    res = admin.migrate(rt, p["migrate_runtime"], timeout=p["timeout"], check=check)
                except EngineError as err:
                    out["migrate"] = getattr(err, "result", {})
                    raise
                out["migrate"] = res
                if res["changed"]:
                    out["changed"] = True
                    out["actions"].append("%s %s to %s%s" % (
                        "migrated" if not check else "migrate", ", ".join(res["migrated"]), p["migrate_runtime"],
                        " (stopped and started again: %s)" % ", ".join(res["restarted"]) if res["restarted"] else ""))
            if p["restart_on_boot"] is not None:
                res = admin.ensure_boot_unit(rt, p["restart_on_boot"], check=check)
                out["boot_unit"] = res
                if not res["systemd"]:
                    warnings.append(res["message"])
                elif res["changed"]:
                    out["changed"] = True
                    out["actions"].append(res["message"])
        finally:
            rt.shutdown()

    # 5. the effective configuration (the DB record as the next open will see it)
    record = None
    if not (path_plan.needs_reset or path_plan.clear_record):
        record = confedit.read_db_record(confedit.db_path_of(after))
    eff = confedit.merge_chain(after_chain, {path: new_text} if file_changed else {}, overrides)
    warnings += confedit.apply_db_record(eff, record, confedit.db_path_of(eff))
    out["config"], out["sources"] = confedit.effective(eff)
    out["config_files"] = eff.files
    out["db_config"] = record
    return list(dict.fromkeys(warnings + after.warnings))
