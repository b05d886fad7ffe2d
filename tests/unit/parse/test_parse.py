# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers shared by modules and reconcile: exact values, error messages, round trips, fuzzing."""
from __future__ import annotations

import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.parse import values as parse

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ANY_VALUE = st.one_of(
    st.text(), st.integers(), st.floats(), st.none(), st.booleans(),
    st.lists(st.one_of(st.text(), st.integers()), max_size=4),
    st.dictionaries(st.text(max_size=8), st.one_of(st.text(), st.integers(), st.none()), max_size=4),
)


def _err(fn, *args, **kw) -> str:
    with pytest.raises(InvalidArg) as exc:
        fn(*args, **kw)
    return str(exc.value)


# --------------------------------------------------------------------------- sizes

@pytest.mark.parametrize("text,expected", [
    ("512m", 512 * 1024**2), ("1g", 1024**3), ("16M", 16 * 1024**2), ("64k", 65536),
    ("65536k", 64 * 1024**2), ("1024", 1024), ("10b", 10), ("1kb", 1024), ("1KiB", 1024),
    ("1.5g", 1610612736), ("2T", 2 * 1024**4), (" 3m ", 3 * 1024**2), ("0", 0), ("1 g", 1024**3),
    (4096, 4096), (0, 0), (8.0, 8),
])
def test_parse_size(text, expected):
    assert parse.parse_size(text) == expected


@pytest.mark.parametrize("bad", ["", "m", "-1", "1x", "1.5.5g", "ten", "1i", "1ib", "1gg", -5, True, None, [1], 1.5])
def test_parse_size_errors_name_param_value_and_form(bad):
    msg = _err(parse.parse_size, bad, "shm_size")
    assert msg.startswith("invalid shm_size")
    assert (bad if isinstance(bad, str) else repr(bad)) in msg
    assert "expected" in msg


def test_format_size():
    assert parse.format_size(512 * 1024**2) == "512m"
    assert parse.format_size(1024**3) == "1g"
    assert parse.format_size(1536) == "1536"
    assert parse.format_size(0) == "0"
    assert parse.format_size(3 * 1024) == "3k"


@given(st.integers(min_value=0, max_value=2**62))
def test_size_round_trip(n):
    assert parse.parse_size(parse.format_size(n)) == n


@FUZZ
@given(ANY_VALUE)
def test_size_never_crashes(value):
    try:
        assert parse.parse_size(value) >= 0
    except InvalidArg:
        pass


# --------------------------------------------------------------------------- signals

@pytest.mark.parametrize("text,expected", [
    ("TERM", 15), ("SIGTERM", 15), ("sigterm", 15), ("kill", 9), ("9", 9), (9, 9), ("SIGKILL", 9),
    ("HUP", 1), ("USR1", 10), ("SIGRTMIN", 34), ("RTMIN+3", 37), ("SIGRTMAX", 64), ("rtmax-2", 62),
    ("SIGIOT", 6), ("cld", 17), (" INT ", 2), ("64", 64), ("SIGWINCH", 28),
])
def test_parse_signal(text, expected):
    assert parse.parse_signal(text) == expected


@pytest.mark.parametrize("bad", ["", "SIG", "FOO", "0", 0, 65, -1, "RTMIN+31", "RTMAX+1", "SIGKILLX", True, 9.0, None])
def test_parse_signal_errors(bad):
    msg = _err(parse.parse_stop_signal, bad)
    assert "invalid stop_signal" in msg and "expected" in msg


def test_format_signal():
    assert parse.format_signal(15) == "SIGTERM"
    assert parse.format_signal(6) == "SIGABRT"
    assert parse.format_signal(34) == "SIGRTMIN"
    assert parse.format_signal(40) == "SIGRTMIN+6"


@given(st.integers(min_value=1, max_value=64))
def test_signal_round_trip(n):
    assert parse.parse_signal(parse.format_signal(n)) == n


@FUZZ
@given(ANY_VALUE)
def test_signal_never_crashes(value):
    try:
        assert 1 <= parse.parse_signal(value) <= 64
    except InvalidArg:
        pass


@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "1\u00b2"])
def test_signal_unicode_digits_are_refused(value):
    """Found by hypothesis: "²".isdigit() is true but int("²") raises ValueError."""
    with pytest.raises(InvalidArg):
        parse.parse_signal(value)


# --------------------------------------------------------------------------- capabilities

def test_capabilities_normalised():
    assert parse.normalize_capability("net_admin") == "CAP_NET_ADMIN"
    assert parse.normalize_capability("CAP_SYS_ADMIN") == "CAP_SYS_ADMIN"
    assert parse.normalize_capability(" cap_chown ") == "CAP_CHOWN"
    assert parse.normalize_capability("all") == "ALL"
    assert parse.normalize_capabilities(["chown", "CAP_CHOWN", "kill"]) == ["CAP_CHOWN", "CAP_KILL"]
    assert parse.normalize_capabilities("chown,kill") == ["CAP_CHOWN", "CAP_KILL"]
    assert parse.normalize_capabilities(None) == []


def test_capabilities_known_to_kernel():
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    known = parse.known_capabilities()
    assert len(known) == min(last + 1, len(parse.ALL_CAPABILITIES))
    assert known[0] == "CAP_CHOWN" and known[21] == "CAP_SYS_ADMIN"


@pytest.mark.parametrize("bad", ["CAP_FOO", "net-admin", "", 5, None, "CAP_"])
def test_capability_errors(bad):
    msg = _err(parse.normalize_capability, bad, "cap_drop")
    assert "invalid cap_drop" in msg and "expected" in msg


@FUZZ
@given(st.one_of(st.text(), st.lists(st.text(), max_size=3), st.integers(), st.none()))
def test_capabilities_never_crash(value):
    try:
        caps = parse.normalize_capabilities(value)
        assert all(c == "ALL" or c in parse.ALL_CAPABILITIES for c in caps)
    except InvalidArg:
        pass


# --------------------------------------------------------------------------- ulimits

def test_parse_ulimit():
    assert parse.parse_ulimit("nofile=1024:2048") == {"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 2048}
    assert parse.parse_ulimit("nproc=512") == {"type": "RLIMIT_NPROC", "soft": 512, "hard": 512}
    assert parse.parse_ulimit("core=-1") == {"type": "RLIMIT_CORE", "soft": parse.RLIM_INFINITY,
                                             "hard": parse.RLIM_INFINITY}
    assert parse.parse_ulimit("RLIMIT_MEMLOCK=0:-1")["hard"] == parse.RLIM_INFINITY
    assert parse.parse_ulimit({"type": "RLIMIT_NOFILE", "soft": 10, "hard": 20})["hard"] == 20
    assert parse.parse_ulimit({"name": "nofile", "soft": 10})["hard"] == 10


@pytest.mark.parametrize("bad", ["nofile", "nofile=", "files=10", "nofile=10:5", "nofile=a:b", "nofile=1:2:3",
                                 "nofile=-2", 5, {"type": "nofile"}, {"soft": 1}])
def test_ulimit_errors(bad):
    msg = _err(parse.parse_ulimit, bad, "ulimit")
    assert "invalid ulimit" in msg and "name=soft[:hard]" in msg


def test_ulimits_duplicates_refused():
    assert len(parse.parse_ulimits(["nofile=1:2", "nproc=3"])) == 2
    assert "more than once" in _err(parse.parse_ulimits, ["nofile=1:2", "nofile=3"])


ULIMITS = st.builds(
    lambda name, a, b: {"type": parse.RLIMIT_NAMES[name], "soft": min(a, b), "hard": max(a, b)},
    st.sampled_from(sorted(parse.RLIMIT_NAMES)),
    st.one_of(st.integers(0, 2**63), st.just(parse.RLIM_INFINITY)),
    st.one_of(st.integers(0, 2**63), st.just(parse.RLIM_INFINITY)),
)


@given(ULIMITS)
def test_ulimit_round_trip(rl):
    assert parse.parse_ulimit(parse.format_ulimit(rl)) == rl


@FUZZ
@given(ANY_VALUE)
def test_ulimit_never_crashes(value):
    try:
        rl = parse.parse_ulimit(value)
        assert rl["soft"] <= rl["hard"]
    except InvalidArg:
        pass


# --------------------------------------------------------------------------- cpus

def test_cpus():
    assert parse.parse_cpus(2) == 2.0
    assert parse.parse_cpus("0.5") == 0.5
    assert parse.parse_cpus("0") == 0.0
    assert parse.cpus_to_quota(0.5) == (50000, 100000)
    assert parse.cpus_to_quota(1.5) == (150000, 100000)
    assert parse.cpus_to_quota(0.01) == (1000, 100000)
    for bad in ("-1", "abc", "nan", "inf", 0.001, True, None, [1]):
        assert "invalid cpus" in _err(parse.parse_cpus, bad)


@given(st.floats(min_value=0.01, max_value=1000, allow_nan=False))
def test_cpus_round_trip(x):
    assert parse.parse_cpus(repr(x)) == x
    quota, period = parse.cpus_to_quota(x)
    assert period == 100000 and quota >= 1000


@FUZZ
@given(ANY_VALUE)
def test_cpus_never_crash(value):
    try:
        assert parse.parse_cpus(value) >= 0
    except InvalidArg:
        pass


# --------------------------------------------------------------------------- restart policy

@pytest.mark.parametrize("text,expected", [
    ("no", ("no", 0)), ("always", ("always", 0)), ("on-failure", ("on-failure", 0)),
    ("on-failure:3", ("on-failure", 3)), ("unless-stopped", ("unless-stopped", 0)), ("", ("no", 0)),
    (None, ("no", 0)), ("none", ("no", 0)), ({"name": "on-failure", "max_retries": 2}, ("on-failure", 2)),
    ("ALWAYS", ("always", 0)),
])
def test_restart_policy(text, expected):
    assert parse.parse_restart_policy(text) == {"name": expected[0], "max_retries": expected[1]}


@pytest.mark.parametrize("bad,why", [
    ("always:3", "only be given with the on-failure"), ("unless-stopped:1", "on-failure"),
    ("on-failure:-1", "negative"), ("on-failure:x", "not an integer"), ("sometimes", "unknown policy"),
    ("on-failure:", "missing retry"), (5, "not a restart policy"),
    ({"name": "always", "max_retries": 1}, "on-failure"),
])
def test_restart_policy_errors(bad, why):
    msg = _err(parse.parse_restart_policy, bad)
    assert "invalid restart_policy" in msg and why in msg


@given(st.sampled_from(parse.RESTART_POLICIES), st.integers(0, 10**6))
def test_restart_round_trip(name, retries):
    pol = {"name": name, "max_retries": retries if name == "on-failure" else 0}
    assert parse.parse_restart_policy(parse.format_restart_policy(pol)) == pol


@FUZZ
@given(ANY_VALUE)
def test_restart_never_crashes(value):
    try:
        assert parse.parse_restart_policy(value)["name"] in parse.RESTART_POLICIES
    except InvalidArg:
        pass


# --------------------------------------------------------------------------- env, labels, sysctls

def test_env_and_labels():
    assert parse.parse_env(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    assert parse.parse_env({"A": 1, "C": None, "D": 1.5}) == {"A": "1", "C": "", "D": "1.5"}
    # a YAML boolean is refused with a hint to quote it (issue 14 item 13; docs: strings or numbers)
    msg = _err(parse.parse_env, {"B": True})
    assert "invalid env B" in msg and "YAML boolean" in msg and 'B: "true"' in msg
    assert parse.parse_labels({"flag": True}) == {"flag": "true"}
    assert parse.parse_labels(["a=b", "flag"]) == {"a": "b", "flag": ""}
    assert parse.parse_env(None) == {}
    msg = _err(parse.parse_env, ["NOVALUE"])
    assert "invalid env 'NOVALUE'" in msg and "KEY=value" in msg
    assert "invalid key" in _err(parse.parse_env, {"": "x"})
    assert "invalid key" in _err(parse.parse_env, ["=x"])
    assert "must be a string" in _err(parse.parse_env, {"A": [1]})
    assert "not a dict or a list" in _err(parse.parse_labels, "a=b", "label")


def test_sysctls():
    assert parse.parse_sysctls(["net.ipv4.ip_forward=1"]) == {"net.ipv4.ip_forward": "1"}
    assert parse.parse_sysctls({"net/ipv4/ping_group_range": "0 0"}) == {"net.ipv4.ping_group_range": "0 0"}
    assert "invalid sysctl" in _err(parse.parse_sysctls, ["net.ipv4.ip_forward"])
    assert "invalid key" in _err(parse.parse_sysctls, {"bad key": "1"})


ENV_KEYS = st.text(st.characters(blacklist_characters="=\x00", blacklist_categories=("Cs",)), min_size=1,
                   max_size=10).filter(lambda k: k == k.strip())


@given(st.dictionaries(ENV_KEYS, st.text(st.characters(blacklist_characters="\x00",
                                                       blacklist_categories=("Cs",)), max_size=10)))
def test_env_round_trip(env):
    as_list = ["%s=%s" % kv for kv in env.items()]
    assert parse.parse_env(as_list) == env
    assert parse.parse_env(env) == env


@FUZZ
@given(ANY_VALUE)
def test_kv_never_crash(value):
    for fn in (parse.parse_env, parse.parse_labels, parse.parse_sysctls):
        try:
            out = fn(value)
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in out.items())
        except InvalidArg:
            pass


def test_env_file(tmp_path, monkeypatch):
    f = tmp_path / "app.env"
    f.write_text("# comment\n\nA=1\n  B=two words\nC=\nD=a=b\nFROM_HOST\nNOT_SET_ANYWHERE\n")
    monkeypatch.setenv("FROM_HOST", "hostval")
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    assert parse.parse_env_file(str(f)) == {"A": "1", "B": "two words", "C": "", "D": "a=b",
                                            "FROM_HOST": "hostval"}
    bad = tmp_path / "bad.env"
    bad.write_text("OK=1\nBAD KEY=2\n")
    msg = _err(parse.parse_env_file, str(bad))
    assert "invalid env_file" in msg and "bad.env:2" in msg
    assert "cannot read" in _err(parse.parse_env_file, str(tmp_path / "missing.env"))
    assert "not a file path" in _err(parse.parse_env_file, 5)


@FUZZ
@given(st.text())
def test_env_text_never_crashes(text):
    try:
        parse.parse_env_text(text)
    except InvalidArg:
        pass


def test_add_host():
    assert parse.parse_add_host("db:10.0.0.5") == ("db", "10.0.0.5")
    assert parse.parse_add_host("v6:fd00::1") == ("v6", "fd00::1")
    assert parse.parse_add_host("gw:host-gateway") == ("gw", "host-gateway")
    assert "invalid IP" in _err(parse.parse_add_host, "db:999.1.1.1")
    assert "invalid host name" in _err(parse.parse_add_host, "nocolon")
    assert "invalid host name" in _err(parse.parse_add_host, "bad name:1.2.3.4")


# --------------------------------------------------------------------------- volumes, mounts, tmpfs

def test_parse_volume():
    assert parse.parse_volume("/srv/data:/data") == {"type": "bind", "source": "/srv/data",
                                                     "destination": "/data", "options": []}
    assert parse.parse_volume("/srv/data/:/data/:ro,Z,rshared") == {
        "type": "bind", "source": "/srv/data", "destination": "/data", "options": ["ro", "Z", "rshared"]}
    assert parse.parse_volume("myvol:/var/lib/db:nocopy,U") == {
        "type": "volume", "source": "myvol", "destination": "/var/lib/db", "options": ["nocopy", "U"]}
    assert parse.parse_volume("/cache") == {"type": "volume", "source": "", "destination": "/cache", "options": []}
    assert parse.parse_volume("/a:/b:ro,ro")["options"] == ["ro"]
    assert parse.parse_volume("/a:/b:noexec,nosuid,nodev,rslave,z")["options"] == [
        "noexec", "nosuid", "nodev", "rslave", "z"]


@pytest.mark.parametrize("bad,why", [
    ("/a:/b:ro,rw", "conflicting options ro, rw"), ("/a:/b:shared,private", "conflicting"),
    ("/a:/b:z,Z", "conflicting"), ("/a:/b:bogus", "unknown option 'bogus'"), ("/a:relative", "absolute"),
    ("./rel:/b", "neither an absolute path nor a volume name"), ("a:/b:c:d", "too many"),
    ("/a:/", "root"), ("/a:/b:nocopy", "named volumes only"), ("", "not a string"), (None, "not a string"),
    ("-vol:/b", "neither"), ("/a:/b:exec,noexec", "conflicting"),
])
def test_parse_volume_errors(bad, why):
    msg = _err(parse.parse_volume, bad, "volume")
    assert msg.startswith("invalid volume") and why in msg
    assert "SOURCE:DEST" in msg


def test_parse_mount():
    assert parse.parse_mount("type=bind,source=/a,target=/b,ro") == {
        "type": "bind", "source": "/a", "destination": "/b", "options": ["ro"]}
    assert parse.parse_mount("type=bind,src=/a,dst=/b,readonly=false,bind-propagation=rslave,relabel=private") == {
        "type": "bind", "source": "/a", "destination": "/b", "options": ["rw", "rslave", "Z"]}
    assert parse.parse_mount("type=volume,source=data,target=/data,volume-nocopy,U") == {
        "type": "volume", "source": "data", "destination": "/data", "options": ["nocopy", "U"]}
    assert parse.parse_mount("type=volume,target=/anon") == {
        "type": "volume", "source": "", "destination": "/anon", "options": []}
    assert parse.parse_mount("type=tmpfs,target=/scratch,tmpfs-size=16m,tmpfs-mode=1777,noexec") == {
        "type": "tmpfs", "source": "tmpfs", "destination": "/scratch",
        "options": ["size=16777216", "mode=1777", "noexec"]}
    assert parse.parse_mount({"type": "bind", "source": "/a", "target": "/b", "readonly": True,
                              "options": ["nosuid"]}) == {
        "type": "bind", "source": "/a", "destination": "/b", "options": ["ro", "nosuid"]}
    assert parse.parse_mount("type=bind,source=/a,target=/b,bind-nonrecursive,consistency=cached")["options"] == [
        "bind"]
    # a volume the container layer already resolved to a host path
    assert parse.parse_mount({"type": "volume", "source": "/var/lib/x/_data", "destination": "/d"})["source"] == \
        "/var/lib/x/_data"


def test_parse_mount_devpts():
    """podman's type=devpts (the peer's podman_container suite mounts one at /dev/pts): uid, gid, mode, max."""
    assert parse.parse_mount("type=devpts,destination=/dev/pts") == {
        "type": "devpts", "source": "devpts", "destination": "/dev/pts", "options": []}
    assert parse.parse_mount("type=devpts,target=/dev/pts2,uid=0,gid=5,mode=0600,max=10")["options"] == [
        "uid=0", "gid=5", "mode=0600", "max=10"]
    assert parse.format_mount(parse.parse_mount("type=devpts,target=/p,gid=5")) == "type=devpts,target=/p,gid=5"
    for bad, why in (("type=devpts,target=/p,ro", "devpts mounts take uid, gid, mode, max"),
                     ("type=devpts,source=/x,target=/p", "devpts mounts take no source"),
                     ("type=devpts,target=/p,size=1", "devpts mounts take uid, gid, mode, max")):
        assert why in _err(parse.parse_mount, bad), bad


@pytest.mark.parametrize("bad,why", [
    ("type=bind,target=/b", "needs a source"), ("type=bind,source=/a", "target is required"),
    ("type=image,source=x,target=/b", "type must be"), ("type=bind,source=/a,target=/b,foo=1", "unknown mount key"),
    ("type=bind,source=/a,target=/b,ro=maybe", "not a boolean"), ("type=tmpfs,source=/x,target=/t", "no source"),
    ("type=bind,source=/a,target=/b,tmpfs-size=1m", "tmpfs options on a bind"),
    ("type=bind,source=/a,target=/b,bind-propagation=weird", "bad bind-propagation"),
    ("type=volume,source=bad/name,target=/b", "invalid volume name"),
    ("type=bind,source=/a,target=/b,volume-nocopy", "volumes only"),
    ("type=tmpfs,target=/t,tmpfs-size=lots", "invalid mounts size"),
    ("type=bind,source=/a,target=/b,ro,rw", "conflicting"), (42, "not a mount"),
])
def test_parse_mount_errors(bad, why):
    msg = _err(parse.parse_mount, bad)
    assert msg.startswith("invalid mounts") and why in msg


def test_parse_tmpfs():
    assert parse.parse_tmpfs("/run") == {"type": "tmpfs", "source": "tmpfs", "destination": "/run", "options": []}
    assert parse.parse_tmpfs("/run:size=64m,mode=0755,noexec,uid=1000") == {
        "type": "tmpfs", "source": "tmpfs", "destination": "/run",
        "options": ["size=67108864", "mode=755", "noexec", "uid=1000"]}
    assert parse.parse_tmpfs("/t:size=50%")["options"] == ["size=50%"]
    assert parse.parse_tmpfs_list({"/a": "size=1k", "/b": None}) == [
        {"type": "tmpfs", "source": "tmpfs", "destination": "/a", "options": ["size=1024"]},
        {"type": "tmpfs", "source": "tmpfs", "destination": "/b", "options": []}]
    for bad, why in (("rel", "absolute"), ("/t:size=1m,size=2m", "more than once"), ("/t:mode=999", "octal"),
                     ("/t:bind", "unknown tmpfs option"), ("/t:uid=x", "non-negative integer"),
                     ("/t:ro,rw", "conflicting")):
        assert why in _err(parse.parse_tmpfs, bad)


# strategies for round trips
PATH_COMP = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="_-."),
                    min_size=1, max_size=8).filter(lambda c: c not in (".", ".."))
ABS_PATH = st.lists(PATH_COMP, min_size=1, max_size=4).map(lambda cs: "/" + "/".join(cs))
VOL_NAME = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,12}\Z")
ONE_OF_GROUPS = [("ro", "rw"), ("exec", "noexec"), ("suid", "nosuid"), ("dev", "nodev"),
                 ("shared", "rshared", "slave", "rslave", "private", "rprivate"), ("z", "Z")]


@st.composite
def bind_options(draw, allow_copy=False):
    groups = list(ONE_OF_GROUPS) + ([("copy", "nocopy")] if allow_copy else []) + [("U",)]
    opts = []
    for g in groups:
        if draw(st.booleans()):
            opts.append(draw(st.sampled_from(g)))
    return draw(st.permutations(opts))


@st.composite
def volume_mounts(draw):
    if draw(st.booleans()):
        return {"type": "bind", "source": draw(ABS_PATH), "destination": draw(ABS_PATH),
                "options": list(draw(bind_options()))}
    return {"type": "volume", "source": draw(VOL_NAME), "destination": draw(ABS_PATH),
            "options": list(draw(bind_options(allow_copy=True)))}


@st.composite
def tmpfs_mounts(draw):
    opts = []
    if draw(st.booleans()):
        opts.append("size=%d" % draw(st.integers(0, 2**40)))
    if draw(st.booleans()):
        opts.append("mode=%o" % draw(st.integers(0, 0o7777)))
    for g in ONE_OF_GROUPS[:5]:
        if draw(st.booleans()):
            opts.append(draw(st.sampled_from(g)))
    return {"type": "tmpfs", "source": "tmpfs", "destination": draw(ABS_PATH),
            "options": list(draw(st.permutations(opts)))}


@given(volume_mounts())
def test_volume_round_trip(m):
    assert parse.parse_volume(parse.format_volume(m)) == m


@given(st.one_of(volume_mounts(), tmpfs_mounts()))
def test_mount_round_trip(m):
    assert parse.parse_mount(parse.format_mount(m)) == m


@given(tmpfs_mounts())
def test_tmpfs_round_trip(m):
    assert parse.parse_tmpfs(parse.format_tmpfs(m)) == m


@FUZZ
@given(st.one_of(st.text(), st.text(alphabet=":/,=abroZz-").map(lambda s: s)))
def test_mount_parsers_never_crash(text):
    for fn in (parse.parse_volume, parse.parse_mount, parse.parse_tmpfs):
        try:
            m = fn(text)
            assert m["destination"].startswith("/") and m["type"] in ("bind", "volume", "tmpfs")
            assert os.path.normpath(m["destination"]) == m["destination"]
        except InvalidArg:
            pass


@FUZZ
@given(st.dictionaries(st.sampled_from(["type", "source", "target", "ro", "options", "tmpfs-size", "x"]),
                       st.one_of(st.text(max_size=10), st.booleans(), st.integers(), st.lists(st.text(max_size=5)))))
def test_mount_dicts_never_crash(value):
    try:
        parse.parse_mount(value)
    except InvalidArg:
        pass


def test_octal_mode():
    assert parse.parse_octal_mode("1777") == 0o1777
    assert parse.parse_octal_mode("0755") == 0o755
    assert parse.parse_octal_mode(0o700) == 0o700
    assert "octal" in _err(parse.parse_octal_mode, "8")
    assert "out of range" in _err(parse.parse_octal_mode, 0o17777)


def test_error_messages_are_bounded():
    msg = _err(parse.parse_size, "x" * 10000, "memory")
    assert len(msg) < 600 and not math.isnan(len(msg))
