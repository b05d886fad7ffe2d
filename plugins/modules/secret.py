#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: secret
short_description: Manage secrets of the libpod.engine runtime
version_added: 0.1.0
description:
  - Creates, updates and removes secrets on the managed node, as C(podman secret create) and
    C(podman secret rm) do, without podman or any daemon. Containers use them through the
    O(libpod.engine.container#module:secrets) option of M(libpod.engine.container).
  - "Idempotent by content: the engine keeps a keyed hash of the data (HMAC-SHA256 under a random key of this
    engine root, readable by root only), never the data itself in its database, events, actions, diff or return
    values. The same data is no change; new data is stored under the same secret ID, and the containers that use
    the secret are named: their next M(libpod.engine.container) run recreates them with the reason
    C(secret NAME changed)."
  - The V(file) driver keeps the data as podman does, in C(secrets/filedriver/secretsdata.json) under the
    engine's static dir (the directories mode 0700, the file 0600, owned by root).
  - The V(shell) driver hands the data to your commands (O(driver_opts)), as podman's shell driver.
author:
  - libpod.engine contributors (@libpod-engine)
extends_documentation_fragment:
  - libpod.engine.engine
  - libpod.engine.engine.ACTIONGROUP
attributes:
  check_mode:
    support: full
    details: Nothing is stored or removed; RV(actions) says what would be done (a data change is found
      by comparing keyed hashes, so check mode tells it too).
  diff_mode:
    support: full
    details: C(before) and C(after) hold what differs. A data change shows as C(data) with placeholders, never
      the values; a creation or removal shows C(exists).
options:
  name:
    description: Name of the secret (letters, digits, V(_), V(.) and V(-), starting with a letter or a digit).
    type: str
    required: true
  state:
    description:
      - V(present) creates the secret, or stores new data / labels when they differ.
      - V(absent) removes it. Refused while containers use it, unless O(force).
    type: str
    choices: [present, absent]
    default: present
  data:
    description:
      - The secret's value (never logged). Mutually exclusive with O(path); one of them is needed for V(present).
      - At most 512000 bytes, as podman.
    type: str
  path:
    description: A file on the managed node whose content is the secret's value.
    type: path
  driver:
    description: Where the data is kept. Changing it moves the data to a new secret (a new ID).
    type: str
    choices: [file, shell]
    default: file
  driver_opts:
    description:
      - For V(shell), the commands, run by C(/bin/sh -c) with the environment variable C(SECRET_ID) set, as
        podman's shell driver. C(store) reads the data on its standard input, C(lookup) prints it,
        C(delete) forgets it (all three required), C(list) prints the IDs it holds (optional).
      - The V(file) driver takes no options.
    type: dict
  labels:
    description: Labels of the secret (changed in place).
    type: dict
    aliases: [label]
  force:
    description: With V(absent), remove the secret even though containers use it (they then fail to start
      until it exists again).
    type: bool
    default: false
notes:
  - Env-type secrets end up, like podman's, in the container's OCI C(config.json) (mode 0600, root only)
    while the container exists.
"""

EXAMPLES = r"""
- name: A database password
  libpod.engine.secret:
    name: db-pass
    data: "{{ vault_db_password }}"
    labels:
      app: shop

- name: From a file on the managed node
  libpod.engine.secret:
    name: tls-key
    path: /etc/shop/tls.key

- name: Kept by your own commands
  libpod.engine.secret:
    name: api-token
    data: "{{ vault_api_token }}"
    driver: shell
    driver_opts:
      store: cat > /srv/vault/$SECRET_ID
      lookup: cat /srv/vault/$SECRET_ID
      delete: rm -f /srv/vault/$SECRET_ID
      list: ls /srv/vault

- name: A container that reads them
  libpod.engine.container:
    name: shop
    image: localhost/busybox:latest
    command: [httpd, -f, -p, "8080", -h, /var/www]
    secrets:
      - db-pass
      - name: api-token
        type: env
        target: API_TOKEN
      - name: tls-key
        target: /etc/shop/tls.key
        uid: 1000
        mode: "0400"

- name: Remove the container, then the secret it used (a secret in use is refused without force)
  libpod.engine.container:
    name: shop
    state: absent

- name: Remove the secret
  libpod.engine.secret:
    name: db-pass
    state: absent
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), with the reason; never the data.
  returned: always
  type: list
  elements: str
  sample: ["updated secret db-pass: data changed (used by container(s) shop: their next container task recreates
            them, or refreshes a secret volume in place)"]
secret:
  description: The secret after the task, as C(podman secret inspect) without the data; empty when absent (or
    in check mode when it would be created).
  returned: always
  type: dict
  contains:
    ID:
      description: The secret's ID.
      type: str
    CreatedAt:
      description: Creation time, RFC 3339.
      type: str
    UpdatedAt:
      description: Time of the last change of data or labels, RFC 3339.
      type: str
    Spec:
      description: C(Name), C(Driver) (C(Name) and C(Options)) and C(Labels).
      type: dict
    Containers:
      description: Names of the containers that use the secret.
      type: list
      elements: str
  sample: {"ID": "1f2e3d4c5b6a79881726354ab", "CreatedAt": "2024-05-01T10:00:00.000000000Z",
           "UpdatedAt": "2024-05-01T10:00:00.000000000Z",
           "Spec": {"Name": "db-pass", "Driver": {"Name": "file", "Options": {}}, "Labels": {"app": "shop"}},
           "Containers": ["shop"]}
diff:
  description: With C(--diff), what differs before and after (data as placeholders only).
  returned: when diff mode is on and something differs
  type: dict
  sample: {"before": {"data": "(previous value, not shown)"}, "after": {"data": "(new value, not shown)"}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import (
    engine_argspec,
    engine_import,
    run_reconcile,
)

ARGUMENT_SPEC = engine_import("reconcile.secret").ARGUMENT_SPEC
MUTUALLY_EXCLUSIVE = engine_import("reconcile.secret").MUTUALLY_EXCLUSIVE
reconcile_secret = engine_import("reconcile.secret").reconcile_secret


def main():
    module = AnsibleModule(argument_spec=engine_argspec(ARGUMENT_SPEC), mutually_exclusive=MUTUALLY_EXCLUSIVE,
                           supports_check_mode=True)
    run_reconcile(module, reconcile_secret)


if __name__ == "__main__":
    main()
