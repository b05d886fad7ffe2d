#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: container
short_description: Manage containers run by the libpod.engine runtime (conmon + runc/crun, no daemon)
version_added: 0.1.0
description:
  - Creates, starts, stops, restarts, updates and removes containers on the managed node. The engine is a
    Python re-implementation of podman's libpod. It keeps its own state database and starts each container
    through conmon and an OCI runtime (runc or crun). No podman, docker or other daemon is used.
  - "Idempotency: the normalised spec declared by the task is stored with the container. A re-run compares
    declared with declared, exactly (case preserved, lists in order where order matters, dicts as dicts).
    An omitted option always means its default, so removing an option from a task is a change back to the
    default."
  - "A change recreates the container only when it must: O(memory), O(cpus), O(pids_limit), O(cpu_shares),
    O(cpu_period), O(cpu_quota), O(cpu_rt_period), O(cpu_rt_runtime), O(cpuset_cpus), O(cpuset_mems),
    O(memory_reservation), O(memory_swap), O(blkio_weight) and O(restart_policy) are applied to the running
    container in place, O(stop_timeout) is only stored.
    The result's RV(actions) says what was done and why."
  - A tag that now points to another image (after a pull, or a new import under the same name) recreates
    the container, and the action says so. Use O(pull) to choose when the engine looks for a newer image.
author:
  - libpod.engine contributors (@libpod-engine)
extends_documentation_fragment:
  - libpod.engine.engine
  - libpod.engine.container_options
  - libpod.engine.engine.ACTIONGROUP
attributes:
  check_mode:
    support: full
    details:
      - Nothing is pulled, written or started; RV(actions) lists what would be done.
      - What the real run would refuse and can be seen without side effects fails in check mode too, and
        before any change in a real run. That is a missing bind-mount source, a publish host IP that is not
        on the host, a user the image's C(/etc/passwd) lacks, a command that is not in the image (the image
        checks need the image present locally).
  diff_mode:
    support: full
    details: C(before) and C(after) hold exactly the options that differ, as structured values.
"""

EXAMPLES = r"""
# example-test: skip (needs the registry registry.example.com)
- name: Rolling update, one host at a time, each one healthy before the next (in a play with serial - 1)
  libpod.engine.container:
    name: api
    image: registry.example.com/api:2.4.1
    publish: ["8080:8080"]
    healthcheck: wget -q -O /dev/null http://127.0.0.1:8080/health
    healthcheck_interval: 5s
    healthcheck_retries: 3
    state: healthy
    wait_healthy_timeout: 90

- name: Import an image made without a registry and run a web server
  libpod.engine.container:
    name: web
    image: oci-archive:/srv/images/busybox.tar:localhost/busybox:latest
    command: [httpd, -f, -p, "8080", -h, /srv]
    volume:
      - /srv/site:/srv:ro
    publish:
      - 127.0.0.1:18080:8080
    restart_policy: always
    memory: 64m

# example-test: unchanged
- name: Same task again changes nothing
  libpod.engine.container:
    name: web
    image: oci-archive:/srv/images/busybox.tar:localhost/busybox:latest
    command: [httpd, -f, -p, "8080", -h, /srv]
    volume:
      - /srv/site:/srv:ro
    publish:
      - 127.0.0.1:18080:8080
    restart_policy: always
    memory: 64m

# example-test: diff (env)
- name: Preview a change (the same task with env added; the diff shows only env)
  libpod.engine.container:
    name: web
    image: oci-archive:/srv/images/busybox.tar:localhost/busybox:latest
    command: [httpd, -f, -p, "8080", -h, /srv]
    volume:
      - /srv/site:/srv:ro
    publish:
      - 127.0.0.1:18080:8080
    restart_policy: always
    memory: 64m
    env:
      MODE: production
  check_mode: true
  diff: true
  register: preview

- name: Stop it
  libpod.engine.container:
    name: web
    state: stopped

- name: Remove it
  libpod.engine.container:
    name: web
    state: absent
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), with the reason.
  returned: always
  type: list
  elements: str
  sample: ["pulled image localhost/busybox:latest", "recreated: env, publish changed", "started"]
container:
  description: The container after the task, inspect-like; empty when it is absent.
  returned: always
  type: dict
  contains:
    Id:
      description: Container ID.
      type: str
    Name:
      description: Container name.
      type: str
    State:
      description: Status (created, initialized, running, stopped, exited, ...), Running, Paused, Restarting,
        Pid, ExitCode, Error, OOMKilled, StartedAt, FinishedAt, RestartCount.
      type: dict
    Config:
      description: Image (the image name, not a transport reference), Cmd, Entrypoint, Env, Labels,
        WorkingDir, User, Hostname, StopSignal. Effective values as podman inspect shows them, merged from
        the image and the container (Env also holds the engine's defaults, Labels the image's labels).
      type: dict
    HostConfig:
      description: Binds, PortBindings, NetworkMode, Privileged, ReadonlyRootfs, CapAdd, CapDrop, Memory,
        NanoCpus, PidsLimit, RestartPolicy, Ulimits, LogConfig, ShmSize, SecurityOpt.
      type: dict
    Mounts:
      description: The container's mounts (Type, Name, Source, Destination, Driver, Mode, Options, RW,
        Propagation); a named volume's Source is its host path, its name is in Name.
      type: list
    NetworkSettings:
      description: IP addresses (IPAddress, IPPrefixLen, Gateway, MacAddress, Bridge), published ports.
      type: dict
    Image:
      description: The image ID the container was created from.
      type: str
    ImageName:
      description: The image's name (as Config.Image).
      type: str
    ImageDigest:
      description: The image's manifest digest.
      type: str
    ResolvConfPath:
      description: The container's resolv.conf on the host (HostsPath, HostnamePath likewise).
      type: str
    Declared:
      description:
        - The normalised spec the container was created (or last updated) with.
        - C(env_file) is shown as C(path), C(keys) and C(sha256), never with its values.
      type: dict
  sample: {"Id": "5f2c...", "Name": "web", "State": {"Status": "running", "Running": true}}
diff:
  description: With C(--diff), the options that differ before and after.
  returned: when diff mode is on and something differs
  type: dict
  sample: {"before": {"env": {"MODE": "debug"}}, "after": {"env": {"MODE": "production"}}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import (
    engine_argspec,
    engine_import,
    run_reconcile,
)

reconcile_container = engine_import("reconcile.container").reconcile_container
OPTIONS = engine_import("reconcile.container_options").OPTIONS


def main():
    module = AnsibleModule(
        argument_spec=engine_argspec(OPTIONS.argument_spec()),
        supports_check_mode=True,
        mutually_exclusive=[("recreate", "force_restart")],
    )
    run_reconcile(module, reconcile_container)


if __name__ == "__main__":
    main()
