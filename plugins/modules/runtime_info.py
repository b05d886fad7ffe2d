#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: runtime_info
short_description: Facts about the libpod.engine container runtime on a host
version_added: 0.1.0
description:
  - Opens the engine's runtime the way every libpod.engine module does (configuration, conmon and
    OCI runtime discovery, state database, reboot detection) and returns what it found, like
    C(podman info).
  - On the first call after a reboot the engine refreshes its state (containers are marked as not
    running, per-boot files are recreated); the return value C(info.refreshed) tells.
  - Like every C(*_info) module it creates nothing for an engine root that does not exist yet (no
    state database, no directories) and reports the paths and defaults such a root would get.
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
options: {}
"""

EXAMPLES = r"""
- name: Show the OCI runtime the engine will use
  libpod.engine.runtime_info:
  register: engine

- name: Print it
  ansible.builtin.debug:
    msg: "{{ engine.info.default_runtime.name }} at {{ engine.info.default_runtime.path }}"

- name: Use another state directory for this task only
  libpod.engine.runtime_info:
    engine_options:
      engine:
        static_dir: /srv/engine
        tmp_dir: /run/engine-srv
"""

RETURN = r"""
info:
  description: The engine's view of the host.
  returned: success
  type: dict
  contains:
    version:
      description: Version of the engine.
      type: str
      sample: 0.1.0
    host:
      description:
        - Kernel, architecture, cgroup mode and manager, the caller's rlimits (soft, hard).
        - C(id_mappings) holds the subordinate UID and GID ranges /etc/subuid and /etc/subgid grant the caller.
      type: dict
      sample: {"cgroup_mode": "hybrid", "cgroup_manager": "cgroupfs", "rlimits": {"nofile": [1024, 20000]}}
    conmon:
      description: Path and version of the conmon the engine found.
      type: dict
      sample: {"path": "/usr/bin/conmon", "version": "2.1.6"}
    oci_runtimes:
      description: OCI runtimes found from the C([engine.runtimes]) table, with path, version and notes.
      type: dict
    default_runtime:
      description: The runtime new containers use, and why (for example crun in a private mount namespace
        on a cgroup v1+v2 hybrid host).
      type: dict
      sample: {"name": "runc", "path": "/usr/sbin/runc", "note": ""}
    oci_runtime_choice_reason:
      description: Why the default runtime is the one it is (set in containers.conf, or the first installed
        in the preference order; on a cgroup v1+v2 hybrid host runc is preferred over crun, which needs a
        private mount namespace per call there and is slower).
      type: str
      sample: "runc: crun needs a private mount namespace per call on this cgroup v1+v2 hybrid host, ..."
    store:
      description: Paths in use (static dir, tmp dir, graph root, run root, volume path, DB), lock and events setup,
        and C(overlay), the overlay new containers are mounted with, C(kind) C(native) or C(fuse-overlayfs)
        (empty for vfs), its C(mount_program) and the C(reason) (C([storage] mount_program), or native
        overlay refused by the kernel).
      type: dict
      sample: {"graph_driver": "overlay", "overlay": {"kind": "native", "mount_program": "", "reason": ""}}
    db_config:
      description: The paths recorded in the state database on first use (libpod's DB config record).
      type: dict
      sample: {"static_dir": "/var/lib/libpod-engine", "tmp_dir": "/run/libpod-engine", "graph_driver": "overlay"}
    config_files:
      description: The containers.conf files that were read, in order.
      type: list
      elements: str
    counts:
      description: Number of containers, pods, volumes, images and networks.
      type: dict
    refreshed:
      description: Whether this call detected a reboot (no alive file) and refreshed the state.
      type: bool
    rootless:
      description: Whether the engine runs rootless (the module ran as an unprivileged user, for example with
        C(become_user)); such a user has its own engine root below its home and runtime dir.
      type: bool
    rootless_user:
      description: Rootless only (null as root). The user's uid, home, runtime dir (C(XDG_RUNTIME_DIR) or its
        fallback), its own containers.conf, the pause process holding its user namespace (pid and pid file),
        and the namespace's C(uidmap)/C(gidmap) as C(INSIDE:OUTSIDE:COUNT). C(cgroup) says where its containers'
        cgroups go on cgroup v2 (C(parent), below the cgroup delegated to the user, and its C(controllers)), or
        an empty C(parent) and the C(reason) there are none (cgroup v1 or hybrid, or no delegation; limits are
        ignored with that warning).
      type: dict
      sample: {"uid": 1000, "runtime_dir": "/run/user/1000", "pause_pid": 4242,
               "uidmap": ["0:1000:1", "1:100000:65536"], "gidmap": ["0:1000:1", "1:100000:65536"]}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import engine_argspec, run_info


def main():
    module = AnsibleModule(argument_spec=engine_argspec({}), supports_check_mode=True)
    # the facts of a real open (refresh after a reboot included), in check mode too
    run_info(module, lambda rt, params: {"info": rt.info()}, read_only=False)


if __name__ == "__main__":
    main()
