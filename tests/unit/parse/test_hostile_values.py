# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile user values (issue 22 items 9, 10): trailing newlines, line injection into /etc files."""
from __future__ import annotations

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.base.names import validate_name
from ansible_collections.libpod.engine.plugins.module_utils.engine.network.portmap import check_name
from ansible_collections.libpod.engine.plugins.module_utils.engine.parse import values as parse

NL = "web\n"


@pytest.mark.parametrize("call", [
    lambda: validate_name(NL, "name", "container"),
    lambda: validate_name(NL, "name", "pod"),
    lambda: parse.parse_add_host("db\n:10.0.0.5"),
    lambda: parse.parse_sysctls({"net.ipv4.ip_forward\n": "1"}),
    lambda: parse.parse_volume("vol\n:/data"),
    lambda: parse.parse_env_text("A\n=1", "env_file", "f"),
    lambda: check_name("network", NL),
], ids=["container", "pod", "add_host", "sysctl", "volume", "env_file", "nft-name"])
def test_trailing_newline_is_refused(call):
    with pytest.raises(InvalidArg):
        call()


@pytest.mark.parametrize("param,value", [
    ("hostname", "a\nnameserver 6.6.6.6"),
    ("hostname", "-lead"),
    ("hostname", "x" * 65),
    ("hostname", "a..b"),
    ("dns_search", ["ok.example", "evil\nnameserver 6.6.6.6"]),
    ("dns_search", ["a b"]),
    ("dns_option", ["ndots:2\nnameserver 6.6.6.6"]),
    ("dns_option", ["ndots:2 rotate"]),
    ("dns", ["fe80::1%eth0\nnameserver 6.6.6.6"]),
    ("dns", ["not-an-ip"]),
])
def test_etc_file_values_are_validated(param, value):
    parser = {"hostname": parse.parse_hostname, "dns_search": parse.parse_dns_search,
              "dns_option": parse.parse_dns_options, "dns": parse.parse_dns_servers}[param]
    with pytest.raises(InvalidArg, match=param):
        parser(value, param)


def test_good_etc_file_values_pass_unchanged():
    assert parse.parse_hostname("web-1.example.com", "hostname") == "web-1.example.com"
    assert parse.parse_dns_search(["example.com", "corp.local"], "dns_search") == ["example.com", "corp.local"]
    assert parse.parse_dns_search(["."], "dns_search") == ["."]
    assert parse.parse_dns_options(["ndots:2", "edns0", "single-request-reopen", "timeout:1"],
                                   "dns_option") == ["ndots:2", "edns0", "single-request-reopen", "timeout:1"]
    assert parse.parse_dns_servers(["10.0.0.1", "fe80::1%eth0"], "dns") == ["10.0.0.1", "fe80::1%eth0"]


@pytest.mark.parametrize("kw", [
    {"dns_search": ["evil\nnameserver 6.6.6.6"]},
    {"dns_option": ["x\ny"]},
    {"dns": ["fe80::1%eth0\nnameserver 6.6.6.6"]},
])
def test_resolv_conf_refuses_control_characters(kw):
    from ansible_collections.libpod.engine.plugins.module_utils.engine.oci.etcfiles import resolv_conf_content

    with pytest.raises(InvalidArg):
        resolv_conf_content(base_resolv="", **kw)


def test_hosts_and_hostname_refuse_control_characters():
    from ansible_collections.libpod.engine.plugins.module_utils.engine.oci import etcfiles

    with pytest.raises(InvalidArg):
        etcfiles.hosts_content(hostname="a\n6.6.6.6 evil", base_hosts="")
    with pytest.raises(InvalidArg):
        etcfiles.hostname_content("a\nb")
