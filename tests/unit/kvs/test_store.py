"""edgesim.kvs.store: the limits, ETag concurrency and check order every write must pass, and the
error each broken rule raises (through the service, and on the store model directly)."""

import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.errors import (
    KvsConflict,
    KvsQuotaExceeded,
    KvsValidationError,
)
from edgesim.kvs import KvsService, VirtualClock
from edgesim.kvs.importfile import item_size
from edgesim.kvs.store import (
    Store,
    check_if_match,
    make_etag,
    validate_batch,
    validate_items,
    validate_key,
    validate_name,
    validate_value,
)
from tests.unit.kvs.conftest import START


def test_key_must_be_1_to_512_utf8_bytes(kvs: KvsService) -> None:
    etag = kvs.create_store("s").etag
    etag = kvs.put_key("s", "k" * 512, "v", if_match=etag).etag
    with pytest.raises(
        KvsValidationError, match=r"'kkkk.*…': key is 513 bytes; CloudFront allows 512"
    ):
        kvs.put_key("s", "k" * 513, "v", if_match=etag)
    # The limit counts UTF-8 bytes: 171 three-byte characters are 513 bytes.
    with pytest.raises(KvsValidationError, match=r"513 bytes"):
        kvs.put_key("s", "€" * 171, "v", if_match=etag)
    with pytest.raises(KvsValidationError, match=r"empty"):
        kvs.put_key("s", "", "v", if_match=etag)
    assert kvs.describe("s").etag == etag


def test_value_may_be_at_most_1024_utf8_bytes(kvs: KvsService) -> None:
    etag = kvs.create_store("s").etag
    etag = kvs.put_key("s", "k", "v" * 1024, if_match=etag).etag
    with pytest.raises(
        KvsValidationError, match=r"key 'k'.*value is 1025 bytes; CloudFront allows 1024"
    ):
        kvs.put_key("s", "k", "v" * 1025, if_match=etag)
    assert kvs.get_key("s", "k") == "v" * 1024


def test_text_that_is_not_utf8_is_refused(kvs: KvsService) -> None:
    etag = kvs.create_store("s").etag
    with pytest.raises(KvsValidationError, match=r"not valid UTF-8"):
        kvs.put_key("s", "\ud800", "v", if_match=etag)
    with pytest.raises(KvsValidationError, match=r"not valid UTF-8"):
        kvs.update_keys("s", puts=[("k", "\udfff")], if_match=etag)


def test_writes_past_the_store_size_quota_are_refused(clock: VirtualClock) -> None:
    with KvsService(clock=clock, max_store_bytes=100) as kvs:
        etag = kvs.create_store("s", items={"a": "x" * 49}).etag  # 50 bytes
        etag = kvs.put_key("s", "b", "y" * 49, if_match=etag).etag  # exactly 100
        with pytest.raises(KvsQuotaExceeded, match=r"would hold 101 bytes.*limit is 100 bytes"):
            kvs.put_key("s", "c", "", if_match=etag)
        # Replacing a value only counts the difference.
        result = kvs.put_key("s", "b", "z" * 49, if_match=etag)
        assert (result.item_count, result.total_size) == (2, 100)
        with pytest.raises(KvsQuotaExceeded, match=r"store limit is 100 bytes"):
            kvs.create_store("t", items={"k": "v" * 100})


def test_real_store_limit_is_five_megabytes(kvs: KvsService) -> None:
    items = {f"{i:08d}": "v" * 1016 for i in range(5 * 1024)}  # 1024 bytes each: exactly 5 MB
    info = kvs.create_store("full", items=items)
    assert info.total_size == 5 * 1024 * 1024
    with pytest.raises(KvsQuotaExceeded, match=r"limit is 5242880 bytes"):
        kvs.put_key("full", "x", "", if_match=info.etag)


def test_total_size_is_utf8_bytes_of_keys_and_values(kvs: KvsService) -> None:
    info = kvs.create_store("s", items={"key1": "value1", "é": "€"})
    assert (info.item_count, info.total_size) == (2, 10 + 2 + 3)


def test_etag_changes_on_every_write_and_stale_ones_conflict(kvs: KvsService) -> None:
    first = kvs.create_store("s").etag
    assert re.fullmatch("KV[A-Z0-9]{13}", first)
    second = kvs.put_key("s", "k", "v", if_match=first).etag
    third = kvs.put_key("s", "k", "v", if_match=second).etag  # same value: still a new version
    assert len({first, second, third}) == 3
    with pytest.raises(KvsConflict, match=r"If-Match 'KV.*does not match the current ETag"):
        kvs.put_key("s", "k", "w", if_match=second)
    with pytest.raises(KvsConflict):
        kvs.delete_key("s", "k", if_match=r"KVNOTANETAG")
    with pytest.raises(KvsValidationError, match=r"If-Match is required"):
        kvs.update_keys("s", puts=[("a", "b")], if_match=r"")
    assert kvs.get_key("s", "k") == "v"
    assert kvs.describe("s").etag == third


def test_an_etag_from_another_store_conflicts(kvs: KvsService) -> None:
    a = kvs.create_store("a").etag
    b = kvs.create_store("b").etag
    assert a != b
    with pytest.raises(KvsConflict):
        kvs.put_key("a", "k", "v", if_match=b)


def test_validation_comes_before_if_match_and_quota(clock: VirtualClock) -> None:
    with KvsService(clock=clock, max_store_bytes=10) as kvs:
        kvs.create_store("s")
        with pytest.raises(KvsValidationError):
            kvs.put_key("s", "k" * 600, "v", if_match=r"stale")
        with pytest.raises(KvsConflict):
            kvs.put_key("s", "k", "v" * 50, if_match=r"stale")


def test_update_keys_allows_at_most_50_operations(kvs: KvsService) -> None:
    etag = kvs.create_store("s").etag
    puts = [(f"k{i}", "v") for i in range(30)]
    deletes = [f"d{i}" for i in range(20)]
    etag = kvs.update_keys("s", puts=puts, deletes=deletes, if_match=etag).etag
    with pytest.raises(KvsValidationError, match=r"51 operations; the limit is 50"):
        kvs.update_keys("s", puts=[*puts, ("x", "y")], deletes=deletes, if_match=etag)
    assert kvs.describe("s").item_count == 30


def test_update_keys_over_3_mb_of_keys_and_values_is_refused(kvs: KvsService) -> None:
    etag = kvs.create_store("s").etag
    big = "v" * (1024 * 1024)
    with pytest.raises(KvsValidationError, match=r"3145734 bytes.*limit is 3145728"):
        kvs.update_keys("s", puts=[("ab", big), ("cd", big), ("ef", big)], if_match=etag)


@pytest.mark.parametrize(
    ("puts", "deletes", "message"),
    [
        ([("a", "1"), ("a", "2")], [], "'a' appears twice in Puts"),
        ([], ["a", "a"], "'a' appears twice in Deletes"),
        ([("a", "1")], ["a"], "'a' is in both Puts and Deletes"),
        ([], [], "at least one put or delete"),
        ([("ok", "1")], ["k" * 513], "513 bytes"),
        ([("ok", "1"), ("k", "v" * 1025)], [], "value is 1025 bytes"),
    ],
)
def test_malformed_batches_are_refused_and_change_nothing(
    kvs: KvsService, puts: list[tuple[str, str]], deletes: list[str], message: str
) -> None:
    etag = kvs.create_store("s", items={"a": "0"}).etag
    with pytest.raises(KvsValidationError) as info:
        kvs.update_keys("s", puts=puts, deletes=deletes, if_match=etag)
    assert message in str(info.value)
    assert kvs.export("s") == {"a": "0"}
    assert kvs.describe("s").etag == etag


def test_batch_is_all_or_nothing_on_quota(clock: VirtualClock) -> None:
    with KvsService(clock=clock, max_store_bytes=20) as kvs:
        etag = kvs.create_store("s", items={"a": "1"}).etag
        with pytest.raises(KvsQuotaExceeded):
            kvs.update_keys("s", puts=[("b", "2"), ("c", "x" * 30)], deletes=["a"], if_match=etag)
        assert kvs.export("s") == {"a": "1"}
        assert kvs.describe("s").etag == etag
        # Deletes in the same batch make room: the quota applies to the result.
        result = kvs.update_keys("s", puts=[("c", "x" * 18)], deletes=["a"], if_match=etag)
        assert (result.item_count, result.total_size) == (1, 19)


def test_delete_of_absent_key_is_a_successful_write(kvs: KvsService) -> None:
    etag = kvs.create_store("s", items={"a": "1"}).etag
    result = kvs.delete_key("s", "missing", if_match=etag)
    assert result.etag != etag
    assert (result.item_count, result.total_size) == (1, 2)


# -- the store model and its checks, without the service -------------------------------------


def make_store(items: dict[str, str] | None = None) -> Store:
    data = dict(items or {})
    return Store(
        id="store-1",
        name="s",
        comment="",
        created=START,
        last_modified=START,
        etag=make_etag("store-1", 1),
        version=1,
        items=data,
        total_size=sum(item_size(k, v) for k, v in data.items()),
    )


def test_etag_is_kv_plus_13_base32_characters_fixed_by_store_and_version() -> None:
    etag = make_etag("store-1", 1)
    assert re.fullmatch(r"KV[A-Z2-7]{13}", etag)
    assert make_etag("store-1", 1) == etag
    assert len({etag, make_etag("store-1", 2), make_etag("store-2", 1)}) == 3


def test_plan_computes_the_next_version_and_apply_makes_it_current() -> None:
    store = make_store({"a": "1", "b": "22"})
    later = START + timedelta(seconds=5)
    change = store.plan({"a": "111", "c": "3"}, ["b", "absent"], when=later, max_bytes=100)
    assert (change.version, change.etag, change.last_modified) == (
        2,
        make_etag("store-1", 2),
        later,
    )
    assert (dict(change.puts), change.deletes) == ({"a": "111", "c": "3"}, ("b",))
    # Planning alone changes nothing: a refused commit must leave the store as it was.
    assert (store.items, store.total_size, store.version) == ({"a": "1", "b": "22"}, 5, 1)
    store.apply(change)
    assert (store.items, store.total_size, store.version, store.etag) == (
        {"a": "111", "c": "3"},
        6,
        2,
        change.etag,
    )
    assert store.last_modified == later


def test_plan_over_the_quota_names_the_store_and_both_sizes() -> None:
    store = make_store({"a": "1"})
    with pytest.raises(
        KvsQuotaExceeded, match=r"store 's' would hold 12 bytes of keys and values; the limit is 10"
    ):
        store.plan({"b": "x" * 9}, [], when=START, max_bytes=10)
    assert store.items == {"a": "1"}


KEYS = st.text(st.characters(codec="utf-8"), min_size=1, max_size=4)
VALUES = st.text(st.characters(codec="utf-8"), max_size=6)


@given(
    st.lists(
        st.tuples(st.dictionaries(KEYS, VALUES, max_size=4), st.lists(KEYS, max_size=3)),
        max_size=8,
    )
)
def test_total_size_always_equals_the_utf8_bytes_of_the_items(
    writes: list[tuple[dict[str, str], list[str]]],
) -> None:
    store = make_store()
    expected: dict[str, str] = {}
    for puts, deletes in writes:
        deletes = [k for k in deletes if k not in puts]
        store.apply(store.plan(puts, deletes, when=START, max_bytes=10**9))
        for key in deletes:
            expected.pop(key, None)
        expected.update(puts)
        assert store.items == expected
        assert store.total_size == sum(item_size(k, v) for k, v in expected.items())
    assert store.version == len(writes) + 1


@pytest.mark.parametrize("name", ["a", "My_Store-01", "x" * 64])
def test_names_of_1_to_64_letters_digits_dashes_and_underscores_are_valid(name: str) -> None:
    validate_name(name)


def test_keys_and_values_that_are_not_strings_name_the_type() -> None:
    with pytest.raises(KvsValidationError, match=r"store name None is invalid"):
        validate_name(None)  # type: ignore[arg-type]
    with pytest.raises(KvsValidationError, match=r"^key must be a string, got int$"):
        validate_key(5)  # type: ignore[arg-type]
    with pytest.raises(KvsValidationError, match=r"value of key 'k' must be a string, got bytes"):
        validate_value("k", b"v")  # type: ignore[arg-type]


def test_long_keys_are_shortened_to_40_characters_in_messages() -> None:
    with pytest.raises(KvsValidationError) as info:
        validate_value("k" * 100, "v" * 1025)
    assert f"key '{'k' * 40}…'" in str(info.value)
    assert "k" * 41 not in str(info.value)


def test_initial_items_over_the_quota_give_count_and_size() -> None:
    assert validate_items({"ab": "cd", "é": ""}, max_bytes=6) == 6
    with pytest.raises(
        KvsQuotaExceeded, match=r"2 items take 7 bytes of keys and values; the store limit is 6"
    ):
        validate_items({"ab": "cd", "e": "fg"}, max_bytes=6)


def test_validate_batch_returns_the_puts_in_request_order() -> None:
    mapping = validate_batch([("b", "1"), ("a", "2")], ["c"])
    assert list(mapping.items()) == [("b", "1"), ("a", "2")]


def test_if_match_conflict_gives_the_current_etag_and_what_to_do() -> None:
    store = make_store()
    check_if_match(store, store.etag)
    with pytest.raises(KvsConflict) as info:
        check_if_match(store, "KVOLD")
    assert f"current ETag of store 's' ({store.etag})" in str(info.value)
    assert "describe the store and retry" in str(info.value)
