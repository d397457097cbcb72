"""Between aiohttp and the pipeline, without sockets: header bytes as CloudFront reads them,
the origin's headers, and streaming a body to the viewer and into the cache."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from edgesim.edge import delivery
from edgesim.edge.cache import CacheWriter, HttpCache
from edgesim.edge.compression import StreamEncoder
from edgesim.edge.flow import CachedBody, EdgeResponse, GeneratedBody, OriginBody, XCache
from edgesim.edge.ttl import TtlDecision
from tests.unit.edge.stages.conftest import FakeOriginResponse


@pytest.fixture
def cache() -> Iterator[HttpCache]:
    with HttpCache() as http_cache:
        yield http_cache


def writer_for(cache: HttpCache, key: str = "k") -> CacheWriter:
    return cache.begin(
        key, status=200, headers=[], decision=TtlDecision(True, 60, reason="t"), path="/"
    )


class FakeViewer:
    """``web.StreamResponse`` as ``send``/``pump`` use it."""

    def __init__(self, fail_on_write: int | None = None) -> None:
        self.headers: dict[str, str] = {}
        self.prepared = False
        self.chunks: list[bytes] = []
        self.eof = False
        self.fail_on_write = fail_on_write

    async def prepare(self, request: object) -> None:
        self.prepared = True

    async def write(self, chunk: bytes) -> None:
        if self.fail_on_write is not None and len(self.chunks) >= self.fail_on_write:
            raise ConnectionResetError("viewer went away")
        self.chunks.append(chunk)

    async def write_eof(self) -> None:
        self.eof = True

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


class FakeRequest:
    def __init__(self, method: str = "GET") -> None:
        self.method = method


# -- header text -----------------------------------------------------------------------------


def test_header_text_is_utf8_when_valid() -> None:
    assert delivery.header_text("café ✓".encode()) == "café ✓"


def test_header_text_falls_back_to_latin1() -> None:
    assert delivery.header_text(b"caf\xe9") == "café"
    assert delivery.header_text(b"\xff\xfe") == "ÿþ"


def test_origin_headers_lowercased_without_hop_by_hop() -> None:
    raw = (
        (b"Content-Type", b"text/html"),
        (b"Connection", b"keep-alive"),
        (b"Transfer-Encoding", b"chunked"),
        (b"Keep-Alive", b"timeout=5"),
        (b"Set-Cookie", b"a=1"),
        (b"Set-Cookie", b"b=2"),
        (b"X-Name", b"caf\xe9"),
    )
    assert delivery.origin_headers(raw) == [
        ("content-type", "text/html"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
        ("x-name", "café"),
    ]


async def test_viewer_request_keeps_the_raw_path_and_query() -> None:
    request = make_mocked_request(
        "GET", "/a%20b/../c?x=%2F&y&x=2", headers=CIMultiDict([("Host", "ex.com"), ("X-A", "1")])
    )
    req = delivery.viewer_request(request)
    assert (req.method, req.path, req.query) == ("GET", "/a%20b/../c", "x=%2F&y&x=2")
    assert req.headers == [("host", "ex.com"), ("x-a", "1")]
    assert req.http_version == "1.1"


@pytest.mark.parametrize(("target", "query"), [("/p", None), ("/p?", "")])
async def test_viewer_request_tells_no_query_from_an_empty_one(
    target: str, query: str | None
) -> None:
    assert delivery.viewer_request(make_mocked_request("GET", target)).query == query


# -- pump ------------------------------------------------------------------------------------


async def test_pump_streams_to_viewer_and_cache_and_commits(cache: HttpCache) -> None:
    fake = FakeOriginResponse(200, [b"hello ", b"", b"world"])
    writer = writer_for(cache)
    body = OriginBody(fake, writer)  # type: ignore[arg-type]
    viewer = FakeViewer()
    size = await delivery.pump(body, viewer)  # type: ignore[arg-type]
    assert size == 11
    assert viewer.chunks == [b"hello ", b"world"]  # no empty writes
    entry = cache.lookup("k")
    assert entry is not None
    assert entry.body == b"hello world"
    assert body.writer is None
    assert fake.released == 1


async def test_pump_without_a_viewer_still_fills_the_cache(cache: HttpCache) -> None:
    fake = FakeOriginResponse(200, [b"abc", b"def"])
    body = OriginBody(fake, writer_for(cache))  # type: ignore[arg-type]
    assert await delivery.pump(body, None) == 6
    entry = cache.lookup("k")
    assert entry is not None
    assert entry.body == b"abcdef"


async def test_pump_compresses_for_viewer_and_cache_alike(cache: HttpCache) -> None:
    text = b"<p>compress me</p>" * 200
    fake = FakeOriginResponse(200, [text[:1000], text[1000:]])
    body = OriginBody(fake, writer_for(cache), StreamEncoder("gzip"))  # type: ignore[arg-type]
    viewer = FakeViewer()
    size = await delivery.pump(body, viewer)  # type: ignore[arg-type]
    entry = cache.lookup("k")
    assert entry is not None
    assert entry.body == viewer.body
    assert size == len(viewer.body) < len(text)
    assert gzip.decompress(viewer.body) == text


async def test_origin_failure_mid_body_aborts_the_cache_write(cache: HttpCache) -> None:
    fake = FakeOriginResponse(200, [b"one", b"two", b"three"], fail_after=2)
    writer = writer_for(cache)
    body = OriginBody(fake, writer)  # type: ignore[arg-type]
    viewer = FakeViewer()
    with pytest.raises(ConnectionResetError):
        await delivery.pump(body, viewer)  # type: ignore[arg-type]
    assert viewer.chunks == [b"one", b"two"]
    assert "k" not in cache  # a truncated body is never served from the cache
    assert writer.commit() is None
    assert body.writer is None
    assert fake.released == 1


async def test_viewer_gone_mid_body_aborts_the_cache_write(cache: HttpCache) -> None:
    fake = FakeOriginResponse(200, [b"one", b"two"])
    body = OriginBody(fake, writer_for(cache))  # type: ignore[arg-type]
    with pytest.raises(ConnectionResetError):
        await delivery.pump(body, FakeViewer(fail_on_write=1))  # type: ignore[arg-type]
    assert "k" not in cache
    assert fake.released == 1


# -- send ------------------------------------------------------------------------------------


async def send(response: EdgeResponse, method: str = "GET") -> tuple[FakeViewer, int]:
    viewer = FakeViewer()
    size = await delivery.send(FakeRequest(method), viewer, response)  # type: ignore[arg-type]
    assert viewer.prepared
    assert viewer.eof
    return viewer, size


async def test_send_generated_body_with_its_length() -> None:
    viewer, size = await send(EdgeResponse(200, [], XCache.MISS, GeneratedBody(b"made")))
    assert (viewer.body, size, viewer.headers["Content-Length"]) == (b"made", 4, "4")


async def test_send_head_writes_no_body_but_the_length() -> None:
    viewer, _ = await send(EdgeResponse(200, [], XCache.MISS, GeneratedBody(b"made")), "HEAD")
    assert viewer.body == b""
    assert viewer.headers["Content-Length"] == "4"


async def test_send_replaced_body_then_caches_the_origins(cache: HttpCache) -> None:
    fake = FakeOriginResponse(200, [b"origin body"])
    fill = OriginBody(fake, writer_for(cache))  # type: ignore[arg-type]
    source = GeneratedBody(b"replaced", made_by_edge=False, fill=fill)
    viewer, size = await send(EdgeResponse(200, [], XCache.MISS, source))
    assert (viewer.body, size) == (b"replaced", 8)
    entry = cache.lookup("k")
    assert entry is not None
    assert entry.body == b"origin body"
    assert fake.released >= 1


async def test_send_cached_body(cache: HttpCache) -> None:
    writer = writer_for(cache)
    writer.write(b"stored")
    obj = writer.commit()
    assert obj is not None
    viewer, size = await send(EdgeResponse(200, [], XCache.HIT, CachedBody(obj)))
    assert (viewer.body, size) == (b"stored", 6)
    viewer, size = await send(EdgeResponse(200, [], XCache.HIT, CachedBody(obj)), "HEAD")
    assert (viewer.body, size) == (b"", 0)


async def test_send_origin_body_streams_and_releases(cache: HttpCache) -> None:
    fake = FakeOriginResponse(200, [b"a", b"b"])
    viewer, size = await send(EdgeResponse(200, [], XCache.MISS, OriginBody(fake)))  # type: ignore[arg-type]
    assert (viewer.body, size) == (b"ab", 2)
    assert fake.released >= 1
