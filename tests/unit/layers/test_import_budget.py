# SPDX-License-Identifier: GPL-3.0-or-later
"""The import budget of a no-op ``container`` task (issue 20).

A task whose container already exists as declared opens the runtime, compares options and looks
the image up by name. It must not pay for what only other paths use: networking (pyroute2,
the network package), registry HTTP (ssl, http.client, urllib.request), layer unpacking (tarfile,
gzip, zstandard), the /etc file writers, kube/YAML, the config schema validator (jsonschema is
loaded only when a config file changed) and the TOML parser (the test's containers.conf is empty).
The no-op runs in a fresh interpreter (a module process) against a real engine root with a
container marked running (its conmon and process: this test's own PID), so that the task syncs it
as a no-op on a running container does (conmon's exit file is read without the OCI driver). The
modules it loaded are compared with the lists below. A new module on the no-op path must be added
to ALLOWED on purpose.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers.images import busybox_image, write_oci_archive
from helpers.roots import throwaway_root

from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.container import find_container
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import open_runtime
from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container import reconcile_container
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS

PKG = "ansible_collections.libpod.engine.plugins.module_utils."
IMAGE = "localhost/busybox:latest"

#: third-party and stdlib modules a no-op must not load (prefix match on the dotted name)
FORBIDDEN = ("pyroute2", "ssl", "_ssl", "http.client", "urllib.request", "tarfile", "gzip", "zstandard",
             "ruamel", "yaml", "jsonschema", "email", "tomllib")

#: the collection's modules a no-op may load: the glue, config, state, locks, the option comparison,
#: the image index (reference parsing, no registry client) and the container object with inspect
ALLOWED = {
    "ansible_engine", "packed_loader", "packed_index",
    "reconcile", "reconcile.container", "reconcile.container_compare", "reconcile.container_options",
    "reconcile.container_secrets", "reconcile.container_params", "reconcile.container_build",
    "reconcile.options", "reconcile.result",
    "reconcile.task",  # the module bodies (run_reconcile ...), packed: loaded as bytecode
    "engine", "engine.ops", "engine.ops.session", "engine.runtime",
    # not engine.base.records: its record classes are built only to create a container
    "engine.base", "engine.base.errors", "engine.base.faults", "engine.base.names", "engine.base.netmodes",
    "engine.base.status", "engine.base.version",
    "engine.base.clock",  # timestamps of records; not engine.store.events: a no-op writes no event
    "engine.base.lazyre",  # module-level patterns compiled on first use
    "engine.parse", "engine.parse.health", "engine.parse.values",
    "engine.parse.hostopts",  # the option table's parsers (resources, devices, security_opt): pure, re only
    "engine.host", "engine.host.cgroups", "engine.host.files", "engine.host.interpreter", "engine.host.libc",
    "engine.host.mounts", "engine.host.ownership", "engine.host.proc", "engine.host.roots", "engine.host.userpaths",
    "engine.config", "engine.config.loader", "engine.config.schema",
    "engine.config.parsecache",  # containers.conf files parsed by an earlier task: no TOML parser on a warm task
    "engine.store", "engine.store.dbconn", "engine.store.dbopen", "engine.store.locks",
    "engine.store.reserve", "engine.store.state",
    # not engine.storage.layers (nor tarsplit): a lookup needs only the digest's file name
    "engine.storage", "engine.storage.digest",
    "engine.store.ofd",  # the numbered locks' OFD calls (stdlib only; the exit command's check uses them alone)
    "engine.image", "engine.image.reference", "engine.image.store",
    # not engine.secret.manager: the secret store is loaded when a task declares secrets
    "engine.secret", "engine.secret.drivers", "engine.secret.usage",
    "engine.secret.keys",  # Kubernetes secret keys of the secrets option: json/base64 only
    # not engine.oci.driver: a running container's sync reads conmon's exit file through oci.exitfile;
    # not engine.oci.spec (nor resources, spechost, parse.idmap it imports): inspect and the comparison
    # use oci.specvalues; the spec, preflight and the user namespace code are for a create
    "engine.oci", "engine.oci.exitfile", "engine.oci.specvalues",
    "engine.objects", "engine.objects.container", "engine.objects.imagepull", "engine.objects.inspect",
    # not engine.objects.podjoin: the pod hooks are for start, create and remove
    "engine.objects.locked", "engine.objects.restart",
}

#: what the no-op really needs: the test would pass vacuously if the run imported nothing
REQUIRED = {"engine.config.loader", "engine.store.state", "engine.store.locks", "reconcile.container_compare",
            "engine.image.store"}

#: a module process: the container module's imports, open, one reconcile, shutdown
CHILD = r"""
import json, sys
before = set(sys.modules)
import ansible.module_utils.basic  # noqa: F401 - the module's own first import
ansible_base = set(sys.modules)
from ansible_collections.libpod.engine.plugins.module_utils.ansible_engine import engine_argspec, run_reconcile
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container import reconcile_container
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import open_runtime
from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions
overrides, env, params = (json.loads(a) for a in sys.argv[1:4])
rt = open_runtime(OpenOptions(overrides=overrides, env=env))
try:
    res = reconcile_container(rt, params)
finally:
    rt.shutdown()
print(json.dumps({"actions": res.actions, "modules": sorted(set(sys.modules) - ansible_base),
                  "ansible": sorted(ansible_base - before)}))
"""


def _params(name: str) -> dict:
    params = {o.name: None for o in OPTIONS.options}
    params.update(name=name, image=IMAGE, state="created", pull="missing", recreate=False, force_restart=False,
                  insecure_registry=False, command=["sleep", "1000"], network="none", timeout=0)
    return params


@pytest.fixture(scope="module")
def noop_modules(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("budget")
    overrides, env = throwaway_root(tmp)
    rt = open_runtime(OpenOptions(overrides=overrides, env=env))
    try:
        img = busybox_image(str(tmp), config={"Cmd": ["sh"]})
        rt.images.pull("oci-archive:" + write_oci_archive(str(tmp / "bb.tar"), [(img, IMAGE)]))
        assert reconcile_container(rt, _params("budget")).actions == ["created budget"]
        ctr = find_container(rt, "budget")
        with ctr.locked():
            ctr.state.update(status="running", pid=os.getpid(), conmon_pid=os.getpid())
            ctr.save()
    finally:
        rt.shutdown()
    open_runtime(OpenOptions(overrides=overrides, env=env)).shutdown()  # writes the config validation cache
    params = dict(_params("budget"), state="started")
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(overrides), json.dumps(env),
                           json.dumps(params)], capture_output=True, text=True, check=False,
                          env=dict(os.environ, PYTHONPATH=":".join(sys.path)))  # same PATH: warm probe cache
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["actions"] == [], "the fixture's second run is not a no-op: %s" % out["actions"]
    return out


def _forbidden(modules) -> list:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))


def test_a_noop_container_task_loads_none_of_the_heavy_paths(noop_modules):
    assert _forbidden(noop_modules["modules"]) == []


def test_ansible_itself_does_not_bring_them_either(noop_modules):
    """If ansible.module_utils.basic loaded them, the budget above would measure nothing real."""
    assert _forbidden(noop_modules["ansible"]) == []


def test_a_noop_loads_only_the_allowed_collection_modules(noop_modules):
    ours = {m[len(PKG):] for m in noop_modules["modules"] if m.startswith(PKG)}
    assert ours - ALLOWED == set(), "new on the no-op path: add on purpose or defer the import"
    assert ours >= REQUIRED


#: a module process of a stack of containers: the stack module's imports, open, one stack reconcile
STACK_CHILD = r"""
import json, sys
import ansible.module_utils.basic  # noqa: F401
ansible_base = set(sys.modules)
from ansible_collections.libpod.engine.plugins.modules import stack as stack_module
from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import open_runtime
from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions


class Module:
    no_log_values = set()


overrides, env, params = (json.loads(a) for a in sys.argv[1:4])
rt = open_runtime(OpenOptions(overrides=overrides, env=env))
try:
    res = stack_module.reconcile_stack(rt, params, validate=stack_module.entry_validator(Module()))
finally:
    rt.shutdown()
print(json.dumps({"actions": res.actions, "modules": sorted(set(sys.modules) - ansible_base)}))
"""


def test_a_noop_stack_of_containers_loads_what_a_noop_container_task_does(tmp_path):
    """No network or volume manager for a stack without networks and volumes (issue 20)."""
    overrides, env = throwaway_root(tmp_path)
    params = {"label": "budget", "state": "present", "prune": False, "networks": [], "volumes": [], "pods": [],
              "containers": [{"name": "sb-%d" % i, "image": IMAGE, "command": ["sleep", "1000"], "network": "none",
                              "state": "created"} for i in range(2)]}
    args = [json.dumps(overrides), json.dumps(env), json.dumps(params)]
    rt = open_runtime(OpenOptions(overrides=overrides, env=env))
    try:
        img = busybox_image(str(tmp_path), config={"Cmd": ["sh"]})
        rt.images.pull("oci-archive:" + write_oci_archive(str(tmp_path / "bb.tar"), [(img, IMAGE)]))
    finally:
        rt.shutdown()
    runs = [subprocess.run([sys.executable, "-c", STACK_CHILD, *args], capture_output=True, text=True, check=False,
                           env=dict(os.environ, PYTHONPATH=":".join(sys.path))) for _run in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[-1].stderr[-3000:]
    first, out = (json.loads(r.stdout.strip().splitlines()[-1]) for r in runs)
    assert first["actions"] == ["created sb-0", "created sb-1"] and out["actions"] == []
    ours = {m[len(PKG):] for m in out["modules"] if m.startswith(PKG)}
    assert _forbidden(out["modules"]) == []
    # the stack's own and its one-read no-op check of unchanged containers
    stack_path = {"reconcile.stack", "reconcile.container_unchanged"}
    assert ours - ALLOWED - stack_path == set(), "new on the stack's no-op path"
