"""An origin that writes its responses byte by byte, and a ``serve`` in front of it.

aiohttp's ``web.Response`` always adds ``Content-Type``, ``Server`` and ``Date``, so it cannot play
an origin that sends none of them; this one sends exactly the header lines a test gives it, and
records each request's header lines exactly as they arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import textwrap
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import yarl

from edgesim.app import EdgeServer
from edgesim.distribution.config import load_config
from edgesim.kvs.clock import VirtualClock
from edgesim.stores import kvs_service_for

Lines = list[tuple[str, str]]


@dataclass
class RawRequest:
    method: str
    target: str
    headers: Lines  # as received: names in the sender's case, in order


@dataclass
class RawAnswer:
    """What the origin sends: the status line, these header lines and the body. Unless
    ``headers`` frames the body itself (Content-Length / Transfer-Encoding), the origin closes
    the connection after the body (an HTTP/1.1 body delimited by the connection's end)."""

    status: int = 200
    headers: Lines = field(default_factory=list)
    body: bytes = b"raw body"
    reason: str = "OK"


Answer = Callable[[RawRequest], RawAnswer]


@dataclass
class RawOrigin:
    answer: Answer = field(default=lambda request: RawAnswer())
    seen: list[RawRequest] = field(default_factory=list)
    url: str = ""
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                request = _parse(head)
                length = next(
                    (int(v) for n, v in request.headers if n.lower() == "content-length"), 0
                )
                if length:
                    await reader.readexactly(length)
                self.seen.append(request)
                answer = self.answer(request)
                writer.write(_serialise(answer, request.method))
                await writer.drain()
                framed = any(
                    n.lower() in ("content-length", "transfer-encoding") for n, _ in answer.headers
                )
                if not framed and _has_body(answer.status, request.method):
                    return  # the body ends with the connection
        finally:
            writer.close()


def _parse(head: bytes) -> RawRequest:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers: Lines = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
    return RawRequest(method, target, headers)


def _has_body(status: int, method: str) -> bool:
    return method != "HEAD" and status not in (204, 304) and status >= 200


def _serialise(answer: RawAnswer, method: str) -> bytes:
    lines = [f"HTTP/1.1 {answer.status} {answer.reason}"]
    lines += [f"{name}: {value}" if value else f"{name}:" for name, value in answer.headers]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (answer.body if _has_body(answer.status, method) else b"")


def length_of(body: bytes) -> Lines:
    """The Content-Length line for ``body`` (framing a keep-alive response)."""
    return [("Content-Length", str(len(body)))]


# -- serve in front of it --------------------------------------------------------------------

# 2030-01-01T09:00:00Z: the edge clock of every test here, so the Date edgesim adds is known.
EDGE_EPOCH_S = 1_893_488_400.0


@dataclass
class RawEdge:
    server: EdgeServer
    origin: RawOrigin
    clock: VirtualClock
    session: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.viewer_port}"

    async def get(
        self, path: str, *, method: str = "GET", headers: Lines | None = None
    ) -> tuple[int, Lines, bytes]:
        """Status, the response's header lines as received (name case kept) and the body."""
        url = yarl.URL(self.url + path, encoded=True)
        async with self.session.request(
            method,
            url,
            headers=list(headers or []),
            allow_redirects=False,
            skip_auto_headers=_CLIENT_DEFAULTS,  # the viewer sends Host and ``headers``, no more
        ) as response:
            body = await response.read()
            lines = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in response.raw_headers]
            return response.status, lines, body

    async def send_raw(
        self, path: str, headers: Lines, *, method: str = "GET"
    ) -> tuple[int, Lines, bytes]:
        """The request written byte by byte — the request line, ``Host``, then exactly ``headers``
        (duplicates and empty values too, which aiohttp's client would merge) — on a connection
        of its own; returns status, header lines and body."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.server.viewer_port)
        try:
            head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.server.viewer_port}"]
            head += [f"{name}: {value}" if value else f"{name}:" for name, value in headers]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            await writer.drain()
            return await _read_response(reader, method)
        finally:
            writer.close()


async def _read_response(reader: asyncio.StreamReader, method: str) -> tuple[int, Lines, bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    lines: Lines = []
    for line in head[1:]:
        if line:
            name, _, value = line.partition(":")
            lines.append((name, value.strip()))
    fields = {name.lower(): value for name, value in lines}
    if method == "HEAD" or status in (204, 304):
        return status, lines, b""
    if "content-length" in fields:
        return status, lines, await reader.readexactly(int(fields["content-length"]))
    if fields.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")  # the end of the (empty) trailer section
        return status, lines, body
    return status, lines, await reader.read()


_CLIENT_DEFAULTS = ("User-Agent", "Accept", "Accept-Encoding")


@contextlib.asynccontextmanager
async def raw_edge(
    toml: str, tmp: Path, answer: Answer | None = None, files: dict[str, str] | None = None
) -> AsyncIterator[RawEdge]:
    """``serve`` for ``toml`` (``{origin}`` → the raw origin's URL) on a virtual clock set to
    :data:`EDGE_EPOCH_S`, in front of a :class:`RawOrigin`; everything stopped on exit."""
    origin = RawOrigin()
    if answer is not None:
        origin.answer = answer
    await origin.start()
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(origin.stop)
        for name, text in (files or {}).items():
            (tmp / name).write_text(textwrap.dedent(text))
        config = tmp / "edgesim.toml"
        config.write_text(
            "[server]\nport = 0\nadmin_port = 0\nhttps_port = 0\nephemeral = true\n"
            + textwrap.dedent(toml).replace("{origin}", origin.url)
        )
        dist = load_config(config)
        clock = VirtualClock(start=datetime.fromtimestamp(EDGE_EPOCH_S, UTC))
        kvs = kvs_service_for(dist, clock=clock)
        stack.callback(kvs.close)
        server = EdgeServer(dist, kvs=kvs, stream=_Sink(), clock=clock)
        stack.push_async_callback(server.stop)
        await server.start()
        session = aiohttp.ClientSession(auto_decompress=False)
        stack.push_async_callback(session.close)
        yield RawEdge(server, origin, clock, session)


class _Sink:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
