#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: logout
short_description: Log out of a container registry (remove the credentials from auth.json)
version_added: 0.2.0
description:
  - Removes the stored login for O(registry), or every login with O(all), from the auth file, as
    C(podman logout) does. The registry is not contacted.
  - C(changed=false) when there was no such login.
author:
  - libpod.engine contributors (@libpod-engine)
extends_documentation_fragment:
  - libpod.engine.engine.ACTIONGROUP
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Nothing is written; C(changed) and RV(removed) say what would be removed.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  registry:
    description: The registry (C(host[:port][/namespace]), as given to M(libpod.engine.login)).
    type: str
  all:
    description: Remove every login in the auth file.
    type: bool
    default: false
  authfile:
    description:
      - The auth file. Omitted means C($REGISTRY_AUTH_FILE) when set, else podman's default
        (C($XDG_RUNTIME_DIR/containers/auth.json), for root without it C(/run/containers/0/auth.json)).
    type: path
    aliases: [auth_file]
seealso:
  - module: libpod.engine.login
"""

EXAMPLES = r"""
- name: Forget the login of one registry
  libpod.engine.logout:
    registry: registry.example.com:5000

- name: Forget every login
  libpod.engine.logout:
    all: true
"""

RETURN = r"""
removed:
  description: The registries whose logins were removed (in check mode, would be).
  returned: always
  type: list
  elements: str
  sample: ["registry.example.com:5000"]
authfile:
  description: The auth file.
  returned: always
  type: str
  sample: /run/containers/0/auth.json
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import EngineError, engine_import, fail

auth = engine_import("engine.image.auth")


def main():
    module = AnsibleModule(
        argument_spec={
            "registry": {"type": "str"},
            "all": {"type": "bool", "default": False},
            "authfile": {"type": "path", "aliases": ["auth_file"]},
        },
        supports_check_mode=True,
    )
    p = module.params
    if bool(p["all"]) == bool(p["registry"]):
        module.fail_json(msg="registry: name one registry, or set all: true (not both)", error_kind="invalid_argument")
    path = p["authfile"] or auth.default_auth_file()
    registry = None if p["all"] else auth.auth_key(p["registry"])
    try:
        stored = auth.read_auth_file(path).get("auths", {})
        if module.check_mode:
            removed = sorted(stored) if registry is None else [k for k in (registry,) if k in stored]
        else:
            removed = auth.remove_credentials(path, registry)
    except EngineError as err:
        fail(module, err, authfile=path)
        return
    except OSError as err:
        module.fail_json(msg="cannot write auth file %s: %s" % (path, err), error_kind="config", authfile=path)
        return
    module.exit_json(changed=bool(removed), removed=removed, authfile=path)


if __name__ == "__main__":
    main()
