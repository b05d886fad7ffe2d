#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: container_exec
short_description: Run a command in a running container of the libpod.engine runtime
version_added: 0.2.0
description:
  - Runs one command inside a running container, as C(podman exec) does, and returns its exit code and output
    like M(ansible.builtin.command).
  - The command runs through the OCI runtime's C(exec) with the container's own process spec read back from
    its bundle, so it gets the container's capabilities, rlimits, C(no_new_privileges), seccomp filter and
    cgroup, never more (unless O(privileged) is set). A non-root O(user) gets only the container's added
    capabilities.
  - B(Not idempotent by nature) - the module always reports C(changed=true) when the command ran. Use
    C(changed_when) (for example on RV(rc) or RV(stdout)) to say when a run changed something.
  - In check mode nothing is run; the task is reported as skipped with a message saying so.
  - A non-zero exit code of the command fails the task (use C(failed_when) or C(ignore_errors) to accept it),
    as M(ansible.builtin.command) does. A command that does not exist in the container gives rc 127, one that
    cannot be executed rc 126, as C(podman exec).
  - As with M(ansible.builtin.command), the task waits until the command's output is closed - a background
    job started by the command must redirect its output (C(job >/dev/null 2>&1 &)), or use O(detach).
  - Each run writes C(exec) and C(exec_died) events to the engine's events log.
author:
  - libpod.engine contributors (@libpod-engine)
extends_documentation_fragment:
  - libpod.engine.engine
  - libpod.engine.engine.ACTIONGROUP
attributes:
  check_mode:
    support: partial
    details: The command is not run in check mode; the task is reported as skipped.
  diff_mode:
    support: none
options:
  name:
    description: Name or ID of the running container.
    type: str
    required: true
  command:
    description:
      - The command to run. A list is used as is (no shell); a string is split like a shell would split it
        (quotes are honoured, but there are no shell features - run C([sh, -c, "..."]) for pipes or redirections).
    type: raw
    required: true
  env:
    description: Environment variables added to (or overriding) the container's environment for this command.
    type: dict
  user:
    description: User (C(name), C(uid), C(user:group)) to run the command as, resolved in the container's
      C(/etc/passwd) and C(/etc/group); default the container's user.
    type: str
  workdir:
    description: Working directory (absolute path in the container); default the container's.
    type: str
  privileged:
    description: Give the command every capability of the host's bounding set, as C(podman exec --privileged).
      The container's seccomp filter and cgroup still apply.
    type: bool
    default: false
  tty:
    description: Allocate a terminal. Only C(false) is supported (output is captured, not interactive).
    type: bool
    default: false
  detach:
    description: Start the command and return at once, without its output or exit code (no RV(rc);
      RV(pid) is the process id on the host).
    type: bool
    default: false
  timeout:
    description: Seconds the command may run; it is killed and the task fails after that. C(0) waits forever.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Make a directory in the web container, a change only when it was missing
  libpod.engine.container_exec:
    name: web
    command: [sh, -c, 'if [ -d "$DIR" ]; then echo exists; else mkdir -p "$DIR"; fi']
    env:
      DIR: /var/www/uploads
  register: mkdir
  # in check mode the command does not run and there is no stdout
  changed_when: mkdir.stdout is defined and 'exists' not in mkdir.stdout

- name: A read-only query never reports a change
  libpod.engine.container_exec:
    name: web
    command: id -un
    user: www-data
  register: whoami
  changed_when: false

- name: Start a background job
  libpod.engine.container_exec:
    name: web
    command: [sh, -c, "sleep 30 > /tmp/job.log 2>&1"]
    detach: true
"""

RETURN = r"""
rc:
  description: Exit code of the command.
  returned: when the command ran without O(detach)
  type: int
  sample: 0
stdout:
  description: Standard output of the command.
  returned: success or a failed command
  type: str
  sample: "uid=0(root) gid=0(root)"
stderr:
  description: Standard error of the command.
  returned: success or a failed command
  type: str
  sample: ""
stdout_lines:
  description: RV(stdout) split into lines.
  returned: success or a failed command
  type: list
  elements: str
stderr_lines:
  description: RV(stderr) split into lines.
  returned: success or a failed command
  type: list
  elements: str
cmd:
  description: The command as it was run (a list).
  returned: always
  type: list
  elements: str
  sample: [id, -u]
pid:
  description: Host process id of the command (useful with O(detach=true)).
  returned: success
  type: int
delta:
  description: How long the command ran.
  returned: success
  type: str
  sample: "0:00:00.081234"
"""

import datetime
import shlex

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import (
    EngineError,
    engine_argspec,
    engine_import,
    fail,
    open_runtime,
)

find_container = engine_import("engine.objects.container").find_container


def command_list(module, value):
    if isinstance(value, (list, tuple)):
        if not value:
            module.fail_json(msg="command: must not be empty; give the command to run, e.g. command: [id, -u]")
        return [to_text(v) for v in value]
    if isinstance(value, str):
        try:
            args = shlex.split(value)
        except ValueError as e:
            module.fail_json(msg="command: cannot split %r: %s; give a list instead" % (value, e))
        if not args:
            module.fail_json(msg="command: must not be empty; give the command to run, e.g. command: [id, -u]")
        return args
    module.fail_json(msg="command: expected a list or a string, got %s" % type(value).__name__)


def main():
    module = AnsibleModule(
        argument_spec=engine_argspec({
            "name": {"type": "str", "required": True},
            "command": {"type": "raw", "required": True},
            "env": {"type": "dict"},
            "user": {"type": "str"},
            "workdir": {"type": "str"},
            "privileged": {"type": "bool", "default": False},
            "tty": {"type": "bool", "default": False},
            "detach": {"type": "bool", "default": False},
            "timeout": {"type": "int", "default": 0},
        }),
        supports_check_mode=True,
    )
    p = module.params
    args = command_list(module, p["command"])
    if p["tty"]:
        module.fail_json(msg="tty: only false is supported (the output is captured); drop tty", cmd=args)
    if p["timeout"] < 0:
        module.fail_json(msg="timeout: must be 0 (no limit) or more, got %d" % p["timeout"], cmd=args)
    if module.check_mode:
        module.exit_json(changed=False, skipped=True, cmd=args,
                         msg="Command would have run if not in check mode (container_exec never runs in check mode)")
    env = {to_text(k): to_text(v) for k, v in (p["env"] or {}).items()}
    rt = open_runtime(module)
    start = datetime.datetime.now()
    try:
        ctr = find_container(rt, p["name"])
        if ctr is None:
            module.fail_json(msg="container %s does not exist; create and start it with libpod.engine.container"
                             % p["name"], cmd=args, error_kind="no_such_container")
        res = ctr.exec(args, env=env, user=p["user"], workdir=p["workdir"], privileged=p["privileged"],
                       detach=p["detach"], timeout=p["timeout"] or None)
    except EngineError as err:
        fail(module, err, cmd=args)
        return
    finally:
        rt.shutdown()
    for warning in rt.warnings:
        module.warn(warning)
    stdout = to_text(res.stdout, errors="surrogate_or_replace").rstrip("\n")
    stderr = to_text(res.stderr, errors="surrogate_or_replace").rstrip("\n")
    result = dict(changed=True, cmd=args, rc=res.rc, stdout=stdout, stderr=stderr,
                  stdout_lines=stdout.splitlines(), stderr_lines=stderr.splitlines(), pid=res.pid,
                  delta=str(datetime.datetime.now() - start))
    if p["detach"]:
        del result["rc"]  # Ansible reads any rc other than 0 as a failure
    elif res.rc:
        module.fail_json(msg="non-zero return code", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
