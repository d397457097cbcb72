"""Between aiohttp and the pipeline, without sockets: header bytes as CloudFront reads them,
the origin's headers, and streaming a body to the viewer and into the cache."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from email.utils import formatdate
from typing import cast

import pytest
from aiohttp.http import HttpVersion
from aiohttp.test_utils import make_mocked_request
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict

from edgesim.distribution.model import Distribution
from edgesim.edge import delivery
from edgesim.edge.cache import CacheWriter, HttpCache
from edgesim.edge.compression import StreamEncoder
from edgesim.edge.flow import (
    CachedBody,
    EdgeResponse,
    Failure,
    Flow,
    GeneratedBody,
    OriginBody,
    XCache,
)
from edgesim.edge.message import HOP_BY_HOP
from edgesim.edge.ttl import TtlDecision
from tests.unit.edge.stages.conftest import FakeOriginResponse, make_request


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

    def __init__(self, fail_on_write: int | None = None, *, fail_prepare: bool = False) -> None:
        self.headers: dict[str, str] = {}
        self.prepared = False
        self.chunks: list[bytes] = []
        self.eof = False
        self.closed = False  # force_close(): no keep-alive after this response
        self.fail_on_write = fail_on_write
        self.fail_prepare = fail_prepare

    async def prepare(self, request: object) -> None:
        if self.fail_prepare:
            raise ConnectionResetError("Cannot write to closing transport")
        self.prepared = True

    async def write(self, chunk: bytes) -> None:
        if self.fail_on_write is not None and len(self.chunks) >= self.fail_on_write:
            raise ConnectionResetError("viewer went away")
        self.chunks.append(chunk)

    async def write_eof(self) -> None:
        self.eof = True

    def force_close(self) -> None:
        self.closed = True

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


class FakeTransport:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


class FakeRequest:
    def __init__(self, method: str = "GET") -> None:
        self.method = method
        self.transport = FakeTransport()


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
    body = OriginBody(fake, writer)
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
    body = OriginBody(fake, writer_for(cache))
    assert await delivery.pump(body, None) == 6
    entry = cache.lookup("k")
    assert entry is not None
    assert entry.body == b"abcdef"


async def test_pump_compresses_for_viewer_and_cache_alike(cache: HttpCache) -> None:
    text = b"<p>compress me</p>" * 200
    fake = FakeOriginResponse(200, [text[:1000], text[1000:]])
    body = OriginBody(fake, writer_for(cache), StreamEncoder("gzip"))
    viewer = FakeViewer()
    size = await delivery.pump(body, viewer)  # type: ignore[arg-type]
    entry = cache.lookup("k")
    assert entry is not None
    assert entry.body == viewer.body
    assert size == len(viewer.body) < len(text)
    assert gzip.decompress(viewer.body) == text


async def test_origin_failure_mid_body_aborts_the_cache_write(cache: HttpCache) -> None:
    fake = FakeOriginResponse(200, [b"one", b"two", b"three"], fail_after=2)
    fake.content_length = 11
    writer = writer_for(cache)
    body = OriginBody(fake, writer)
    viewer = FakeViewer()
    with pytest.raises(delivery.OriginBroke, match="broke off after 6 of 11 bytes") as caught:
        await delivery.pump(body, viewer)  # type: ignore[arg-type]
    assert caught.value.kind is Failure.ORIGIN_READ
    assert viewer.chunks == [b"one", b"two"]
    assert "k" not in cache  # a truncated body is never served from the cache
    assert writer.commit() is None
    assert body.writer is None
    assert fake.released == 1


async def test_viewer_gone_mid_body_aborts_the_cache_write(cache: HttpCache) -> None:
    fake = FakeOriginResponse(200, [b"one", b"two"])
    body = OriginBody(fake, writer_for(cache))
    with pytest.raises(delivery.ViewerGone) as caught:
        await delivery.pump(body, FakeViewer(fail_on_write=1))  # type: ignore[arg-type]
    assert caught.value.kind is Failure.CLIENT_COMM
    assert "k" not in cache
    assert fake.released == 1


async def test_fill_cache_reports_an_origin_that_breaks_off(cache: HttpCache) -> None:
    fake = FakeOriginResponse(200, [b"one", b"two"], fail_after=1)
    body = OriginBody(fake, writer_for(cache))
    problem = await delivery.fill_cache(body)
    assert problem is not None
    assert "broke off after 3 bytes" in problem
    assert "k" not in cache
    fine = OriginBody(FakeOriginResponse(200, [b"ok"]), writer_for(cache))
    assert await delivery.fill_cache(fine) is None
    assert "k" in cache


# -- send ------------------------------------------------------------------------------------


def flow_for(response: EdgeResponse) -> Flow:
    # delivery never reads the distribution
    flow = Flow(make_request(), cast(Distribution, None), "req-id", 0.0)
    flow.response = response
    return flow


async def send(
    response: EdgeResponse, method: str = "GET", viewer: FakeViewer | None = None
) -> tuple[FakeViewer, Flow, FakeRequest]:
    viewer = viewer or FakeViewer()
    flow = flow_for(response)
    request = FakeRequest(method)
    await delivery.send(request, viewer, flow)  # type: ignore[arg-type]
    return viewer, flow, request


async def test_send_generated_body_with_its_length() -> None:
    viewer, flow, _ = await send(EdgeResponse(200, [], XCache.MISS, GeneratedBody(b"made")))
    assert (viewer.body, flow.bytes_sent, viewer.headers["Content-Length"]) == (b"made", 4, "4")
    assert viewer.prepared
    assert viewer.eof
    assert flow.response_started
    assert flow.failure is None
    assert not viewer.closed


async def test_send_head_writes_no_body_but_the_length() -> None:
    response = EdgeResponse(200, [], XCache.MISS, GeneratedBody(b"made"))
    viewer, flow, _ = await send(response, "HEAD")
    assert (viewer.body, flow.bytes_sent) == (b"", 0)
    assert viewer.headers["Content-Length"] == "4"


async def test_send_replaced_body_then_caches_the_origins(cache: HttpCache) -> None:
    fake = FakeOriginResponse(200, [b"origin body"])
    fill = OriginBody(fake, writer_for(cache))
    source = GeneratedBody(b"replaced", made_by_edge=False, fill=fill)
    viewer, flow, _ = await send(EdgeResponse(200, [], XCache.MISS, source))
    assert (viewer.body, flow.bytes_sent) == (b"replaced", 8)
    entry = cache.lookup("k")
    assert entry is not None
    assert entry.body == b"origin body"
    assert fake.released >= 1


async def test_send_replaced_body_survives_an_origin_that_breaks_off(cache: HttpCache) -> None:
    fake = FakeOriginResponse(200, [b"origin", b"body"], fail_after=1)
    fill = OriginBody(fake, writer_for(cache))
    source = GeneratedBody(b"replaced", made_by_edge=False, fill=fill)
    viewer, flow, _ = await send(EdgeResponse(200, [], XCache.MISS, source))
    assert viewer.body == b"replaced"
    assert viewer.eof
    assert flow.failure is None  # the viewer got its whole response
    assert [mark.stage for mark in flow.trace] == ["fill"]
    assert "k" not in cache


async def test_send_cached_body(cache: HttpCache) -> None:
    writer = writer_for(cache)
    writer.write(b"stored")
    obj = writer.commit()
    assert obj is not None
    viewer, flow, _ = await send(EdgeResponse(200, [], XCache.HIT, CachedBody(obj)))
    assert (viewer.body, flow.bytes_sent) == (b"stored", 6)
    viewer, flow, _ = await send(EdgeResponse(200, [], XCache.HIT, CachedBody(obj)), "HEAD")
    assert (viewer.body, flow.bytes_sent) == (b"", 0)


async def test_send_origin_body_streams_and_releases(cache: HttpCache) -> None:
    fake = FakeOriginResponse(200, [b"a", b"b"])
    response = EdgeResponse(200, [], XCache.MISS, OriginBody(fake))
    viewer, flow, _ = await send(response)
    assert (viewer.body, flow.bytes_sent) == (b"ab", 2)
    assert fake.released >= 1


async def test_send_records_an_origin_that_breaks_off_and_hangs_up(cache: HttpCache) -> None:
    fake = FakeOriginResponse(200, [b"one", b"two", b"three"], fail_after=2)
    response = EdgeResponse(200, [], XCache.MISS, OriginBody(fake, writer_for(cache)))
    viewer, flow, request = await send(response)
    assert flow.failure is not None
    assert flow.failure.kind is Failure.ORIGIN_READ
    assert "broke off after 6 bytes" in flow.failure.detail
    assert (viewer.body, flow.bytes_sent) == (b"onetwo", 6)
    # No end of body: the viewer's connection is closed with the body short of its length.
    assert not viewer.eof
    assert viewer.closed
    assert request.transport.closed
    assert flow.response_started
    assert "k" not in cache
    assert fake.released >= 1


async def test_send_records_a_viewer_that_goes_away(cache: HttpCache) -> None:
    fake = FakeOriginResponse(200, [b"one", b"two", b"three"])
    response = EdgeResponse(200, [], XCache.MISS, OriginBody(fake, writer_for(cache)))
    viewer, flow, request = await send(response, viewer=FakeViewer(fail_on_write=1))
    assert flow.failure is not None
    assert flow.failure.kind is Failure.CLIENT_COMM
    assert "after 3 body bytes" in flow.failure.detail
    assert flow.bytes_sent == 3
    assert viewer.closed
    assert request.transport.closed
    assert "k" not in cache  # "Canceled requests": not cached


async def test_send_records_a_viewer_gone_before_the_response() -> None:
    response = EdgeResponse(200, [], XCache.MISS, GeneratedBody(b"made"))
    _viewer, flow, _ = await send(response, viewer=FakeViewer(fail_prepare=True))
    assert flow.failure is not None
    assert flow.failure.kind is Failure.CLIENT_COMM
    assert not flow.response_started
    assert flow.bytes_sent == 0


async def test_head_size_counts_the_request_line_and_header_lines() -> None:
    request = make_mocked_request(
        "GET", "/abc?x=1", headers=CIMultiDict([("Host", "ex.com"), ("X-A", "1")])
    )
    line = len("GET /abc?x=1 HTTP/1.1\r\n")
    fields = len("Host: ex.com\r\n") + len("X-A: 1\r\n") + len("\r\n")
    assert delivery.head_size(request) == line + fields
    assert delivery.viewer_request(request).head_bytes == line + fields


# -- the viewer's side, computed cheaply: same results as the plain computation ---------------
@given(
    second=st.integers(min_value=0, max_value=4_000_000_000),
    offsets_ms=st.lists(
        st.one_of(
            st.floats(min_value=0, max_value=1000, exclude_max=True),
            # the end of a second, where formatdate's rounding to microseconds dates the next one
            st.floats(min_value=999.999, max_value=1000, exclude_max=True),
        ),
        min_size=1,
        max_size=10,
    ),
)
def test_http_date_is_formatdate_of_the_time_whatever_came_before(
    second: int, offsets_ms: list[float]
) -> None:
    for offset in offsets_ms:
        epoch_ms = second * 1000 + offset
        assert delivery.http_date(epoch_ms) == formatdate(epoch_ms / 1000, usegmt=True)


_HEADER_BYTES = st.binary(min_size=1, max_size=20)


@given(
    method=st.sampled_from(["GET", "HEAD", "OPTIONS", "DELETE"]),
    target=st.text(min_size=1, max_size=40),
    version=st.tuples(st.integers(0, 12), st.integers(0, 12)),
    raw=st.lists(st.tuples(_HEADER_BYTES, st.binary(max_size=30)), max_size=8).map(tuple),
)
def test_head_size_is_the_length_of_the_head_as_written(
    method: str, target: str, version: tuple[int, int], raw: tuple[tuple[bytes, bytes], ...]
) -> None:
    head = (
        f"{method} {target} HTTP/{version[0]}.{version[1]}\r\n".encode("utf-8", "surrogateescape")
        + b"".join(name + b": " + value + b"\r\n" for name, value in raw)
        + b"\r\n"
    )
    assert delivery._head_size(method, target, HttpVersion(*version), raw) == len(head)


@given(raw=st.lists(st.tuples(_HEADER_BYTES, st.binary(max_size=30)), max_size=8).map(tuple))
def test_origin_headers_are_the_decoded_lines_without_hop_by_hop(
    raw: tuple[tuple[bytes, bytes], ...],
) -> None:
    expected = [
        (name, value) for name, value in delivery.decode_headers(raw) if name not in HOP_BY_HOP
    ]
    assert delivery.origin_headers(raw) == expected
