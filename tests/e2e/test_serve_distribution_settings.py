"""[distribution] settings through serve: the default root object answers the root only, and
the geographic restriction answers 403 (or the custom error page for 403) by viewer country."""

from __future__ import annotations

from tests.e2e.conftest import StartEdge

CONFIG = """
[[origins]]
id = "app"
url = "{origin}"

[distribution]
default_root_object = "index.html"
geo_restriction = { type = "blacklist", countries = ["KP", "RU"] }

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
"""


async def test_default_root_object_applies_to_the_root_only(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG)
    assert (await edge.get("/"))[0] == 200
    assert edge.origin.seen[-1]["path_qs"] == "/index.html"
    assert (await edge.get("/blog/"))[0] == 200
    assert edge.origin.seen[-1]["path_qs"] == "/blog/"


async def test_geo_restriction_answers_403_for_blocked_countries(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG)
    before = len(edge.origin.seen)
    status, headers, _ = await edge.get("/x", **{"x-edgesim-viewer-country": "RU"})
    assert (status, headers["X-Cache"]) == (403, "Error from cloudfront")
    assert len(edge.origin.seen) == before
    assert (await edge.get("/x", **{"x-edgesim-viewer-country": "DE"}))[0] == 200


async def test_geo_restriction_uses_the_custom_error_page_for_403(start_edge: StartEdge) -> None:
    edge = await start_edge(
        CONFIG
        + """
[[custom_error_responses]]
error_code = 403
response_page_path = "/blocked.html"
response_code = 200
"""
    )
    status, _, body = await edge.get("/x", **{"x-edgesim-viewer-country": "KP"})
    assert status == 200
    assert body == b"hello from origin"  # the page, fetched from the origin
    assert edge.origin.seen[-1]["path_qs"] == "/blocked.html"
