"""Parsed containers.conf files kept between tasks (config/parsecache.py, issue 20)."""
import json
import os

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import ConfigError
from ansible_collections.libpod.engine.plugins.module_utils.engine.config import loader, parsecache
from ansible_collections.libpod.engine.plugins.module_utils.engine.host import userpaths


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    """root's engine run dir, moved into the test's tmp dir."""
    folder = tmp_path / "run-engine"
    folder.mkdir(mode=0o755)
    monkeypatch.setattr(userpaths, "ROOT_REGISTRY_DIR", str(folder))
    return folder


@pytest.fixture
def parses(monkeypatch):
    """The texts the TOML parser was given."""
    seen = []
    real = loader.parse_toml

    def counting(text, path):
        seen.append(text)
        return real(text, path)

    monkeypatch.setattr(loader, "parse_toml", counting)
    return seen


def _load(conf, tmp_path):
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return loader.load_config({"engine": {"tmp_dir": str(tmp_path / "tmp")}}, env={loader.ENV_VAR: str(conf)})


def test_a_warm_load_reads_the_cache_not_the_toml(tmp_path, run_dir, parses):
    conf = tmp_path / "containers.conf"
    conf.write_text('[containers]\npids_limit = 77\n')
    assert _load(conf, tmp_path).get("containers", "pids_limit") == 77
    assert _load(conf, tmp_path).get("containers", "pids_limit") == 77
    assert len(parses) == 1
    cached = json.loads((run_dir / parsecache.CACHE_NAME).read_text())
    assert cached["files"][str(conf)]["data"] == {"containers": {"pids_limit": 77}}
    assert oct((run_dir / parsecache.CACHE_NAME).stat().st_mode & 0o777) == "0o600"


def test_a_changed_file_is_parsed_again_even_with_the_same_size_and_mtime(tmp_path, run_dir, parses):
    conf = tmp_path / "containers.conf"
    conf.write_text('[containers]\npids_limit = 77\n')
    _load(conf, tmp_path)
    st = conf.stat()
    conf.write_text('[containers]\npids_limit = 88\n')
    os.utime(conf, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime: only ctime tells
    assert _load(conf, tmp_path).get("containers", "pids_limit") == 88
    assert len(parses) == 2


@pytest.mark.parametrize("how", ["group-writable dir", "foreign file", "damaged file", "symlink"])
def test_a_cache_that_is_not_ours_or_not_sound_is_not_used(tmp_path, run_dir, parses, how):
    conf = tmp_path / "containers.conf"
    conf.write_text('[containers]\npids_limit = 77\n')
    _load(conf, tmp_path)
    cache = run_dir / parsecache.CACHE_NAME
    planted = json.loads(cache.read_text())
    planted["files"][str(conf)]["data"] = {"containers": {"pids_limit": 1}}
    if how == "symlink":
        other = tmp_path / "elsewhere.json"
        other.write_text(json.dumps(planted))
        other.chmod(0o600)
        cache.unlink()
        cache.symlink_to(other)
    else:
        cache.write_text("{not json" if how == "damaged file" else json.dumps(planted))
    if how == "group-writable dir":
        run_dir.chmod(0o775)
    if how == "foreign file":
        os.chown(cache, 65534, 65534)
    assert _load(conf, tmp_path).get("containers", "pids_limit") == 77
    assert len(parses) == 2
    if how == "group-writable dir":
        assert json.loads(cache.read_text())["files"][str(conf)]["data"]["containers"]["pids_limit"] == 1  # not written


def test_without_the_run_dir_nothing_is_written(tmp_path, run_dir, parses):
    run_dir.rmdir()
    conf = tmp_path / "containers.conf"
    conf.write_text('[containers]\npids_limit = 77\n')
    assert _load(conf, tmp_path).get("containers", "pids_limit") == 77
    assert not run_dir.exists()


def test_dates_are_parsed_every_time_and_bad_toml_is_never_kept(tmp_path, run_dir, parses):
    conf = tmp_path / "containers.conf"
    conf.write_text('[containers]\npids_limit = 77\n[machine]\nwhen = 1979-05-27T07:32:00Z\n')
    _load(conf, tmp_path)
    _load(conf, tmp_path)
    assert len(parses) == 2
    conf.write_text('[containers\n')
    with pytest.raises(ConfigError, match="invalid TOML"):
        _load(conf, tmp_path)
    with pytest.raises(ConfigError, match="invalid TOML"):
        _load(conf, tmp_path)
    assert len(parses) == 4


def test_the_cache_keeps_a_bounded_number_of_files(tmp_path, run_dir):
    cache = parsecache.ParsedFiles(str(run_dir))
    st = os.stat(tmp_path)
    for i in range(parsecache.MAX_ENTRIES + 5):
        cache.put("/f%d" % i, st, {"n": i})
    cache.save()
    files = json.loads((run_dir / parsecache.CACHE_NAME).read_text())["files"]
    assert len(files) == parsecache.MAX_ENTRIES
    assert "/f0" not in files and "/f%d" % (parsecache.MAX_ENTRIES + 4) in files
