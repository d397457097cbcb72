"""edgesim.kvs.reader: the read side a function sees (``StaticKvs``), store ARNs, and the
timestamp format of ``handle.meta()``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from edgesim.kvs.reader import ACCOUNT_ID, StaticKvs, iso_millis, store_arn


def test_store_arn_is_a_cloudfront_key_value_store_arn_of_the_local_account() -> None:
    assert store_arn("abc") == f"arn:aws:cloudfront::{ACCOUNT_ID}:key-value-store/abc"
    assert ACCOUNT_ID == "123456789012"


def test_iso_millis_is_utc_with_milliseconds_truncated_not_rounded() -> None:
    moment = datetime(2025, 1, 2, 12, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=2)))
    assert iso_millis(moment) == "2025-01-02T10:00:00.999Z"
    assert iso_millis(datetime(2025, 1, 2, tzinfo=UTC)) == "2025-01-02T00:00:00.000Z"


def test_static_kvs_answers_from_its_items_and_none_for_absent_keys() -> None:
    kvs = StaticKvs({"a": "1", "empty": ""})
    assert (kvs.get("a"), kvs.get("empty"), kvs.get("missing")) == ("1", "", None)


def test_static_kvs_meta_counts_keys_and_reports_its_creation_time_twice() -> None:
    created = datetime(2025, 3, 4, 5, 6, 7, 890_123, tzinfo=UTC)
    kvs = StaticKvs({"a": "1", "b": "2"}, created=created)
    assert kvs.meta() == {
        "creationDateTime": "2025-03-04T05:06:07.890Z",
        "lastUpdatedDateTime": "2025-03-04T05:06:07.890Z",
        "keyCount": 2,
    }


def test_each_static_kvs_gets_its_own_id_and_matching_arn() -> None:
    first, second = StaticKvs({}), StaticKvs({})
    assert first.store_id != second.store_id
    assert re.fullmatch(r"[0-9a-f-]{36}", first.store_id)
    assert first.arn == store_arn(first.store_id)
    assert (first.name, StaticKvs({}, name="flags").name) == ("local", "flags")
