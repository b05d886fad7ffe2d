#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: container_copy
short_description: Copy files between the host and a container of the libpod.engine runtime
version_added: 0.2.0
description:
  - Copies a file or a directory from the host into a container, or from a container to the host, as
    C(podman cp) does, for running B(and stopped) containers (a stopped container's root filesystem is mounted
    for the copy; named volumes and bind mounts are written at their host source).
  - Idempotent by content - a file already there with the same content (sha256) and mode (and owner, when
    O(owner) is given) is not copied again, so a second run reports C(changed=false).
  - Container paths are resolved inside the container's root, as C(podman cp) does - a symlink in the container
    (even one pointing at C(/etc)) resolves within the container and never reaches the host's files. Symlinks
    inside a copied tree are copied as symlinks, never followed.
  - Limits - a symlink is resolved within the mount it is found in (a rootfs symlink pointing into a volume
    resolves in the rootfs); tmpfs mounts of a running container cannot be reached; sockets, FIFOs and device
    files in a copied tree are skipped.
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
    description: Name or ID of the container (running or stopped).
    type: str
    required: true
  src:
    description: Source path - on the host, or in the container with O(from_container=true).
    type: path
    required: true
  dest:
    description:
      - Destination path - in the container, or on the host with O(from_container=true). It is the final name
        of the copied file or directory (a directory's contents go into it); ending it with C(/) copies into
        that existing directory under the source's name.
      - The parent directory must exist.
    type: str
    required: true
  from_container:
    description: Copy from the container to the host instead of from the host into the container.
    type: bool
    default: false
  owner:
    description:
      - Owner (C(user) or C(user:group), names or numbers) of every copied file and directory. Into a container
        names are resolved in the container's C(/etc/passwd) and C(/etc/group), default C(0:0) (the
        container's root, as C(podman cp)); to the host on the host, default the user running the module.
    type: str
  mode:
    description: Mode (octal string such as C("0644")) of every copied file; default the source file's mode.
      Directories keep their source's mode.
    type: str
  force:
    description: Replace destination files that differ. With C(false) existing files are left as they are and
      only missing ones are copied.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Put a page into the web container (running or not)
  libpod.engine.container_copy:
    name: web
    src: /srv/site/index.html
    dest: /var/www/index.html
    mode: "0644"

- name: Copy a directory of the host into an existing directory (makes /var/www/site)
  libpod.engine.container_copy:
    name: web
    src: /srv/site
    dest: /var/www/

- name: Fetch a file out of the container
  libpod.engine.container_copy:
    name: web
    src: /etc/passwd
    dest: /srv/backups/web-passwd
    from_container: true
    owner: root
"""

RETURN = r"""
changed_paths:
  description: Destination paths (in the container, or on the host with O(from_container=true)) that were
    written, or would be in check mode.
  returned: success
  type: list
  elements: str
  sample: [/etc/app, /etc/app/app.conf]
dest:
  description: The destination path the source was copied to.
  returned: success
  type: str
  sample: /etc/app
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import (
    EngineError,
    engine_argspec,
    engine_import,
    fail,
    open_runtime,
)

find_container = engine_import("engine.objects.container").find_container


def parse_mode(module, value):
    if value is None:
        return None
    try:
        mode = int(str(value), 8)
    except ValueError:
        module.fail_json(msg="mode: %r is not an octal mode; quote it, e.g. mode: \"0644\"" % value)
    if not 0 <= mode <= 0o7777:
        module.fail_json(msg="mode: %r is out of range (0000-7777)" % value)
    return mode


def main():
    module = AnsibleModule(
        argument_spec=engine_argspec({
            "name": {"type": "str", "required": True},
            "src": {"type": "path", "required": True},
            "dest": {"type": "str", "required": True},
            "from_container": {"type": "bool", "default": False},
            "owner": {"type": "str"},
            "mode": {"type": "str"},
            "force": {"type": "bool", "default": True},
        }),
        supports_check_mode=True,
    )
    p = module.params
    mode = parse_mode(module, p["mode"])
    rt = open_runtime(module)
    try:
        ctr = find_container(rt, p["name"])
        if ctr is None:
            module.fail_json(msg="container %s does not exist; create it with libpod.engine.container" % p["name"],
                             error_kind="no_such_container")
        fn = ctr.copy_out if p["from_container"] else ctr.copy_into
        changed = fn(p["src"], p["dest"], mode=mode, owner=p["owner"], force=p["force"],
                     check_mode=module.check_mode)
    except EngineError as err:
        fail(module, err)
        return
    except OSError as err:
        module.fail_json(msg="copying %s to %s: %s" % (p["src"], p["dest"], err))
        return
    finally:
        rt.shutdown()
    for warning in rt.warnings:
        module.warn(warning)
    module.exit_json(changed=bool(changed), changed_paths=changed, dest=p["dest"])


if __name__ == "__main__":
    main()
