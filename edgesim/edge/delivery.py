"""Between aiohttp and the pipeline: the viewer's request as an :class:`EdgeRequest`, and an
:class:`EdgeResponse` written back to the viewer, streaming the body from wherever it comes
(a body in hand, a cached object, or the origin — then also into the cache writer).

Nothing goes on the wire that CloudFront would not send: aiohttp's ``StreamResponse`` fills in
``Content-Type: application/octet-stream``, ``Server: Python/… aiohttp/…`` and a ``Date`` from
the machine's clock when a response lacks them; :class:`ViewerResponse` sends only the headers
the pipeline chose, and a missing ``Date`` comes from the edge clock (docs/serve.md, "What the
viewer receives").
"""

from __future__ import annotations

import math
from email.utils import formatdate
from typing import TYPE_CHECKING, Any, NamedTuple

import aiohttp
from aiohttp import hdrs, web
from aiohttp.http import HttpVersion, HttpVersion10, HttpVersion11, RawRequestMessage

from edgesim.edge.flow import (
    CachedBody,
    EdgeResponse,
    Failure,
    Flow,
    FlowFailure,
    GeneratedBody,
    OriginBody,
)
from edgesim.edge.message import HOP_BY_HOP, EdgeRequest, Headers

if TYPE_CHECKING:
    from edgesim.edge.cache import CacheWriter

CHUNK = 64 * 1024


class ViewerRequest(web.BaseRequest):
    """A request read on a viewer port (``edge.listener`` makes them), carrying what
    :func:`viewer_request` reads: the parser's message, and the viewer's address and scheme
    (the same for every request on a connection, so worked out once for it). Reading these
    through ``BaseRequest``'s properties costs a Python call each, on every request."""

    ATTRS = web.BaseRequest.ATTRS | frozenset({"raw_message", "viewer"})
    raw_message: RawRequestMessage
    viewer: ViewerAddress


class ViewerAddress(NamedTuple):
    client_ip: str
    client_port: int
    scheme: str


def viewer_address(peer: Any, secure: bool) -> ViewerAddress:
    """The viewer's address as :func:`viewer_request` reads it from a request's ``remote``
    (``peer`` is the connection's ``peername``) and ``scheme``."""
    if peer is None:
        remote = None
    elif isinstance(peer, list | tuple):
        remote = str(peer[0])
    else:
        remote = str(peer)
    return ViewerAddress(remote or "127.0.0.1", _peer_port(peer), "https" if secure else "http")


def _peer_port(peer: Any) -> int:
    """The port of a connection's ``peername`` (0 for a Unix socket or none)."""
    return int(peer[1]) if isinstance(peer, tuple) and len(peer) > 1 else 0


def viewer_request(request: web.BaseRequest) -> EdgeRequest:
    if type(request) is ViewerRequest:
        message = request.raw_message
        method, raw, version = message.method, message.path, message.version
        raw_headers = message.raw_headers
        client_ip, port, scheme = request.viewer
    else:  # a request made elsewhere (tests): read through its properties
        raw, method, version, raw_headers = (
            request.raw_path, request.method, request.version, request.raw_headers
        )  # fmt: skip
        transport = request.transport
        port = _peer_port(transport.get_extra_info("peername") if transport else None)
        client_ip, scheme = request.remote or "127.0.0.1", request.scheme
    path, mark, query = raw.partition("?")
    return EdgeRequest(
        method=method,
        path=path or "/",
        query=query if mark else None,
        headers=decode_headers(raw_headers),
        client_ip=client_ip,
        client_port=port,
        http_version=_VERSIONS.get(version) or f"{version.major}.{version.minor}",
        scheme=scheme,
        has_body=request.body_exists,
        head_bytes=_head_size(method, raw, version, raw_headers),
    )


_VERSIONS = {HttpVersion11: "1.1", HttpVersion10: "1.0"}


def head_size(request: web.BaseRequest) -> int:
    """The request line and header block's length in bytes, counting each header line as
    ``Name: value`` plus CRLF (the parser does not keep the exact spacing around the colon)."""
    return _head_size(request.method, request.raw_path, request.version, request.raw_headers)


def _head_size(
    method: str, target: str, version: HttpVersion, raw: tuple[tuple[bytes, bytes], ...]
) -> int:
    # "HTTP/1.1" is 8 characters, as is any one-digit version; the target is counted in bytes
    # (an ASCII target, the usual one, is as long in characters).
    version_len = 8 if version.major < 10 and version.minor < 10 else len(
        f"HTTP/{version.major}.{version.minor}"
    )  # fmt: skip
    target_len = len(target) if target.isascii() else len(
        target.encode("utf-8", "surrogateescape")
    )  # fmt: skip
    size = len(method) + target_len + version_len + 6  # two spaces, CRLF, the blank line's CRLF
    for name, value in raw:
        size += len(name) + len(value) + 4  # ": " and CRLF
    return size


def decode_headers(raw_headers: tuple[tuple[bytes, bytes], ...]) -> Headers:
    """Header lines as (lower-case name, value) text (see :func:`header_text`)."""
    try:
        return [(name.decode().lower(), value.decode()) for name, value in raw_headers]
    except UnicodeDecodeError:  # rare: decode line by line, falling back to ISO-8859-1
        return [(header_text(name).lower(), header_text(value)) for name, value in raw_headers]


def origin_headers(raw_headers: tuple[tuple[bytes, bytes], ...]) -> Headers:
    """An origin response's header lines as :func:`decode_headers` gives them, without the
    hop-by-hop ones (decoded and filtered in one pass: this runs on every origin response)."""
    try:
        return [
            (lowered, value.decode())
            for name, value in raw_headers
            if (lowered := name.decode().lower()) not in HOP_BY_HOP
        ]
    except UnicodeDecodeError:
        return [(n, v) for n, v in decode_headers(raw_headers) if n not in HOP_BY_HOP]


def header_text(raw: bytes) -> str:
    """Header bytes as text the way CloudFront treats them (Developer Guide, "Restrictions on
    edge functions"): UTF-8 when valid, otherwise ISO-8859-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class DeliveryFailure(Exception):
    """A response that broke off after it had started; ``kind`` names it as CloudFront's logs
    do."""

    kind: Failure


class OriginBroke(DeliveryFailure):
    """The origin's body could not be read to its end (connection closed early, a body shorter
    than its ``Content-Length``, broken chunking, a read timeout)."""

    kind = Failure.ORIGIN_READ


class ViewerGone(DeliveryFailure):
    """The viewer's connection went away while the response was being written."""

    kind = Failure.CLIENT_COMM


# What reading an origin body raises when the origin breaks off: aiohttp's client errors
# (ClientPayloadError, ServerDisconnectedError, …), socket errors and the read timeout.
_ORIGIN_READ_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)


async def send(request: web.BaseRequest, out: web.StreamResponse, flow: Flow) -> None:
    """Write ``flow.response``'s body through ``out`` (status and headers already set),
    counting the body bytes in ``flow.bytes_sent``.

    A response that breaks off — the origin stops mid-body, or the viewer goes away — is
    recorded in ``flow.failure`` and the viewer's connection is closed, as CloudFront closes
    it: a body shorter than its headers promised cannot be completed on that connection (and
    nothing is cached). Whatever happens, the origin connection is released and an unfinished
    cache write abandoned."""
    response = flow.response
    assert response is not None
    try:
        await _send(request, out, flow, response)
    except DeliveryFailure as failure:
        flow.failure = FlowFailure(failure.kind, str(failure))
        hang_up(request, out)
    finally:
        response.release()


async def _send(
    request: web.BaseRequest, out: web.StreamResponse, flow: Flow, response: EdgeResponse
) -> None:
    head = request.method == "HEAD"
    source = response.source
    if isinstance(source, GeneratedBody):
        out.headers["Content-Length"] = str(len(source.data))
        await _prepare(request, out, flow)
        if not head:
            await _write(out, source.data, flow)
        await _finish(out, flow)
        if source.fill is not None:
            fill, source.fill = source.fill, None
            problem = await fill_cache(fill)  # still cache the origin's response
            if problem is not None:
                flow.mark("fill", failure=problem)
        return
    await _prepare(request, out, flow)
    if isinstance(source, CachedBody):
        if not head:
            chunks = source.obj.body_chunks()
            try:
                for chunk in chunks:
                    await _write(out, chunk, flow)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()  # a spill file is released now, not when collected
    else:
        await pump(source, None if head else out, flow)
    await _finish(out, flow)


class ViewerResponse(web.StreamResponse):
    """A ``StreamResponse`` that adds none of aiohttp's defaults: no ``Content-Type`` or
    ``Server`` the pipeline did not set (CloudFront passes the origin's headers and adds only its
    own, reference B.7), and no ``Date`` (:func:`_prepare` sets it from the edge clock).

    aiohttp offers no public switch for these defaults (its ``on_response_prepare`` signal needs
    an ``Application``; the viewer listener is the low-level server), so the one hook that fills
    them in is wrapped; ``tests/unit/edge/test_viewer_wire.py`` fails if aiohttp changes it.
    Framing headers aiohttp adds (``Transfer-Encoding: chunked`` for a body of unknown length,
    ``Connection`` for the viewer's connection) stay: they belong to the viewer's connection.
    """

    async def _prepare_headers(self) -> None:
        headers = self.headers
        had_type = hdrs.CONTENT_TYPE in headers
        had_server = hdrs.SERVER in headers
        await super()._prepare_headers()
        if not had_type:
            headers.popall(hdrs.CONTENT_TYPE, None)
        if not had_server:
            headers.popall(hdrs.SERVER, None)


def as_viewer_response(out: web.StreamResponse) -> web.StreamResponse:
    """``out`` sending only the pipeline's headers (see :class:`ViewerResponse`). The proxy
    builds a plain ``StreamResponse``; ``ViewerResponse`` adds behaviour and no state, so the
    instance takes its class before it is prepared."""
    if type(out) is web.StreamResponse:
        out.__class__ = ViewerResponse
    return out


def http_date(epoch_ms: float) -> str:
    """An HTTP ``Date`` value (RFC 9110 §5.6.7, IMF-fixdate) for an edge-clock time."""
    global _last_date
    seconds = epoch_ms / 1000
    start, text = _last_date
    if start <= seconds < start + _SAME_SECOND:
        return text  # most responses in a second share its Date: formatted once
    text = formatdate(seconds, usegmt=True)
    start = math.floor(seconds)
    if seconds < start + _SAME_SECOND:
        _last_date = (start, text)
    return text


# formatdate rounds the time to microseconds, so a time in the last microsecond of a second can be
# dated the next one; only times well before that share a cached value (the margin also covers
# the float's precision, under 0.3 µs for epoch times before 2106).
_SAME_SECOND = 0.999998
_last_date: tuple[float, str] = (math.inf, "")


async def _prepare(request: web.BaseRequest, out: web.StreamResponse, flow: Flow) -> None:
    if hdrs.DATE not in out.headers:
        # CloudFront's responses always carry a Date; when the origin (or the function that
        # made the response) sent none, the edge's own, on the edge clock: the request's arrival.
        out.headers[hdrs.DATE] = http_date(flow.received_ms)
    out = as_viewer_response(out)
    try:
        await out.prepare(request)
    except ConnectionError as exc:
        raise ViewerGone(f"the viewer closed the connection before the response: {exc}") from exc
    flow.response_started = True


async def _write(out: web.StreamResponse, data: bytes, flow: Flow | None) -> None:
    try:
        await out.write(data)
    except ConnectionError as exc:
        sent = f" after {flow.bytes_sent} body bytes" if flow is not None else ""
        raise ViewerGone(f"the viewer closed the connection{sent}: {exc}") from exc
    if flow is not None:
        flow.bytes_sent += len(data)


async def _finish(out: web.StreamResponse, flow: Flow) -> None:
    try:
        await out.write_eof()
    except ConnectionError as exc:
        raise ViewerGone(
            f"the viewer closed the connection after {flow.bytes_sent} body bytes: {exc}"
        ) from exc


def hang_up(request: web.BaseRequest, out: web.StreamResponse) -> None:
    """End the viewer's connection after this response, now: what was written is flushed, and
    nothing more (no end of a chunked body that would make a truncated one look complete)."""
    out.force_close()
    transport = request.transport
    if transport is not None:
        transport.close()


async def fill_cache(body: OriginBody) -> str | None:
    """Drain the origin's body into its cache writer without a viewer (the viewer got another
    body); returns what went wrong, or None. A body that breaks off is not cached."""
    try:
        await pump(body, None)
    except OriginBroke as exc:
        return str(exc)
    return None


async def pump(
    body: OriginBody, viewer: web.StreamResponse | None, flow: Flow | None = None
) -> int:
    """Stream the origin body (compressed on the way if CloudFront would) into the cache writer
    and, unless ``viewer`` is None, to the viewer (counted in ``flow.bytes_sent``); returns the
    bytes produced. Raises :class:`OriginBroke` or :class:`ViewerGone` when either side breaks
    off; the cache write is abandoned then (Developer Guide, "Dropped TCP connections" and
    "Canceled requests": such objects are not cached)."""
    writer, encoder = body.writer, body.encoder
    size = read = 0
    chunks = body.response.content.iter_chunked(CHUNK).__aiter__()
    try:
        while True:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except _ORIGIN_READ_ERRORS as exc:
                expected = body.response.content_length
                of = f" of {expected}" if expected is not None else ""
                raise OriginBroke(
                    f"the origin's body broke off after {read}{of} bytes: {_one_line(exc)}"
                ) from exc
            read += len(chunk)
            if encoder is not None:
                chunk = encoder.feed(chunk)
            if chunk:
                if writer is not None:
                    writer.write(chunk)
                if viewer is not None:
                    await _write(viewer, chunk, flow)
                size += len(chunk)
        if encoder is not None:
            size += await _emit(encoder.finish(), writer, viewer, flow)
    except BaseException:
        if writer is not None:
            writer.abort()
        body.writer = None
        raise
    finally:
        body.release_connection()
    if writer is not None:
        writer.commit()
        body.writer = None
    return size


async def _emit(
    chunk: bytes, writer: CacheWriter | None, viewer: web.StreamResponse | None, flow: Flow | None
) -> int:
    """Produced bytes to the cache writer and the viewer (the loop in :func:`pump` does the
    same inline for each chunk); returns how many."""
    if chunk:
        if writer is not None:
            writer.write(chunk)
        if viewer is not None:
            await _write(viewer, chunk, flow)
    return len(chunk)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
