# SPDX-License-Identifier: GPL-3.0-or-later
"""Kubernetes v1 Pod manifests <-> the pod and container modules' declared specs.

In (``podman kube play``): a Pod manifest becomes the parameters of one pod and of its
containers, named ``<pod>-<container>`` as podman names them. Ports with a ``hostPort``
are published on the pod (its infra container holds them); volumes become bind mounts
(``hostPath``), named volumes (``persistentVolumeClaim`` -> the claim's name) or, for an
``emptyDir``, a named volume ``<pod>-<volume>`` labelled as the pod's emptyDir (removed
with the pod). Secrets (``env[].valueFrom.secretKeyRef``, ``secret`` volumes) become the
container option ``secrets`` (types env and dir) on the engine secret of the same name; how
a key is found in it is engine/secret/keys.py's rule.

Out (``podman generate kube``): the pod's declared spec and its members' give a manifest
that, fed back, declares the same pod. What has no Kubernetes form is left out with a
warning; a manifest field this engine does not implement is reported the same way, never
silently ignored.

ruamel.yaml is imported only when YAML text is read or written (and a missing package is
an error that says how to install it).
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..engine.base.errors import EngineError, InvalidArg
from ..engine.base.names import validate_name

KUBE_RESTART = {"Always": "always", "OnFailure": "on-failure", "Never": "no"}
_RESTART_KUBE = {"always": "Always", "unless-stopped": "Always", "on-failure": "OnFailure", "no": "Never"}
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

# fields understood at each level (everything else is reported)
_POD_TOP = {"apiVersion", "kind", "metadata", "spec", "status"}
_POD_META = {"name", "labels", "annotations", "creationTimestamp"}
#: metadata.annotations key prefix naming a container whose engine name is not ``<pod>-<name>``
NAME_ANNOTATION = "io.libpod-engine.container-name/"
_POD_SPEC = {"containers", "volumes", "hostname", "hostNetwork", "dnsConfig", "hostAliases", "restartPolicy",
             "shareProcessNamespace", "terminationGracePeriodSeconds"}
_CTR = {"name", "image", "command", "args", "workingDir", "env", "ports", "volumeMounts", "securityContext",
        "resources", "tty", "imagePullPolicy"}
_CTR_SEC = {"privileged", "readOnlyRootFilesystem", "capabilities", "runAsUser", "runAsGroup"}
_PULL = {"Always": "always", "IfNotPresent": "missing", "Never": "never"}
_BIN = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
_DEC = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1), "k": Decimal(10) ** 3,
        "M": Decimal(10) ** 6, "G": Decimal(10) ** 9, "T": Decimal(10) ** 12, "P": Decimal(10) ** 15,
        "E": Decimal(10) ** 18}


class KubeError(InvalidArg):
    """A manifest that cannot be used (names the field and the fix)."""

    kind = "kube"


# -- YAML ----------------------------------------------------------------------------------------------
def _yaml():
    try:
        from ruamel.yaml import YAML  # noqa: PLC0415 - only for kube YAML
    except ImportError:
        raise EngineError("Kubernetes YAML needs the Python package ruamel.yaml on the managed node",
                          hint="install it (pip install ruamel.yaml, or the python3-ruamel.yaml package), "
                               "or give definition as a dict")
    return YAML


def _plain(obj: Any) -> Any:
    """ruamel's CommentedMap/Seq and scalar subclasses -> plain dict/list/str/int/float/bool."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    return str(obj)


def _file_mode(value: Any, where: str) -> int:
    """A Kubernetes file mode: a number (0400 is octal, as kubectl reads YAML 1.1), or the YAML 1.2
    spelling ``0o400`` that a 1.1 reader leaves as text."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise KubeError("%s: expected a file mode such as 0400 or 256, got %r" % (where, value))
    if isinstance(value, str):
        text = value.strip().lower()
        if not re.fullmatch(r"0o?[0-7]{1,4}", text):
            raise KubeError("%s: expected a file mode such as 0400 or 256, got %r" % (where, value))
        value = int(text.replace("0o", "0") or "0", 8)
    if not 0 <= value <= 0o7777:
        raise KubeError("%s: file mode %r is out of range (0 to 07777)" % (where, value))
    return value


def load_manifest(definition: Any) -> Dict[str, Any]:
    """The one Pod of ``definition`` (a dict, or YAML text with one or more documents)."""
    if isinstance(definition, Mapping):
        docs = [_plain(definition)]
    elif isinstance(definition, str):
        yaml = _yaml()(typ="safe", pure=True)
        # YAML 1.1 as kubectl (go-yaml) and Ansible read manifests: defaultMode 0400 is octal 256
        yaml.version = (1, 1)
        try:
            docs = [_plain(d) for d in yaml.load_all(definition) if d is not None]
        except Exception as exc:  # ruamel raises many types; all mean "not YAML"
            raise KubeError("definition: not valid YAML: %s" % exc, hint="give a Kubernetes Pod manifest")
    elif isinstance(definition, list):
        docs = [_plain(d) for d in definition if d is not None]
    else:
        raise KubeError("definition: expected a Pod manifest (a dict or YAML text), got %s"
                        % type(definition).__name__)
    pods = [d for d in docs if isinstance(d, dict) and d.get("kind") == "Pod"]
    others = sorted({str(d.get("kind")) for d in docs if isinstance(d, dict) and d.get("kind") != "Pod"})
    if len(pods) != 1:
        raise KubeError("definition: expected exactly one kind: Pod document, found %d%s"
                        % (len(pods), " (and %s)" % ", ".join(others) if others else ""),
                        hint="give one v1 Pod per task; Deployments and other kinds are not supported")
    doc = pods[0]
    if doc.get("apiVersion", "v1") != "v1":
        raise KubeError("definition: apiVersion %r is not supported" % doc.get("apiVersion"), hint="use apiVersion: v1")
    return doc


def dump_yaml(docs: Sequence[Dict[str, Any]]) -> str:
    """Block-style YAML of the documents, separated by ``---`` (as podman generate kube prints)."""
    import io  # noqa: PLC0415

    yaml = _yaml()()
    yaml.default_flow_style = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump_all(list(docs), out)
    return out.getvalue()


# -- quantities --------------------------------------------------------------------------------------
def parse_quantity(value: Any, field: str) -> Decimal:
    """A Kubernetes quantity ("64Mi", "500m", "1.5", "1e3") as a Decimal."""
    if isinstance(value, bool):
        raise KubeError("%s: %r is not a quantity" % (field, value))
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    text = str(value).strip()
    m = re.fullmatch(r"([+]?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)", text)
    if not m:
        raise KubeError("%s: %r is not a quantity" % (field, value), hint="for example 64Mi, 1G, 500m or 2")
    number, suffix = m.groups()
    try:
        num = Decimal(number)
    except InvalidOperation:
        raise KubeError("%s: %r is not a quantity" % (field, value))
    if suffix in _BIN:
        return num * _BIN[suffix]
    if suffix in _DEC:
        return num * _DEC[suffix]
    raise KubeError("%s: unknown unit %r in %r" % (field, suffix, value), hint="use Ki, Mi, Gi, k, M, G or m")


def format_cpus(cpus: float) -> str:
    milli = int(round(cpus * 1000))
    return str(milli // 1000) if milli % 1000 == 0 else "%dm" % milli


# -- manifest -> declared ----------------------------------------------------------------------------
class KubePod:
    """What a manifest declares: pod parameters, container parameters, volumes to make, warnings."""

    def __init__(self, name: str):
        self.name = name
        self.pod: Dict[str, Any] = {"name": name}
        self.containers: List[Dict[str, Any]] = []
        #: named volumes to create for emptyDir volumes: volume name -> labels
        self.emptydirs: Dict[str, Dict[str, str]] = {}
        #: hostPath directories/files to create (path, "dir"|"file")
        self.create_paths: List[Tuple[str, str]] = []
        self.warnings: List[str] = []

    def warn(self, field: str, why: str = "is not supported by this engine and was ignored") -> None:
        msg = "definition: %s %s" % (field, why)
        if msg not in self.warnings:
            self.warnings.append(msg)


def _unknown(kp: KubePod, obj: Mapping[str, Any], known: set, where: str) -> None:
    for key in obj:
        if key not in known:
            kp.warn("%s.%s" % (where, key))


def _as_dict(value: Any, field: str) -> Dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise KubeError("definition: %s must be a mapping" % field)
    return dict(value)


def _as_list(value: Any, field: str) -> List[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise KubeError("definition: %s must be a list" % field)
    return value


def _str_list(value: Any, field: str) -> List[str]:
    return [str(v) for v in _as_list(value, field)]


def manifest_to_specs(doc: Mapping[str, Any], emptydir_label: str) -> KubePod:
    """A v1 Pod manifest -> pod and container module parameters (not yet normalised)."""
    meta = _as_dict(doc.get("metadata"), "metadata")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise KubeError("definition: metadata.name is required", hint="name the pod in metadata.name")
    kp = KubePod(name)
    _unknown(kp, doc, _POD_TOP, "")
    _unknown(kp, meta, _POD_META, "metadata")
    spec = _as_dict(doc.get("spec"), "spec")
    _unknown(kp, spec, _POD_SPEC, "spec")
    pod = kp.pod
    if meta.get("labels"):
        pod["label"] = {str(k): str(v) for k, v in _as_dict(meta["labels"], "metadata.labels").items()}
    names: Dict[str, str] = {}
    for key, value in _as_dict(meta.get("annotations"), "metadata.annotations").items():
        if str(key).startswith(NAME_ANNOTATION):
            names[str(key)[len(NAME_ANNOTATION):]] = str(value)
        else:
            kp.warn("metadata.annotations.%s" % key)
    if spec.get("hostname"):
        pod["hostname"] = str(spec["hostname"])
    if spec.get("hostNetwork"):
        pod["network"] = "host"
    dns = _as_dict(spec.get("dnsConfig"), "spec.dnsConfig")
    _unknown(kp, dns, {"nameservers", "searches", "options"}, "spec.dnsConfig")
    if dns.get("nameservers"):
        pod["dns"] = _str_list(dns["nameservers"], "spec.dnsConfig.nameservers")
    if dns.get("searches"):
        pod["dns_search"] = _str_list(dns["searches"], "spec.dnsConfig.searches")
    if dns.get("options"):
        opts = []
        for o in _as_list(dns["options"], "spec.dnsConfig.options"):
            o = _as_dict(o, "spec.dnsConfig.options[]")
            opts.append("%s:%s" % (o["name"], o["value"]) if o.get("value") not in (None, "") else str(o["name"]))
        pod["dns_option"] = opts
    hosts = []
    for i, ha in enumerate(_as_list(spec.get("hostAliases"), "spec.hostAliases")):
        ha = _as_dict(ha, "spec.hostAliases[%d]" % i)
        for h in _str_list(ha.get("hostnames"), "spec.hostAliases[%d].hostnames" % i):
            hosts.append("%s:%s" % (h, ha.get("ip")))
    if hosts:
        pod["add_host"] = hosts
    if spec.get("shareProcessNamespace"):
        pod["share"] = "ipc,net,pid,uts"
    restart = spec.get("restartPolicy", "Always")
    if restart not in KUBE_RESTART:
        raise KubeError("definition: spec.restartPolicy %r is not valid" % restart, hint="Always, OnFailure or Never")
    grace = spec.get("terminationGracePeriodSeconds")
    if grace is not None and (isinstance(grace, bool) or not isinstance(grace, int) or grace < 0):
        raise KubeError("definition: spec.terminationGracePeriodSeconds must be an integer >= 0")

    volumes = _volumes(kp, spec, emptydir_label)
    ctrs = _as_list(spec.get("containers"), "spec.containers")
    if not ctrs:
        raise KubeError("definition: spec.containers is empty", hint="declare at least one container")
    publish: List[Dict[str, Any]] = []
    seen = set()
    for i, c in enumerate(ctrs):
        where = "spec.containers[%d]" % i
        c = _as_dict(c, where)
        cname = c.get("name")
        if not isinstance(cname, str) or not _DNS_LABEL.fullmatch(cname):
            raise KubeError("definition: %s.name %r is not a valid container name" % (where, cname),
                            hint="lower-case letters, digits and '-'")
        if cname in seen:
            raise KubeError("definition: two containers are named %s" % cname)
        seen.add(cname)
        ctr = _container(kp, c, where, volumes=volumes, publish=publish, restart=KUBE_RESTART[restart], grace=grace)
        if cname in names:
            ctr["name"] = validate_name(names.pop(cname), "metadata.annotations.%s%s" % (NAME_ANNOTATION, cname))
        kp.containers.append(ctr)
    for cname in names:
        kp.warn("metadata.annotations.%s%s" % (NAME_ANNOTATION, cname), "names no container of the manifest")
    if publish:
        pod["publish"] = publish
    return kp


def _volumes(kp: KubePod, spec: Mapping[str, Any], emptydir_label: str) -> Dict[str, Optional[Tuple[str, Any]]]:
    """volume name -> (kind, source) with kind bind|volume|secret; None for unsupported kinds."""
    out: Dict[str, Optional[Tuple[str, Any]]] = {}
    for i, v in enumerate(_as_list(spec.get("volumes"), "spec.volumes")):
        where = "spec.volumes[%d]" % i
        v = _as_dict(v, where)
        vname = v.get("name")
        if not isinstance(vname, str) or not vname:
            raise KubeError("definition: %s.name is required" % where)
        kinds = [k for k in v if k != "name"]
        if "hostPath" in v:
            hp = _as_dict(v["hostPath"], where + ".hostPath")
            path = hp.get("path")
            if not isinstance(path, str) or not path.startswith("/"):
                raise KubeError("definition: %s.hostPath.path must be an absolute path" % where)
            htype = hp.get("type") or ""
            if htype == "DirectoryOrCreate":
                kp.create_paths.append((path, "dir"))
            elif htype == "FileOrCreate":
                kp.create_paths.append((path, "file"))
            elif htype not in ("", "Directory", "File", "Socket", "CharDevice", "BlockDevice"):
                kp.warn("%s.hostPath.type %s" % (where, htype))
            out[vname] = ("bind", path)
        elif "emptyDir" in v:
            ed = _as_dict(v["emptyDir"], where + ".emptyDir")
            for key in ed:
                kp.warn("%s.emptyDir.%s" % (where, key), "is not supported (a disk volume is used) and was ignored")
            vol = "%s-%s" % (kp.name, vname)
            kp.emptydirs[vol] = {emptydir_label: kp.name}
            out[vname] = ("volume", vol)
        elif "secret" in v:
            out[vname] = ("secret", _secret_volume(kp, _as_dict(v["secret"], where + ".secret"), where + ".secret"))
        elif "persistentVolumeClaim" in v:
            pvc = _as_dict(v["persistentVolumeClaim"], where + ".persistentVolumeClaim")
            claim = pvc.get("claimName")
            if not isinstance(claim, str) or not claim:
                raise KubeError("definition: %s.persistentVolumeClaim.claimName is required" % where)
            if pvc.get("readOnly"):
                kp.warn("%s.persistentVolumeClaim.readOnly" % where, "is not supported (use readOnly on the "
                                                                     "volumeMounts) and was ignored")
            out[vname] = ("volume", claim)
        else:
            kp.warn("%s (%s)" % (where, ", ".join(kinds) or "no source"),
                    "is not supported by this engine; mounts of it were ignored")
            out[vname] = None
    return out


def _secret_volume(kp: KubePod, sv: Mapping[str, Any], where: str) -> Dict[str, Any]:
    """A ``secret`` volume -> a ``secrets`` entry of type dir (target filled per volumeMount)."""
    _unknown(kp, sv, {"secretName", "items", "defaultMode", "optional"}, where)
    name = sv.get("secretName")
    if not isinstance(name, str) or not name:
        raise KubeError("definition: %s.secretName is required" % where, hint="name the engine secret to mount")
    entry: Dict[str, Any] = {"name": name, "type": "dir"}
    if sv.get("items") is not None:
        items = []
        for k, item in enumerate(_as_list(sv["items"], where + ".items")):
            item = _as_dict(item, "%s.items[%d]" % (where, k))
            _unknown(kp, item, {"key", "path", "mode"}, "%s.items[%d]" % (where, k))
            items.append({key: item[key] for key in ("key", "path", "mode") if item.get(key) is not None})
            if "mode" in items[-1]:
                items[-1]["mode"] = _file_mode(items[-1]["mode"], "%s.items[%d].mode" % (where, k))
        entry["items"] = items
    if sv.get("defaultMode") is not None:
        entry["mode"] = _file_mode(sv["defaultMode"], where + ".defaultMode")
    if sv.get("optional") is not None:
        entry["optional"] = sv["optional"]
    return entry


def _env_secret(kp: KubePod, e: Mapping[str, Any], at: str) -> Optional[Dict[str, Any]]:
    """``env[].valueFrom.secretKeyRef`` -> a ``secrets`` entry of type env; None (reported) for other sources."""
    vf = _as_dict(e.get("valueFrom"), at + ".valueFrom")
    if "secretKeyRef" not in vf:
        kp.warn(at + ".valueFrom")
        return None
    _unknown(kp, vf, {"secretKeyRef"}, at + ".valueFrom")
    ref = _as_dict(vf["secretKeyRef"], at + ".valueFrom.secretKeyRef")
    _unknown(kp, ref, {"name", "key", "optional"}, at + ".valueFrom.secretKeyRef")
    for key in ("name", "key"):
        if not isinstance(ref.get(key), str) or not ref[key]:
            raise KubeError("definition: %s.valueFrom.secretKeyRef.%s is required" % (at, key))
    entry = {"name": ref["name"], "type": "env", "target": str(e.get("name")), "key": ref["key"]}
    if ref.get("optional") is not None:
        entry["optional"] = ref["optional"]
    return entry


def _container(kp: KubePod, c: Mapping[str, Any], where: str, *, volumes: Mapping[str, Any],
               publish: List[Dict[str, Any]], restart: str, grace: Optional[int]) -> Dict[str, Any]:
    _unknown(kp, c, _CTR, where)
    if not c.get("image"):
        raise KubeError("definition: %s.image is required" % where)
    p: Dict[str, Any] = {"name": "%s-%s" % (kp.name, c["name"]), "image": str(c["image"]), "pod": kp.name,
                         "restart_policy": restart}
    if grace is not None:
        p["stop_timeout"] = grace
    if c.get("command"):
        p["entrypoint"] = _str_list(c["command"], where + ".command")
    if c.get("args"):
        p["command"] = _str_list(c["args"], where + ".args")
    if c.get("workingDir"):
        p["workdir"] = str(c["workingDir"])
    if c.get("imagePullPolicy"):
        if c["imagePullPolicy"] not in _PULL:
            raise KubeError("definition: %s.imagePullPolicy %r is not valid" % (where, c["imagePullPolicy"]),
                            hint="Always, IfNotPresent or Never")
        p["pull"] = _PULL[c["imagePullPolicy"]]
    env = {}
    secrets: List[Dict[str, Any]] = []
    for j, e in enumerate(_as_list(c.get("env"), where + ".env")):
        e = _as_dict(e, "%s.env[%d]" % (where, j))
        if "valueFrom" in e:
            ref = _env_secret(kp, e, "%s.env[%d]" % (where, j))
            if ref is not None:
                secrets.append(ref)
            continue
        env[str(e.get("name"))] = "" if e.get("value") is None else str(e["value"])
    if env:
        p["env"] = env
    for j, port in enumerate(_as_list(c.get("ports"), where + ".ports")):
        port = _as_dict(port, "%s.ports[%d]" % (where, j))
        _unknown(kp, port, {"containerPort", "hostPort", "hostIP", "protocol", "name"}, "%s.ports[%d]" % (where, j))
        if not port.get("hostPort"):
            continue  # only informational in Kubernetes; podman publishes nothing for it either
        m = {"container_port": port.get("containerPort"), "host_port": port["hostPort"],
             "protocol": str(port.get("protocol") or "TCP").lower()}
        if port.get("hostIP"):
            m["host_ip"] = str(port["hostIP"])
        if m not in publish:
            publish.append(m)
    mounts = []
    for j, vm in enumerate(_as_list(c.get("volumeMounts"), where + ".volumeMounts")):
        at = "%s.volumeMounts[%d]" % (where, j)
        vm = _as_dict(vm, at)
        _unknown(kp, vm, {"name", "mountPath", "readOnly"}, at)
        if vm.get("name") not in volumes:
            raise KubeError("definition: %s names volume %r, which spec.volumes does not declare"
                            % (at, vm.get("name")), hint="declare it under spec.volumes")
        src = volumes[vm["name"]]
        if src is None:
            continue  # reported with the volume
        dest = vm.get("mountPath")
        if not isinstance(dest, str) or not dest.startswith("/"):
            raise KubeError("definition: %s.mountPath must be an absolute path" % at)
        if src[0] == "secret":  # a directory of the container's secrets tmpfs, always read-only
            secrets.append(dict(src[1], target=dest))
            continue
        mounts.append("%s:%s%s" % (src[1], dest, ":ro" if vm.get("readOnly") else ""))
    if mounts:
        p["volume"] = mounts
    if secrets:
        p["secrets"] = secrets
    sec = _as_dict(c.get("securityContext"), where + ".securityContext")
    _unknown(kp, sec, _CTR_SEC, where + ".securityContext")
    if sec.get("privileged"):
        p["privileged"] = True
    if sec.get("readOnlyRootFilesystem"):
        p["read_only"] = True
    caps = _as_dict(sec.get("capabilities"), where + ".securityContext.capabilities")
    _unknown(kp, caps, {"add", "drop"}, where + ".securityContext.capabilities")
    if caps.get("add"):
        p["cap_add"] = _str_list(caps["add"], where + ".securityContext.capabilities.add")
    if caps.get("drop"):
        p["cap_drop"] = _str_list(caps["drop"], where + ".securityContext.capabilities.drop")
    if sec.get("runAsUser") is not None or sec.get("runAsGroup") is not None:
        user = str(sec.get("runAsUser") if sec.get("runAsUser") is not None else 0)
        if sec.get("runAsGroup") is not None:
            user += ":%s" % sec["runAsGroup"]
        p["user"] = user
    res = _as_dict(c.get("resources"), where + ".resources")
    _unknown(kp, res, {"limits"}, where + ".resources")
    limits = _as_dict(res.get("limits"), where + ".resources.limits")
    _unknown(kp, limits, {"memory", "cpu"}, where + ".resources.limits")
    if limits.get("memory") is not None:
        p["memory"] = int(parse_quantity(limits["memory"], where + ".resources.limits.memory"))
    if limits.get("cpu") is not None:
        p["cpus"] = float(parse_quantity(limits["cpu"], where + ".resources.limits.cpu"))
    if c.get("tty"):
        p["tty"] = True
    return p


# -- declared -> manifest ----------------------------------------------------------------------------
#: container options with a place in the manifest (the rest is reported when not at its default)
_CTR_MAPPED = {"image", "command", "entrypoint", "env", "env_file", "workdir", "user", "volume", "privileged",
               "read_only", "cap_add", "cap_drop", "memory", "cpus", "tty", "restart_policy", "stop_timeout",
               "pod", "network", "publish", "secrets"}
_POD_MAPPED = {"hostname", "network", "dns", "dns_search", "dns_option", "add_host", "publish", "label", "share"}


def _kube_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return name[:63].strip("-") or "volume"


def generate(pod_name: str, pod_declared: Mapping[str, Any], members: Sequence[Tuple[str, Mapping[str, Any]]], *,
             emptydirs: Mapping[str, str], pod_defaults: Mapping[str, Any],
             container_defaults: Mapping[str, Any]) -> Tuple[Dict[str, Any], List[str]]:
    """A v1 Pod manifest for a pod and its members' declared specs; (manifest, warnings).

    ``emptydirs``: named volume -> Kubernetes volume name of the pod's emptyDir volumes;
    ``*_defaults``: option -> default, to tell which unmapped options were actually set.
    """
    warnings: List[str] = []

    def warn(msg: str) -> None:
        if msg not in warnings:
            warnings.append(msg)

    pd = dict(pod_defaults, **dict(pod_declared))
    for key, default in pod_defaults.items():
        if key not in _POD_MAPPED and pd.get(key) != default:
            warn("pod %s: %s has no Kubernetes equivalent and was left out" % (pod_name, key))
    meta: Dict[str, Any] = {"name": pod_name}
    if pd.get("label"):
        meta["labels"] = dict(pd["label"])
    spec: Dict[str, Any] = {}
    if pd.get("hostname"):
        spec["hostname"] = pd["hostname"]
    net = pd.get("network") or {}
    if net.get("mode") == "host":
        spec["hostNetwork"] = True
    elif net.get("mode") != "bridge" or net.get("networks"):
        warn("pod %s: network %s has no Kubernetes equivalent and was left out"
             % (pod_name, ",".join(net.get("networks") or []) or net.get("mode")))
    share = sorted(pd.get("share") or [])
    if "pid" in share:
        spec["shareProcessNamespace"] = True
    if sorted(set(share) - {"pid"}) != ["ipc", "net", "uts"]:
        warn("pod %s: share %s has no Kubernetes equivalent (pods share ipc,net,uts)" % (pod_name, ",".join(share)))
    dns: Dict[str, Any] = {}
    if pd.get("dns"):
        dns["nameservers"] = list(pd["dns"])
    if pd.get("dns_search"):
        dns["searches"] = list(pd["dns_search"])
    if pd.get("dns_option"):
        opts = []
        for o in pd["dns_option"]:
            k, sep, v = str(o).partition(":")
            opts.append({"name": k, "value": v} if sep else {"name": k})
        dns["options"] = opts
    if dns:
        spec["dnsConfig"] = dns
    if pd.get("add_host"):
        by_ip: Dict[str, List[str]] = {}
        for item in pd["add_host"]:
            h, _sep, ip = str(item).partition(":")
            by_ip.setdefault(ip, []).append(h)
        spec["hostAliases"] = [{"ip": ip, "hostnames": names} for ip, names in by_ip.items()]

    restarts = []
    graces = []
    containers = []
    used_names: set = set()
    vol_defs: Dict[str, Dict[str, Any]] = {}
    by_source: Dict[Tuple[str, str], str] = {}
    for idx, (cname, d) in enumerate(members):
        cd = dict(container_defaults, **dict(d))
        kname = cname[len(pod_name) + 1:] if cname.startswith(pod_name + "-") else cname
        if not _DNS_LABEL.fullmatch(kname):
            kname = _kube_name(kname)
        n = 1
        base = kname
        while kname in used_names:
            n += 1
            kname = "%s-%d" % (base, n)
        used_names.add(kname)
        if cname != "%s-%s" % (pod_name, kname):
            # played back, the container would be named <pod>-<name>: keep its own name
            meta.setdefault("annotations", {})[NAME_ANNOTATION + kname] = cname
        for key, default in container_defaults.items():
            if key not in _CTR_MAPPED and cd.get(key) != default:
                warn("container %s: %s has no Kubernetes equivalent and was left out" % (cname, key))
        c: Dict[str, Any] = {"name": kname, "image": cd.get("image")}
        if cd.get("entrypoint"):
            c["command"] = list(cd["entrypoint"])
        elif cd.get("entrypoint") == []:
            warn("container %s: an emptied entrypoint has no Kubernetes equivalent and was left out" % cname)
        if cd.get("command"):
            c["args"] = list(cd["command"])
        if cd.get("workdir"):
            c["workingDir"] = cd["workdir"]
        env = dict(cd.get("env_file") or {})
        env.update(cd.get("env") or {})
        if cd.get("env_file"):
            warn("container %s: env_file was written out as env" % cname)
        c_env: List[Dict[str, Any]] = [{"name": k, "value": v} for k, v in env.items()]
        secret_mounts: List[Dict[str, Any]] = []
        for ref in cd.get("secrets") or []:
            if ref["type"] == "env":
                kref = {"name": ref["name"], "key": ref.get("key") or ref["name"]}
                if ref.get("optional"):
                    kref["optional"] = True
                c_env.append({"name": ref["target"], "valueFrom": {"secretKeyRef": kref}})
            elif ref["type"] == "dir":
                sv: Dict[str, Any] = {"secretName": ref["name"]}
                if ref.get("items") is not None:
                    sv["items"] = [{k: v for k, v in i.items() if v is not None} for i in ref["items"]]
                if ref.get("mode") not in (None, 0o644):
                    sv["defaultMode"] = ref["mode"]
                if ref.get("optional"):
                    sv["optional"] = True
                if ref.get("uid") or ref.get("gid"):
                    warn("container %s: uid/gid of secret %s have no Kubernetes equivalent and were left out"
                         % (cname, ref["name"]))
                vname = next((n for n, d in vol_defs.items() if d.get("secret") == sv), None)
                if vname is None:
                    vname = unique = _kube_name(ref["name"]) + "-secret"
                    n = 1
                    while unique in vol_defs:
                        n += 1
                        unique = "%s-%d" % (vname, n)
                    vname = unique
                    vol_defs[vname] = {"name": vname, "secret": sv}
                secret_mounts.append({"name": vname, "mountPath": ref["target"], "readOnly": True})
            else:
                warn("container %s: the file secret %s at %s has no Kubernetes equivalent (a secret volume "
                     "mounts a directory) and was left out" % (cname, ref["name"], ref["target"]))
        if c_env:
            c["env"] = c_env
        if idx == 0 and pd.get("publish"):
            ports = []
            for p in pd["publish"]:
                port = {"containerPort": p["container_port"], "hostPort": p["host_port"]}
                if p.get("host_ip") and p["host_ip"] != "0.0.0.0":
                    port["hostIP"] = p["host_ip"]
                port["protocol"] = str(p.get("protocol") or "tcp").upper()
                ports.append(port)
            c["ports"] = ports
        if cd.get("publish"):
            warn("container %s: publish on a member has no Kubernetes equivalent and was left out" % cname)
        mounts = []
        for m in cd.get("volume") or []:
            if not m.get("source"):
                warn("container %s: anonymous volume %s has no Kubernetes equivalent and was left out"
                     % (cname, m["destination"]))
                continue
            key = (m["type"], m["source"])
            if key not in by_source:
                if m["type"] == "bind":
                    vname = _kube_name(m["source"].rsplit("/", 1)[-1]) + "-host"
                    vdef = {"hostPath": {"path": m["source"]}}
                elif m["source"] in emptydirs:
                    vname, vdef = emptydirs[m["source"]], {"emptyDir": {}}
                else:
                    vname, vdef = _kube_name(m["source"]), {"persistentVolumeClaim": {"claimName": m["source"]}}
                n = 1
                unique = vname
                while unique in vol_defs:
                    n += 1
                    unique = "%s-%d" % (vname, n)
                vol_defs[unique] = dict({"name": unique}, **vdef)
                by_source[key] = unique
            vm: Dict[str, Any] = {"name": by_source[key], "mountPath": m["destination"]}
            opts = list(m.get("options") or [])
            if "ro" in opts:
                vm["readOnly"] = True
            other = [o for o in opts if o not in ("ro", "rw")]
            if other:
                warn("container %s: mount options %s of %s have no Kubernetes equivalent and were left out"
                     % (cname, ",".join(other), m["destination"]))
            mounts.append(vm)
        mounts += secret_mounts
        if mounts:
            c["volumeMounts"] = mounts
        sec: Dict[str, Any] = {}
        if cd.get("privileged"):
            sec["privileged"] = True
        if cd.get("read_only"):
            sec["readOnlyRootFilesystem"] = True
        caps = {}
        if cd.get("cap_add"):
            caps["add"] = [x[4:] if x.startswith("CAP_") else x for x in cd["cap_add"]]
        if cd.get("cap_drop"):
            caps["drop"] = [x[4:] if x.startswith("CAP_") else x for x in cd["cap_drop"]]
        if caps:
            sec["capabilities"] = caps
        if cd.get("user"):
            u, _sep, g = str(cd["user"]).partition(":")
            if u.isdigit() and (not g or g.isdigit()):
                sec["runAsUser"] = int(u)
                if g:
                    sec["runAsGroup"] = int(g)
            else:
                warn("container %s: user %s is not numeric and was left out (Kubernetes needs runAsUser IDs)"
                     % (cname, cd["user"]))
        if sec:
            c["securityContext"] = sec
        limits: Dict[str, Any] = {}
        if cd.get("memory"):
            limits["memory"] = str(int(cd["memory"]))
        if cd.get("cpus"):
            limits["cpu"] = format_cpus(float(cd["cpus"]))
        if limits:
            c["resources"] = {"limits": limits}
        if cd.get("tty"):
            c["tty"] = True
        net = cd.get("network") or {}
        if d.get("network") not in (None, container_defaults.get("network")) and net.get("mode") != "pod":
            warn("container %s: network has no Kubernetes equivalent inside a pod and was left out" % cname)
        restarts.append((cd.get("restart_policy") or {}).get("name", "no"))
        graces.append(cd.get("stop_timeout"))
        containers.append(c)
    if restarts:
        if len(set(restarts)) > 1:
            warn("pod %s: its containers have different restart policies (%s); the first one is used"
                 % (pod_name, ", ".join(restarts)))
        spec["restartPolicy"] = _RESTART_KUBE.get(restarts[0], "Always")
    if graces and graces[0] is not None:
        if len(set(graces)) > 1:
            warn("pod %s: its containers have different stop timeouts; the first one is used" % pod_name)
        spec["terminationGracePeriodSeconds"] = int(graces[0])
    spec["containers"] = containers
    if vol_defs:
        spec["volumes"] = list(vol_defs.values())
    if not containers:
        warn("pod %s has no containers: the manifest is not a valid Pod" % pod_name)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}, warnings
