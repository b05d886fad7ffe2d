# SPDX-License-Identifier: GPL-3.0-or-later
"""container_copy against real containers: round trips, idempotence, symlinks that must not escape."""
from __future__ import annotations

import hashlib
import os
import stat


def _tree(root):
    """{relative path: (kind, mode, content digest or link target)} of a host tree."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), "")
            else:
                with open(p, "rb") as f:
                    out[rel] = ("file", stat.S_IMODE(st.st_mode), hashlib.sha256(f.read()).hexdigest())
    return out


def _make_src(root):
    os.makedirs(os.path.join(root, "sub", "deep"))
    os.chmod(os.path.join(root, "sub"), 0o750)
    for rel, data, mode in (("a.txt", b"alpha\n", 0o644), ("run.sh", b"#!/bin/sh\necho hi\n", 0o755),
                            ("sub/secret", b"s3cret", 0o600), ("sub/deep/empty", b"", 0o640)):
        p = os.path.join(root, rel)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, mode)
    os.symlink("a.txt", os.path.join(root, "link"))


def _start(name, img, **extra):
    args = {"name": name, "image": "oci-archive:" + img, "network": "none",
            "command": ["sh", "-c", "exec sleep 1000"]}
    args.update(extra)
    return {"name": "start " + name, "libpod.engine.container": args}


def test_copy_round_trip_with_modes_and_idempotence(playbook, busybox_archive, tmp_path):
    src = str(tmp_path / "src")
    back = str(tmp_path / "back")
    _make_src(src)
    copy_in = {"name": "in", "libpod.engine.container_copy": {"name": "cp", "src": src, "dest": "/data"}}
    copy_out = {"name": "out", "libpod.engine.container_copy": {"name": "cp", "src": "/data", "dest": back,
                                                                "from_container": True}}
    check = {"name": "check", "libpod.engine.container_exec": {
        "name": "cp", "command": ["sh", "-c", "cat /data/a.txt; stat -c '%a %u' /data/run.sh /data/sub"]}}
    res = playbook([_start("cp", busybox_archive), copy_in, copy_out, check])
    assert res.ok, res.log
    assert res.task("in").changed and "/data/sub/secret" in res.task("in")["changed_paths"]
    assert res.task("out").changed
    assert _tree(back) == _tree(src)
    assert res.task("check")["stdout_lines"] == ["alpha", "755 0", "750 0"]
    # second run: nothing to do either way
    res = playbook([copy_in, copy_out])
    assert res.ok, res.log
    assert not res.task("in").changed and not res.task("out").changed, res.log
    # a changed source file is copied again, alone; check mode reports without writing
    with open(os.path.join(src, "a.txt"), "wb") as f:
        f.write(b"beta\n")
    res = playbook([copy_in], check=True)
    assert res.task("in").changed and res.task("in")["changed_paths"] == ["/data/a.txt"]
    res = playbook([dict(copy_in, **{"libpod.engine.container_copy": dict(copy_in["libpod.engine.container_copy"],
                                                                          mode="0600")}), copy_out])
    assert res.task("in")["changed_paths"] == ["/data/a.txt", "/data/run.sh", "/data/sub/deep/empty"]
    with open(os.path.join(back, "a.txt"), "rb") as f:
        assert f.read() == b"beta\n"
    assert stat.S_IMODE(os.stat(os.path.join(back, "run.sh")).st_mode) == 0o600


def test_copy_into_a_stopped_container_and_a_volume(playbook, busybox_archive, tmp_path):
    f = tmp_path / "conf"
    f.write_text("v=1\n")
    res = playbook([
        _start("stp", busybox_archive, state="stopped", volumes=["stpvol:/vol"]),
        {"name": "root", "libpod.engine.container_copy": {"name": "stp", "src": str(f), "dest": "/etc/app.conf",
                                                          "owner": "65534:65534"}},
        {"name": "vol", "libpod.engine.container_copy": {"name": "stp", "src": str(f), "dest": "/vol/"}},
        {"name": "start", "libpod.engine.container": {"name": "stp", "image": "oci-archive:" + busybox_archive,
                                                      "network": "none", "volumes": ["stpvol:/vol"],
                                                      "command": ["sh", "-c", "exec sleep 1000"]}},
        {"name": "check", "libpod.engine.container_exec": {
            "name": "stp", "command": ["sh", "-c", "cat /etc/app.conf /vol/conf; stat -c '%u' /etc/app.conf"]}},
        {"name": "again", "libpod.engine.container_copy": {"name": "stp", "src": str(f), "dest": "/vol/conf"}},
    ])
    assert res.ok, res.log
    assert res.task("root").changed and res.task("vol").changed
    assert res.task("check")["stdout_lines"] == ["v=1", "v=1", "65534"]
    assert not res.task("again").changed


def test_symlink_to_etc_in_the_container_does_not_escape(playbook, busybox_archive, tmp_path):
    payload = tmp_path / "passwd"
    payload.write_text("pwned\n")
    with open("/etc/hostname", "rb") as f:
        host_hostname = f.read()
    res = playbook([
        _start("evil", busybox_archive),
        {"name": "plant", "libpod.engine.container_exec": {
            "name": "evil", "command": ["sh", "-c", "ln -s /etc /escape && ln -s /etc/hostname /hn"]}},
        {"name": "in", "libpod.engine.container_copy": {"name": "evil", "src": str(payload),
                                                        "dest": "/escape/passwd"}},
        {"name": "in-link", "libpod.engine.container_copy": {"name": "evil", "src": str(payload),
                                                             "dest": "/hn"}},
        {"name": "out", "libpod.engine.container_copy": {"name": "evil", "src": "/escape/hostname",
                                                         "dest": str(tmp_path / "got"), "from_container": True}},
        {"name": "check", "libpod.engine.container_exec": {"name": "evil", "command": ["cat", "/etc/passwd"]}},
    ])
    assert res.ok, res.log
    # the host's files are untouched ...
    # (content, not mtime: other tests on this host add and remove users meanwhile)
    with open("/etc/passwd", encoding="utf-8") as f:
        assert "pwned" not in f.read()
    with open("/etc/hostname", "rb") as f:
        assert f.read() == host_hostname
    # ... the copy landed in the container's /etc, and the link itself was replaced, not followed
    assert res.task("check")["stdout"] == "pwned"
    got = (tmp_path / "got").read_bytes()
    assert got != host_hostname  # the container's /etc/hostname, not the host's
    assert res.task("in-link").changed
