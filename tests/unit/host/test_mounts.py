"""host.mounts: the one mountinfo parser (escapes, fs types, optional fields) and its queries."""
from __future__ import annotations

import os

from ansible_collections.libpod.engine.plugins.module_utils.engine.host import mounts

SAMPLE = (
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "30 22 0:26 / /sys/fs/cgroup ro,nosuid shared:9 master:3 - tmpfs tmpfs ro,mode=755\n"
    "31 22 0:27 / /srv/with\\040space rw - tmpfs tmpfs rw\n"
    "32 22 0:28 / /srv/back\\134slash\\012nl rw - overlay overlay rw,lowerdir=/a\n"
    "33 22 0:29 / /srv/with\\040space/deeper rw - tmpfs tmpfs rw\n"
    "bad line\n"
)


def test_mount_table_unescapes_and_reads_the_fs_type(tmp_path):
    info = tmp_path / "mountinfo"
    info.write_text(SAMPLE)
    table = mounts.mount_table(str(info))
    assert [(e.point, e.fstype) for e in table] == [
        ("/", "ext4"), ("/sys/fs/cgroup", "tmpfs"), ("/srv/with space", "tmpfs"),
        ("/srv/back\\slash\nnl", "overlay"), ("/srv/with space/deeper", "tmpfs")]


def test_mount_table_reads_source_options_and_optional_fields(tmp_path):
    info = tmp_path / "mountinfo"
    info.write_text(SAMPLE + "34 22 0:30 / /short rw\n")
    table = mounts.mount_table(str(info))
    cg = table[1]
    assert (cg.point, cg.fstype, cg.source, cg.options, cg.super_options, cg.optional) == (
        "/sys/fs/cgroup", "tmpfs", "tmpfs", ("ro", "nosuid"), ("ro", "mode=755"), ("shared:9", "master:3"))
    assert table[0].optional == ("shared:1",) and table[0].source == "/dev/sda1"
    assert table[2].optional == () and table[3].super_options == ("rw", "lowerdir=/a")
    short = table[-1]  # no "-": no type, nothing after it
    assert (short.point, short.fstype, short.source, short.options, short.super_options, short.optional) == (
        "/short", "", "", ("rw",), (), ())


def test_queries_on_this_host(tmp_path):
    assert "/" in mounts.mount_points()
    assert mounts.is_mount_point("/")
    assert not mounts.is_mount_point(str(tmp_path))
    under = mounts.mounts_under("/proc")
    assert under and under[-1] == "/proc"  # deepest first, the root last
    assert all(m == "/proc" or m.startswith("/proc/") for m in under)
    os.symlink("/proc", tmp_path / "p")
    assert mounts.is_mount_point(str(tmp_path / "p"))  # resolved before the lookup
