#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: network_info
short_description: Inspect networks of the libpod.engine runtime
version_added: 0.1.0
description:
  - Returns the data C(podman network inspect) shows of one, several or all networks, in the shape of
    containers.podman's C(podman_network_info).
  - Reads the engine's database only.
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
    description: Names or IDs of the networks; all networks when omitted. Unknown names are skipped and
      listed in RV(missing).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: All networks
  libpod.engine.network_info:
  register: all_networks

- name: A network to look at
  libpod.engine.network:
    name: web-net

- name: The subnet of one network
  libpod.engine.network_info:
    name: web-net
  register: web_net

- name: Show it
  ansible.builtin.debug:
    msg: "{{ web_net.networks[0].subnets[0].subnet }}"
"""

RETURN = r"""
networks:
  description: Inspect data of each network found (as the RV(libpod.engine.network#module:network) return
    value), sorted by name when all are listed, else in the order asked.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "backend", "id": "3f1c...", "driver": "bridge", "network_interface": "lpe1",
            "subnets": [{"subnet": "10.90.1.0/24", "gateway": "10.90.1.1"}], "internal": false,
            "dns_enabled": true, "labels": {}, "options": {}, "ipam_options": {"driver": "host-local"}}]
missing:
  description: Requested names that matched no network.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import (
    NAMES_ARGSPEC,
    engine_argspec,
    run_named_info,
)


def main():
    module = AnsibleModule(argument_spec=engine_argspec(NAMES_ARGSPEC), supports_check_mode=True)
    run_named_info(module, "networks", source)


def source(rt):
    if not rt.state.query("SELECT 1 FROM networks LIMIT 1"):
        return lambda ref: None, list, None  # no networks: no network package import for nothing
    mgr = rt.network
    return mgr.find, lambda: [mgr.find(n["name"]) for n in mgr.list_networks()], lambda net: net.inspect()


if __name__ == "__main__":
    main()
