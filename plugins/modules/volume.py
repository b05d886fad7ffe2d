#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume
short_description: Manage named volumes of the libpod.engine runtime
version_added: 0.1.0
description:
  - Creates and removes named volumes on the managed node, as C(podman volume create) and
    C(podman volume rm) do, without podman or any daemon. The parameters are those of
    containers.podman's C(podman_volume) (states V(present), V(mounted), V(unmounted) and V(absent)),
    plus O(force).
  - A V(local) volume is a directory under the engine's C(volume_path), or with O(options) a mount
    (tmpfs, a bind of a host directory, a block device) made when the first container that uses it
    starts and undone when the last one stops. Other drivers are Docker volume plugins configured
    under C([engine.volume_plugins]) in containers.conf.
  - "Idempotency: the normalised spec declared by the task (O(driver), O(label), O(options), O(uid),
    O(gid)) is stored with the volume, and a re-run compares declared with declared. An omitted
    option means its default, so removing labels or options from a task is a change."
  - A volume cannot be changed in place. Any difference recreates it (removes it and creates it
    again), which B(deletes its data); RV(actions) says why. A volume used by containers (in any
    state) is only recreated or removed with O(force), which removes those containers first.
author:
  - libpod.engine contributors (@libpod-engine)
extends_documentation_fragment:
  - libpod.engine.engine
  - libpod.engine.engine.ACTIONGROUP
attributes:
  check_mode:
    support: full
    details: Nothing is created, removed or mounted; RV(actions) lists what would be done, and a
      task that would fail (a bad option, a volume in use without O(force)) fails in check mode too.
  diff_mode:
    support: full
    details: C(before) and C(after) hold exactly the options that differ, as normalised values;
      for a creation or a removal they hold C(exists).
options:
  name:
    description:
      - Name of the volume. Letters, digits, V(_), V(.) and V(-), starting with a letter or a digit,
        at most 255 characters (so a name is always one safe path component; V(../x) or V(a/b) are refused).
    type: str
    required: true
  state:
    description:
      - V(present) creates the volume, or recreates it when the declared spec differs or O(recreate) is set.
      - V(mounted) is V(present), then mounts the volume as C(podman volume mount) does (a V(local) volume
        with O(options) is mounted, one without is its data directory) and returns RV(mount_point). The task
        holds one reference on the volume, taken once, so a re-run is no change (the peer's module reports a
        change each time); a mount lost meanwhile is made again, and so is the mount of a volume the task recreates.
      - V(unmounted) drops that reference (C(podman volume unmount)); the volume is really unmounted when no
        running container uses it either. A volume not mounted by V(mounted) is no change; a missing volume
        fails the task, as the peer's module.
      - V(absent) removes it (and its data). A missing volume is no change.
    type: str
    choices: [present, mounted, unmounted, absent]
    default: present
  driver:
    description:
      - V(local), or the name of a volume plugin configured under C([engine.volume_plugins]) in
        containers.conf (its value is the plugin's unix socket).
    type: str
    default: local
  label:
    description: Labels of the volume, a dict of names to values.
    type: dict
    aliases: [labels]
  options:
    description:
      - Driver options, as podman's C(--opt). A list of C(key=value) strings (a bare C(key) is a flag),
        or a dict.
      - For the V(local) driver, C(type) and C(device) and C(o) describe a mount, for example
        V(type=tmpfs), V(device=tmpfs), V(o=size=16m) for a size-limited tmpfs, or V(type=none),
        V(device=/srv/data), V(o=bind) for a host directory. C(o) holds comma-separated mount options,
        C(uid) and C(gid) the owner of the volume root, C(nocopy) skips copying the image's content
        into the empty volume.
      - On the first use of an empty volume (as podman), the image's content at the mount path is copied
        into it and the volume root takes the owner and mode of the image's directory. B(The copy includes
        setuid/setgid files and file capabilities from the image); use C(nocopy) for volumes shared with
        other containers or the host. A volume that already has content keeps its owner and mode, and a
        bind volume's host directory (V(o=bind)) never takes the image's owner or mode.
      - For a plugin driver the options are sent to the plugin, except C(copy)/C(nocopy) and
        C(o=timeout=SECONDS) (the time the engine waits for each plugin call).
      - Compared as a set of keys; the value of C(o) is compared as written (order kept), with
        whitespace around its entries removed.
    type: raw
  uid:
    description: Numeric owner of the volume root (V(local) driver only; the same as C(uid=N) in O(options)).
    type: int
  gid:
    description: Numeric group of the volume root (V(local) driver only; the same as C(gid=N) in O(options)).
    type: int
  recreate:
    description: Remove and create the volume even if nothing changed (never idempotent; deletes its data).
    type: bool
    default: false
  force:
    description:
      - Allow removing or recreating a volume that containers use. Those containers (running or not)
        are removed first, and RV(actions) names them.
      - Without it such a task fails and names the containers.
    type: bool
    default: false
notes:
  - Removing a plugin volume needs the plugin. If it does not answer within its timeout the task fails
    and the volume stays in the engine's database, so the task can simply be run again.
"""

EXAMPLES = r"""
- name: A plain named volume
  libpod.engine.volume:
    name: appdata
    label:
      app: web

- name: A 16 MiB tmpfs volume owned by UID 1000
  libpod.engine.volume:
    name: scratch
    options:
      - type=tmpfs
      - device=tmpfs
      - o=size=16m,mode=0750
    uid: 1000

- name: The same options as a dict
  libpod.engine.volume:
    name: scratch
    options:
      type: tmpfs
      device: tmpfs
      o: size=16m,mode=0750
    uid: 1000

- name: A host directory as a volume
  libpod.engine.volume:
    name: site
    options: [type=none, device=/srv/site, o=bind]

# example-test: skip (needs a volume plugin named myplugin configured under [engine.volume_plugins])
- name: A volume of a plugin configured under [engine.volume_plugins]
  libpod.engine.volume:
    name: shared
    driver: myplugin
    options: [o=timeout=30]

# example-test: diff (label)
# A volume cannot change in place: applied, this recreates appdata and DELETES ITS DATA
# (an appdata in use by a container is refused unless force - true removes that container)
- name: Preview a label change (applied, it recreates the volume and deletes its data)
  libpod.engine.volume:
    name: appdata
    label:
      app: shop
  check_mode: true
  diff: true
  register: preview

- name: Remove a volume and every container that uses it
  libpod.engine.volume:
    name: appdata
    state: absent
    force: true
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), with the reason.
  returned: always
  type: list
  elements: str
  sample: ["removed container(s) web (using volume appdata)", "recreated volume appdata: label changed"]
volume:
  description: The volume after the task, inspect-like (as C(podman volume inspect)); empty when it is
    absent, or in check mode when it would be created.
  returned: always
  type: dict
  contains:
    Name:
      description: Volume name.
      type: str
    Driver:
      description: V(local) or the plugin's name.
      type: str
    Mountpoint:
      description: Host path of the volume's data (for a plugin, where the plugin mounted it, empty while
        it is not mounted).
      type: str
    CreatedAt:
      description: Creation time, RFC 3339.
      type: str
    Labels:
      description: Labels.
      type: dict
    Options:
      description: Driver options as stored (uid and gid included).
      type: dict
    Scope:
      description: Always V(local).
      type: str
    MountCount:
      description: How many running users have it mounted now.
      type: int
    UID:
      description: Owner of the volume root as declared (0 when not declared).
      type: int
    GID:
      description: Group of the volume root as declared (0 when not declared).
      type: int
  sample: {"Name": "appdata", "Driver": "local", "Mountpoint": "/var/lib/libpod-engine/volumes/appdata/_data",
           "CreatedAt": "2024-05-01T10:00:00+00:00", "Labels": {"app": "web"}, "Options": {}, "Scope": "local",
           "MountCount": 0, "UID": 0, "GID": 0}
mount_point:
  description:
    - With O(state=mounted), the host path where the volume's data is mounted.
    - In check mode, empty for a volume of a plugin driver that nothing has mounted yet, or that the task
      would create or recreate; a plugin chooses the path only when it mounts the volume
      (C(VolumeDriver.Mount)), which check mode does not call. C(podman volume inspect) likewise reports an
      empty C(Mountpoint) for a plugin volume until it is mounted. A plugin volume already mounted (by a
      container or an earlier task) returns its path in check mode too.
  returned: when O(state=mounted)
  type: str
  sample: /var/lib/libpod-engine/volumes/appdata/_data
diff:
  description: With C(--diff), the options that differ before and after.
  returned: when diff mode is on and something differs
  type: dict
  sample: {"before": {"label": {"app": "web"}}, "after": {"label": {"app": "shop"}}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import (
    engine_argspec,
    engine_import,
    run_reconcile,
)

OPTIONS = engine_import("reconcile.volume").OPTIONS
reconcile_volume = engine_import("reconcile.volume").reconcile_volume


def main():
    module = AnsibleModule(argument_spec=engine_argspec(OPTIONS.argument_spec()), supports_check_mode=True)
    run_reconcile(module, reconcile_volume)


if __name__ == "__main__":
    main()
