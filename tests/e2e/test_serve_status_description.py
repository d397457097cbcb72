"""statusDescription in viewer-response events: filled on misses, hits and revalidations alike
(it was undefined on cache hits)."""

from __future__ import annotations

from tests.e2e.conftest import StartEdge

CONFIG = """
[[origins]]
id = "app"
url = "{origin}"

[[functions]]
name = "echo"
file = "echo.js"

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"
viewer_response = "echo"
"""

ECHO_JS = """
function handler(event) {
  var response = event.response;
  response.headers['x-description'] = { value: String(response.statusDescription) };
  return response;
}
"""


async def test_status_description_is_the_same_on_miss_hit_and_refresh(
    start_edge: StartEdge,
) -> None:
    edge = await start_edge(CONFIG, files={"echo.js": ECHO_JS})
    seen = []
    for path in ("/page", "/page", "/etag", "/etag"):
        _, headers, _ = await edge.get(path)
        seen.append((headers["X-Cache"].split()[0], headers["X-Description"]))
    edge.clock.advance(11)  # /etag has max-age=10 and an ETag: revalidated, RefreshHit
    _, headers, _ = await edge.get("/etag")
    seen.append((headers["X-Cache"].split()[0], headers["X-Description"]))
    assert seen == [
        ("Miss", "OK"),
        ("Hit", "OK"),
        ("Miss", "OK"),
        ("Hit", "OK"),
        ("RefreshHit", "OK"),
    ]
