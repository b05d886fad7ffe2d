# SPDX-License-Identifier: GPL-3.0-or-later
"""The /etc/passwd and /etc/group entries added at start (podman's passwd, passwd_entry, group_entry, hostuser)."""
from __future__ import annotations

import os
import pwd

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg, StorageError
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci import userfiles

PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
GROUP = "root:x:0:\napp:x:1000:\n"


def _reader(passwd=PASSWD, group=GROUP):
    return {"/etc/passwd": passwd, "/etc/group": group}.get


def test_numeric_user_unknown_to_the_image_gets_podmans_default_entry():
    files = userfiles.additions(_reader(), user="4242", workdir="/srv")
    assert files.passwd == "4242:*:4242:0:container user:/srv:/bin/sh\n"
    assert files.group == ""  # group 0 (root) is in the image


def test_numeric_group_unknown_to_the_image_gets_an_entry_with_the_user_as_member():
    files = userfiles.additions(_reader(), user="4242:4343", workdir="/")
    assert files.passwd == "4242:*:4242:4343:container user:/:/bin/sh\n"
    assert files.group == "4343:x:4343:4242\n"


def test_known_users_names_and_groups_add_nothing():
    for user in ("1000", "app", "app:4343", "0:0", None, ""):
        files = userfiles.additions(_reader(), user=user, workdir="/")
        assert files.passwd == "", user
    assert userfiles.additions(_reader(), user="1000:app", workdir="/").group == ""
    assert userfiles.additions(_reader(), user="4242:app", workdir="/").passwd == \
        "4242:*:4242:1000:container user:/:/bin/sh\n"


def test_templates_replace_podmans_variables():
    files = userfiles.additions(_reader(), user="4242:4343", workdir="/w",
                                passwd_entry="$USERNAME:x:$UID:$GID:$NAME:$HOME:/bin/false",
                                group_entry="grp$GID:x:$GID:$USERLIST")
    assert files.passwd == "4242:x:4242:4343:container user:/w:/bin/false\n"
    assert files.group == "grp4343:x:4343:4242\n"


def test_hostuser_copies_the_hosts_entry_once():
    root = pwd.getpwuid(0)
    gecos = root.pw_gecos.split(",")[0]  # podman's $NAME: the GECOS up to its first ','
    image_without_root = "app:x:1000:1000:app:/home/app:/bin/sh\n"
    files = userfiles.additions(_reader(passwd=image_without_root), user=None, workdir="/", host_users=["0"])
    assert files.passwd == "%s:*:0:%d:%s:/:/bin/sh\n" % (root.pw_name, root.pw_gid, gecos)
    # the home is the host's when it is mounted into the container
    files = userfiles.additions(_reader(passwd=image_without_root), user="0", workdir="/", host_users=[root.pw_name],
                                destinations=[root.pw_dir])
    assert files.passwd == "%s:*:0:%d:%s:%s:/bin/sh\n" % (root.pw_name, root.pw_gid, gecos, root.pw_dir)
    assert userfiles.additions(_reader(), user=None, workdir="/", host_users=["root"]).passwd == ""


def test_unknown_host_user_is_refused_naming_the_parameter():
    with pytest.raises(InvalidArg, match="hostuser: no-such-user-lpe is not a user of this host"):
        userfiles.host_user("no-such-user-lpe")


def test_writable_rootfs_is_appended_and_a_second_start_adds_nothing(tmp_path):
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text(PASSWD)
    read = userfiles.reader(str(root), {})
    files = userfiles.additions(read, user="4242:4343", workdir="/")
    assert userfiles.apply(str(root), str(tmp_path / "run"), files, read_only=False) == {}
    assert (root / "etc/passwd").read_text() == PASSWD + "4242:*:4242:4343:container user:/:/bin/sh\n"
    assert (root / "etc/group").read_text() == "4343:x:4343:4242\n"  # created: the image had none
    again = userfiles.additions(read, user="4242:4343", workdir="/")
    assert (again.passwd, again.group) == ("", "")


def test_read_only_rootfs_gets_run_dir_copies(tmp_path):
    root, run = tmp_path / "rootfs", tmp_path / "run"
    (root / "etc").mkdir(parents=True)
    run.mkdir()
    (root / "etc/passwd").write_text(PASSWD.rstrip("\n"))
    (root / "etc/group").write_text(GROUP)
    files = userfiles.additions(userfiles.reader(str(root), {}), user="4242", workdir="/")
    mounts = userfiles.apply(str(root), str(run), files, read_only=True)
    assert mounts == {"/etc/passwd": str(run / "passwd")}
    assert (run / "passwd").read_text() == PASSWD + "4242:*:4242:0:container user:/:/bin/sh\n"
    assert (root / "etc/passwd").read_text() == PASSWD.rstrip("\n")  # the image's file is untouched
    assert "4242" in userfiles.reader(str(root), mounts)("/etc/passwd")


def test_a_symlinked_passwd_is_never_followed_out_of_the_rootfs(tmp_path):
    root, outside = tmp_path / "rootfs", tmp_path / "outside"
    (root / "etc").mkdir(parents=True)
    outside.write_text("keep\n")
    os.symlink(str(outside), str(root / "etc/passwd"))
    files = userfiles.UserFiles(passwd="4242:*:4242:0:container user:/:/bin/sh\n")
    with pytest.raises(StorageError):
        userfiles.apply(str(root), str(tmp_path / "run"), files, read_only=False)
    assert outside.read_text() == "keep\n"


def test_a_directory_swapped_for_a_symlink_after_resolution_is_not_followed(tmp_path, monkeypatch):
    # a rootfs directory another running container shares: etc/ replaced by a symlink to the host's
    # directory between the path's resolution and the open must fail the open, not write outside
    root, host_etc = tmp_path / "rootfs", tmp_path / "host-etc"
    (root / "etc").mkdir(parents=True)
    host_etc.mkdir()
    (host_etc / "passwd").write_text("keep\n")
    resolved = str(root / "etc/passwd")
    (root / "etc").rename(root / "etc.old")
    os.symlink(str(host_etc), str(root / "etc"))
    monkeypatch.setattr(userfiles, "secure_join", lambda r, p: resolved)  # resolved before the swap
    with pytest.raises(StorageError):
        userfiles.apply(str(root), str(tmp_path / "run"), userfiles.UserFiles(passwd="x:*:1:1::/:/bin/sh\n"),
                        read_only=False)
    assert (host_etc / "passwd").read_text() == "keep\n"


def _fake_host_user(monkeypatch, name="ldapu", gecos="Ldap User", home="/home/ldapu"):
    """A host user as NSS (LDAP, sssd) may return it: no need to create one on this host."""
    rec = pwd.struct_passwd((name, "x", 5005, 5005, gecos, home, "/bin/bash"))
    monkeypatch.setattr(userfiles.pwd, "getpwnam", lambda n: rec)
    monkeypatch.setattr(userfiles.pwd, "getpwuid", lambda n: rec)
    return rec


@pytest.mark.parametrize("gecos,written", [
    ("Ldap User,Room 1,555-0100", "Ldap User"),   # podman ($NAME = Go's user.Name): the part before the first ','
    ("evil:0:0:root:/root", ""),                  # a ':' would add fields: dropped
    ("two\nroot::0:0::/:/bin/sh", ""),            # a newline would add a line: dropped
    ("tab\there", ""), ("bad \udcff byte", ""),   # control / undecodable characters: dropped
])
def test_hostuser_gecos_never_adds_fields_or_lines(monkeypatch, gecos, written):
    _fake_host_user(monkeypatch, gecos=gecos)
    files = userfiles.additions(_reader(), user=None, workdir="/w", host_users=["ldapu"])
    assert files.passwd == "ldapu:*:5005:5005:%s:/w:/bin/sh\n" % written
    files = userfiles.additions(_reader(), user=None, workdir="/w", host_users=["ldapu"],
                                passwd_entry="$USERNAME:x:$UID:$GID:$NAME:$HOME:/bin/false")
    assert files.passwd == "ldapu:x:5005:5005:%s:/w:/bin/false\n" % written


@pytest.mark.parametrize("name,home", [("ev:il", "/home/x"), ("evil\n", "/home/x"), ("ldapu", "/home/a:b"),
                                       ("ldapu", "/home/x\nroot::0:0::/:/bin/sh"), ("ldapu", "/home/\udcff")])
def test_hostuser_name_or_home_that_passwd_cannot_hold_is_refused(monkeypatch, name, home):
    _fake_host_user(monkeypatch, name=name, home=home)
    with pytest.raises(InvalidArg, match="hostuser: host user .* has a ':', a control character or an undecodable "
                                         "byte in its (name|home directory)"):
        userfiles.host_user("ldapu")
