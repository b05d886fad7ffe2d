# SPDX-License-Identifier: GPL-3.0-or-later
"""Kubernetes Pod manifests <-> declared specs: mapping, warnings, quantities, round trips."""
from __future__ import annotations

import builtins
from decimal import Decimal

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import EngineError
from ansible_collections.libpod.engine.plugins.module_utils.engine.objects.pod import KUBE_EMPTYDIR_LABEL
from ansible_collections.libpod.engine.plugins.module_utils.reconcile import kube
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import (
    OPTIONS as CTR_OPTIONS,
)
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.pod import declared_spec
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.pod_options import OPTIONS as POD_OPTIONS

MANIFEST = """
apiVersion: v1
kind: Pod
metadata:
  name: shop
  labels: {app: shop}
spec:
  hostname: shop-host
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 5
  dnsConfig:
    nameservers: [10.0.0.53]
    searches: [example.org]
    options: [{name: ndots, value: "2"}, {name: edns0}]
  hostAliases:
    - {ip: 10.0.0.9, hostnames: [db, db.local]}
  containers:
    - name: api
      image: localhost/busybox:latest
      command: [sh, -c]
      args: ["exec httpd -f -p 8080"]
      workingDir: /srv
      env:
        - {name: MODE, value: prod}
        - {name: SECRET, valueFrom: {secretKeyRef: {name: s, key: k}}}
        - {name: MAYBE, valueFrom: {secretKeyRef: {name: s2, key: k2, optional: true}}}
        - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
      ports:
        - {containerPort: 8080, hostPort: 18080, hostIP: 127.0.0.1}
        - {containerPort: 9090}
      volumeMounts:
        - {name: cache, mountPath: /cache}
        - {name: site, mountPath: /srv, readOnly: true}
        - {name: cfg, mountPath: /etc/cfg}
        - {name: creds, mountPath: /etc/creds, readOnly: true}
      securityContext:
        runAsUser: 1000
        runAsGroup: 1000
        capabilities: {add: [NET_ADMIN], drop: [MKNOD]}
        readOnlyRootFilesystem: true
      resources:
        limits: {memory: 64Mi, cpu: 500m}
        requests: {cpu: 100m}
      livenessProbe: {exec: {command: ["true"]}}
    - name: worker
      image: localhost/busybox:latest
      tty: true
      imagePullPolicy: Never
      ports:
        - {containerPort: 53, hostPort: 18053, protocol: UDP}
      volumeMounts:
        - {name: cache, mountPath: /cache}
        - {name: data, mountPath: /data}
  volumes:
    - {name: cache, emptyDir: {}}
    - {name: site, hostPath: {path: /srv/site, type: DirectoryOrCreate}}
    - {name: data, persistentVolumeClaim: {claimName: shop-data}}
    - {name: cfg, configMap: {name: shop-cfg}}
    - name: creds
      secret:
        secretName: shop-creds
        defaultMode: 0o400
        items: [{key: user, path: db/user}, {key: pass, path: pass, mode: 288}]
"""


def _declared(kp):
    pod = declared_spec(dict(kp.pod))
    ctrs = [(c["name"], CTR_OPTIONS.declared(c)) for c in kp.containers]
    return pod, ctrs


def test_manifest_maps_to_pod_and_container_params():
    kp = kube.manifest_to_specs(kube.load_manifest(MANIFEST), KUBE_EMPTYDIR_LABEL)
    assert kp.name == "shop"
    assert kp.pod == {
        "name": "shop", "label": {"app": "shop"}, "hostname": "shop-host",
        "dns": ["10.0.0.53"], "dns_search": ["example.org"], "dns_option": ["ndots:2", "edns0"],
        "add_host": ["db:10.0.0.9", "db.local:10.0.0.9"],
        "publish": [{"container_port": 8080, "host_port": 18080, "protocol": "tcp", "host_ip": "127.0.0.1"},
                    {"container_port": 53, "host_port": 18053, "protocol": "udp"}],
    }
    api, worker = kp.containers
    assert api == {
        "name": "shop-api", "image": "localhost/busybox:latest", "pod": "shop", "restart_policy": "on-failure",
        "stop_timeout": 5, "entrypoint": ["sh", "-c"], "command": ["exec httpd -f -p 8080"], "workdir": "/srv",
        "env": {"MODE": "prod"}, "volume": ["shop-cache:/cache", "/srv/site:/srv:ro"], "read_only": True,
        "cap_add": ["NET_ADMIN"], "cap_drop": ["MKNOD"], "user": "1000:1000", "memory": 64 * 1024 * 1024,
        "cpus": 0.5,
        "secrets": [{"name": "s", "type": "env", "target": "SECRET", "key": "k"},
                    {"name": "s2", "type": "env", "target": "MAYBE", "key": "k2", "optional": True},
                    {"name": "shop-creds", "type": "dir", "mode": 0o400, "target": "/etc/creds",
                     "items": [{"key": "user", "path": "db/user"}, {"key": "pass", "path": "pass", "mode": 0o440}]}],
    }
    assert worker["tty"] is True and worker["pull"] == "never"
    assert worker["volume"] == ["shop-cache:/cache", "shop-data:/data"]
    assert kp.emptydirs == {"shop-cache": {KUBE_EMPTYDIR_LABEL: "shop"}}
    assert kp.create_paths == [("/srv/site", "dir")]
    text = "\n".join(kp.warnings)
    assert "spec.containers[0].env[1].valueFrom" not in text
    for field in ("spec.containers[0].env[3].valueFrom", "spec.containers[0].livenessProbe",
                  "spec.containers[0].resources.requests", "spec.volumes[3] (configMap)"):
        assert field in text, text
    # every declared value passes the modules' own normalisation
    pod, ctrs = _declared(kp)
    assert pod["publish"][1] == {"container_port": 53, "host_ip": "0.0.0.0", "host_port": 18053, "protocol": "udp"}
    assert ctrs[0][1]["cap_add"] == ["CAP_NET_ADMIN"]
    assert ctrs[0][1]["secrets"][0] == {
        "name": "shop-creds", "type": "dir", "target": "/etc/creds", "uid": 0, "gid": 0, "mode": 0o400,
        "items": [{"key": "user", "path": "db/user", "mode": None}, {"key": "pass", "path": "pass", "mode": 0o440}]}
    assert ctrs[0][1]["secrets"][1] == {"name": "s2", "type": "env", "target": "MAYBE", "uid": None, "gid": None,
                                        "mode": None, "key": "k2", "optional": True}


def test_generated_manifest_round_trips():
    kp = kube.manifest_to_specs(kube.load_manifest(MANIFEST), KUBE_EMPTYDIR_LABEL)
    pod, ctrs = _declared(kp)
    defaults = {o.name: o.default for o in CTR_OPTIONS.compared()}
    pdefaults = {o.name: o.default for o in POD_OPTIONS.compared()}
    doc, warnings = kube.generate("shop", pod, ctrs, emptydirs={"shop-cache": "cache"},
                                  pod_defaults=pdefaults, container_defaults=defaults)
    assert warnings == []
    text = kube.dump_yaml([doc])
    assert text.startswith("apiVersion: v1\nkind: Pod\n")
    again = kube.manifest_to_specs(kube.load_manifest(text), KUBE_EMPTYDIR_LABEL)
    assert again.warnings == []
    pod2, ctrs2 = _declared(again)
    assert pod2 == pod
    assert ctrs2 == ctrs
    assert again.emptydirs == kp.emptydirs
    vols = {v["name"]: v for v in doc["spec"]["volumes"]}
    assert vols["cache"] == {"name": "cache", "emptyDir": {}}
    assert vols["shop-data"] == {"name": "shop-data", "persistentVolumeClaim": {"claimName": "shop-data"}}
    assert vols["site-host"] == {"name": "site-host", "hostPath": {"path": "/srv/site"}}
    assert doc["spec"]["containers"][0]["resources"] == {"limits": {"memory": str(64 * 1024 * 1024), "cpu": "500m"}}


def test_generate_reports_what_kubernetes_cannot_say():
    defaults = {o.name: o.default for o in CTR_OPTIONS.compared()}
    pdefaults = {o.name: o.default for o in POD_OPTIONS.compared()}
    member = CTR_OPTIONS.declared({"name": "web", "image": "img", "init": True, "ulimit": ["nofile=10:10"],
                                   "user": "app", "volume": ["/anon"], "pod": "p"})
    other = CTR_OPTIONS.declared({"name": "p-side", "image": "img", "restart_policy": "always", "pod": "p"})
    pod = declared_spec({"name": "p", "cpus": 1, "share": "ipc,net"})
    doc, warnings = kube.generate("p", pod, [("web", member), ("p-side", other)], emptydirs={},
                                  pod_defaults=pdefaults, container_defaults=defaults)
    text = "\n".join(warnings)
    for part in ("container web: init", "container web: ulimit", "user app is not numeric",
                 "anonymous volume /anon", "pod p: cpus", "share ipc,net", "different restart policies"):
        assert part in text, text
    assert [c["name"] for c in doc["spec"]["containers"]] == ["web", "side"]
    # "web" would come back as "p-web": its own name travels in an annotation
    assert doc["metadata"]["annotations"] == {kube.NAME_ANNOTATION + "web": "web"}
    again = kube.manifest_to_specs(kube.load_manifest(kube.dump_yaml([doc])), KUBE_EMPTYDIR_LABEL)
    assert [c["name"] for c in again.containers] == ["web", "p-side"]


def test_annotations_other_than_names_are_reported():
    doc = kube.load_manifest(MANIFEST)
    doc["metadata"]["annotations"] = {"team": "a", kube.NAME_ANNOTATION + "api": "shop-frontend",
                                      kube.NAME_ANNOTATION + "ghost": "x"}
    kp = kube.manifest_to_specs(doc, KUBE_EMPTYDIR_LABEL)
    assert kp.containers[0]["name"] == "shop-frontend"
    text = "\n".join(kp.warnings)
    assert "metadata.annotations.team" in text and "ghost names no container" in text


@pytest.mark.parametrize("text,want", [("64Mi", 64 * 2 ** 20), ("1G", 10 ** 9), ("500m", Decimal("0.5")),
                                       ("2", 2), (3, 3), ("1.5", Decimal("1.5")), ("1e3", 1000)])
def test_quantities(text, want):
    assert kube.parse_quantity(text, "x") == want


@pytest.mark.parametrize("bad", ["", "abc", "10Xi", True])
def test_bad_quantities(bad):
    with pytest.raises(kube.KubeError):
        kube.parse_quantity(bad, "spec.containers[0].resources.limits.memory")


@pytest.mark.parametrize("cpus,text", [(0.5, "500m"), (1.0, "1"), (2.25, "2250m")])
def test_format_cpus(cpus, text):
    assert kube.format_cpus(cpus) == text
    assert float(kube.parse_quantity(text, "cpu")) == cpus


@pytest.mark.parametrize("definition,match", [
    ("kind: Deployment\napiVersion: apps/v1\n", "exactly one kind: Pod"),
    ("a: [b\n", "not valid YAML"),
    ({"kind": "Pod", "apiVersion": "v1", "metadata": {}}, "metadata.name is required"),
    ({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "x"}, "spec": {"containers": []}},
     "spec.containers is empty"),
    ({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "x"},
      "spec": {"containers": [{"name": "a", "image": "i", "volumeMounts": [{"name": "v", "mountPath": "/v"}]}]}},
     "which spec.volumes does not declare"),
    ({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "x"},
      "spec": {"containers": [{"name": "A_", "image": "i"}]}}, "not a valid container name"),
    (42, "expected a Pod manifest"),
])
def test_bad_manifests(definition, match):
    with pytest.raises(kube.KubeError, match=match):
        kube.manifest_to_specs(kube.load_manifest(definition), KUBE_EMPTYDIR_LABEL)


def test_multi_document_yaml_picks_the_pod():
    text = "kind: ConfigMap\napiVersion: v1\n---\n" + MANIFEST
    with pytest.raises(kube.KubeError, match="and ConfigMap"):
        kube.load_manifest(text + "---\n" + MANIFEST)
    assert kube.load_manifest(MANIFEST)["metadata"]["name"] == "shop"


def test_missing_ruamel_is_an_error_with_the_fix(monkeypatch):
    real = builtins.__import__

    def fake(name, *a, **kw):
        if name.startswith("ruamel"):
            raise ImportError("no ruamel")
        return real(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(EngineError, match="ruamel.yaml") as exc:
        kube.load_manifest(MANIFEST)
    assert "pip install ruamel.yaml" in str(exc.value)
    # a dict needs no YAML library
    assert kube.load_manifest({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "x"}})["kind"] == "Pod"


def test_yaml_text_reads_modes_as_kubectl_does():
    """defaultMode 0400 in manifest text is octal (YAML 1.1, as kubectl and Ansible), not decimal 400."""
    text = """
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c, image: busybox}]
  volumes:
    - name: s
      secret: {secretName: s, defaultMode: 0400}
"""
    pod = kube.load_manifest(text)
    assert pod["spec"]["volumes"][0]["secret"]["defaultMode"] == 0o400
