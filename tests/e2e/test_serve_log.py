"""The serve log when clients misbehave (issue 11, point 5): one clear line per request, never a
traceback from aiohttp's loggers, and the outcome CloudFront's standard logs would show.

- A request the HTTP parser cannot read is answered 400 with CloudFront's headers and the
  connection closed; it gets one console line and no access-log entry.
- A viewer that goes away mid-response is logged with the result Error and the detailed type
  ClientCommError ("The response to the viewer was interrupted due to a communication problem
  between the server and the viewer", Developer Guide, "Standard log file fields"); X-Cache stays
  what was sent, and the object is not cached ("Canceled requests").
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import cast

import aiohttp
import pytest

from tests.e2e.conftest import BASIC, Edge, StartEdge, _Sink

WITH_ACCESS_LOG = 'access_log = "access.log"\n' + BASIC


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Records that would print a traceback or an error from aiohttp or asyncio."""
    return [
        record
        for record in caplog.records
        if record.name.startswith(("aiohttp", "asyncio"))
        and (record.exc_info or record.levelno >= logging.ERROR)
    ]


async def raw_exchange(edge: Edge, data: bytes) -> bytes:
    """Send ``data`` on a new connection; everything the edge answers until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.server.viewer_port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=5)  # read() = until EOF
    finally:
        writer.close()


async def request_lines(edge: Edge, count: int, wait_s: float = 5.0) -> list[str]:
    """The request log's request lines (not the "  !" notes), once there are ``count``."""
    deadline = time.monotonic() + wait_s
    while True:
        lines = [line for line in console(edge) if not line.startswith(" ")]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(
    "raw",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n",
        b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"HELLO / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    ],
    ids=["header-without-colon", "nul-in-value", "control-in-target", "unknown-method"],
)
async def test_a_malformed_request_is_one_line_and_a_400_with_cloudfront_headers(
    start_edge: StartEdge, caplog: pytest.LogCaptureFixture, raw: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    edge = await start_edge(WITH_ACCESS_LOG)
    answer = await raw_exchange(edge, raw)  # returns at EOF: the edge closed the connection
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0].split(b" ")[1] == b"400"
    assert b"X-Cache: Error from cloudfront" in head
    assert b"Server: CloudFront" in head
    assert b"X-Amz-Cf-Id: " in head
    assert b"could not be parsed" in body
    lines = await request_lines(edge, 1)
    assert len(lines) == 1
    assert "→ 400 [Error]" in lines[0]
    notes = [line for line in console(edge) if line.startswith("  ! ")]
    assert len(notes) == 1
    assert "could not be parsed" in notes[0]
    assert tracebacks(caplog) == []
    access = (edge.config.parent / "access.log").read_text().splitlines()
    assert [line for line in access if not line.startswith("#")] == []  # not in standard logs
    status, _, _ = await edge.get("/after")  # the server is still healthy
    assert status == 200


async def test_a_viewer_leaving_mid_body_is_logged_as_client_comm_error(
    start_edge: StartEdge, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    edge = await start_edge(WITH_ACCESS_LOG)
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.server.viewer_port)
    writer.write(b"GET /big/50000000 HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    await reader.readexactly(200_000)
    writer.transport.abort()  # the viewer goes away with most of the body unsent
    lines = await request_lines(edge, 1)
    assert len(lines) == 1
    assert "GET /big/50000000 → 200 [Error/ClientCommError, sent as Miss]" in lines[0]
    notes = [line for line in console(edge) if line.startswith("  ! ")]
    assert len(notes) == 1
    assert "ClientCommError: the viewer closed the connection" in notes[0]
    assert tracebacks(caplog) == []
    fields = access_fields(edge)[-1]
    assert fields["sc-status"] == "200"
    assert fields["x-edge-result-type"] == "Error"
    assert fields["x-edge-response-result-type"] == "Miss"
    assert fields["x-edge-detailed-result-type"] == "ClientCommError"
    assert 0 < int(fields["sc-bytes"]) < 50_000_000
    # Not cached: the next viewer gets the object from the origin, whole.
    status, headers, body = await edge.get("/big/50000000")
    assert (status, len(body), headers["X-Cache"]) == (200, 50_000_000, "Miss from cloudfront")
    metrics = await admin_text(edge, "/metrics")
    assert 'edgesim_request_failures{detailed_result_type="ClientCommError"} 1' in metrics
    assert 'edgesim_requests{result_type="Error"} 1' in metrics


async def test_many_viewers_leaving_early_print_no_traceback(
    start_edge: StartEdge, caplog: pytest.LogCaptureFixture
) -> None:
    """The end of a load test: dozens of connections dropped mid-response."""
    caplog.set_level(logging.DEBUG)
    edge = await start_edge(BASIC)

    async def leave_early() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", edge.server.viewer_port)
        writer.write(b"GET /big/20000000 HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        await reader.readexactly(1000)
        writer.transport.abort()

    await leave_early()  # the first one is a miss that is not cached ("Canceled requests")
    await edge.get("/big/20000000", **{"Accept-Encoding": ""})  # now it is: hits follow
    await asyncio.gather(*(leave_early() for _ in range(30)))
    lines = await request_lines(edge, 32)
    assert len(lines) == 32
    assert "[Error/ClientCommError, sent as Miss]" in lines[0]
    assert sum("[Error/ClientCommError, sent as Hit]" in line for line in lines[2:]) == 30
    assert tracebacks(caplog) == []
    status, _, body = await edge.get("/big/20000000")
    assert (status, len(body)) == (200, 20_000_000)


def access_fields(edge: Edge) -> list[dict[str, str]]:
    lines = (edge.config.parent / "access.log").read_text().splitlines()
    names = next(line for line in lines if line.startswith("#Fields: ")).split()[1:]
    return [
        dict(zip(names, line.split("\t"), strict=True))
        for line in lines
        if not line.startswith("#")
    ]


async def admin_text(edge: Edge, path: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(edge.admin + path) as response:
        return await response.text()


def console(edge: Edge) -> list[str]:
    """serve's console lines (the e2e fixture collects them)."""
    return cast(_Sink, edge.server.stream).lines
