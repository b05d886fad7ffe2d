# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bench_stack's control: a module that takes a stack task's arguments and does nothing, so that
Ansible's own cost of a task with N entries (templating, payload, argument spec, result) is
measured apart from ours. With E(LPE_SINK_RESULT) naming a JSON file, it returns that result: what
a result of that size costs, module and controller."""
from __future__ import annotations

import json
import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={"label": {"type": "str"},
                                          "containers": {"type": "list", "elements": "dict"}},
                           supports_check_mode=True)
    canned = os.environ.get("LPE_SINK_RESULT")  # a result to return as is: what its size costs
    if canned:
        with open(canned, encoding="utf-8") as f:
            module.exit_json(**json.load(f))
    module.exit_json(changed=False)


if __name__ == "__main__":
    main()
