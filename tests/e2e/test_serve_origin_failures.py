"""When the origin fails: an expired cached copy is served instead of an error; an origin that
breaks off mid-body is logged as such, its object not cached, the viewer's connection closed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import cast

import pytest

from tests.e2e.conftest import BASIC, Edge, StartEdge, _Sink


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


# -- an origin that breaks off mid-body (issue 11, point 5) -------------------------------------
#
# Developer Guide, "Dropped TCP connections": CloudFront returns the object to the viewer as it
# gets it from the origin, and does not cache it when the Content-Length does not match or the
# chunked body is incomplete. The access log then has the result Error, detailed type
# OriginReadError ("The server couldn't read from the origin."; the choice among the documented
# types is edgesim's), while X-Cache stays what was sent. The viewer's connection is closed: a body
# short of its length cannot be completed on it.

BREAKING = """access_log = "access.log"

[[origins]]
id = "app"
url = "{url}"
response_timeout_s = 1

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"
"""

Answer = Callable[[asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def breaking_origin() -> AsyncIterator[Callable[[Answer], Awaitable[str]]]:
    servers: list[asyncio.Server] = []
    pending: set[asyncio.StreamWriter] = set()

    async def start(answer: Answer) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            pending.add(writer)
            try:
                await reader.readuntil(b"\r\n\r\n")
                await answer(writer)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()
                pending.discard(writer)

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for writer in list(pending):
        writer.transport.abort()
    for server in servers:
        server.close()
        await server.wait_closed()


async def short_body(writer: asyncio.StreamWriter) -> None:
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nCache-Control: max-age=60\r\n"
        b"Content-Type: application/octet-stream\r\n\r\n" + b"x" * 30000
    )
    await writer.drain()  # then the connection closes: 70,000 bytes short


async def broken_chunks(writer: asyncio.StreamWriter) -> None:
    writer.write(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nCache-Control: max-age=60\r\n"
        b"Content-Type: application/octet-stream\r\n\r\n" + b"1000\r\n" + b"y" * 4096 + b"\r\n"
    )
    await writer.drain()  # no terminating chunk


async def stalled_body(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"z" * 1000)
    await writer.drain()
    await asyncio.sleep(3)  # longer than response_timeout_s between packets


async def raw_get(port: int, path: str) -> tuple[bytes, bytes]:
    """GET over a raw connection, read until the edge closes it: (head, body as received)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def access_fields(edge: Edge) -> dict[str, str]:
    lines = (edge.config.parent / "access.log").read_text().splitlines()
    names = next(line for line in lines if line.startswith("#Fields: ")).split()[1:]
    last = [line for line in lines if not line.startswith("#")][-1]
    return dict(zip(names, last.split("\t"), strict=True))


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> bool:
    return not [
        record
        for record in caplog.records
        if record.name.startswith(("aiohttp", "asyncio"))
        and (record.exc_info or record.levelno >= logging.ERROR)
    ]


async def test_origin_closing_mid_body_is_logged_as_origin_read_error(
    start_edge: StartEdge,
    breaking_origin: Callable[[Answer], Awaitable[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url = await breaking_origin(short_body)
    edge = await start_edge(BREAKING.replace("{url}", url))
    head, body = await raw_get(edge.server.viewer_port, "/file")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"Content-Length: 100000" in head
    assert len(body) == 30000  # what the origin sent, then the connection closed
    lines = console(edge)
    assert "GET /file → 200 [Error/OriginReadError, sent as Miss]" in lines[0]
    assert "OriginReadError: the origin's body broke off after 30000 of 100000 bytes" in lines[1]
    assert len(lines) == 2
    assert no_tracebacks(caplog)
    fields = access_fields(edge)
    assert (fields["sc-status"], fields["x-edge-result-type"]) == ("200", "Error")
    assert fields["x-edge-response-result-type"] == "Miss"
    assert fields["x-edge-detailed-result-type"] == "OriginReadError"
    # Not cached: the next request goes to the origin again (and breaks off again).
    await raw_get(edge.server.viewer_port, "/file")
    assert "[Error/OriginReadError, sent as Miss]" in console(edge)[2]


async def test_a_broken_chunked_body_does_not_look_complete_to_the_viewer(
    start_edge: StartEdge,
    breaking_origin: Callable[[Answer], Awaitable[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url = await breaking_origin(broken_chunks)
    edge = await start_edge(BREAKING.replace("{url}", url))
    head, body = await raw_get(edge.server.viewer_port, "/stream")
    assert b"Transfer-Encoding: chunked" in head
    assert b"y" * 4096 in body
    assert not body.endswith(b"0\r\n\r\n")  # no last chunk: the viewer sees it broke off
    assert "[Error/OriginReadError, sent as Miss]" in console(edge)[0]
    assert no_tracebacks(caplog)


async def test_an_origin_stalling_mid_body_times_out_as_origin_read_error(
    start_edge: StartEdge,
    breaking_origin: Callable[[Answer], Awaitable[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url = await breaking_origin(stalled_body)
    edge = await start_edge(BREAKING.replace("{url}", url))
    head, body = await raw_get(edge.server.viewer_port, "/slow")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert len(body) == 1000
    lines = console(edge)
    assert "[Error/OriginReadError, sent as Miss]" in lines[0]
    assert "broke off after 1000 of 5000 bytes" in lines[1]
    assert no_tracebacks(caplog)


def console(edge: Edge) -> list[str]:
    """serve's console lines (the e2e fixture collects them)."""
    return cast(_Sink, edge.server.stream).lines
