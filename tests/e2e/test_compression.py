"""``serve`` compresses origin responses as CloudFront does ("Compress objects automatically").

A small origin of our own serves the objects these tests need (HTML of compressible size, a small
page, an image, a pre-compressed page, a chunked page, a 404 and 304 revalidations); the viewer
is an aiohttp client with ``auto_decompress=False`` so the bytes on the wire can be checked.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import brotli
import pytest
from aiohttp import web

from tests.e2e.conftest import Edge, StartEdge

PAGE = b"".join(b"<li>item %d of a compressible page</li>\n" % i for i in range(150))
assert 1_000 < len(PAGE) < 10_000


class MiniOrigin:
    def __init__(self) -> None:
        self.url = ""
        self.seen: list[dict[str, str]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(
            {k.lower(): v for k, v in request.headers.items()} | {":path": request.path}
        )
        name = request.path.rsplit("/", 1)[1]
        html = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "max-age=10"}
        if name == "page.html":
            headers = html | {"ETag": '"p1"'}
            # Weak comparison, as RFC 9110 asks of If-None-Match: W/"p1" matches "p1".
            if request.headers.get("If-None-Match", "").removeprefix("W/") == '"p1"':
                return web.Response(status=304, headers=headers)
            return web.Response(body=PAGE, headers=headers)
        if name == "small.html":
            return web.Response(body=PAGE[:500], headers=html)
        if name == "image.png":
            return web.Response(body=PAGE, headers={"Content-Type": "image/png"})
        if name == "pre.html":
            return web.Response(
                body=gzip.compress(PAGE), headers=html | {"Content-Encoding": "gzip"}
            )
        if name == "missing.html":
            return web.Response(status=404, body=PAGE, headers=html)
        if name == "chunked.html":
            response = web.StreamResponse(headers=html)
            response.enable_chunked_encoding()
            await response.prepare(request)
            await response.write(PAGE)
            await response.write_eof()
            return response
        return web.Response(status=400, text=f"unknown object {name}")


@pytest.fixture
async def mini_origin() -> AsyncIterator[MiniOrigin]:
    origin = MiniOrigin()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", origin.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    origin.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield origin
    await runner.cleanup()


CONFIG = """
[[origins]]
id = "app"
url = "MINI"

[[functions]]
name = "gen"
file = "gen.js"

[[functions]]
name = "rewrite"
file = "rewrite.js"

[[cache_policies]]
name = "gzip-only"
default_ttl = 60
max_ttl = 3600
enable_gzip = true

[[behaviors]]
path = "/raw/*"
origin = "app"
cache_policy = "CachingOptimized"
compress = false

[[behaviors]]
path = "/gz/*"
origin = "app"
cache_policy = "gzip-only"

[[behaviors]]
path = "/nocache/*"
origin = "app"
cache_policy = "CachingDisabled"

[[behaviors]]
path = "/fn/*"
origin = "app"
cache_policy = "CachingOptimized"
viewer_request = "gen"

[[behaviors]]
path = "/vr/*"
origin = "app"
cache_policy = "CachingOptimized"
viewer_response = "rewrite"

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"
"""

GEN_JS = """
function handler(event) {
  var items = [];
  for (var i = 0; i < 150; i++) { items.push('<li>generated ' + i + '</li>'); }
  return { statusCode: 200, statusDescription: 'OK',
           headers: { 'content-type': { value: 'text/html' } },
           body: items.join('\\n') };
}
"""

REWRITE_JS = """
function handler(event) {
  var response = event.response;
  var ce = response.headers['content-encoding'];
  response.headers['x-seen-encoding'] = { value: ce ? ce.value : 'none' };
  if (event.request.headers['x-replace']) {
    response.body = { encoding: 'text', data: 'replaced by the function' };
  }
  return response;
}
"""


async def start(start_edge: StartEdge, origin: MiniOrigin) -> Edge:
    return await start_edge(
        CONFIG.replace("MINI", origin.url), files={"gen.js": GEN_JS, "rewrite.js": REWRITE_JS}
    )


async def fetch(
    edge: Edge, path: str, accept: str | None, *, method: str = "GET", **headers: str
) -> tuple[int, Any, bytes]:
    """A request with exactly this Accept-Encoding (None: no Accept-Encoding header at all)."""
    skip = ["Accept-Encoding"] if accept is None else []
    if accept is not None:
        headers["Accept-Encoding"] = accept
    async with edge.session.request(
        method, edge.url + path, headers=headers, skip_auto_headers=skip
    ) as response:
        return response.status, response.headers, await response.read()


async def test_brotli_preferred_and_the_hit_is_the_same_compressed_copy(
    start_edge: StartEdge, mini_origin: MiniOrigin
) -> None:
    edge = await start(start_edge, mini_origin)
    status, headers, body = await fetch(edge, "/page.html", "gzip, deflate, br")
    assert status == 200
    assert headers["X-Cache"] == "Miss from cloudfront"
    assert headers["Content-Encoding"] == "br"
    assert "Content-Length" not in headers
    assert headers["ETag"] == 'W/"p1"'  # strong ETag made weak
    assert "Accept-Encoding" in headers.getall("Vary")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert brotli.decompress(body) == PAGE
    assert len(body) < len(PAGE)
    assert mini_origin.seen[0]["accept-encoding"] == "br,gzip"  # normalised (reference B.3)

    status, hit_headers, hit_body = await fetch(edge, "/page.html", "br, gzip")
    assert hit_headers["X-Cache"] == "Hit from cloudfront"
    assert hit_body == body
    assert hit_headers["Content-Encoding"] == "br"
    assert hit_headers["ETag"] == 'W/"p1"'
    assert len(mini_origin.seen) == 1

    # HEAD shares the GET entry: the compressed copy's headers, no body.
    status, head_headers, head_body = await fetch(edge, "/page.html", "gzip, br", method="HEAD")
    assert (status, head_body) == (200, b"")
    assert head_headers["X-Cache"] == "Hit from cloudfront"
    assert head_headers["Content-Encoding"] == "br"
    assert len(mini_origin.seen) == 1


async def test_gzip_only_viewer_gets_gzip_from_its_own_cache_entry(
    start_edge: StartEdge, mini_origin: MiniOrigin
) -> None:
    edge = await start(start_edge, mini_origin)
    await fetch(edge, "/page.html", "br")
    status, headers, body = await fetch(edge, "/page.html", "gzip")
    assert status == 200
    assert headers["X-Cache"] == "Miss from cloudfront"  # keyed apart from the br copy
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == PAGE
    assert mini_origin.seen[-1]["accept-encoding"] == "gzip"
    _, headers, again = await fetch(edge, "/page.html", "gzip;q=1.0, identity")
    assert headers["X-Cache"] == "Hit from cloudfront"
    assert again == body


async def test_gzip_only_policy_uses_gzip_for_a_viewer_accepting_both(
    start_edge: StartEdge, mini_origin: MiniOrigin
) -> None:
    edge = await start(start_edge, mini_origin)
    _, headers, body = await fetch(edge, "/gz/page.html", "gzip, br")
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == PAGE
    _, headers, body = await fetch(edge, "/gz/page.html", "br")
    assert "Content-Encoding" not in headers
    assert body == PAGE


@pytest.mark.parametrize("accept", [None, "deflate", "identity", "gzip;q=0, br;q=0"])
async def test_no_acceptable_coding_gets_identity(
    start_edge: StartEdge, mini_origin: MiniOrigin, accept: str | None
) -> None:
    edge = await start(start_edge, mini_origin)
    status, headers, body = await fetch(edge, "/page.html", accept)
    assert (status, body) == (200, PAGE)
    assert "Content-Encoding" not in headers
    assert headers["Content-Length"] == str(len(PAGE))
    assert headers["ETag"] == '"p1"'  # untouched when not compressed
    expected = None if accept is None else "identity"
    assert mini_origin.seen[0].get("accept-encoding") == expected


@pytest.mark.parametrize(
    "path",
    [
        "/small.html",  # 500 bytes: below 1,000
        "/image.png",  # not a listed Content-Type
        "/raw/page.html",  # compress = false
        "/nocache/page.html",  # CachingDisabled: TTL 0 and no gzip/brotli
        "/chunked.html",  # no Content-Length
    ],
)
async def test_not_compressed(start_edge: StartEdge, mini_origin: MiniOrigin, path: str) -> None:
    edge = await start(start_edge, mini_origin)
    status, headers, body = await fetch(edge, path, "gzip, br")
    assert status == 200
    assert "Content-Encoding" not in headers
    assert body in (PAGE, PAGE[:500])


async def test_origin_compressed_response_passes_as_is(
    start_edge: StartEdge, mini_origin: MiniOrigin
) -> None:
    edge = await start(start_edge, mini_origin)
    _, headers, body = await fetch(edge, "/pre.html", "br")
    assert headers["Content-Encoding"] == "gzip"
    assert body == gzip.compress(PAGE)
    assert gzip.decompress(body) == PAGE


async def test_404_is_compressed(start_edge: StartEdge, mini_origin: MiniOrigin) -> None:
    edge = await start(start_edge, mini_origin)
    status, headers, body = await fetch(edge, "/missing.html", "gzip")
    assert status == 404
    assert headers["X-Cache"] == "Error from cloudfront"
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == PAGE


async def test_http_1_0_is_served_uncompressed(
    start_edge: StartEdge, mini_origin: MiniOrigin
) -> None:
    edge = await start(start_edge, mini_origin)
    async with (
        aiohttp.ClientSession(auto_decompress=False, version=aiohttp.HttpVersion10) as old,
        old.get(edge.url + "/page.html", headers={"Accept-Encoding": "gzip, br"}) as response,
    ):
        body = await response.read()
        assert "Content-Encoding" not in response.headers
    assert body == PAGE
    assert "accept-encoding" not in mini_origin.seen[0]  # CloudFront removes it


async def test_function_generated_response_is_not_compressed(
    start_edge: StartEdge, mini_origin: MiniOrigin
) -> None:
    edge = await start(start_edge, mini_origin)
    status, headers, body = await fetch(edge, "/fn/page.html", "gzip, br")
    assert status == 200
    assert headers["X-Cache"] == "FunctionGeneratedResponse from cloudfront"
    assert "Content-Encoding" not in headers
    assert len(body) > 1_000
    assert body.startswith(b"<li>generated 0</li>")


async def test_viewer_response_function_sees_the_compressed_response(
    start_edge: StartEdge, mini_origin: MiniOrigin
) -> None:
    edge = await start(start_edge, mini_origin)
    for x_cache in ("Miss", "Hit"):
        _, headers, body = await fetch(edge, "/vr/page.html", "br")
        assert headers["X-Cache"] == f"{x_cache} from cloudfront"
        assert headers["X-Seen-Encoding"] == "br"
        assert headers["Content-Encoding"] == "br"
        assert brotli.decompress(body) == PAGE
    # A body the function replaces is sent as written, without the Content-Encoding (here on a
    # hit of the compressed copy; x-replace is not in the cache key).
    _, headers, body = await fetch(edge, "/vr/page.html", "br", **{"x-replace": "1"})
    assert headers["X-Cache"] == "Hit from cloudfront"
    assert headers["X-Seen-Encoding"] == "br"
    assert "Content-Encoding" not in headers
    assert body == b"replaced by the function"
    # And on a miss.
    _, headers, body = await fetch(edge, "/vr/other/page.html", "br", **{"x-replace": "1"})
    assert headers["X-Cache"] == "Miss from cloudfront"
    assert headers["X-Seen-Encoding"] == "br"
    assert "Content-Encoding" not in headers
    assert body == b"replaced by the function"


async def test_revalidated_compressed_copy_keeps_weak_etag(
    start_edge: StartEdge, mini_origin: MiniOrigin
) -> None:
    edge = await start(start_edge, mini_origin)
    _, _, first = await fetch(edge, "/page.html", "gzip, br")
    edge.clock.advance(11)  # past max-age=10
    status, headers, body = await fetch(edge, "/page.html", "gzip, br")
    assert status == 200
    assert headers["X-Cache"] == "RefreshHit from cloudfront"
    assert mini_origin.seen[-1]["if-none-match"] == 'W/"p1"'
    assert headers["ETag"] == 'W/"p1"'
    assert headers["Content-Encoding"] == "br"
    assert body == first
    assert brotli.decompress(body) == PAGE
