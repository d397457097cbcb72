"""The HTTPS listener next to HTTP, with a locally generated CA, and the viewer protocol policy
as CloudFront applies it: redirect-to-https answers 301 to the local HTTPS port, https-only 403
over HTTP; CloudFront-Forwarded-Proto says which the viewer used."""

from __future__ import annotations

import aiohttp

from tests.e2e.conftest import StartEdge

CONFIG = """
[[origins]]
id = "app"
url = "{origin}"

[[behaviors]]
path = "/secure/*"
origin = "app"
cache_policy = "CachingDisabled"
viewer_protocol_policy = "https-only"

[[behaviors]]
path = "/login*"
origin = "app"
cache_policy = "CachingDisabled"
viewer_protocol_policy = "redirect-to-https"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
origin_request_policy = "AllViewerAndCloudFrontHeaders-2022-06"
"""


async def test_https_listener_with_the_local_ca(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG)
    assert edge.server.tls is not None
    assert edge.server.https_port
    https = f"https://localhost:{edge.server.https_port}"
    tls = aiohttp.TCPConnector(ssl=edge.server.tls.client_context())
    async with aiohttp.ClientSession(connector=tls) as session:
        async with session.get(https + "/page") as response:
            assert response.status == 200
            assert response.headers["X-Cache"] == "Miss from cloudfront"
        assert edge.origin.seen[-1]["headers"]["cloudfront-forwarded-proto"] == "https"
        async with session.get(https + "/secure/x") as response:
            assert response.status == 200
    await edge.get("/page")
    assert edge.origin.seen[-1]["headers"]["cloudfront-forwarded-proto"] == "http"


async def test_viewer_protocol_policies_over_http(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG)
    status, headers, _ = await edge.get("/login?next=/a", Host="example.com:8080")
    assert status == 301
    assert headers["Location"] == f"https://example.com:{edge.server.https_port}/login?next=/a"
    assert headers["X-Cache"] == "Redirect from cloudfront"
    status, headers, _ = await edge.get("/secure/x")
    assert (status, headers["X-Cache"]) == (403, "Error from cloudfront")


async def test_the_redirect_keeps_the_root_url_the_viewer_asked_for(start_edge: StartEdge) -> None:
    edge = await start_edge(
        CONFIG.replace('path = "/login*"', 'path = "/index.html"')
        + '\n[distribution]\ndefault_root_object = "index.html"\n'
    )
    status, headers, _ = await edge.get("/", Host="example.com")
    assert status == 301
    assert headers["Location"] == f"https://example.com:{edge.server.https_port}/"
