"""What the viewer receives, header line by header line: the origin's headers with CloudFront's
documented changes and CloudFront's own, and nothing the web framework would add (issue 17, part 1;
docs/serve.md, "What the viewer receives").

The origin here is :class:`tests.e2e.rawhttp.RawOrigin`, which sends exactly the header lines a
test gives it — including none at all.
"""

from __future__ import annotations

import re
from email.utils import formatdate
from pathlib import Path

import pytest

from tests.e2e.rawhttp import EDGE_EPOCH_S, Lines, RawAnswer, RawRequest, length_of, raw_edge


def http_date(epoch_ms: float) -> str:
    return formatdate(epoch_ms / 1000, usegmt=True)


EDGE_DATE = http_date(EDGE_EPOCH_S * 1000)
assert EDGE_DATE == "Tue, 01 Jan 2030 09:00:00 GMT"
CLOUDFRONT_OWN = ("x-cache", "via", "x-amz-cf-pop", "x-amz-cf-id")
FRAMING = ("content-length", "transfer-encoding", "connection")


def names(lines: Lines) -> list[str]:
    return [name.lower() for name, _ in lines]


def values(lines: Lines, name: str) -> list[str]:
    return [value for n, value in lines if n.lower() == name]


def origin_part(lines: Lines) -> Lines:
    """The lines that are neither CloudFront's own, nor the Date it adds, nor framing."""
    skip = (*CLOUDFRONT_OWN, "date", "age", *FRAMING)
    return [(n, v) for n, v in lines if n.lower() not in skip]


CACHED = """
[[origins]]
id = "app"
url = "{origin}"

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"
"""


def bare(request: RawRequest) -> RawAnswer:
    """No header line at all: the body ends when the connection closes."""
    return RawAnswer(body=b"bare body")


async def test_an_origin_with_no_headers_gets_none_added_on_miss_and_hit(tmp_path: Path) -> None:
    async with raw_edge(CACHED, tmp_path, bare) as edge:
        status, miss, body = await edge.get("/page")
        assert (status, body) == (200, b"bare body")
        assert origin_part(miss) == []  # no Content-Type, no Server
        assert values(miss, "date") == [EDGE_DATE]  # CloudFront's, from the edge clock
        assert values(miss, "x-cache") == ["Miss from cloudfront"]
        assert [n for n in names(miss) if n in CLOUDFRONT_OWN] == list(CLOUDFRONT_OWN)

        edge.clock.advance(7)
        _, hit, body = await edge.get("/page")
        assert body == b"bare body"
        assert origin_part(hit) == []
        assert values(hit, "x-cache") == ["Hit from cloudfront"]
        assert values(hit, "age") == ["7"]
        assert values(hit, "date") == [http_date((EDGE_EPOCH_S + 7) * 1000)]
        assert len(edge.origin.seen) == 1


async def test_head_gets_the_origins_headers_only(tmp_path: Path) -> None:
    def answer(request: RawRequest) -> RawAnswer:
        return RawAnswer(headers=length_of(b"0123456789"), body=b"0123456789")

    async with raw_edge(CACHED, tmp_path, answer) as edge:
        status, lines, body = await edge.get("/h", method="HEAD")
        assert (status, body) == (200, b"")
        assert origin_part(lines) == []
        assert values(lines, "content-length") == ["10"]
        assert values(lines, "date") == [EDGE_DATE]


async def test_the_origins_own_headers_pass_unchanged(tmp_path: Path) -> None:
    sent = [
        ("Server", "nginx/1.25"),
        ("Date", "Mon, 31 Dec 2029 23:59:59 GMT"),
        ("Content-Type", "application/x-thing"),
        ("X-Dup", "one"),
        ("x-dup", "two"),
        ("X-Empty", ""),
        ("cAcHe-CoNtRoL", "max-age=60"),
    ]

    def answer(request: RawRequest) -> RawAnswer:
        return RawAnswer(headers=[*sent, *length_of(b"x")], body=b"x")

    async with raw_edge(CACHED, tmp_path, answer) as edge:
        for x_cache in ("Miss from cloudfront", "Hit from cloudfront"):
            _, lines, _ = await edge.get("/p")
            assert [(n.lower(), v) for n, v in origin_part(lines)] == [
                (n.lower(), v) for n, v in sent if n.lower() != "date"
            ]
            assert values(lines, "date") == ["Mon, 31 Dec 2029 23:59:59 GMT"]
            assert values(lines, "x-cache") == [x_cache]


async def test_revalidated_copy_gets_nothing_added(tmp_path: Path) -> None:
    def answer(request: RawRequest) -> RawAnswer:
        lines = [("ETag", '"v1"'), ("Cache-Control", "max-age=5")]
        if any(n.lower() == "if-none-match" for n, _ in request.headers):
            return RawAnswer(status=304, reason="Not Modified", headers=lines)
        return RawAnswer(headers=[*lines, *length_of(b"v1 body")], body=b"v1 body")

    async with raw_edge(CACHED, tmp_path, answer) as edge:
        await edge.get("/r")
        edge.clock.advance(10)
        status, lines, body = await edge.get("/r")
        assert (status, body) == (200, b"v1 body")  # the origin's 304 → 200 from the cache
        assert values(lines, "x-cache") == ["RefreshHit from cloudfront"]
        assert [n.lower() for n, _ in origin_part(lines)] == ["etag", "cache-control"]
        assert values(lines, "date") == [http_date((EDGE_EPOCH_S + 10) * 1000)]


async def test_stale_copy_on_origin_error_gets_nothing_added(tmp_path: Path) -> None:
    failing = False

    def answer(request: RawRequest) -> RawAnswer:
        if failing:
            return RawAnswer(status=500, reason="Internal Server Error", body=b"down")
        return RawAnswer(headers=[("Cache-Control", "max-age=5")], body=b"fresh")

    async with raw_edge(CACHED, tmp_path, answer) as edge:
        await edge.get("/s")
        failing = True
        edge.clock.advance(10)
        status, lines, body = await edge.get("/s")
        assert (status, body) == (200, b"fresh")
        assert values(lines, "x-cache") == ["RefreshHit from cloudfront"]
        assert origin_part(lines) == [("Cache-Control", "max-age=5")]


COMPRESSED = """
[[origins]]
id = "app"
url = "{origin}"

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"
compress = true
"""


async def test_compressed_response_gets_only_the_encoding_headers(tmp_path: Path) -> None:
    page = b"<p>hello</p>" * 200

    def answer(request: RawRequest) -> RawAnswer:
        return RawAnswer(headers=[("Content-Type", "text/html"), *length_of(page)], body=page)

    async with raw_edge(COMPRESSED, tmp_path, answer) as edge:
        _, lines, body = await edge.get("/c", headers=[("Accept-Encoding", "gzip")])
        assert len(body) < len(page)
        assert origin_part(lines) == [
            ("Content-Type", "text/html"),
            ("Content-Encoding", "gzip"),
            ("Vary", "Accept-Encoding"),
        ]
        assert values(lines, "date") == [EDGE_DATE]


FUNCTIONS = """
[[origins]]
id = "app"
url = "{origin}"

[[functions]]
name = "stamp"
file = "stamp.js"

[[functions]]
name = "answer"
file = "answer.js"

[[behaviors]]
path = "/made/*"
origin = "app"
cache_policy = "CachingDisabled"
viewer_request = "answer"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
viewer_response = "stamp"
"""

STAMP_JS = """
function handler(event) {
  event.response.headers['x-stamped'] = { value: 'yes' };
  return event.response;
}
"""

ANSWER_JS = """
function handler(event) {
  return { statusCode: 200, statusDescription: 'OK', body: 'made here' };
}
"""


async def test_viewer_response_function_output_is_what_the_viewer_gets(tmp_path: Path) -> None:
    files = {"stamp.js": STAMP_JS, "answer.js": ANSWER_JS}
    async with raw_edge(FUNCTIONS, tmp_path, bare, files) as edge:
        _, lines, body = await edge.get("/f")
        assert body == b"bare body"
        # The function's output carried no content-type, and neither does the response.
        assert origin_part(lines) == [("X-Stamped", "yes")]
        assert values(lines, "date") == [EDGE_DATE]

        # A response the viewer-request function made: CloudFront's Server, nothing else added.
        _, lines, body = await edge.get("/made/x")
        assert body == b"made here"
        assert origin_part(lines) == [("Server", "CloudFront")]
        assert values(lines, "x-cache") == ["FunctionGeneratedResponse from cloudfront"]
        assert values(lines, "date") == [EDGE_DATE]


ERROR_PAGES = """
[[origins]]
id = "app"
url = "{origin}"

[[custom_error_responses]]
error_code = 404
response_page_path = "/errors/404.html"
response_code = 404

[[custom_error_responses]]
error_code = 503

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"
"""


async def test_custom_error_pages_get_nothing_added(tmp_path: Path) -> None:
    def answer(request: RawRequest) -> RawAnswer:
        if request.target == "/errors/404.html":
            return RawAnswer(body=b"custom page")
        if request.target == "/gone":
            return RawAnswer(status=404, reason="Not Found", body=b"origin 404")
        return RawAnswer(status=503, reason="Service Unavailable", body=b"busy")

    async with raw_edge(ERROR_PAGES, tmp_path, answer) as edge:
        status, lines, body = await edge.get("/gone")
        assert (status, body) == (404, b"custom page")
        assert origin_part(lines) == []
        assert values(lines, "x-cache") == ["Error from cloudfront"]
        assert values(lines, "date") == [EDGE_DATE]
        # No page configured for 503: CloudFront answers with an empty body of its own.
        status, lines, body = await edge.get("/busy")
        assert (status, body) == (503, b"")
        assert origin_part(lines) == [("Server", "CloudFront")]


POLICIES = """
[[origins]]
id = "app"
url = "{origin}"

[[response_headers_policies]]
name = "strip"
remove_headers = ["Server", "Date"]

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
response_headers_policy = "strip"
"""


async def test_policy_that_removes_server_and_date_gets_cloudfronts(tmp_path: Path) -> None:
    def answer(request: RawRequest) -> RawAnswer:
        return RawAnswer(headers=[("Server", "nginx"), ("Date", "Mon, 31 Dec 2029 00:00:00 GMT")])

    async with raw_edge(POLICIES, tmp_path, answer) as edge:
        _, lines, _ = await edge.get("/x")
        assert values(lines, "server") == ["CloudFront"]
        assert values(lines, "date") == [EDGE_DATE]


COOKIES = """
[[origins]]
id = "app"
url = "{origin}"

[[behaviors]]
path = "/app/*"
origin = "app"
cache_policy = "CachingDisabled"
origin_request_policy = "AllViewer"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
"""


def cookie_and_vary(request: RawRequest) -> RawAnswer:
    return RawAnswer(
        headers=[
            ("Set-Cookie", "session=abc; Path=/"),
            ("Vary", "Accept-Encoding, Origin, X-Custom, Cookie"),
        ]
    )


async def test_set_cookie_only_where_cookies_are_forwarded(tmp_path: Path) -> None:
    async with raw_edge(COOKIES, tmp_path, cookie_and_vary) as edge:
        _, lines, _ = await edge.get("/app/x")  # AllViewer forwards every cookie
        assert values(lines, "set-cookie") == ["session=abc; Path=/"]
        _, lines, _ = await edge.get("/static/x")  # no policy forwards any cookie
        assert values(lines, "set-cookie") == []


async def test_vary_keeps_only_what_cloudfront_honours(tmp_path: Path) -> None:
    async with raw_edge(COOKIES, tmp_path, cookie_and_vary) as edge:
        # AllViewer forwards every header: the Vary line is the origin's.
        _, lines, _ = await edge.get("/app/x")
        assert values(lines, "vary") == ["Accept-Encoding, Origin, X-Custom, Cookie"]
        # Nothing forwarded: only Accept-Encoding and Cookie stay.
        _, lines, _ = await edge.get("/static/x")
        assert values(lines, "vary") == ["Accept-Encoding, Cookie"]


@pytest.mark.parametrize("path", ["/app/x", "/static/x"])
async def test_an_origin_behind_a_proxy_or_cloudfront(tmp_path: Path, path: str) -> None:
    def answer(request: RawRequest) -> RawAnswer:
        return RawAnswer(
            headers=[
                ("Via", "1.1 inner.cloudfront.net (CloudFront)"),
                ("X-Cache", "Hit from cloudfront"),
                ("X-Amz-Cf-Pop", "FRA2-C1"),
                ("X-Amz-Cf-Id", "inner-id=="),
            ]
        )

    async with raw_edge(COOKIES, tmp_path, answer) as edge:
        _, lines, _ = await edge.get(path)
        (via,) = values(lines, "via")
        first, ours = via.split(", ")
        assert first == "1.1 inner.cloudfront.net (CloudFront)"
        assert re.fullmatch(r"1\.1 [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)", ours)
        assert values(lines, "x-cache") == ["Miss from cloudfront"]
        (request_id,) = values(lines, "x-amz-cf-id")
        assert request_id != "inner-id=="
        assert values(lines, "x-amz-cf-pop")[0] == "FRA2-C1"
        assert len(values(lines, "x-amz-cf-pop")) == 2


async def test_set_cookie_on_a_revalidation_304_is_removed_too(tmp_path: Path) -> None:
    def answer(request: RawRequest) -> RawAnswer:
        lines = [("ETag", '"v1"'), ("Cache-Control", "max-age=5")]
        if any(n.lower() == "if-none-match" for n, _ in request.headers):
            return RawAnswer(
                status=304, reason="Not Modified", headers=[*lines, ("Set-Cookie", "s=1")]
            )
        return RawAnswer(headers=[*lines, *length_of(b"x")], body=b"x")

    async with raw_edge(CACHED, tmp_path, answer) as edge:  # CachingOptimized: no cookies
        await edge.get("/r")
        edge.clock.advance(10)
        for _ in range(2):  # the revalidated copy, then a hit on it
            _, lines, _ = await edge.get("/r")
            assert values(lines, "set-cookie") == []
