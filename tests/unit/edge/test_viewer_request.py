"""What the pipeline reads of a request made by the viewer listener (from the parser's message
and the connection's address, worked out once per connection) is what aiohttp's request
properties say. Over a loopback socket: the listener makes its requests only there."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web

from edgesim.edge import delivery, listener


def _public_reading(request: web.BaseRequest) -> dict[str, Any]:
    """The request as its public properties give it (as delivery reads any other request)."""
    raw = request.raw_path
    path, mark, query = raw.partition("?")
    peer = request.transport.get_extra_info("peername") if request.transport else None
    version = request.version
    return {
        "method": request.method,
        "path": path or "/",
        "query": query if mark else None,
        "headers": delivery.decode_headers(request.raw_headers),
        "client_ip": request.remote or "127.0.0.1",
        "client_port": int(peer[1]) if isinstance(peer, tuple) else 0,
        "http_version": f"{version.major}.{version.minor}",
        "scheme": request.scheme,
        "has_body": request.body_exists,
        "head_bytes": delivery.head_size(request),
    }


@pytest.mark.parametrize(
    "head",
    [
        b"GET /a/b?x=1&y HTTP/1.1\r\nHost: h\r\nUser-Agent: t\r\nCookie: a=1\r\n\r\n",
        b"GET / HTTP/1.0\r\nHost: h\r\n\r\n",
        b"GET /caf%C3%A9?q HTTP/1.1\r\nHost: h\r\nX-N: caf\xe9\r\n\r\n",
        b"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi",
    ],
)
async def test_the_listeners_requests_read_as_their_properties_say(head: bytes) -> None:
    seen: list[tuple[dict[str, Any], dict[str, Any], bool]] = []

    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        edge = delivery.viewer_request(request)
        fast = {key: getattr(edge, key) for key in _public_reading(request)}
        seen.append((fast, _public_reading(request), type(request) is delivery.ViewerRequest))
        return web.Response(text="ok")

    def refuse(request: web.BaseRequest, too_long: bool, detail: str) -> web.StreamResponse:
        raise AssertionError(detail)

    runner = listener.viewer_runner(handler, refuse)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    # HTTP/1.0 closes after one answer; otherwise a second request on the connection reads
    # the address worked out for the first.
    count = 1 if b"HTTP/1.0" in head else 2
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(count):
            writer.write(head)
            await reader.readuntil(b"ok")
        writer.close()
        await writer.wait_closed()
    finally:
        await runner.cleanup()
    assert len(seen) == count
    for fast, public, made_by_listener in seen:
        assert made_by_listener
        assert fast == public
        assert fast["client_ip"] == "127.0.0.1"
        assert fast["client_port"] > 0


def test_viewer_address_reads_a_peer_as_request_remote_does() -> None:
    assert delivery.viewer_address(("10.0.0.1", 5000), False) == ("10.0.0.1", 5000, "http")
    assert delivery.viewer_address(("::1", 5000, 0, 0), True) == ("::1", 5000, "https")
    assert delivery.viewer_address("/run/sock", False) == ("/run/sock", 0, "http")
    assert delivery.viewer_address(None, False) == ("127.0.0.1", 0, "http")
