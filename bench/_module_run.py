# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one of the collection's modules in this interpreter, as AnsiballZ would (for profiling).

    _module_run.py MODULE ARGS_JSON_FILE

The module's result JSON goes to stdout; its engine root comes from LIBPOD_ENGINE_CONF
(bench/common.py BenchRoot.env()). Bytecode is cached, unlike AnsiballZ's zip imports.
"""
from __future__ import annotations

import json
import runpy
import sys


def main(argv) -> None:
    module, args_file = argv[0], argv[1]
    with open(args_file, encoding="utf-8") as f:
        args = json.load(f)
    from ansible.module_utils import basic  # noqa: PLC0415 - what AnsiballZ sets up before the module runs

    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()  # pylint: disable=protected-access
    basic._ANSIBLE_PROFILE = "legacy"  # pylint: disable=protected-access
    try:
        runpy.run_module("ansible_collections.libpod.engine.plugins.modules.%s" % module, run_name="__main__",
                         alter_sys=True)
    except SystemExit:
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
