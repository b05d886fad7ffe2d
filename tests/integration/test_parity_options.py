# SPDX-License-Identifier: GPL-3.0-or-later
"""containers.podman parameters of issue 23 (process and init, networking syntax, lifecycle,
logging, pull source, podman-CLI-only parameters): the parameter matrix, then their effects
seen inside the containers."""
from __future__ import annotations

import os
import time

import pytest

from ansible_collections.libpod.engine.tests.helpers.images import busybox_image, write_oci_archive

IMAGE = "localhost/parity:latest"


@pytest.fixture(scope="module")
def parity_image(tmp_path_factory):
    """busybox with an image VOLUME (/data, holding a file), ExposedPorts 8080/tcp and Env."""
    work = str(tmp_path_factory.mktemp("parity-image"))
    img = busybox_image(work, config={
        "Cmd": ["sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "IMG=1"], "WorkingDir": "/",
        "Volumes": {"/data": {}}, "ExposedPorts": {"8080/tcp": {}}})
    return write_oci_archive(work + "/parity.tar", [(img, IMAGE)])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("parity-files")
    out = {"dir": str(d)}
    for name, text in (("labels_a", "tier=web\n# comment\n"), ("labels_b", "tier=db\n"),
                       ("env_a", "A=1\n"), ("env_b", "B=2\nA=3\n"), ("hosts", "10.9.9.9 base.example\n")):
        (d / name).write_text(text)
        out[name] = str(d / name)
    return out


# option -> (value A, value B, how B is applied, B as the diff shows it (None: B itself))
def _matrix(f):
    d = f["dir"]
    return {
        "env_host": (False, True, "recreate", None),
        "http_proxy": (True, False, "recreate", None),
        "env_merge": ({"PATH": "/opt:${PATH}"}, {"PATH": "/x:${PATH}"}, "recreate", None),
        "unsetenv": (["TERM"], ["container", "TERM"], "recreate", ["TERM", "container"]),
        "unsetenv_all": (False, True, "recreate", None),
        "label_file": (f["labels_a"], f["labels_b"], "recreate", {"tier": "db"}),
        "env_file": ([f["env_a"]], [f["env_a"], f["env_b"]], "recreate", "keys"),
        "timezone": ("Etc/UTC", "Europe/Paris", "recreate", None),
        "init_path": ("/usr/bin/catatonit", "/usr/libexec/podman/catatonit", "recreate", None),
        "systemd": (True, "always", "recreate", "always"),
        "sdnotify": ("container", "ignore", "recreate", None),
        "interactive": (False, True, "recreate", None),
        "rm": (False, True, "recreate", None),
        "image_volume": ("bind", "tmpfs", "recreate", None),
        "expose": (["80"], ["81-82/udp"], "recreate", ["81/udp", "82/udp"]),
        "no_hosts": (False, True, "recreate", None),
        "hosts_file": ("none", "image", "recreate", None),
        "no_hostname": (False, True, "recreate", None),
        "log_driver": ("k8s-file", "none", "recreate", None),
        "log_opt": ({"tag": "a"}, {"tag": "b", "max_size": "1m"}, "recreate",
                    {"tag": "b", "max_size": 1024 * 1024}),
        "cidfile": (d + "/cid-a", d + "/cid-b", "recreate", None),
        "conmon_pidfile": (d + "/conmon-a", d + "/conmon-b", "in place", None),
        "pid_file": (d + "/pid-a", d + "/pid-b", "in place", None),
        "stop_timeout": (5, 7, "in place", None),  # through its peer alias stop_time
    }


ALIAS = {"stop_timeout": "stop_time"}


def _task(values, step, **kw):
    args = {"name": "m", "image": "{{ img }}", "command": ["/bin/sleep", "1000"], "network": "none", "timeout": 0,
            "state": "created"}
    args.update({ALIAS.get(opt, opt): value for opt, value in values.items()})
    task = {"name": step, "libpod.engine.container": args, "register": "r"}
    task.update(kw)
    return task


def test_parity_parameter_matrix(playbook, parity_image, files):
    """One container declared with every new option at value A: apply, re-apply unchanged; then
    option by option (the earlier ones left at B): check mode of the change, then the change (the
    minimal action, the diff names exactly that option); finally all at B re-applied unchanged.
    The peer's alias is used where it has one. The container is only created: the comparison is
    the same for a running one, and what the options do in a running container is checked below."""
    matrix = _matrix(files)
    values = {opt: a for opt, (a, _b, _how, _shown) in matrix.items()}
    tasks = [_task(values, "apply"), _task(values, "reapply")]
    for opt, (_a, b, _how, _shown) in matrix.items():
        values[opt] = b
        tasks.append(_task(values, opt + " check", check_mode=True, diff=True))
        tasks.append(_task(values, opt + " change", diff=True))
    tasks.append(_task(values, "all at B"))
    t0 = time.time()
    res = playbook(tasks, extra_vars={"img": "oci-archive:" + parity_image}, timeout=600)
    elapsed = time.time() - t0
    assert res.ok, res.log
    by = {t.name: t for t in res.tasks}
    assert by["apply"].changed and not by["reapply"].changed, by["reapply"]["actions"]
    before = by["reapply"]["container"]
    for opt, (_a, b, how, shown) in matrix.items():
        check, change = by[opt + " check"], by[opt + " change"]
        assert check.changed and check["container"]["Id"] == before["Id"], (opt, check.result)
        assert set(check["diff"]["after"]) == {opt} and set(change["diff"]["after"]) == {opt}, (opt, change["diff"])
        assert change["diff"]["before"][opt] == before["Declared"][opt], (opt, change["diff"])
        after = change["diff"]["after"][opt]
        if shown == "keys":
            assert after["keys"] == ["A", "B"] and after["path"] == b, after
        else:
            assert after == (b if shown is None else shown), (opt, after)
        if how == "recreate":
            assert change["actions"][0] == "recreated m: %s changed" % opt, (opt, change["actions"])
            assert change["container"]["Id"] != before["Id"]
        else:
            assert change["actions"][0] == "updated m in place: %s" % opt, (opt, change["actions"])
            assert change["container"]["Id"] == before["Id"]
        before = change["container"]
    assert not by["all at B"].changed, by["all at B"]["actions"]
    print("parity matrix: %d tasks in %.1f s" % (len(tasks), elapsed))


def _exec(name, cmd):
    return {"libpod.engine.container_exec": {"name": name, "command": cmd}}


def test_parity_options_take_effect(playbook, parity_image, files, tmp_path):
    """What the options do, seen inside the containers and in their inspect output."""
    d = str(tmp_path)
    img = "oci-archive:" + parity_image
    env = {"PARITY_HOST": "h1", "http_proxy": "http://proxy.example:3128"}
    base = {"image": img, "network": "none", "timeout": 0}
    e1 = dict(base, name="e1", command=["/bin/sh", "-c", "echo hello-log; exec sleep 1000"], unsetenv=["TERM"],
              env_merge={"PATH": "/opt/bin:${PATH}"}, env_file=[files["env_a"], files["env_b"]],
              label_file=files["labels_a"], timezone="Europe/Paris", no_hosts=True, no_hostname=True,
              expose=["9090"], interactive=True, cidfile=d + "/e1.cid", pid_file=d + "/e1.pid",
              conmon_pidfile=d + "/e1.conmon", log_opt={"path": d + "/e1.log", "tag": "web"}, systemd="always",
              image_volume="tmpfs", executable="/usr/bin/podman-remote", generate_systemd={"path": d})
    e2 = dict(base, name="e2", command=["/bin/sleep", "1000"], env_host=True, hosts_file=files["hosts"])
    e3 = dict(base, name="e3", command=["/bin/sleep", "1000"], unsetenv_all=True, env={"OWN": "x"},
              http_proxy=False)
    p1 = dict(image=img, name="p1", command=["/bin/sleep", "1000"], expose=["9090"], publish_all=True, timeout=0)
    tasks = [
        {"libpod.engine.container": e1, "environment": env},                                       # 0
        {"libpod.engine.container": e2, "environment": env},                                       # 1
        {"libpod.engine.container": e3, "environment": env},                                       # 2
        _exec("e1", ["env"]), _exec("e1", ["cat", "/proc/mounts"]),
        _exec("e1", ["/bin/busybox", "md5sum", "/etc/localtime"]),
        _exec("e2", ["env"]), _exec("e2", ["cat", "/etc/hosts"]), _exec("e3", ["/bin/env"]),       # 6 7 8
        {"libpod.engine.container": p1},                                                           # 9
        {"libpod.engine.container": dict(p1, env={"V": "2"})},                                    # 10
        # requires: r-db is started before r-web; delete_depend removes r-web with r-db
        {"libpod.engine.container": dict(base, name="r-db", command=["/bin/sleep", "1000"], state="created")},
        {"libpod.engine.container": dict(base, name="r-web", command=["/bin/sleep", "1000"], requires=["r-db"])},
        {"libpod.engine.container_info": {"name": ["r-db"]}},                                     # 13
        {"libpod.engine.container": {"name": "r-db", "state": "absent", "delete_depend": True, "delete_time": "0"}},
        {"libpod.engine.container_info": {"name": ["r-db", "r-web"]}},                            # 15
        # volumes_from (read-only)
        {"libpod.engine.container": dict(base, name="vf-src", command=["/bin/sleep", "1000"], volume=["vfdata:/vf"],
                                         state="created")},
        {"libpod.engine.container": dict(base, name="vf-dst", command=["/bin/sleep", "1000"],
                                         volumes_from=["vf-src:ro"])},                           # 17
        {"libpod.engine.container_exec": {"name": "vf-dst", "command": ["touch", "/vf/x"]}, "ignore_errors": True},
        # rm: removed by the stop of the task, and by itself when its command exits
        {"libpod.engine.container": dict(base, name="rm1", command=["/bin/sleep", "1000"], rm=True)},
        {"libpod.engine.container": {"name": "rm1", "state": "stopped"}},                        # 20
        {"libpod.engine.container": dict(base, name="rm2", command=["/bin/true"], auto_remove=True)},
        {"libpod.engine.container_info": {"name": ["rm2"]}, "register": "gone",
         "until": "gone.missing == ['rm2']", "retries": 100, "delay": 0.2},                       # 22
        # the peer's pull parameters are accepted (the platform selection itself: test_image_store)
        {"libpod.engine.container": dict(base, name="arm", pull="always", os="linux", arch="amd64", creds="u:p",
                                         tls_verify=True, state="created")},                     # 23
        {"libpod.engine.container_info": {"name": ["e1", "e2", "e3"]}},                          # 24
        # pods: infra_conmon_pidfile, the published alias, CLI-only parameters
        {"libpod.engine.pod": {"name": "pp", "state": "started", "infra_conmon_pidfile": d + "/infra.conmon",
                               "published": ["127.0.0.1::80"], "executable": "podman-remote"}},    # 25
        {"libpod.engine.pod": {"name": "pp", "state": "started", "infra_conmon_pidfile": d + "/infra.conmon",
                               "published": ["127.0.0.1::80"]}},                                   # 26
        {"libpod.engine.pod": {"name": "pp", "state": "absent", "force": True}},
    ]
    res = playbook(tasks)
    for i, t in enumerate(res.tasks):
        assert not t.failed or i == 18, (i, t.result)
    e1_env = res.tasks[3]["stdout"].splitlines()
    assert "http_proxy=http://proxy.example:3128" in e1_env and not any(v.startswith("PARITY_HOST") for v in e1_env)
    assert not any(v.startswith("TERM=") for v in e1_env), e1_env
    assert "PATH=/opt/bin:/usr/sbin:/usr/bin:/sbin:/bin" in e1_env and "A=3" in e1_env and "B=2" in e1_env, e1_env
    mounts = res.tasks[4]["stdout"]
    assert " /run tmpfs " in mounts and " /data tmpfs " in mounts, mounts
    assert " /etc/hosts " not in mounts and " /etc/hostname " not in mounts, mounts
    with open("/usr/share/zoneinfo/Europe/Paris", "rb") as f:
        import hashlib
        assert res.tasks[5]["stdout"].split()[0] == hashlib.md5(f.read()).hexdigest()  # noqa: S324 - a checksum
    assert "PARITY_HOST=h1" in res.tasks[6]["stdout"].splitlines()
    assert "10.9.9.9\tbase.example" in res.tasks[7]["stdout"] or "10.9.9.9 base.example" in res.tasks[7]["stdout"]
    e3_env = res.tasks[8]["stdout"].split()  # exec adds HOME, as podman exec
    assert "OWN=x" in e3_env and not any(v.startswith(("PATH=", "TERM=", "HOSTNAME=")) for v in e3_env), e3_env
    warnings = res.tasks[0].get("warnings") or []
    assert any("executable is a podman CLI parameter" in w for w in warnings), warnings
    assert any("generate_systemd is ignored" in w and "restart_on_boot" in w for w in warnings), warnings
    e1 = res.tasks[24]["containers"][0]
    assert e1["Config"]["Labels"]["tier"] == "web" and e1["Config"]["StopSignal"] == 37
    assert set(e1["Config"]["ExposedPorts"]) == {"8080/tcp", "9090/tcp"} and e1["Config"]["OpenStdin"]
    assert e1["LogPath"] == d + "/e1.log" and e1["HostConfig"]["LogConfig"]["Tag"] == "web"
    with open(d + "/e1.log") as f:
        assert "hello-log" in f.read()
    with open(d + "/e1.cid") as f:
        assert f.read() == e1["Id"]
    with open(d + "/e1.pid") as f:
        assert int(f.read()) == e1["State"]["Pid"]
    with open(d + "/e1.conmon") as f:
        assert int(f.read()) == e1["State"]["ConmonPid"]
    e2 = res.tasks[24]["containers"][1]
    assert [m["Destination"] for m in e2["Mounts"] if m["Type"] == "volume"] == ["/data"], e2["Mounts"]
    ports = res.tasks[9]["container"]["HostConfig"]["PortBindings"]
    assert set(ports) == {"8080/tcp", "9090/tcp"} and all(int(p[0]["HostPort"]) > 0 for p in ports.values()), ports
    assert res.tasks[10]["container"]["HostConfig"]["PortBindings"] == ports  # kept by the recreate
    assert res.tasks[13]["containers"][0]["State"]["Running"], "requires: r-db was not started first"
    assert "removed r-web (delete_depend: it depends on r-db)" in res.tasks[14]["actions"], res.tasks[14]["actions"]
    assert sorted(res.tasks[15]["missing"]) == ["r-db", "r-web"]
    vf = [m for m in res.tasks[17]["container"]["Mounts"] if m["Destination"] == "/vf"]
    assert vf and vf[0]["Name"] == "vfdata" and not vf[0]["RW"], vf
    assert res.tasks[18].failed
    assert "removed rm1 (rm)" in res.tasks[20]["actions"], res.tasks[20]["actions"]
    assert not res.tasks[23].failed, res.tasks[23].result
    pod = res.tasks[25]
    assert any("executable is a podman CLI parameter" in w for w in pod.get("warnings") or []), pod.result
    assert not res.tasks[26].changed, res.tasks[26]["actions"]
    infra = [c for c in pod["pod"]["Containers"] if c["Id"] == pod["pod"]["InfraContainerId"]]
    assert infra, pod["pod"]
    with open(d + "/infra.conmon") as f:
        assert int(f.read()) > 0
    cleanup = [{"libpod.engine.container": {"name": n, "state": "absent", "timeout": 0}}
               for n in ("e1", "e2", "e3", "p1", "vf-dst", "vf-src", "arm")]
    assert playbook(cleanup).ok
    assert not os.path.exists(d + "/e1.cid")  # removed with its container
