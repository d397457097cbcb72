"""Between aiohttp and the pipeline: the viewer's request as an :class:`EdgeRequest`, and an
:class:`EdgeResponse` written back to the viewer, streaming the body from wherever it comes
(a body in hand, a cached object, or the origin — then also into the cache writer)."""

from __future__ import annotations

from aiohttp import web

from edgesim.edge.flow import CachedBody, EdgeResponse, GeneratedBody, OriginBody
from edgesim.edge.message import HOP_BY_HOP, EdgeRequest, Headers

CHUNK = 64 * 1024


def viewer_request(request: web.Request) -> EdgeRequest:
    raw = request.raw_path
    path, mark, query = raw.partition("?")
    peer = request.transport.get_extra_info("peername") if request.transport else None
    port = int(peer[1]) if isinstance(peer, tuple) and len(peer) > 1 else 0
    headers = [
        (header_text(name).lower(), header_text(value)) for name, value in request.raw_headers
    ]
    return EdgeRequest(
        method=request.method,
        path=path or "/",
        query=query if mark else None,
        headers=headers,
        client_ip=request.remote or "127.0.0.1",
        client_port=port,
        http_version=f"{request.version.major}.{request.version.minor}",
        scheme=request.scheme,
        has_body=request.body_exists,
    )


def origin_headers(raw_headers: tuple[tuple[bytes, bytes], ...]) -> Headers:
    pairs = [(header_text(name).lower(), header_text(value)) for name, value in raw_headers]
    return [(name, value) for name, value in pairs if name not in HOP_BY_HOP]


def header_text(raw: bytes) -> str:
    """Header bytes as text the way CloudFront treats them (Developer Guide, "Restrictions on
    edge functions"): UTF-8 when valid, otherwise ISO-8859-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


async def send(request: web.Request, out: web.StreamResponse, response: EdgeResponse) -> int:
    """Write ``response``'s body through ``out`` (status and headers already set); returns the
    body bytes produced. Whatever happens, the origin connection is released and an unfinished
    cache write abandoned."""
    head = request.method == "HEAD"
    source = response.source
    try:
        if isinstance(source, GeneratedBody):
            out.headers["Content-Length"] = str(len(source.data))
            await out.prepare(request)
            if not head:
                await out.write(source.data)
            await out.write_eof()
            if source.fill is not None:
                fill, source.fill = source.fill, None
                await pump(fill, None)  # still cache the origin's response
            return len(source.data)
        await out.prepare(request)
        size = 0
        if isinstance(source, CachedBody):
            if not head:
                for chunk in source.obj.body_chunks():
                    await out.write(chunk)
                    size += len(chunk)
        else:
            size = await pump(source, None if head else out)
        await out.write_eof()
        return size
    finally:
        response.release()


async def pump(body: OriginBody, viewer: web.StreamResponse | None) -> int:
    """Stream the origin body (compressed on the way if CloudFront would) into the cache writer
    and, unless ``viewer`` is None, to the viewer; returns the bytes produced."""
    writer, encoder = body.writer, body.encoder
    size = 0

    async def emit(chunk: bytes) -> None:
        nonlocal size
        if not chunk:
            return
        if writer is not None:
            writer.write(chunk)
        if viewer is not None:
            await viewer.write(chunk)
        size += len(chunk)

    try:
        async for chunk in body.response.content.iter_chunked(CHUNK):
            await emit(encoder.feed(chunk) if encoder is not None else chunk)
        if encoder is not None:
            await emit(encoder.finish())
    except BaseException:
        if writer is not None:
            writer.abort()
        body.writer = None
        raise
    finally:
        body.response.release()
    if writer is not None:
        writer.commit()
        body.writer = None
    return size
