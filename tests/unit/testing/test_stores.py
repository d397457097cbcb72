"""edgesim.testing.stores: ``ReplicatedKvs`` (one store, per-POP replicas, a clock the test moves)
and ``FaultyKvs`` (a reader broken in one of the ways real stores break)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim import limits
from edgesim.errors import KvsValidationError
from edgesim.kvs.propagation import FixedLag, PerPopLag
from edgesim.kvs.reader import StaticKvs
from edgesim.testing import FAULTS, FaultyKvs, ReplicatedKvs

# -- ReplicatedKvs -----------------------------------------------------------------------------


def test_initial_items_are_at_every_pop_at_once() -> None:
    with ReplicatedKvs({"k": "v"}) as kvs:
        assert kvs.pops == ("IAD", "FRA", "NRT")
        assert [kvs.replica(p).get("k") for p in kvs.pops] == ["v", "v", "v"]
        assert kvs.service.describe("test-store").item_count == 1


def test_writes_land_at_each_pop_only_when_the_clock_passes_the_lag() -> None:
    lag = PerPopLag({"NRT": 10.0}, FixedLag(1.0))
    with ReplicatedKvs({"k": "old", "gone": "x"}, pops=("IAD", "NRT"), lag=lag) as kvs:
        kvs.put("k", "new")
        kvs.delete("gone")
        assert kvs.items() == {"k": "new"}  # the primary has it at once
        assert kvs.replica("IAD").get("k") == "old"
        kvs.advance(1)
        assert (kvs.replica("IAD").get("k"), kvs.replica("IAD").get("gone")) == ("new", None)
        assert kvs.replica("NRT").get("k") == "old"
        kvs.advance(9)
        assert kvs.replica("NRT").get("gone") is None


def test_update_applies_puts_and_deletes_as_one_write() -> None:
    with ReplicatedKvs({"a": "1", "b": "2"}, lag=0) as kvs:
        kvs.update({"c": "3"}, ["a"])
        assert kvs.items() == {"b": "2", "c": "3"}
        assert kvs.replica("FRA").get("a") is None


def test_settle_advances_only_as_far_as_the_longest_lag() -> None:
    with ReplicatedKvs({"k": "0"}, pops=("IAD", "FRA", "NRT"), lag=2.0) as kvs:
        for i in range(10):
            kvs.put("k", str(i))
        before = kvs.clock.monotonic()
        kvs.settle()
        assert kvs.clock.monotonic() - before == pytest.approx(2.0, abs=1e-3)
        assert {kvs.replica(p).get("k") for p in kvs.pops} == {"9"}


def test_settle_with_nothing_in_flight_leaves_the_clock_alone() -> None:
    with ReplicatedKvs({"k": "0"}) as kvs:
        before = kvs.clock.monotonic()
        kvs.settle()
        assert kvs.clock.monotonic() == before


def test_a_closed_store_refuses_writes() -> None:
    with ReplicatedKvs({"k": "v"}) as kvs:
        pass
    with pytest.raises(Exception, match="closed"):
        kvs.put("k", "w")


def test_writes_are_checked_against_cloudfronts_limits() -> None:
    with ReplicatedKvs() as kvs, pytest.raises(KvsValidationError, match="value is 1025 bytes"):
        kvs.put("k", "v" * 1025)


# -- FaultyKvs ---------------------------------------------------------------------------------


def test_misspelt_fault_fails_where_it_is_written() -> None:
    with pytest.raises(ValueError, match="unknown KVS fault 'missing_key'"):
        FaultyKvs(None, "missing_key")  # type: ignore[arg-type]


def test_each_fault_gives_the_value_its_name_promises() -> None:
    base = StaticKvs({"k": '{"ok": true}'})
    got = {fault: FaultyKvs(base, fault).get("k") for fault in FAULTS if fault != "not-associated"}
    assert got["missing-key"] is None
    assert got["empty"] == ""
    assert json.loads(got["wrong-type"] or "") == 42  # a number where an object is stored
    assert got["value-at-limit"] == "x" * limits.KVS_MAX_VALUE_BYTES
    with pytest.raises(json.JSONDecodeError):
        json.loads(got["malformed-json"] or "")


@pytest.mark.parametrize(
    ("stored", "injected"),
    [
        ("5", "wrong-type"),  # a number gets a string that Number() cannot make a number of
        ("-2.5e3", "wrong-type"),
        ('"5"', 42),
        ('{"a": 1}', 42),
        ("[1, 2]", 42),
        ("true", 42),
        ("null", 42),
        ("plain text", 42),  # not JSON at all
        ("NaN", 42),  # Python's json reads it, JSON.parse does not
        ("", 42),
    ],
)
def test_wrong_type_is_valid_json_of_another_type_than_the_stored_value(
    stored: str, injected: object
) -> None:
    faulty = FaultyKvs(StaticKvs({"k": stored}), "wrong-type")
    value = faulty.get("k")
    assert json.loads(value or "") == injected
    assert faulty.get("k") == value  # the same every time


def test_wrong_type_without_a_stored_value_is_a_number() -> None:
    assert FaultyKvs(None, "wrong-type").get("k") == "42"
    assert FaultyKvs(StaticKvs({}), "wrong-type").get("k") == "42"


def test_a_fault_limited_to_some_keys_lets_the_others_through() -> None:
    base = StaticKvs({"hit": "1", "other": "2"})
    faulty = FaultyKvs(base, "missing-key", frozenset({"hit"}))
    assert (faulty.get("hit"), faulty.get("other")) == (None, "2")
    assert (faulty.store_id, faulty.arn, faulty.meta()) == (base.store_id, base.arn, base.meta())


def test_one_key_given_as_a_string_is_one_key_not_its_letters() -> None:
    faulty = FaultyKvs(StaticKvs({"ab": "1", "a": "2"}), "empty", "ab")  # type: ignore[arg-type]
    assert (faulty.get("ab"), faulty.get("a")) == ("", "2")


def test_a_fault_without_a_store_behind_it_has_no_identity() -> None:
    faulty = FaultyKvs(None, "missing-key", frozenset({"k"}))
    assert faulty.store_id == "00000000-0000-0000-0000-000000000000"
    assert (faulty.arn, faulty.meta(), faulty.get("other")) == ("", {}, None)


@given(
    st.dictionaries(st.text(min_size=1, max_size=5), st.text(max_size=5), max_size=6),
    st.sampled_from([f for f in FAULTS if f != "not-associated"]),
    st.frozensets(st.text(min_size=1, max_size=5), max_size=3),
)
def test_keys_outside_the_fault_read_as_the_store_has_them(
    items: dict[str, str], fault: str, keys: frozenset[str]
) -> None:
    faulty = FaultyKvs(StaticKvs(items), fault, keys)  # type: ignore[arg-type]
    for key, value in items.items():
        if keys and key not in keys:
            assert faulty.get(key) == value
