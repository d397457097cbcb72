"""The cache every ``serve --workers N`` process shares (edgesim.workers.shared_cache).

First, everything the one-process cache promises (the HttpCache tests, run against a
SharedCache); then what only sharing adds: two handles on one directory (as two workers have)
see each other's entries, LRU order, budgets, invalidations and counts, once."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim.edge.cache import HttpCache
from edgesim.workers.shared_cache import TOUCH_DELAY_S, SharedCache, create_directory
from tests.unit.edge.test_cache import (  # noqa: F401 (collected again, on a SharedCache)
    Clock,
    decision,
    put,
    read,
    spill_files,
    test_abort_discards_and_removes_spill_file,
    test_body_above_threshold_spills_and_reads_back_identically,
    test_body_exactly_at_threshold_stays_in_memory,
    test_discard,
    test_dropped_reader_closes_its_file,
    test_empty_body,
    test_invalidate_everything,
    test_invalidation_abandons_fills_in_progress,
    test_invalidation_patterns,
    test_invalidation_removes_every_variant_of_a_path,
    test_lru_eviction_by_disk_budget_removes_files,
    test_lru_eviction_by_memory,
    test_non_ascii_pattern_matches_encoded_path,
    test_nothing_visible_before_commit,
    test_objects_lists_what_is_stored_without_touching_recency,
    test_reader_survives_eviction_of_its_entry,
    test_refresh_restarts_lifetime,
    test_replacing_an_entry_frees_the_old_body,
    test_spilled_bodies_do_not_count_against_memory,
    test_strip_headers_from_decision,
    test_unfinished_reader_can_be_closed,
    test_write_after_commit_is_an_error,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def shared(directory: Path, clock: Clock, *, owner: bool, **limits: int) -> SharedCache:
    return SharedCache(
        directory,
        owner=owner,
        clock=clock,
        memory_limit_bytes=limits.get("memory", 1_000),
        disk_limit_bytes=limits.get("disk", 10_000),
        spill_threshold_bytes=100,
        count_entry_overhead=False,
    )


@pytest.fixture
def cache(clock: Clock) -> Iterator[HttpCache]:
    """The one-process tests' cache: a SharedCache with their budgets."""
    c = shared(create_directory(), clock, owner=True)
    yield c
    c.close()


@pytest.fixture
def pair(clock: Clock) -> Iterator[tuple[SharedCache, SharedCache]]:
    """The control process's handle (owner) and a worker's, on one directory."""
    owner = shared(create_directory(), clock, owner=True)
    worker = shared(owner.directory, clock, owner=False)
    yield owner, worker
    worker.close()
    owner.close()


def test_an_entry_stored_by_one_process_is_a_hit_in_the_other(
    pair: tuple[SharedCache, SharedCache],
) -> None:
    a, b = pair
    assert b.lookup("IAD|/page") is None
    put(a, "IAD|/page", b"small body")
    put(a, "IAD|/big", os.urandom(1_000))  # spilled to the shared directory
    small, big = b.lookup("IAD|/page"), b.lookup("IAD|/big")
    assert small is not None
    assert big is not None
    assert read(small) == b"small body"
    assert big.spilled
    assert len(read(big)) == 1_000
    assert small.headers == [("content-type", "text/plain")]
    assert a.stats()["entries"] == b.stats()["entries"] == len(a) == 2
    assert "IAD|/page" in b
    assert "IAD|/nope" not in b


def test_recency_is_shared_a_hit_in_one_process_protects_the_entry_everywhere(
    pair: tuple[SharedCache, SharedCache],
) -> None:
    a, b = pair
    for name in "abcdefghij":  # the 1,000-byte budget, full
        put(a if name < "f" else b, f"/{name}", b"x" * 100)
    assert b.lookup("/a") is not None  # /a most recently used, by the other process
    put(a, "/k", b"x" * 100)
    assert a.lookup("/b") is None  # /b was the least recently used
    assert b.lookup("/a") is not None
    stats = b.stats()
    assert stats["evictions"] == 1
    assert stats["memory_bytes"] == 1_000  # the budget applies once, not per process


def test_a_reader_keeps_a_spilled_body_another_process_evicts(
    pair: tuple[SharedCache, SharedCache],
) -> None:
    a, b = pair
    body = os.urandom(900)
    put(a, "/big", body)
    found = b.lookup("/big")
    assert found is not None
    assert a.invalidate("/big") == 1  # the file is deleted...
    assert spill_files(a) == []
    assert read(found) == body  # ...but the reader opened it at lookup


def test_invalidation_counts_each_entry_once_and_aborts_only_its_own_writers(
    pair: tuple[SharedCache, SharedCache],
) -> None:
    a, b = pair
    put(a, "/img/1", b"1")
    put(b, "/img/2", b"2")
    filling = b.begin("/img/3", status=200, headers=[], decision=decision(), path="/img/3")
    filling.write(b"3")
    assert a.invalidate("/img/*") == 2
    # The worker is told too (serve sends it every invalidation): its fill is abandoned, and
    # nothing is left to count twice.
    assert b.invalidate("/img/*") == 0
    assert filling.commit() is None
    assert a.stats()["invalidated"] == 2
    assert len(b) == 0


def test_refresh_in_one_process_restarts_the_lifetime_everywhere(
    pair: tuple[SharedCache, SharedCache], clock: Clock
) -> None:
    a, b = pair
    put(a, "/r", b"body", ttl=10)
    clock.now += 20
    stale = b.lookup("/r")
    assert stale is not None
    assert not stale.is_fresh(clock.now)
    refreshed = b.refresh("/r", decision(30), headers=[("etag", '"v2"'), ("x-drop", "1")])
    assert refreshed is not None
    assert read(refreshed) == b"body"
    again = a.lookup("/r")
    assert again is not None
    assert again.is_fresh(clock.now)
    assert again.age(clock.now) == 0
    assert again.headers == [("etag", '"v2"'), ("x-drop", "1")]
    assert b.refresh("/gone", decision(30)) is None


def test_new_budgets_evict_at_once(pair: tuple[SharedCache, SharedCache]) -> None:
    a, b = pair
    for name in "abcde":
        put(a, f"/{name}", b"x" * 100)
    b.set_limits(memory_limit_bytes=300, disk_limit_bytes=10_000)
    assert [o.key for o in a.objects()] == ["/c", "/d", "/e"]


def test_per_pop_figures_and_close(clock: Clock) -> None:
    owner = shared(create_directory(), clock, owner=True)
    worker = shared(owner.directory, clock, owner=False)
    w = owner.begin("IAD|/a", status=200, headers=[], decision=decision(), path="/a", pop="IAD")
    w.write(b"x" * 50)
    w.commit()
    stats = worker.stats(pops=["IAD", "NRT"])
    assert stats["pops"]["IAD"]["entries"] == 1
    assert stats["pops"]["NRT"]["entries"] == 0
    assert stats["shared"] is True
    worker.close()  # a worker lets go: the entries stay
    assert len(owner) == 1
    owner.close()  # the owner removes everything
    assert not owner.directory.exists()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["put", "get", "invalidate"]),
            st.integers(0, 1),
            st.sampled_from(["/a", "/b", "/c", "/d", "/e", "/f"]),
            st.integers(0, 400),
        ),
        max_size=40,
    )
)
def test_two_processes_behave_as_one_cache(ops: list[tuple[str, int, str, int]]) -> None:
    """Property: any sequence of stores, lookups and invalidations spread over two handles
    leaves the shared cache as one HttpCache given the same sequence (same keys in the same LRU
    order, same totals, same evictions)."""
    clock = Clock()
    reference = HttpCache(
        clock=clock, memory_limit_bytes=1_000, spill_threshold_bytes=100, disk_limit_bytes=1_500
    )
    owner = shared(create_directory(), clock, owner=True, disk=1_500)
    worker = shared(owner.directory, clock, owner=False, disk=1_500)
    try:
        for op, which, key, size in ops:
            handle = (owner, worker)[which]
            if op == "put":
                assert (put(handle, key, b"y" * size) is None) == (
                    put(reference, key, b"y" * size) is None
                )
            elif op == "get":
                assert (handle.lookup(key) is None) == (reference.lookup(key) is None)
            else:
                assert handle.invalidate(key) == reference.invalidate(key)
        assert [o.key for o in owner.objects()] == [o.key for o in reference.objects()]
        mine, theirs = owner.stats(), reference.stats()
        for name in ("entries", "bytes", "memory_bytes", "disk_bytes", "evictions"):
            assert mine[name] == theirs[name], name
    finally:
        worker.close()
        owner.close()
        reference.close()


def test_in_serve_a_hit_joins_the_shared_lru_order_within_the_touch_delay(
    pair: tuple[SharedCache, SharedCache],
) -> None:
    """In an event loop (a worker), a hit's use is written at most TOUCH_DELAY_S later, and
    before the same process's next write: its own evictions always see it."""
    a, b = pair

    async def scenario() -> None:
        for name in "abcdefghij":  # the 1,000-byte budget, full
            put(a, f"/{name}", b"x" * 100)
        assert b.lookup("/a") is not None
        put(b, "/k", b"x" * 100)  # b's own use of /a counts in b's eviction: /b goes
        assert "/b" not in a
        assert "/a" in a
        assert b.lookup("/c") is not None
        await asyncio.sleep(TOUCH_DELAY_S * 2)  # written by b's timer
        put(a, "/l", b"x" * 100)  # a's eviction sees b's use of /c: /d goes
        assert "/d" not in a
        assert "/c" in a

    asyncio.run(scenario())


def test_a_body_of_known_length_is_visible_to_other_workers_once_its_last_byte_is_written(
    pair: tuple[SharedCache, SharedCache],
) -> None:
    """Before the last byte reaches the viewer, whose next request another worker may take."""
    a, b = pair
    writer = a.begin(
        "/len", status=200, headers=[("content-length", "10")], decision=decision(), path="/len"
    )
    writer.write(b"x" * 6)
    assert b.lookup("/len") is None
    writer.write(b"y" * 4)
    found = b.lookup("/len")
    assert found is not None
    assert read(found) == b"x" * 6 + b"y" * 4
    assert writer.commit() is None  # the pipeline's own commit, after the viewer got it
    writer.abort()  # or the viewer hung up during the last chunk: the object stays
    assert "/len" in a
    chunked = a.begin("/chunked", status=200, headers=[], decision=decision(), path="/chunked")
    chunked.write(b"z" * 10)
    assert "/chunked" not in b  # no length: committed at the end, as in one process
    assert chunked.commit() is not None
    assert "/chunked" in b


def test_a_process_rereads_an_entry_only_after_some_process_changed_one(
    pair: tuple[SharedCache, SharedCache], clock: Clock
) -> None:
    a, b = pair
    statements: list[str] = []
    b._db.set_trace_callback(statements.append)
    put(a, "/m", b"one")
    first = b.lookup("/m")
    assert first is not None
    assert read(first) == b"one"
    selects = [s for s in statements if s.startswith("SELECT")]
    assert selects
    again = b.lookup("/m")  # nothing changed: from b's memo, not the database
    assert again is not None
    assert read(again) == b"one"
    assert [s for s in statements if s.startswith("SELECT")] == selects
    put(a, "/m", b"two")  # a change in another process: b reads again
    changed = b.lookup("/m")
    assert changed is not None
    assert read(changed) == b"two"
    clock.now += 100
    assert a.refresh("/m", decision(30)) is not None
    refreshed = b.lookup("/m")
    assert refreshed is not None
    assert refreshed.age(clock.now) == 0
    assert a.invalidate("/m") == 1
    assert b.lookup("/m") is None
