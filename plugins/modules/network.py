#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: network
short_description: Manage bridge networks of the libpod.engine runtime
version_added: 0.1.0
description:
  - Creates and removes bridge networks on the managed node, as C(podman network create) and
    C(podman network rm) do, without podman, netavark or any daemon. The parameters follow
    containers.podman's C(podman_network).
  - The bridge is created when the first container joins the network and deleted when the last one
    leaves; the network record lives in the engine's database.
  - A subnet is picked automatically when none is given (the next free /24 after the default
    network's), never overlapping another network of this engine root, another engine root's or a
    host route.
  - "Idempotency: the normalised spec declared by the task is stored with the network and a re-run
    compares declared with declared. An omitted option means its default."
  - A network cannot be changed in place. Any difference recreates it; running containers on it are
    disconnected first and connected again afterwards (same process; their declared C(ip), C(ip6),
    C(mac_address) and C(interface_name) on it, else the same IPv4 and IPv6 addresses when they still
    fit the subnets), and RV(actions) says so.
author:
  - libpod.engine contributors (@libpod-engine)
extends_documentation_fragment:
  - libpod.engine.engine
  - libpod.engine.engine.ACTIONGROUP
attributes:
  check_mode:
    support: full
    details: Nothing is created or removed; RV(actions) lists what would be done.
  diff_mode:
    support: full
    details: C(before) and C(after) hold exactly the options that differ; for a creation or a removal
      they hold C(exists).
options:
  name:
    description: Name of the network (letters, digits, V(_), V(.) and V(-), starting with a letter or a digit).
    type: str
    required: true
  state:
    description:
      - V(present) creates the network, or recreates it when the declared spec differs or O(recreate) is set.
      - V(absent) removes it. A missing network is no change. The engine's default network cannot be removed.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - Allow removing a network that containers are configured for. They are disconnected first (running
        ones in place) and stay, without that network; RV(actions) names them.
      - Without it such a task fails and names the containers.
    type: bool
    default: false
  recreate:
    description: Remove and create the network even if nothing changed (never idempotent).
    type: bool
    default: false
  driver:
    description: Network driver; only V(bridge) is supported.
    type: str
    choices: [bridge]
  subnet:
    description: IPv4 subnet in CIDR form (V(10.89.5.0/24)). Chosen automatically when omitted.
    type: str
  gateway:
    description: Gateway address (the bridge's address) inside O(subnet); the first host address when omitted.
      Needs O(subnet).
    type: str
  ip_range:
    description: CIDR inside O(subnet) from which addresses are handed out automatically (static addresses
      may be anywhere in the subnet). Needs O(subnet).
    type: str
  ipv6:
    description:
      - Dual stack. The network also gets an IPv6 subnet (O(ipv6_subnet), else a V(/64) of a unique
        local prefix V(fd00::/8) derived from the network ID), containers get an address from each
        subnet and an IPv6 default route, IPv6 traffic leaving the host is masqueraded (an nft C(ip6)
        table), and aardvark-dns answers C(AAAA) queries with the containers' IPv6 addresses.
      - Implied by O(ipv6_subnet). Of the IPv6 host addresses, only the loopback (V([::1]:8080:80)) can
        publish ports (through a userspace proxy, on any network); see the user guide.
    type: bool
    default: false
  ipv6_subnet:
    description: IPv6 subnet of a dual-stack network in CIDR form (V(fd00:90::/64)); implies O(ipv6).
    type: str
  ipv6_gateway:
    description: IPv6 gateway (the bridge's IPv6 address) inside O(ipv6_subnet); the first host address
      when omitted. Needs O(ipv6_subnet).
    type: str
  internal:
    description: No outbound NAT, no default route in the containers, and nothing forwarded between the
      bridge and any other interface.
    type: bool
    default: false
  disable_dns:
    description: Do not serve container names on this network through DNS.
    type: bool
    default: false
  interface_name:
    description: Name of the bridge; it must start with the engine root's C(bridge_prefix). Chosen
      automatically when omitted.
    type: str
  labels:
    description: Labels of the network, a dict of names to values.
    type: dict
    aliases: [label]
  options:
    description:
      - Driver options, a dict (or a list of V(key=value) strings) with V(mtu) (68 to 65535, bridge and
        container interfaces) and V(isolate) (true refuses new connections into the network from other
        networks and the host's uplinks, except to published ports).
    type: raw
    aliases: [opt]
"""

EXAMPLES = r"""
- name: A network with an automatic subnet
  libpod.engine.network:
    name: backend

- name: A dual-stack network (IPv4 and IPv6)
  libpod.engine.network:
    name: web6
    subnet: 10.89.30.0/24
    ipv6_subnet: fd00:89:30::/64

- name: A network with a fixed subnet and a smaller pool for automatic addresses
  libpod.engine.network:
    name: frontend
    subnet: 10.89.20.0/24
    gateway: 10.89.20.1
    ip_range: 10.89.20.128/25
    labels:
      app: shop
    options:
      mtu: 1400

- name: A network without access to the outside
  libpod.engine.network:
    name: isolated
    internal: true

- name: Remove a network, disconnecting its containers
  libpod.engine.network:
    name: backend
    state: absent
    force: true
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), with the reason.
  returned: always
  type: list
  elements: str
  sample: ["recreated network backend: labels changed", "reconnected container(s) web to network backend"]
network:
  description: The network after the task, with the keys of C(podman network inspect); empty when it is
    absent, or in check mode when it would be created.
  returned: always
  type: dict
  sample: {"name": "backend", "id": "3f1c...", "driver": "bridge", "network_interface": "lpe1",
           "created": "2026-01-01T10:00:00.000000Z", "subnets": [{"subnet": "10.90.1.0/24", "gateway": "10.90.1.1"}],
           "ipv6_enabled": false, "internal": false, "dns_enabled": true, "labels": {}, "options": {},
           "ipam_options": {"driver": "host-local"}}
diff:
  description: With C(--diff), the options that differ before and after.
  returned: when diff mode is on and something differs
  type: dict
  sample: {"before": {"labels": {}}, "after": {"labels": {"app": "shop"}}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import (
    engine_argspec,
    engine_import,
    run_reconcile,
)

OPTIONS = engine_import("reconcile.network").OPTIONS
reconcile_network = engine_import("reconcile.network").reconcile_network


def main():
    module = AnsibleModule(argument_spec=engine_argspec(OPTIONS.argument_spec()), supports_check_mode=True)
    run_reconcile(module, reconcile_network)


if __name__ == "__main__":
    main()
