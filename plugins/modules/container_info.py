#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: container_info
short_description: Inspect containers of the libpod.engine runtime
version_added: 0.1.0
description:
  - Returns inspect-like data of one, several or all containers, with their state read back from conmon's
    exit files (a container that exited after the last task shows as exited, with its code).
  - Optionally returns the last lines of each container's log.
author:
  - libpod.engine contributors (@libpod-engine)
extends_documentation_fragment:
  - libpod.engine.engine
  - libpod.engine.engine.ACTIONGROUP
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  name:
    description: Names or IDs of the containers; all containers when omitted. Unknown names are skipped and
      listed in RV(missing).
    type: list
    elements: str
  log_lines:
    description: Return the last N lines of each container's log (0 for none; with O(since), 0 means all
      lines since then).
    type: int
    default: 0
  since:
    description:
      - Return only log lines written at or after this time, as C(podman logs --since) - an RFC3339 time
        (C(2024-05-01T10:00:00Z)), a date, epoch seconds, or a duration before now such as C(10m) or C(1h30m).
      - Setting it returns the logs (the C(logs) key of each container) even when O(log_lines) is 0.
    type: str
    version_added: 0.2.0
"""

EXAMPLES = r"""
- name: All containers
  libpod.engine.container_info:
  register: all_containers

- name: One container with its last 20 log lines
  libpod.engine.container_info:
    name: web
    log_lines: 20
  register: web

- name: What the container logged in the last ten minutes
  libpod.engine.container_info:
    name: web
    since: 10m
  register: recent

- name: Print its state
  ansible.builtin.debug:
    msg: "{{ web.containers[0].State.Status }} {{ web.containers[0].logs | map(attribute='line') | list }}"
"""

RETURN = r"""
containers:
  description: Inspect-like data of each container found (see the C(container) return value of
    M(libpod.engine.container)).
  returned: always
  type: list
  elements: dict
  sample: [{"Id": "5f2c...", "Name": "web", "State": {"Status": "running", "Running": true, "ExitCode": 0}}]
missing:
  description: Requested names that matched no container.
  returned: always
  type: list
  elements: str
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import (
    engine_argspec,
    engine_import,
    run_info,
    select,
)

NoSuchContainer = engine_import("engine.base.errors").NoSuchContainer
find_container = engine_import("engine.objects.container").find_container
list_containers = engine_import("engine.objects.container").list_containers
parse_since = engine_import("engine.oci.logs").parse_since
shown_inspect = engine_import("reconcile.container").shown_inspect


def main():
    module = AnsibleModule(
        argument_spec=engine_argspec({
            "name": {"type": "list", "elements": "str"},
            "log_lines": {"type": "int", "default": 0},
            "since": {"type": "str"},
        }),
        supports_check_mode=True,
    )
    if module.params["log_lines"] < 0:
        module.fail_json(msg="log_lines: must be 0 or more, got %d" % module.params["log_lines"])
    if module.params["since"] is not None:
        try:
            module.params["since"] = parse_since(module.params["since"], time.time())
        except ValueError as e:
            module.fail_json(msg="since: %s" % e)
    run_info(module, collect)


def collect(rt, params):
    seen = len(rt.warnings)  # shown by the open already
    ctrs, missing = select(params["name"], lambda ref: find_container(rt, ref), lambda: list_containers(rt))
    out = []
    for ctr in ctrs:
        if not rt.read_only:
            try:
                with ctr.locked():
                    ctr.sync()
            except NoSuchContainer:
                # removed since it was found (an auto_remove's exit command, another task): missing,
                # as if the task had run a moment later, not a failed task
                if params["name"]:
                    missing.append(next((r for r in params["name"] if r in (ctr.name, ctr.id)
                                         or ctr.id.startswith(r)), ctr.name))
                continue
        data = shown_inspect(ctr)  # as the container module shows it (env_file values hidden)
        if params["since"] is not None:
            data["logs"] = ctr.logs(params["log_lines"] or None, since=params["since"])
        elif params["log_lines"]:
            data["logs"] = ctr.logs(params["log_lines"])
        out.append(data)
    # found while syncing (e.g. an exit command that could not run)
    return {"containers": out, "missing": missing, "warnings": rt.warnings[seen:]}


if __name__ == "__main__":
    main()
