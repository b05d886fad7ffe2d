#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: secret_info
short_description: Inspect secrets of the libpod.engine runtime
version_added: 0.1.0
description:
  - Returns the metadata of one, several or all secrets (as C(podman secret inspect)) and the containers that
    use each, never the data (nor its hash).
  - Reads the engine's database only; secret drivers are not called.
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
    description: Names or IDs of the secrets; all secrets when omitted. Unknown ones are listed in RV(missing).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: All secrets
  libpod.engine.secret_info:
  register: all_secrets

- name: Which containers use db-pass
  libpod.engine.secret_info:
    name: db-pass
  register: db_pass

- name: Show them
  ansible.builtin.debug:
    msg: "{{ db_pass.secrets[0].Containers }}"
"""

RETURN = r"""
secrets:
  description: Metadata of each secret found (as the RV(libpod.engine.secret#module:secret) return value),
    sorted by name when all are listed, else in the order asked.
  returned: always
  type: list
  elements: dict
  sample: [{"ID": "1f2e3d4c5b6a79881726354ab", "CreatedAt": "2024-05-01T10:00:00.000000000Z",
            "UpdatedAt": "2024-05-02T08:00:00.000000000Z",
            "Spec": {"Name": "db-pass", "Driver": {"Name": "file", "Options": {}}, "Labels": {}},
            "Containers": ["shop"]}]
missing:
  description: Requested names that matched no secret.
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
    run_named_info(module, "secrets", source)


def source(rt):
    mgr = rt.secrets
    return mgr.find, mgr.list, mgr.inspect


if __name__ == "__main__":
    main()
