"""Diff and batching behind `edgesim kvs diff/apply/import`."""

from __future__ import annotations

from edgesim.controlplane.plan import batches, compute_plan


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


def test_next_landing_is_the_soonest_not_the_lowest_version() -> None:
    from edgesim.controlplane.stores_api import pop_json
    from edgesim.kvs.replicas import PopStatus

    status = PopStatus(pop="FRA", version=1, etag="KV1", pending=((2, 8.444), (3, 7.58)))
    assert pop_json(status, "KV3")["next_in_seconds"] == 7.58
