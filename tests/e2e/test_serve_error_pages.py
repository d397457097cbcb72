"""Custom error responses: the error page is cached and skips the viewer-response function."""

from __future__ import annotations

from tests.e2e.conftest import StartEdge

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
