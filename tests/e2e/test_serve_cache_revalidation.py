"""Conditional requests against the cache: a fresh hit answers If-None-Match itself."""

from __future__ import annotations

from tests.e2e.conftest import BASIC, StartEdge


async def test_fresh_hit_answers_conditional_requests_with_304(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    await edge.get("/etag")
    status, headers, body = await edge.get("/etag", **{"If-None-Match": '"v1"'})
    assert (status, body) == (304, b"")
    assert headers["X-Cache"] == "Hit from cloudfront"
