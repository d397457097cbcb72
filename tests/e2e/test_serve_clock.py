"""One clock for the whole edge: advancing it ages and expires cached objects, moves the
functions' Date.now() and lands KVS writes — without sleeping."""

from __future__ import annotations

from tests.e2e.conftest import StartEdge

CONFIG = """
[[origins]]
id = "app"
url = "{origin}"

[[functions]]
name = "clock"
file = "clock.js"

[edges]
pops = ["IAD"]

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"

[[behaviors]]
path = "/now"
origin = "app"
cache_policy = "CachingDisabled"
viewer_request = "clock"
"""

CLOCK_JS = """
function handler(event) {
  return { statusCode: 200, body: String(Date.now()) };
}
"""


async def test_cached_object_ages_and_expires_with_the_edge_clock(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG, files={"clock.js": CLOCK_JS})  # origin: max-age=60
    _, headers, _ = await edge.get("/page")
    assert headers["X-Cache"] == "Miss from cloudfront"
    edge.clock.advance(42)
    _, headers, _ = await edge.get("/page")
    assert (headers["X-Cache"], headers["Age"]) == ("Hit from cloudfront", "42")
    edge.clock.advance(20)  # 62 s since it was stored: past max-age=60
    _, headers, _ = await edge.get("/page")
    assert headers["X-Cache"] == "Miss from cloudfront"
    assert len(edge.origin.seen) == 2


async def test_functions_read_the_edge_clock(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG, files={"clock.js": CLOCK_JS})
    _, _, first = await edge.get("/now")
    _, _, again = await edge.get("/now")
    assert first == again  # a virtual clock stands still until moved
    edge.clock.advance(90)
    _, _, later = await edge.get("/now")
    assert int(later) - int(first) == 90_000
    assert int(first) == int(edge.clock.wall().timestamp() * 1000) - 90_000
