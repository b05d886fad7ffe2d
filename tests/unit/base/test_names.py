"""Name validation and generation."""
import pytest
from hypothesis import given
from hypothesis import strategies as s

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.base.names import (
    NAME_RE,
    generate_name,
    new_id,
    validate_name,
)


@pytest.mark.parametrize("bad", ["", "../x", "a/b", ".", "..", "-x", "_x", "a b", "x\x00y", "a" * 254, "é"])
def test_bad_names(bad):
    with pytest.raises(InvalidArg) as exc:
        validate_name(bad, "name")
    assert "name" in str(exc.value)


@pytest.mark.parametrize("good", ["web", "a", "Web-1.2_x", "0abc"])
def test_good_names(good):
    assert validate_name(good) == good


@given(s.text(max_size=300))
def test_any_text_is_valid_or_invalidarg_and_never_a_path(text):
    try:
        name = validate_name(text)
    except InvalidArg:
        return
    assert "/" not in name and name not in (".", "..") and NAME_RE.match(name)


def test_generated_names_are_free_and_valid():
    taken = set()
    for _i in range(200):
        n = generate_name(lambda x: x in taken)
        validate_name(n)
        assert n not in taken
        taken.add(n)


def test_ids():
    a, b = new_id(), new_id()
    assert len(a) == 64 and a != b and int(a, 16) >= 0
