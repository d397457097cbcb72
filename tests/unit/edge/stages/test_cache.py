"""Cache stage: where a response lives (per POP), what a stored object answers (Age, 304), how
an expired one is revalidated and refreshed, and when an origin response is stored."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.distribution.model import Behavior, CachePolicy, Distribution
from edgesim.distribution.patterns import select_behavior
from edgesim.edge.cache import CachedObject, HttpCache
from edgesim.edge.flow import CachedBody, GeneratedBody, XCache
from edgesim.edge.message import EdgeRequest, Headers
from edgesim.edge.stages import cache as stage
from edgesim.kvs.clock import VirtualClock
from tests.unit.edge.stages.conftest import ORIGIN, make_dist, make_request

TOML = (
    ORIGIN
    + """
[[behaviors]]
path = "/nocache/*"
origin = "app"
cache_policy = "CachingDisabled"

[[behaviors]]
path = "/api/*"
origin = "app"
allowed_methods = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
cached_methods = ["GET", "HEAD", "OPTIONS"]

[[custom_error_responses]]
error_code = 404
error_caching_min_ttl = 300

[default_behavior]
origin = "app"
"""
)

LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"


@pytest.fixture
def dist(tmp_path: Path) -> Distribution:
    return make_dist(tmp_path, TOML)


def behavior(dist: Distribution, path: str) -> Behavior:
    return select_behavior(dist, path)


def stored(
    headers: Headers | None = None, *, stored_at: float = 100.0, status: int = 200
) -> CachedObject:
    headers = (
        headers
        if headers is not None
        else [
            ("content-type", "text/html"),
            ("content-length", "5"),
            ("etag", '"v1"'),
            ("last-modified", LAST_MODIFIED),
        ]
    )
    return CachedObject(
        status=status,
        headers=headers,
        stored_at=stored_at,
        ttl=60.0,
        stale_while_revalidate=0.0,
        stale_if_error=0.0,
        size=5,
        path="/p",
        body=b"hello",
    )


# -- key_for -------------------------------------------------------------------------------------


def key(dist: Distribution, req: EdgeRequest) -> str | None:
    return stage.key_for(req, behavior(dist, req.path), dist)


def test_get_and_head_share_a_key(dist: Distribution) -> None:
    get = key(dist, make_request("GET", "/p"))
    assert get is not None
    assert key(dist, make_request("HEAD", "/p")) == get


def test_methods_the_behaviour_does_not_cache_have_no_key(dist: Distribution) -> None:
    assert key(dist, make_request("POST", "/api/x")) is None
    assert key(dist, make_request("PUT", "/api/x")) is None
    assert key(dist, make_request("OPTIONS", "/api/x")) is not None  # cached there
    assert key(dist, make_request("OPTIONS", "/p")) is None  # not cached by the default


def test_caching_disabled_policy_has_no_key(dist: Distribution) -> None:
    assert key(dist, make_request("GET", "/nocache/x")) is None


def test_every_pop_has_its_own_cache(dist: Distribution) -> None:
    iad = key(dist, make_request("GET", "/p", pop="IAD"))
    fra = key(dist, make_request("GET", "/p", pop="FRA"))
    assert iad is not None
    assert fra is not None
    assert iad != fra
    assert iad.startswith("IAD|")
    assert fra.startswith("FRA|")
    assert iad.removeprefix("IAD|") == fra.removeprefix("FRA|")


def test_key_depends_on_the_path(dist: Distribution) -> None:
    assert key(dist, make_request(path="/a")) != key(dist, make_request(path="/b"))


# -- serve / serve_fresh -------------------------------------------------------------------------


def test_serve_gives_age_from_the_clock() -> None:
    obj = stored(stored_at=100.0)
    response = stage.serve(obj, XCache.HIT, 142.9)
    assert (response.status, response.x_cache) == (200, XCache.HIT)
    assert ("age", "42") in response.headers
    assert isinstance(response.source, CachedBody)
    assert response.source.obj is obj
    assert not response.made_by_edge


def test_serve_replaces_a_stored_age() -> None:
    obj = stored([("content-type", "text/html"), ("age", "999")], stored_at=10.0)
    response = stage.serve(obj, XCache.REFRESH_HIT, 15.0)
    assert [v for n, v in response.headers if n == "age"] == ["5"]
    assert obj.headers == [("content-type", "text/html"), ("age", "999")]  # stored copy kept


@given(
    stored_at=st.floats(0, 1e9, allow_nan=False),
    offset=st.floats(-1e6, 1e9, allow_nan=False),
    stale_age=st.one_of(st.none(), st.integers(0, 10**6).map(str)),
)
def test_age_is_never_negative_and_appears_once(
    stored_at: float, offset: float, stale_age: str | None
) -> None:
    headers = [("age", stale_age)] if stale_age is not None else []
    response = stage.serve(stored(headers, stored_at=stored_at), XCache.HIT, stored_at + offset)
    ages = [v for n, v in response.headers if n == "age"]
    assert len(ages) == 1
    assert int(ages[0]) >= 0


@pytest.mark.parametrize(
    "if_none_match",
    ['"v1"', 'W/"v1"', '"v0", "v1"', '"v0" , W/"v1"', "*"],
)
def test_fresh_hit_answers_304_when_the_etag_matches(if_none_match: str) -> None:
    req = make_request(headers=[("if-none-match", if_none_match)])
    response = stage.serve_fresh(stored(), req, 110.0)
    assert (response.status, response.x_cache) == (304, XCache.HIT)
    assert isinstance(response.source, GeneratedBody)
    assert response.source.data == b""
    assert not response.made_by_edge  # the object's 304, not a CloudFront page
    names = [n for n, _ in response.headers]
    assert not {"content-length", "content-type", "content-encoding"} & set(names)
    assert ("etag", '"v1"') in response.headers
    assert ("age", "10") in response.headers


def test_weak_stored_etag_matches_its_strong_form() -> None:
    obj = stored([("etag", 'W/"v1"'), ("content-encoding", "gzip")])
    response = stage.serve_fresh(obj, make_request(headers=[("if-none-match", '"v1"')]), 100.0)
    assert response.status == 304
    assert "content-encoding" not in [n for n, _ in response.headers]


@pytest.mark.parametrize(
    "headers",
    [
        [("if-none-match", '"v2"')],
        [("if-none-match", '"v2"'), ("if-modified-since", LAST_MODIFIED)],  # INM decides
        [("if-modified-since", "Tue, 20 Oct 2015 07:28:00 GMT")],  # modified since
        [("if-modified-since", "not a date")],
        [],
    ],
)
def test_fresh_hit_is_the_object_when_validators_do_not_match(headers: Headers) -> None:
    obj = stored()
    response = stage.serve_fresh(obj, make_request(headers=headers), 100.0)
    assert response.status == 200
    assert isinstance(response.source, CachedBody)
    assert response.source.obj is obj
    assert ("content-length", "5") in response.headers


@pytest.mark.parametrize("since", [LAST_MODIFIED, "Thu, 22 Oct 2015 07:28:00 GMT"])
def test_fresh_hit_answers_304_when_not_modified_since(since: str) -> None:
    response = stage.serve_fresh(
        stored(), make_request(headers=[("if-modified-since", since)]), 100.0
    )
    assert response.status == 304


def test_if_none_match_without_a_stored_etag_is_not_a_match() -> None:
    obj = stored([("content-type", "text/html"), ("last-modified", LAST_MODIFIED)])
    response = stage.serve_fresh(obj, make_request(headers=[("if-none-match", "*")]), 100.0)
    assert response.status == 200


# -- revalidation --------------------------------------------------------------------------------


def test_revalidation_uses_the_stored_validators() -> None:
    assert stage.revalidation_headers(stored(), make_request()) == [
        ("if-none-match", '"v1"'),
        ("if-modified-since", LAST_MODIFIED),
    ]


def test_no_revalidation_headers_without_a_stored_copy_or_validators() -> None:
    assert stage.revalidation_headers(None, make_request()) == []
    assert stage.revalidation_headers(stored([("content-type", "a/b")]), make_request()) == []


@pytest.mark.parametrize("name", ["if-none-match", "if-modified-since"])
def test_viewer_conditional_headers_go_to_the_origin_instead(name: str) -> None:
    req = make_request(headers=[(name, '"other"')])
    assert stage.revalidation_headers(stored(), req) == []


def test_304_headers_update_the_stored_ones_except_the_body_headers() -> None:
    old = [
        ("content-type", "text/html"),
        ("content-length", "5"),
        ("content-encoding", "br"),
        ("cache-control", "max-age=60"),
        ("etag", '"v1"'),
        ("x-kept", "1"),
    ]
    fresh = [
        ("cache-control", "max-age=600"),
        ("etag", '"v2"'),
        ("content-length", "0"),
        ("content-type", "text/plain"),
        ("content-encoding", "identity"),
        ("transfer-encoding", "chunked"),
        ("x-new", "2"),
    ]
    merged = stage.merge_headers(old, fresh)
    assert sorted(merged) == sorted(
        [
            ("content-type", "text/html"),
            ("content-length", "5"),
            ("content-encoding", "br"),
            ("x-kept", "1"),
            ("cache-control", "max-age=600"),
            ("etag", '"v2"'),
            ("x-new", "2"),
        ]
    )


def test_merge_replaces_every_stored_copy_of_an_updated_header() -> None:
    merged = stage.merge_headers(
        [("vary", "a"), ("vary", "b"), ("x", "1")], [("vary", "c"), ("vary", "d")]
    )
    assert merged == [("x", "1"), ("vary", "c"), ("vary", "d")]


_NAMES = st.sampled_from(
    [
        "content-length",
        "content-type",
        "content-encoding",
        "transfer-encoding",
        "etag",
        "cache-control",
        "vary",
        "x-a",
    ]
)
_HEADERS = st.lists(st.tuples(_NAMES, st.text("abc01", max_size=3)), max_size=8)
_BODY_HEADERS = ("content-length", "content-encoding", "content-type")


@given(old=_HEADERS, fresh=_HEADERS)
def test_merge_never_changes_what_describes_the_stored_body(old: Headers, fresh: Headers) -> None:
    merged = stage.merge_headers(old, fresh)
    assert [h for h in merged if h[0] in _BODY_HEADERS] == [h for h in old if h[0] in _BODY_HEADERS]
    for name, value in fresh:  # every other header the 304 sent is now stored
        if name not in (*_BODY_HEADERS, "transfer-encoding"):
            assert (name, value) in merged
            assert [h for h in merged if h[0] == name] == [h for h in fresh if h[0] == name]


# -- as_cached -----------------------------------------------------------------------------------


def test_http_1_0_request_loses_accept_encoding() -> None:
    req = make_request(headers=[("accept-encoding", "gzip"), ("x", "1")], http_version="1.0")
    cached = stage.as_cached(req)
    assert cached.headers == [("x", "1")]
    assert req.headers == [("accept-encoding", "gzip"), ("x", "1")]  # the viewer's is kept
    assert (cached.path, cached.pop, cached.http_version) == (req.path, req.pop, "1.0")


def test_http_1_1_request_keeps_accept_encoding() -> None:
    req = make_request(headers=[("accept-encoding", "gzip")], http_version="1.1")
    assert stage.as_cached(req).headers == [("accept-encoding", "gzip")]


# -- storing and refreshing ----------------------------------------------------------------------

WALL = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(WALL)


@pytest.fixture
def cache(clock: VirtualClock) -> Iterator[HttpCache]:
    with HttpCache(clock=clock.monotonic) as http_cache:
        yield http_cache


def store(
    cache: HttpCache,
    dist: Distribution,
    clock: VirtualClock,
    headers: Headers,
    *,
    status: int = 200,
    req: EdgeRequest | None = None,
    body: bytes = b"hello",
) -> CachedObject | None:
    req = req or make_request(path="/p")
    key = stage.key_for(req, behavior(dist, req.path), dist)
    assert key is not None
    writer = stage.begin_store(
        cache, key, status, headers, req=req, behavior=behavior(dist, req.path), dist=dist,
        wall=clock.wall(),
    )  # fmt: skip
    if writer is None:
        return None
    writer.write(body)
    return writer.commit()


@pytest.mark.parametrize("cache_control", ["no-store", "no-cache", "private"])
def test_origin_saying_not_to_store_gets_no_writer(
    cache: HttpCache, dist: Distribution, clock: VirtualClock, cache_control: str
) -> None:
    # CachingOptimized has MinTTL 1, which overrides these; a policy with MinTTL 0 obeys them.
    policy = CachePolicy("zero-min", min_ttl=0)
    beh = dataclasses.replace(dist.default_behavior, cache_policy=policy)
    req = make_request(path="/p")
    writer = stage.begin_store(
        cache, "k", 200, [("cache-control", cache_control)], req=req, behavior=beh, dist=dist,
        wall=clock.wall(),
    )  # fmt: skip
    assert writer is None


def test_cacheable_response_is_stored_with_its_lifetime(
    cache: HttpCache, dist: Distribution, clock: VirtualClock
) -> None:
    obj = store(cache, dist, clock, [("cache-control", "max-age=120")])
    assert obj is not None
    assert obj.body == b"hello"
    clock.advance(119)
    assert obj.is_fresh(clock.monotonic())
    clock.advance(1)
    assert not obj.is_fresh(clock.monotonic())


def test_post_response_is_not_stored(
    cache: HttpCache, dist: Distribution, clock: VirtualClock
) -> None:
    req = make_request("POST", "/api/x")
    writer = stage.begin_store(
        cache, "k", 200, [("cache-control", "max-age=60")], req=req,
        behavior=behavior(dist, "/api/x"), dist=dist, wall=clock.wall(),
    )  # fmt: skip
    assert writer is None


def test_error_is_cached_for_the_error_caching_minimum_ttl(
    cache: HttpCache, dist: Distribution, clock: VirtualClock
) -> None:
    missing = store(cache, dist, clock, [], status=404)
    assert missing is not None
    assert missing.ttl == 300
    gone = store(cache, dist, clock, [], status=503, req=make_request(path="/q"))
    assert gone is not None
    assert gone.ttl == stage.DEFAULT_ERROR_CACHING_MIN_TTL == 10


def test_refresh_restarts_the_lifetime_with_the_304s_headers(
    cache: HttpCache, dist: Distribution, clock: VirtualClock
) -> None:
    req = make_request(path="/p")
    key = stage.key_for(req, behavior(dist, "/p"), dist)
    assert key is not None
    obj = store(
        cache, dist, clock,
        [("content-type", "text/html"), ("content-length", "5"), ("cache-control", "max-age=60"),
         ("etag", '"v1"')],
    )  # fmt: skip
    assert obj is not None
    clock.advance(90)
    assert not obj.is_fresh(clock.monotonic())
    refreshed = stage.refresh(
        cache, key, obj, [("cache-control", "max-age=30"), ("etag", '"v1"'),
                          ("content-length", "0")],
        req=req, behavior=behavior(dist, "/p"), dist=dist, wall=clock.wall(),
    )  # fmt: skip
    assert refreshed is not None
    assert refreshed.is_fresh(clock.monotonic())
    assert refreshed.age(clock.monotonic()) == 0
    assert ("cache-control", "max-age=30") in refreshed.headers
    assert ("content-length", "5") in refreshed.headers  # still the stored body's
    clock.advance(30)
    assert not refreshed.is_fresh(clock.monotonic())  # the 304's max-age, from the refresh
    assert cache.lookup(key) is refreshed


def test_refresh_keeps_the_weak_etag_of_a_compressed_copy(
    cache: HttpCache, dist: Distribution, clock: VirtualClock
) -> None:
    req = make_request(path="/p")
    key = stage.key_for(req, behavior(dist, "/p"), dist)
    assert key is not None
    obj = store(cache, dist, clock, [("content-encoding", "gzip"), ("etag", 'W/"v1"')])
    assert obj is not None
    refreshed = stage.refresh(
        cache, key, obj, [("etag", '"v1"')], req=req, behavior=behavior(dist, "/p"), dist=dist,
        wall=clock.wall(),
    )  # fmt: skip
    assert refreshed is not None
    assert [v for n, v in refreshed.headers if n == "etag"] == ['W/"v1"']


def test_refresh_of_an_object_no_longer_cached_is_none(
    cache: HttpCache, dist: Distribution, clock: VirtualClock
) -> None:
    req = make_request(path="/p")
    refreshed = stage.refresh(
        cache, "gone", stored(), [], req=req, behavior=behavior(dist, "/p"), dist=dist,
        wall=clock.wall(),
    )  # fmt: skip
    assert refreshed is None
