"""The recorded-traffic format: what is written is read back unchanged, the header line is
required, and a broken line is refused with its file:line and the reason."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim.errors import InputError
from edgesim.rehearse.traffic import (
    OriginStub,
    TrafficRecord,
    from_row,
    header_line,
    is_traffic_file,
    iter_traffic,
    read_traffic,
    record_line,
    to_row,
    write_traffic,
)

_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
_name = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
_headers = st.lists(st.tuples(_name, _text), max_size=5)
records = st.builds(
    TrafficRecord,
    method=st.sampled_from(["GET", "POST", "HEAD", "DELETE"]),
    uri=_text.map(lambda t: "/" + t),
    query=st.none() | _text,
    headers=_headers,
    ip=st.sampled_from(["203.0.113.9", "2001:db8::1"]),
    port=st.integers(0, 65535),
    scheme=st.sampled_from(["http", "https"]),
    http_version=st.sampled_from(["1.0", "1.1", "2.0"]),
    country=st.none() | st.sampled_from(["DE", "US"]),
    pop=st.none() | st.sampled_from(["IAD", "FRA50-C1"]),
    time_ms=st.integers(0, 2**45).map(float),
    body=st.none() | st.binary(max_size=30),
    has_body=st.booleans(),
    origin=st.none() | st.builds(OriginStub, st.integers(100, 599), _headers),
)


@settings(max_examples=150)
@given(st.lists(records, max_size=5))
def test_records_read_back_as_written(batch: list[TrafficRecord]) -> None:
    data = header_line(created_ms=0, body_limit=64) + b"".join(record_line(r) for r in batch)
    assert list(iter_traffic(io.BytesIO(data), source="t")) == batch


@settings(max_examples=150)
@given(records)
def test_a_record_sent_to_a_worker_as_a_row_comes_back_the_same(record: TrafficRecord) -> None:
    import pickle

    assert from_row(pickle.loads(pickle.dumps(to_row(record)))) == record


def test_write_and_read_a_file(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    record = TrafficRecord("GET", "/a", "x=1", [("host", "h"), ("cookie", "uid=1")], pop="IAD")
    write_traffic(path, [record, record])
    assert is_traffic_file(path)
    assert read_traffic(path) == [record, record]
    assert path.read_text().splitlines()[0].startswith('{"format":"edgesim-traffic","version":1')


def _read(text: str) -> list[TrafficRecord]:
    return list(iter_traffic(io.BytesIO(text.encode()), source="t.jsonl"))


HEADER = '{"format": "edgesim-traffic", "version": 1}\n'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", r"t.jsonl: empty file"),
        ('{"method": "GET", "uri": "/"}\n', r"t.jsonl:1: the first line must be the header"),
        ('{"format": "edgesim-traffic", "version": 9}\n', r"t.jsonl:1: .*version 9 is not"),
        (HEADER + "{nope\n", r"t.jsonl:2: not valid JSON"),
        (HEADER + '{"uri": "/"}\n', r"t.jsonl:2: 'method' is missing"),
        (HEADER + '{"method": "GET", "uri": "x"}\n', r"t.jsonl:2: 'uri' must be a path"),
        (HEADER + '{"method": "GET", "uri": "/", "headers": [["a"]]}\n', r"'headers'\[0\]"),
        (HEADER + '{"method": "GET", "uri": "/", "time_ms": "x"}\n', r"'time_ms' must be"),
        (HEADER + '{"method": "GET", "uri": "/", "origin": {"status": 99}}\n', r"origin.status"),
        (HEADER + '{"method": "GET", "uri": "/", "body": "!!"}\n', r"'body' is not valid base64"),
        (HEADER + "[1]\n", r"t.jsonl:2: expected a JSON object"),
    ],
)
def test_broken_input_names_the_line_and_the_problem(body: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        _read(body)


def test_blank_lines_and_unknown_keys_are_ignored() -> None:
    text = HEADER + "\n" + '{"method": "GET", "uri": "/a", "future": 1}\n\n'
    (record,) = _read(text)
    assert record.target == "/a"
    assert record.headers == []
    assert record.scheme == "https"
