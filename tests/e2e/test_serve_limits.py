"""Requests CloudFront refuses before any function or origin: a GET with a body, an overlong URI,
a request line plus headers over 20,480 bytes, a target that is not a path; and the viewer
connection's timeouts (issue 11, point 6).

CloudFront's limits (Developer Guide, "Request and response behavior for custom origins",
"Maximum length of a request and maximum length of a URL"): 20,480 bytes for the request line
and headers, 8,192 for the URL, and "CloudFront returns HTTP status code 413 [...] and then
terminates the TCP connection" (for "a request or a URL"); no limit on the number of headers is
documented. Such requests are not in the standard logs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import cast

import pytest

from edgesim.edge import listener
from tests.e2e.conftest import BASIC, PASS_JS, WITH_FUNCTION, Edge, StartEdge, _Sink

# Nothing of the viewer's is forwarded: the e2e origin (aiohttp with its default limits) never
# sees the long or numerous headers these tests send.
FORWARD_NOTHING = BASIC.replace('origin_request_policy = "AllViewer"\n', "")


async def test_get_with_a_body_is_403(start_edge: StartEdge) -> None:
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": PASS_JS})
    status, _, _ = await edge.get("/x", data=b"hello")
    assert status == 403
    assert edge.origin.seen == []


async def test_overlong_uri_is_413_with_cloudfront_headers(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    status, headers, _ = await edge.get("/" + "a" * 9000)
    assert status == 413
    assert "X-Amz-Cf-Id" in headers
    assert edge.origin.seen == []


# -- the request's length -----------------------------------------------------------------------


async def exchange(edge: Edge, head: bytes) -> tuple[int, bytes, bytes]:
    """Send a request head on a new connection and read until the edge closes it (requests
    that are answered normally say ``Connection: close``): (status, head, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.server.viewer_port)
    try:
        writer.write(head)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout=5)
    finally:
        writer.close()
    response_head, _, body = data.partition(b"\r\n\r\n")
    return int(response_head.split(b" ", 2)[1]), response_head, body


def request(target: str = "/x", *fields: str, method: str = "GET", close: bool = True) -> bytes:
    """A request whose request line and header lines are exactly these bytes (with
    ``close=False``, a keep-alive request: the edge must close the connection itself)."""
    lines = [f"{method} {target} HTTP/1.1", "Host: x", *fields]
    if close:
        lines.insert(2, "Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def assert_refused_as_too_large(status: int, head: bytes, body: bytes, edge: Edge) -> None:
    assert status == 413
    assert b"X-Cache: Error from cloudfront" in head
    assert b"X-Amz-Cf-Id: " in head
    assert b"20,480 bytes" in body
    assert edge.origin.seen == []


async def test_two_hundred_headers_within_the_total_are_served(start_edge: StartEdge) -> None:
    """aiohttp refuses more than 128 headers by default; CloudFront documents no count."""
    edge = await start_edge(FORWARD_NOTHING)
    status, _, _ = await exchange(edge, request("/x", *(f"X-H{i}: v" for i in range(200))))
    assert status == 200


async def test_one_long_header_within_the_total_is_served(start_edge: StartEdge) -> None:
    """aiohttp refuses a header over 8,190 bytes by default; CloudFront only limits the total."""
    edge = await start_edge(FORWARD_NOTHING)
    status, _, _ = await exchange(edge, request("/x", "X-Long: " + "v" * 15_000))
    assert status == 200


async def test_exactly_20480_bytes_pass_and_one_more_is_413(start_edge: StartEdge) -> None:
    edge = await start_edge('access_log = "access.log"\n' + FORWARD_NOTHING)
    fixed = len(request("/x", "X-Pad: "))
    status, _, _ = await exchange(edge, request("/x", "X-Pad: " + "p" * (20_480 - fixed)))
    assert status == 200
    status, _head, body = await exchange(edge, request("/y", "X-Pad: " + "p" * (20_481 - fixed)))
    assert status == 413
    assert b"20,480 bytes" in body
    assert [seen["path_qs"] for seen in edge.origin.seen] == ["/x"]
    # One console line; the access log has only the request CloudFront would log.
    lines = [line for line in console(edge) if not line.startswith(" ")]
    assert len(lines) == 2
    assert "GET /y → 413 [Error]" in lines[1]
    access = (edge.config.parent / "access.log").read_text().splitlines()
    assert [line.split("\t")[7] for line in access if not line.startswith("#")] == ["/x"]


async def test_headers_each_short_but_over_the_total_are_413(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    fields = [f"X-Part{i}: " + "v" * 7_000 for i in range(3)]
    status, head, body = await exchange(edge, request("/x", *fields, close=False))
    assert_refused_as_too_large(status, head, body, edge)


@pytest.mark.parametrize(
    "head",
    [
        request("/x", "X-Huge: " + "v" * 25_000),  # one header longer than the total
        request("/x", *(["a:"] * 6_000)),  # more headers than fit in the total
        request("/" + "a" * 25_000),  # a URL longer than the total
    ],
    ids=["one-huge-header", "six-thousand-headers", "huge-url"],
)
async def test_what_the_parser_refuses_for_length_is_413_too(
    start_edge: StartEdge, caplog: pytest.LogCaptureFixture, head: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    edge = await start_edge(BASIC)
    status, response_head, body = await exchange(edge, head)
    assert_refused_as_too_large(status, response_head, body, edge)
    lines = console(edge)
    assert "→ 413 [Error]" in lines[0]
    assert "CloudFront's limit is 20,480" in lines[1]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_an_overlong_url_closes_the_connection(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    status, head, _ = await exchange(edge, request("/" + "a" * 9_000, close=False))
    assert status == 413  # and exchange() returned: the edge closed the connection
    assert b"X-Amz-Cf-Id: " in head


# -- the request target -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "target"),
    [("GET", "http://example.com/x"), ("GET", "https://d111.cloudfront.net/"), ("OPTIONS", "*")],
)
async def test_a_target_that_is_not_a_path_is_400_not_a_function_error(
    start_edge: StartEdge, method: str, target: str
) -> None:
    """Absolute-form (sent to forward proxies): what CloudFront does with it is not documented,
    so edgesim refuses it clearly instead of letting a function see a URI without a "/"."""
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": PASS_JS})
    status, head, body = await exchange(edge, request(target, method=method))
    assert status == 400
    assert b"X-Cache: Error from cloudfront" in head
    assert b"request target must be a path" in body
    assert b"absolute-form" in body
    assert edge.origin.seen == []
    lines = console(edge)
    assert "fn=-" in lines[0]  # no function ran
    assert "is not a path" in lines[1]


# -- timeouts -----------------------------------------------------------------------------------


SHORT_KEEPALIVE = "keepalive_timeout_s = 0.5\n"


@pytest.fixture
def short_keepalive() -> float:
    return 0.5


async def test_an_idle_keep_alive_connection_is_closed(
    start_edge: StartEdge, short_keepalive: float
) -> None:
    edge = await start_edge(BASIC, server=SHORT_KEEPALIVE)
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.server.viewer_port)
    try:
        writer.write(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        # The connection stays open for a second request …
        writer.write(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(length)
        # … and is closed once idle for the keep-alive timeout.
        assert await asyncio.wait_for(reader.read(), timeout=short_keepalive * 6) == b""
    finally:
        writer.close()


async def test_a_client_sending_headers_slowly_is_cut_off(
    start_edge: StartEdge, short_keepalive: float
) -> None:
    """The keep-alive timer also bounds the time to a complete request head: incoming bytes do
    not restart it (aiohttp has no separate header timeout)."""
    edge = await start_edge(BASIC, server=SHORT_KEEPALIVE)
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.server.viewer_port)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        writer.write(b"GET /x HTTP/1.1\r\nHost: x\r\n")
        for i in range(40):  # a header line every 0.1 s, never the blank line
            await asyncio.sleep(0.1)
            if writer.is_closing() or reader.at_eof():
                break
            try:
                writer.write(f"X-Slow-{i}: v\r\n".encode())
                await writer.drain()
            except ConnectionError:
                break
        answer = await asyncio.wait_for(reader.read(), timeout=5)
    except ConnectionError:
        answer = b""
    finally:
        writer.close()
    assert answer == b""  # closed without a response
    assert loop.time() - started < 2.5  # well before the 4 s the headers would have taken
    assert edge.origin.seen == []


def test_default_timeouts_and_limits_are_documented_values() -> None:
    assert listener.KEEPALIVE_TIMEOUT_S == 60.0
    assert listener.MAX_LINE_SIZE == listener.MAX_FIELD_SIZE == 20_480
    assert listener.MAX_HEADERS * 4 == 20_480


def console(edge: Edge) -> list[str]:
    """serve's console lines (the e2e fixture collects them)."""
    return cast(_Sink, edge.server.stream).lines
