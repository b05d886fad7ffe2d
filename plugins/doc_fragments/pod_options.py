# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """The options of the pod module (ansible-doc and the docs pages merge them in).

    Here, not in plugins/modules/pod.py, because the module file is what every task of it carries
    to the managed node and compiles there; this text is read only by ansible-doc and
    ansible-test (issue 20).
    """

    DOCUMENTATION = r"""
options:
  name:
    description:
      - Name of the pod (unique among pods and containers).
      - Required unless O(definition) names the pod in C(metadata.name).
    type: str
  state:
    description:
      - V(created) creates the pod if needed (or recreates it when its spec changed) without starting it.
      - V(started) also starts the infra container and every container of the pod that does not run.
      - V(stopped) makes sure nothing of the pod runs (containers first, the infra last). A missing pod is
        created and left stopped, as O(state=stopped) creates a missing container (containers.podman's
        podman_pod fails instead).
      - V(restarted) stops what runs and starts everything; it reports a change only when it stopped or
        started a container.
      - V(killed) sends O(signal) to every running container of the pod (members, then the infra) and waits up
        to O(timeout) seconds (10 when omitted) for each to exit, as C(podman pod kill); a pod where nothing runs
        is no change. A killed container counts as stopped by the user (no restart policy brings it back).
      - V(paused) starts what does not run, then freezes every container of the pod (infra included) through
        the OCI runtime's pause, as C(podman pod pause); a pod already paused is no change.
      - V(unpaused) thaws the paused containers (C(podman pod unpause)); nothing else is started. O(state=started)
        also thaws a paused pod before starting what does not run.
      - V(killed), V(paused) and V(unpaused) first create the pod (or recreate it when its spec changed), as
        V(created).
      - V(absent) removes the pod. A pod with containers is removed only with O(force).
    type: str
    choices: [created, started, stopped, restarted, killed, paused, unpaused, absent]
    default: created
  signal:
    description:
      - Signal of O(state=killed) (V(KILL), V(SIGTERM), V(15)...); omitted means V(KILL), as C(podman pod kill).
        Ignored by the other states.
    type: str
  force:
    description:
      - With O(state=absent), stop and remove the pod's containers with it. Without it, a pod that has
        containers is not removed and the task fails, naming them.
    type: bool
    default: false
  recreate:
    description: Recreate the pod (and its containers) even if nothing changed (never idempotent).
    type: bool
    default: false
  timeout:
    description: Seconds to wait after the stop signal before SIGKILL when containers are stopped in this
      task; omitted means each container's stop timeout.
    type: int
  infra:
    description: Create an infra container (omitted means V(true)). Without it nothing can be shared and the
      pod holds no network settings.
    type: bool
  infra_image:
    description:
      - Image of the infra container; omitted means the engine's own image, built locally from catatonit
        (C(localhost/libpod-engine-infra:<version>)). A missing image is pulled or imported.
    type: str
  infra_command:
    description: Command of the infra container (replaces the image's entrypoint), as a list or a string.
    type: raw
  infra_name:
    description: Name of the infra container; omitted means the first 12 characters of the pod ID and
      C(-infra).
    type: str
  infra_conmon_pidfile:
    description: Write the infra container's conmon PID to this file at each start of the pod.
    type: path
  pod_id_file:
    description:
      - Write the pod's ID to this file when the pod is created (podman's C(--pod-id-file)); the file is removed
        with the pod. An existing file is refused (as podman), so that two pods do not share one.
      - Changing it recreates the pod.
    type: path
  executable:
    description: The peer's podman binary. Ignored with a warning (no podman command runs).
    type: str
  debug:
    description: Ignored with a warning (the result's RV(actions) say what was done).
    type: bool
  generate_systemd:
    description:
      - Ignored with a warning. No systemd unit is written; containers with a restart policy are started again at
        boot by C(runtime_config) C(restart_on_boot).
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
  share:
    description:
      - Namespaces the containers share with the infra container, comma separated or as a list, from
        V(cgroup), V(ipc), V(net), V(pid) and V(uts); V(none) shares nothing.
      - Omitted means V(ipc,net,uts) (V(none) when O(infra=false)).
    type: raw
  publish:
    description:
      - Ports published on the pod (held by the infra container, reached by every container sharing the
        network), C([HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]). Compared as a set. The IPv6 loopback
        (C([::1]:8080:80)) is served by a userspace proxy; other IPv6 host addresses need a dual-stack
        network (starting the pod fails naming the network otherwise).
    type: list
    elements: raw
    aliases: [ports, published, published_ports]
  network:
    description: V(bridge) (the engine's default network), a network name or a list of them, V(host) or
      V(none), for the infra container and so for the pod.
    type: raw
    aliases: [net]
  network_alias:
    description:
      - DNS aliases of the pod on its (first) bridge network, held by the infra container, so every container
        sharing the pod's network is reached by them (the container module's
        O(libpod.engine.container#module:network_aliases)). A change recreates the pod.
    type: list
    elements: str
    aliases: [network_aliases]
  ip:
    description: Static IPv4 address of the pod (its infra) on its first bridge network, as the container module's
      O(libpod.engine.container#module:ip). A change recreates the pod.
    type: str
  ip6:
    description: Static IPv6 address of the pod on its first bridge network (the network needs an IPv6 subnet).
      A change recreates the pod.
    type: str
  mac_address:
    description: MAC address of the pod's interface on its first bridge network. A change recreates the pod.
    type: str
  hostname:
    description:
      - Host name of the pod (of its shared UTS namespace); omitted means the pod's name. Refused with
        O(uts=host) (the host's name is used then).
    type: str
  no_hosts:
    description:
      - "Do not manage C(/etc/hosts): the infra and every container sharing the pod's network keep their image's
        own file (podman's C(--no-hosts)). Conflicts with O(add_host) and O(hosts_file), and a container joining
        the pod's network may not set its own C(add_host) then. Needs O(infra). A change recreates the pod."
    type: bool
  hosts_file:
    description:
      - Base of the C(/etc/hosts) of the infra and of the containers sharing the pod's network (a host file,
        V(image) or V(none)), as the container module's O(libpod.engine.container#module:hosts_file); a
        container's own O(libpod.engine.container#module:hosts_file) wins. A change recreates the pod.
    type: str
  pid:
    description:
      - PID namespace of the pod (its infra container), which the containers join when O(share) has V(pid),
        V(private) (the default, a new namespace), V(host) or V(ns:PATH) (an existing namespace), as C(podman pod
        create --pid). Refused when O(share) has no V(pid) (it would reach no container). A change recreates
        the pod.
    type: str
  uts:
    description:
      - UTS namespace of the pod, as O(pid) (V(private), V(host), V(ns:PATH)); the containers join it when
        O(share) has V(uts) (the default). With V(host) the containers see the host's name. A change recreates
        the pod.
    type: str
  share_parent:
    description:
      - Whether the pod's cgroup is the cgroup parent of its containers (podman's C(--share-parent), omitted means
        V(true)). With V(false) the infra and the containers are placed under the engine's cgroup parent directly,
        as containers outside pods, and the pod's cgroup limits (O(cpus), O(memory), O(cpu_shares),
        O(cpuset_cpus), O(cpuset_mems), O(memory_swap), O(device_read_bps), O(device_write_bps)) are refused.
        A change recreates the pod.
    type: bool
  gpus:
    description:
      - GPUs (CDI devices V(all), V(0,1), V(vendor.com/class=NAME)) added to every container of the pod and to its
        infra, through the host's CDI specs as the container module's O(libpod.engine.container#module:gpus) (a
        clear error when the host has none). A container's own O(libpod.engine.container#module:gpus) wins.
        A change recreates the pod.
    type: str
  label:
    description: Labels of the pod. A change is stored without recreating the pod.
    type: dict
    aliases: [labels]
  add_host:
    description: Extra C(/etc/hosts) entries of the pod as C(name:ip) strings, or a dict of names to IPs.
    type: raw
    aliases: [etc_hosts]
  dns:
    description: DNS servers of the pod's C(/etc/resolv.conf).
    type: list
    elements: str
    aliases: [dns_servers]
  dns_search:
    description: DNS search domains of the pod.
    type: list
    elements: str
  dns_option:
    description: resolv.conf options of the pod.
    type: list
    elements: str
    aliases: [dns_opt]
  cpus:
    description: CPU limit of the whole pod (its cgroup's CFS quota), for example V(1.5). Applied in place.
    type: raw
  memory:
    description:
      - Memory limit of the whole pod (its cgroup), for example V(256m); at least V(6m). Applied in place.
      - The pod cgroup's limits go through the same translation as a container's (memory plus swap is twice
        the memory unless O(memory_swap) says otherwise, where the host accounts swap).
    type: raw
  cpu_shares:
    description: CPU shares (relative weight, 2 to 262144) of the pod cgroup. Applied in place.
    type: raw
  cpuset_cpus:
    description: CPUs the pod's containers may run on (V(0-2,4)), on the pod cgroup. Applied in place.
    type: str
  cpuset_mems:
    description: Memory nodes the pod's containers may use (V(0,1)), on the pod cgroup. Applied in place.
    type: str
  memory_swap:
    description: Limit of memory plus swap of the pod cgroup (needs O(memory); V(-1) unlimited). Applied in place.
    type: str
  blkio_weight:
    description: Refused with a message; block IO weights belong to the containers here (set them on each container).
    type: str
  blkio_weight_device:
    description: Refused with a message, as O(blkio_weight).
    type: list
    elements: str
  device_read_bps:
    description:
      - Read rate limits (V(/dev/sda:10mb), bytes per second) of the pod cgroup, for all its containers together.
        The device must exist when the task runs. Applied in place.
    type: list
    elements: str
  device_write_bps:
    description: Write rate limits of the pod cgroup, as O(device_read_bps). Applied in place.
    type: list
    elements: str
  device:
    description:
      - Host devices (V(/dev/fuse), V(HOST:CONTAINER:rwm)) added to every container of the pod and to its infra,
        as podman. A container's own device at the same path wins. A change recreates the pod.
    type: list
    elements: str
  volume:
    description:
      - Bind mounts and named volumes (V(/srv:/srv:ro), V(NAME:/data)) mounted into every container of the pod
        and its infra, as podman. A container's own mount at the same path wins; named volumes are created when
        missing. Anonymous volumes are refused (give a name). A change recreates the pod.
    type: list
    elements: str
    aliases: [volumes]
  volumes_from:
    description:
      - Containers (V(NAME[:ro|rw])) whose volumes and bind mounts every container of the pod gets, read when
        the pod is created. A change recreates the pod.
    type: list
    elements: str
  sysctl:
    description:
      - Namespaced sysctls (V(net.*), IPC ones) set on the infra container, so they hold in the namespaces the
        pod shares (net, ipc, uts). Needs O(infra). A change recreates the pod.
    type: dict
  shm_size:
    description:
      - Size of the infra's /dev/shm (V(64m)), also the /dev/shm size of members that join the shared IPC
        namespace and set no O(libpod.engine.container#module:shm_size) of their own. A change recreates the pod.
    type: str
  security_opt:
    description:
      - Security options of the infra container, as the container module's
        O(libpod.engine.container#module:security_opt). A change recreates the pod.
    type: list
    elements: str
  restart_policy:
    description:
      - Default restart policy of the pod's containers (V(no), V(always), V(on-failure[:N]), V(unless-stopped)),
        as podman 4.4+. A container's own policy other than V(no) wins. Stored, no restart.
    type: str
  exit_policy:
    description:
      - V(continue) (the default) keeps the pod running when its last container exits; V(stop) stops the pod
        (its infra container) then, as podman. A change recreates the pod.
    type: str
    choices: [continue, stop]
  userns:
    description:
      - A pod-wide user namespace, with the values of the container module's O(userns) (V(host), the default;
        V(auto[:size=N,uidmapping=,gidmapping=]); V(ns:PATH)). V(keep-id) and V(nomap) are rootless-only.
      - The infra container gets it (an V(auto) block is allocated when the pod is created), and every
        container of the pod runs with the same mapping, its root filesystem shifted through it, while it shares
        the pod's network, IPC, UTS (and PID) namespaces. A member gets the mapping in a user namespace of its
        own, because runc 1.1 would have to join the infra's user namespace before the pod's network namespace, which
        the host owns. A container of the pod cannot declare a user namespace of its own.
      - Needs O(infra=true). A change recreates the pod (and its containers, with the new mapping).
    type: str
  uidmap:
    description: UID mappings C(CONTAINER_ID:HOST_ID:SIZE) of the pod-wide user namespace (see O(userns));
      without O(gidmap) the GIDs are mapped the same way. Excludes O(userns) and O(subuidname).
    type: list
    elements: str
  gidmap:
    description: GID mappings of the pod-wide user namespace, as O(uidmap).
    type: list
    elements: str
  subuidname:
    description: Map the UIDs of this name's ranges in /etc/subuid for the pod-wide user namespace (as O(uidmap)).
    type: str
  subgidname:
    description: Map the GIDs of this name's ranges in /etc/subgid (defaults to O(subuidname)).
    type: str
  label_file:
    description:
      - A file of C(key=value) lines read on the managed host; its labels are the pod's, O(label) wins on the
        same key. Stored without touching the pod.
    type: str
  definition:
    description:
      - A Kubernetes v1 Pod manifest, as a dict or as YAML text (one C(kind=Pod) document), declaring the
        whole pod. It cannot be combined with the options that describe the pod (O(publish), O(share),
        ...); O(state), O(force), O(recreate) and O(timeout) apply as usual.
      - "Understood: C(metadata.name), C(metadata.labels), the C(metadata.annotations)
        C(io.libpod-engine.container-name/NAME) (the engine name of container NAME when it is not
        C(<pod>-NAME), as M(libpod.engine.pod_info) writes it); C(spec.hostname), C(hostNetwork), C(dnsConfig),
        C(hostAliases), C(restartPolicy), C(shareProcessNamespace), C(terminationGracePeriodSeconds),
        C(volumes) (C(hostPath), C(emptyDir) as a named volume removed with the pod,
        C(persistentVolumeClaim) as the named volume of the claim's name, C(secret) with C(secretName), C(items),
        C(defaultMode) and C(optional)); per container C(name), C(image), C(command), C(args), C(workingDir),
        C(env) (C(value), or C(valueFrom.secretKeyRef) with C(name), C(key), C(optional)), C(ports) (with a
        C(hostPort): published on the pod),
        C(volumeMounts), C(securityContext) (privileged, readOnlyRootFilesystem, capabilities, runAsUser,
        runAsGroup), C(resources.limits) (cpu, memory), C(tty), C(imagePullPolicy)."
      - Secrets of the manifest are engine secrets of the same name (M(libpod.engine.secret)); they become the
        container option O(libpod.engine.container#module:secrets) (C(secretKeyRef) an V(env) entry with a C(key),
        a C(secret) volume mount a V(dir) entry at the C(mountPath)). A key is looked up in a secret whose data is a
        Kubernetes Secret object (JSON or YAML with C(data) in base64 and/or C(stringData)); a secret holding a
        plain value answers every key. A missing secret or key fails the task naming both, unless the reference
        is C(optional). Modes are numbers as in the Kubernetes API (YAML 1.2 reads C(0400) as decimal 400, so write
        C(0o400) or C(256)).
      - Anything else is reported as a warning and ignored. Containers of the pod that the manifest does
        not list are removed.
    type: raw
"""
