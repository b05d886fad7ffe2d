#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_info
short_description: Inspect volumes of the libpod.engine runtime
version_added: 0.1.0
description:
  - Returns inspect-like data (as C(podman volume inspect)) of one, several or all volumes, in the shape
    of containers.podman's C(podman_volume_info).
  - Reads the engine's database only; plugins are not called.
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
    description: Names of the volumes; all volumes when omitted. Unknown names are skipped and listed in
      RV(missing).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: All volumes
  libpod.engine.volume_info:
  register: all_volumes

- name: One volume
  libpod.engine.volume_info:
    name: appdata
  register: appdata

- name: Where its data is
  ansible.builtin.debug:
    msg: "{{ appdata.volumes[0].Mountpoint }}"
"""

RETURN = r"""
volumes:
  description: Inspect-like data of each volume found (as the RV(libpod.engine.volume#module:volume) return
    value), sorted by name when all are listed, else in the order asked.
  returned: always
  type: list
  elements: dict
  sample: [{"Name": "appdata", "Driver": "local", "Mountpoint": "/var/lib/libpod-engine/volumes/appdata/_data",
            "Labels": {}, "Options": {}, "Scope": "local", "MountCount": 0, "UID": 0, "GID": 0}]
missing:
  description: Requested names that matched no volume.
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
    run_named_info(module, "volumes", source)


def source(rt):
    vols = rt.volumes
    return vols.find, lambda: sorted(vols.list(), key=lambda v: v.name), lambda v: vols.inspect(v.name)


if __name__ == "__main__":
    main()
