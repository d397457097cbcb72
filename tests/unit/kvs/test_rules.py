"""Limits, ETag concurrency and the error each broken rule raises."""

import re

import pytest

from edgesim.errors import (
    KvsApiError,
    KvsConflict,
    KvsNotFound,
    KvsQuotaExceeded,
    KvsValidationError,
)
from edgesim.kvs import KvsService, VirtualClock


def test_error_classes_carry_code_and_status() -> None:
    for cls, code, status in [
        (KvsValidationError, "ValidationException", 400),
        (KvsQuotaExceeded, "ServiceQuotaExceededException", 402),
        (KvsNotFound, "ResourceNotFoundException", 404),
        (KvsConflict, "ConflictException", 409),
    ]:
        exc = cls("the message")
        assert isinstance(exc, KvsApiError)
        assert (exc.code, exc.status, exc.message, str(exc)) == (
            code,
            status,
            "the message",
            "the message",
        )


def test_key_length_limits(kvs: KvsService) -> None:
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


def test_value_length_limit(kvs: KvsService) -> None:
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


def test_store_size_quota(clock: VirtualClock) -> None:
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


def test_etags_are_per_store(kvs: KvsService) -> None:
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


def test_batch_operation_limit(kvs: KvsService) -> None:
    etag = kvs.create_store("s").etag
    puts = [(f"k{i}", "v") for i in range(30)]
    deletes = [f"d{i}" for i in range(20)]
    etag = kvs.update_keys("s", puts=puts, deletes=deletes, if_match=etag).etag
    with pytest.raises(KvsValidationError, match=r"51 operations; the limit is 50"):
        kvs.update_keys("s", puts=[*puts, ("x", "y")], deletes=deletes, if_match=etag)
    assert kvs.describe("s").item_count == 30


def test_batch_payload_limit(kvs: KvsService) -> None:
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
def test_batch_shape_errors(
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


def test_get_key_missing_and_invalid(kvs: KvsService) -> None:
    kvs.create_store("s")
    with pytest.raises(KvsNotFound, match=r"key 'nope' does not exist in store 's'"):
        kvs.get_key("s", "nope")
    with pytest.raises(KvsValidationError):
        kvs.get_key("s", "")
