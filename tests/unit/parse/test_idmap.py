"""parse.idmap and host.subids: one reading of ID mappings and subordinate-ID files."""
from __future__ import annotations

import os

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import InvalidArg
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.subids import (
    NoSubordinateIDs,
    subid_ranges,
    user_subids,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.parse.idmap import (
    IDMap,
    container_id,
    format_idmaps,
    host_id,
    pairs,
    parse_idmap,
    parse_idmaps,
    parse_subid_text,
    to_oci,
)


def test_parse_one_mapping_in_podman_order():
    assert parse_idmap("0:100000:65536") == IDMap(0, 100000, 65536)
    assert format_idmaps([IDMap(0, 100000, 65536)]) == ["0:100000:65536"]
    assert to_oci([IDMap(1, 2, 3)]) == [{"containerID": 1, "hostID": 2, "size": 3}]
    assert pairs([IDMap(1, 2, 3)]) == [(1, 2, 3)]


@pytest.mark.parametrize("bad", ["0:100000", "a:1:2", "0:1:0", "-1:0:5", "0:4294967294:2", ""])
def test_bad_mappings_name_the_parameter(bad):
    with pytest.raises(InvalidArg) as err:
        parse_idmap(bad, "gidmap")
    assert str(err.value).startswith("gidmap: ")


def test_overlapping_ranges_refused():
    with pytest.raises(InvalidArg, match="container ranges"):
        parse_idmaps(["0:1000:10", "5:5000:10"])
    with pytest.raises(InvalidArg, match="host ranges"):
        parse_idmaps(["0:1000:10", "20:1005:10"])
    assert len(parse_idmaps(["0:1000:10", "10:5000:10"])) == 2


def test_lookups_both_ways():
    maps = [IDMap(0, 1000, 1), IDMap(1, 100000, 65536)]
    assert host_id(maps, 0) == 1000
    assert host_id(maps, 1) == 100000
    assert host_id(maps, 65536) == 165535
    assert host_id(maps, 65537) is None
    assert container_id(maps, 100010) == 11
    assert container_id(maps, 5) is None


def test_subid_text_by_name_and_uid_in_order():
    text = "# c\n\nalice:100000:65536\nbob:200000:10\n1001:300000:5\nbad line\nalice:x:1\nalice:400000:100\n"
    assert parse_subid_text(text, "alice") == [IDMap(0, 100000, 65536), IDMap(65536, 400000, 100)]
    assert parse_subid_text(text, "carol", 1001) == [IDMap(0, 300000, 5)]
    assert parse_subid_text(text, "nobody") == []


def test_user_without_ranges_gets_the_fix(tmp_path):
    uid_file, gid_file = tmp_path / "subuid", tmp_path / "subgid"
    uid_file.write_text("root:100000:65536\n")
    assert subid_ranges("root", 0, str(uid_file)) == [IDMap(0, 100000, 65536)]
    assert subid_ranges("root", 0, str(tmp_path / "absent")) == []
    with pytest.raises(NoSubordinateIDs) as err:
        user_subids(os.getuid(), subuid_file=str(uid_file), subgid_file=str(gid_file))
    assert str(gid_file) in str(err.value) and "usermod --add-subuids" in str(err.value)
    gid_file.write_text("0:500000:10\n")
    uids, gids = user_subids(0, subuid_file=str(uid_file), subgid_file=str(gid_file))
    assert uids == [IDMap(0, 100000, 65536)] and gids == [IDMap(0, 500000, 10)]
