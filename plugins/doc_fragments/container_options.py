# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """The options of the container module (ansible-doc and the docs pages merge them in).

    Here, not in plugins/modules/container.py, because the module file is what every task of it carries
    to the managed node and compiles there; this text is read only by ansible-doc and
    ansible-test (issue 20).
    """

    DOCUMENTATION = r"""
options:
  name:
    description: Name of the container (unique among containers and pods).
    type: str
    required: true
  state:
    description:
      - V(started) creates the container if needed and makes sure it runs (an exited container is started).
        A container that exits right after the task started it is reported in a warning with its exit code
        and last log lines. Right after means before its processes first all wait for something (a timer,
        a socket, input), or within 0.2 s while they keep busy; the task does not wait longer than that.
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
      - A short name that is not in the local store (V(nginx)) is pulled through registries.conf (aliases,
        C(unqualified-search-registries), mirrors, blocked registries; see the user guide's Registries section),
        with the logins of M(libpod.engine.login) unless O(registry_username) is given.
      - Required to create a container; may be omitted to act on an existing one.
      - With O(rootfs=true), the absolute path of a directory of the managed host holding the container's root
        filesystem (see O(rootfs)).
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
  cert_dir:
    description:
      - A directory with the registry's CA certificates (C(*.crt)) and client certificates (C(*.cert) with C(*.key))
        for pulls of this task, as podman's C(--cert-dir).
      - Omitted means C(<dir>/<host:port>/) of C(/etc/libpod-engine/certs.d), C(/etc/containers/certs.d) or
        C(/etc/docker/certs.d). O(insecure_registry) turns verification off.
    type: path
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
      - A list of files is read in order, a later file winning (as the peer's O(env_file) list).
    type: list
    elements: path
    aliases: [env_files]
  env_host:
    description:
      - Pass the environment of the module process (the managed host's, with the task's C(environment:)) to the
        container, below the image's C(Env) and O(env), as podman C(--env-host). Captured when the container is
        created; only the option itself is compared.
      - Omitted means V(false).
    type: bool
  http_proxy:
    description:
      - Pass the proxy variables of the module process (C(http_proxy), C(https_proxy), C(ftp_proxy),
        C(no_proxy) and their upper-case forms) to the container, as podman does by default.
      - Omitted means V(true).
    type: bool
  env_merge:
    description:
      - Variables whose values may refer to the environment the container would have without them
        (V(${PATH}) or V($PATH), from the image, containers.conf and the engine), for example C(PATH=/opt/bin:${PATH}).
    type: dict
  unsetenv:
    description:
      - Variables removed from the default environment (the engine's C(PATH), C(TERM), C(container), C(HOSTNAME),
        C(HOME), containers.conf C(env), the image's C(Env), O(env_host)); O(env) and O(env_file) still set them.
    type: list
    elements: str
  unsetenv_all:
    description:
      - Remove every default variable (see O(unsetenv)); only O(env), O(env_file) and O(env_merge) remain.
      - Omitted means V(false).
    type: bool
  label_file:
    description:
      - A file of C(key=value) lines read when the task runs; O(label) wins over it. The labels are compared, not
        the path.
    type: str
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
  requires:
    description:
      - Containers (names or IDs) started before this one whenever it starts (podman C(--requires)); a missing
        one fails the start. O(delete_depend) removes this container with them.
    type: list
    elements: str
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
      with the same keys. Types C(bind), C(volume), C(tmpfs) and C(devpts) (a new devpts instance, for example
      C(type=devpts,destination=/dev/pts), options C(uid), C(gid), C(mode), C(max)).
    type: list
    elements: raw
    aliases: [mounts]
  tmpfs:
    description:
      - tmpfs mounts as C(DEST[:OPTIONS]) strings, or a dict of C(DEST) to C(OPTIONS), for example
        C(/run:size=64m,mode=1777).
    type: raw
  volumes_from:
    description:
      - Mount the volumes and bind mounts of other containers (C(NAME[:ro|rw])) at their paths; C(ro) makes
        them read-only. The source container must exist when this one is created.
    type: list
    elements: str
  image_volume:
    description:
      - What the image's C(VOLUME)s become where the task mounts nothing. V(bind) an anonymous volume (copied
        up from the image, removed with the container), V(tmpfs) a tmpfs, V(ignore) nothing (the image's
        directory as is), as podman C(--image-volume).
      - Omitted means V(bind).
    type: str
    choices: [bind, tmpfs, ignore]
  rootfs:
    description:
      - Run the container from an exploded root filesystem, a directory of the managed host named by O(image)
        (podman's C(--rootfs)). V(/path) uses the directory as the container's root, so the container's writes
        land in it; V(/path:O) mounts an overlay over it whose upper directory belongs to the container (writes
        are dropped with the container, the directory is not changed).
      - The directory must exist, and every directory of its path must be owned by root and not writable by
        group or others (the rule of the engine's own paths); symlinks are resolved and the target checked.
      - The path is compared as written (normalised); another path recreates the container, the same path is
        no change whatever the directory holds. There is no image config (command, env, user come from the task).
      - Cannot be combined with O(userns), O(uidmap), O(gidmap), O(subuidname), O(subgidname); podman's
        C(:idmap) suffix is refused. Omitted means V(false).
    type: bool
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
      - A V(dir) secret (what a Kubernetes C(secret) volume becomes) is a read-only directory at its C(target)
        holding one file per key of the secret (or per C(items) entry), laid out as the kubelet does.
      - When a secret's data changes (M(libpod.engine.secret) with a new value), the next run of this module
        recreates the container with the reason C(secret NAME changed), so it sees the new value. When every
        changed secret is used only as V(dir) secrets, the files are swapped atomically in the running
        container instead (action C(secret NAME refreshed in place)), without a restart. A V(mount) file cannot
        be swapped atomically (the bind mount keeps the old file, as a Kubernetes C(subPath) mount does) and an
        V(env) value is fixed at start; those recreate.
      - RV(container) shows the names and targets only (under C(Declared)), never the data.
      - "Keys of a dict entry: C(name) (required), C(type) (V(mount), the default, V(env) or V(dir)), C(target)
        (for V(mount) the file's path, default C(/run/secrets/NAME), a relative path is under C(/run/secrets);
        for V(env) the variable's name, default the secret's name; for V(dir) the directory, required),
        for V(mount) and V(dir) C(uid) and C(gid) (numeric, default 0) and C(mode) (default V(0444), for V(dir)
        V(0644)); C(key) (V(mount), V(env)): the value of that key of a secret holding a Kubernetes Secret
        object (JSON or YAML with C(data) in base64 and/or C(stringData)), a plain secret answers every key;
        C(items) (V(dir)): a list of C(key), C(path) (relative), C(mode), default every key; C(optional)
        (default V(false)): a missing secret or key is left out instead of failing."
    type: list
    elements: raw
  shm_size:
    description: Size of C(/dev/shm), for example V(64m); omitted means the engine's default (C(shm_size)).
    type: raw
  network:
    description:
      - V(bridge) (the engine's default network), a network name or a list of them, V(host), V(none), or
        V(container:NAME) to join another container's network namespace.
      - "V(pasta[:OPTIONS]) or V(slirp4netns[:OPTIONS]): user-mode networking as podman's (for root and, later,
        rootless containers): the tool (Debian packages C(passt) / C(slirp4netns)) serves the container's own
        network namespace and binds the published ports itself. pasta OPTIONS are pasta(1) arguments separated
        by commas, for example V(pasta:--ipv4-only,-a,10.0.2.0); as podman, the engine adds C(--config-net),
        C(--no-map-gw) (V(--map-gw) lets the container reach the host's loopback through the gateway address)
        and C(none) for each port direction not given. slirp4netns OPTIONS are podman's keys
        C(allow_host_loopback) (false: the container cannot reach the host's loopback at 10.0.2.2), C(cidr)
        (10.0.2.0/24), C(enable_ipv6) (true), C(mtu) (65520), C(outbound_addr), C(outbound_addr6) and
        C(port_handler) (only V(slirp4netns): ports through its API). A change of mode or OPTIONS recreates."
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
    description: Static IPv6 address on the first (or only) network, which must be dual-stack (a network with
      an IPv6 subnet); kept across recreates. On an IPv4-only network it fails naming the network.
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
      - An IPv6 host address is written in brackets. The IPv6 loopback, C([::1]:8080:80), is served by a
        small userspace proxy started and stopped with the container (IPv6 has no C(route_localnet), so nft
        DNAT cannot serve it). Other IPv6 host addresses are DNATed to the container's IPv6 address on a
        dual-stack network, where a port without a host address is also forwarded over IPv6 (as netavark);
        on an IPv4-only network an IPv6 host address fails at start naming the network (the new container is
        not kept).
      - Compared as a set.
    type: list
    elements: raw
    aliases: [ports, published, published_ports]
  expose:
    description:
      - Ports the container exposes (C(PORT[-PORT][/tcp|udp|sctp])), shown in C(Config.ExposedPorts) with the
        image's; O(publish_all) publishes them.
    type: list
    elements: str
    aliases: [exposed, exposed_ports]
  publish_all:
    description:
      - Publish every exposed port (O(expose) and the image's C(ExposedPorts)) that O(publish) does not, on a free
        host port chosen when the container is created. A recreated container keeps the host ports of the one it
        replaces.
      - Omitted means V(false).
    type: bool
  no_hosts:
    description: Do not create C(/etc/hosts) in the container; the image's file (if any) stays. Omitted means V(false).
    type: bool
  hosts_file:
    description:
      - The base of the container's C(/etc/hosts) (its own names and O(add_host) are added to it) - a host file,
        V(image) (the image's C(/etc/hosts)), or V(none). Default the host's C(/etc/hosts).
    type: str
  no_hostname:
    description:
      - Do not create C(/etc/hostname) in the container; the image's file (if any) stays.
      - Omitted means V(false).
    type: bool
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
    description:
      - Extra C(/etc/hosts) entries as C(name:ip) strings, or a dict of names to IP addresses.
      - In a pod sharing its network they are added to the pod's C(/etc/hosts); refused when that pod has
        C(no_hosts) (podman 4 refuses them on every such pod member).
    type: raw
    aliases: [etc_hosts, add_hosts]
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
  init_path:
    description: The init binary for O(init) (default containers.conf C(init_path), else catatonit).
    type: path
  systemd:
    description:
      - Systemd mode (podman C(--systemd)). V(true) when the command is C(systemd) or C(/sbin/init) (and the usual
        init paths), V(always) always, V(false) never. In systemd mode C(/run), C(/run/lock), C(/tmp) and
        C(/var/log/journal) are tmpfs, C(/sys/fs/cgroup) is writable on cgroup v2, and the stop signal is
        C(SIGRTMIN+3) unless O(stop_signal) is set.
      - Accepts V(true)/V(false) as booleans too.
      - Omitted means V(true).
    type: raw
  sdnotify:
    description:
      - Stored and shown only. The engine does not run under a C(Type=notify) systemd unit, so there is no
        C(NOTIFY_SOCKET) to hand to the container (V(container)) or to notify (V(conmon), V(healthy)).
    type: str
    choices: [container, conmon, ignore, healthy]
  timezone:
    description:
      - The container's time zone - a zone of the host's C(/usr/share/zoneinfo) (V(Europe/Paris), V(Etc/UTC)) or
        V(local) (the host's), bind-mounted read-only at C(/etc/localtime).
    type: str
  interactive:
    description:
      - Keep the container's stdin open (conmon C(-i)); nothing is attached to it by the task.
      - Omitted means V(false).
    type: bool
  rm:
    description:
      - Remove the container when it exits (and when the task stops it), with its anonymous volumes, as podman
        C(--rm). A restart policy that restarts it wins. A later run creates it again.
      - Omitted means V(false).
    type: bool
    aliases: [remove, auto_remove]
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
    aliases: [stop_time]
    description: Seconds to wait after the stop signal before SIGKILL; omitted means the engine's
      C(stop_timeout) (10). Changing it is stored without restarting the container.
    type: int
  delete_depend:
    description: With O(state=absent), remove first the containers that need this one (O(requires), C(network)
      C(container:NAME)).
    type: bool
  delete_time:
    description: With O(state=absent), the seconds to wait for the stop before SIGKILL (V(-1) waits forever);
      default O(timeout).
    type: str
  delete_volumes:
    description: With O(state=absent), V(false) keeps the container's anonymous volumes (default they are removed).
    type: bool
  force_delete:
    description: With O(state=absent), V(false) refuses to remove a running container instead of stopping it.
    type: bool
    default: true
  restart_time:
    description: The stop timeout of a restart (O(state=restarted), O(force_restart)); V(-1) waits forever.
    type: str
  platform:
    description: The platform (V(linux/arm64), V(linux/arm/v7)) of the image pulled or imported from a multi-platform
      source; default the host's.
    type: str
  arch:
    description: The architecture of the image to pull, over the host's (see O(platform)).
    type: str
  os:
    description: The OS of the image to pull, over the host's (see O(platform)).
    type: str
  variant:
    description: The architecture variant of the image to pull (see O(platform)).
    type: str
  authfile:
    description: A C(auth.json) with the registry credentials (when O(registry_username) and O(creds) are not given).
    type: path
  tls_verify:
    description: V(false) allows plain HTTP and unverified TLS, as O(insecure_registry).
    type: bool
  creds:
    description: Registry credentials as C(USERNAME:PASSWORD) (the peer's spelling of O(registry_username) and
      O(registry_password)).
    type: str
  executable:
    description: The peer's podman binary. Ignored with a warning (no podman command runs).
    type: str
  debug:
    description: Ignored with a warning (the result's RV(actions) say what was done).
    type: bool
  cmd_args:
    description: Arguments for the podman CLI. Ignored with a warning.
    type: list
    elements: str
  detach:
    description: Containers always run detached; V(false) is ignored with a warning.
    type: bool
  sig_proxy:
    description: Ignored with a warning (no podman process to proxy signals).
    type: bool
  image_strict:
    description: Ignored with a warning; the image is always compared strictly (reference and image ID).
    type: bool
  log_level:
    description: The podman CLI's log level. Ignored with a warning.
    type: str
    choices: [debug, info, warn, error, fatal, panic]
  detach_keys:
    description: Accepted and ignored (the task attaches to nothing).
    type: str
  generate_systemd:
    description:
      - Ignored with a warning. No systemd unit is written; containers with a restart policy are started again at
        boot by C(runtime_config) C(restart_on_boot) (one boot hook of the engine, not a unit per container).
    type: dict
  quadlet_dir:
    description: Ignored with a warning (see O(generate_systemd)).
    type: path
  quadlet_filename:
    description: Ignored with a warning (see O(generate_systemd)).
    type: str
  quadlet_file_mode:
    description: Ignored with a warning (see O(generate_systemd)).
    type: raw
  quadlet_options:
    description: Ignored with a warning (see O(generate_systemd)).
    type: list
    elements: str
  timeout:
    description: Seconds to wait for a stop in this task (overrides O(stop_timeout) for this run only).
    type: int
  log_driver:
    description:
      - Where conmon writes the container's output. V(k8s-file) (V(json-file) is the same, as in podman) a file
        (C(LogPath)), V(journald) the host's journal (refused where the host has none), V(none) nowhere,
        V(passthrough) conmon's own stdio (nothing, as the engine runs containers detached).
      - Only k8s-file logs are read by C(container_info) C(log_lines) and the early-exit warning.
      - Omitted means V(k8s-file).
    type: str
    choices: [k8s-file, journald, json-file, passthrough, none]
  log_opt:
    description:
      - Log options. C(path) the k8s-file log's path (default in the container's directory), C(max_size)
        truncates the k8s-file log past that size, C(tag) the journald tag (C(LogConfig.Tag); conmon uses it
        with journald only), C(max_files) stored (conmon truncates, it does not rotate). C(max-size) and
        C(max-file) spellings are accepted.
    type: dict
    aliases: [log_options]
  cidfile:
    description: Write the container's ID to this file when it is created (an existing file is refused); removed
      with the container.
    type: path
  conmon_pidfile:
    description: Write conmon's PID to this file at each start.
    type: path
  pid_file:
    description: Write the container process's PID to this file at each start.
    type: path
  healthcheck:
    description:
      - Healthcheck command - a string runs through C(/bin/sh -c), a list is run as is (C(CMD)/C(CMD-SHELL)
        prefixes as in a Containerfile are accepted); V(NONE) disables the image's HEALTHCHECK.
      - Omitted, the image's HEALTHCHECK applies. A per-container monitor process (no daemon, no systemd) runs
        it through exec with the container's process spec; C(State.Health) in the returned container shows
        the status, failing streak and the last checks. Changing a healthcheck option recreates the container.
    type: raw
    aliases: [health_cmd]
  no_healthcheck:
    description:
      - Do not use the image's HEALTHCHECK (podman's C(--no-healthcheck)); the same as O(healthcheck=NONE).
        Refused together with a healthcheck command or O(healthcheck_interval) and its siblings.
      - Omitted means V(false).
    type: bool
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
  cpu_shares:
    description: CPU shares (relative weight, 2 to 262144; V(0) = the default 1024). Applied in place.
    type: int
  cpu_period:
    description: CFS period in microseconds (1000 to 1000000), with O(cpu_quota). Not with O(cpus). Applied in place.
    type: int
  cpu_quota:
    description: CFS quota in microseconds per O(cpu_period) (at least 1000; V(0) or V(-1) = no limit). Not with
      O(cpus). Applied in place.
    type: int
  cpu_rt_period:
    description: Real-time period in microseconds (cgroup v1 C(cpu.rt_period_us)). Applied in place.
    type: int
  cpu_rt_runtime:
    description: Real-time runtime in microseconds per O(cpu_rt_period); the parent cgroup must have real-time
      runtime to give, else the runtime refuses it at start. Applied in place.
    type: int
  cpuset_cpus:
    description: CPUs the container may run on, for example V(0-2,4). Applied in place.
    type: str
  cpuset_mems:
    description: Memory nodes the container may use, for example V(0). Applied in place.
    type: str
  memory_reservation:
    description: Soft memory limit (V(256m)); must be below O(memory). Applied in place.
    type: str
  memory_swap:
    description: Limit of memory plus swap (V(1g)), or V(-1) for unlimited swap; needs O(memory), at least its
      value. Omitted, memory plus swap is twice O(memory) (as podman). Applied in place.
    type: str
  memory_swappiness:
    description: Swappiness of the container's memory cgroup, 0 to 100 (V(-1) = the host's).
    type: int
  kernel_memory:
    description: Kernel memory limit (cgroup v1 only; refused on cgroup v2). Kernels 6.1 and later ignore it.
    type: str
  oom_kill_disable:
    description: Disable the OOM killer for the container's cgroup.
    type: bool
  oom_score_adj:
    description: The container process's OOM score adjustment (-1000 to 1000). A value below the engine's own
      is refused where the host denies C(CAP_SYS_RESOURCE).
    type: int
  blkio_weight:
    description: Block I/O weight (10 to 1000). Needs a weight-capable I/O scheduler (C(blkio.weight) or
      C(io.bfq.weight)); refused with a message where the host has none. Applied in place.
    type: int
  blkio_weight_device:
    description: Per-device block I/O weight, a dict of C(/dev/PATH) to a weight (10 to 1000).
    type: dict
  device_read_bps:
    description: Read rate limits, C(/dev/PATH:RATE) with RATE a size per second (V(/dev/vda:10mb)).
    type: list
    elements: str
  device_read_iops:
    description: Read operations per second limits, C(/dev/PATH:N).
    type: list
    elements: str
  device_write_bps:
    description: Write rate limits, C(/dev/PATH:RATE) with RATE a size per second.
    type: list
    elements: str
  device_write_iops:
    description: Write operations per second limits, C(/dev/PATH:N).
    type: list
    elements: str
  cgroup_parent:
    description: Absolute cgroup path under which the container's cgroup is made (cgroupfs), instead of the
      engine's (or the pod's). The parent directories are left behind when the container is removed.
    type: path
  cgroupns:
    description: V(host) or V(private) cgroup namespace. Omitted, podman's default for the host's cgroups
      (V(host) on cgroup v1, V(private) on v2).
    type: str
  cgroups:
    description:
      - V(enabled) (the default) or V(no-conmon); both mean the same here, as the engine never moves conmon
        into a cgroup.
      - V(disabled) runs the container without a cgroup of its own (podman passes crun
        C(--cgroup-manager=disabled)); it needs a runtime listed in containers.conf C([engine]
        runtime_supports_nocgroups) (crun; runc always creates a cgroup and is refused naming it), its own PID
        namespace, no O(cgroup_parent) and no O(pod); resource limits are not applied (a warning says so).
      - V(split) is refused on purpose, podman would place conmon and the container below the cgroup of the
        calling process, here the Ansible task's transient session.
    type: str
  cgroup_conf:
    description: Raw cgroup v2 files and values (OCI C(unified)), for example C(memory.high=1g) as a dict; refused on
      cgroup v1 and hybrid hosts.
    type: dict
  device:
    description: Host devices to add, C(HOST[:CONTAINER][:PERMISSIONS]) with PERMISSIONS of V(r), V(w), V(m)
      (default V(rwm)), for example V(/dev/fuse) or V(/dev/null:/dev/mynull:r).
    type: list
    elements: str
    aliases: [devices]
  device_cgroup_rule:
    description: Device cgroup rules to allow, as C(TYPE MAJOR:MINOR ACCESS) (V(c 1:3 mr), V(b *:* rwm)); a string
      or a list.
    type: raw
  gpus:
    description: CDI devices to add (V(all), V(0,1), V(device=0) or V(vendor.com/class=NAME)), from the JSON CDI
      specs in C(/etc/cdi) or C(/var/run/cdi) (their device nodes). Without a spec the task fails and says how to
      generate one.
    type: str
  ipc:
    description: IPC namespace, V(host), V(private), V(shareable) (= V(private)) or V(container:NAME).
    type: str
    aliases: [ipc_mode]
  pid:
    description: PID namespace, V(host), V(private) or V(container:NAME) (the other container must be running).
    type: str
    aliases: [pid_mode]
  uts:
    description: UTS namespace (hostname), V(host), V(private) or V(container:NAME).
    type: str
  userns:
    description:
      - User namespace of the container (podman's C(--userns), as run by root). V(host) (or V(""), V(private),
        omitted) is the host's, the default.
      - V(auto) takes a free block of the IDs C(/etc/subuid) and C(/etc/subgid) grant the user C(containers)
        (size from the image's C(/etc/passwd) and C(/etc/group), at least 1024; C(auto:size=N) sets it;
        C(uidmapping=C:H:S) and C(gidmapping=C:H:S) add mappings). No two containers get overlapping blocks;
        a block is freed when its container is removed.
      - V(ns:PATH) joins an existing user namespace (its own mappings are read to shift the root filesystem).
      - V(keep-id) and V(nomap) are rootless modes and refused, with podman's message.
      - The root filesystem is a copy of the image with its owners shifted through the mapping, made once per
        image and mapping and shared by the containers using them (one full image copy of disk per mapping;
        removed with its last container or the image). A new named volume is given to the container's root.
      - A change recreates the container. Not for containers in a pod. C(oci_runtime=crun) older than 1.24 is
        refused with a user namespace (it would chown the host's C(/dev/null) to the container's root).
    type: str
    aliases: [userns_mode]
  uidmap:
    description:
      - UID mappings C(CONTAINER_ID:HOST_ID:SIZE) of a user namespace of the container's own, e.g. V(0:200000:65536).
      - Without O(gidmap) the GIDs are mapped the same way (as podman). Excludes O(userns) and O(subuidname).
    type: list
    elements: str
  gidmap:
    description: GID mappings, as O(uidmap); without O(uidmap) the UIDs are mapped the same way.
    type: list
    elements: str
  subuidname:
    description:
      - Map the container's UIDs onto the ranges C(/etc/subuid) grants this user name (container ID 0 is the
        first granted ID). Without O(subgidname) the same name's C(/etc/subgid) ranges map the GIDs.
      - A name without ranges is refused (grant them with C(usermod --add-subuids)).
    type: str
  subgidname:
    description: GID ranges of this user name in C(/etc/subgid), as O(subuidname).
    type: str
  group_add:
    description: Additional groups of the container's process, numeric GIDs or names of the image's C(/etc/group).
    type: list
    elements: str
    aliases: [groups]
  umask:
    description: The process's umask, octal (V(0022), V(077)); omitted, the engine's default.
    type: str
  passwd:
    description:
      - As podman's C(--passwd), V(true) when omitted. At each start, a numeric O(user) (or the image's USER)
        that the container's C(/etc/passwd) does not list gets the entry
        C(UID:*:UID:GID:container user:WORKDIR:/bin/sh) (GID 0 unless the user gives a group), a numeric
        group it lacks gets C(GID:x:GID:UID) in C(/etc/group), and O(hostuser) is copied in.
      - The entries are appended to the container's own files (so C(useradd) in the container keeps working);
        with O(read_only=true) copies with the entries are bind-mounted over them. A bind mount at
        C(/etc/passwd) or C(/etc/group) is left alone. Entries already present are not added again.
      - V(false) adds no entry at all (also none for O(hostuser)).
    type: bool
  passwd_entry:
    description: The line written to C(/etc/passwd) for an added user instead of the default one, podman's
      template with C($USERNAME), C($UID), C($GID), C($NAME) and C($HOME), for example
      V($USERNAME:*:$UID:$GID:$NAME:$HOME:/bin/bash). Seven colon-separated fields on one line.
    type: str
  group_entry:
    description: The line written to C(/etc/group) for an added group instead of the default one, with
      C($GROUPNAME) (the GID, as the default entry names the group), C($GID) and C($USERLIST) (the user of
      O(user)), for example V(app$GID:x:$GID:$USERLIST). Four colon-separated fields on one line.
    type: str
  hostuser:
    description: A user of the managed host (name or UID) whose C(/etc/passwd) entry is copied into the
      container's when the container lacks that name and UID (podman's C(--hostuser)); its home is the
      container's working directory unless the host home is mounted into the container. O(user) may then
      name it. The user must exist on the host (checked before anything is done). The entry's name field is
      the host GECOS up to its first comma (as podman), left empty when it holds a C(:) or a control character;
      a host user whose name or home holds one is refused.
    type: str
  personality:
    description: Execution domain; V(LINUX32) makes C(uname -m) say i686. Needs crun (runc 1.1 ignores it,
      so it is refused with runc).
    type: str
    choices: [LINUX, LINUX32]
  chrootdirs:
    description: Directories inside the container treated as chroots; C(/etc/hosts), C(/etc/resolv.conf) and
      C(/etc/hostname) are mounted into each again. A path, a comma separated string or a list.
    type: raw
  security_opt:
    description:
      - podman's security options. V(seccomp=PATH) (a JSON profile on the host) or V(seccomp=unconfined);
        V(no-new-privileges); V(mask=PATH[:PATH]) and V(unmask=PATH[:PATH]) (or V(unmask=ALL)) for the masked
        C(/proc) and C(/sys) paths; V(proc-opts=OPTS) (mount options of C(/proc)); V(apparmor=PROFILE) (refused
        where AppArmor is not enabled; V(apparmor=unconfined) is always accepted); V(label=...) is accepted and
        ignored (no SELinux support, as podman on a host without SELinux).
      - Without a seccomp option the default profile is the host's containers-common profile
        (C(/etc/containers/seccomp.json), else C(/usr/share/containers/seccomp.json), as podman), else the
        engine's built-in one; C(seccomp_profile) of the engine configuration overrides both. Privileged
        containers have no seccomp filter unless one is given.
    type: list
    elements: str
  seccomp_policy:
    description: V(image) uses the profile of the image's C(io.containers.seccomp.profile) label when it has one.
    type: str
    choices: [default, image]
  read_only_tmpfs:
    description: With O(read_only), mount fresh tmpfs at C(/tmp), C(/var/tmp) and C(/run) (default V(true)).
    type: bool
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
