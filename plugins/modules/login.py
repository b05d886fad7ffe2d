#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: login
short_description: Log in to a container registry (store the credentials in auth.json)
version_added: 0.2.0
description:
  - Checks a username and password against a registry (basic authentication, or a bearer token from the token
    server its C(WWW-Authenticate) challenge names), then stores them in an auth file in the
    containers-auth.json(5) format, as C(podman login) does. Pulls by any libpod.engine module (and by podman)
    then use them.
  - Idempotent. When the auth file already holds the same username and password for O(registry), nothing is
    written, the registry is not contacted (unless O(verify)), and the task reports C(changed=false).
  - The password is never part of the output, the warnings or the engine's events log.
author:
  - libpod.engine contributors (@libpod-engine)
extends_documentation_fragment:
  - libpod.engine.engine.ACTIONGROUP
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Nothing is written and the registry is not contacted; C(changed) says whether a login would be stored.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  registry:
    description:
      - The registry, as C(host[:port]), optionally with a namespace (C(host/team)) for credentials that apply to
        that part of the registry only. A scheme (C(https://)) is ignored. V(docker.io) stands for Docker Hub.
    type: str
    required: true
  username:
    description: The user name.
    type: str
    required: true
  password:
    description: The password or token.
    type: str
    required: true
  authfile:
    description:
      - The auth file to write. Omitted means C($REGISTRY_AUTH_FILE) when set, else podman's default
        (C($XDG_RUNTIME_DIR/containers/auth.json), for root without it C(/run/containers/0/auth.json)).
    type: path
    aliases: [auth_file]
  cert_dir:
    description:
      - A directory with the registry's CA certificates (C(*.crt)) and client certificates (C(*.cert) with C(*.key)).
        Omitted means C(/etc/libpod-engine/certs.d/<registry>/), then C(/etc/containers/certs.d/<registry>/).
    type: path
  tls_verify:
    description: Verify the registry's TLS certificate. V(false) also allows a plain-http registry.
    type: bool
    default: true
    aliases: [validate_certs]
  verify:
    description: Check the credentials with the registry even when the auth file already holds them.
    type: bool
    default: false
seealso:
  - module: libpod.engine.logout
"""

EXAMPLES = r"""
# example-test: skip (needs the registry registry.example.com:5000)
- name: Log in to a private registry
  libpod.engine.login:
    registry: registry.example.com:5000
    username: deploy
    password: "{{ vault_registry_password }}"

# example-test: skip (needs the registry registry.example.com:5000)
- name: Pull from it afterwards (the container module uses the stored login)
  libpod.engine.container:
    name: api
    image: registry.example.com:5000/team/api:2.4.1
"""

RETURN = r"""
registry:
  description: The key the login is stored under (C(host[:port][/namespace])).
  returned: always
  type: str
  sample: registry.example.com:5000
authfile:
  description: The auth file.
  returned: always
  type: str
  sample: /run/containers/0/auth.json
actions:
  description: What was done, or why nothing was.
  returned: always
  type: list
  elements: str
  sample: ["logged in to registry.example.com:5000 as deploy"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import EngineError, engine_import, fail

auth = engine_import("engine.image.auth")
RegistryClient = engine_import("engine.image.registry").RegistryClient


def check_login(key: str, username: str, password: str, tls_verify: bool, cert_dir) -> None:
    """GET /v2/ with the credentials (a bearer challenge fetches a token with them)."""
    host, _unused, repo = key.partition("/")
    client = RegistryClient(host, insecure=not tls_verify, auth=(username, password), timeout=30,
                            deadline=120, repository=repo, cert_dir=cert_dir)
    try:
        client.ping()  # a registry that needs no login answers at once: stored all the same (podman)
    finally:
        client.close()


def main():
    module = AnsibleModule(
        argument_spec={
            "registry": {"type": "str", "required": True},
            "username": {"type": "str", "required": True},
            "password": {"type": "str", "required": True, "no_log": True},
            "authfile": {"type": "path", "aliases": ["auth_file"]},
            "cert_dir": {"type": "path"},
            "tls_verify": {"type": "bool", "default": True, "aliases": ["validate_certs"]},
            "verify": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    p = module.params
    key = auth.auth_key(p["registry"])
    if not key:
        module.fail_json(msg="registry: must name a registry (host[:port][/namespace]), got %r" % p["registry"],
                         error_kind="invalid_argument")
    path = p["authfile"] or auth.default_auth_file()
    out = {"registry": key, "authfile": path}
    try:
        same = auth.stored_credentials(path, key) == (p["username"], p["password"])
        if same and not p["verify"]:
            module.exit_json(changed=False, actions=["already logged in to %s as %s" % (key, p["username"])], **out)
        if module.check_mode:
            module.exit_json(changed=not same, actions=["would log in to %s as %s" % (key, p["username"])], **out)
        check_login(key, p["username"], p["password"], p["tls_verify"], p["cert_dir"])
        changed = auth.store_credentials(path, key, p["username"], p["password"])
    except EngineError as err:
        fail(module, err, **out)
        return
    except OSError as err:
        module.fail_json(msg="cannot write auth file %s: %s" % (path, err), error_kind="config", **out)
        return
    module.exit_json(changed=changed, actions=["logged in to %s as %s" % (key, p["username"])
                                               if changed else "credentials for %s checked" % key], **out)


if __name__ == "__main__":
    main()
