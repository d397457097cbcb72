"""The HTTP object cache store (edgesim.edge.cache)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgesim.edge.cache import CachedObject, HttpCache, invalidation_matcher
from edgesim.edge.ttl import TtlDecision


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clock: Clock, tmp_path: Path) -> Iterator[HttpCache]:
    c = HttpCache(
        clock=clock,
        memory_limit_bytes=1_000,
        spill_threshold_bytes=100,
        spill_dir=tmp_path / "spill",
        disk_limit_bytes=10_000,
    )
    yield c
    c.close()


def decision(ttl: float = 60, swr: float = 0, sie: float = 0) -> TtlDecision:
    return TtlDecision(cacheable=True, ttl=ttl, stale_while_revalidate=swr, stale_if_error=sie)


def put(
    cache: HttpCache,
    key: str,
    body: bytes,
    *,
    path: str | None = None,
    chunk: int = 37,
    ttl: float = 60,
) -> CachedObject | None:
    writer = cache.begin(
        key,
        status=200,
        headers=[("content-type", "text/plain")],
        decision=decision(ttl),
        path=path or key,
    )
    for start in range(0, len(body), chunk):
        writer.write(body[start : start + chunk])
    return writer.commit()


def read(obj: CachedObject, chunk_size: int = 65_536) -> bytes:
    return b"".join(obj.body_chunks(chunk_size))


def spill_files(cache: HttpCache) -> list[Path]:
    return sorted(cache.spill_dir().iterdir())


# --- storing and reading ------------------------------------------------------------------------


def test_small_body_stays_in_memory(cache: HttpCache) -> None:
    obj = put(cache, "/a", b"hello world")
    assert obj is not None
    assert not obj.spilled
    assert cache.lookup("/a") is obj
    assert read(obj) == b"hello world"
    assert [len(c) for c in obj.body_chunks(4)] == [4, 4, 3]
    assert obj.status == 200
    assert obj.headers == [("content-type", "text/plain")]
    assert obj.size == 11
    assert obj.path == "/a"
    assert obj.key == "/a"
    assert cache.stats()["memory_bytes"] == 11


def test_empty_body(cache: HttpCache) -> None:
    obj = put(cache, "/empty", b"")
    assert obj is not None
    assert obj.size == 0
    assert list(obj.body_chunks()) == []


def test_body_above_threshold_spills_and_reads_back_identically(cache: HttpCache) -> None:
    body = os.urandom(5_000)
    obj = put(cache, "/big", body, chunk=333)
    assert obj is not None
    assert obj.spilled
    assert obj.body is None
    assert cache.stats()["disk_bytes"] == 5_000
    assert cache.stats()["memory_bytes"] == 0
    assert len(spill_files(cache)) == 1
    chunks = list(obj.body_chunks(1_024))
    assert all(len(c) <= 1_024 for c in chunks)
    assert b"".join(chunks) == body


def test_body_exactly_at_threshold_stays_in_memory(cache: HttpCache) -> None:
    obj = put(cache, "/edge", b"x" * 100)
    assert obj is not None
    assert not obj.spilled
    obj = put(cache, "/over", b"x" * 101)
    assert obj is not None
    assert obj.spilled


def test_large_object_streams_without_being_held_whole(tmp_path: Path) -> None:
    # 24 MiB through a 1 MiB threshold: the writer must not buffer past the threshold, and the
    # reader hands back bounded chunks. Compare digests, not copies.
    size, chunk = 24 * 1024 * 1024, 256 * 1024
    block = os.urandom(chunk)
    with HttpCache(spill_dir=tmp_path, spill_threshold_bytes=1024 * 1024) as cache:
        writer = cache.begin("/huge", status=200, headers=[], decision=decision(), path="/huge")
        digest = hashlib.sha256()
        for _ in range(size // chunk):
            writer.write(block)
            digest.update(block)
            assert sum(len(c) for c in writer._chunks) <= 1024 * 1024
        obj = writer.commit()
        assert obj is not None
        assert obj.spilled
        assert obj.size == size
        readback = hashlib.sha256()
        for piece in obj.body_chunks():
            assert len(piece) <= 65_536
            readback.update(piece)
        assert readback.digest() == digest.digest()


def test_unfinished_reader_can_be_closed(cache: HttpCache) -> None:
    obj = put(cache, "/big", b"y" * 1_000)
    assert obj is not None
    chunks = obj.body_chunks(10)
    assert next(chunks) == b"y" * 10
    chunks.close()  # type: ignore[attr-defined]
    assert list(chunks) == []


def test_dropped_reader_closes_its_file(cache: HttpCache) -> None:
    # filterwarnings=error turns an unclosed file into a failure.
    obj = put(cache, "/big", b"y" * 1_000)
    assert obj is not None
    chunks = obj.body_chunks(10)
    next(chunks)
    del chunks


def test_reader_survives_eviction_of_its_entry(cache: HttpCache) -> None:
    body = os.urandom(2_000)
    obj = put(cache, "/big", body)
    assert obj is not None
    chunks = obj.body_chunks(100)
    first = next(chunks)
    assert cache.invalidate("/big") == 1
    assert spill_files(cache) == []
    assert first + b"".join(chunks) == body


def test_replacing_an_entry_frees_the_old_body(cache: HttpCache) -> None:
    put(cache, "/k", b"a" * 500)
    put(cache, "/k", b"b" * 50)
    assert len(cache) == 1
    assert spill_files(cache) == []
    stats = cache.stats()
    assert stats["disk_bytes"] == 0
    assert stats["memory_bytes"] == 50
    obj = cache.lookup("/k")
    assert obj is not None
    assert read(obj) == b"b" * 50


def test_strip_headers_from_decision(cache: HttpCache) -> None:
    d = TtlDecision(cacheable=True, ttl=5, strip_headers=("set-cookie",))
    writer = cache.begin(
        "/c", status=200, headers=[("set-cookie", "a=1"), ("etag", '"1"')], decision=d, path="/c"
    )
    obj = writer.commit()
    assert obj is not None
    assert obj.headers == [("etag", '"1"')]


# --- commit / abort -----------------------------------------------------------------------------


def test_nothing_visible_before_commit(cache: HttpCache) -> None:
    writer = cache.begin("/a", status=200, headers=[], decision=decision(), path="/a")
    writer.write(b"partial")
    assert cache.lookup("/a") is None
    assert cache.stats()["writers"] == 1
    assert writer.commit() is not None
    assert cache.stats()["writers"] == 0


def test_abort_discards_and_removes_spill_file(cache: HttpCache) -> None:
    writer = cache.begin("/a", status=200, headers=[], decision=decision(), path="/a")
    writer.write(b"z" * 500)
    assert len(spill_files(cache)) == 1
    writer.abort()
    writer.write(b"more")  # ignored: the viewer stream goes on
    assert writer.commit() is None
    assert cache.lookup("/a") is None
    assert spill_files(cache) == []


def test_write_after_commit_is_an_error(cache: HttpCache) -> None:
    writer = cache.begin("/a", status=200, headers=[], decision=decision(), path="/a")
    writer.commit()
    with pytest.raises(RuntimeError):
        writer.write(b"late")
    assert writer.commit() is None  # second commit is a no-op


def test_object_over_max_size_is_not_stored(clock: Clock, tmp_path: Path) -> None:
    with HttpCache(
        clock=clock, spill_dir=tmp_path, spill_threshold_bytes=10, max_object_bytes=100
    ) as cache:
        writer = cache.begin("/a", status=200, headers=[], decision=decision(), path="/a")
        for _ in range(20):
            writer.write(b"0123456789")
        assert writer.commit() is None
        assert cache.lookup("/a") is None
        assert list(tmp_path.iterdir()) == []


def test_object_larger_than_memory_budget_is_not_stored(clock: Clock, tmp_path: Path) -> None:
    with HttpCache(
        clock=clock, spill_dir=tmp_path, memory_limit_bytes=50, spill_threshold_bytes=100
    ) as cache:
        assert put(cache, "/a", b"x" * 80) is None
        assert put(cache, "/b", b"x" * 40) is not None


# --- freshness and age --------------------------------------------------------------------------


def test_age_and_freshness(cache: HttpCache, clock: Clock) -> None:
    writer = cache.begin(
        "/a", status=200, headers=[], decision=decision(ttl=10, swr=5, sie=20), path="/a"
    )
    clock.now += 2  # the body takes a while: age counts from begin()
    obj = writer.commit()
    assert obj is not None
    assert obj.age(clock.now) == 2
    assert obj.is_fresh(clock.now)
    clock.now += 7.9
    assert obj.is_fresh(clock.now)
    assert obj.age(clock.now) == 9
    clock.now += 0.1
    assert not obj.is_fresh(clock.now)
    assert obj.within_stale_while_revalidate(clock.now)
    assert obj.within_stale_if_error(clock.now)
    clock.now += 5
    assert not obj.within_stale_while_revalidate(clock.now)
    assert obj.within_stale_if_error(clock.now)
    clock.now += 15
    assert not obj.within_stale_if_error(clock.now)
    # Expired entries stay until evicted: the pipeline may still serve them on an origin 5xx.
    assert cache.lookup("/a") is obj
    assert obj.age(obj.stored_at - 5) == 0


def test_refresh_restarts_lifetime(cache: HttpCache, clock: Clock) -> None:
    put(cache, "/a", b"body", ttl=5)
    clock.now += 100
    obj = cache.refresh("/a", decision(ttl=30), headers=[("etag", '"2"')])
    assert obj is not None
    assert obj.is_fresh(clock.now)
    assert obj.age(clock.now) == 0
    assert obj.ttl == 30
    assert obj.headers == [("etag", '"2"')]
    assert read(obj) == b"body"
    assert cache.refresh("/missing", decision()) is None


def test_discard(cache: HttpCache) -> None:
    put(cache, "/a", b"a" * 300)
    assert cache.discard("/a")
    assert not cache.discard("/a")
    assert spill_files(cache) == []
    assert cache.stats()["bytes"] == 0


# --- eviction -----------------------------------------------------------------------------------


def test_lru_eviction_by_memory(cache: HttpCache) -> None:
    for name in "abcd":
        put(cache, f"/{name}", b"x" * 100)
    cache.lookup("/a")  # /a becomes most recently used
    for name in "efghijk":
        put(cache, f"/{name}", b"x" * 100)
    # 1,000-byte budget holds ten 100-byte bodies; /b was the least recently used.
    assert cache.lookup("/b") is None
    assert cache.lookup("/a") is not None
    assert cache.stats()["memory_bytes"] <= 1_000
    assert cache.stats()["evictions"] == 1


def test_spilled_bodies_do_not_count_against_memory(cache: HttpCache) -> None:
    for i in range(5):
        put(cache, f"/big{i}", b"x" * 900)
    for i in range(9):
        put(cache, f"/small{i}", b"x" * 100)
    assert len(cache) == 14
    assert cache.stats()["evictions"] == 0


def test_lru_eviction_by_disk_budget_removes_files(cache: HttpCache) -> None:
    for i in range(12):
        put(cache, f"/big{i}", b"x" * 1_000)
    # 10,000-byte disk budget.
    assert cache.stats()["disk_bytes"] == 10_000
    assert cache.lookup("/big0") is None
    assert cache.lookup("/big1") is None
    assert cache.lookup("/big11") is not None
    assert len(spill_files(cache)) == 10


# --- invalidation -------------------------------------------------------------------------------


def populate(cache: HttpCache) -> None:
    for path in [
        "/images/a.jpg",
        "/images/b.png",
        "/images/sub/c.jpg",
        "/images",
        "/imagesX/d.jpg",
        "/index.html",
        "/index.html?lang=en",
        "/index.html?lang=fr",
        "/Images/e.jpg",
    ]:
        put(cache, path, b"data")


@pytest.mark.parametrize(
    ("pattern", "removed"),
    [
        ("/images/a.jpg", {"/images/a.jpg"}),
        ("/images/*", {"/images/a.jpg", "/images/b.png", "/images/sub/c.jpg"}),
        (
            "/images*",
            {"/images/a.jpg", "/images/b.png", "/images/sub/c.jpg", "/images", "/imagesX/d.jpg"},
        ),
        ("/images/a.*", {"/images/a.jpg"}),
        ("/index.html", {"/index.html"}),  # query-string variants need the query or a '*'
        ("/index.html?lang=fr", {"/index.html?lang=fr"}),
        ("/index.html*", {"/index.html", "/index.html?lang=en", "/index.html?lang=fr"}),
        ("/images/", set()),
        ("/IMAGES/*", set()),  # case-sensitive
        ("images/a.jpg", {"/images/a.jpg"}),  # leading slash optional, as in the console
    ],
)
def test_invalidation_patterns(cache: HttpCache, pattern: str, removed: set[str]) -> None:
    populate(cache)
    before = len(cache)
    assert cache.invalidate(pattern) == len(removed)
    assert len(cache) == before - len(removed)
    for path in removed:
        assert cache.lookup(path) is None


def test_invalidate_everything(cache: HttpCache) -> None:
    populate(cache)
    put(cache, "/big", b"x" * 500)
    assert cache.invalidate("/*") == 10
    assert len(cache) == 0
    assert spill_files(cache) == []
    assert cache.stats()["bytes"] == 0
    assert cache.stats()["invalidated"] == 10


def test_invalidation_removes_every_variant_of_a_path(cache: HttpCache) -> None:
    # Different keys (e.g. per cookie or header value) for one path all go.
    for variant in ("k1", "k2", "k3"):
        put(cache, variant, b"v", path="/page")
    assert cache.invalidate("/page") == 3


def test_invalidation_abandons_fills_in_progress(cache: HttpCache) -> None:
    writer = cache.begin("/a", status=200, headers=[], decision=decision(), path="/a")
    writer.write(b"x" * 500)
    other = cache.begin("/b", status=200, headers=[], decision=decision(), path="/b")
    cache.invalidate("/a")
    writer.write(b"more")
    assert writer.commit() is None
    assert other.commit() is not None
    assert spill_files(cache) == []


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "empty"),
        ("/a*/b", "last character"),
        ("/*.jpg", "last character"),
        ("/**", "last character"),
        ("/" + "a" * 4_000, "4,000"),
    ],
)
def test_invalid_invalidation_paths(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        invalidation_matcher(pattern)


def test_non_ascii_pattern_matches_encoded_path(cache: HttpCache) -> None:
    put(cache, "/caf%C3%A9/menu", b"m")
    assert cache.invalidate("/café/*") == 1


# --- stats and shutdown -------------------------------------------------------------------------


def test_stats_counters(cache: HttpCache) -> None:
    put(cache, "/a", b"abc")
    put(cache, "/b", b"b" * 200)
    cache.record_hit()
    cache.record_hit()
    cache.record_miss()
    stats = cache.stats()
    assert stats["entries"] == 2
    assert stats["bytes"] == 203
    assert stats["spilled_entries"] == 1
    assert stats["hits"] == 2
    assert stats["misses"] == 1


def test_close_removes_spill_files_and_own_directory(clock: Clock) -> None:
    cache = HttpCache(clock=clock, spill_threshold_bytes=10)
    put(cache, "/a", b"x" * 100)
    pending = cache.begin("/b", status=200, headers=[], decision=decision(), path="/b")
    pending.write(b"y" * 100)
    spill_dir = cache.spill_dir()
    assert len(list(spill_dir.iterdir())) == 2
    cache.close()
    assert not spill_dir.exists()
    assert len(cache) == 0
    assert pending.commit() is None


def test_close_keeps_a_given_spill_directory(clock: Clock, tmp_path: Path) -> None:
    cache = HttpCache(clock=clock, spill_threshold_bytes=10, spill_dir=tmp_path / "s")
    put(cache, "/a", b"x" * 100)
    cache.close()
    assert (tmp_path / "s").is_dir()
    assert list((tmp_path / "s").iterdir()) == []


def test_objects_lists_what_is_stored_without_touching_recency(cache: HttpCache) -> None:
    put(cache, "IAD|/a", b"a")
    put(cache, "IAD|/b", b"b")
    assert [o.key for o in cache.objects()] == ["IAD|/a", "IAD|/b"]
    assert [o.key for o in cache.objects()] == ["IAD|/a", "IAD|/b"]  # no LRU effect
    cache.lookup("IAD|/a")
    assert [o.key for o in cache.objects()] == ["IAD|/b", "IAD|/a"]
