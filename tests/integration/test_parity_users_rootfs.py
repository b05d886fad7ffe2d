# SPDX-License-Identifier: GPL-3.0-or-later
"""containers.podman parity, issue 23: passwd / passwd_entry / group_entry / hostuser, cgroups: disabled
and rootfs. One playbook, one engine root: the parameter matrix (apply / probe / re-apply unchanged /
check mode of the change / change / probe / re-apply) per container, effects read inside the
container (its /etc/passwd, /etc/group, id) and from the host (its cgroup, the rootfs directory)."""
from __future__ import annotations

import os
import pwd

import pytest

from ansible_collections.libpod.engine.tests.helpers.rootfs import make_busybox_rootfs

PROBE = "cat /etc/passwd; echo ---; cat /etc/group; echo ---; id; touch /written-%s 2>&1; ls /"


def _host_user() -> pwd.struct_passwd:
    """A host user the busybox image does not have (root, app and nobody are in it)."""
    for u in pwd.getpwall():
        if u.pw_name not in ("root", "app", "nobody") and u.pw_uid not in (0, 1000, 65534) and 0 < u.pw_uid < 1000:
            return u
    pytest.skip("no system user on this host to copy into a container")


def _groups(rootfs: str, user: pwd.struct_passwd) -> dict:
    """container -> (options A, options B); every change recreates."""
    return {
        "u-default": ({"user": "4242:4343"},
                      {"user": "4242:4343", "read_only": True,
                       "passwd_entry": "$USERNAME:x:$UID:$GID:$NAME:$HOME:/bin/false",
                       "group_entry": "grp$GID:x:$GID:$USERLIST"}),
        "u-host": ({"hostuser": user.pw_name, "user": user.pw_name},
                   {"hostuser": user.pw_name, "user": "4242", "passwd": False}),
        "u-cgroups": ({"cgroups": "disabled", "oci_runtime": "crun", "memory": "64m"},
                      {"cgroups": "enabled", "oci_runtime": "crun", "memory": "64m"}),
        "u-rootfs": ({"rootfs": True, "image": rootfs},
                     {"rootfs": True, "image": rootfs + "/:O"}),
    }


def _task(name, opts, step, **kw):
    args = dict({"image": "{{ img }}"}, **opts)
    args.update(name=name, command=["sleep", "1000"], network="none", hostname=name, timeout=0)
    return dict({"name": "%s %s" % (name, step), "libpod.engine.container": args, "register": "r"}, **kw)


def _probe(name, step):
    probe = [{"name": "%s probe %s" % (name, step),
              "libpod.engine.container_exec": {"name": name, "command": ["sh", "-c", PROBE % step]}}]
    if name == "u-default" and step == "change":  # an exec's user, looked up in the bind-mounted copies
        probe.append({"name": "u-default probe exec-user", "libpod.engine.container_exec": {
            "name": name, "user": "4242:grp4343", "command": ["sh", "-c", "echo; echo; id"]}})
    if name == "u-cgroups":  # the cgroup of the container's process, seen from the host
        probe.append({"name": "%s host %s" % (name, step), "ansible.builtin.command": "cat /proc/{{ pid }}/cgroup",
                      "vars": {"pid": "{{ r.container.State.Pid }}"}})
    return probe


def test_users_cgroups_and_rootfs_matrix(playbook, busybox_archive, tmp_path):
    rootfs = make_busybox_rootfs(str(tmp_path / "root"))
    with open(os.path.join(rootfs, "marker"), "w") as f:
        f.write("from the host\n")
    user = _host_user()
    groups = _groups(rootfs, user)
    tasks = []
    for name, (a, b) in groups.items():
        tasks += [_task(name, a, "apply"), *_probe(name, "apply"), _task(name, a, "reapply"),
                  _task(name, b, "check", check_mode=True, diff=True), _task(name, b, "change", diff=True),
                  *_probe(name, "change"), _task(name, b, "rechange")]
    tasks += [{"name": "info", "libpod.engine.container_info": {"name": ["u-rootfs", "u-cgroups"]}, "register": "i"}]
    refused = [
        ({"cgroups": "disabled", "oci_runtime": "runc"}, "cgroups: disabled needs an OCI runtime that can run a "
                                                         "container without a cgroup; runc cannot"),
        ({"cgroups": "disabled", "oci_runtime": "crun", "pid": "host"}, "needs the container's own PID namespace"),
        ({"cgroups": "split"}, "cgroups: split is not supported"),
        ({"rootfs": True, "image": rootfs + "/missing"}, "rootfs: %s/missing does not exist" % rootfs),
        ({"rootfs": True, "image": rootfs + "/marker"}, "is not a directory"),
        ({"rootfs": True, "image": "relative/dir"}, "needs image: to be an absolute directory path"),
        ({"rootfs": True, "image": rootfs + ":idmap"}, "option 'idmap' of image"),
        ({"hostuser": "no-such-user-lpe"}, "hostuser: no-such-user-lpe is not a user of this host"),
        ({"passwd_entry": "$USERNAME:$UID"}, "invalid passwd_entry"),
    ]
    for i, (opts, _msg) in enumerate(refused):
        tasks.append(dict(_task("u-refused", opts, "r%d" % i), ignore_errors=True))
    tasks.append({"name": "refused info", "libpod.engine.container_info": {"name": ["u-refused"]}})
    for name in groups:
        tasks.append({"libpod.engine.container": {"name": name, "state": "absent", "timeout": 0}})
    res = playbook(tasks, extra_vars={"img": "oci-archive:" + busybox_archive}, timeout=600)
    assert res.ok, res.log
    by = {t.name: t for t in res.tasks}
    for name, (a, b) in groups.items():
        apply, reapply, check = by[name + " apply"], by[name + " reapply"], by[name + " check"]
        change, rechange = by[name + " change"], by[name + " rechange"]
        changed = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        assert apply.changed and not reapply.changed, (name, reapply["actions"])
        assert check.changed and check["container"]["Id"] == apply["container"]["Id"], name
        assert sorted(check["diff"]["after"]) == changed, (name, check["diff"])
        assert change["actions"][0].startswith("recreated %s: " % name), change["actions"]
        assert change["container"]["Id"] != apply["container"]["Id"]
        assert not rechange.changed, (name, rechange["actions"])
    out = {t.name: t["stdout"] for t in res.tasks if t.name and " probe " in t.name}

    # passwd omitted = podman's default: an entry for the numeric user and group the image lacks
    passwd, group, ident = out["u-default probe apply"].split("---\n")
    assert "4242:*:4242:4343:container user:/:/bin/sh" in passwd.splitlines(), passwd
    assert "4343:x:4343:4242" in group.splitlines(), group
    assert ident.startswith("uid=4242(4242) gid=4343(4343)"), ident
    # templates, on a read-only rootfs (copies bind-mounted over the image's files)
    passwd, group, ident = out["u-default probe change"].split("---\n")
    assert "4242:x:4242:4343:container user:/:/bin/false" in passwd.splitlines(), passwd
    assert "grp4343:x:4343:4242" in group.splitlines() and "app:x:1000:" in group, group
    assert ident.startswith("uid=4242(4242) gid=4343(grp4343)"), ident
    assert "Read-only file system" in out["u-default probe change"]
    assert "uid=4242(4242) gid=4343(grp4343)" in out["u-default probe exec-user"], out["u-default probe exec-user"]

    # hostuser: the host's entry, the container runs as it by name; passwd: false adds nothing
    passwd, _group, ident = out["u-host probe apply"].split("---\n")
    entry = "%s:*:%d:%d:%s:/:/bin/sh" % (user.pw_name, user.pw_uid, user.pw_gid, user.pw_gecos.split(",")[0])
    assert entry in passwd.splitlines(), passwd
    assert ident.startswith("uid=%d(%s)" % (user.pw_uid, user.pw_name)), ident
    passwd, _group, ident = out["u-host probe change"].split("---\n")
    assert user.pw_name not in passwd and "4242" not in passwd, passwd
    assert ident.startswith("uid=4242 gid=0(root)"), ident

    # cgroups: disabled: the container's process is in no cgroup of its own (crun --cgroup-manager=disabled)
    off, on = by["u-cgroups apply"]["container"], by["u-cgroups change"]["container"]
    assert off["HostConfig"]["Cgroups"] == "disabled" and on["HostConfig"]["Cgroups"] == "default"
    assert "libpod-" not in by["u-cgroups host apply"]["stdout"], by["u-cgroups host apply"]["stdout"]
    assert "libpod-%s" % on["Id"] in by["u-cgroups host change"]["stdout"], by["u-cgroups host change"]["stdout"]
    assert any("resource limits are not applied" in w for w in by["u-cgroups apply"].get("warnings", [])), \
        by["u-cgroups apply"]

    # rootfs: the directory as the root (writes land in it); :O: an overlay (writes stay in the container)
    direct = by["u-rootfs apply"]["container"]
    assert direct["Rootfs"] == rootfs and direct["ImageName"] == "" and direct["Image"] == "", direct
    assert "marker" in out["u-rootfs probe apply"] and "marker" in out["u-rootfs probe change"]
    assert os.path.exists(os.path.join(rootfs, "written-apply"))  # from the first container
    assert "written-apply" in out["u-rootfs probe change"]  # the overlay's lower dir shows it
    assert "written-change" in out["u-rootfs probe change"]
    assert not os.path.exists(os.path.join(rootfs, "written-change"))  # in the overlay's upper dir only
    info = {c["Name"]: c for c in by["info"]["containers"]}
    assert info["u-rootfs"]["Rootfs"] == rootfs
    assert info["u-cgroups"]["HostConfig"]["Cgroups"] == "default"

    for i, (opts, msg) in enumerate(refused):
        r = by["u-refused r%d" % i]
        assert r.failed and msg in r.msg, (opts, r.msg)
    assert by["refused info"]["missing"] == ["u-refused"]
