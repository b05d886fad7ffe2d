#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pod_info
short_description: Inspect pods of the libpod.engine runtime, optionally as Kubernetes YAML
version_added: 0.1.0
description:
  - Returns inspect-like data of one, several or all pods. Each pod's state is computed from its containers'
    states, read back from conmon's exit files (a container that exited after the last task counts as
    exited).
  - With O(kube), also returns the pods as Kubernetes v1 Pod manifests (as C(podman generate kube)), which
    M(libpod.engine.pod) accepts back as its O(libpod.engine.pod#module:definition). What has no Kubernetes
    form is left out and reported as a warning.
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
    description: Names or IDs of the pods; all pods when omitted. Unknown names are skipped and listed in
      RV(missing).
    type: list
    elements: str
  kube:
    description: Also return RV(kube), the pods as Kubernetes YAML.
    type: bool
    default: false
requirements:
  - ruamel.yaml on the managed node for O(kube)
"""

EXAMPLES = r"""
- name: All pods
  libpod.engine.pod_info:
  register: all_pods

- name: One pod as Kubernetes YAML
  libpod.engine.pod_info:
    name: web
    kube: true
  register: web

- name: Write the manifest next to the playbook
  ansible.builtin.copy:
    content: "{{ web.kube }}"
    dest: ./web-pod.yml
  delegate_to: localhost
"""

RETURN = r"""
pods:
  description: Inspect-like data of each pod found (see M(libpod.engine.pod) RV(libpod.engine.pod#module:pod)).
  returned: always
  type: list
  elements: dict
  sample: [{"Id": "3b1f...", "Name": "web", "State": "Running", "InfraContainerId": "8d0e...",
            "Containers": [{"Id": "8d0e...", "Name": "3b1f0a2c4d5e-infra", "State": "running"}],
            "SharedNamespaces": ["ipc", "net", "uts"]}]
missing:
  description: Requested names that matched no pod.
  returned: always
  type: list
  elements: str
kube:
  description: The pods as Kubernetes v1 Pod manifests (YAML, one document per pod, separated by C(---)).
  returned: when O(kube=true)
  type: str
  sample: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: server\n"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import (
    engine_argspec,
    engine_import,
    run_info,
    select,
)

find_pod = engine_import("engine.objects.pod").find_pod
list_pods = engine_import("engine.objects.pod").list_pods
generate_kube = engine_import("reconcile.pod").generate_kube


def main():
    module = AnsibleModule(
        argument_spec=engine_argspec({
            "name": {"type": "list", "elements": "str"},
            "kube": {"type": "bool", "default": False},
        }),
        supports_check_mode=True,
    )
    run_info(module, collect)


def collect(rt, params):
    pods_out, docs, warnings = [], [], []
    pods, missing = select(params["name"], lambda ref: find_pod(rt, ref), lambda: list_pods(rt))
    for pod in pods:
        pods_out.append(pod.inspect(pod.synced()))
        if params["kube"]:
            doc, more = generate_kube(rt, pod)
            docs.append(doc)
            warnings.extend(more)
    out = {"pods": pods_out, "missing": missing, "warnings": warnings}
    if params["kube"]:
        dump_yaml = engine_import("reconcile.kube").dump_yaml

        out["kube"] = dump_yaml(docs) if docs else ""
    return out


if __name__ == "__main__":
    main()
