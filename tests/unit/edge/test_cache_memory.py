"""The cache's memory budget counts each entry's real cost, evicts in LRU order, and reports per POP
(issue 17 part 4): edgesim.edge.cache with ``count_entry_overhead``, edgesim.edge.cache_cost."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from edgesim.edge.cache import CachedObject, HttpCache
from edgesim.edge.cache_cost import ENTRY_BYTES, HEADER_BYTES, entry_memory_cost
from edgesim.edge.message import Headers
from edgesim.edge.ttl import TtlDecision

TTL = TtlDecision(cacheable=True, ttl=60)


def put(
    cache: HttpCache,
    key: str,
    body: bytes = b"x" * 100,
    *,
    headers: Headers | None = None,
    pop: str = "IAD",
) -> CachedObject | None:
    writer = cache.begin(
        key,
        status=200,
        headers=headers if headers is not None else [("content-type", "text/plain")],
        decision=TTL,
        path=key.partition("|")[2] or key,
        pop=pop,
    )
    writer.write(body)
    return writer.commit()


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[HttpCache]:
    with HttpCache(
        memory_limit_bytes=20_000,
        disk_limit_bytes=3_000,
        spill_threshold_bytes=500,
        spill_dir=tmp_path / "spill",
        count_entry_overhead=True,
    ) as c:
        yield c


# --- the estimate ---------------------------------------------------------------------------------


def traced_bytes_per_entry(
    count: int, headers: int, key_len: int, body: int
) -> tuple[float, float]:
    """(traced, estimated) bytes per entry for ``count`` entries with unique keys, paths and
    headers, stored as the pipeline stores them. How the constants of cache_cost were measured."""
    with HttpCache(memory_limit_bytes=1 << 40, count_entry_overhead=True) as cache:
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            estimated = 0
            for i in range(count):
                hdrs = [(f"x-header-{j}-{i}", f"{i}-value-of-twenty-c") for j in range(headers)]
                key = f"IAD|/{i:08d}" + "k" * key_len
                obj = put(cache, key, bytes([i % 256]) * body, headers=hdrs)
                assert obj is not None
                estimated += obj.memory_cost
            del hdrs, key, obj
            gc.collect()
            traced = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    return traced / count, estimated / count


@pytest.mark.parametrize(
    ("headers", "key_len", "body"),
    [(0, 0, 2), (3, 0, 100), (10, 0, 100), (3, 500, 5_000)],
)
def test_estimate_covers_what_tracemalloc_sees_and_little_more(
    headers: int, key_len: int, body: int
) -> None:
    traced, estimated = traced_bytes_per_entry(1_500, headers, key_len, body)
    assert estimated >= traced, (traced, estimated)
    # A rounding-up estimate, not a wild one: within 20% (or 100 bytes for a tiny entry).
    assert estimated <= max(traced * 1.2, traced + 100), (traced, estimated)


def test_estimate_formula() -> None:
    headers = [("etag", '"abc"'), ("content-type", "text/html")]
    expected = ENTRY_BYTES + 6 + 2 + 2 * HEADER_BYTES + 4 + 5 + 12 + 9 + 100
    assert entry_memory_cost("IAD|/a", "/a", headers, body_bytes=100) == expected
    spilled = entry_memory_cost("IAD|/a", "/a", headers, body_bytes=0, spill_file="/t/obj-1.body")
    assert spilled > expected - 100  # a spilled entry still costs its bookkeeping


# --- accounting -----------------------------------------------------------------------------------


def test_small_objects_count_their_overhead_not_just_their_body(cache: HttpCache) -> None:
    obj = put(cache, "IAD|/a", b"tiny")
    assert obj is not None
    stats = cache.stats()
    assert stats["memory_bytes"] == 4  # the body
    assert stats["memory_used_bytes"] == obj.memory_cost
    assert obj.memory_cost == entry_memory_cost(
        "IAD|/a", "/a", [("content-type", "text/plain")], body_bytes=4
    )
    assert obj.memory_cost > ENTRY_BYTES


def test_budget_holds_as_many_small_objects_as_their_real_cost_allows(cache: HttpCache) -> None:
    one = entry_memory_cost("IAD|/00000", "/00000", [("content-type", "text/plain")], body_bytes=10)
    for i in range(1_000):
        put(cache, f"IAD|/{i:05d}", b"0123456789")
    stats = cache.stats()
    # Counting bodies only, all 1,000 would fit in 20,000 bytes (10,000 bytes of bodies).
    assert stats["entries"] == 20_000 // one
    assert stats["memory_used_bytes"] <= 20_000
    assert stats["evictions"] == 1_000 - stats["entries"]


def test_refresh_with_new_headers_recharges_the_entry(cache: HttpCache) -> None:
    put(cache, "IAD|/a")
    before = cache.stats()["memory_used_bytes"]
    obj = cache.refresh("IAD|/a", TTL, headers=[("x-long", "v" * 1_000)])
    assert obj is not None
    stats = cache.stats()
    assert stats["memory_used_bytes"] == obj.memory_cost
    assert obj.memory_cost > before + 900


def test_refresh_that_outgrows_the_budget_evicts_older_entries(cache: HttpCache) -> None:
    for i in range(10):
        put(cache, f"IAD|/{i}")
    cache.refresh("IAD|/9", TTL, headers=[("x-big", "v" * 15_000)])
    assert cache.stats()["memory_used_bytes"] <= 20_000
    assert cache.lookup("IAD|/9") is not None
    assert cache.lookup("IAD|/0") is None


def test_spilled_entry_costs_its_bookkeeping_in_memory_and_its_body_on_disk(
    cache: HttpCache,
) -> None:
    obj = put(cache, "IAD|/big", b"b" * 2_000)
    assert obj is not None
    assert obj.spilled
    stats = cache.stats()
    assert stats["disk_bytes"] == 2_000
    assert stats["memory_bytes"] == 0
    assert stats["memory_used_bytes"] == obj.memory_cost >= ENTRY_BYTES


def test_everything_returns_to_zero(cache: HttpCache) -> None:
    for i in range(30):
        put(cache, f"IAD|/{i}", b"x" * (i * 40), pop="IAD" if i % 2 else "NRT")
    assert cache.invalidate("/*") == len(cache) or len(cache) == 0
    stats = cache.stats()
    assert stats["memory_used_bytes"] == stats["memory_bytes"] == stats["disk_bytes"] == 0
    assert all(
        row == {"entries": 0, "memory_bytes": 0, "disk_bytes": 0} for row in stats["pops"].values()
    )


def test_per_pop_figures_add_up_to_the_totals(cache: HttpCache) -> None:
    put(cache, "IAD|/a", b"a" * 10, pop="IAD")
    put(cache, "IAD|/b", b"b" * 20, pop="IAD")
    put(cache, "NRT|/a", b"c" * 1_000, pop="NRT")  # spilled
    stats = cache.stats(pops=["IAD", "NRT", "FRA"])
    pops = stats["pops"]
    assert list(pops) == ["FRA", "IAD", "NRT"]
    assert pops["FRA"] == {"entries": 0, "memory_bytes": 0, "disk_bytes": 0}
    assert pops["IAD"]["entries"] == 2
    assert pops["NRT"]["disk_bytes"] == 1_000
    assert sum(p["memory_bytes"] for p in pops.values()) == stats["memory_used_bytes"]
    assert sum(p["entries"] for p in pops.values()) == stats["entries"] == 3
    assert stats["memory_limit_bytes"] == 20_000
    assert stats["disk_limit_bytes"] == 3_000


def test_smaller_limits_evict_at_once(cache: HttpCache) -> None:
    for i in range(10):
        put(cache, f"IAD|/{i}")
    cache.set_limits(memory_limit_bytes=2_500, disk_limit_bytes=0)
    assert cache.stats()["memory_used_bytes"] <= 2_500
    assert cache.lookup("IAD|/9") is not None  # the most recent ones stay
    assert cache.lookup("IAD|/0") is None


def test_an_entry_costing_more_than_the_budget_is_not_stored(tmp_path: Path) -> None:
    with HttpCache(memory_limit_bytes=ENTRY_BYTES, count_entry_overhead=True) as cache:
        assert put(cache, "IAD|/a", b"") is None
        assert cache.stats()["memory_used_bytes"] == 0


# --- eviction order -------------------------------------------------------------------------------


def test_memory_eviction_takes_the_least_recently_used(cache: HttpCache) -> None:
    keys = [f"IAD|/{i:03d}" for i in range(200)]
    for key in keys[:20]:
        put(cache, key)
    cache.lookup(keys[0])  # used: now the most recent
    cache.refresh(keys[1], TTL)  # revalidated: also recent
    for key in keys[20:]:
        put(cache, key)
    stored = [obj.key for obj in cache.objects()]
    # What is left is the most recent part of the use order: 2..19, then 0 and 1, then 20..199.
    order = [*keys[2:20], keys[0], keys[1], *keys[20:]]
    assert 0 < len(stored) < 200
    assert stored == order[len(order) - len(stored) :]
    assert cache.stats()["evictions"] == 200 - len(stored)


def test_disk_eviction_takes_the_least_recently_used_spilled_entry(cache: HttpCache) -> None:
    put(cache, "IAD|/big0", b"0" * 1_000)
    for i in range(5):
        put(cache, f"IAD|/small{i}", b"s")
    put(cache, "IAD|/big1", b"1" * 1_000)
    put(cache, "IAD|/big2", b"2" * 1_000)
    cache.lookup("IAD|/big0")  # used again: big1 is now the oldest spilled entry
    put(cache, "IAD|/big3", b"3" * 1_000)  # 4,000 bytes > 3,000: one goes
    assert cache.lookup("IAD|/big1") is None
    assert all(cache.lookup(k) is not None for k in ["IAD|/big0", "IAD|/big2", "IAD|/big3"])
    assert all(cache.lookup(f"IAD|/small{i}") is not None for i in range(5))  # not disk's
    assert len(list((cache.spill_dir()).iterdir())) == 3


# --- a model of the whole thing -------------------------------------------------------------------

KEYS = [f"{pop}|/{name}" for pop in ("IAD", "NRT") for name in ("a", "b", "c/1", "c/2", "d")]


class CountedCacheMachine(RuleBasedStateMachine):
    """Random stores, lookups, refreshes, discards and limit changes against a model of the LRU
    order; checks the accounting (totals, per POP) and that evictions are exactly the oldest."""

    def __init__(self) -> None:
        super().__init__()
        self.cache = HttpCache(
            memory_limit_bytes=6_000,
            disk_limit_bytes=1_500,
            spill_threshold_bytes=200,
            max_object_bytes=1_000,
            count_entry_overhead=True,
        )
        self.order: list[str] = []  # the model: least recently used first

    def _use(self, key: str) -> None:
        if key in self.order:
            self.order.remove(key)
        self.order.append(key)

    @rule(
        key=st.sampled_from(KEYS),
        size=st.integers(0, 1_100),
        headers=st.lists(st.tuples(st.sampled_from(["etag", "x-a"]), st.text(max_size=300))),
    )
    def store(self, key: str, size: int, headers: list[tuple[str, str]]) -> None:
        obj = put(self.cache, key, b"z" * size, headers=headers, pop=key[:3])
        # Not stored (too big for max_object_bytes or a budget): an older entry stays as it was.
        if obj is not None:
            self._use(key)

    @rule(key=st.sampled_from(KEYS))
    def lookup(self, key: str) -> None:
        if self.cache.lookup(key) is not None:
            self._use(key)

    @rule(key=st.sampled_from(KEYS), header=st.text(max_size=2_000))
    def refresh(self, key: str, header: str) -> None:
        if self.cache.refresh(key, TTL, headers=[("x-r", header)]) is not None:
            self._use(key)

    @rule(key=st.sampled_from(KEYS))
    def discard(self, key: str) -> None:
        self.cache.discard(key)
        if key in self.order:
            self.order.remove(key)

    @precondition(lambda self: bool(self.order))
    @rule(memory=st.integers(1_000, 8_000))
    def limits(self, memory: int) -> None:
        self.cache.set_limits(memory_limit_bytes=memory, disk_limit_bytes=1_500)

    @invariant()
    def accounting_and_order(self) -> None:
        objects = self.cache.objects()
        stored = [obj.key for obj in objects]
        # Evictions only ever take the oldest: what is stored keeps the model's order.
        self.order = [k for k in self.order if k in set(stored)]
        assert stored == self.order
        stats = self.cache.stats()
        assert stats["memory_used_bytes"] == sum(obj.memory_cost for obj in objects)
        assert stats["memory_used_bytes"] <= self.cache.memory_limit_bytes
        assert stats["disk_bytes"] == sum(obj.size for obj in objects if obj.spilled)
        assert stats["disk_bytes"] <= 1_500
        for obj in objects:
            body = 0 if obj.spilled else obj.size
            spill = None if obj.spill_file is None else str(obj.spill_file)
            expected = entry_memory_cost(
                obj.key, obj.path, obj.headers, body_bytes=body, spill_file=spill
            )
            assert obj.memory_cost == expected
        for pop, row in stats["pops"].items():
            mine = [obj for obj in objects if obj.pop == pop]
            assert row["entries"] == len(mine)
            assert row["memory_bytes"] == sum(obj.memory_cost for obj in mine)
        assert stats["spilled_entries"] == sum(1 for obj in objects if obj.spilled)

    def teardown(self) -> None:
        self.cache.close()


TestCountedCacheMachine = CountedCacheMachine.TestCase
TestCountedCacheMachine.settings = settings(max_examples=40, stateful_step_count=25)
