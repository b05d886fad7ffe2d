# SPDX-License-Identifier: GPL-3.0-or-later
"""Check mode of the volume module (and of volumes in a stack) predicts the real run: every state,
including a mounted volume that must be recreated (the real run mounts it again).

Phase 1 (one playbook): set the volumes up for real, then run every case in check mode; phase 2
(one playbook): every case for real, then again (no change). tmpfs volumes: real mounts.
"""
from __future__ import annotations

from ansible_collections.libpod.engine.tests.helpers.checkmode import as_done

from .helpers import run_playbook
from .test_volume import engine_mounts

V = "libpod.engine.volume"
S = "libpod.engine.stack"


def tmpfs(size: str) -> list:
    return ["type=tmpfs", "device=tmpfs", "o=size=%s" % size]


def stack(state: str, size: str) -> dict:
    return {"label": "vc", "volumes": [{"name": "s_opts", "state": state, "options": tmpfs(size)}]}


#: (case, setup tasks, the task under test)
CASES = [
    ("new mounted", [], {V: {"name": "v_new", "state": "mounted", "options": tmpfs("8m")}}),
    ("same mounted", [{V: {"name": "v_same", "state": "mounted", "options": tmpfs("8m")}}],
     {V: {"name": "v_same", "state": "mounted", "options": tmpfs("8m")}}),
    ("options mounted", [{V: {"name": "v_opts", "state": "mounted", "options": tmpfs("8m")}}],
     {V: {"name": "v_opts", "state": "mounted", "options": tmpfs("16m")}}),
    ("recreate mounted", [{V: {"name": "v_rec", "state": "mounted", "options": tmpfs("8m")}}],
     {V: {"name": "v_rec", "state": "mounted", "options": tmpfs("8m"), "recreate": True}}),
    ("unmounted then mounted", [{V: {"name": "v_unheld", "options": tmpfs("8m")}}],
     {V: {"name": "v_unheld", "state": "mounted", "options": tmpfs("8m")}}),
    ("held unmounted", [{V: {"name": "v_u", "state": "mounted", "options": tmpfs("8m")}}],
     {V: {"name": "v_u", "state": "unmounted"}}),
    ("options unmounted", [{V: {"name": "v_uopts", "state": "mounted", "options": tmpfs("8m")}}],
     {V: {"name": "v_uopts", "state": "unmounted", "options": tmpfs("16m")}}),
    ("options present", [{V: {"name": "v_p", "state": "mounted", "options": tmpfs("8m")}}],
     {V: {"name": "v_p", "options": tmpfs("16m")}}),
    ("absent", [{V: {"name": "v_a", "state": "mounted", "options": tmpfs("8m")}}],
     {V: {"name": "v_a", "state": "absent"}}),
    ("stack options mounted", [{S: stack("present", "8m")}, {V: {"name": "s_opts", "state": "mounted"}}],
     {S: stack("mounted", "16m")}),
]


def _named(prefix: str, case: str, task: dict, **extra) -> dict:
    return dict(task, name="%s %s" % (prefix, case), diff=True, **extra)


def _outcome(task) -> tuple:
    return task.changed, task["actions"], task.get("diff"), task.get("mount_point")


def test_check_mode_predicts_every_state(engine_env):
    setup = [dict(t, name="setup %s %d" % (case, i)) for case, ts, _t in CASES for i, t in enumerate(ts)]
    check = [_named("check", case, t, check_mode=True) for case, _s, t in CASES]
    first = run_playbook(engine_env, setup + check)
    assert first.rc == 0, first.log
    second = run_playbook(engine_env, [_named("real", c, t) for c, _s, t in CASES]
                          + [_named("again", c, t) for c, _s, t in CASES])
    assert second.rc == 0, second.log

    wrong = {}
    for case, _s, _t in CASES:
        changed, actions, diff, point = _outcome(first.task("check " + case))
        predicted, real = (changed, as_done(actions), diff, point), _outcome(second.task("real " + case))
        if predicted != real:
            wrong[case] = {"predicted": predicted, "real": real}
    report = ["%s:\n  predicted %r\n  real      %r" % (c, w["predicted"], w["real"]) for c, w in wrong.items()]
    assert not wrong, "\n".join(report)
    # recreate: true recreates (and so mounts again) on every run, by design
    assert [c for c, _s, _t in CASES if second.task("again " + c).changed] == ["recreate mounted"]
    assert not second.task("real same mounted").changed
    assert second.task("real options mounted")["actions"][-1].startswith("mounted volume v_opts at ")

    mounted = {p.rsplit("/", 2)[-2] for p in engine_mounts(engine_env) if p.endswith("/_data")}
    assert mounted == {"v_new", "v_same", "v_opts", "v_rec", "v_unheld", "s_opts"}
