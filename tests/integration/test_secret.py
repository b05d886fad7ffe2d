# SPDX-License-Identifier: GPL-3.0-or-later
"""secret, secret_info and the container option ``secrets`` through real ansible-playbook runs.

Containers print checksums of what they see, never the values, so that the whole playbook output
(run with -vvv and --diff) can be searched for the plaintext: it must never appear there, in the
events log, in the state DB or anywhere under the static dir (rootfs and layers included).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import uuid

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import mounts

from .helpers import run_playbook

IMAGE = "oci-archive:{{ busybox }}"
#: prints checksums of the secrets it sees, then idles until stopped
SCRIPT = ("trap 'exit 0' TERM; md5sum /run/secrets/db-pass; printf %s \"$API_TOKEN\" | md5sum; "
          "md5sum /run/secrets/tok.txt; stat -c '%n %a %u %g' /run/secrets/db-pass /run/secrets/tok.txt; "
          "grep -c /run/secrets /proc/mounts; echo END; while true; do sleep 0.2; done")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - a checksum in a test, not security


def container(**extra) -> dict:
    spec = {"name": "c1", "image": IMAGE, "network": "none", "stop_timeout": 2, "command": ["sh", "-c", SCRIPT],
            "secrets": ["db-pass", {"name": "api-token", "type": "env", "target": "API_TOKEN"},
                        {"name": "api-token", "target": "tok.txt", "uid": 1000, "gid": 1001, "mode": "0400"}]}
    spec.update(extra)
    return spec


def wait_logs(register: str) -> dict:
    return {"name": "wait %s" % register, "libpod.engine.container_info": {"name": ["c1"], "log_lines": 20},
            "register": register, "retries": 100, "delay": 0.2,
            "until": "%s.containers[0].logs | map(attribute='line') | select('equalto', 'END') | list | length > 0"
                     % register}


def lines(task) -> list:
    return [e["line"] for e in task["containers"][0]["logs"]]


def files_containing(root: str, needle: bytes) -> list:
    found = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            try:
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    continue
                with open(path, "rb") as f:
                    if needle in f.read():
                        found.append(path)
            except OSError:
                continue
    return found


def secret_mounts(tmp_dir: str) -> list:
    return [(e.point, e.fstype) for e in mounts.mount_table()
            if e.point.startswith(os.path.join(tmp_dir, "secrets") + "/")]


def test_secrets_in_a_container_rotation_and_no_leak(engine_env, busybox_archive):
    db1, db2, tok = "db-ONE-%s" % uuid.uuid4().hex, "db-TWO-%s" % uuid.uuid4().hex, "tok-%s" % uuid.uuid4().hex
    xv = {"busybox": busybox_archive, "db1": db1, "db2": db2, "tok": tok}
    first = [
        {"name": "create db", "libpod.engine.secret": {"name": "db-pass", "data": "{{ db1 }}",
                                                       "labels": {"app": "shop"}}, "register": "c"},
        {"name": "create tok", "libpod.engine.secret": {"name": "api-token", "data": "{{ tok }}"}},
        {"name": "same db", "libpod.engine.secret": {"name": "db-pass", "data": "{{ db1 }}",
                                                     "labels": {"app": "shop"}}},
        {"name": "same db checked", "libpod.engine.secret": {"name": "db-pass", "data": "{{ db1 }}",
                                                             "labels": {"app": "shop"}}, "check_mode": True},
        {"name": "run", "libpod.engine.container": container()},
        wait_logs("l1"),
        {"name": "rerun", "libpod.engine.container": container()},
        {"name": "info", "libpod.engine.secret_info": {"name": ["db-pass", "nope"]}},
        {"name": "ctr info", "libpod.engine.container_info": {"name": ["c1"]}},
        {"name": "absent refused", "libpod.engine.secret": {"name": "db-pass", "state": "absent"},
         "ignore_errors": True},
    ]
    res = run_playbook(engine_env, first, diff=True, extra_args=["-vvv"], extra_vars=xv)
    assert res.rc == 0, res.log
    created = res.task("create db")
    assert created.changed and created["actions"] == ["created secret db-pass"]
    assert created["secret"]["Spec"] == {"Name": "db-pass", "Driver": {"Name": "file", "Options": {}},
                                         "Labels": {"app": "shop"}}
    assert not res.task("same db").changed and not res.task("same db checked").changed
    out = lines(res.task("wait l1"))
    assert "%s  /run/secrets/db-pass" % md5(db1) in out, out
    assert "%s  -" % md5(tok) in out, out  # env secret
    assert "%s  /run/secrets/tok.txt" % md5(tok) in out, out
    assert "/run/secrets/db-pass 444 0 0" in out and "/run/secrets/tok.txt 400 1000 1001" in out, out
    assert not res.task("rerun").changed, res.task("rerun").result
    info = res.task("info")
    assert info["missing"] == ["nope"] and info["secrets"][0]["Containers"] == ["c1"]
    assert set(info["secrets"][0]) == {"ID", "CreatedAt", "UpdatedAt", "Spec", "Containers"}
    declared = res.task("ctr info")["containers"][0]["Declared"]["secrets"]
    assert sorted(s["name"] for s in declared) == ["api-token", "api-token", "db-pass"]
    refused = res.task("absent refused")
    assert refused.failed and refused["error_kind"] == "secret_in_use" and "c1" in refused.msg

    # while it runs: the mount secrets come from a tmpfs of their own; the data is nowhere on disk
    tmp_dir, static = engine_env.paths["tmp_dir"], engine_env.paths["static_dir"]
    mounts = secret_mounts(tmp_dir)
    assert len(mounts) == 1 and mounts[0][1] == "tmpfs", mounts
    assert files_containing(static, db1.encode()) == []  # rootfs, layers, DB, file driver (base64)
    sdir = os.path.join(static, "secrets")
    for path, mode in ((sdir, 0o700), (os.path.join(sdir, "filedriver"), 0o700),
                       (os.path.join(sdir, "filedriver", "secretsdata.json"), 0o600),
                       (os.path.join(sdir, "hmac.key"), 0o600)):
        st = os.stat(path)
        assert (stat.S_IMODE(st.st_mode), st.st_uid) == (mode, 0), path

    second = [
        {"name": "rotate", "libpod.engine.secret": {"name": "db-pass", "data": "{{ db2 }}",
                                                    "labels": {"app": "shop"}}},
        {"name": "run again", "libpod.engine.container": container()},
        wait_logs("l2"),
        {"name": "run third", "libpod.engine.container": container()},
        {"name": "remove ctr", "libpod.engine.container": {"name": "c1", "state": "absent"}},
        {"name": "absent", "libpod.engine.secret": {"name": "db-pass", "state": "absent"}},
        {"name": "absent tok", "libpod.engine.secret": {"name": "api-token", "state": "absent"}},
        {"name": "absent again", "libpod.engine.secret": {"name": "db-pass", "state": "absent"}},
        {"name": "info after", "libpod.engine.secret_info": {}},
    ]
    res2 = run_playbook(engine_env, second, diff=True, extra_args=["-vvv"], extra_vars=xv)
    assert res2.rc == 0, res2.log
    rotate = res2.task("rotate")
    assert rotate.changed and rotate["actions"][0].startswith("updated secret db-pass: data changed"), rotate.result
    assert "c1" in rotate["actions"][0]
    assert rotate["diff"] == {"before": {"data": "(previous value, not shown)"},
                              "after": {"data": "(new value, not shown)"}}
    assert rotate["secret"]["ID"] == created["secret"]["ID"]  # same secret, new data
    again = res2.task("run again")
    assert again.changed and any("secret db-pass changed" in a for a in again["actions"]), again.result
    out = lines(res2.task("wait l2"))
    assert "%s  /run/secrets/db-pass" % md5(db2) in out, out
    assert not res2.task("run third").changed, res2.task("run third").result
    assert res2.task("absent").changed and not res2.task("absent again").changed
    assert res2.task("info after")["secrets"] == []
    assert secret_mounts(tmp_dir) == []

    # the values never appear in any output, result, event or the DB; Ansible never had to mask one
    events = os.path.join(tmp_dir, "events", "events.log")
    with open(events, encoding="utf-8") as f:
        event_text = f.read()
    seen = [(e["Status"], e["Name"]) for e in map(json.loads, event_text.splitlines()) if e["Type"] == "secret"]
    # podman's secret events, "use" each time a container starts with the secret (never the data)
    assert seen == [("create", "db-pass"), ("create", "api-token"), ("use", "api-token"), ("use", "db-pass"),
                    ("update", "db-pass"), ("use", "api-token"), ("use", "db-pass"), ("remove", "db-pass"),
                    ("remove", "api-token")], seen
    uses = [e for e in map(json.loads, event_text.splitlines()) if e["Type"] == "secret" and e["Status"] == "use"]
    assert {e["Attributes"]["container"] for e in uses} == {"c1"}
    for r in (res, res2):
        blob = r.stdout + r.stderr + json.dumps([t.result for t in r.tasks])
        for value in (db1, db2, tok):
            assert value not in blob
        secret_results = [t.result for t in r.tasks if t.action.endswith("secret")]
        assert "********" not in json.dumps([{k: v for k, v in t.items() if k != "invocation"}
                                             for t in secret_results])
    for value in (db1, db2, tok):
        assert value not in event_text
    assert files_containing(static, db2.encode()) == [] and files_containing(static, db1.encode()) == []


def test_shell_driver_round_trip_and_reset(engine_env, busybox_archive, tmp_path):
    store = tmp_path / "vault"
    store.mkdir()
    opts = {"store": "cat > %s/$SECRET_ID" % store, "lookup": "cat %s/$SECRET_ID" % store,
            "delete": "rm -f %s/$SECRET_ID" % store, "list": "ls %s" % store}
    value, value2 = "shell-%s" % uuid.uuid4().hex, "shell2-%s" % uuid.uuid4().hex
    script = "md5sum /run/secrets/s"
    tasks = [
        {"name": "create", "libpod.engine.secret": {"name": "s", "data": value, "driver": "shell",
                                                    "driver_opts": opts}, "register": "created"},
        {"name": "same", "libpod.engine.secret": {"name": "s", "data": value, "driver": "shell", "driver_opts": opts}},
        {"name": "bad opts", "libpod.engine.secret": {"name": "t", "data": "x", "driver": "shell",
                                                      "driver_opts": {"store": "true"}}, "ignore_errors": True},
        {"name": "run", "libpod.engine.container": {"name": "r", "image": IMAGE, "network": "none",
                                                    "command": ["sh", "-c", script], "secrets": ["s"]}},
        {"name": "wait", "libpod.engine.container_info": {"name": ["r"], "log_lines": 5}, "register": "w",
         "until": "w.containers[0].State.Status == 'exited'", "retries": 100, "delay": 0.2},
        {"name": "update", "libpod.engine.secret": {"name": "s", "data": value2, "driver": "shell",
                                                    "driver_opts": opts}},
        {"name": "remove ctr", "libpod.engine.container": {"name": "r", "state": "absent"}},
        {"name": "reset", "libpod.engine.system_reset": {"confirm": True}},
    ]
    res = run_playbook(engine_env, tasks, extra_vars={"busybox": busybox_archive})
    assert res.rc == 0, res.log
    sid = res.task("create")["secret"]["ID"]
    assert res.task("create")["secret"]["Spec"]["Driver"] == {"Name": "shell", "Options": opts}
    assert not res.task("same").changed
    bad = res.task("bad opts")
    assert bad.failed and "lookup" in bad.msg and "delete" in bad.msg and "driver_opts" in bad.msg
    assert lines(res.task("wait")) == ["%s  /run/secrets/s" % md5(value)]
    assert res.task("update").changed
    reset = res.task("reset")
    assert reset["removed"]["secrets"] == ["s"], reset.result
    assert not (store / sid).exists() and list(store.iterdir()) == []  # delete ran for the reset


def test_missing_secret_fails_before_the_old_container_goes(engine_env, busybox_archive):
    ctr = {"name": "x", "image": IMAGE, "network": "none", "state": "created", "secrets": ["s"]}
    tasks = [
        {"name": "check create", "libpod.engine.container": ctr, "check_mode": True},
        {"name": "secret", "libpod.engine.secret": {"name": "s", "data": "v"}},
        {"name": "create", "libpod.engine.container": ctr},
        {"name": "forced absent", "libpod.engine.secret": {"name": "s", "state": "absent", "force": True}},
        {"name": "recreate", "libpod.engine.container": dict(ctr, command=["true"]), "ignore_errors": True},
        {"name": "still there", "libpod.engine.container_info": {"name": ["x"]}},
    ]
    res = run_playbook(engine_env, tasks, extra_vars={"busybox": busybox_archive})
    assert res.rc == 0, res.log
    assert "secret s does not exist (yet)" in res.task("check create").get("warnings", []), res.task("check create")
    assert res.task("forced absent")["actions"] == ["removed secret s (still named by container(s) x)"]
    failed = res.task("recreate")
    assert failed.failed and failed["error_kind"] == "no_such_secret" and "secret named s" in failed.msg
    assert res.task("still there")["missing"] == []  # the old container was not removed first


#: the kube container: checksums of what it sees, END, then waits for the volume file to change
KUBE_SCRIPT = ("trap 'exit 0' TERM; f=/etc/creds/db/password; md5sum $f; printf %s \"$API_TOKEN\" | md5sum; "
               "printf %s \"$DB_USER\" | md5sum; echo \"opt=${OPT-unset}\"; stat -c '%a' $f; ls /etc/creds; "
               "echo END; old=$(md5sum < $f); while [ \"$(md5sum < $f)\" = \"$old\" ]; do sleep 0.2; done; "
               "echo CHANGED; md5sum $f; while true; do sleep 0.2; done")


def kube_manifest(key: str = "user") -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "kp"},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{
                "name": "app", "image": "localhost/busybox:latest", "command": ["sh", "-c", KUBE_SCRIPT],
                "env": [{"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "shop-token", "key": "token"}}},
                        {"name": "DB_USER", "valueFrom": {"secretKeyRef": {"name": "shop-user", "key": key}}},
                        {"name": "OPT", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "x",
                                                                       "optional": True}}}],
                "volumeMounts": [{"name": "creds", "mountPath": "/etc/creds", "readOnly": True}]}],
            "volumes": [{"name": "creds", "secret": {
                "secretName": "shop-db", "defaultMode": 256,
                "items": [{"key": "password", "path": "db/password"}]}}],
        },
    }


#: a stack whose first container joins the second's network; the second uses a secret that rotates
DEP_STACK = {"label": "deps", "containers": [
    {"name": "dep-app", "image": "localhost/busybox:latest", "network": "container:dep-db", "command": ["sleep", "600"],
     "stop_timeout": 1, "state": "started"},
    {"name": "dep-db", "image": "localhost/busybox:latest", "command": ["sleep", "600"], "stop_timeout": 1,
     "state": "started", "secrets": [{"name": "shop-token", "type": "env", "target": "TOKEN"}]}]}


def kube_wait(register: str, line: str) -> dict:
    return {"name": "wait %s" % register, "libpod.engine.container_info": {"name": ["kp-app"], "log_lines": 30},
            "register": register, "retries": 100, "delay": 0.2,
            "until": "%s.containers[0].logs | map(attribute='line') | select('equalto', '%s') | list | length > 0"
                     % (register, line)}


def test_kube_secret_env_and_volume_refresh_and_rotation(engine_env, busybox_archive):
    u = uuid.uuid4().hex
    pw1, pw2, user, tok1, tok2 = ("pw1-" + u, "pw2-" + u, "user-" + u, "tok1-" + u, "tok2-" + u)
    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "shop-db"},
           "stringData": {"user": user, "password": pw1}}
    xv = {"busybox": busybox_archive, "obj1": obj, "obj2": dict(obj, stringData={"user": user, "password": pw2}),
          "tok1": tok1, "tok2": tok2, "user_obj": {"kind": "Secret", "data": {"user": b64(user)}},
          "manifest": kube_manifest(), "bad": kube_manifest("no-such-key")}
    tasks = [
        {"name": "import", "libpod.engine.container": {"name": "importer", "image": IMAGE, "state": "present"}},
        {"name": "drop importer", "libpod.engine.container": {"name": "importer", "state": "absent"}},
        {"name": "db", "libpod.engine.secret": {"name": "shop-db", "data": "{{ obj1 | to_json }}"}},
        {"name": "token", "libpod.engine.secret": {"name": "shop-token", "data": "{{ tok1 }}"}},
        {"name": "user", "libpod.engine.secret": {"name": "shop-user", "data": "{{ user_obj | to_yaml }}"}},
        {"name": "bad key", "libpod.engine.pod": {"state": "started", "definition": "{{ bad }}"},
         "ignore_errors": True},
        {"name": "play", "libpod.engine.pod": {"state": "started", "definition": "{{ manifest }}"}},
        kube_wait("k1", "END"),
        {"name": "replay", "libpod.engine.pod": {"state": "started", "definition": "{{ manifest }}"}},
        {"name": "info1", "libpod.engine.container_info": {"name": ["kp-app"]}},
        # the volume's secret rotates: files swapped in the running container, no restart
        {"name": "rotate db", "libpod.engine.secret": {"name": "shop-db", "data": "{{ obj2 | to_json }}"}},
        {"name": "refresh", "libpod.engine.pod": {"state": "started", "definition": "{{ manifest }}"}},
        kube_wait("k2", "CHANGED"),
        {"name": "info2", "libpod.engine.container_info": {"name": ["kp-app"]}},
        {"name": "refresh again", "libpod.engine.pod": {"state": "started", "definition": "{{ manifest }}"}},
        {"name": "stack", "libpod.engine.stack": DEP_STACK},
        # an env secret rotates: recreated (and, in the stack, the container joining it after it)
        {"name": "rotate token", "libpod.engine.secret": {"name": "shop-token", "data": "{{ tok2 }}"}},
        {"name": "recreate", "libpod.engine.pod": {"state": "started", "definition": "{{ manifest }}"}},
        kube_wait("k3", "END"),
        {"name": "stack again", "libpod.engine.stack": DEP_STACK},
        {"name": "stack info", "libpod.engine.container_info": {"name": ["dep-app", "dep-db"]}},
        {"name": "remove", "libpod.engine.pod": {"name": "kp", "state": "absent", "force": True, "timeout": 1}},
        {"name": "stack absent", "libpod.engine.stack": {"label": "deps", "state": "absent"}},
    ]
    res = run_playbook(engine_env, tasks, diff=True, extra_args=["-vvv"], extra_vars=xv)
    assert res.rc == 0, res.log
    bad = res.task("bad key")
    assert bad.failed and "secret shop-user has no key no-such-key" in bad.msg, bad.result
    play = res.task("play")
    assert play.changed and not any("valueFrom" in w or "volumes[0]" in w for w in play.get("warnings") or []), \
        play.result
    out = lines(res.task("wait k1"))
    assert out[:7] == ["%s  /etc/creds/db/password" % md5(pw1), "%s  -" % md5(tok1), "%s  -" % md5(user),
                       "opt=unset", "400", "db", "END"], out
    assert not res.task("replay").changed, res.task("replay")["actions"]
    refresh = res.task("refresh")
    assert refresh.changed and refresh["actions"] == ["updated kp-app: secret shop-db refreshed in place"], \
        refresh.result
    assert "%s  /etc/creds/db/password" % md5(pw2) in lines(res.task("wait k2"))
    started = [res.task(t)["containers"][0]["State"]["StartedAt"] for t in ("info1", "info2")]
    assert started[0] == started[1]  # not restarted
    assert not res.task("refresh again").changed, res.task("refresh again")["actions"]
    recreate = res.task("recreate")
    assert any("secret shop-token changed" in a for a in recreate["actions"]), recreate.result
    assert "%s  -" % md5(tok2) in lines(res.task("wait k3"))
    # stack: dep-app (listed first) joins dep-db's network, so it comes after it, and is recreated after it
    first = res.task("stack")["actions"]
    assert first.index("created dep-db") < first.index("created dep-app"), first
    again = res.task("stack again")["actions"]
    assert [a.split(":")[0] for a in again if a.startswith("recreated")] == ["recreated dep-db", "recreated dep-app"]
    assert "recreated dep-db: secret shop-token changed" in again, again
    assert "recreated dep-app: container dep-db, whose network it joins, was recreated" in again, again
    assert {c["State"]["Status"] for c in res.task("stack info")["containers"]} == {"running"}

    events = os.path.join(engine_env.paths["tmp_dir"], "events", "events.log")
    with open(events, encoding="utf-8") as f:
        event_text = f.read()
    uses = [(e["Name"], e["Attributes"].get("refreshed")) for e in map(json.loads, event_text.splitlines())
            if e["Type"] == "secret" and e["Status"] == "use"]
    assert uses == [("shop-db", None), ("shop-token", None), ("shop-user", None), ("shop-db", "true"),
                    ("shop-token", None), ("shop-db", None), ("shop-token", None), ("shop-user", None),
                    ("shop-token", None)], uses
    blob = res.stdout + res.stderr + json.dumps([t.result for t in res.tasks]) + event_text
    for value in (pw1, pw2, user, tok1, tok2):
        assert value not in blob
    assert secret_mounts(engine_env.paths["tmp_dir"]) == []
