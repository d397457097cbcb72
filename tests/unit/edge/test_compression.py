"""CloudFront's automatic compression: the documented conditions and the streaming encoders."""

from __future__ import annotations

import gzip
import itertools

import brotli
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim.distribution.model import Behavior, CachePolicy, Selection
from edgesim.edge.compression import (
    COMPRESSIBLE_TYPES,
    MAX_SIZE,
    MIN_SIZE,
    Encoding,
    StreamEncoder,
    choose_encoding,
    compressible,
    content_length,
    media_type,
    response_headers_for,
    revalidated_headers,
    weak_etag,
)
from edgesim.edge.message import Headers

BOTH = CachePolicy("both", enable_gzip=True, enable_brotli=True)


def behavior(
    policy: CachePolicy = BOTH,
    *,
    compress: bool = True,
) -> Behavior:
    return Behavior(path="*", origin="app", cache_policy=policy, compress=compress)


def choose(
    accept: str | None,
    b: Behavior | None = None,
    *,
    http_version: str = "1.1",
    method: str = "GET",
) -> str | None:
    return choose_encoding(b or behavior(), accept, http_version=http_version, method=method)


def response(
    *,
    size: int | str | None = 5_000,
    content_type: str | None = "text/html",
    extra: Headers | None = None,
) -> Headers:
    headers: Headers = []
    if size is not None:
        headers.append(("content-length", str(size)))
    if content_type is not None:
        headers.append(("content-type", content_type))
    return headers + (extra or [])


# -- choose_encoding --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (
            "gzip, br",
            "br",
        ),  # "When the viewer supports both Gzip and Brotli, CloudFront uses Brotli."
        ("br, gzip", "br"),
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("GZIP", "gzip"),
        ("br", "br"),
        ("gzip, br;q=0", "gzip"),
        ("deflate", None),
        ("identity", None),
        ("*", None),
        ("", None),
        (None, None),
    ],
)
def test_encoding_follows_normalised_accept_encoding(
    accept: str | None, expected: str | None
) -> None:
    assert choose(accept) == expected


def test_only_enabled_formats_are_used() -> None:
    gzip_only = behavior(CachePolicy("g", enable_gzip=True))
    brotli_only = behavior(CachePolicy("b", enable_brotli=True))
    assert choose("gzip, br", gzip_only) == "gzip"
    assert choose("br", gzip_only) is None
    assert choose("gzip, br", brotli_only) == "br"
    assert choose("gzip", brotli_only) is None


def test_no_compression_without_gzip_or_brotli_in_the_policy() -> None:
    assert choose("gzip, br", behavior(CachePolicy("neither"))) is None


def test_compress_false_behaviour() -> None:
    assert choose("gzip, br", behavior(compress=False)) is None


@pytest.mark.parametrize("method", ["HEAD", "POST", "PUT", "OPTIONS", "DELETE", "PATCH"])
def test_only_get_responses_are_compressed(method: str) -> None:
    assert choose("gzip, br", method=method) is None
    assert choose("gzip, br", method="get") == "br"


@pytest.mark.parametrize("version", ["1.0", "0.9"])
def test_http_1_0_is_never_compressed(version: str) -> None:
    assert choose("gzip, br", http_version=version) is None
    assert choose("gzip, br", http_version="2.0") == "br"


def test_ttl_zero_disables_compression() -> None:
    disabled = CachePolicy(
        "off", min_ttl=0, default_ttl=0, max_ttl=0, enable_gzip=True, enable_brotli=True
    )
    assert choose("gzip, br", behavior(disabled)) is None


def test_accept_encoding_listed_in_the_cache_policy_disables_compression() -> None:
    listed = CachePolicy(
        "listed",
        headers=Selection("whitelist", frozenset({"accept-encoding"})),
        enable_gzip=True,
        enable_brotli=True,
    )
    assert choose("gzip, br", behavior(listed)) is None
    other = CachePolicy(
        "other",
        headers=Selection("whitelist", frozenset({"x-device"})),
        enable_gzip=True,
        enable_brotli=True,
    )
    assert choose("gzip, br", behavior(other)) == "br"


# -- compressible ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 403, 404])
def test_compressible_statuses(status: int) -> None:
    assert compressible(status, response())


@pytest.mark.parametrize("status", [201, 203, 204, 206, 301, 302, 304, 400, 401, 410, 500, 503])
def test_other_statuses_are_not_compressed(status: int) -> None:
    assert not compressible(status, response())


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, False),
        (MIN_SIZE - 1, False),
        (MIN_SIZE, True),
        (MIN_SIZE + 1, True),
        (MAX_SIZE - 1, True),
        (MAX_SIZE, True),
        (MAX_SIZE + 1, False),
        (10**12, False),
    ],
)
def test_size_bounds(size: int, expected: bool) -> None:
    assert (MIN_SIZE, MAX_SIZE) == (1_000, 10_000_000)
    assert compressible(200, response(size=size)) is expected


def test_missing_content_length_is_not_compressed() -> None:
    assert not compressible(200, response(size=None))


@pytest.mark.parametrize(
    "value", ["", "abc", "-1500", "1e4", "1500.0", "+1500", "１５００", "0x5dc"]
)
def test_invalid_content_length_is_not_compressed(value: str) -> None:
    assert content_length(response(size=value)) is None
    assert not compressible(200, response(size=value))


def test_content_length_whitespace_and_repeats() -> None:
    assert content_length(response(size=" 1500 ")) == 1500
    repeated = response(extra=[("content-length", "5000")])
    assert content_length(repeated) is None  # two headers: invalid (conservative)
    assert not compressible(200, repeated)
    assert content_length([("content-length", "1500, 1500")]) is None


@pytest.mark.parametrize("value", ["gzip", "br", "identity", "deflate", "", "whatever"])
def test_existing_content_encoding_is_left_alone(value: str) -> None:
    assert not compressible(200, response(extra=[("content-encoding", value)]))


@pytest.mark.parametrize("content_type", sorted(COMPRESSIBLE_TYPES))
def test_every_listed_type_is_compressed(content_type: str) -> None:
    assert compressible(200, response(content_type=content_type))


def test_the_documented_list_is_complete() -> None:
    assert len(COMPRESSIBLE_TYPES) == 48
    assert {
        "text/html",
        "application/json",
        "image/svg+xml",
        "application/wasm",
    } <= COMPRESSIBLE_TYPES


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html; charset=utf-8",
        "text/html;charset=UTF-8",
        "Text/HTML",
        "  application/json ; charset=utf-8",
        'application/javascript; charset="utf-8"; foo=bar',
    ],
)
def test_content_type_parameters_and_case_are_ignored(content_type: str) -> None:
    assert compressible(200, response(content_type=content_type))


@pytest.mark.parametrize(
    "content_type",
    [
        "image/png",
        "image/jpeg",
        "video/mp4",
        "application/octet-stream",
        "application/zip",
        "application/gzip",
        "text/htmlx",
        "text",
        "",
        ";charset=utf-8",
        "application/ld+json",
        "text/markdown",
    ],
)
def test_other_content_types_are_not_compressed(content_type: str) -> None:
    assert not compressible(200, response(content_type=content_type))


def test_missing_or_repeated_content_type() -> None:
    assert not compressible(200, response(content_type=None))
    two = response(extra=[("content-type", "text/css")])
    assert media_type(two) is None
    assert not compressible(200, two)


# -- response headers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"abc"', 'W/"abc"'),
        ('""', 'W/""'),
        ('W/"abc"', 'W/"abc"'),
        ("W/abc", "W/abc"),  # weak values are returned as received
        ("abc", None),
        ("'abc'", None),
        ('"abc', None),
        ("", None),
    ],
)
def test_etag_conversion(value: str, expected: str | None) -> None:
    assert weak_etag(value) == expected


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_response_headers_for_compressed_copy(encoding: Encoding) -> None:
    origin = response(
        extra=[("etag", '"v1"'), ("cache-control", "max-age=60"), ("x-custom", "kept")]
    )
    out = response_headers_for(origin, encoding)
    assert ("content-encoding", encoding) in out
    assert not [v for n, v in out if n == "content-length"]
    assert ("etag", 'W/"v1"') in out
    assert ("cache-control", "max-age=60") in out
    assert ("x-custom", "kept") in out
    assert ("content-type", "text/html") in out
    assert ("vary", "Accept-Encoding") in out


def test_invalid_etag_is_removed() -> None:
    out = response_headers_for(response(extra=[("etag", "bare")]), "br")
    assert not [v for n, v in out if n == "etag"]


def test_weak_etag_is_kept() -> None:
    out = response_headers_for(response(extra=[("etag", 'W/"w"')]), "gzip")
    assert [v for n, v in out if n == "etag"] == ['W/"w"']


@pytest.mark.parametrize(
    "vary", ["Accept-Encoding", "accept-encoding", "Origin, Accept-Encoding", "*"]
)
def test_vary_already_covering_accept_encoding_is_untouched(vary: str) -> None:
    out = response_headers_for(response(extra=[("vary", vary)]), "br")
    assert [v for n, v in out if n == "vary"] == [vary]


def test_vary_on_other_headers_gains_accept_encoding() -> None:
    out = response_headers_for(response(extra=[("vary", "Origin")]), "br")
    assert [v for n, v in out if n == "vary"] == ["Origin", "Accept-Encoding"]


def test_revalidation_keeps_the_weak_etag_of_a_compressed_copy() -> None:
    stored = [("content-encoding", "br"), ("etag", 'W/"v1"'), ("vary", "Accept-Encoding")]
    fresh = [("etag", '"v1"'), ("cache-control", "max-age=5")]
    assert revalidated_headers(stored, fresh) == [
        ("etag", 'W/"v1"'),
        ("cache-control", "max-age=5"),
    ]


def test_revalidation_of_uncompressed_or_changed_copy_is_untouched() -> None:
    fresh = [("etag", '"v1"')]
    assert revalidated_headers([("etag", '"v1"')], fresh) == fresh
    assert revalidated_headers([("content-encoding", "br"), ("etag", 'W/"v0"')], fresh) == fresh


# -- streaming encoders ------------------------------------------------------------------------------

DECODE = {"gzip": gzip.decompress, "br": brotli.decompress}
TEXT = b"<p>CloudFront compresses text on the way through.</p>\n" * 2_000


def encode(encoding: Encoding, chunks: list[bytes]) -> bytes:
    encoder = StreamEncoder(encoding)
    out = [encoder.feed(chunk) for chunk in chunks]
    out.append(encoder.finish())
    return b"".join(out)


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_round_trip_in_chunks(encoding: Encoding) -> None:
    chunks = [TEXT[i : i + 4096] for i in range(0, len(TEXT), 4096)]
    encoded = encode(encoding, chunks)
    assert DECODE[encoding](encoded) == TEXT
    assert len(encoded) < len(TEXT) // 10


def test_gzip_stream_is_gzip() -> None:
    assert encode("gzip", [TEXT])[:2] == b"\x1f\x8b"


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_empty_body_and_empty_chunks(encoding: Encoding) -> None:
    assert DECODE[encoding](encode(encoding, [])) == b""
    assert DECODE[encoding](encode(encoding, [b"", b"abc", b"", b"def"])) == b"abcdef"


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_encoder_refuses_use_after_finish(encoding: Encoding) -> None:
    encoder = StreamEncoder(encoding)
    encoder.feed(b"x")
    encoder.finish()
    with pytest.raises(RuntimeError):
        encoder.feed(b"y")
    with pytest.raises(RuntimeError):
        encoder.finish()


@settings(max_examples=60, deadline=None)
@given(
    encoding=st.sampled_from(["gzip", "br"]),
    data=st.binary(max_size=20_000) | st.text(max_size=5_000).map(str.encode),
    cuts=st.lists(st.integers(min_value=0, max_value=20_000), max_size=12),
)
def test_any_chunking_round_trips(encoding: Encoding, data: bytes, cuts: list[int]) -> None:
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    chunks = [data[a:b] for a, b in itertools.pairwise(points)]
    assert b"".join(chunks) == data
    assert DECODE[encoding](encode(encoding, chunks)) == data
