"""Sending the request to the origin, streaming bodies both ways.

CloudFront facts used (reference notes B.6, B.8): the origin gets ``X-Forwarded-For`` with the
viewer's address appended, ``X-Amz-Cf-Id``, ``Via``, ``User-Agent: Amazon CloudFront`` unless the
viewer's is forwarded, ``Host`` = the origin's domain unless the viewer's Host is forwarded, the
origin path prefixed to the URI, and the origin's custom headers. Connection attempts (1–3) are
retried only when the connection cannot be made; an unreachable origin is a 502, an origin that
does not answer in time a 504.
"""

from __future__ import annotations

import asyncio
import functools
import io
import ssl
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
import yarl
from aiohttp.http_exceptions import HttpProcessingError

from edgesim.distribution.model import Origin
from edgesim.edge.message import Headers
from edgesim.edge.origin_pool import NotHttp, OriginPool, OriginUnreachable

# The longest response head (status line and headers) read from an origin answering HEAD.
MAX_HEAD_BYTES = 64 * 1024


class BodyReader(Protocol):
    def iter_chunked(self, n: int) -> AsyncIterator[bytes]: ...


class OriginResponse(Protocol):
    """What the pipeline reads of an origin's response (``aiohttp.ClientResponse`` has it)."""

    @property
    def status(self) -> int: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]: ...
    @property
    def content(self) -> BodyReader: ...
    @property
    def content_length(self) -> int | None: ...
    def release(self) -> Any: ...


class OriginFailure(Exception):
    """The origin could not be used: ``status`` is what CloudFront answers (502 or 504)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class OriginRequest:
    method: str
    path: str
    query: str | None
    headers: Headers  # lower-case names, already filtered by policy
    body: AsyncIterator[bytes] | bytes | None = None


def origin_host(origin: Origin) -> str:
    return _netloc(origin.url)


@functools.lru_cache(maxsize=1024)
def _netloc(url: str) -> str:
    return urlsplit(url).netloc


def origin_url(origin: Origin, path: str, query: str | None, *, base: str | None = None) -> str:
    base = (base or origin.url).rstrip("/")
    target = origin.origin_path.rstrip("/") + path
    return f"{base}{target}" if query is None else f"{base}{target}?{query}"


class _AsBuilt(aiohttp.ClientRequest):
    """A client request with exactly the headers the pipeline built: none of aiohttp's automatic
    ``Accept``, ``Accept-Encoding`` and ``User-Agent`` (CloudFront adds none of them; the
    pipeline sends its own User-Agent). Cheaper than ``skip_auto_headers`` on every request,
    which aiohttp turns into a sorted multidict each time."""

    def update_auto_headers(self, skip_auto_headers: Iterable[str] | None) -> None:
        return None


def origin_session() -> aiohttp.ClientSession:
    """The aiohttp session origin requests go through (those the pool does not take)."""
    return aiohttp.ClientSession(
        # Bodies are streamed as the origin encoded them.
        auto_decompress=False,
        # Redirects go back to the viewer untouched, as CloudFront does.
        cookie_jar=aiohttp.DummyCookieJar(),
        request_class=_AsBuilt,
    )


class OriginClient:
    """Connections to all origins, kept alive (like CloudFront's): a GET without a body to a
    plain-HTTP origin goes through :class:`OriginPool`, everything else through one aiohttp
    session (see ``edgesim/edge/origin_pool.py`` for why two)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float, float], aiohttp.ClientTimeout] = {}
        self._pool = OriginPool()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = origin_session()
        return self._session

    def _timeout(self, origin: Origin) -> aiohttp.ClientTimeout:
        """The origin's connection and response timeouts (made once per pair of values)."""
        key = (origin.connect_timeout_s, origin.response_timeout_s)
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(sock_connect=key[0], sock_read=key[1])
            if len(self._timeouts) < 256:
                self._timeouts[key] = timeout
        return timeout

    async def close(self) -> None:
        self._pool.close()
        self._pool = OriginPool()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self, origin: Origin, request: OriginRequest, *, base_url: str | None = None
    ) -> OriginResponse:
        """Open the origin response (headers read, body not yet); raises :class:`OriginFailure`.
        ``base_url`` is where the origin is reached locally (default: its own URL).

        An answer to HEAD has no body (RFC 9110 §9.3.2): if the origin sends bytes after it
        anyway (as an aiohttp handler that writes a body for HEAD does), aiohttp takes them for
        a malformed next response and fails the request; the HEAD is then read again with
        :func:`read_head`, which takes the header block and drops the connection, as proxies
        commonly do. (What CloudFront does with such an origin is not documented.)"""
        # encoded=True: the path and query go out byte for byte as the pipeline has them (no dot
        # segment removal or unescaping), so the origin sees what the behaviour matched.
        target = origin_url(origin, request.path, request.query, base=base_url)
        url = yarl.URL(target, encoded=True)
        if request.method == "GET" and request.body is None and url.scheme == "http":
            return await self._get_pooled(origin, request, url)  # the common case, called directly
        try:
            return await self._send(origin, request, url)
        except _UnreadableHead:
            deadlines = _Timeouts(origin.connect_timeout_s, origin.response_timeout_s)
            try:
                return await read_head(url, request.headers, deadlines)
            except (OSError, TimeoutError, ValueError) as exc:
                raise OriginFailure(502, f"origin {origin.id}: {_one_line(exc)}") from None

    async def _send(self, origin: Origin, request: OriginRequest, url: yarl.URL) -> OriginResponse:
        timeout = self._timeout(origin)
        last: OriginFailure | None = None
        for _ in range(max(1, origin.connection_attempts)):
            try:
                body: AsyncIterator[bytes] | bytes | io.BytesIO | None = request.body
                if isinstance(body, bytes) and len(body) > _IN_MEMORY_BODY:
                    body = io.BytesIO(body)  # a body a lambda read whole: sent without blocking
                return await self._client().request(
                    request.method,
                    url,
                    headers=request.headers,
                    data=body,
                    allow_redirects=False,
                    timeout=timeout,
                )
            except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError) as exc:
                last = _unreachable(origin, exc)
                streamed = request.body is not None and not isinstance(request.body, bytes)
                if streamed and not isinstance(exc, aiohttp.ClientConnectorError):
                    # The connection was made and part of a streamed body may be gone with it;
                    # a refused connection read nothing, so it is retried like any other.
                    break
            except aiohttp.ClientResponseError as exc:
                if request.method == "HEAD" and isinstance(exc.__cause__, HttpProcessingError):
                    raise _UnreadableHead from exc
                raise _failure(origin, exc) from None
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                raise _failure(origin, exc) from None
        assert last is not None
        raise last

    async def _get_pooled(
        self, origin: Origin, request: OriginRequest, url: yarl.URL
    ) -> OriginResponse:
        """The pooled path: the same attempts and the same failures as the session's."""
        last: OriginFailure | None = None
        for _ in range(max(1, origin.connection_attempts)):
            try:
                return await self._pool.get(
                    url, request.headers, connect_timeout=origin.connect_timeout_s,
                    read_timeout=origin.response_timeout_s,
                )  # fmt: skip
            except (OriginUnreachable, aiohttp.ServerDisconnectedError) as exc:
                last = _unreachable(origin, exc)
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                raise _failure(origin, exc) from None
        assert last is not None
        raise last


def _unreachable(origin: Origin, exc: BaseException) -> OriginFailure:
    """A connection that could not be made (or was dropped before an answer): a 502, and the
    attempt counts towards ``connection_attempts``. Both paths word it the same."""
    return OriginFailure(502, f"origin {origin.id} unreachable: {exc}")


def _failure(origin: Origin, exc: BaseException) -> OriginFailure:
    """Any other failure of either path, as CloudFront answers it: no answer in time is a
    504; an answer that is not HTTP, or a request that cannot be sent (a header value aiohttp
    refuses, a ValueError), a 502. ``TimeoutError`` is tested first: aiohttp's read timeout is
    also one of its client errors."""
    if isinstance(exc, TimeoutError):
        return OriginFailure(504, f"origin {origin.id} timed out: {exc!r}")
    if isinstance(exc, aiohttp.ClientError | NotHttp):
        return OriginFailure(502, f"origin {origin.id}: {_one_line(exc)}")
    return OriginFailure(502, f"origin {origin.id}: invalid request: {_one_line(exc)}")


# Over this, aiohttp would warn that writing the bytes at once may block the event loop.
_IN_MEMORY_BODY = 1024 * 1024


class _UnreadableHead(Exception):
    """aiohttp could not parse what followed an origin's answer to HEAD."""


def _one_line(exc: BaseException, limit: int = 300) -> str:
    """An error as one short line: an origin's bytes never flood the log or a 502's body."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True)
class _Timeouts:
    connect: float
    read: float


class _NoBody:
    async def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        return
        yield b""  # an async generator that yields nothing


@dataclass
class HeadResponse:
    """An origin's answer to HEAD as :func:`read_head` read it: status and headers, no body."""

    status: int
    reason: str | None
    raw_headers: tuple[tuple[bytes, bytes], ...]
    content: _NoBody = field(default_factory=_NoBody)

    @property
    def content_length(self) -> int | None:
        for name, value in self.raw_headers:
            if name.lower() == b"content-length" and value.strip().isdigit():
                return int(value)
        return None

    def release(self) -> None:
        pass


async def read_head(url: yarl.URL, headers: Headers, deadlines: _Timeouts) -> HeadResponse:
    """Send HEAD on a new connection, read the response head (skipping 1xx answers), and drop
    the connection whatever follows. Raises OSError, TimeoutError or ValueError."""
    host = url.host or ""
    secure = url.scheme == "https"
    port = url.port or (443 if secure else 80)
    context = ssl.create_default_context() if secure else None
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(
            host, port, ssl=context, server_hostname=host if secure else None,
            limit=MAX_HEAD_BYTES,
        ),
        deadlines.connect,
    )  # fmt: skip
    try:
        lines = [f"HEAD {url.raw_path_qs} HTTP/1.1"]
        for name, value in headers:
            if any(c in name + value for c in "\r\n\0"):
                raise ValueError(f"invalid character in header {name!r}")
            lines.append(f"{name}: {value}")
        lines.append("Connection: close")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        await writer.drain()
        while True:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), deadlines.read)
            except asyncio.IncompleteReadError:
                raise ValueError("the origin closed the connection before a response") from None
            except asyncio.LimitOverrunError:
                raise ValueError(
                    f"the origin's response head is longer than {MAX_HEAD_BYTES} bytes"
                ) from None
            response = parse_head(head)
            if not 100 <= response.status <= 199:
                return response
    finally:
        writer.transport.abort()


def parse_head(head: bytes) -> HeadResponse:
    """A response's status line and header fields (obsolete line folding joined)."""
    status_line, *field_lines = head.rstrip(b"\r\n").split(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP/1 status line: {status_line[:100]!r}")
    fields: list[tuple[bytes, bytes]] = []
    for line in field_lines:
        if line[:1] in (b" ", b"\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + b" " + line.strip())
            continue
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise ValueError(f"malformed header line: {line[:100]!r}")
        fields.append((name, value.strip(b" \t")))
    reason = parts[2].decode("latin-1") if len(parts) > 2 else None
    return HeadResponse(int(parts[1]), reason, tuple(fields))
