# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine's command line: what conmon's exit command and the boot unit run.

It runs from the copy of the engine kept under the static dir (see runtime.engine_copy),
long after the Ansible task that started the container has ended:

    python -I <static>/lib/<hash>/run.py [--set section.key=value ...] cleanup ID
    python -I <static>/lib/<hash>/run.py [--set ...] boot      # refresh + start restart=always
"""
from __future__ import annotations

import atexit
import gc
import os
import sys
from typing import Any, Dict, List, Optional


def _overrides(items: List[str]) -> Dict[str, Dict[str, Any]]:
    out: Dict[str, Dict[str, Any]] = {}
    for item in items:
        key, _unused, value = item.partition("=")
        section, _unused, name = key.partition(".")
        out.setdefault(section, {})[name] = value
    return out


def main(argv: Optional[List[str]] = None) -> int:
    # the process ends with this command: its last garbage collections need not walk every object
    # the imports made (tens of ms per container exit)
    atexit.register(gc.freeze)
    import argparse  # noqa: PLC0415 - this module is imported by every task (to ship it), run only by conmon

    parser = argparse.ArgumentParser(prog="libpod-engine")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--conf", help="the containers.conf to read instead of the system chain")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_clean = sub.add_parser("cleanup", help="after a container exited: restart policy or cleanup")
    p_clean.add_argument("id")
    sub.add_parser("boot", help="after boot: refresh, then start restart_policy=always containers")
    p_health = sub.add_parser("healthcheck", help="a container's health monitor (started with the container)")
    p_health.add_argument("id")
    args = parser.parse_args(argv)
    overrides = _overrides(args.set)
    static_dir = overrides.get("engine", {}).get("static_dir")
    tmp_dir = overrides.get("engine", {}).get("tmp_dir")
    if args.cmd == "cleanup" and static_dir:
        # before the engine's import: the standard library only (store/ofd.py)
        from ..store.ofd import DB_FILE, container_removed  # noqa: PLC0415

        if not os.path.exists(os.path.join(static_dir, DB_FILE)):
            return 0  # the engine was reset meanwhile: opening it would create a new, empty one
        if tmp_dir and container_removed(static_dir, tmp_dir, args.id):
            return 0  # removed (``state: absent`` cleans up under the container's lock): nothing left to do

    # conmon (and so this exit command) may run in crun's private mount namespace:
    # return to the host's before touching any mount.
    from ..oci.driver import restore_host_mount_ns  # noqa: PLC0415

    restore_host_mount_ns()
    from ..base.errors import EngineError  # noqa: PLC0415
    from ..objects.container import find_container, list_containers  # noqa: PLC0415
    from ..objects.restart import pod_restart_policy  # noqa: PLC0415
    from ..runtime import OpenOptions  # noqa: PLC0415
    from .session import open_runtime  # noqa: PLC0415

    if args.conf:
        os.environ["LIBPOD_ENGINE_CONF"] = args.conf
    try:
        rt = open_runtime(OpenOptions(overrides=overrides))
    except EngineError as exc:
        sys.stderr.write("libpod-engine: %s\n" % exc)
        return 125
    try:
        if args.cmd == "healthcheck":
            from ..objects.healthmon import run as run_health_monitor  # noqa: PLC0415 - monitors only

            return run_health_monitor(rt, args.id, find_container)
        if args.cmd == "cleanup":
            ctr = find_container(rt, args.id)
            if ctr is None:
                return 0  # removed meanwhile (e.g. by `state: absent`)
            try:
                done = ctr.cleanup_after_exit()
                sys.stdout.write("%s\n" % (done,))
                if ctr.config.get("pod") and done in ("cleaned", "removed"):
                    from ..objects.pod import apply_exit_policy  # noqa: PLC0415 - pod members only

                    apply_exit_policy(rt, ctr.config["pod"], ctr.id)
            except EngineError as exc:
                # nobody reads conmon's exit-command output: leave the reason in the events log
                rt.event("container", "cleanup-failed", id=ctr.id, name=ctr.name,
                         attributes={"error": str(exc)})
                raise
            return 0
        failed = 0
        for ctr in list_containers(rt):
            policy = pod_restart_policy(ctr).get("name", "no")  # its own, else its pod's
            if policy in ("always", "unless-stopped") and not ctr.state.get("stopped_by_user"):
                try:
                    ctr.start()
                except EngineError as exc:
                    failed += 1
                    sys.stderr.write("libpod-engine: starting %s: %s\n" % (ctr.name, exc))
        return 1 if failed else 0
    except EngineError as exc:
        sys.stderr.write("libpod-engine: %s\n" % exc)
        return 125
    finally:
        rt.shutdown()


if __name__ == "__main__":
    raise SystemExit(main())
