"""Edge cases a review found: each pins CloudFront's behaviour (or a safe choice) from outside."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import StartEdge

PASS_JS = "function handler(event) { return event.request; }"

WITH_FUNCTION = """
[[origins]]
id = "app"
url = "{origin}"

[[functions]]
name = "pass"
file = "pass.js"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
origin_request_policy = "AllViewer"
viewer_request = "pass"
"""


async def test_pass_through_function_with_hidden_headers_is_not_a_validation_error(
    start_edge: StartEdge,
) -> None:
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": PASS_JS})
    status, _, _ = await edge.get(
        "/x", **{"Connection": "keep-alive", "X-Forwarded-Proto": "https", "X-Real-IP": "1.2.3.4"}
    )
    assert status == 200


async def test_unchanged_query_and_cookies_reach_the_origin_as_sent(start_edge: StartEdge) -> None:
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": PASS_JS})
    await edge.get("/x?b=1&a=2&b=3&c=&&d", Cookie="z=1; a=2")
    seen = edge.origin.seen[-1]
    assert seen["path_qs"] == "/x?b=1&a=2&b=3&c=&&d"
    # Cookies.md: "CloudFront sorts the cookies in natural order by cookie name" when forwarding.
    assert seen["headers"]["cookie"] == "a=2; z=1"


async def test_path_reaches_origin_byte_for_byte(start_edge: StartEdge) -> None:
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": PASS_JS})
    await edge.get("/public/%2e%2e/admin/%7E?x=%7E")
    assert edge.origin.seen[-1]["path_qs"] == "/public/%2e%2e/admin/%7E?x=%7E"


async def test_non_ascii_header_values_survive_both_ways(start_edge: StartEdge) -> None:
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": PASS_JS})
    edge.origin.headers = {"X-Out": "café"}
    _, headers, _ = await edge.get("/x", **{"X-Name": "café"})
    assert edge.origin.seen[-1]["headers"]["x-name"] == "café"
    assert headers["X-Out"] == "café"


async def test_viewer_cannot_spoof_cloudfront_viewer_headers(start_edge: StartEdge) -> None:
    edge = await start_edge(
        """
        [[origins]]
        id = "app"
        url = "{origin}"

        [default_behavior]
        origin = "app"
        cache_policy = "CachingDisabled"
        origin_request_policy = "AllViewerAndCloudFrontHeaders-2022-06"
        """
    )
    await edge.get("/x", **{"x-edgesim-viewer-country": "KP", "CloudFront-Viewer-Country": "US"})
    assert edge.origin.seen[-1]["headers"]["cloudfront-viewer-country"] == "KP"


async def test_get_with_a_body_is_403(start_edge: StartEdge) -> None:
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": PASS_JS})
    status, _, _ = await edge.get("/x", data=b"hello")
    assert status == 403
    assert edge.origin.seen == []


async def test_line_break_in_a_function_header_is_a_validation_error(
    start_edge: StartEdge,
) -> None:
    js = (
        "function handler(event) { event.request.headers['x-a'] = {value: 'a\\r\\nx-b: 1'};"
        " return event.request; }"
    )
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": js})
    status, headers, body = await edge.get("/x")
    assert status == 502
    assert headers["X-Cache"] == "FunctionValidationError from cloudfront"
    assert b"line break" in body
    assert edge.server.cache.stats().get("writers", 0) == 0


BASIC = """
[[origins]]
id = "app"
url = "{origin}"

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"
origin_request_policy = "AllViewer"
"""


async def test_stale_copy_served_when_origin_becomes_unreachable(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    await edge.get("/page")
    edge.clock.advance(61)  # past max-age=60
    await edge.server.origins.close()
    origin_url = edge.origin.url
    for origin in edge.server.dist.origins.values():
        object.__setattr__(origin, "url", "http://127.0.0.1:9")
    try:
        status, headers, body = await edge.get("/page")
    finally:
        for origin in edge.server.dist.origins.values():
            object.__setattr__(origin, "url", origin_url)
    assert (status, body) == (200, b"hello from origin")
    assert headers["X-Cache"] == "RefreshHit from cloudfront"


async def test_forwarding_headers_are_appended(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    await edge.get("/x", **{"X-Forwarded-For": "203.0.113.9", "Via": "1.1 corp-proxy"})
    seen = edge.origin.seen[-1]["headers"]
    assert seen["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert seen["via"].startswith("1.1 corp-proxy, 1.1 ")
    assert seen["via"].endswith(".cloudfront.net (CloudFront)")


async def test_fresh_hit_answers_conditional_requests_with_304(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    await edge.get("/etag")
    status, headers, body = await edge.get("/etag", **{"If-None-Match": '"v1"'})
    assert (status, body) == (304, b"")
    assert headers["X-Cache"] == "Hit from cloudfront"


async def test_overlong_uri_is_414_with_cloudfront_headers(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    status, headers, _ = await edge.get("/" + "a" * 9000)
    assert status == 414
    assert "X-Amz-Cf-Id" in headers
    assert edge.origin.seen == []


ERRORS = """
[[origins]]
id = "app"
url = "{origin}"

[[functions]]
name = "stamp"
file = "stamp.js"

[[custom_error_responses]]
error_code = 404
response_page_path = "/errors/404.html"
response_code = 200
error_caching_min_ttl = 30

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"
viewer_response = "stamp"
"""

STAMP_JS = """
function handler(event) {
  event.response.headers['x-stamped'] = { value: 'yes' };
  return event.response;
}
"""


async def test_custom_error_page_is_cached_and_skips_viewer_response(
    start_edge: StartEdge,
) -> None:
    edge = await start_edge(ERRORS, files={"stamp.js": STAMP_JS})
    for _ in range(2):
        status, headers, body = await edge.get("/status/404")
        assert (status, body) == (200, b"hello from origin")
        assert "X-Stamped" not in headers
    # First time: the 404 and the page; then both come from the cache.
    assert [s["path_qs"] for s in edge.origin.seen] == ["/status/404", "/errors/404.html"]


async def test_reload_that_changes_pops_is_refused(start_edge: StartEdge, tmp_path: Path) -> None:
    from edgesim.distribution.config import load_config

    edge = await start_edge(BASIC + '\n[edges]\npops = ["IAD"]\n')
    edge.config.write_text(edge.config.read_text().replace('["IAD"]', '["IAD", "FRA"]'))
    edge.server.reload_config(load_config(edge.config))
    assert edge.server.dist.edges.pops == ("IAD",)
    assert any("restart" in line for line in edge.server.stream.lines)  # type: ignore[attr-defined]


async def test_bad_invalidation_pattern_is_400(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    async with edge.session.post(
        edge.admin + "/cache/invalidations", json={"paths": ["/a*b"]}
    ) as response:
        assert response.status == 400
        assert "*" in (await response.json())["message"]


async def test_functions_see_the_current_time(start_edge: StartEdge) -> None:
    import time

    js = (
        "function handler(event) {"
        " return {statusCode: 200, headers: {'x-now': {value: String(Date.now())}}}; }"
    )
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": js})
    _, headers, _ = await edge.get("/x")
    assert abs(int(headers["X-Now"]) - time.time() * 1000) < 60_000
