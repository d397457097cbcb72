"""Viewer and origin headers through the edge: non-ASCII values both ways, and CloudFront-Viewer-*
headers that only the edge may set."""

from __future__ import annotations

from tests.e2e.conftest import PASS_JS, WITH_FUNCTION, StartEdge


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
