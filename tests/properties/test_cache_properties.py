"""Properties of the cache key, TTL resolution and the object store."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from edgesim.distribution.model import CachePolicy, Selection
from edgesim.edge.cache import HttpCache, invalidation_matcher
from edgesim.edge.message import EdgeRequest
from edgesim.edge.policy_rules import cache_key
from edgesim.edge.ttl import CACHEABLE_STATUSES, TtlDecision, decide_ttl

HOST = "d111111abcdef8.cloudfront.net"
NAMES = ["a", "b", "c", "d", "e", "f"]
HEADER_NAMES = [f"x-{n}" for n in NAMES]
values = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6)

Items = list[tuple[str, str]]
Scenario = tuple[CachePolicy, dict[str, str], dict[str, str], Items]


@st.composite
def selections(draw: st.DrawFn, pool: list[str], behaviors: list[str]) -> Selection:
    behavior = draw(st.sampled_from(behaviors))
    names = draw(st.frozensets(st.sampled_from(pool)))
    return Selection(behavior=behavior, names=names)  # type: ignore[arg-type]


@st.composite
def policies(draw: st.DrawFn) -> CachePolicy:
    return CachePolicy(
        name="p",
        headers=draw(selections(HEADER_NAMES, ["none", "whitelist"])),
        cookies=draw(selections(NAMES, ["none", "whitelist", "allExcept", "all"])),
        query_strings=draw(selections(NAMES, ["none", "whitelist", "allExcept", "all"])),
        enable_gzip=draw(st.booleans()),
        enable_brotli=draw(st.booleans()),
    )


def build(path: str, headers: Items, cookies: Items, query: Items) -> EdgeRequest:
    all_headers = list(headers)
    if cookies:
        all_headers.append(("cookie", "; ".join(f"{n}={v}" for n, v in cookies)))
    q = "&".join(f"{n}={v}" for n, v in query) if query else None
    return EdgeRequest(method="GET", path=path, query=q, headers=all_headers)


def interleave(draw: st.DrawFn, kept: Items, extra: Items) -> Items:
    """Insert ``extra`` items at random places, keeping ``kept`` in its order."""
    merged = list(kept)
    for item in extra:
        merged.insert(draw(st.integers(0, len(merged))), item)
    return merged


def noise(pool: list[str], sel: Selection) -> st.SearchStrategy[Items]:
    """Distinct unselected names with arbitrary values."""
    unselected = [n for n in pool if not sel.picks(n)]
    if not unselected:
        return st.just([])
    return st.dictionaries(st.sampled_from(unselected), values, max_size=3).map(
        lambda d: list(d.items())
    )


@st.composite
def variants(
    draw: st.DrawFn, policy: CachePolicy, sel_h: Items, sel_c: Items, sel_q: Items, unsel_q: Items
) -> EdgeRequest:
    """The selected values plus fresh unselected noise, shuffled.

    Unselected names get new values (or vanish); everything is shuffled, except that selected
    query parameters keep their relative order (CloudFront keys the query in viewer order).
    """
    noise_q = [q for q in unsel_q if draw(st.booleans())]
    noise_q += draw(noise(NAMES, policy.query_strings))
    return build(
        "/p",
        draw(st.permutations(sel_h + draw(noise(HEADER_NAMES, policy.headers)))),
        draw(st.permutations(sel_c + draw(noise(NAMES, policy.cookies)))),
        interleave(draw, sel_q, noise_q),
    )


@st.composite
def scenario(draw: st.DrawFn) -> Scenario:
    """A policy with header values, cookie values and query items (selected or not)."""
    policy = draw(policies())
    header_values = draw(st.dictionaries(st.sampled_from(HEADER_NAMES), values))
    cookie_values = draw(st.dictionaries(st.sampled_from(NAMES), values))
    query_items = draw(st.lists(st.tuples(st.sampled_from(NAMES), values), max_size=6))
    return policy, header_values, cookie_values, query_items


def split(items: Items, sel: Selection) -> tuple[Items, Items]:
    return [i for i in items if sel.picks(i[0])], [i for i in items if not sel.picks(i[0])]


@given(scenario(), st.data())
def test_key_ignores_order_and_values_of_unselected_items(
    sc: Scenario, data: st.DataObject
) -> None:
    policy, header_values, cookie_values, query_items = sc
    headers = sorted(header_values.items())
    cookies = sorted(cookie_values.items())
    sel_h, _ = split(headers, policy.headers)
    sel_c, _ = split(cookies, policy.cookies)
    sel_q, unsel_q = split(query_items, policy.query_strings)

    strategy = variants(policy, sel_h, sel_c, sel_q, unsel_q)
    first, second = data.draw(strategy), data.draw(strategy)
    note(f"{first.headers} {first.query}\n{second.headers} {second.query}")
    assert cache_key(first, policy, host=HOST) == cache_key(second, policy, host=HOST)


@given(scenario(), st.data())
def test_key_changes_when_a_selected_value_changes(sc: Scenario, data: st.DataObject) -> None:
    policy, header_values, cookie_values, query_items = sc
    headers = sorted(header_values.items())
    cookies = sorted(cookie_values.items())
    base = build("/p", headers, cookies, query_items)
    kinds = [
        (kind, index)
        for kind, items, sel in (
            ("h", headers, policy.headers),
            ("c", cookies, policy.cookies),
            ("q", query_items, policy.query_strings),
        )
        for index, item in enumerate(items)
        if sel.picks(item[0])
    ]
    if not kinds:
        return
    kind, index = data.draw(st.sampled_from(kinds))
    items = {"h": list(headers), "c": list(cookies), "q": list(query_items)}[kind]
    name, value = items[index]
    items[index] = (name, value + "x")
    changed = build(
        "/p",
        items if kind == "h" else headers,
        items if kind == "c" else cookies,
        items if kind == "q" else query_items,
    )
    assert cache_key(base, policy, host=HOST) != cache_key(changed, policy, host=HOST)


@given(st.text(alphabet="/abc.", max_size=8), st.text(alphabet="/abc.", max_size=8))
def test_key_changes_with_path(a: str, b: str) -> None:
    policy = CachePolicy(name="p")
    ra = EdgeRequest(method="GET", path="/" + a, query=None, headers=[])
    rb = EdgeRequest(method="GET", path="/" + b, query=None, headers=[])
    assert (cache_key(ra, policy, host=HOST) == cache_key(rb, policy, host=HOST)) == (a == b)


# --- TTL ----------------------------------------------------------------------------------------

ttls = st.integers(0, 10**9)


@st.composite
def ttl_policies(draw: st.DrawFn) -> CachePolicy:
    low, high = sorted((draw(ttls), draw(ttls)))
    return CachePolicy(
        name="p", min_ttl=low, default_ttl=draw(st.integers(low, high)), max_ttl=high
    )


@given(
    ttl_policies(),
    st.sampled_from(sorted(CACHEABLE_STATUSES)),
    ttls,
    st.one_of(st.none(), ttls),
    st.sampled_from(["", "public", "no-cache", "private", "no-store", "must-revalidate"]),
)
def test_ttl_within_policy_bounds(
    policy: CachePolicy, status: int, max_age: int, s_maxage: int | None, extra: str
) -> None:
    directives = [f"max-age={max_age}"]
    if s_maxage is not None:
        directives.append(f"s-maxage={s_maxage}")
    if extra:
        directives.append(extra)
    headers = [("cache-control", ", ".join(directives))]
    decision = decide_ttl(status, headers, policy, now=datetime(2025, 1, 1, tzinfo=UTC))
    if decision.cacheable:
        assert policy.min_ttl <= decision.ttl <= policy.max_ttl
        assert decision.ttl > 0
    prohibits = extra in ("no-cache", "private", "no-store")
    effective = policy.min_ttl if prohibits else (s_maxage if s_maxage is not None else max_age)
    expected = min(max(effective, policy.min_ttl), policy.max_ttl)
    if prohibits and policy.min_ttl == 0:
        assert not decision.cacheable
    else:
        assert decision.cacheable == (expected > 0)
        if decision.cacheable:
            assert decision.ttl == expected


# --- object store -------------------------------------------------------------------------------


@given(
    st.lists(st.binary(max_size=300), max_size=20),
    st.integers(1, 600),
    st.integers(1, 400),
)
def test_store_round_trips_any_chunking(
    chunks: list[bytes], threshold: int, read_size: int
) -> None:
    body = b"".join(chunks)
    with (
        tempfile.TemporaryDirectory() as tmp,
        HttpCache(
            spill_dir=Path(tmp), spill_threshold_bytes=threshold, memory_limit_bytes=10_000
        ) as cache,
    ):
        decision = TtlDecision(cacheable=True, ttl=1)
        writer = cache.begin("k", status=200, headers=[], decision=decision, path="/k")
        for chunk in chunks:
            writer.write(chunk)
        obj = writer.commit()
        assert obj is not None
        assert obj.spilled == (len(body) > threshold)
        pieces = list(obj.body_chunks(read_size))
        assert b"".join(pieces) == body
        assert all(0 < len(p) <= read_size for p in pieces)


@given(st.text(alphabet="/ab*.?=", max_size=10), st.text(alphabet="/ab.?=", max_size=10))
def test_invalidation_prefix_semantics(pattern: str, path: str) -> None:
    pattern = "/" + pattern
    path = "/" + path
    if "*" in pattern[:-1]:
        return
    matches = invalidation_matcher(pattern)(path)
    if pattern.endswith("*"):
        assert matches == path.startswith(pattern[:-1])
    else:
        assert matches == (path == pattern)


class CacheMachine(RuleBasedStateMachine):
    """Random puts, lookups, discards and invalidations against a dict model.

    Checks the byte accounting, the budgets and that spill files exist exactly for spilled
    entries. Eviction makes the cache a subset of the model, never a superset.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.cache = HttpCache(
            spill_dir=Path(self.tmp.name),
            spill_threshold_bytes=64,
            memory_limit_bytes=256,
            disk_limit_bytes=1_024,
            max_object_bytes=600,
        )
        self.model: dict[str, bytes] = {}

    @rule(key=st.sampled_from(["/a", "/b", "/c/1", "/c/2", "/d"]), body=st.binary(max_size=700))
    def put(self, key: str, body: bytes) -> None:
        writer = self.cache.begin(
            key, status=200, headers=[], decision=TtlDecision(True, 60), path=key
        )
        for start in range(0, len(body), 50):
            writer.write(body[start : start + 50])
        stored = writer.commit()
        if stored is not None:
            self.model[key] = body
        else:
            self.model.pop(key, None)
            assert self.cache.lookup(key) is None

    @rule(key=st.sampled_from(["/a", "/b", "/c/1", "/c/2", "/d"]))
    def lookup(self, key: str) -> None:
        obj = self.cache.lookup(key)
        if obj is not None:
            assert b"".join(obj.body_chunks(33)) == self.model[key]

    @rule(key=st.sampled_from(["/a", "/b", "/c/1"]))
    def discard(self, key: str) -> None:
        self.cache.discard(key)
        self.model.pop(key, None)

    @precondition(lambda self: bool(self.model))
    @rule(pattern=st.sampled_from(["/c/*", "/*", "/a", "/c*", "/b"]))
    def invalidate(self, pattern: str) -> None:
        match = invalidation_matcher(pattern)
        self.cache.invalidate(pattern)
        for key in [k for k in self.model if match(k)]:
            del self.model[key]

    @invariant()
    def consistent(self) -> None:
        entries = {k: self.cache.lookup(k) for k in list(self.model)}
        live = {k: o for k, o in entries.items() if o is not None}
        assert len(live) == len(self.cache)
        # Evicted entries leave the model too, so later lookups compare like with like.
        for key in [k for k, o in entries.items() if o is None]:
            del self.model[key]
        stats = self.cache.stats()
        assert stats["memory_bytes"] == sum(o.size for o in live.values() if not o.spilled)
        assert stats["disk_bytes"] == sum(o.size for o in live.values() if o.spilled)
        assert stats["memory_bytes"] <= 256
        assert stats["disk_bytes"] <= 1_024
        files = {p.name for p in Path(self.tmp.name).iterdir()}
        assert files == {o.spill_file.name for o in live.values() if o.spill_file is not None}

    def teardown(self) -> None:
        self.cache.close()
        self.tmp.cleanup()


TestCacheMachine = CacheMachine.TestCase
