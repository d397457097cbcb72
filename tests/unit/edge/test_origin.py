"""edgesim.edge.origin: sending the request to the origin, against a real origin on 127.0.0.1.

CloudFront behaviour relied on (module docstring; reference notes B.6, B.8; AWS "Origin
settings"): the origin path is prefixed to the URI and the request goes out byte for byte as the
pipeline has it; the origin's response (a redirect, a compressed body) goes back to the viewer as
the origin sent it; an origin that cannot be reached is a 502, one that does not answer within the
response timeout a 504; ``connection_attempts`` (1–3) are retried only when the connection cannot
be made.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from edgesim.distribution.model import Origin
from edgesim.edge.origin import (
    OriginClient,
    OriginFailure,
    OriginRequest,
    origin_host,
    origin_url,
    parse_head,
)


@dataclass
class Seen:
    """What the test origin received."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def client() -> AsyncIterator[OriginClient]:
    origin_client = OriginClient()
    yield origin_client
    await origin_client.close()


@pytest.fixture
async def origin() -> AsyncIterator[tuple[str, Seen]]:
    """An aiohttp origin on a free loopback port; its routes are below."""
    seen = Seen()

    async def record(request: web.Request) -> None:
        seen.requests.append(
            {
                "method": request.method,
                "raw_path": request.raw_path,
                "headers": list(request.raw_headers),
                "body": await request.read(),
            }
        )

    async def echo(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.Response(text="ok")

    async def gzipped(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.Response(
            body=gzip.compress(b"compressed at the origin"),
            headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"},
        )

    async def redirect(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.Response(status=301, headers={"Location": "/moved/elsewhere"})

    async def slow(request: web.Request) -> web.StreamResponse:
        await record(request)
        await seen.release.wait()  # set at teardown; the test's timeout fires first
        return web.Response(text="too late")

    async def failing(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.Response(status=500, text="origin error")

    app = web.Application()
    app.router.add_get("/gzip", gzipped)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/slow", slow)
    app.router.add_get("/fail", failing)
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        seen.release.set()
        await runner.cleanup()


@pytest.fixture
async def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every TCP connect the client makes (address), counted at the event loop."""
    loop = asyncio.get_running_loop()
    made: list[tuple[str, int]] = []
    real = loop.sock_connect

    async def counting(sock: socket.socket, address: Any) -> None:
        made.append(address[:2])
        await real(sock, address)

    monkeypatch.setattr(loop, "sock_connect", counting)
    return made


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def make_origin(url: str, **kw: Any) -> Origin:
    return Origin(id="app", url=url, **kw)


def get(path: str, query: str | None = None, **kw: Any) -> OriginRequest:
    return OriginRequest("GET", path, query, kw.pop("headers", []), **kw)


# --- URLs --------------------------------------------------------------------------------------


def test_origin_url_prefixes_the_origin_path_and_keeps_path_and_query_verbatim() -> None:
    origin = make_origin("https://api.example.com", origin_path="/prod")
    assert origin_url(origin, "/a/../b%2Fc", "q=%E5%AE%B6&x") == (
        "https://api.example.com/prod/a/../b%2Fc?q=%E5%AE%B6&x"
    )
    assert origin_url(origin, "/a", None) == "https://api.example.com/prod/a"
    assert origin_url(origin, "/a", "") == "https://api.example.com/prod/a?"


def test_origin_url_trailing_slashes_do_not_double() -> None:
    origin = make_origin("https://api.example.com/", origin_path="/prod/")
    assert origin_url(origin, "/x", None) == "https://api.example.com/prod/x"
    assert origin_url(make_origin("http://o.test"), "/x", None) == "http://o.test/x"


def test_origin_url_base_override_is_where_the_origin_is_reached_locally() -> None:
    origin = make_origin("https://api.example.com", origin_path="/v1")
    assert origin_url(origin, "/x", "a=1", base="http://127.0.0.1:9000/") == (
        "http://127.0.0.1:9000/v1/x?a=1"
    )


def test_origin_host_is_the_urls_host_and_port() -> None:
    assert origin_host(make_origin("https://api.example.com")) == "api.example.com"
    assert origin_host(make_origin("http://127.0.0.1:3000")) == "127.0.0.1:3000"


# --- against a real origin -------------------------------------------------------------------


async def test_the_origin_sees_origin_path_raw_path_and_query_byte_for_byte(
    client: OriginClient, origin: tuple[str, Seen]
) -> None:
    url, seen = origin
    response = await client.send(
        make_origin(url, origin_path="/prefix"),
        get("/a/./b/../c%2F%7e%20d", "q=%E5%AE%B6&&x=a+b&f"),
    )
    assert response.status == 200
    response.release()
    assert seen.requests[0]["raw_path"] == "/prefix/a/./b/../c%2F%7e%20d?q=%E5%AE%B6&&x=a+b&f"


async def test_base_url_overrides_where_the_request_goes(
    client: OriginClient, origin: tuple[str, Seen]
) -> None:
    url, seen = origin
    unreachable = make_origin("http://origin.invalid", origin_path="/p")
    response = await client.send(unreachable, get("/x", "y=1"), base_url=url)
    assert response.status == 200
    response.release()
    assert seen.requests[0]["raw_path"] == "/p/x?y=1"


async def test_headers_and_body_go_out_as_given_without_client_defaults(
    client: OriginClient, origin: tuple[str, Seen]
) -> None:
    url, seen = origin
    request = OriginRequest(
        "POST",
        "/submit",
        None,
        [("x-forwarded-for", "203.0.113.7"), ("x-custom", "A"), ("x-custom", "B")],
        body=b"payload",
    )
    response = await client.send(make_origin(url), request)
    response.release()
    got = seen.requests[0]
    assert got["method"] == "POST"
    assert got["body"] == b"payload"
    names = [name.lower() for name, _ in got["headers"]]
    # aiohttp's own User-Agent / Accept / Accept-Encoding are not added (the pipeline decides).
    assert b"user-agent" not in names
    assert b"accept-encoding" not in names
    assert b"accept" not in names
    assert [v for n, v in got["headers"] if n.lower() == b"x-custom"] == [b"A", b"B"]


async def test_a_compressed_body_is_not_decompressed(
    client: OriginClient, origin: tuple[str, Seen]
) -> None:
    url, _ = origin
    response = await client.send(make_origin(url), get("/gzip"))
    body = await response.content.read()
    response.release()
    assert (b"Content-Encoding", b"gzip") in response.raw_headers
    assert body == gzip.compress(b"compressed at the origin")


async def test_a_redirect_goes_back_untouched(
    client: OriginClient, origin: tuple[str, Seen]
) -> None:
    url, seen = origin
    response = await client.send(make_origin(url), get("/redirect"))
    response.release()
    assert response.status == 301
    assert (b"Location", b"/moved/elsewhere") in response.raw_headers
    assert [r["raw_path"] for r in seen.requests] == ["/redirect"]  # not followed


async def test_an_unreachable_origin_is_a_502(client: OriginClient) -> None:
    origin = make_origin(f"http://127.0.0.1:{closed_port()}", connection_attempts=2)
    with pytest.raises(OriginFailure) as caught:
        await client.send(origin, get("/"))
    assert caught.value.status == 502
    assert "origin app unreachable" in caught.value.reason


async def test_an_origin_that_does_not_answer_in_time_is_a_504_and_not_retried(
    client: OriginClient, origin: tuple[str, Seen]
) -> None:
    url, seen = origin
    slow = make_origin(url, response_timeout_s=0.2, connection_attempts=3)
    with pytest.raises(OriginFailure) as caught:
        await client.send(slow, get("/slow"))
    assert caught.value.status == 504
    assert "origin app timed out" in caught.value.reason
    assert len(seen.requests) == 1


@pytest.mark.parametrize("attempts", [1, 2, 3])
async def test_a_connection_that_cannot_be_made_is_tried_connection_attempts_times(
    client: OriginClient, connects: list[tuple[str, int]], attempts: int
) -> None:
    port = closed_port()
    with pytest.raises(OriginFailure) as caught:
        await client.send(
            make_origin(f"http://127.0.0.1:{port}", connection_attempts=attempts), get("/")
        )
    assert caught.value.status == 502
    assert connects == [("127.0.0.1", port)] * attempts


async def test_a_request_that_reached_the_origin_is_not_retried(
    client: OriginClient, origin: tuple[str, Seen], connects: list[tuple[str, int]]
) -> None:
    url, seen = origin
    response = await client.send(make_origin(url, connection_attempts=3), get("/fail"))
    response.release()
    assert response.status == 500
    assert len(connects) == 1
    assert len(seen.requests) == 1


async def test_a_streamed_body_does_not_stop_connection_attempts(
    client: OriginClient, connects: list[tuple[str, int]]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"part one"
        yield b"part two"

    port = closed_port()
    request = OriginRequest("POST", "/upload", None, [], body=chunks())
    with pytest.raises(OriginFailure):
        await client.send(make_origin(f"http://127.0.0.1:{port}", connection_attempts=3), request)
    assert len(connects) == 3


async def test_a_bytes_body_is_retried_like_any_request(
    client: OriginClient, connects: list[tuple[str, int]]
) -> None:
    port = closed_port()
    request = OriginRequest("POST", "/upload", None, [], body=b"payload")
    with pytest.raises(OriginFailure) as caught:
        await client.send(make_origin(f"http://127.0.0.1:{port}", connection_attempts=3), request)
    assert caught.value.status == 502
    assert len(connects) == 3


async def test_an_invalid_header_value_is_a_502(
    client: OriginClient, origin: tuple[str, Seen]
) -> None:
    url, seen = origin
    with pytest.raises(OriginFailure) as caught:
        await client.send(make_origin(url), get("/", headers=[("x-bad", "a\r\nInjected: 1")]))
    assert caught.value.status == 502
    assert seen.requests == []


# --- HEAD whose answer is followed by bytes (issue 11, point 3) ---------------------------------


@pytest.fixture
async def head_then_body() -> AsyncIterator[tuple[str, list[bytes]]]:
    """An origin answering every request with headers and then 5,000 body bytes, HEAD too (as an
    aiohttp handler that writes a body for HEAD does); records each request head."""
    heads: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            heads.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(
                b"HTTP/1.1 100 Continue\r\n\r\n"
                b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nX-Folded: a\r\n b\r\n\r\n"
                + b"\x00\x01"
                * 2500
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", heads
    server.close()
    await server.wait_closed()


async def test_a_head_answer_followed_by_bytes_is_read_for_its_headers(
    client: OriginClient, head_then_body: tuple[str, list[bytes]]
) -> None:
    url, heads = head_then_body
    request = OriginRequest("HEAD", "/obj", "a=1", [("Host", "h"), ("X-A", "1")])
    response = await client.send(make_origin(url), request)
    assert (response.status, response.reason, response.content_length) == (200, "OK", 5000)
    assert (b"X-Folded", b"a b") in response.raw_headers
    assert [chunk async for chunk in response.content.iter_chunked(1024)] == []
    assert heads[-1].startswith(b"HEAD /obj?a=1 HTTP/1.1\r\n")
    assert b"\r\nX-A: 1\r\n" in heads[-1]


@pytest.mark.parametrize(
    ("head", "problem"),
    [
        (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1 status line"),
        (b"HTTP/1.1 200 OK\r\nNo colon\r\n\r\n", "malformed header line"),
        (b"HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n", "malformed header line"),
    ],
)
def test_parse_head_refuses_what_is_not_a_response(head: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_head(head)


def test_parse_head_without_a_reason() -> None:
    response = parse_head(b"HTTP/1.0 204\r\n\r\n")
    assert (response.status, response.reason, response.raw_headers) == (204, None, ())
