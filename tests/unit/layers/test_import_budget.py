# SPDX-License-Identifier: GPL-3.0-or-later
"""The import budget of a no-op ``container`` task (issue 20).

A task whose container already exists as declared opens the runtime, compares options and looks
the image up by name. It must not pay for what only other paths use: networking (pyroute2,
the network package), registry HTTP (ssl, http.client, urllib.request), layer unpacking (tarfile,
gzip, zstandard), the /etc file writers, kube/YAML and the config schema validator (jsonschema is
loaded only when a config file changed). The no-op runs in a fresh interpreter (a module process)
against a real engine root with a created container; the modules it loaded are compared with the
lists below. A new module on the no-op path must be added to ALLOWED on purpose.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers.images import busybox_image, write_oci_archive

from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import open_runtime
from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container import reconcile_container
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import OPTIONS

PKG = "ansible_collections.libpod.engine.plugins.module_utils."
IMAGE = "localhost/busybox:latest"

#: third-party and stdlib modules a no-op must not load (prefix match on the dotted name)
FORBIDDEN = ("pyroute2", "ssl", "_ssl", "http.client", "urllib.request", "tarfile", "gzip", "zstandard",
             "ruamel", "yaml", "jsonschema", "email")

#: the collection's modules a no-op may load: the glue, config, state, locks, the option comparison,
#: the image index (reference parsing, no registry client) and the container object with inspect
ALLOWED = {
    "ansible_engine", "packed_loader", "packed_index",
    "reconcile", "reconcile.container", "reconcile.container_compare", "reconcile.container_options",
    "reconcile.container_secrets", "reconcile.container_params", "reconcile.container_build",
    "reconcile.options", "reconcile.preflight", "reconcile.result",
    "engine", "engine.ops", "engine.ops.session", "engine.runtime",
    "engine.base", "engine.base.errors", "engine.base.faults", "engine.base.names", "engine.base.records",
    "engine.base.status", "engine.base.version",
    "engine.parse", "engine.parse.health", "engine.parse.values",
    "engine.parse.hostopts",  # the option table's parsers (resources, devices, security_opt): pure, re only
    "engine.host", "engine.host.cgroups", "engine.host.files", "engine.host.interpreter", "engine.host.libc",
    "engine.host.mounts", "engine.host.ownership", "engine.host.proc", "engine.host.roots", "engine.host.userpaths",
    "engine.config", "engine.config.loader", "engine.config.schema",
    "engine.store", "engine.store.dbconn", "engine.store.dbopen", "engine.store.events", "engine.store.locks",
    "engine.store.reserve", "engine.store.state",
    "engine.store.ofd",  # the numbered locks' OFD calls (stdlib only; the exit command's check uses them alone)
    # storage.layers gives the image store hex_of/rmtree; its tarfile/gzip imports are deferred
    "engine.storage", "engine.storage.layers", "engine.storage.tarsplit",  # tarsplit's gzip is deferred
    "engine.image", "engine.image.reference", "engine.image.store",
    "engine.secret", "engine.secret.drivers", "engine.secret.manager", "engine.secret.usage",
    "engine.secret.keys",  # Kubernetes secret keys of the secrets option: json/base64 only
    "engine.oci", "engine.oci.resources", "engine.oci.spec",
    "engine.oci.spechost",  # preflight's host checks of the new options: json/os/stat only
    "engine.objects", "engine.objects.container", "engine.objects.imagepull", "engine.objects.inspect",
    "engine.objects.locked",
    "engine.objects.podjoin", "engine.objects.restart",
    # user namespace options (issue 23): pure parsers and the subordinate-ID reader; the storage copy is deferred
    "reconcile.container_userns", "engine.parse.idmap", "engine.parse.userns", "engine.host.subids",
    "engine.host.autons", "engine.objects.userns",
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
    static = tmp / "static"
    overrides = {"engine": {"static_dir": str(static), "tmp_dir": str(tmp / "run"),
                            "volume_path": str(static / "volumes")},
                 "storage": {"graph_root": str(static / "storage"), "graph_driver": "vfs"}}
    conf = tmp / "containers.conf"
    conf.write_text("")
    env = {"LIBPOD_ENGINE_CONF": str(conf)}
    rt = open_runtime(OpenOptions(overrides=overrides, env=env))
    try:
        img = busybox_image(str(tmp), config={"Cmd": ["sh"]})
        rt.images.pull("oci-archive:" + write_oci_archive(str(tmp / "bb.tar"), [(img, IMAGE)]))
        assert reconcile_container(rt, _params("budget")).actions == ["created budget"]
    finally:
        rt.shutdown()
    open_runtime(OpenOptions(overrides=overrides, env=env)).shutdown()  # writes the config validation cache
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(overrides), json.dumps(env),
                           json.dumps(_params("budget"))], capture_output=True, text=True, check=False,
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
