#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image
short_description: Manage images of the libpod.engine runtime (pull, import, tag, save, remove, prune)
version_added: 0.1.0
description:
  - Pulls, imports, tags, saves and removes images in the engine's image store on the managed node, as
    C(podman pull), C(podman load), C(podman import), C(podman tag), C(podman save), C(podman rmi) and
    C(podman image prune) do, without podman or any daemon. Parameter names follow containers.podman's
    C(podman_image), C(podman_load) and C(podman_save) where they have one.
  - "Idempotency is by content: importing the same file again is no change (compared by image ID for
    archives, by layer digest and config for a rootfs tarball, whose C(created) time is not compared);
    saving to an archive that already holds the image under the same name is no change."
  - Every change is written to the events log as an image event (pull, import, tag, untag, remove,
    prune, save).
author:
  - libpod.engine contributors (@libpod-engine)
extends_documentation_fragment:
  - libpod.engine.engine
  - libpod.engine.engine.ACTIONGROUP
attributes:
  check_mode:
    support: full
    details: Nothing is pulled, imported, written or removed; RV(actions) lists what would be done. Files
      given in O(path) are read (hashed) to tell whether an import is due.
  diff_mode:
    support: full
    details: C(before) and C(after) hold the image ID (or names) before and after the task.
options:
  name:
    description:
      - The image reference. A plain name (V(localhost/demo:1); V(demo) means V(localhost/demo:latest) for
        an import), a V(docker://) reference, an image ID, or a name with a file transport
        (V(oci-archive:PATH)) to import without O(path).
      - Required unless O(prune) is set.
    type: str
  state:
    description:
      - V(present) makes sure the image exists. With O(path) it is imported from that file and O(name) points
        to it; without, it is pulled per O(pull).
      - V(tagged) gives the local image O(name) the names in O(tags); nothing is pulled.
      - V(absent) removes O(name) as C(podman rmi) does. A name among several is only untagged. Otherwise the
        image is removed; while containers use it the task fails and names them, unless O(force).
      - V(saved) writes the image to O(save_path) in O(format).
    type: str
    choices: [present, absent, tagged, saved]
    default: present
  pull:
    description:
      - For V(present) without O(path), when to fetch the image. V(missing) only when it is not in the local
        store, V(always) on every run, V(newer) when the source's digest differs from the local one, V(never)
        fails if the image is not local.
    type: str
    choices: [missing, always, newer, never]
    default: missing
  path:
    description:
      - A file or directory to import (V(present) only). An OCI archive, a C(docker save) archive, an OCI
        layout directory, or a plain root filesystem tarball (C(tar -C DIR -cf FILE .), plain or gzip) as
        C(podman import) takes it. The kind is detected; a transport prefix (V(oci:), V(oci-archive:),
        V(docker-archive:), optionally with V(:REF) to pick an image) skips the detection.
    type: str
  change:
    description:
      - The image config of a rootfs tarball import, as C(podman import --change). Keys C(cmd), C(entrypoint)
        (lists, or a string run with C(/bin/sh -c)), C(env) (dict or C(KEY=VALUE) list), C(workdir), C(user)
        and C(labels) (dict).
    type: dict
  tags:
    description: More names for the image (V(present), V(tagged)). A name another image has moves to this one.
    type: list
    elements: str
  force:
    description:
      - With V(absent), remove the image although containers use it; those containers (in any state) are
        removed first, and RV(actions) names them. Also removes an image by a name among several.
    type: bool
    default: false
  save_path:
    description: The archive to write with V(saved) (replaced atomically).
    type: path
  format:
    description:
      - The archive format of V(saved), as C(podman save --format). Both load with C(podman load). Layers are
        written uncompressed and byte for byte as imported, so loading the archive gives the same image ID.
    type: str
    choices: [oci-archive, docker-archive]
    default: oci-archive
  prune:
    description:
      - Remove unused images instead of managing one (a task of its own, without O(name)), as C(podman image
        prune). V(dangling) removes images without a name that no container uses, V(all) every image no
        container uses. RV(pruned) says which and how many bytes that freed.
    type: str
    choices: [dangling, all]
  filters:
    description:
      - Narrow O(prune). C(label) (V(key) or V(key=value), a string or a list; all must match), C(label!)
        (none may match), C(until) (images stored before a time, given as a duration such as V(24h)
        meaning that long ago, a Unix timestamp, or V(2024-01-31T00:00:00Z)).
    type: dict
  platform:
    description: V(os/arch[/variant]) to pick from a multi-platform image, and the platform a rootfs tarball
      import records. Default is the host's.
    type: str
"""

EXAMPLES = r"""
- name: Make an image from a directory (no registry needed)
  ansible.builtin.command: tar -C /srv/rootfs -cf /tmp/demo-rootfs.tar .
  changed_when: false

- name: Import it, with the config podman import --change would set
  libpod.engine.image:
    name: localhost/demo:1
    path: /tmp/demo-rootfs.tar
    change:
      cmd: [httpd, -f, -p, "8080"]
      workdir: /
      labels:
        app: demo

- name: Load an archive made by podman save, and give it a second name
  libpod.engine.image:
    name: localhost/app:1
    path: /tmp/app-oci.tar
    tags: [localhost/app:stable]

# example-test: skip (needs the registry registry.example.com)
- name: Pull from a registry when the tag moved
  libpod.engine.image:
    name: docker://registry.example.com/team/app:1
    pull: newer

- name: Save for another host (podman load reads it)
  libpod.engine.image:
    name: localhost/demo:1
    state: saved
    save_path: /tmp/demo.tar
    format: docker-archive

- name: Remove an image and the containers that use it
  libpod.engine.image:
    name: localhost/demo:1
    state: absent
    force: true

- name: Remove every unused image older than a week
  libpod.engine.image:
    prune: all
    filters:
      until: 168h
  register: pruned
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode) with digests and sizes, or why nothing was done.
  returned: always
  type: list
  elements: str
  sample: ["imported rootfs tarball /tmp/demo-rootfs.tar (layer 3f0c5a1e2b4d, 2.3 MB) as localhost/demo:1: image
            0b1c2d3e4f50, digest sha256:..., 2.3 MB"]
image:
  description: The image after the task, as RV(libpod.engine.image_info#module:image_info) returns each one;
    empty when it is absent, or in check mode when it would be imported.
  returned: always
  type: dict
  sample: {"Id": "0b1c2d3e4f50...", "RepoTags": ["localhost/demo:1"], "Size": 2300000, "Containers": []}
pruned:
  description: With O(prune), the IDs of the images removed (or that would be) and the bytes that freed under
    the graph root.
  returned: when prune is set
  type: dict
  sample: {"images": ["0b1c2d3e4f50..."], "bytes": 2310144}
saved:
  description: With V(saved), the archive's path, format and size in bytes.
  returned: when state is saved and the archive holds the image
  type: dict
  sample: {"path": "/tmp/demo.tar", "format": "oci-archive", "size": 2324480}
diff:
  description: With C(--diff), the image before and after.
  returned: when diff mode is on and something changed
  type: dict
  sample: {"before": {"id": null}, "after": {"id": "0b1c2d3e4f50..."}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import (
    engine_argspec,
    engine_import,
    run_reconcile,
)

reconcile_image = engine_import("reconcile.image").reconcile_image

ARGUMENT_SPEC = {
    "name": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent", "tagged", "saved"], "default": "present"},
    "pull": {"type": "str", "choices": ["missing", "always", "newer", "never"], "default": "missing"},
    "path": {"type": "str"},
    "change": {"type": "dict"},
    "tags": {"type": "list", "elements": "str"},
    "force": {"type": "bool", "default": False},
    "save_path": {"type": "path"},
    "format": {"type": "str", "choices": ["oci-archive", "docker-archive"], "default": "oci-archive"},
    "prune": {"type": "str", "choices": ["dangling", "all"]},
    "filters": {"type": "dict"},
    "platform": {"type": "str"},
}


def main():
    module = AnsibleModule(argument_spec=engine_argspec(ARGUMENT_SPEC), supports_check_mode=True,
                           required_one_of=[("name", "prune")])
    run_reconcile(module, reconcile_image)


if __name__ == "__main__":
    main()
