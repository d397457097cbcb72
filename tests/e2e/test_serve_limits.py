"""Requests CloudFront refuses before any function or origin: a GET with a body, an overlong URI."""

from __future__ import annotations

from tests.e2e.conftest import BASIC, PASS_JS, WITH_FUNCTION, StartEdge


async def test_get_with_a_body_is_403(start_edge: StartEdge) -> None:
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": PASS_JS})
    status, _, _ = await edge.get("/x", data=b"hello")
    assert status == 403
    assert edge.origin.seen == []


async def test_overlong_uri_is_414_with_cloudfront_headers(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    status, headers, _ = await edge.get("/" + "a" * 9000)
    assert status == 414
    assert "X-Amz-Cf-Id" in headers
    assert edge.origin.seen == []
