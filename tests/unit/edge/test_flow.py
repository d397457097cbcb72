"""The flow object: CloudFront's own responses, who made a response, and releasing whatever a
response's body source holds (origin connection, unfinished cache write)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edgesim.edge.cache import CachedObject, CacheWriter, HttpCache
from edgesim.edge.flow import (
    CachedBody,
    EdgeResponse,
    GeneratedBody,
    OriginBody,
    XCache,
    generated,
)
from edgesim.edge.ttl import TtlDecision
from tests.unit.edge.stages.conftest import (
    BASE,
    FakeOriginResponse,
    make_dist,
    make_flow,
    make_request,
)


@pytest.fixture
def cache() -> Iterator[HttpCache]:
    with HttpCache() as http_cache:
        yield http_cache


def writer_for(cache: HttpCache, key: str = "k") -> CacheWriter:
    return cache.begin(
        key, status=200, headers=[], decision=TtlDecision(True, 60, reason="t"), path="/"
    )


@pytest.mark.parametrize(
    ("member", "text"),
    [
        (XCache.HIT, "Hit"),
        (XCache.REFRESH_HIT, "RefreshHit"),
        (XCache.MISS, "Miss"),
        (XCache.ERROR, "Error"),
        (XCache.REDIRECT, "Redirect"),
        (XCache.FUNCTION_GENERATED, "FunctionGeneratedResponse"),
        (XCache.FUNCTION_EXECUTION_ERROR, "FunctionExecutionError"),
        (XCache.FUNCTION_VALIDATION_ERROR, "FunctionValidationError"),
        (XCache.FUNCTION_THROTTLED, "FunctionThrottledError"),
    ],
)
def test_x_cache_values_are_cloudfronts(member: XCache, text: str) -> None:
    assert str(member) == text


def test_generated_is_plain_text_made_by_the_edge() -> None:
    response = generated(502, "origin unreachable\n", XCache.ERROR)
    assert (response.status, response.x_cache) == (502, XCache.ERROR)
    assert response.headers == [("content-type", "text/plain; charset=utf-8")]
    assert isinstance(response.source, GeneratedBody)
    assert response.source.data == b"origin unreachable\n"
    assert response.made_by_edge


def test_generated_without_text_has_no_content_type() -> None:
    response = generated(301, "", XCache.REDIRECT)
    assert response.headers == []
    assert response.made_by_edge


def test_generated_text_is_utf8() -> None:
    response = generated(400, "POP «XYZ»", XCache.ERROR)
    assert isinstance(response.source, GeneratedBody)
    assert response.source.data == "POP «XYZ»".encode()


def test_only_edge_generated_bodies_are_made_by_edge() -> None:
    obj = CachedObject(200, [], 0.0, 60.0, 0.0, 0.0, 0, "/")
    origin = OriginBody(FakeOriginResponse())  # type: ignore[arg-type]
    assert not EdgeResponse(200, [], XCache.HIT, CachedBody(obj)).made_by_edge
    assert not EdgeResponse(200, [], XCache.MISS, origin).made_by_edge
    function_body = GeneratedBody(b"x", made_by_edge=False)  # a viewer-response function's
    assert not EdgeResponse(200, [], XCache.MISS, function_body).made_by_edge
    assert EdgeResponse(200, [], XCache.FUNCTION_GENERATED, GeneratedBody(b"x")).made_by_edge


def test_release_aborts_the_writer_and_releases_the_origin(cache: HttpCache) -> None:
    fake = FakeOriginResponse()
    writer = writer_for(cache)
    writer.write(b"partial")
    body = OriginBody(fake, writer)  # type: ignore[arg-type]
    EdgeResponse(200, [], XCache.MISS, body).release()
    assert fake.released == 1
    assert body.writer is None
    assert writer.commit() is None  # aborted: the partial body never becomes a cache entry
    assert "k" not in cache
    assert cache.stats()["writers"] == 0


def test_release_without_a_writer_releases_the_origin() -> None:
    fake = FakeOriginResponse()
    EdgeResponse(200, [], XCache.MISS, OriginBody(fake)).release()  # type: ignore[arg-type]
    assert fake.released == 1


def test_release_after_a_finished_write_keeps_the_entry(cache: HttpCache) -> None:
    fake = FakeOriginResponse()
    writer = writer_for(cache)
    writer.write(b"all")
    writer.commit()
    EdgeResponse(200, [], XCache.MISS, OriginBody(fake)).release()  # type: ignore[arg-type]
    entry = cache.lookup("k")
    assert entry is not None
    assert entry.body == b"all"


def test_release_of_a_generated_body_releases_its_fill(cache: HttpCache) -> None:
    fake = FakeOriginResponse()
    writer = writer_for(cache)
    fill = OriginBody(fake, writer)  # type: ignore[arg-type]
    source = GeneratedBody(b"replaced", made_by_edge=False, fill=fill)
    response = EdgeResponse(200, [], XCache.MISS, source)
    response.release()
    assert source.fill is None
    assert fake.released == 1
    assert writer.commit() is None
    response.release()  # twice is harmless
    assert fake.released == 1


def test_release_of_a_cached_body_leaves_the_entry(cache: HttpCache) -> None:
    writer = writer_for(cache)
    writer.write(b"body")
    obj = writer.commit()
    assert obj is not None
    EdgeResponse(200, [], XCache.HIT, CachedBody(obj)).release()
    assert cache.lookup("k") is obj
    assert b"".join(obj.body_chunks()) == b"body"


def test_flow_pop_trace_and_duration(tmp_path: Path) -> None:
    flow = make_flow(make_dist(tmp_path, BASE), make_request(pop="NRT"))
    assert flow.pop == "NRT"
    flow.mark("cache", result="miss")
    flow.mark("origin", status=200)
    assert [(t.stage, t.detail) for t in flow.trace] == [
        ("cache", {"result": "miss"}),
        ("origin", {"status": 200}),
    ]
    assert 0 <= flow.trace[0].at <= flow.trace[1].at
    assert flow.duration_ms >= flow.trace[1].at * 1000


def test_an_origin_body_reaches_its_response_once_however_often_released() -> None:
    fake = FakeOriginResponse(200)
    body = OriginBody(fake)  # type: ignore[arg-type]
    response = EdgeResponse(200, [], XCache.MISS, body)
    body.release_connection()  # the body was read to its end
    response.release()  # then the steps on the way out let it go
    body.release()
    assert fake.released == 1
    assert body.released
