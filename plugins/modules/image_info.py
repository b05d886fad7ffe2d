#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_info
short_description: Inspect images of the libpod.engine runtime
version_added: 0.1.0
description:
  - Returns inspect data (the keys of C(podman image inspect)) of one, several or all images, in the shape
    of containers.podman's C(podman_image_info), plus the containers that use each image.
  - Reads the engine's database only; no registry is contacted.
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
    description: Names, IDs or unique ID prefixes of the images; all images when omitted. Unknown names are
      skipped and listed in RV(missing).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: All images
  libpod.engine.image_info:
  register: all_images

- name: One image
  libpod.engine.image_info:
    name: localhost/busybox:latest
  register: busybox

- name: Who uses it
  ansible.builtin.debug:
    msg: "{{ busybox.images[0].Containers }}"
"""

RETURN = r"""
images:
  description: Inspect data of each image found, oldest first when all are listed, else in the order asked.
  returned: always
  type: list
  elements: dict
  contains:
    Id:
      description: The image ID (the digest of its config, without C(sha256:)).
      type: str
    Digest:
      description: The manifest digest it was pulled or imported with.
      type: str
    RepoTags:
      description: Its names.
      type: list
      elements: str
    RepoDigests:
      description: C(name@digest) for each name and each manifest digest seen.
      type: list
      elements: str
    Created:
      description: The image's creation time from its config (RFC 3339).
      type: str
    Size:
      description: Bytes of all its layers, uncompressed.
      type: int
    Config:
      description: The image config (Cmd, Entrypoint, Env, WorkingDir, User, Labels, ...).
      type: dict
    Architecture:
      description: Its architecture.
      type: str
    Os:
      description: Its operating system.
      type: str
    Labels:
      description: Its labels.
      type: dict
    History:
      description: The history entries of its config.
      type: list
      elements: dict
    HistoryCount:
      description: How many history entries it has.
      type: int
    Containers:
      description: Names of the containers (in any state) created from it.
      type: list
      elements: str
  sample: [{"Id": "0b1c2d3e...", "RepoTags": ["localhost/demo:1"], "Size": 2300000, "Containers": ["web"],
            "HistoryCount": 1}]
missing:
  description: Requested names that matched no image.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import (
    NAMES_ARGSPEC,
    engine_argspec,
    engine_import,
    run_named_info,
)

inspect_image = engine_import("reconcile.image").inspect_image


def main():
    module = AnsibleModule(argument_spec=engine_argspec(NAMES_ARGSPEC), supports_check_mode=True)
    run_named_info(module, "images", source)


def source(rt):
    images = rt.images
    return images.resolve, images.list, lambda img: inspect_image(rt, img)


if __name__ == "__main__":
    main()
