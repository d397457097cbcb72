"""Kept-alive connections for the origin requests that need nothing else: a GET without a body
to a plain-HTTP origin, which is nearly all of serve's traffic.

aiohttp's ``ClientSession`` does this job for every request, but its generality (cookies,
redirects, auth, proxies, tracing hooks, a ``ClientRequest`` and a ``ClientResponse`` built per
request) costs about 55 µs of CPU per request on this path — a fifth of what serve spends on a
request without a function (issue 12; ``benchmarks/plumbing_cost.py``). What this module writes
itself is small: the request head (the bytes the session would send, held by a differential
test) and a pool of idle connections per origin address. Reading the response — the parser,
streaming the body with flow control, the read timeout, the exceptions raised — is aiohttp's
own client protocol (``ResponseHandler``), so a response reads exactly as through the session.
Requests with a body, HEAD and HTTPS origins still go through the session
(:class:`edgesim.edge.origin.OriginClient` chooses).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

import yarl
from aiohttp.client_exceptions import (
    ClientOSError,
    ConnectionTimeoutError,
    ServerDisconnectedError,
)
from aiohttp.client_proto import ResponseHandler
from aiohttp.hdrs import HOST_ALL
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.streams import StreamReader
from multidict import CIMultiDict

# How long an idle connection is kept for reuse: aiohttp's connector default, which the session
# path has always used. (CloudFront's own origin keep-alive timeout defaults to 5 s; what
# matters locally is only that an idle connection is not reused after the origin dropped it.)
# Idle connections older than this are closed by a timer, as the connector closes them.
KEEPALIVE_S = 15.0
# Connections in use at once, all origins together: aiohttp's connector default (the session
# path's limit too). A request beyond it waits for one to be released, not for the connect
# timeout, instead of opening sockets without bound.
MAX_IN_USE = 100
# Idle connections kept per origin address; more are closed when released.
MAX_IDLE = 100
# As aiohttp refuses them in a request head (``aiohttp.http_writer``): control characters
# other than tab, which would let a header value smuggle another header or request.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# 1xx answers before the final one are skipped, as the session does (101 is final).
_INTERIM = range(100, 200)


class OriginUnreachable(OSError):
    """No connection could be made to the origin's address (refused, no route, no such host);
    worded as the session words it (aiohttp's ``ClientConnectorError``)."""


class NotHttp(ValueError):
    """The origin's answer could not be parsed as an HTTP response; worded as the session
    words it (aiohttp's ``ClientResponseError``)."""


class PooledResponse:
    """An origin's response read through a pooled connection: what the pipeline reads of a
    response (:class:`edgesim.edge.origin.OriginResponse`). Its connection goes back to the
    pool once the body has been read to its end, or when released; a response released before
    its body ended closes its connection (the rest of the body is still on it)."""

    __slots__ = ("_give_back", "content", "content_length", "raw_headers", "reason", "status")

    def __init__(
        self,
        status: int,
        reason: str | None,
        raw_headers: tuple[tuple[bytes, bytes], ...],
        content: StreamReader,
        content_length: int | None,
        pool: OriginPool,
        key: tuple[str, int],
        protocol: ResponseHandler,
    ) -> None:
        self.status = status
        self.reason = reason
        self.raw_headers = raw_headers
        self.content = content
        self.content_length = content_length
        self._give_back: tuple[OriginPool, tuple[str, int], ResponseHandler] | None = (
            pool,
            key,
            protocol,
        )
        if content.is_eof():
            self.release()
        else:
            content.on_eof(self.release)

    def release(self) -> None:
        taken, self._give_back = self._give_back, None
        if taken is None:
            return
        pool, key, protocol = taken
        if self.content.is_eof() and not protocol.should_close and protocol.is_connected():
            pool.put(key, protocol)
        else:
            protocol.close()
        pool.in_use.release()


def request_head(method: str, url: yarl.URL, headers: Sequence[tuple[str, str]]) -> bytes:
    """The request line and header block as aiohttp's session sends them for a request built
    with exactly these headers and no body. Raises ValueError for a control character."""
    # Host goes first, the last one given (in its spelling) or the URL's, as the session puts it.
    host = f"Host: {url.host_port_subcomponent}"
    lines = [f"{method} {url.raw_path_qs} HTTP/1.1", host]
    mixed_case = False
    for name, value in headers:
        if name in HOST_ALL:
            lines[1] = f"{name}: {value}"
        else:
            lines.append(f"{name}: {value}")
        if not mixed_case and not name.islower():
            mixed_case = True
    if mixed_case and _spelled_twice(headers):
        return request_head(method, url, _as_the_session_keeps(headers))
    if _FORBIDDEN.search("\t".join(lines)) is not None:  # tab: the one allowed control
        raise ValueError(
            "Forbidden control character detected in headers. Potential header injection attack."
        )
    # A lone surrogate (from a function's string) is dropped, as the session's writer does.
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "ignore")


def _spelled_twice(headers: Sequence[tuple[str, str]]) -> bool:
    """Whether one name is given in two spellings (X-A and x-a)."""
    names = [name for name, _ in headers]
    return len(set(map(str.lower, names))) != len(set(names))


def _as_the_session_keeps(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The lines aiohttp's session keeps of headers that give a name in two spellings: only
    those of the spelling set last (its _prepare_headers sets each new spelling, which replaces
    the others case-insensitively, and adds repeats of it). The same steps on the same kind of
    multidict, so that both paths send the same lines."""
    prepared: CIMultiDict[str] = CIMultiDict()
    spellings: set[str] = set()
    for name, value in headers:
        if name in spellings:
            prepared.add(name, value)
        else:
            prepared[name] = value
            spellings.add(name)
    return list(prepared.items())


class OriginPool:
    """Idle kept-alive connections by origin address, most recently used first."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, int], list[tuple[ResponseHandler, float]]] = {}
        self._closed = False
        self._sweep: asyncio.TimerHandle | None = None
        self.in_use = asyncio.BoundedSemaphore(MAX_IN_USE)

    def put(self, key: tuple[str, int], protocol: ResponseHandler) -> None:
        idle = self._idle.setdefault(key, [])
        if self._closed or len(idle) >= MAX_IDLE:
            protocol.close()
            return
        loop = asyncio.get_running_loop()
        idle.append((protocol, loop.time()))
        if self._sweep is None:
            self._sweep = loop.call_later(KEEPALIVE_S, self._close_expired)

    def _close_expired(self) -> None:
        """Close the connections idle for KEEPALIVE_S (the list is oldest first); look again
        while any stay idle."""
        self._sweep = None
        now = asyncio.get_running_loop().time()
        oldest: float | None = None
        for idle in self._idle.values():
            fresh = 0
            while fresh < len(idle) and now - idle[fresh][1] >= KEEPALIVE_S:
                idle[fresh][0].close()
                fresh += 1
            del idle[:fresh]
            if idle and (oldest is None or idle[0][1] < oldest):
                oldest = idle[0][1]
        if oldest is not None and not self._closed:
            delay = max(0.0, oldest + KEEPALIVE_S - now)
            self._sweep = asyncio.get_running_loop().call_later(delay, self._close_expired)

    def _take(self, key: tuple[str, int], now: float) -> ResponseHandler | None:
        idle = self._idle.get(key)
        while idle:
            protocol, since = idle.pop()
            if protocol.is_connected() and now - since < KEEPALIVE_S:
                return protocol
            protocol.close()
        return None

    async def get(
        self,
        url: yarl.URL,
        headers: Sequence[tuple[str, str]],
        *,
        connect_timeout: float,
        read_timeout: float,
    ) -> PooledResponse:
        """GET ``url`` (http) with exactly ``headers``; the response's head read, its body not
        yet. Raises ValueError (a header aiohttp would refuse), :class:`OriginUnreachable`,
        TimeoutError (connecting or waiting for the head), :class:`NotHttp`, or aiohttp's client
        errors as the session would (``ServerDisconnectedError``, …)."""
        head = request_head("GET", url, headers)
        host, port = url.raw_host or "", url.port or 80
        key = (host, port)
        loop = asyncio.get_running_loop()
        await self.in_use.acquire()  # given back by the response's release, or below
        try:
            return await self._get(loop, url, key, head, connect_timeout, read_timeout)
        except BaseException:
            self.in_use.release()
            raise

    async def _get(
        self,
        loop: asyncio.AbstractEventLoop,
        url: yarl.URL,
        key: tuple[str, int],
        head: bytes,
        connect_timeout: float,
        read_timeout: float,
    ) -> PooledResponse:
        while True:
            protocol = self._take(key, loop.time())
            reused = protocol is not None
            if protocol is None:
                protocol = await _connect(loop, url, connect_timeout)
            # read_until_eof: an answer with neither length nor chunking ends when the origin
            # closes, as the session reads it.
            protocol.set_response_params(
                read_until_eof=True, auto_decompress=False, read_timeout=read_timeout
            )
            assert protocol.transport is not None
            protocol.transport.write(head)
            protocol.start_timeout()
            try:
                message, payload = await protocol.read()
                while message.code in _INTERIM and message.code != 101:
                    message, payload = await protocol.read()
            except HttpProcessingError as exc:
                protocol.close()
                raise NotHttp(f"{exc.code}, message={exc.message!r}, url={str(url)!r}") from exc
            except (ServerDisconnectedError, ClientOSError):
                protocol.close()
                if reused:
                    continue  # the origin closed that idle one: take another, or a new one
                raise
            except BaseException:
                protocol.close()
                raise
            length = message.headers.get("Content-Length")
            return PooledResponse(
                message.code,
                message.reason,
                message.raw_headers,
                payload,
                int(length) if length is not None and length.isdigit() else None,
                self,
                key,
                protocol,
            )

    def close(self) -> None:
        self._closed = True
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for idle in self._idle.values():
            for protocol, _ in idle:
                protocol.close()
        self._idle.clear()


async def _connect(
    loop: asyncio.AbstractEventLoop, url: yarl.URL, limit_s: float
) -> ResponseHandler:
    host, port = url.raw_host or "", url.port or 80
    try:
        async with asyncio.timeout(limit_s):
            _, protocol = await loop.create_connection(lambda: ResponseHandler(loop), host, port)
    except TimeoutError:
        raise ConnectionTimeoutError(f"Connection timeout to host {url}") from None
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise OriginUnreachable(
            f"Cannot connect to host {host}:{port} ssl:default [{reason}]"
        ) from exc
    return protocol
