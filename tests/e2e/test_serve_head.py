"""HEAD requests on cacheable objects (issue 11, point 3).

CloudFront "always caches responses to GET and HEAD requests" (Developer Guide, "Request and
response behavior for custom origins", HTTP methods): a HEAD is answered from the object a GET
stored (GET and HEAD share the cache key), and a HEAD miss goes to the origin as HEAD. The answer
to HEAD has no body, so it is not stored.

The 502 of the report: the origin's answer to HEAD was followed by body bytes (as an aiohttp
handler that writes a body for HEAD sends them; the shared e2e origin's ``/big/N`` route is one),
and the edge's HTTP client took those bytes for a malformed next response.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast

import aiohttp
import pytest
from aiohttp import web

from tests.e2e.conftest import BASIC, Edge, StartEdge, _Sink

BIG = 100 * 1024 * 1024  # the report's object: 104,857,600 bytes

CACHED = """
[[origins]]
id = "app"
url = "{url}"

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"
"""


@dataclass
class Careless:
    """An aiohttp origin whose handler writes the body whatever the method: aiohttp sends what a
    handler writes, so its answers to HEAD are followed by body bytes. ``/obj/N`` is N bytes."""

    url: str
    methods: list[str] = field(default_factory=list)


@pytest.fixture
async def careless_origin() -> AsyncIterator[Careless]:
    origin = Careless("")

    async def handler(request: web.Request) -> web.StreamResponse:
        origin.methods.append(request.method)
        size = int(request.match_info["size"])
        response = web.StreamResponse(headers={"Cache-Control": "max-age=60"})
        response.content_length = size
        await response.prepare(request)
        chunk = bytes(range(256)) * 256
        try:
            for start in range(0, size, len(chunk)):
                await response.write(chunk[: size - start])
        except ConnectionError:
            return response  # the edge dropped the connection (it wanted the headers only)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_route("*", "/obj/{size}", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    origin.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield origin
    await runner.cleanup()


async def invalidate_all(admin: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{admin}/cache/invalidations", json={"paths": ["/*"]}) as response,
    ):
        assert response.status == 200


async def test_head_miss_on_a_large_cacheable_object_is_200(
    start_edge: StartEdge, careless_origin: Careless
) -> None:
    edge = await start_edge(CACHED.replace("{url}", careless_origin.url))
    status, headers, body = await edge.get(f"/obj/{BIG}", method="HEAD")
    assert status == 200
    assert headers["Content-Length"] == str(BIG)
    assert headers["X-Cache"] == "Miss from cloudfront"
    assert body == b""
    # Forwarded as HEAD; read a second time, since this origin sends bytes after its answer.
    assert careless_origin.methods == ["HEAD", "HEAD"]


async def test_head_after_an_invalidation_is_a_miss_forwarded_as_head(
    start_edge: StartEdge, careless_origin: Careless
) -> None:
    """The report's steps: the object cached by a GET, ``/*`` invalidated, then HEAD."""
    edge = await start_edge(CACHED.replace("{url}", careless_origin.url))
    status, _, body = await edge.get(f"/obj/{BIG}")
    assert (status, len(body)) == (200, BIG)
    _, headers, _ = await edge.get(f"/obj/{BIG}", method="HEAD")
    assert headers["X-Cache"] == "Hit from cloudfront"  # HEAD is answered from the GET's object
    await invalidate_all(edge.admin)
    status, headers, body = await edge.get(f"/obj/{BIG}", method="HEAD")
    assert (status, headers["Content-Length"], body) == (200, str(BIG), b"")
    assert headers["X-Cache"] == "Miss from cloudfront"
    assert careless_origin.methods == ["GET", "HEAD", "HEAD"]


async def test_a_head_answer_is_not_stored_for_get(
    start_edge: StartEdge, careless_origin: Careless
) -> None:
    edge = await start_edge(CACHED.replace("{url}", careless_origin.url))
    await edge.get("/obj/5000", method="HEAD")
    await edge.get("/obj/5000", method="HEAD")
    status, headers, body = await edge.get("/obj/5000")
    assert (status, len(body)) == (200, 5000)
    assert headers["X-Cache"] == "Miss from cloudfront"  # no bodiless entry served to GET
    _, headers, _ = await edge.get("/obj/5000")
    assert headers["X-Cache"] == "Hit from cloudfront"
    assert set(careless_origin.methods[:-1]) == {"HEAD"}
    assert careless_origin.methods[-1] == "GET"


Answer = Callable[[bytes], bytes]


@pytest.fixture
async def raw_origin() -> AsyncIterator[Callable[[Answer], Awaitable[str]]]:
    """An origin that answers each request with the bytes ``answer(request_head)`` gives,
    then closes the connection."""
    servers: list[asyncio.Server] = []

    async def start(answer: Answer) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                writer.write(answer(head))
                await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_a_correct_bodiless_head_answer_is_passed_on(
    start_edge: StartEdge, raw_origin: Callable[[Answer], Awaitable[str]]
) -> None:
    url = await raw_origin(
        lambda _: (
            f"HTTP/1.1 200 OK\r\nContent-Length: {BIG}\r\n"
            "Cache-Control: max-age=60\r\n\r\n".encode()
        )
    )
    edge = await start_edge(BASIC.replace("{origin}", url))
    status, headers, _ = await edge.get("/obj", method="HEAD")
    assert (status, headers["Content-Length"]) == (200, str(BIG))
    assert headers["X-Cache"] == "Miss from cloudfront"


async def test_an_unreadable_head_answer_is_a_short_502(
    start_edge: StartEdge, raw_origin: Callable[[Answer], Awaitable[str]]
) -> None:
    """Not HTTP at all: 502, and the origin's bytes go neither into the body nor the log."""
    url = await raw_origin(lambda _: bytes(range(256)) * 1000)
    edge = await start_edge(BASIC.replace("{origin}", url))
    status, headers, body = await edge.get("/obj", method="HEAD")
    assert status == 502
    assert headers["X-Cache"] == "Error from cloudfront"
    status, _, body = await edge.get("/obj")
    assert status == 502
    assert len(body) < 1000
    lines = console(edge)
    assert all(len(line) < 1000 for line in lines)


def console(edge: Edge) -> list[str]:
    """serve's console lines (the e2e fixture collects them)."""
    return cast(_Sink, edge.server.stream).lines
