"""edgesim.kvs.importfile: CloudFront's KVS import format, its limits, and the messages that say
which entry of which file broke which rule."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim import limits
from edgesim.errors import InputError, KvsImportError
from edgesim.kvs.importfile import (
    dump_import,
    item_size,
    load_import_file,
    parse_import,
    validate_import,
)

ROOT = Path(__file__).resolve().parents[3]


def doc(*entries: object) -> bytes:
    return orjson.dumps({"data": list(entries)})


def test_items_come_back_in_file_order_from_bytes_or_text() -> None:
    raw = doc({"key": "b", "value": "2"}, {"key": "a", "value": ""}, {"key": "é", "value": "€"})
    items = parse_import(raw)
    assert list(items.items()) == [("b", "2"), ("a", ""), ("é", "€")]
    assert parse_import(raw.decode()) == items
    assert parse_import(doc()) == {}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{", "seed.json: not valid JSON"),
        (b"[]", 'seed.json: expected an object {"data": [{"key": …, "value": …}]}'),
        (b'{"items": []}', "seed.json: expected an object"),
        (b'{"data": {}}', "seed.json: expected an object"),
        (b'{"data": [], "version": 1}', "seed.json: unknown top-level key 'version'"),
        (doc("k"), 'seed.json: data[0]: expected exactly {"key": …, "value": …}'),
        (doc({"key": "k"}), "seed.json: data[0]: expected exactly"),
        (doc({"key": "k", "value": "v", "ttl": 1}), "seed.json: data[0]: expected exactly"),
        (doc({"key": "k", "value": 1}), "seed.json: data[0]: key and value must be strings"),
        (doc({"key": "", "value": "v"}), "seed.json: data[0]: the key is empty"),
        (
            doc({"key": "a", "value": "1"}, {"key": "a", "value": "2"}),
            "seed.json: data[1]: duplicate key 'a'",
        ),
        (
            doc({"key": "k" * 513, "value": "v"}),
            "seed.json: data[0]: key is 513 bytes; CloudFront allows 512",
        ),
        (
            doc({"key": "k", "value": "€" * 342}),
            "seed.json: data[0]: value is 1026 bytes; CloudFront allows 1024",
        ),
    ],
)
def test_each_broken_rule_names_the_file_and_entry(raw: bytes, message: str) -> None:
    with pytest.raises(KvsImportError) as info:
        parse_import(raw, source="seed.json")
    assert message in str(info.value)


def test_largest_key_and_value_are_accepted() -> None:
    key, value = "k" * limits.KVS_MAX_KEY_BYTES, "v" * limits.KVS_MAX_VALUE_BYTES
    assert parse_import(doc({"key": key, "value": value})) == {key: value}


def test_whole_file_may_hold_5_mb_of_keys_and_values_and_no_more() -> None:
    data = [{"key": f"{i:08d}", "value": "v" * 1016} for i in range(5 * 1024)]  # 1 KB each
    assert len(validate_import({"data": data})) == 5 * 1024
    data[0]["value"] += "v"
    with pytest.raises(
        KvsImportError, match=r"<import>: 5242881 bytes of keys and values exceed the store limit"
    ):
        validate_import({"data": data})


def test_size_is_counted_in_utf8_bytes() -> None:
    assert item_size("é", "€") == 2 + 3
    assert item_size("k", "") == 1


def test_an_import_error_is_an_input_error() -> None:
    # Callers (the CLI, the pytest plugin) report InputError as bad input, exit code 2.
    with pytest.raises(InputError):
        parse_import(b"nope")


def test_load_reads_a_file_and_names_it_in_errors(tmp_path: Path) -> None:
    items = load_import_file(ROOT / "fixtures" / "kvs" / "ab_cohort.json")
    assert items["kill-switch"] == "off"
    bad = tmp_path / "bad.json"
    bad.write_bytes(doc({"key": "", "value": "v"}))
    with pytest.raises(KvsImportError, match=rf"^{bad}: data\[0\]: the key is empty$"):
        load_import_file(str(bad))


def test_a_missing_file_says_it_cannot_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(
        KvsImportError, match=rf"{missing}: cannot read the KVS file: No such file or directory"
    ):
        load_import_file(missing)


def test_dump_writes_the_import_format() -> None:
    dumped = dump_import({"b": "2", "a": "1"})
    assert orjson.loads(dumped) == {
        "data": [{"key": "b", "value": "2"}, {"key": "a", "value": "1"}]
    }
    assert dumped.startswith(b'{\n  "data"')  # indented, for diffs and review


TEXT = st.characters(codec="utf-8")


@given(
    st.dictionaries(st.text(TEXT, min_size=1, max_size=20), st.text(TEXT, max_size=40), max_size=20)
)
def test_dump_then_parse_gives_the_same_items_in_the_same_order(items: dict[str, str]) -> None:
    assert list(parse_import(dump_import(items)).items()) == list(items.items())
