"""What reaches the origin: the viewer's path, query and cookies as sent, and the forwarding
headers CloudFront appends."""

from __future__ import annotations

from tests.e2e.conftest import BASIC, PASS_JS, WITH_FUNCTION, StartEdge


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


async def test_forwarding_headers_are_appended(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    await edge.get("/x", **{"X-Forwarded-For": "203.0.113.9", "Via": "1.1 corp-proxy"})
    seen = edge.origin.seen[-1]["headers"]
    assert seen["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert seen["via"].startswith("1.1 corp-proxy, 1.1 ")
    assert seen["via"].endswith(".cloudfront.net (CloudFront)")
