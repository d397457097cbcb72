"""edgesim.controlplane.plan: the diff and the batching behind `edgesim kvs diff/apply/import`."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from edgesim.controlplane.plan import batches, compute_plan, size_after


def test_plan_sorts_keys_into_add_change_remove() -> None:
    live = {"same": "1", "old": "x", "gone": "g"}
    desired = {"same": "1", "old": "y", "new": "n"}
    plan = compute_plan(live, desired, prune=False)
    assert plan.added == {"new": "n"}
    assert plan.changed == {"old": ("x", "y")}
    assert plan.removed == {"gone": "g"}
    assert plan.unchanged == 1
    assert plan.puts == {"new": "n", "old": "y"}
    assert plan.deletes == []  # not without prune
    assert compute_plan(live, desired, prune=True).deletes == ["gone"]


def test_identical_sets_make_an_empty_plan() -> None:
    assert compute_plan({"a": "1"}, {"a": "1"}, prune=True).empty
    assert compute_plan({"a": "1"}, {}, prune=False).empty
    assert not compute_plan({"a": "1"}, {}, prune=True).empty


def test_batches_hold_at_most_50_operations_deletes_first() -> None:
    puts = {f"k{i:03}": "v" for i in range(120)}
    deletes = [f"d{i}" for i in range(10)]
    out = batches(puts, deletes)
    assert [len(b) for b in out] == [50, 50, 30]
    assert out[0].deletes == deletes
    assert len(out[0].puts) == 40
    sent = [k for b in out for k, _ in b.puts]
    assert sent == list(puts)


def test_batches_respect_the_byte_limit() -> None:
    puts = {f"k{i}": "v" * 98 for i in range(10)}  # 100 bytes each
    out = batches(puts, max_bytes=250)
    assert [len(b) for b in out] == [2, 2, 2, 2, 2]
    assert all(b.size <= 250 for b in out)


def test_an_item_larger_than_the_limit_still_gets_a_batch() -> None:
    out = batches({"big": "x" * 500, "small": "y"}, max_bytes=100)
    assert [[k for k, _ in b.puts] for b in out] == [["big"], ["small"]]


def test_batch_body_is_the_update_keys_shape() -> None:
    (batch,) = batches({"a": "1"}, ["b"])
    assert batch.body() == {"Puts": [{"Key": "a", "Value": "1"}], "Deletes": [{"Key": "b"}]}
    assert batches({}) == []


def test_size_after_counts_the_store_once_the_plan_is_applied() -> None:
    live = {"a": "1", "old": "xx"}
    desired = {"a": "111", "new": "€"}
    assert size_after(live, compute_plan(live, desired, prune=False)) == 4 + 5 + 6
    assert size_after(live, compute_plan(live, desired, prune=True)) == 4 + 6


TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=6)
DATA = st.dictionaries(TEXT, st.text(st.characters(codec="utf-8"), max_size=6), max_size=12)


@given(DATA, DATA, st.booleans())
def test_applying_a_plan_gives_the_desired_keys(
    live: dict[str, str], desired: dict[str, str], prune: bool
) -> None:
    plan = compute_plan(live, desired, prune=prune)
    result = {k: v for k, v in live.items() if k not in plan.deletes}
    result.update(plan.puts)
    kept = {} if prune else {k: v for k, v in live.items() if k not in desired}
    assert result == {**kept, **desired}
    assert plan.unchanged + len(plan.added) + len(plan.changed) == len(desired)
    assert plan.empty == (result == live)


@given(DATA, st.lists(TEXT, max_size=12, unique=True), st.integers(1, 7), st.integers(1, 40))
def test_batches_send_every_operation_once_in_order_within_the_limits(
    puts: dict[str, str], deletes: list[str], max_ops: int, max_bytes: int
) -> None:
    out = batches(puts, deletes, max_ops=max_ops, max_bytes=max_bytes)
    assert [k for b in out for k in b.deletes] == deletes
    assert [kv for b in out for kv in b.puts] == list(puts.items())
    for batch in out:
        assert 1 <= len(batch) <= max_ops
        # Only a single operation larger than the limit may make a batch go over it.
        assert batch.size <= max_bytes or len(batch) == 1
