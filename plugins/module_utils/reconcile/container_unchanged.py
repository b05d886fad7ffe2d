# SPDX-License-Identifier: GPL-3.0-or-later
"""A stack's unchanged containers, told from one read of their records (issue 20).

``reconcile_container`` takes each container's lock and reads its record whole: ~180 us per
container, 0.09 s of a 500-container no-op stack. Before a stack run has changed anything, its
container entries are first held against one query of the stack's records, in which SQLite reads
out of each config only what the no-op decision needs. An entry whose stored declared spec equals
the declared one (``OPTIONS.differences``, as the reconcile compares), whose image resolves locally
to the stored image ID, whose named volumes exist and whose run state asks for nothing (no exit
to fold in, the state it declares) gets the result ``reconcile_container`` gives for it: no
action, its warnings, its ID and status.

Everything else goes through ``reconcile_container`` as before: an entry with a pod, secrets, a
directory rootfs, another container's network, a pull policy that asks a registry, a platform,
recreate / force_restart / restarted / healthy, a cert_dir; an infra container, a record without
the stack's label, any difference, and any error raised here. Once anything of the run changed,
every later entry goes through it too (reconcile/stack.py). Without the lock the read is a snapshot of committed
records: the answer is the one the reconcile would give just before a concurrent task's change.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional, Tuple

from ..engine.base.errors import EngineError
from ..engine.base.status import CREATED, PAUSED, RUNNING, display_status
from ..engine.objects.container import pending_exit
from .container import _auth, _network_config, _platform
from .container_options import OPTIONS
from .container_params import ignored_warnings
from .result import Result

#: config fields read per record, in this order after id, name and state
_PATHS = ("$.declared", "$.image_id", "$.is_infra", "$.pod", "$.secrets", "$.oci_runtime")
#: states whose no-op this check tells (restarted always acts; healthy waits on the check)
_STATES = ("started", "stopped", "present", "created")
#: parameters that make the reconcile act or look further whatever the record holds
_ACTING = ("recreate", "force_restart", "cert_dir", "_recreated_dependency")


class UnchangedContainers:
    """The stack's container records, read once; ``result(params)`` is the no-op Result of
    ``reconcile_container`` for an entry that matches its record, None for one that goes through it."""

    def __init__(self, rt, label: str, value: str):
        self.rt = rt
        rows = rt.state.labelled_fields("container", label, value, _PATHS)
        self.records: Dict[str, Tuple[Any, ...]] = {row[1]: row for row in rows or ()}
        self._volumes: Optional[set] = None
        # within the run, read once: stored specs (the same text for containers declared alike) and
        # images by reference (a concurrent pull is seen as a later run would, as without the lock)
        self._specs: Dict[str, Tuple[Dict[str, Any], Any, bool]] = {}  # stored text -> (spec, declared, same)
        self._images: Dict[str, Any] = {}

    def result(self, params: Mapping[str, Any]) -> Optional[Result]:
        """The no-op Result (the same in check mode, which changes nothing either), or None."""
        row = self.records.get(params.get("name"))
        declared = params.get("_declared")  # a stack entry with an image (reconcile/stack.py DECLARED)
        if row is None or not declared or not params.get("_summary_only") \
                or (params.get("state") or "started") not in _STATES:
            return None
        if any(params.get(k) for k in _ACTING) or (params.get("pull") or "missing") not in ("missing", "never"):
            return None
        try:
            return self._unchanged(row, params, declared)
        except EngineError:
            return None  # the reconcile raises it, with its context

    def _unchanged(self, row: Tuple[Any, ...], params: Mapping[str, Any],
                   declared: Mapping[str, Any]) -> Optional[Result]:
        ctr_id, _name, st, stored, image_id, is_infra, pod, secrets, oci_runtime = row
        if is_infra or pod or (secrets and secrets != "[]") or not isinstance(stored, str) or not st:
            return None
        if declared.get("rootfs") or declared.get("pod") or declared.get("secrets") or _platform(params) \
                or (declared.get("network") or {}).get("mode") == "container":
            return None
        if not self._same(stored, declared):
            return None
        ref = declared["image"]
        if ref not in self._images:
            self._images[ref] = self.rt.images.resolve(ref)
        image = self._images[ref]
        if image is None or image.id != image_id or not self._volumes_exist(declared):
            return None
        if pending_exit(self.rt, ctr_id, oci_runtime, st) is not None or not _run_state_holds(params, st):
            return None
        # what the reconcile checks of an unchanged spec too (its errors are the reconcile's to raise)
        _network_config(self.rt, declared)
        _auth(params)
        res = Result(kind="container", warnings=ignored_warnings(params))
        res.obj = {"Id": ctr_id, "State": {"Status": display_status(st.get("status", ""))}}  # the stack's view
        return res

    def _same(self, stored: str, declared: Mapping[str, Any]) -> bool:
        """No option differs between the stored spec and the declared one (the comparison of the reconcile);
        asked once for entries declared alike, which share their declared spec (reconcile/stack.py check)."""
        spec, last, same = self._specs.get(stored) or (None, None, False)
        if spec is None:
            spec = json.loads(stored)
        elif last is declared:
            return same
        same = not OPTIONS.differences(spec, declared)
        self._specs[stored] = (spec, declared, same)
        return same

    def _volumes_exist(self, declared: Mapping[str, Any]) -> bool:
        """The named volumes it mounts exist (the reconcile creates a missing one)."""
        named = [m["source"] for m in list(declared.get("volume") or []) + list(declared.get("mount") or [])
                 if m.get("type") == "volume" and m.get("source")]
        if not named:
            return True
        if self._volumes is None:
            self._volumes = set(self.rt.state.names("volume"))
        return all(n in self._volumes for n in named)


def _run_state_holds(params: Mapping[str, Any], st: Mapping[str, Any]) -> bool:
    """The declared run state asks nothing of a container in state ``st`` (reconcile's _apply_run_state)."""
    state = params.get("state") or "started"
    status = st.get("status")
    if state == "started":
        return status == RUNNING
    if state == "stopped":
        return status not in (RUNNING, CREATED, PAUSED) and not (st.get("restarting") or st.get("restart_policy_match"))
    return True  # present / created: the run state is left as it is
