# SPDX-License-Identifier: GPL-3.0-or-later
"""A fresh interpreter doing what one module process does, timed by phase; prints one JSON line.

    _worker.py open [REPEAT]                 import the runtime, Runtime.open() + shutdown() REPEAT times
    _worker.py create NAME NETWORK [STATE]   import, open, reconcile_container (create [+ start])
    _worker.py noop NAMES_JSON               import, open, no-op reconcile of each container named

The engine root comes from LIBPOD_ENGINE_CONF (bench/common.py BenchRoot.env()).
"""
from __future__ import annotations

import json
import sys
import time

from _params import container_params

T_START = time.perf_counter()


def main(argv):
    cmd = argv[0]
    out = {}
    t0 = time.perf_counter()
    from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import open_runtime
    from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions

    out["import_runtime"] = time.perf_counter() - t0
    if cmd == "open":
        repeat = int(argv[1]) if len(argv) > 1 else 1
        opens, shutdowns, refreshed = [], [], []
        for _i in range(repeat):
            t0 = time.perf_counter()
            rt = open_runtime(OpenOptions())
            t1 = time.perf_counter()
            refreshed.append(rt.refreshed)
            rt.shutdown()
            opens.append(t1 - t0)
            shutdowns.append(time.perf_counter() - t1)
        out.update(open=opens, shutdown=shutdowns, refreshed=refreshed)
    elif cmd in ("create", "noop"):
        t0 = time.perf_counter()
        from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container import reconcile_container

        out["import_reconcile"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        rt = open_runtime(OpenOptions())
        out["open"] = time.perf_counter() - t0
        try:
            if cmd == "create":
                name, network = argv[1], argv[2]
                state = argv[3] if len(argv) > 3 else "started"
                t0 = time.perf_counter()
                res = reconcile_container(rt, container_params(name, network=network, state=state))
                out["reconcile"] = time.perf_counter() - t0
                out["actions"] = list(res.actions)
            else:
                names = json.loads(argv[1])
                changed = 0
                t0 = time.perf_counter()
                for name in names:
                    res = reconcile_container(rt, container_params(name, network="none", state="created"))
                    changed += bool(res.actions)
                out["loop"] = time.perf_counter() - t0
                out["changed"] = changed
                out["items"] = len(names)
        finally:
            t0 = time.perf_counter()
            rt.shutdown()
            out["shutdown"] = time.perf_counter() - t0
    else:
        raise SystemExit("unknown command %r" % cmd)
    out["total_in_process"] = time.perf_counter() - T_START
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
