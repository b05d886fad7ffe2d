# SPDX-License-Identifier: GPL-3.0-or-later
"""reconcile/volume.py: normalisation of the declared spec, comparison and diff (pure), plus the
reconcile flow against a real VolumeManager on a temporary state DB (plain directories only)."""
from __future__ import annotations

import os
import shutil
import tempfile
import time

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg, VolumeInUse
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.locks import LockManager
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import Record, State
from ansible_collections.libpod.engine.plugins.module_utils.engine.volume.manager import VolumeConfig, VolumeManager
from ansible_collections.libpod.engine.plugins.module_utils.reconcile import volume as rv
from ansible_collections.libpod.engine.tests.helpers.checkmode import as_done
from ansible_collections.libpod.engine.tests.helpers.volume_plugin_server import VolumePluginServer

TMPFS = ["type=tmpfs", "device=tmpfs", "o=size=16m"]


# ------------------------------------------------------------------------------------------
# normalisation
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, want", [
    ("size=16m", "size=16m"),
    (" size = 16m , mode=0750 ", "size=16m,mode=0750"),
    ("size=16m,,mode=0750,", "size=16m,mode=0750"),
    ("mode=0750,size=16m", "mode=0750,size=16m"),  # order is kept: the kernel sees it in this order
    ("NoDev,Size=1M", "NoDev,Size=1M"),  # and case
    ("", ""),
])
def test_normalize_o(raw, want):
    assert rv.normalize_o(raw) == want


def test_options_list_dict_and_order_are_the_same_declared_value():
    a = rv.normalize_options(["type=tmpfs", "device=tmpfs", "o=size=16m,mode=0750", "nocopy"])
    b = rv.normalize_options({"nocopy": True, "o": " size=16m, mode=0750", "device": "tmpfs", "type": "tmpfs"})
    c = rv.normalize_options(["nocopy=true", " o = size=16m , mode=0750", "device=tmpfs", "type=tmpfs"])
    assert a == b == c == {"type": "tmpfs", "device": "tmpfs", "o": "size=16m,mode=0750", "nocopy": ""}


@pytest.mark.parametrize("value", [["nocopy=false"], {"nocopy": False}, ["copy=no"], {"o": ""}, ["o= , "], None, []])
def test_options_that_mean_nothing_are_dropped(value):
    assert rv.normalize_options(value) == {}


def test_option_values():
    assert rv.normalize_options({"uid": 1000, "size": 1.5}) == {"uid": "1000", "size": "1.5"}
    assert rv.normalize_options("type=tmpfs") == {"type": "tmpfs"}  # one string = one option
    assert rv.normalize_options(["device=/srv/a=b"]) == {"device": "/srv/a=b"}  # split at the first '='


def test_noquota_is_a_flag_only_for_the_local_driver():
    assert rv.normalize_options(["noquota=true"]) == {"noquota": ""}
    assert rv.normalize_options(["noquota=true"], driver="myplugin") == {"noquota": "true"}
    assert rv.normalize_options(["nocopy=yes"], driver="myplugin") == {"nocopy": ""}


@pytest.mark.parametrize("value, words", [
    (["o=size=1m", "o=mode=0700"], 'options: "o" is given twice'),
    (["a=1", " a=2"], '"a" is given twice'),
    ([5], "is not a string"),
    (5, "options must be a list"),
    (["=x"], "option names must be non-empty"),
    ({"o": ["size=1m"]}, 'value of "o" must be a string'),
    ({"o": "a\x00b"}, "NUL"),
])
def test_bad_options(value, words):
    with pytest.raises(InvalidArg) as exc:
        rv.normalize_options(value)
    assert words in str(exc.value)
    assert "volume parameter options" in str(exc.value)


def test_declared_spec_defaults_and_values():
    assert rv.declared_spec({"name": "v"}) == {"driver": "local", "label": {}, "options": {}, "uid": None,
                                               "gid": None}
    spec = rv.declared_spec({"name": "v", "driver": " ", "label": {"a": 1, "b": None}, "options": TMPFS,
                             "uid": 0, "gid": 5, "state": "present", "recreate": True, "force": True})
    assert spec == {"driver": "local", "label": {"a": "1", "b": ""},
                    "options": {"type": "tmpfs", "device": "tmpfs", "o": "size=16m"}, "uid": 0, "gid": 5}


@pytest.mark.parametrize("value", [-1, 2**32 - 1, True, "1000"])
def test_bad_uid(value):
    with pytest.raises(InvalidArg) as exc:
        rv.declared_spec({"name": "v", "uid": value})
    assert "volume parameter uid must be a numeric ID" in str(exc.value)


# ------------------------------------------------------------------------------------------
# comparison and diff
# ------------------------------------------------------------------------------------------
def test_differences_and_diff_name_exactly_what_changed():
    old = rv.declared_spec({"name": "v", "label": {"a": "1"}, "options": TMPFS})
    same = rv.declared_spec({"name": "v", "label": {"a": 1}, "options": {"o": "size=16m ", "device": "tmpfs",
                                                                         "type": "tmpfs"}})
    assert rv.differences(old, same) == []
    new = rv.declared_spec({"name": "v", "options": ["type=tmpfs", "device=tmpfs", "o=size=32m"], "uid": 7})
    names = rv.differences(old, new)
    assert names == ["label", "options", "uid"]
    assert rv.diff(old, new, names) == {
        "before": {"label": {"a": "1"}, "options": {"type": "tmpfs", "device": "tmpfs", "o": "size=16m"},
                   "uid": None},
        "after": {"label": {}, "options": {"type": "tmpfs", "device": "tmpfs", "o": "size=32m"}, "uid": 7},
    }


def test_o_order_is_a_difference_but_key_order_is_not():
    a = rv.declared_spec({"name": "v", "options": ["o=size=1m,mode=0700", "type=tmpfs", "device=tmpfs"]})
    b = rv.declared_spec({"name": "v", "options": ["device=tmpfs", "type=tmpfs", "o=size=1m,mode=0700"]})
    c = rv.declared_spec({"name": "v", "options": ["device=tmpfs", "type=tmpfs", "o=mode=0700,size=1m"]})
    assert rv.differences(a, b) == [] and rv.differences(a, c) == ["options"]


def test_stored_spec_missing_a_key_counts_as_its_default():
    assert rv.differences({"driver": "local"}, rv.declared_spec({"name": "v"})) == []


def test_declared_from_config():
    implicit = VolumeConfig(name="v")  # made by a container's "v:/data", no declared spec
    assert rv.declared_from_config(implicit) == rv.declared_spec({"name": "v"})
    stored = rv.declared_spec({"name": "v", "uid": 3})
    cfg = VolumeConfig(name="v", options={"uid": "3"}, uid=3, declared=stored)
    assert rv.declared_from_config(cfg) == stored
    # a config without a spec is compared through the one it implies
    legacy = VolumeConfig(name="v", labels={"a": "b"}, options={"o": " size=1m ", "nocopy": "true"})
    assert rv.declared_from_config(legacy)["options"] == {"o": "size=1m", "nocopy": ""}


# ------------------------------------------------------------------------------------------
# uid/gid and validation without creating anything
# ------------------------------------------------------------------------------------------
def test_engine_options_merge_uid_gid():
    spec = rv.declared_spec({"name": "v", "options": TMPFS, "uid": 1000, "gid": 0})
    assert rv.engine_options(spec) == {"type": "tmpfs", "device": "tmpfs", "o": "size=16m", "uid": "1000",
                                       "gid": "0"}
    assert rv.engine_options(rv.declared_spec({"name": "v", "uid": 5, "options": ["uid=5"]}))["uid"] == "5"
    with pytest.raises(InvalidArg, match="gid applies to the local driver only"):
        rv.engine_options(rv.declared_spec({"name": "v", "driver": "plug", "gid": 5}))


def test_owner_in_options_and_as_parameters_is_one_declared_value():
    a = rv.declared_spec({"name": "v", "options": ["uid=1000", "gid= 7", "type=tmpfs", "device=tmpfs"]})
    b = rv.declared_spec({"name": "v", "options": ["type=tmpfs", "device=tmpfs"], "uid": 1000, "gid": 7})
    c = rv.declared_spec({"name": "v", "options": ["type=tmpfs", "device=tmpfs", "uid=1000"], "uid": 1000,
                          "gid": 7})
    assert a == b == c and a["uid"] == 1000 and "uid" not in a["options"]
    with pytest.raises(InvalidArg, match="uid: 5 and options uid=6 disagree"):
        rv.declared_spec({"name": "v", "uid": 5, "options": ["uid=6"]})
    with pytest.raises(InvalidArg, match="options: gid=wheel is not a numeric ID"):
        rv.declared_spec({"name": "v", "options": ["gid=wheel"]})
    # a plugin gets its options verbatim: uid= there is the plugin's business
    assert rv.declared_spec({"name": "v", "driver": "p", "options": ["uid=x"]})["options"] == {"uid": "x"}
    legacy = VolumeConfig(name="v", options={"uid": "3"}, uid=3)
    assert rv.declared_from_config(legacy) == rv.declared_spec({"name": "v", "uid": 3})


def test_validate_spec(tmp_path):
    ok = rv.validate_spec("v", rv.declared_spec({"name": "v", "options": TMPFS}), {})
    assert ok == {"type": "tmpfs", "device": "tmpfs", "o": "size=16m"}
    bind = rv.declared_spec({"name": "v", "options": ["type=none", "device=%s" % tmp_path, "o=bind"]})
    assert rv.validate_spec("v", bind, {})["device"] == str(tmp_path)
    cases = [
        ({"driver": "nope"}, {"plug": "/s"}, 'driver "nope" is not available; known drivers: local, plug'),
        ({"options": ["foo=bar"]}, {}, "not valid for the local driver"),
        ({"options": ["o=size=1m"]}, {}, "type="),
        ({"options": ["type=none", "device=%s/missing" % tmp_path, "o=bind"]}, {}, "not an existing directory"),
        ({"driver": "plug", "options": ["o=timeout=0"]}, {"plug": "/s"}, "o=timeout=0 is not a number"),
    ]
    for params, plugins, words in cases:
        with pytest.raises(InvalidArg) as exc:
            rv.validate_spec("v", rv.declared_spec(dict(params, name="v")), plugins)
        assert words in str(exc.value), params
    assert rv.validate_spec("v", rv.declared_spec({"name": "v", "driver": "plug", "options": ["a=b"]}),
                            {"plug": "/s"}) == {"a": "b"}


# ------------------------------------------------------------------------------------------
# the reconcile flow on a real VolumeManager (plain local volumes: no mounts, no root needed)
# ------------------------------------------------------------------------------------------
class FakeRuntime:
    def __init__(self, tmp_path, plugins=None):
        self.state = State(str(tmp_path / "state.db"))
        self.locks = LockManager(self.state, str(tmp_path / "locks"), 32)
        self.volumes = VolumeManager(self.state, self.locks, volume_path=str(tmp_path / "volumes"), plugins=plugins)
        self.events = []

    def event(self, type_, status, **kw):
        self.events.append((type_, status, kw.get("name")))


@pytest.fixture
def rt(tmp_path, monkeypatch):
    r = FakeRuntime(tmp_path)

    def remover(rt_):
        def remove(ids):
            gone = []
            for cid in ids:
                rec = rt_.state.find("container", cid)
                rt_.state.remove("container", rec)
                gone.append(rec.name)
            return gone
        return remove

    monkeypatch.setattr(rv, "_users_remover", remover)  # real containers are the integration tests' job
    yield r
    r.state.close()


def _add_user(state, name, volume):
    cid = (name * 64)[:64]
    state.add("container", Record(id=cid, name=name, namespace="", lock_id=None, config={"id": cid, "name": name},
                                  state={"status": "configured"}, created=time.time()))
    state.set_container_volumes(cid, [volume])


def test_reconcile_create_idempotent_recreate_and_remove(rt):
    params = {"name": "v", "label": {"a": "1"}, "uid": 1234}
    res = rv.reconcile_volume(rt, params, check_mode=True)
    assert res.changed and res.actions == ["create volume v"] and rt.volumes.find("v") is None
    res = rv.reconcile_volume(rt, params)
    assert res.actions == ["created volume v"] and res.obj["UID"] == 1234 and res.obj["Labels"] == {"a": "1"}
    assert rt.volumes.get("v").config.declared == rv.declared_spec(params)  # stored with the volume
    assert os.stat(res.obj["Mountpoint"]).st_uid == 1234
    assert not rv.reconcile_volume(rt, dict(params, label={"a": 1})).changed

    changed = dict(params, label={"a": "2"})
    res = rv.reconcile_volume(rt, changed, check_mode=True)
    assert res.actions == ["recreate volume v: label changed"]
    assert (res.before, res.after) == ({"label": {"a": "1"}}, {"label": {"a": "2"}})
    assert rt.volumes.get("v").config.labels == {"a": "1"}
    res = rv.reconcile_volume(rt, changed)
    assert res.actions == ["recreated volume v: label changed"] and res.obj["Labels"] == {"a": "2"}
    res = rv.reconcile_volume(rt, dict(changed, recreate=True))
    assert res.actions == ["recreated volume v: recreate requested"] and res.before == {}

    res = rv.reconcile_volume(rt, {"name": "v", "state": "absent"})
    assert res.actions == ["removed volume v"] and rt.volumes.find("v") is None
    assert not rv.reconcile_volume(rt, {"name": "v", "state": "absent"}).changed
    assert [e[:2] for e in rt.events] == [("volume", "create"), ("volume", "remove"), ("volume", "create"),
                                          ("volume", "remove"), ("volume", "create"), ("volume", "remove")]


def test_reconcile_in_use_needs_force(rt):
    rv.reconcile_volume(rt, {"name": "v"})
    _add_user(rt.state, "web", "v")
    with pytest.raises(VolumeInUse) as exc:
        rv.reconcile_volume(rt, {"name": "v", "label": {"a": "b"}}, check_mode=True)
    assert 'volume "v" must be recreated (label changed) but is used by container(s) web' in str(exc.value)
    assert "force: true" in str(exc.value)
    with pytest.raises(VolumeInUse, match="cannot be removed"):
        rv.reconcile_volume(rt, {"name": "v", "state": "absent"})
    res = rv.reconcile_volume(rt, {"name": "v", "label": {"a": "b"}, "force": True}, check_mode=True)
    assert res.actions == ["remove container(s) web (using volume v)", "recreate volume v: label changed"]
    assert rt.state.find("container", "web") is not None
    res = rv.reconcile_volume(rt, {"name": "v", "label": {"a": "b"}, "force": True})
    assert res.actions == ["removed container(s) web (using volume v)", "recreated volume v: label changed"]
    assert rt.state.find("container", "web") is None


def test_bad_new_spec_keeps_the_old_volume(rt, tmp_path):
    rv.reconcile_volume(rt, {"name": "v", "label": {"keep": "me"}})
    marker = os.path.join(rt.volumes.data_dir("v"), "data")
    open(marker, "w").close()
    with pytest.raises(InvalidArg, match="not valid for the local driver") as exc:
        rv.reconcile_volume(rt, {"name": "v", "options": ["bogus=1"]})
    assert exc.value.actions == []
    assert rt.volumes.get("v").config.labels == {"keep": "me"} and os.path.exists(marker)


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "", "x" * 256, "a\n"])
def test_bad_names_touch_nothing(rt, tmp_path, name):
    for state in ("present", "absent"):
        with pytest.raises(InvalidArg, match="volume parameter name"):
            rv.reconcile_volume(rt, {"name": name, "state": state})
    assert rt.volumes.list() == [] and not os.path.exists(str(tmp_path / "volumes"))


def test_argument_spec():
    spec = rv.OPTIONS.argument_spec()
    assert spec["label"] == {"type": "dict", "aliases": ["labels"]}
    assert spec["state"] == {"type": "str", "choices": ["present", "mounted", "unmounted", "absent"],
                             "default": "present"}
    assert spec["options"] == {"type": "raw"} and spec["driver"] == {"type": "str", "default": "local"}
    assert spec["force"]["default"] is False and spec["recreate"]["default"] is False
    assert spec["name"]["required"] is True


def test_name_and_state_only_act_on_the_volume_as_declared(rt, tmp_path):
    """Issue 23.5, the one omission rule: a task that declares nothing keeps the volume (and its
    data); one that declares something declares it whole (omitted label = no labels)."""
    res = rv.reconcile_volume(rt, {"name": "v", "label": {"a": "1"}, "uid": 1234})
    marker = os.path.join(res.obj["Mountpoint"], "data")
    with open(marker, "w") as f:
        f.write("x")
    for params in ({"name": "v"}, {"name": "v", "state": "present", "driver": "local", "force": False}):
        res = rv.reconcile_volume(rt, params)
        assert not res.changed and res.actions == [] and os.path.exists(marker), res.actions
    res = rv.reconcile_volume(rt, {"name": "v", "uid": 1234})
    assert res.actions == ["recreated volume v: label changed"] and res.obj["Labels"] == {}


# ------------------------------------------------------------------------------------------
# check mode predicts the real run, for every state (plain local volumes: the mount point is the data dir)
# ------------------------------------------------------------------------------------------
#: (case, how the volume is before: None = missing / "plain" / "held" (state: mounted taken), task parameters)
PREDICTION_CASES = [
    ("new present", None, {"state": "present"}),
    ("new mounted", None, {"state": "mounted"}),
    ("unchanged mounted", "held", {"state": "mounted"}),
    ("plain mounted", "plain", {"state": "mounted"}),
    ("mounted, label changed", "held", {"state": "mounted", "label": {"a": "2"}}),
    ("mounted, recreate", "held", {"state": "mounted", "label": {"a": "1"}, "recreate": True}),
    ("not held, label changed, mounted", "plain", {"state": "mounted", "label": {"a": "2"}}),
    ("held unmounted", "held", {"state": "unmounted"}),
    ("plain unmounted", "plain", {"state": "unmounted"}),
    ("held, label changed, unmounted", "held", {"state": "unmounted", "label": {"a": "2"}}),
    ("held, label changed, present", "held", {"state": "present", "label": {"a": "2"}}),
    ("held absent", "held", {"state": "absent"}),
    ("missing absent", None, {"state": "absent"}),
]


def _outcome(res):
    return res.changed, res.actions, res.before, res.after, res.extra.get("mount_point")


@pytest.mark.parametrize("case, before, params", PREDICTION_CASES, ids=[c[0] for c in PREDICTION_CASES])
def test_check_mode_predicts_the_real_run(rt, case, before, params):
    """A volume created or recreated by the task holds no reference of the user: state mounted
    mounts it again (the real run always did; check mode said only the recreate), state
    unmounted has nothing left to drop (check mode said unmount)."""
    if before is not None:
        rv.reconcile_volume(rt, {"name": "v", "label": {"a": "1"}})
        if before == "held":
            rt.volumes.hold("v")
    params = dict(params, name="v")
    check = rv.reconcile_volume(rt, params, check_mode=True)
    real = rv.reconcile_volume(rt, params)
    changed, actions, diff_before, diff_after, point = _outcome(check)
    assert (changed, as_done(actions), diff_before, diff_after, point) == _outcome(real), case
    assert rv.reconcile_volume(rt, params).changed == bool(params.get("recreate"))  # recreate: true, each run


def test_check_mode_names_the_mount_point_it_would_mount(rt):
    res = rv.reconcile_volume(rt, {"name": "v", "state": "mounted"}, check_mode=True)
    assert res.actions == ["create volume v", "mount volume v at %s" % rt.volumes.data_dir("v")]
    assert res.extra["mount_point"] == rt.volumes.data_dir("v") and rt.volumes.find("v") is None


def test_check_mode_of_a_plugin_volume_cannot_name_the_mount_point(tmp_path):
    """A plugin says where it mounts only when it mounts: check mode says the mount without a point."""
    sockdir = tempfile.mkdtemp(prefix="vp-", dir="/tmp")  # sun_path holds 108 bytes
    srv = VolumePluginServer(str(tmp_path / "plugin"), os.path.join(sockdir, "p.sock")).start()
    rt = FakeRuntime(tmp_path, plugins={"testplug": srv.socket_path})
    try:
        params = {"name": "pv", "driver": "testplug", "state": "mounted"}
        for label in (None, {"a": "2"}):  # new, then recreated while mounted
            call = dict(params, label=label) if label else params
            check = rv.reconcile_volume(rt, call, check_mode=True)
            real = rv.reconcile_volume(rt, call)
            assert check.actions[-1] == "mount volume pv" and check.extra["mount_point"] == ""
            assert real.actions[-1] == "mounted volume pv at %s" % real.extra["mount_point"]
            assert as_done(check.actions[:-1]) == real.actions[:-1] and check.changed == real.changed
        check = rv.reconcile_volume(rt, dict(params, label={"a": "2"}), check_mode=True)
        assert not check.changed and check.extra["mount_point"] == real.extra["mount_point"] != ""
        # an existing volume mounted by someone else (a container): its point is known, the plugin not asked
        rv.reconcile_volume(rt, dict(params, label={"a": "2"}, state="unmounted"))
        point = rt.volumes.mount("pv")
        ops = len(srv.ops())
        check = rv.reconcile_volume(rt, dict(params, label={"a": "2"}), check_mode=True)
        assert check.extra["mount_point"] == point and check.actions == ["mount volume pv at %s" % point]
        assert srv.ops()[ops:] == []  # check mode asks the plugin nothing
        real = rv.reconcile_volume(rt, dict(params, label={"a": "2"}))
        assert real.extra["mount_point"] == point and real.actions == ["mounted volume pv at %s" % point]
        # existing but mounted by nobody: only the plugin's Mount tells (podman's inspect: Mountpoint "")
        rv.reconcile_volume(rt, dict(params, label={"a": "2"}, state="unmounted"))
        rt.volumes.unmount("pv")
        assert rt.volumes.inspect("pv")["Mountpoint"] == ""
        check = rv.reconcile_volume(rt, dict(params, label={"a": "2"}), check_mode=True)
        assert check.extra["mount_point"] == "" and check.actions == ["mount volume pv"]
        rv.reconcile_volume(rt, {"name": "pv", "state": "absent"})
    finally:
        rt.state.close()
        srv.stop()
        shutil.rmtree(sockdir, ignore_errors=True)
