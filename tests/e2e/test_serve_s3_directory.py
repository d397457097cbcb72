"""An S3 origin mapped to a directory ([origins_local]) is served as S3 answers behind
CloudFront: objects with ETag and Last-Modified, 403 AccessDenied for a missing key (OAC without
ListBucket), and the default root object for "/"."""

from __future__ import annotations

from tests.e2e.conftest import StartEdge

CONFIG = """
[[origins]]
id = "site"
url = "https://site-bucket.s3.us-east-1.amazonaws.com"

[origins_local]
site = "public"

[distribution]
default_root_object = "index.html"

[default_behavior]
origin = "site"
cache_policy = "CachingOptimized"
"""


async def test_directory_served_as_an_s3_bucket(start_edge: StartEdge) -> None:
    edge = await start_edge(
        CONFIG,
        files={"public/index.html": "<h1>home</h1>", "public/css/site.css": "body{}"},
    )
    status, headers, body = await edge.get("/")
    assert (status, body) == (200, b"<h1>home</h1>")
    assert headers["Content-Type"].startswith("text/html")
    assert headers["ETag"].startswith('"')
    assert "Last-Modified" in headers
    status, headers, body = await edge.get("/css/site.css")
    assert (status, body) == (200, b"body{}")
    assert headers["X-Cache"] == "Miss from cloudfront"
    assert (await edge.get("/css/site.css"))[1]["X-Cache"] == "Hit from cloudfront"
    status, headers, body = await edge.get("/missing.html")
    assert status == 403
    assert b"<Code>AccessDenied</Code>" in body
    banner = "\n".join(edge.server.banner())
    assert "served as an S3 bucket at http://127.0.0.1:" in banner
