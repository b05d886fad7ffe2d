#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: runtime_config
short_description: Manage the containers.conf of the libpod.engine runtime, renumber locks, migrate runtimes
version_added: 0.1.0
description:
  - Sets or removes keys of the engine's containers.conf. The file is edited in place with tomlkit, so the
    comments, the key order and the formatting of a file edited by hand survive; only the keys named in
    O(settings) change.
  - The change is validated before anything is written. Every value must match the engine's configuration
    schema. The default OCI runtime must be installed (by name from C([engine.runtimes]), or an absolute
    path) and conmon must be found. C(default_ulimits) may not exceed this host's hard limits, and
    C(num_locks) must leave a lock for every container, pod and volume.
  - A change of a path recorded in the engine's DB config record (C(static_dir), C(tmp_dir),
    C(volume_path), C(graph_root), C(run_root), C(graph_driver)) is refused while containers, pods,
    volumes, images or networks exist, because they would be orphaned or the recorded value would keep
    winning. Set O(reset) to remove everything first. Without objects the change is made, and a DB config
    record that would override the new value is cleared so the new paths are used.
  - Also renumbers the lock of every object (O(renumber), needed after a C(num_locks) change), moves
    containers to another OCI runtime (O(migrate_runtime)), and installs a systemd unit that starts
    C(restart_policy=always) containers at boot (O(restart_on_boot)).
  - Returns the effective merged configuration and, for every key, where its value came from.
author:
  - libpod.engine contributors (@libpod-engine)
extends_documentation_fragment:
  - libpod.engine.engine
  - libpod.engine.engine.ACTIONGROUP
attributes:
  check_mode:
    support: full
    details: Nothing is written, reset, renumbered, migrated or installed. The checks run as for a real run,
      and RV(actions), RV(renumber) and RV(migrate) say what would be done.
  diff_mode:
    support: full
    details: A text diff of the file (C(before) and C(after) are its whole text).
options:
  path:
    description:
      - The containers.conf file to edit.
      - Omitted means the file named by the environment variable C(LIBPOD_ENGINE_CONF) when it is set
        (the engine then reads only that file), else C(/etc/libpod-engine/containers.conf).
      - A file that the engine does not read (not in its configuration chain) is edited with a warning.
    type: path
  settings:
    description:
      - Keys to set, as a dict of sections (V(engine), V(containers), V(network), V(storage)), each a dict of
        keys and values (see EXAMPLES).
      - A value replaces the key's whole value (a list or a table such as C(runtimes) is not merged).
        A null value removes the key (as O(state=absent) does).
      - Unknown sections and keys are errors. Strings that hold numbers or booleans for integer or boolean keys
        are converted.
    type: dict
    default: {}
  state:
    description:
      - V(present) sets the keys of O(settings) to their values.
      - V(absent) removes the keys named in O(settings) (their values are ignored, a list of key names per
        section is accepted too), so the engine's defaults or other files apply again.
    type: str
    choices: [present, absent]
    default: present
  reset:
    description:
      - Allow a change of a DB-recorded path while objects exist. Everything the engine has is removed
        first, with the old paths, as M(libpod.engine.system_reset) does; then the file is written.
      - Only used when such a change needs it. Cannot be combined with O(renumber).
    type: bool
    default: false
  renumber:
    description:
      - After writing the file, give every container, pod and volume a new lock number, 0 to n-1 in creation
        order (C(podman system renumber)). Needed after C(num_locks) was changed. No change when the numbers
        are already those.
      - Refused while containers are running unless O(force) is set. Refused when C(num_locks) is below
        the number of objects.
    type: bool
    default: false
  force:
    description: Renumber locks even while containers run (their exit handlers then use the new numbers).
    type: bool
    default: false
  migrate_runtime:
    description:
      - Move every container to this OCI runtime (a name of the C([engine.runtimes]) table, or the default
        runtime's absolute path), as C(podman system migrate --new-runtime) does. Running containers are
        stopped, moved and started again. Containers already on it are left alone.
      - The default runtime for new containers is C([engine] runtime) in O(settings).
    type: str
  timeout:
    description: Seconds to wait after the stop signal before SIGKILL when O(migrate_runtime) or O(reset)
      stops containers. Omitted means each container's own stop timeout.
    type: int
  restart_on_boot:
    description:
      - V(true) installs (and enables) a systemd service that, at boot, refreshes the engine's state and starts
        the containers with C(restart_policy=always), as podman-restart.service does. V(false) removes it.
        Omitted leaves it as it is.
      - Only where systemd is PID 1. Elsewhere nothing is changed and a warning gives the whole command line
        to run from the host's own init system at boot instead (also in C(boot_unit.boot_command)).
    type: bool
notes:
  - The DB config record and the objects are read directly from the state database, so this module
    works even when the current configuration cannot open the engine.
"""

EXAMPLES = r"""
- name: Raise the number of locks and renumber them
  libpod.engine.runtime_config:
    settings:
      engine:
        num_locks: 4096
    renumber: true

- name: Use crun for new containers and move the existing ones to it
  libpod.engine.runtime_config:
    settings:
      engine:
        runtime: crun
    migrate_runtime: crun

- name: Preview a change as a text diff
  libpod.engine.runtime_config:
    settings:
      containers:
        pids_limit: 4096
        default_ulimits: ["nofile=1024:4096"]
  check_mode: true
  diff: true

- name: Go back to the default stop timeout
  libpod.engine.runtime_config:
    settings:
      engine: [stop_timeout]
    state: absent

# example-test: warns (the test host has no systemd as PID 1)
- name: Start restart_policy=always containers at boot (without systemd - a warning with the command to run)
  libpod.engine.runtime_config:
    restart_on_boot: true
"""

RETURN = r"""
file:
  description: The file that was edited (or would be).
  returned: always
  type: str
  sample: /etc/libpod-engine/containers.conf
changes:
  description: One line per key that was set or removed.
  returned: always
  type: list
  elements: str
  sample: ["set [engine] num_locks = 4096 (was 2048)"]
actions:
  description: Everything that was done (or would be done in check mode).
  returned: always
  type: list
  elements: str
  sample: ["wrote /etc/libpod-engine/containers.conf", "renumbered locks of 3 objects"]
config:
  description: The effective configuration after the task (defaults, files, task options and the DB config
    record merged), by section and key.
  returned: success
  type: dict
  sample: {"engine": {"num_locks": 4096, "runtime": "crun"}, "storage": {"graph_driver": "overlay"}}
sources:
  description: For every key of RV(config), where its value comes from, a file path, V(default),
    V(option) (O(engine_options)) or V(database) (the DB config record).
  returned: success
  type: dict
  sample: {"engine": {"num_locks": "/etc/libpod-engine/containers.conf", "runtime": "default"}}
config_files:
  description: The containers.conf files the engine reads, in order.
  returned: success
  type: list
  elements: str
db_config:
  description: The DB config record the engine will use (paths recorded on first use), if there is one.
  returned: success
  type: dict
renumber:
  description: With O(renumber), the objects whose lock number changed, C(num_locks) and the number of objects.
  returned: when O(renumber) is set
  type: dict
  sample: {"num_locks": 4096, "objects": 3, "changes": [{"kind": "container", "name": "web", "old": 7, "new": 0}]}
migrate:
  description: With O(migrate_runtime), the containers moved, those that were stopped and started again,
    and the runtime each came from.
  returned: when O(migrate_runtime) is set
  type: dict
  sample: {"runtime": "crun", "migrated": ["web", "db"], "restarted": ["web"], "from": {"web": "runc"}}
boot_unit:
  description: With O(restart_on_boot), the unit name and path, whether systemd is PID 1, whether the unit is
    installed, and a message; without systemd also C(boot_command), the argv the unit would run at boot.
  returned: when O(restart_on_boot) is set
  type: dict
  sample: {"unit": "libpod-engine-restart.service", "installed": false, "systemd": false}
reset:
  description: With O(reset) when a reset was needed, what was removed (as M(libpod.engine.system_reset)).
  returned: when a reset was done or planned
  type: dict
diff:
  description: With C(--diff), the file's text before and after.
  returned: when diff mode is on and the file changes
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

reconcile_runtime_config = engine_import("reconcile.runtime_config").reconcile_runtime_config


def main():
    module = AnsibleModule(
        argument_spec=engine_argspec({
            "path": {"type": "path"},
            "settings": {"type": "dict", "default": {}},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "reset": {"type": "bool", "default": False},
            "renumber": {"type": "bool", "default": False},
            "force": {"type": "bool", "default": False},
            "migrate_runtime": {"type": "str"},
            "timeout": {"type": "int"},
            "restart_on_boot": {"type": "bool"},
        }),
        supports_check_mode=True,
        mutually_exclusive=[("reset", "renumber")],
    )
    out = {}
    try:
        warnings = reconcile_runtime_config(module.params, out, check=module.check_mode, diff=module._diff,
                                            open_rt=lambda **kw: open_runtime(module, **kw))
    except EngineError as err:
        fail(module, err, **out)
        return  # fail_json exits; this keeps the flow explicit
    for warning in warnings:
        module.warn(warning)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
