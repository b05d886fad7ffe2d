"""containers.conf loading: order, merge, sources, validation messages."""
import os

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import ConfigError
from ansible_collections.libpod.engine.plugins.module_utils.engine.config import loader as cfgmod
from ansible_collections.libpod.engine.plugins.module_utils.engine.config.schema import DEFAULTS, SCHEMA


@pytest.fixture
def conf(tmp_path):
    def write(text, name="containers.conf"):
        p = tmp_path / name
        p.write_text(text)
        return str(p)
    return write


def load(path, tmp_path, overrides=None):
    env = {cfgmod.ENV_VAR: path}
    (tmp_path / "run").mkdir(exist_ok=True)
    over = {"engine": {"tmp_dir": str(tmp_path / "run")}}
    for sec, body in (overrides or {}).items():
        over.setdefault(sec, {}).update(body)
    return cfgmod.load_config(over, env=env)


def test_defaults_follow_schema():
    import jsonschema

    jsonschema.Draft7Validator.check_schema(SCHEMA)
    jsonschema.validate(DEFAULTS, SCHEMA)


def test_file_overrides_defaults_and_records_source(conf, tmp_path):
    path = conf('[engine]\nnum_locks = 64\nstatic_dir = "/srv/x"\n[network]\ndefault_subnet = "10.1.2.0/24"\n')
    cfg = load(path, tmp_path)
    assert cfg.get("engine", "num_locks") == 64
    assert cfg.source("engine", "num_locks") == path
    assert cfg.get("engine", "stop_timeout") == 10
    assert cfg.source("engine", "stop_timeout") == "default"
    # paths derived from static_dir follow it, and say where they came from
    assert cfg.get("engine", "volume_path") == "/srv/x/volumes"
    assert cfg.get("storage", "graph_root") == "/srv/x/storage"
    assert cfg.source("storage", "graph_root") == path
    assert cfg.get("storage", "run_root") == str(tmp_path / "run" / "storage")


def test_options_win_and_are_explicit(conf, tmp_path):
    path = conf('[engine]\nnum_locks = 64\n')
    cfg = load(path, tmp_path, {"engine": {"num_locks": 128}})
    assert cfg.get("engine", "num_locks") == 128
    assert cfg.source("engine", "num_locks") == "option"
    assert cfg.is_explicit("engine", "num_locks")
    assert not cfg.is_explicit("engine", "static_dir")


def test_arrays_replace_not_append(conf, tmp_path):
    cfg = load(conf('[containers]\ndefault_capabilities = ["CHOWN"]\n'), tmp_path)
    assert cfg.get("containers", "default_capabilities") == ["CHOWN"]


@pytest.mark.parametrize("text,expect", [
    ('[engine]\nnum_locks = "many"\n', '[engine] num_locks = "many": expected integer, got string'),
    ('[engine]\nno_pivot_root = 1\n', "[engine] no_pivot_root = 1: expected boolean, got integer"),
    ('[engine]\nconmon_path = "/usr/bin/conmon"\n', 'conmon_path = "/usr/bin/conmon": expected array of strings'),
    ('[engine]\nevents_logger = "syslog"\n', "expected one of 'file', 'none', 'journald'"),
    ('[engine]\ncgroup_manager = "systemd"\n', 'cgroup_manager = "systemd"'),
    ('[engine\n', "invalid TOML"),
])
def test_bad_files_name_file_key_and_type(conf, tmp_path, text, expect):
    path = conf(text)
    with pytest.raises(ConfigError) as exc:
        load(path, tmp_path)
    assert expect in str(exc.value)
    assert path in str(exc.value)


def test_unknown_key_warns(conf, tmp_path):
    path = conf('[engine]\nfrobnicate = true\n')
    cfg = load(path, tmp_path)
    assert any("unknown key frobnicate in [engine]" in w and path in w for w in cfg.warnings)
    # warnings survive the validation cache
    cfg2 = load(path, tmp_path)
    assert cfg2.warnings == cfg.warnings


def test_a_podman_containers_conf_loads_with_warnings(conf, tmp_path):
    # issue 14 item 11: sections and keys the engine does not use are named, not a hard error
    path = conf('[engine]\nlock_type = "shm"\nruntime_supports_nocgroups = ["crun"]\n'
                '[secrets]\ndriver = "file"\n[machine]\ncpus = 2\nmemory = 2048\n'
                '[network]\nnetwork_backend = "netavark"\n')
    cfg = load(path, tmp_path)
    text = "\n".join(cfg.warnings)
    assert "section [secrets] is not used by libpod.engine; ignored: driver" in text
    assert "section [machine] is not used by libpod.engine; ignored: cpus, memory" in text
    assert "unknown key network_backend in [network] ignored" in text
    assert 'lock_type = "shm"' in text and "file locks are used" in text
    assert "runtime_supports_nocgroups" not in text  # used: the runtimes that can run cgroups: disabled
    assert cfg.get("engine", "runtime_supports_nocgroups") == ["crun"]
    assert all(path in w for w in cfg.warnings)


def test_unknown_sections_in_engine_options_are_errors(conf, tmp_path):
    with pytest.raises(ConfigError, match=r"unknown section \[bogus\]"):
        load(conf(""), tmp_path, {"bogus": {"x": 1}})


def test_systemd_cgroup_manager_is_refused_with_the_fix(conf, tmp_path):
    with pytest.raises(ConfigError) as exc:
        load(conf('[engine]\ncgroup_manager = "systemd"\n'), tmp_path)
    assert 'cgroup_manager = "cgroupfs"' in str(exc.value)


def test_validation_cache_notices_edits(conf, tmp_path):
    path = conf('[engine]\nnum_locks = 32\n')
    load(path, tmp_path)
    assert os.path.exists(tmp_path / "run" / "config-validated.json")
    with open(path, "w") as f:
        f.write('[engine]\nnum_locks = "x"\n')
    with pytest.raises(ConfigError):
        load(path, tmp_path)


def test_validation_cache_keeps_several_fingerprints(conf, tmp_path, monkeypatch):
    # a module task and conmon's exit command (explicit path options) open the same root in turn:
    # each must find its own validated fingerprint instead of evicting the other's (issue 20)
    path = conf('[engine]\nnum_locks = 32\n')
    exit_cmd = {"engine": {"static_dir": str(tmp_path / "static")}}
    load(path, tmp_path)
    load(path, tmp_path, exit_cmd)
    calls = []
    real = cfgmod.validate
    monkeypatch.setattr(cfgmod, "validate", lambda data, where: calls.append(where) or real(data, where))
    load(path, tmp_path)
    load(path, tmp_path, exit_cmd)
    assert calls == []
    # an edit of the file invalidates every entry
    with open(path, "w") as f:
        f.write('[engine]\nnum_locks = 64\n')
    assert load(path, tmp_path).get("engine", "num_locks") == 64
    load(path, tmp_path, exit_cmd)
    assert calls == [path, "options"] * 2  # load() always has options (its tmp_dir)


def test_validation_cache_is_bounded_and_reads_the_old_format(conf, tmp_path):
    path = conf('[engine]\nnum_locks = 32\n')
    cache = tmp_path / "run" / "config-validated.json"
    (tmp_path / "run").mkdir()
    cache.write_text('{"fingerprint": ["x"], "warnings": []}')  # written by an earlier version
    for i in range(cfgmod.CACHE_ENTRIES + 3):
        load(path, tmp_path, {"engine": {"num_locks": i + 1}})
    import json

    entries = json.loads(cache.read_text())["entries"]
    assert len(entries) == cfgmod.CACHE_ENTRIES
    assert '"num_locks": %d' % (cfgmod.CACHE_ENTRIES + 3) in entries[0]["fingerprint"][-1]


def test_env_file_must_exist(tmp_path):
    with pytest.raises(ConfigError) as exc:
        cfgmod.load_config({}, env={cfgmod.ENV_VAR: str(tmp_path / "nope.conf")})
    assert "LIBPOD_ENGINE_CONF=%s: no such file" % (tmp_path / "nope.conf") in str(exc.value)


def test_relative_path_refused(conf, tmp_path):
    with pytest.raises(ConfigError) as exc:
        load(conf('[engine]\nstatic_dir = "var/lib"\n'), tmp_path)
    assert "static_dir" in str(exc.value) and "absolute" in str(exc.value)


def test_system_files_order(tmp_path, monkeypatch):
    vendor, admin, dropin = tmp_path / "vendor.conf", tmp_path / "admin.conf", tmp_path / "d"
    dropin.mkdir()
    vendor.write_text("[engine]\nnum_locks = 1\nstop_timeout = 1\n")
    admin.write_text("[engine]\nnum_locks = 2\n")
    (dropin / "10-a.conf").write_text("[engine]\nstop_timeout = 3\n")
    (dropin / "20-b.conf").write_text("[engine]\nstop_timeout = 4\n")
    (dropin / "ignored.txt").write_text("[engine]\nstop_timeout = 5\n")
    monkeypatch.setattr(cfgmod, "VENDOR_CONF", str(vendor))
    monkeypatch.setattr(cfgmod, "ADMIN_CONF", str(admin))
    monkeypatch.setattr(cfgmod, "DROPIN_DIR", str(dropin))
    cfg = cfgmod.load_config({"engine": {"tmp_dir": str(tmp_path / "run")}}, env={})
    assert cfg.files == [str(vendor), str(admin), str(dropin / "10-a.conf"), str(dropin / "20-b.conf")]
    assert cfg.get("engine", "num_locks") == 2
    assert cfg.get("engine", "stop_timeout") == 4
    assert cfg.source("engine", "stop_timeout") == str(dropin / "20-b.conf")


def test_rootless_defaults_and_the_users_containers_conf(tmp_path, monkeypatch):
    """A non-root caller: its own static/tmp/volume dirs, and ~/.config/libpod-engine/containers.conf
    (then its .d) read on top of the system files, as containers/common does for rootless podman."""
    from ansible_collections.libpod.engine.plugins.module_utils.engine.host import userpaths

    monkeypatch.setattr(userpaths, "rootless_uid", lambda: 1234)
    home = tmp_path / "home"
    (home / ".config" / "libpod-engine" / "containers.conf.d").mkdir(parents=True)
    user_conf = home / ".config" / "libpod-engine" / "containers.conf"
    user_conf.write_text("[engine]\nnum_locks = 77\n")
    dropin = home / ".config" / "libpod-engine" / "containers.conf.d" / "10-x.conf"
    dropin.write_text("[engine]\nstop_timeout = 3\n")
    env = {"HOME": str(home), "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    cfg = cfgmod.load_config({}, env=env)
    assert cfg.get("engine", "static_dir") == str(home / ".local/share/libpod-engine")
    assert cfg.get("engine", "tmp_dir") == str(tmp_path / "run" / "libpod-engine")
    assert cfg.get("engine", "volume_path") == str(home / ".local/share/libpod-engine/volumes")
    assert cfg.get("storage", "graph_root") == str(home / ".local/share/libpod-engine/storage")
    assert cfg.get("storage", "run_root") == str(tmp_path / "run" / "libpod-engine" / "storage")
    assert cfg.files[-2:] == [str(user_conf), str(dropin)]
    assert cfg.get("engine", "num_locks") == 77 and cfg.source("engine", "num_locks") == str(user_conf)
    assert cfg.get("engine", "stop_timeout") == 3


def test_root_defaults_are_unchanged():
    cfg = cfgmod.load_config({}, env={})
    assert cfg.get("engine", "static_dir") == "/var/lib/libpod-engine"
    assert cfg.get("engine", "tmp_dir") == "/run/libpod-engine"
    assert cfg.get("engine", "volume_path") == "/var/lib/libpod-engine/volumes"
    assert not any("libpod-engine/containers.conf" in f and "/.config/" in f for f in cfg.files)


def test_an_empty_or_blank_file_parses_to_nothing_without_the_parser():
    """A blank containers.conf is {} (as tomllib says) without importing the parser (issue 20)."""
    assert cfgmod.parse_toml("", "x") == {} and cfgmod.parse_toml(" \n\t\n", "x") == {}
    assert cfgmod.parse_toml("# only a comment\n", "x") == {}
    with pytest.raises(ConfigError, match="invalid TOML"):
        cfgmod.parse_toml("[engine\n", "x")
