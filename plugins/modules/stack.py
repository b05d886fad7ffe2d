#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: stack
short_description: Reconcile a stack of networks, volumes, pods and containers of the libpod.engine runtime in one task
version_added: 0.1.0
description:
  - Declares a stack, lists of networks, volumes, pods and containers, and reconciles all of them in one module
    run (one runtime open, one process), in dependency order. Networks come first, then volumes, then pods,
    then containers. Removals go the other way.
  - Each entry takes exactly the parameters of its module (M(libpod.engine.network), M(libpod.engine.volume),
    M(libpod.engine.pod), M(libpod.engine.container)), aliases included, and is reconciled by the same code.
    So idempotency, what is compared, what is changed in place and what recreates are the modules' own rules.
    C(engine_options) is given once for the whole stack.
  - Every object gets the label C(io.libpod-engine.stack=<label>). With O(prune=true), objects
    that carry the label but are no longer in the lists are removed. With O(state=absent),
    every object that carries the label is removed.
  - All entries are checked before anything is changed (parameters, duplicate names, a container that joins a
    pod or uses a volume that the same run removes, a container that sets what its pod, declared in the
    same stack, owns, such as C(hostname), C(publish), C(network), C(add_host) or C(hosts_file)), so a
    bad entry fails the task without touching the host.
  - Re-running an unchanged stack reports C(changed=false) and is much faster than one task per object,
    because the runtime is opened once.
author:
  - libpod.engine contributors (@libpod-engine)
extends_documentation_fragment:
  - libpod.engine.engine
  - libpod.engine.engine.ACTIONGROUP
attributes:
  check_mode:
    support: full
    details: Every entry goes through its module's check mode. Nothing is created, started, stopped or
      removed, and RV(actions) and RV(results) list what would be done.
  diff_mode:
    support: full
    details: C(before) and C(after) hold, per list and object name, exactly the options that differ (as the
      object's own module reports them); RV(results) carries each object's diff too.
options:
  label:
    description:
      - Name of the stack. It is the value of the label C(io.libpod-engine.stack) that is added to every
        volume, pod and container of the stack, and it finds the stack's objects for O(prune) and
        O(state=absent).
      - Letters, digits, V(_), V(.) and V(-), starting with a letter or a digit.
      - An entry that sets the label C(io.libpod-engine.stack) itself to another value is refused.
    type: str
    required: true
    aliases: [name]
  state:
    description:
      - V(present) reconciles every entry to its own C(state) (each module's default when omitted).
      - V(absent) removes every container, pod, volume and network that carries the stack's label (containers
        first), whatever the lists say. A pod, volume or network that a container outside the stack still uses
        is refused.
    type: str
    choices: [present, absent]
    default: present
  networks:
    description:
      - Networks of the stack, each a dict of the parameters of M(libpod.engine.network) (C(name) required).
        They are created before the volumes, pods and containers, so containers of the stack can use them
        with C(network), and removed after them.
      - A pruned network, or one the stack removes, that a container outside the stack still uses is
        refused, naming the container (unless the entry sets C(force), which disconnects it).
    type: list
    elements: dict
    default: []
  volumes:
    description:
      - Volumes of the stack, each a dict of the parameters of M(libpod.engine.volume) (C(name) required).
    type: list
    elements: dict
    default: []
  pods:
    description:
      - Pods of the stack, each a dict of the parameters of M(libpod.engine.pod) (C(name) required;
        C(definition) is not supported in a stack).
      - When a pod is recreated, its containers that the stack declares go with the old pod and are created
        once, by their own entries, with their declared spec (reason C(pod NAME was recreated)), and started
        as their entries say (or if they ran before, for C(present)/C(created)). Its other containers are
        recreated into the new pod with their own specs, as M(libpod.engine.pod) does. If the run fails before
        a container of the stack is made again, it is put back into the pod with its old settings and, if it
        was running, started again (the pod's infra first); the error says which ones run again and why one
        could not be started.
    type: list
    elements: dict
    default: []
  containers:
    description:
      - Containers of the stack, each a dict of the parameters of M(libpod.engine.container).
      - A container joins a pod of the stack with C(pod), and uses its volumes with C(volume), as in the
        container module.
    type: list
    elements: dict
    default: []
  prune:
    description:
      - Remove the containers, pods, volumes and networks that carry the stack's label but are not declared in the
        lists any more. Removing a volume deletes its data.
      - A pruned pod or volume that a container outside the stack still uses is refused, naming the container.
    type: bool
    default: false
notes:
  - Adding an existing object to a stack adds the label to it. For a container that means a recreate. For a
    volume it means a recreate too, which empties it; a volume in use is refused unless the entry sets
    C(force).
  - Objects of the stack are told apart from others only by the label. Two stacks with the same O(label)
    are one stack.
seealso:
  - module: libpod.engine.container
  - module: libpod.engine.pod
  - module: libpod.engine.volume
  - module: libpod.engine.network
"""

EXAMPLES = r"""
- name: A web server in a pod, serving a volume
  libpod.engine.stack:
    label: web
    volumes:
      - name: web-site
    pods:
      - name: web
        state: started
        publish:
          - 127.0.0.1:8080:8080
    containers:
      - name: web-httpd
        image: oci-archive:/srv/images/busybox.tar:localhost/busybox:latest
        pod: web
        command: [httpd, -f, -p, "8080", -h, /srv]
        volume:
          - web-site:/srv:ro
    prune: true

# example-test: diff (env)
- name: Preview what a changed stack would do (the same stack with env added; the diff shows only env)
  libpod.engine.stack:
    label: web
    volumes:
      - name: web-site
    pods:
      - name: web
        state: started
        publish:
          - 127.0.0.1:8080:8080
    containers:
      - name: web-httpd
        image: oci-archive:/srv/images/busybox.tar:localhost/busybox:latest
        pod: web
        command: [httpd, -f, -p, "8080", -h, /srv]
        volume:
          - web-site:/srv:ro
        env:
          MODE: production
  check_mode: true
  diff: true
  register: preview

- name: Remove everything of the stack
  libpod.engine.stack:
    label: web
    state: absent
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), in order, with the reasons.
  returned: always
  type: list
  elements: str
  sample: ["created volume web-site", "created pod web", "started pod web (web-infra)", "created web-httpd",
           "started web-httpd"]
results:
  description:
    - One entry per object that the run changed (or would change, in check mode), in the order they were
      reconciled. An unchanged object is not listed here; RV(stack) has every object, changed or not.
    - Each has C(kind), C(name), C(changed), C(actions), C(pruned) when it was removed by O(prune) or
      O(state=absent), and a short view of the object after the run (C(id) and C(status) for containers and
      pods, C(pod) for containers in a pod, C(containers) for pods, C(mountpoint) and C(driver) for volumes,
      C(id), C(network_interface) and C(subnets) for networks).
    - In diff mode, also C(diff) (C(before) and C(after)).
  returned: always
  type: list
  elements: dict
  sample: [{"kind": "container", "name": "web-httpd", "changed": true, "actions": ["started web-httpd"],
            "id": "5f2c...", "status": "running", "pod": "web"}]
pruned:
  description: The objects removed because the lists no longer declare them (or, with O(state=absent), every
    object removed), as C(kind name).
  returned: always
  type: list
  elements: str
  sample: ["container old-worker", "volume old-cache"]
stack:
  description: The stack after the run. It has C(name), and C(networks), C(volumes), C(pods) and C(containers) as
    dicts of object names to the short views of RV(results). Objects that do not exist (yet, in check mode) are
    left out.
  returned: always
  type: dict
  sample: {"name": "web", "volumes": {"web-site": {"mountpoint": "/var/lib/libpod-engine/volumes/web-site/_data",
           "driver": "local"}}, "pods": {"web": {"id": "9a1b...", "status": "Running", "containers": ["web-infra",
           "web-httpd"]}}, "containers": {"web-httpd": {"id": "5f2c...", "status": "running", "pod": "web"}}}
diff:
  description: With C(--diff), per list and object name, the options that differ before and after.
  returned: when diff mode is on and something differs
  type: dict
  sample: {"before": {"containers": {"web-httpd": {"env": {}}}}, "after": {"containers": {"web-httpd": {"env":
           {"MODE": "production"}}}}}
"""

import functools
import json

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import (
    engine_argspec,
    engine_import,
    run_reconcile,
)

InvalidArg = engine_import("engine.base.errors").InvalidArg
reconcile_stack = engine_import("reconcile.stack").reconcile_stack

#: per kind: the option table (its module) that validates an entry; loaded for the kinds a stack has
#: (the network and volume tables bring their managers: ~17 ms of imports a container-only stack skips)
ENTRY_OPTIONS = {"network": "reconcile.network", "volume": "reconcile.volume", "pod": "reconcile.pod_options",
                 "container": "reconcile.container_options"}


def _entry_validator_of(kind):
    """The entry's module argument spec and its constraints (as that module declares them)."""
    spec = engine_import(ENTRY_OPTIONS[kind]).OPTIONS.argument_spec()
    if kind == "container":
        return ArgumentSpecValidator(spec, mutually_exclusive=[("recreate", "force_restart")])
    return ArgumentSpecValidator(spec)


def entry_validator(module):
    """validate(kind, item, where): an entry's parameters as its own module would validate them."""
    validators = {}
    shapes = {}  # entries alike but for their name are validated once (500 entries: ~0.3 s -> ~0.02 s)

    def validate(kind, item, where):
        key = _shape_key(kind, item)
        if key in shapes:
            blob, no_log = shapes[key]
            module.no_log_values.update(no_log)
            fresh = json.loads(blob)  # a fresh copy: ~4 times faster than copy.deepcopy for 500 entries
            fresh["name"] = item["name"]
            return fresh
        if kind not in validators:
            validators[kind] = _entry_validator_of(kind)
        checked = validators[kind].validate(item)
        no_log = getattr(checked, "_no_log_values", set())
        module.no_log_values.update(no_log)
        errors = [e.msg for e in checked.errors.errors if type(e).__name__ != "UnsupportedError"]
        if checked.unsupported_parameters:
            errors.insert(0, "unsupported parameters %s (an entry takes the parameters of libpod.engine.%s)"
                          % (", ".join(sorted(checked.unsupported_parameters)), kind))
        if errors:
            raise InvalidArg("%s: %s" % (where, "; ".join(errors)))
        blob = _as_json(checked.validated_parameters) if key is not None else None
        if blob is not None:
            shapes[key] = (blob, set(no_log))
        return checked.validated_parameters

    return validate


def _as_json(params):
    """``params`` as JSON when it reads back equal (plain JSON values); else None: not cached."""
    try:
        blob = json.dumps(params)
    except (TypeError, ValueError):
        return None
    return blob if json.loads(blob) == params else None


def _shape_key(kind, item):
    """What validation depends on besides a plain string name: entries with the same key validate to
    the same parameters but for ``name`` (a str, checked only as one). None: not cacheable."""
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        return None
    try:
        return kind, json.dumps({k: v for k, v in item.items() if k != "name"}, sort_keys=True)
    except (TypeError, ValueError):
        return None


def main():
    module = AnsibleModule(
        argument_spec=engine_argspec({
            "label": {"type": "str", "required": True, "aliases": ["name"]},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "networks": {"type": "list", "elements": "dict", "default": []},
            "volumes": {"type": "list", "elements": "dict", "default": []},
            "pods": {"type": "list", "elements": "dict", "default": []},
            "containers": {"type": "list", "elements": "dict", "default": []},
            "prune": {"type": "bool", "default": False},
        }),
        supports_check_mode=True,
    )
    run_reconcile(module, functools.partial(reconcile_stack, validate=entry_validator(module)))


if __name__ == "__main__":
    main()
