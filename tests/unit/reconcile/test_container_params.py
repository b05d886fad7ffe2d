# SPDX-License-Identifier: GPL-3.0-or-later
"""The container options added for containers.podman parity (issue 23): normalisation, the
declared defaults older containers compare equal to, and the helpers build_config uses."""
from __future__ import annotations

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci import spec
from ansible_collections.libpod.engine.plugins.module_utils.engine.parse import values as parse_values
from ansible_collections.libpod.engine.plugins.module_utils.reconcile import container as rc
from ansible_collections.libpod.engine.plugins.module_utils.reconcile import container_build as cb
from ansible_collections.libpod.engine.plugins.module_utils.reconcile import container_params as cp
from ansible_collections.libpod.engine.plugins.module_utils.reconcile.container_options import (
    NO_ENV_DIGEST,
    OPTIONS,
    env_file_values,
)


def _declared(**kw):
    return OPTIONS.declared(dict({"name": "c", "image": "x"}, **kw))


def test_a_container_declared_before_the_new_options_compares_equal():
    """A declared spec stored by an older engine (no new keys, log_opt with max_size only) is no change."""
    new = _declared()
    old = {k: v for k, v in new.items() if k in ("image", "env", "label", "volume", "publish", "network")}
    old["log_opt"] = {"max_size": None}
    assert OPTIONS.differences(old, new) == []


@pytest.mark.parametrize("value,mode", [(True, "true"), (False, "false"), ("always", "always"), ("TRUE", "true")])
def test_systemd_modes(value, mode):
    assert _declared(systemd=value)["systemd"] == mode


def test_bad_values_name_the_parameter():
    for kw, word in (({"systemd": "sometimes"}, "systemd"), ({"timezone": "Mars/Olympus"}, "timezone"),
                     ({"expose": ["80/icmp"]}, "expose"), ({"hosts_file": "rel/path"}, "hosts_file"),
                     ({"log_opt": {"path": "rel"}}, "log_opt.path"), ({"log_opt": {"color": 1}}, "log_opt"),
                     ({"unsetenv": ["A B"]}, "unsetenv"), ({"volumes_from": ["c:rx"]}, "volumes_from"),
                     ({"stop_timeout": -1}, "stop_timeout")):
        with pytest.raises(InvalidArg) as exc:
            _declared(**kw)
        assert word in exc.value.msg, (kw, exc.value.msg)


def test_expose_ranges_and_protocols():
    assert _declared(expose=["8000-8001", "53/udp", 80])["expose"] == ["80/tcp", "8000/tcp", "8001/tcp", "53/udp"]


def test_log_opt_podman_spellings_and_stop_time():
    d = _declared(log_opt={"max-size": "1k", "max-file": "3", "tag": "web", "path": "/var/log/x.log"},
                  stop_timeout=5)
    assert d["log_opt"] == {"max_size": 1024, "max_files": 3, "tag": "web", "path": "/var/log/x.log"}
    assert OPTIONS.by_name["log_opt"].shown(_declared(log_opt={"max_size": "2k"})["log_opt"]) == {"max_size": 2048}


def test_no_env_file_compares_as_the_digest_of_no_variables(tmp_path):
    """The constant is what env_digest gives for no variables, so an env file without variables and no
    env file still compare equal (as before the constant)."""
    assert parse_values.env_digest({}) == NO_ENV_DIGEST
    empty = tmp_path / "empty.env"
    empty.write_text("# nothing\n")
    assert OPTIONS.differences(_declared(), _declared(env_file=[str(empty)])) == []


def test_env_files_later_file_wins(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("A=1\nB=1\n")
    b.write_text("B=2\n")
    d = _declared(env_file=[str(a), str(b)])
    assert d["env_file"]["path"] == [str(a), str(b)] and d["env_file"]["keys"] == ["A", "B"]
    assert env_file_values(d) == {"A": "1", "B": "2"}
    assert _declared(env_file=[str(a)])["env_file"]["path"] == str(a)  # one file: the record as before


def test_label_file_is_read_and_declared(tmp_path):
    f = tmp_path / "labels"
    f.write_text("# c\ntier=web\nempty\n")
    assert _declared(label_file=str(f))["label_file"] == {"tier": "web", "empty": ""}


def test_env_merge_refers_to_the_base_environment():
    assert cp.merged_env({"PATH": "/opt:${PATH}", "X": "$HOME/x"}, {"PATH": "/bin", "HOME": "/root"}) == \
        {"PATH": "/opt:/bin", "X": "/root/x"}


def test_host_env_all_or_proxies_only():
    environ = {"http_proxy": "p", "NO_PROXY": "n", "SECRET": "s"}
    assert cb.host_env({"env_host": True}, environ) == environ
    assert cb.host_env({}, environ) == {"http_proxy": "p", "NO_PROXY": "n"}
    assert cb.host_env({"http_proxy": False}, environ) == {}


def test_publish_all_keeps_the_previous_host_ports():
    declared = {"publish_all": True, "expose": ["81/tcp"], "publish": [
        {"host_ip": "", "host_port": 9000, "container_port": 80, "protocol": "tcp"}]}
    image = {"ExposedPorts": {"80/tcp": {}, "53/udp": {}}}
    previous = {"publish": [{"host_ip": "", "host_port": 40001, "container_port": 81, "protocol": "tcp"}]}
    ports = cb.publish_all_ports(declared, image, previous)
    assert [(p["container_port"], p["protocol"]) for p in ports] == [(81, "tcp"), (53, "udp")]
    assert ports[0]["host_port"] == 40001 and ports[1]["host_port"] > 0


def test_systemd_mode_decides_mounts_and_stop_signal():
    assert spec.systemd_mode({"command": ["/sbin/init"]}, {})
    assert not spec.systemd_mode({"command": ["/sbin/init"], "systemd": "false"}, {})
    assert spec.systemd_mode({"command": ["sleep"], "systemd": "always"}, {})
    assert spec.effective_stop_signal({"command": ["/usr/lib/systemd/systemd"]}, {"StopSignal": "SIGTERM"}) == 37
    assert spec.effective_stop_signal({"command": ["/sbin/init"], "stop_signal": 15}, {}) == 15


def test_pull_parameters_of_the_peer():
    assert rc._auth({"creds": "u:p:w"}) == ("u", "p:w")
    assert rc._auth({"authfile": "/a.json"}) == {"authfile": "/a.json"}
    with pytest.raises(InvalidArg):
        rc._auth({"creds": "nopassword"})
    assert rc._insecure({"tls_verify": False}) and not rc._insecure({"tls_verify": True})
    assert rc._platform({"platform": "linux/arm64"}) == "linux/arm64"
    assert rc._platform({"os": "linux", "arch": "arm", "variant": "v7"}) == "linux/arm/v7"
    assert rc._platform({}) is None


def test_cli_only_parameters_warn_only_when_set():
    assert cp.ignored_warnings({"executable": "podman", "debug": False, "detach": True}) == []
    warnings = cp.ignored_warnings({"executable": "/usr/bin/podman-remote", "quadlet_dir": "/etc/containers/systemd"})
    assert len(warnings) == 2 and "restart_on_boot" in warnings[1]


class _Images:
    """The image store of a fake runtime: an image with a HEALTHCHECK."""

    def image_config(self, image):
        return {"Healthcheck": {"Test": ["CMD", "true"], "Interval": 30 * 10**9}}


class _Rt:
    images = _Images()


def test_no_healthcheck_disables_the_image_healthcheck():
    """podman --no-healthcheck (a peer idempotency scenario): the image's HEALTHCHECK is not used."""
    assert rc._healthcheck_config(_Rt(), {"no_healthcheck": True}, "img") == {"healthcheck": None}
    none = {"no_healthcheck": True, "healthcheck": "NONE"}
    assert rc._healthcheck_config(_Rt(), none, "img") == {"healthcheck": None}
    assert rc._healthcheck_config(_Rt(), {"no_healthcheck": False}, "img") == {}
    with pytest.raises(InvalidArg, match="no_healthcheck: true conflicts with healthcheck, healthcheck_retries"):
        rc._healthcheck_config(_Rt(), {"no_healthcheck": True, "healthcheck": "true", "healthcheck_retries": 2}, "img")
    assert OPTIONS.argument_spec()["no_healthcheck"]["type"] == "bool"
