#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pod
short_description: Manage pods run by the libpod.engine runtime (shared namespaces, no daemon)
version_added: 0.1.0
description:
  - Creates, starts, stops, restarts and removes pods on the managed node, as podman's libpod does. A pod
    is a group of containers that share kernel namespaces (by default C(ipc), C(net) and C(uts)) held by
    an infra container. The infra container also holds the pod's published ports, hostname, DNS settings and
    C(/etc/hosts); containers join a pod with the O(libpod.engine.container#module:pod) option. The running
    containers of a pod that share its network name each other in their C(/etc/hosts), at the pod's address
    (as podman's one hosts file of the pod).
  - The infra image is built locally, once, from the host's static catatonit binary (as podman builds its
    pause image), unless O(infra_image) names another image.
  - "Idempotency: the normalised spec declared by the task is stored with the pod and compared exactly on
    the next run. O(label) changes are stored, O(cpus) and O(memory) are applied to the pod's cgroup in
    place; any other change recreates the pod."
  - A task that gives none of the options describing the pod (only O(name), O(state), O(force),
    O(recreate), O(timeout)) acts on the existing pod as it was declared, for example to stop it by name.
  - "A recreated pod keeps its containers: each one is recreated into the new pod with its own declared
    spec (same image, same volumes) and comes back in the run state it had."
  - "Kubernetes: O(definition) takes a v1 Pod manifest (as C(podman kube play)) and reconciles it like a
    declared pod, its containers named C(<pod>-<container>). Fields this engine does not implement are
    reported as warnings. M(libpod.engine.pod_info) returns the manifest of an existing pod."
author:
  - libpod.engine contributors (@libpod-engine)
extends_documentation_fragment:
  - libpod.engine.engine
  - libpod.engine.pod_options
  - libpod.engine.engine.ACTIONGROUP
attributes:
  check_mode:
    support: full
    details: Nothing is built, pulled, created or started; RV(actions) lists what would be done.
  diff_mode:
    support: full
    details: C(before) and C(after) hold the options that differ (and, for a definition, per container).
requirements:
  - ruamel.yaml on the managed node for O(definition) given as YAML text
"""

EXAMPLES = r"""
- name: A pod publishing one port for all its containers
  libpod.engine.pod:
    name: web
    state: started
    publish:
      - 127.0.0.1:18080:8080

- name: A container in it (reaches the others on 127.0.0.1, shares their hostname)
  libpod.engine.container:
    name: web-server
    image: localhost/busybox:latest
    command: [httpd, -f, -p, "8080", -h, /var/www]
    pod: web
    state: started

- name: Change the pod's ports; web-server is recreated into the new pod and runs again
  libpod.engine.pod:
    name: web
    state: started
    publish:
      - 127.0.0.1:18081:8080

# From a file next to the playbook instead: definition: "{{ lookup('ansible.builtin.file', 'app-pod.yml') }}"
- name: Run a Kubernetes Pod manifest
  libpod.engine.pod:
    state: started
    definition:
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        containers:
          - name: server
            image: localhost/busybox:latest
            command: [httpd, -f, -p, "8080", -h, /var/www]

- name: Remove that pod and its containers
  libpod.engine.pod:
    name: app
    state: absent
    force: true

- name: Remove the pod and its containers
  libpod.engine.pod:
    name: web
    state: absent
    force: true
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), with the reason.
  returned: always
  type: list
  elements: str
  sample: ["recreated pod web: publish changed (containers web-server recreated into it)",
           "started pod web (web-server)"]
pod:
  description: The pod after the task, inspect-like; empty when it is absent (or only planned in check mode).
  returned: always
  type: dict
  contains:
    Id:
      description: Pod ID.
      type: str
    Name:
      description: Pod name.
      type: str
    State:
      description: Computed from the containers' states, never stored; one of Created, Running, Degraded,
        Stopped, Exited, Paused, Error.
      type: str
    InfraContainerId:
      description: ID of the infra container (empty without one).
      type: str
    SharedNamespaces:
      description: The namespaces the containers share with the infra container.
      type: list
    Containers:
      description: Every container of the pod, the infra first, with C(Id), C(Name) and C(State).
      type: list
    CgroupPath:
      description: The pod's cgroup, parent of its containers' cgroups; empty with O(share_parent=false).
      type: str
    ShareParent:
      description: Whether the pod's cgroup is its containers' cgroup parent (O(share_parent)).
      type: bool
    InfraConfig:
      description:
        - Ports, network, DNS and hosts settings held by the infra container, and its image; also
          C(StaticIP), C(StaticIPv6), C(StaticMAC), C(NetworkAliases), C(NoManageHosts), C(HostsFile),
          C(PidNS) and C(UtsNS) as declared.
      type: dict
    Declared:
      description: The normalised spec the pod was created (or last updated) with.
      type: dict
  sample: {"Id": "3b1f...", "Name": "web", "State": "Running", "SharedNamespaces": ["ipc", "net", "uts"]}
diff:
  description: With C(--diff), the options that differ before and after.
  returned: when diff mode is on and something differs
  type: dict
  sample: {"before": {"publish": []}, "after": {"publish": [{"container_port": 8080, "host_port": 18080}]}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import (
    engine_argspec,
    engine_import,
    run_reconcile,
)

reconcile_pod = engine_import("reconcile.pod").reconcile_pod
OPTIONS = engine_import("reconcile.pod_options").OPTIONS


def main():
    module = AnsibleModule(
        argument_spec=engine_argspec(OPTIONS.argument_spec()),
        supports_check_mode=True,
        required_one_of=[("name", "definition")],
    )
    run_reconcile(module, reconcile_pod)


if __name__ == "__main__":
    main()
