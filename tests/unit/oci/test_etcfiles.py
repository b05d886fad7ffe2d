# SPDX-License-Identifier: GPL-3.0-or-later
"""RunDir files (hosts, hostname, resolv.conf, .containerenv) and user lookup in a hostile rootfs."""
from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci import etcfiles

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "broken-line\n"
    "app:x:1000:1000:App:/home/app:/bin/sh\n"
    "svc:x:1001:50::/srv:/bin/false\n"
    "nohome:x:1002:1002:::/bin/sh\n"
)
GROUP = (
    "root:x:0:\n"
    "staff:x:50:app\n"
    "app:x:1000:\n"
    "wheel:x:10:root,app\n"
    "nohome:x:1002:\n"
)


@pytest.fixture
def rootfs(tmp_path):
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text(PASSWD)
    (root / "etc" / "group").write_text(GROUP)
    return str(root)


def test_user_lookup_never_reads_host_files(tmp_path):
    """A rootfs whose /etc/passwd is a symlink to the host's must not resolve host users."""
    root = tmp_path / "evil"
    (root / "etc").mkdir(parents=True)
    os.symlink("/host/etc/passwd", root / "etc" / "passwd")           # → <rootfs>/host/etc/passwd
    os.symlink("../../../../../../../etc/group", root / "etc" / "group")  # → itself: a loop
    # the host has root in /etc/passwd; the rootfs has no passwd at all
    assert etcfiles.read_rootfs_file(str(root), "/etc/passwd") is None
    assert etcfiles.read_rootfs_file(str(root), "/etc/group") is None
    with pytest.raises(InvalidArg, match="not found in the image"):
        etcfiles.resolve_user(str(root), "root")
    # and a real file in the same place is read
    (root / "etc" / "passwd").unlink()
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    assert etcfiles.resolve_user(str(root), "root").uid == 0


def test_read_rootfs_file_skips_non_regular(tmp_path):
    root = tmp_path / "r"
    (root / "etc" / "passwd").mkdir(parents=True)      # a directory where a file should be
    assert etcfiles.read_rootfs_file(str(root), "/etc/passwd") is None
    assert etcfiles.read_rootfs_file(str(root), "/etc/group") is None
    os.mkfifo(root / "etc" / "group")                    # a FIFO would block a naive open()
    assert etcfiles.read_rootfs_file(str(root), "/etc/group") is None


# --------------------------------------------------------------------------- users

@pytest.mark.parametrize("spec,expected", [
    (None, (0, 0, [0, 10], "/root")),
    ("", (0, 0, [0, 10], "/root")),
    ("root", (0, 0, [0, 10], "/root")),
    ("app", (1000, 1000, [1000, 50, 10], "/home/app")),
    ("1000", (1000, 1000, [1000, 50, 10], "/home/app")),
    ("app:app", (1000, 1000, [1000], "/home/app")),
    ("app:staff", (1000, 50, [50], "/home/app")),
    ("1000:1000", (1000, 1000, [1000], "/home/app")),
    ("svc", (1001, 50, [50], "/srv")),
    ("nohome", (1002, 1002, [1002], "/")),
    ("4242", (4242, 0, [0], "/")),            # unknown numeric uid: allowed, gid 0, HOME /
    ("4242:77", (4242, 77, [77], "/")),       # unknown numeric gid: allowed
    (":50", (0, 50, [50], "/root")),
])
def test_resolve_user(rootfs, spec, expected):
    u = etcfiles.resolve_user(rootfs, spec)
    assert (u.uid, u.gid, u.additional_gids, u.home) == expected


@pytest.mark.parametrize("spec,match", [
    ("nosuch", "user 'nosuch' not found"), ("app:nogroup", "group 'nogroup' not found"), ("app:", "empty group"),
])
def test_resolve_user_errors(rootfs, spec, match):
    with pytest.raises(InvalidArg, match=match):
        etcfiles.resolve_user(rootfs, spec)


def test_resolve_user_without_etc_files(tmp_path):
    u = etcfiles.resolve_user(str(tmp_path), "1000")
    assert (u.uid, u.gid, u.home) == (1000, 0, "/")
    with pytest.raises(InvalidArg):
        etcfiles.resolve_user(str(tmp_path), "app")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_passwd_parsers_never_crash(text):
    for e in etcfiles.parse_passwd(text):
        assert 0 <= e.uid < 2**32 and e.name
    for g in etcfiles.parse_group(text):
        assert 0 <= g.gid < 2**32


def test_ensure_workdir(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    os.symlink("/", root / "escape")
    made = etcfiles.ensure_workdir(str(root), "/escape/srv/app", os.getuid(), os.getgid())
    assert made == os.path.join(str(root), "srv", "app")
    assert os.path.isdir(made) and oct(os.stat(made).st_mode & 0o777) == "0o755"
    assert etcfiles.ensure_workdir(str(root), "/srv/app", 0, 0) == made


# --------------------------------------------------------------------------- files

def test_hostname():
    cfg = {"id": "0123456789abcdef" * 4}
    assert etcfiles.container_hostname(cfg) == "0123456789ab"
    assert etcfiles.container_hostname(dict(cfg, hostname="web")) == "web"
    assert etcfiles.container_hostname(dict(cfg, hostname="web"), shared_hostname="mypod") == "mypod"
    assert etcfiles.hostname_content("web") == "web"


def test_hosts_content_order_and_entries():
    base = "# host file\n127.0.0.1 localhost\n::1 localhost ip6-localhost\n10.1.1.1 nas nas.lan\n"
    text = etcfiles.hosts_content(hostname="abc123", name="web", ips=["10.88.0.5"],
                                  add_hosts=["db:10.0.0.9", "gw:host-gateway"], base_hosts=base,
                                  host_gateway_ip="10.88.0.1")
    assert text.splitlines() == [
        "10.0.0.9\tdb",
        "10.88.0.1\tgw",
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost",
        "10.1.1.1\tnas nas.lan",
        "10.88.0.1\thost.containers.internal",
        "10.88.0.5\tabc123 web",
    ]


def test_hosts_content_defaults():
    text = etcfiles.hosts_content(hostname="h", name="h", base_hosts="")
    lines = text.splitlines()
    assert lines[0].startswith("127.0.0.1\tlocalhost")
    assert lines[1].startswith("::1\tlocalhost")
    assert lines[-2:] == ["127.0.0.1\th", "::1\th"]       # no IP (network none): loopback
    with pytest.raises(InvalidArg, match="host-gateway"):
        etcfiles.hosts_content(hostname="h", add_hosts=["x:host-gateway"], base_hosts="")
    # the real host file is used by default
    assert "localhost" in etcfiles.hosts_content(hostname="h")


def test_resolv_conf():
    host = "# generated\nnameserver 127.0.0.53\nnameserver 10.255.255.53\nsearch lan corp\noptions edns0\n"
    assert etcfiles.resolv_conf_content(base_resolv=host) == (
        "search lan corp\nnameserver 10.255.255.53\noptions edns0\n")
    assert etcfiles.resolv_conf_content(base_resolv=host, keep_local=True).count("nameserver") == 2
    only_local = "nameserver 127.0.0.1\nnameserver ::1\n"
    assert etcfiles.resolv_conf_content(base_resolv=only_local) == "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
    out = etcfiles.resolv_conf_content(dns=["1.1.1.1"], dns_search=["example.com"], dns_option=["ndots:2"],
                                       base_resolv=host)
    assert out == "search example.com\nnameserver 1.1.1.1\noptions ndots:2\n"
    assert "search" not in etcfiles.resolv_conf_content(dns_search=["."], base_resolv=host)
    out = etcfiles.resolv_conf_content(base_resolv=host, network_dns=["10.88.0.1"], network_search=["dns.podman"])
    assert out.splitlines()[:3] == ["search dns.podman lan corp", "nameserver 10.88.0.1", "nameserver 10.255.255.53"]
    with pytest.raises(InvalidArg, match="invalid dns server"):
        etcfiles.resolv_conf_content(dns=["not-an-ip"], base_resolv="")


def test_containerenv():
    assert etcfiles.containerenv_content(privileged=False, name="x") == ""
    text = etcfiles.containerenv_content(privileged=True, name='we"b', ctr_id="abc", image="busybox",
                                         image_id="sha", engine="libpod-engine-0.1")
    assert text.splitlines() == ['engine="libpod-engine-0.1"', 'name="we\\"b"', 'id="abc"',
                                 'image="busybox"', 'imageid="sha"', "rootless=0"]


def test_write_files(tmp_path):
    run = tmp_path / "run" / "ctr"
    files = etcfiles.EtcFiles(hosts="h\n", hostname="n", resolv_conf="r\n", containerenv="").write(str(run))
    assert sorted(files) == [".containerenv", "hostname", "hosts", "resolv.conf"]
    assert (run / "hostname").read_text() == "n"
    assert oct(os.stat(run / "hosts").st_mode & 0o777) == "0o644"
    assert not [p for p in os.listdir(run) if ".tmp" in p]
    etcfiles.write_run_file(str(run), "hosts", "new\n")
    assert (run / "hosts").read_text() == "new\n"
    with pytest.raises(InvalidArg):
        etcfiles.write_run_file(str(run), "../x", "")


# -- peers in a hosts file the container can write (issue 22 item 6) ------------------------------
def test_hosts_set_peer_edits_in_place(tmp_path):
    path = tmp_path / "hosts"
    path.write_bytes(b"127.0.0.1\tlocalhost\n10.0.0.9\tmine # written by the container \xff\n")
    ino = os.stat(path).st_ino
    assert etcfiles.hosts_set_peer(str(path), "p" * 64, "10.0.0.2", ["web"])
    assert etcfiles.hosts_set_peer(str(path), "p" * 64, "10.0.0.3", ["web"])
    lines = path.read_bytes().splitlines()
    assert lines[:2] == [b"127.0.0.1\tlocalhost", b"10.0.0.9\tmine # written by the container \xff"]
    assert len(lines) == 3 and lines[2].startswith(b"10.0.0.3\tweb\t")
    assert etcfiles.hosts_set_peer(str(path), "p" * 64, None, ["web"])
    assert len(path.read_bytes().splitlines()) == 2 and os.stat(path).st_ino == ino
    assert not etcfiles.hosts_set_peer(str(tmp_path / "gone"), "p" * 64, "10.0.0.2", ["web"])


def test_hosts_set_peer_never_reads_a_grown_file_whole(tmp_path):
    """A container grew its /etc/hosts to hundreds of MB; a neighbour's start read and rewrote it whole."""
    path = tmp_path / "hosts"
    path.write_bytes(b"127.0.0.1\tlocalhost\n")
    with open(path, "ab") as f:
        f.write(b"10.1.1.1\tfiller\n" * 1000)
        f.truncate(300 << 20)  # sparse: costs no disk, would cost 300 MB of memory to read
    warnings = []
    assert etcfiles.hosts_set_peer(str(path), "p" * 64, "10.0.0.2", ["web"], warn=warnings.append)
    data = path.read_bytes()
    assert len(data) <= etcfiles.MAX_HOSTS_FILE + 200
    assert data.startswith(b"127.0.0.1\tlocalhost\n10.1.1.1\tfiller\n") and b"\0" not in data
    assert data.splitlines()[-1].startswith(b"10.0.0.2\tweb\t")
    assert len(warnings) == 1 and str(path) in warnings[0] and "314572800 bytes" in warnings[0]
