"""Regressions found by the raw-HTTP fuzzer (tests/reliability/test_fuzz_http.py).

A request line naming an HTTP version the viewer port does not speak (``HTTP/2.0`` in text, or
no version at all, which aiohttp's parser reads as HTTP/0.9) was served, and answered with a
status line in that version (``HTTP/2.0 200 OK``, ``HTTP/0.9 200 OK`` followed by headers), which
no client of either version can read. CloudFront supports HTTP/1.0, 1.1 and 2 for viewers, HTTP/2
only over TLS (AWS knowledge center, "Which protocols can I use with my CloudFront
distribution?"): such requests (those the parser itself takes) are now refused as unreadable (400, connection closed), with an
HTTP/1.1 status line and one console line naming the version.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.conftest import BASIC, StartEdge


async def raw(port: int, data: bytes) -> bytes:
    """Send ``data`` on a new connection; everything the edge sends until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=5)
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("line", "named"),
    [
        (b"GET /x HTTP/2.0", "HTTP/2.0"),
        (b"GET /x", "HTTP/0.9"),
    ],
)
async def test_a_version_the_port_does_not_speak_is_refused(
    start_edge: StartEdge, line: bytes, named: str
) -> None:
    edge = await start_edge(BASIC)
    answer = await raw(edge.server.viewer_port, line + b"\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"X-Cache: Error from cloudfront" in head
    assert body.startswith(b"Bad Request")
    assert edge.origin.seen == []
    lines = edge.server.stream.lines  # type: ignore[attr-defined]
    assert "→ 400 [Error]" in lines[-2]
    assert named in lines[-1]


async def test_http_1_0_and_1_1_are_still_served(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    for version in (b"HTTP/1.0", b"HTTP/1.1"):
        request = b"GET /x " + version + b"\r\nHost: x\r\nConnection: close\r\n\r\n"
        answer = await raw(edge.server.viewer_port, request)
        assert answer.startswith(version + b" 200 OK\r\n")
        assert answer.endswith(b"hello from origin")
