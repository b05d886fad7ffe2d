#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: system_reset
short_description: Remove every container, pod, volume, image and network of the libpod.engine runtime, and its files
version_added: 0.1.0
description:
  - Resets the engine to its state before first use, as C(podman system reset) does. In podman's order it
    removes all pods, all containers (running ones are stopped first, with their stop timeout or
    O(timeout)), all volumes, all secrets (a V(shell) driver's C(delete) command runs for each), all
    images and all networks with their bridges, nftables chains and network namespaces. Then it removes
    the state database, the static dir, the graph root, the run root, the volume path and the tmp dir
    with the lock file.
  - Mounts below those directories are unmounted first (the shared bind mount of C(<tmp_dir>/netns)
    too), and the exit handlers of the removed containers are given time to finish. A directory that
    still has a mount below it is not deleted, and the task fails naming it.
  - Paths equal to C(/), to C($XDG_RUNTIME_DIR), to a system directory such as C(/var/lib) or C(/usr/bin), or to
    an ancestor of one (C(/usr)) are refused before anything is removed. Paths are compared after resolving
    symbolic links on both sides, so C(/bin) is refused on a merged-C(/usr) host (it is C(/usr/bin)).
  - Works when the state database is damaged, is another program's database, or is empty or missing while
    the engine's directories still hold containers, layers or volumes (every other module refuses to run then,
    naming the file and this module). As podman 4 does, the reset then removes the engine's directories
    without the database's list of objects; runtime containers it finds under the tmp dir are killed and
    deleted first and listed as C(not in the state DB) in RV(removed.containers). A warning says why.
  - Works when the engine's configuration no longer matches the paths recorded in its database (the DB
    config record). The configured paths are removed and a warning names the recorded ones, as podman does.
  - The containers.conf files are not touched (use M(libpod.engine.runtime_config)), and nor is the boot
    unit.
author:
  - libpod.engine contributors (@libpod-engine)
extends_documentation_fragment:
  - libpod.engine.engine
  - libpod.engine.engine.ACTIONGROUP
attributes:
  check_mode:
    support: full
    details: Nothing is removed. RV(removed) lists exactly what would be removed, with RV(counts). O(confirm) is
      not needed in check mode.
  diff_mode:
    support: none
options:
  confirm:
    description:
      - Must be V(true) for anything to be removed. Without it the task fails and lists what would be removed
        (unless there is nothing to remove).
    type: bool
    default: false
  timeout:
    description: Seconds to wait after the stop signal before SIGKILL when stopping running containers.
      Omitted means each container's own stop timeout.
    type: int
"""

EXAMPLES = r"""
- name: See what a reset would remove
  libpod.engine.system_reset:
  check_mode: true
  register: preview

- name: Remove everything the engine has
  libpod.engine.system_reset:
    confirm: true
    timeout: 5

- name: Reset an engine whose paths were given as task options
  libpod.engine.system_reset:
    confirm: true
    engine_options:
      engine:
        static_dir: /srv/engine
        tmp_dir: /run/engine-srv
"""

RETURN = r"""
removed:
  description: What was removed (in check mode, what would be), by kind. C(running) are the containers that
    were stopped first; C(processes) are helper processes (conmon, exit handlers) that had to be killed
    (in check mode, those that exist).
  returned: always
  type: dict
  contains:
    containers:
      description: Container names.
      type: list
      elements: str
    pods:
      description: Pod names.
      type: list
      elements: str
    volumes:
      description: Volume names.
      type: list
      elements: str
    secrets:
      description: Secret names.
      type: list
      elements: str
    images:
      description: Image IDs (12 characters) with their names.
      type: list
      elements: str
    networks:
      description: Network names.
      type: list
      elements: str
    netns:
      description: Network namespace files.
      type: list
      elements: str
    nft_chains:
      description: nftables chains (and the engine's table when it was left empty).
      type: list
      elements: str
    mounts:
      description: Mount points below the engine's directories.
      type: list
      elements: str
    paths:
      description: Files and directories deleted (the DB, the lock file, the engine's directories).
      type: list
      elements: str
  sample: {"containers": ["web"], "volumes": ["data"], "images": ["0f3e1a2b3c4d (localhost/busybox:latest)"],
           "networks": ["engine"], "paths": ["/var/lib/libpod-engine/state.db", "/var/lib/libpod-engine"]}
counts:
  description: Number of entries of each list of RV(removed).
  returned: always
  type: dict
  sample: {"containers": 1, "volumes": 1, "images": 1, "networks": 1}
plan:
  description: What was found before the reset (same shape as RV(removed)); differs from RV(removed) only when
    something could not be removed.
  returned: when something was removed
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import (
    EngineError,
    engine_argspec,
    engine_import,
    fail,
    open_runtime,
)

admin = engine_import("engine.ops.admin")
open_session = engine_import("engine.ops.session").open_runtime
OpenOptions = engine_import("engine.runtime").OpenOptions


def _summary(counts):
    parts = ["%d %s" % (n, k) for k, n in counts.items() if n and k not in ("running", "processes")]
    return ", ".join(parts) or "nothing"


def main():
    module = AnsibleModule(
        argument_spec=engine_argspec({
            "confirm": {"type": "bool", "default": False},
            "timeout": {"type": "int"},
        }),
        supports_check_mode=True,
    )
    p = module.params
    if p["timeout"] is not None and p["timeout"] < 0:
        module.fail_json(msg="timeout: must be 0 or more seconds, got %d" % p["timeout"])
    # read-only, as a reset opens (a DB config mismatch is a warning): only the plan
    rt = open_runtime(module, reset=True, read_only=True)
    try:
        plan = admin.reset_plan(rt)
    except EngineError as err:
        fail(module, err)
    finally:
        rt.shutdown()
    if admin.plan_is_empty(plan):
        module.exit_json(changed=False, removed=plan, counts=plan.pop("counts"))
    counts = plan.pop("counts")
    if module.check_mode:
        module.exit_json(changed=True, removed=plan, counts=counts)
    if not p["confirm"]:
        module.fail_json(msg="confirm: system_reset removes everything the engine has (%s); set confirm: true "
                             "to do it, or run the task in check mode to see the list" % _summary(counts),
                         removed={}, plan=plan, counts=counts, error_kind="invalid_argument")
    try:  # the warnings of this open were given by the first one
        rt = open_session(OpenOptions(overrides=p["engine_options"] or {}, reset=True, stop_timeout=p["timeout"]))
    except EngineError as err:
        fail(module, err, removed={}, plan=plan, counts=counts)
    rt.shutdown()
    result = rt.admin_result or {}
    for warning in result.get("warnings", []):
        module.warn(warning)
    removed = result.get("removed", {})
    removed["running"] = plan.get("running", [])
    out = {"changed": True, "removed": removed, "counts": {k: len(v) for k, v in removed.items()}, "plan": plan}
    if result.get("problems"):
        module.fail_json(msg="system reset incomplete: %s" % "; ".join(result["problems"]), **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
