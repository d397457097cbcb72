"""When the origin fails: an expired cached copy is served instead of an error."""

from __future__ import annotations

from tests.e2e.conftest import BASIC, StartEdge


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
