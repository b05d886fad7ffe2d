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
  - "A change recreates the container only when it must: O(memory), O(cpus), O(pids_limit) and
    O(restart_policy) are applied to the running container in place, O(stop_timeout) is only stored.
    The result's RV(actions) says what was done and why."
  - A tag that now points to another image (after a pull, or a new import under the same name) recreates
    the container, and the action says so. Use O(pull) to choose when the engine looks for a newer image.
author:
  - libpod.engine contributors (@libpod-engine)
extends_documentation_fragment:
  - libpod.engine.engine
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
options:
  name:
    description: Name of the container (unique among containers and pods).
    type: str
    required: true
  state:
    description:
      - V(started) creates the container if needed and makes sure it runs (an exited container is started).
        A container that exits right after the task started it is reported in a warning with its exit code
        and last log lines.
      - V(present) and V(created) create it without starting it; an existing one is updated or recreated
        and keeps its running state.
      - V(stopped) creates it if needed and makes sure it does not run.
      - V(restarted) starts it, or restarts it if it runs (always reports a change).
      - V(absent) stops and removes it.
      - V(healthy) converges like V(started), then waits (up to O(wait_healthy_timeout)) until the container's
        healthcheck passes; the task fails with the last check's exit code and output when it does not, or with
        the last log lines when the container exits. This is what makes C(serial) rolling updates safe.
    type: str
    choices: [present, created, started, stopped, restarted, absent, healthy]
    default: started
  image:
    description:
      - The image, as a local name (V(localhost/web:1), V(busybox) means V(busybox:latest)), an image ID,
        or a transport reference that the engine imports or pulls when needed
        (V(oci:/path/dir[:ref]), V(oci-archive:/path/file.tar[:ref]), V(docker-archive:/path/file.tar[:ref]),
        V(docker://registry:5000/name:tag)).
      - Required to create a container; may be omitted to act on an existing one.
    type: str
  pull:
    description:
      - When to fetch the image. V(missing) only when it is not in the local store, V(always) on every run
        (a moved tag then recreates the container), V(newer) when the source's digest differs from the
        local one, V(never) fails if the image is not local.
    type: str
    choices: [missing, always, newer, never]
    default: missing
  insecure_registry:
    description: Allow plain HTTP for a V(docker://) registry.
    type: bool
    default: false
  registry_username:
    description: User name for registry authentication (basic or bearer token).
    type: str
  registry_password:
    description: Password for registry authentication.
    type: str
  command:
    description:
      - Command (arguments to the entrypoint) as a list, or a string split like a shell would.
      - Omitted means the image's C(Cmd).
    type: raw
  entrypoint:
    description:
      - Entrypoint as a list or a string; V("") clears the image's entrypoint (and its C(Cmd)).
      - Omitted means the image's C(Entrypoint).
    type: raw
  env:
    description:
      - Environment variables, added to the image's. Values must be strings or numbers. An unquoted YAML
        boolean (V(true), V(false), V(yes), V(no), V(on), V(off)) is refused, because it is ambiguous
        (containers.podman passes V(False), a shell expects V(false)); quote it, e.g. C("false").
      - Values of O(env) are shown in results, diffs and C(container_info) like any option. Passwords and
        keys belong in the Secrets feature (M(libpod.engine.secret) and O(secrets)), not in O(env) or O(env_file).
    type: dict
  env_file:
    description:
      - A file of C(KEY=value) lines; O(env) wins over it. Its variables are compared, not its path.
      - Task results and diffs show the file's path, its variable names and a sha256 of the values, never the
        values (C(Config.Env) shows C(<from env_file>) for them); the container itself gets the values, and
        C(container_info) shows them as C(podman inspect) does.
    type: path
  label:
    description: Labels of the container.
    type: dict
    aliases: [labels]
  annotation:
    description: OCI annotations of the container.
    type: dict
    aliases: [annotations]
  workdir:
    description: Working directory inside the container; omitted means the image's or V(/).
    type: str
    aliases: [working_dir]
  user:
    description: User (and group) to run as, V(name), V(uid), V(name:group) or V(uid:gid), resolved in the
      image's C(/etc/passwd) and C(/etc/group).
    type: str
  hostname:
    description: Host name of the container; omitted means the first 12 characters of its ID.
    type: str
  oci_runtime:
    description: OCI runtime (a name of the C([engine.runtimes]) table, or an absolute path); omitted means
      the engine's default runtime.
    type: str
    aliases: [runtime]
  volume:
    description:
      - Bind mounts and named volumes, as C(SOURCE:DEST[:OPTIONS]) (SOURCE an absolute host path or a volume
        name; a named volume is created with default options when missing) or C(DEST) for an anonymous volume.
      - OPTIONS are comma separated from V(ro), V(rw), V(z), V(Z) (ignored without SELinux), V(U), V(copy),
        V(nocopy), V([r]shared), V([r]slave), V([r]private), V(exec), V(noexec), V(suid), V(nosuid),
        V(dev), V(nodev).
      - A named volume that is empty on first use gets a copy of the image's content at DEST (including
        setuid files; V(nocopy) prevents it) and the owner and mode of that image directory; see
        M(libpod.engine.volume).
      - Compared as a set keyed by the container path.
    type: list
    elements: str
    aliases: [volumes]
  mount:
    description: Mounts in podman's C(--mount) form (C(type=bind,source=/a,target=/b,ro)) or as dicts
      with the same keys.
    type: list
    elements: raw
    aliases: [mounts]
  tmpfs:
    description:
      - tmpfs mounts as C(DEST[:OPTIONS]) strings, or a dict of C(DEST) to C(OPTIONS), for example
        C(/run:size=64m,mode=1777).
    type: raw
  read_only:
    description: Mount the root filesystem read-only. Omitted means V(false).
    type: bool
  secrets:
    description:
      - Secrets of the engine (created with M(libpod.engine.secret)) given to the container, as podman's
        C(--secret). Each entry is a secret name, a podman-style string V(name,type=env,target=VAR), or a dict.
      - A V(mount) secret is a read-only file at its C(target), written into a tmpfs of its own at each
        start and bind-mounted from there, never into the container's root filesystem or layers.
      - An V(env) secret is the environment variable named by its C(target) of the container's process.
      - When a secret's data changes (M(libpod.engine.secret) with a new value), the next run of this module
        recreates the container with the reason C(secret NAME changed), so it sees the new value.
      - RV(container) shows the names and targets only (under C(Declared)), never the data.
      - "Keys of a dict entry: C(name) (required), C(type) (V(mount), the default, or V(env)), C(target)
        (for V(mount) the file's path, default C(/run/secrets/NAME), a relative path is under C(/run/secrets);
        for V(env) the variable's name, default the secret's name), and for V(mount) only C(uid) and C(gid)
        (numeric, default 0) and C(mode) (default V(0444))."
    type: list
    elements: raw
  shm_size:
    description: Size of C(/dev/shm), for example V(64m); omitted means the engine's default (C(shm_size)).
    type: raw
  network:
    description:
      - V(bridge) (the engine's default network), a network name or a list of them, V(host), V(none), or
        V(container:NAME) to join another container's network namespace.
      - Containers of a pod use the pod's network.
      - "A list entry may also be a dict (the long form): C(name) plus any of C(aliases) (names resolved
        to this container on that network), C(ip) (a static address), C(mac_address) and C(interface_name)
        (the interface inside the container; C(eth0), C(eth1), ... by position when omitted)."
      - "When only the list of bridge networks (or their settings) changes, a running container is connected
        or disconnected in place (as C(podman network connect)), keeping its process; RV(actions) says
        C(updated NAME in place: network). A change of the first network of a container with published ports
        recreates it."
    type: raw
    aliases: [net, network_mode]
  network_aliases:
    description: Extra names of the container on its first (or only) bridge network (podman's C(--network-alias)).
    type: list
    elements: str
    aliases: [network_alias]
  ip:
    description: Static IPv4 address on the first (or only) bridge network; kept across recreates.
    type: str
  ip6:
    description: Static IPv6 address; IPv6 networks are not supported yet, so giving it fails with a clear error.
    type: str
  mac_address:
    description: MAC address of the interface on the first (or only) bridge network (derived from the container
      ID when omitted).
    type: str
  publish:
    description:
      - Published ports, C([HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]), ranges as C(8000-8001:80-81), or
        C(CONTAINER_PORT) alone for a random host port (chosen once, and given again to a restart or a recreate
        of the container of that name while it is free). A host port that is taken fails before anything starts.
      - An IPv6 host address is written in brackets, C([::1]:8080:80), and is accepted by the syntax, but the
        port forwarding is IPv4 only for now, so starting the container fails with "IPv6 host addresses are
        not supported yet" (the new container is not kept).
      - Compared as a set.
    type: list
    elements: raw
    aliases: [ports, published_ports]
  dns:
    description: DNS servers for C(/etc/resolv.conf) (default the host's, without local resolvers).
    type: list
    elements: str
    aliases: [dns_servers]
  dns_search:
    description: DNS search domains; V(.) for none.
    type: list
    elements: str
    aliases: [dns_search_domains]
  dns_option:
    description: resolv.conf options.
    type: list
    elements: str
    aliases: [dns_opts]
  add_host:
    description: Extra C(/etc/hosts) entries as C(name:ip) strings, or a dict of names to IP addresses.
    type: raw
    aliases: [etc_hosts]
  pod:
    description:
      - Name of the pod the container joins. V(new:NAME) (as C(podman run --pod new:NAME)) creates the pod,
        with the pod module's defaults, when it is missing; it declares the same pod as V(NAME).
    type: str
  privileged:
    description: Give the container all capabilities and devices, and no masked paths. Omitted means V(false).
    type: bool
  cap_add:
    description: Capabilities to add to the default set (names with or without C(CAP_), or V(ALL)).
    type: list
    elements: str
    aliases: [capabilities]
  cap_drop:
    description: Capabilities to remove from the default set.
    type: list
    elements: str
  sysctl:
    description: Namespaced kernel parameters for the container.
    type: dict
    aliases: [sysctls]
  init:
    description: Run catatonit as PID 1 to reap zombies and forward signals. Omitted means V(false).
    type: bool
  tty:
    description: Allocate a pseudo terminal. Omitted means V(false).
    type: bool
  ulimit:
    description: Resource limits as C(name=soft[:hard]) (for example V(nofile=1024:2048)); values above the
      hard limit of the managed node are lowered to it with a warning (without CAP_SYS_RESOURCE no process
      can raise them); defaults are clamped the same way.
    type: list
    elements: str
    aliases: [ulimits]
  stop_signal:
    description: Signal to stop the container (name or number); omitted means the image's or SIGTERM.
    type: raw
  stop_timeout:
    description: Seconds to wait after the stop signal before SIGKILL; omitted means the engine's
      C(stop_timeout) (10). Changing it is stored without restarting the container.
    type: int
  timeout:
    description: Seconds to wait for a stop in this task (overrides O(stop_timeout) for this run only).
    type: int
  log_opt:
    description: Log options; C(max_size) truncates the k8s-file log past that size.
    type: dict
    aliases: [log_options]
  healthcheck:
    description:
      - Healthcheck command - a string runs through C(/bin/sh -c), a list is run as is (C(CMD)/C(CMD-SHELL)
        prefixes as in a Containerfile are accepted); V(NONE) disables the image's HEALTHCHECK.
      - Omitted, the image's HEALTHCHECK applies. A per-container monitor process (no daemon, no systemd) runs
        it through exec with the container's process spec; C(State.Health) in the returned container shows
        the status, failing streak and the last checks. Changing a healthcheck option recreates the container.
    type: raw
    aliases: [health_cmd]
  healthcheck_interval:
    description: Time between checks (V(30s), V(1m30s)); default the image's or V(30s).
    type: str
    aliases: [health_interval]
  healthcheck_timeout:
    description: Time a check may take before it counts as failed; default the image's or V(30s).
    type: str
    aliases: [health_timeout]
  healthcheck_start_period:
    description: Failures during this time after the start do not count; default the image's or V(0s).
    type: str
    aliases: [health_start_period]
  healthcheck_retries:
    description: Consecutive failures that make the container unhealthy; default the image's or 3.
    type: int
    aliases: [health_retries]
  healthcheck_on_failure:
    description: What the monitor does when the container is unhealthy (default V(none)).
    type: str
    choices: [none, kill, restart, stop]
    aliases: [health_on_failure]
  wait_healthy_timeout:
    description: Seconds O(state=healthy) waits for the container to become healthy.
    type: int
    default: 120
  memory:
    description: Memory limit (V(512m), V(1g) or bytes). Applied in place.
    type: raw
  cpus:
    description: Number of CPUs (CFS quota, for example V(1.5)). Applied in place.
    type: raw
  pids_limit:
    description: Maximum number of processes; V(0) or V(-1) for no limit. Applied in place.
    type: int
  restart_policy:
    description:
      - V(no), V(always), V(unless-stopped), V(on-failure) or V(on-failure:N). Applied by the engine's
        exit handler after the task has ended (no daemon needed); V(always) containers also come back on the
        next run of this module after a reboot, or at boot with C(runtime_config restart_on_boot).
      - A container that keeps exiting is restarted after a growing wait, as docker does (100 ms, doubling up
        to one minute, back to 100 ms after a run of 10 s or more); during the wait C(State.Restarting) of the result
        is true, and each restart is a C(restart) event with the wait. O(state=stopped) during the wait cancels
        the restart.
    type: str
    aliases: [restart_policy_name]
  recreate:
    description: Remove and create the container even if nothing changed (never idempotent).
    type: bool
    default: false
  force_restart:
    description: Restart the container even if nothing changed. A configuration change is still applied
      (it never hides a change).
    type: bool
    default: false
    aliases: [restart]
"""

EXAMPLES = r"""
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

- name: Preview a change
  libpod.engine.container:
    name: web
    image: localhost/busybox:latest
    command: [httpd, -f, -p, "8080", -h, /srv]
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

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import engine_argspec, run_reconcile
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container import reconcile_container
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS


def main():
    module = AnsibleModule(
        argument_spec=engine_argspec(OPTIONS.argument_spec()),
        supports_check_mode=True,
        mutually_exclusive=[("recreate", "force_restart")],
    )
    run_reconcile(module, reconcile_container)


if __name__ == "__main__":
    main()
