"""modules/stack.py entry_validator: entries alike but for their name are validated once, and each
still gets its own name, its own copy of the parameters and the same errors as without the cache."""
from __future__ import annotations

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.modules.stack import entry_validator


class _Module:
    def __init__(self):
        self.no_log_values = set()


def _entry(name, **kw):
    return dict({"name": name, "image": "localhost/busybox:latest", "command": ["sleep", "1000"],
                 "network": "none", "state": "created"}, **kw)


def test_alike_entries_keep_their_own_name_and_parameters():
    validate = entry_validator(_Module())
    first = validate("container", _entry("a"), "containers[0]")
    second = validate("container", _entry("b"), "containers[1]")
    assert (first["name"], second["name"]) == ("a", "b")
    assert {k: v for k, v in first.items() if k != "name"} == {k: v for k, v in second.items() if k != "name"}
    second["command"].append("changed")  # one entry's parameters are not another's
    assert validate("container", _entry("c"), "containers[2]")["command"] == ["sleep", "1000"]


def test_an_entry_differing_in_an_option_is_validated_on_its_own():
    validate = entry_validator(_Module())
    validate("container", _entry("a"), "containers[0]")
    with pytest.raises(InvalidArg, match=r"containers\[1\].*unsupported parameters bogus"):
        validate("container", _entry("b", bogus=1), "containers[1]")
    with pytest.raises(InvalidArg, match=r"containers\[2\]"):
        validate("container", _entry("c", state="sideways"), "containers[2]")


def test_a_name_that_is_not_a_string_is_validated_as_before():
    validate = entry_validator(_Module())
    validate("container", _entry("a"), "containers[0]")
    assert validate("container", _entry(5), "containers[1]")["name"] == "5"


def test_no_log_values_of_a_cached_shape_are_still_hidden():
    module = _Module()
    validate = entry_validator(module)
    validate("container", _entry("a", registry_password="s3cret-pw"), "containers[0]")
    module.no_log_values.clear()
    validate("container", _entry("b", registry_password="s3cret-pw"), "containers[1]")
    assert "s3cret-pw" in module.no_log_values
