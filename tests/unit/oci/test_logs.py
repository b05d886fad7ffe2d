# SPDX-License-Identifier: GPL-3.0-or-later
"""k8s-file log reading: partial records joined per stream, tail from the end of big files."""
from __future__ import annotations

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.oci import logs
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci.logs import read_k8s_log

T = "2026-11-23T11:34:57.%09d+00:00"


def _write(tmp_path, records, name="ctr.log"):
    """records: (stream, tag, data) -> the file conmon would write."""
    path = tmp_path / name
    with open(path, "wb") as f:
        for i, (stream, tag, data) in enumerate(records):
            f.write(("%s %s %s %s\n" % (T % i, stream, tag, data)).encode())
    return str(path)


def test_full_and_partial_lines(tmp_path):
    path = _write(tmp_path, [
        ("stdout", "F", "hello"),
        ("stdout", "P", "par"),
        ("stderr", "F", "err"),       # another stream in between: not part of the stdout line
        ("stdout", "P", "ti"),
        ("stdout", "F", "al"),
        ("stdout", "F", ""),          # an empty line
        ("stdout", "F", "with  two  spaces "),
    ])
    got = read_k8s_log(path)
    assert [(r["stream"], r["line"]) for r in got] == [
        ("stdout", "hello"), ("stderr", "err"), ("stdout", "partial"), ("stdout", ""),
        ("stdout", "with  two  spaces "),
    ]
    assert got[2]["time"] == T % 4  # the record that completed the line
    assert set(got[0]) == {"time", "stream", "line"}


def test_open_partial_at_end_is_returned(tmp_path):
    path = _write(tmp_path, [("stdout", "F", "a"), ("stdout", "P", "no newline "), ("stdout", "P", "yet")])
    got = read_k8s_log(path)
    assert [r["line"] for r in got] == ["a", "no newline yet"]
    assert got[-1]["time"] == T % 2


def test_tail(tmp_path):
    path = _write(tmp_path, [("stdout", "F", "line%d" % i) for i in range(10)])
    assert [r["line"] for r in read_k8s_log(path, tail=3)] == ["line7", "line8", "line9"]
    assert len(read_k8s_log(path, tail=100)) == 10
    assert read_k8s_log(path, tail=0) == []
    assert read_k8s_log(str(tmp_path / "missing.log")) == []
    assert read_k8s_log(str(tmp_path / "missing.log"), tail=5) == []


def test_garbage_and_utf8(tmp_path):
    path = tmp_path / "ctr.log"
    path.write_bytes(
        b"not a record\n"
        + (T % 1).encode() + b" stdout F caf\xc3\xa9\n"
        + (T % 2).encode() + b" stdout X bad tag\n"
        + (T % 3).encode() + b" stdout F \xff\n"
    )
    assert [r["line"] for r in read_k8s_log(str(path))] == ["café", "\ufffd"]


def test_tail_of_big_file_matches_full_read(tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "_TAIL_BLOCK", 512)  # force several backward blocks
    records = []
    for i in range(400):
        if i % 7 == 0:
            records += [("stdout", "P", "chunk%d-" % i)] * 5 + [("stdout", "F", "end%d" % i)]
        elif i % 5 == 0:
            records.append(("stderr", "F", "err%d" % i))
        else:
            records.append(("stdout", "F", "x" * (i % 50)))
    path = _write(tmp_path, records)
    full = read_k8s_log(path)
    for n in (1, 2, 5, 17, 100, 399, 400, 1000):
        assert read_k8s_log(path, tail=n) == full[-n:], n


def test_tail_long_partial_line_across_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "_TAIL_BLOCK", 256)
    records = [("stdout", "F", "first")] + [("stdout", "P", "%04d" % i) for i in range(300)] + [("stdout", "F", "!")]
    records.append(("stderr", "F", "last"))
    path = _write(tmp_path, records)
    got = read_k8s_log(path, tail=2)
    assert got[0]["line"] == "".join("%04d" % i for i in range(300)) + "!"
    assert got[1]["line"] == "last"


def test_parse_time():
    assert logs.parse_time("1970-01-01T00:00:01.5+00:00") == 1.5
    assert logs.parse_time("1970-01-01T01:00:00.000000001+01:00") == pytest.approx(1e-9)
    assert logs.parse_time("2026-11-23T11:34:57Z") == 1795433697
    with pytest.raises(ValueError):
        logs.parse_time("yesterday")


def test_parse_since_forms():
    from ansible_collections.libpod.engine.plugins.module_utils.engine.oci.logs import parse_since

    now = 1_000_000.0
    assert parse_since("10m", now) == now - 600
    assert parse_since("1h30m", now) == now - 5400
    assert parse_since("1500", now) == 1500.0
    assert parse_since("1970-01-02", now) == 86400.0
    assert parse_since("1970-01-01T00:01:00Z", now) == 60.0
    import pytest

    with pytest.raises(ValueError, match="duration"):
        parse_since("yesterday", now)
