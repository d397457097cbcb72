"""CloudFront's automatic compression of origin responses ("Compress objects automatically").

Source: CloudFront Developer Guide, "Serve compressed files"
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/ServingCompressedFiles.html),
sections "How CloudFront compression works", "Conditions for compression", "File types that
CloudFront compresses" and "ETag header conversion"; an earlier edition of the same page
("Serving compressed files", 2022) adds the TTL condition. Project reference
``kvs-api-and-distribution.md`` B.3 (Accept-Encoding normalisation) and B.7.

What the page says, and what this module does with it:

- Compression needs ``Compress`` on the behaviour and the cache policy's Gzip/Brotli settings;
  brotli is used when the viewer accepts both. Which formats count is decided by the same
  normalised ``Accept-Encoding`` that goes into the cache key (``br,gzip`` / ``br`` / ``gzip``),
  so a compressed copy is only ever stored under a key whose viewers accept it.
- Not compressed: HTTP/1.0 requests (CloudFront also drops their Accept-Encoding; the pipeline
  does that), no ``gzip``/``br`` in Accept-Encoding, responses with any ``Content-Encoding``
  (whatever its value), a ``Content-Type`` outside the list below, a missing or invalid
  ``Content-Length`` or one outside 1,000–10,000,000 bytes, status other than 200/403/404,
  responses without a body, and 304 revalidations (the cached copy stays as it is).
- A compressed copy is what is cached and served to later viewers with the same key.
- ETag: a valid strong value (``"..."``) becomes weak (``W/`` prepended), a weak value is kept,
  an invalid one is removed.

Decisions the page leaves open are marked "unverified"; where unsure we do not compress.
"""

from __future__ import annotations

import zlib
from typing import Literal, Protocol

import brotli  # type: ignore[import-untyped]  # no stubs; used through _Brotli only

from edgesim.distribution.model import Behavior
from edgesim.edge.message import Headers
from edgesim.edge.policy_rules import normalise_accept_encoding

Encoding = Literal["br", "gzip"]

# "CloudFront compresses objects that are between 1,000 bytes and 10,000,000 bytes in size."
# Whether both bounds are inclusive is unverified; we read "between" inclusively.
MIN_SIZE = 1_000
MAX_SIZE = 10_000_000

# "CloudFront compresses objects only when the HTTP status code of the response is 200, 403, or
# 404."
COMPRESSIBLE_STATUSES = frozenset({200, 403, 404})

# "File types that CloudFront compresses": the Content-Type values, as listed on the current page.
COMPRESSIBLE_TYPES = frozenset(
    {
        "application/dash+xml",
        "application/eot",
        "application/font",
        "application/font-sfnt",
        "application/javascript",
        "application/json",
        "application/opentype",
        "application/otf",
        "application/pdf",
        "application/pkcs7-mime",
        "application/protobuf",
        "application/rss+xml",
        "application/truetype",
        "application/ttf",
        "application/vnd.apple.mpegurl",
        "application/vnd.mapbox-vector-tile",
        "application/vnd.ms-fontobject",
        "application/wasm",
        "application/xhtml+xml",
        "application/xml",
        "application/x-font-opentype",
        "application/x-font-truetype",
        "application/x-font-ttf",
        "application/x-httpd-cgi",
        "application/x-javascript",
        "application/x-mpegurl",
        "application/x-opentype",
        "application/x-otf",
        "application/x-perl",
        "application/x-ttf",
        "font/eot",
        "font/opentype",
        "font/otf",
        "font/ttf",
        "image/svg+xml",
        "text/css",
        "text/csv",
        "text/html",
        "text/javascript",
        "text/js",
        "text/plain",
        "text/richtext",
        "text/tab-separated-values",
        "text/xml",
        "text/x-component",
        "text/x-java-source",
        "text/x-script",
        "vnd.apple.mpegurl",
    }
)

# Compression levels CloudFront uses are not documented (unverified). These are moderate levels
# that keep streaming cheap: zlib's default for gzip, quality 5 of 11 for brotli.
GZIP_LEVEL = 6
BROTLI_QUALITY = 5


# -- the request side ------------------------------------------------------------------------------


def choose_encoding(
    behavior: Behavior, accept_encoding: str | None, *, http_version: str, method: str
) -> Encoding | None:
    """The coding CloudFront would compress this request's response with, or None.

    ``accept_encoding`` is the viewer's header as it reaches the cache (after any viewer-request
    function). The response still has to pass :func:`compressible`.
    """
    if not behavior.compress:
        return None
    if method.upper() != "GET":
        # HEAD: "When the HTTP response from the origin has no body, there is nothing for
        # CloudFront to compress" (the viewer then sees the origin's headers as they are).
        # Other methods are never cached, and whether CloudFront compresses their responses is
        # unverified: not compressed.
        return None
    if http_version in ("1.0", "0.9"):
        # "If a request to CloudFront uses HTTP 1.0, CloudFront removes the Accept-Encoding
        # header and doesn't compress the object in the response."
        return None
    policy = behavior.cache_policy
    if policy.max_ttl <= 0:
        # 2022 edition: "When you set the TTL values to zero, caching is disabled and CloudFront
        # doesn't compress objects." (Not repeated in the current page; kept, as the
        # conservative reading.)
        return None
    if policy.headers.picks("accept-encoding"):
        # 2022 edition: "if the Accept-Encoding header is explicitly listed in the cache policy
        # [...] CloudFront does not compress the object in the response." (reference B.3)
        return None
    # A cache policy with neither Gzip nor Brotli enabled keys and forwards no normalised
    # Accept-Encoding, so a compressed copy could reach viewers that cannot decode it. The legacy
    # "Gzip when only Compress is set" applies to legacy cache settings, which are not emulated:
    # no compression then (unverified for cache policies).
    normalised = normalise_accept_encoding(accept_encoding, policy)
    if normalised is None:
        return None
    # "When the viewer supports both Gzip and Brotli, CloudFront uses Brotli."
    return "br" if "br" in normalised.split(",") else "gzip"


# -- the response side -----------------------------------------------------------------------------


def _values(headers: Headers, name: str) -> list[str]:
    return [value for key, value in headers if key == name]


def content_length(headers: Headers) -> int | None:
    """The response's Content-Length, or None when missing or invalid.

    Valid means one header whose value is all digits. A list of identical values (RFC 9110
    section 8.6 lets recipients accept it) counts as invalid: the page says an invalid value
    prevents compression, and which values CloudFront accepts is unverified.
    """
    values = _values(headers, "content-length")
    if len(values) != 1:
        return None
    value = values[0].strip()
    if not value.isascii() or not value.isdigit():
        return None
    return int(value)


def media_type(headers: Headers) -> str | None:
    """The Content-Type's type/subtype, lower-cased, parameters dropped; None if not exactly one.

    Media types compare case-insensitively (RFC 9110 section 8.3.1); that CloudFront ignores
    parameters such as ``charset`` and the case is unverified, but ``text/html;
    charset=utf-8`` is what origins send for HTML, which the page lists as compressed.
    """
    values = _values(headers, "content-type")
    if len(values) != 1:
        return None
    return values[0].split(";", 1)[0].strip().lower() or None


def compressible(status: int, headers: Headers) -> bool:
    """Whether an origin response (lower-case header names) may be compressed by CloudFront."""
    if status not in COMPRESSIBLE_STATUSES:
        return False
    if _values(headers, "content-encoding"):
        # "When a response from an origin includes the Content-Encoding header, CloudFront
        # doesn't compress the object, regardless of the header's value."
        return False
    size = content_length(headers)
    if size is None or not MIN_SIZE <= size <= MAX_SIZE:
        # "If the Content-Length header is missing, contains an invalid value, or contains a
        # value outside the range of sizes that CloudFront compresses, CloudFront doesn't
        # compress the object."
        return False
    return media_type(headers) in COMPRESSIBLE_TYPES


def weak_etag(value: str) -> str | None:
    """The ETag CloudFront returns for a compressed copy; None means the header is removed.

    "A valid, strong ETag header value begins and ends with a double quote character"; CloudFront
    prepends ``W/``. A weak value (``W/...``) is returned as received; a value that "does not
    begin with '"' or with 'W/'" is removed. A value that begins with '"' but does not end with
    one is neither case on the page (unverified): removed, since it is not a valid validator.
    """
    value = value.strip()
    if value.startswith("W/"):
        return value
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return "W/" + value
    return None


def _varies_on_accept_encoding(headers: Headers) -> bool:
    for value in _values(headers, "vary"):
        for token in value.split(","):
            if token.strip().lower() in ("accept-encoding", "*"):
                return True
    return False


def response_headers_for(headers: Headers, encoding: Encoding) -> Headers:
    """The origin's headers as CloudFront sends (and caches) them with a compressed body.

    ``Content-Encoding`` is set, ``Content-Length`` dropped (the compressed size is unknown until
    the end; the body is streamed chunked), ETag converted per "ETag header conversion".
    ``Vary: Accept-Encoding`` is added unless ``Vary`` already covers it: the page does not
    mention Vary (unverified), but a compressed response that does not say it varies could be
    served by a downstream cache to a viewer that cannot decode it.
    """
    out: Headers = []
    for name, value in headers:
        if name == "content-length":
            continue
        if name == "etag":
            converted = weak_etag(value)
            if converted is not None:
                out.append((name, converted))
            continue
        out.append((name, value))
    out.append(("content-encoding", encoding))
    if not _varies_on_accept_encoding(headers):
        out.append(("vary", "Accept-Encoding"))
    return out


def revalidated_headers(stored: Headers, fresh: Headers) -> Headers:
    """A 304's headers for a cached compressed copy: the copy keeps its weak ETag.

    The origin answers the revalidation of ``W/"x"`` with its own strong ``"x"``; since CloudFront
    "doesn't compress the object when your origin returns an HTTP status code 304", the stored
    compressed copy is kept, and its ETag must stay the weak form (or the copy would claim to be
    byte-identical to the uncompressed object).
    """
    if not _values(stored, "content-encoding"):
        return fresh
    stored_etags = _values(stored, "etag")
    out: Headers = []
    for name, value in fresh:
        if name == "etag" and "W/" + value.strip() in stored_etags:
            out.append((name, "W/" + value.strip()))
        else:
            out.append((name, value))
    return out


# -- streaming encoders ----------------------------------------------------------------------------


class _Codec(Protocol):
    def feed(self, chunk: bytes) -> bytes: ...
    def finish(self) -> bytes: ...


class _Gzip:
    def __init__(self) -> None:
        # wbits 16 + 15: a gzip header and trailer around a 32 KiB-window deflate stream.
        self._z = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    def feed(self, chunk: bytes) -> bytes:
        return self._z.compress(chunk)

    def finish(self) -> bytes:
        return self._z.flush(zlib.Z_FINISH)


class _Brotli:
    def __init__(self) -> None:
        self._b = brotli.Compressor(quality=BROTLI_QUALITY)

    def feed(self, chunk: bytes) -> bytes:
        out: bytes = self._b.process(chunk)
        return out

    def finish(self) -> bytes:
        out: bytes = self._b.finish()
        return out


class StreamEncoder:
    """Compresses a body chunk by chunk; memory use is bounded by the codec's window.

    ``feed`` returns whatever compressed bytes are ready (often ``b""``); ``finish`` returns the
    rest and must be called exactly once, after the last ``feed``.
    """

    def __init__(self, encoding: Encoding) -> None:
        self.encoding: Encoding = encoding
        self._codec: _Codec = _Brotli() if encoding == "br" else _Gzip()
        self._finished = False

    def feed(self, chunk: bytes) -> bytes:
        if self._finished:
            raise RuntimeError("encoder already finished")
        if not chunk:
            return b""
        return self._codec.feed(chunk)

    def finish(self) -> bytes:
        if self._finished:
            raise RuntimeError("encoder already finished")
        self._finished = True
        return self._codec.finish()
