"""Response stage: CloudFront's automatic compression of an origin body, the behaviour's
response headers policy, and the headers CloudFront adds to every viewer response."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.distribution.model import Behavior, Distribution
from edgesim.distribution.patterns import select_behavior
from edgesim.edge.flow import EdgeResponse, GeneratedBody, OriginBody, XCache, generated
from edgesim.edge.message import EdgeRequest, Headers
from edgesim.edge.response_headers import pop_label
from edgesim.edge.stages import response as stage
from tests.unit.edge.stages.conftest import FakeOriginResponse, make_dist, make_request

TOML = """
[[origins]]
id = "app"
url = "http://127.0.0.1:3000"

[[response_headers_policies]]
name = "site"
remove_headers = ["X-Powered-By"]
custom_headers = { X-Env = "dev", X-Team = { value = "edge", override = false } }

[[response_headers_policies]]
name = "no-server"
remove_headers = ["Server"]

[[behaviors]]
path = "/raw/*"
origin = "app"
compress = false

[[behaviors]]
path = "/site/*"
origin = "app"
response_headers_policy = "site"

[[behaviors]]
path = "/no-server/*"
origin = "app"
response_headers_policy = "no-server"

[[behaviors]]
path = "/gzip-only/*"
origin = "app"
cache_policy = "gzip-only"

[[cache_policies]]
name = "gzip-only"
enable_gzip = true

[default_behavior]
origin = "app"
"""

REQUEST_ID = "REQ-ID-2"
VIA_ID = "fedcba9876543210fedcba9876543210"
HTML: Headers = [("content-type", "text/html; charset=utf-8"), ("content-length", "2000")]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Distribution:
    return make_dist(tmp_path_factory.mktemp("response"), TOML)


def from_origin(
    dist: Distribution,
    headers: Headers = HTML,
    *,
    status: int = 200,
    path: str = "/page",
    accept: str | None = "gzip, deflate, br",
    **kw: object,
) -> EdgeResponse:
    req_headers = [("accept-encoding", accept)] if accept is not None else []
    req = make_request(path=path, headers=req_headers, **kw)  # type: ignore[arg-type]
    body = OriginBody(FakeOriginResponse(status))  # type: ignore[arg-type]
    return stage.from_origin(
        body, status, list(headers), "Reason", req=req, behavior=select_behavior(dist, path)
    )


def encoding_of(response: EdgeResponse) -> str | None:
    assert isinstance(response.source, OriginBody)
    encoder = response.source.encoder
    return None if encoder is None else encoder.encoding


# -- from_origin ---------------------------------------------------------------------------------


def test_brotli_when_the_viewer_accepts_it(dist: Distribution) -> None:
    response = from_origin(dist, [*HTML, ("etag", '"abc"')])
    assert encoding_of(response) == "br"
    assert ("content-encoding", "br") in response.headers
    assert "content-length" not in [n for n, _ in response.headers]  # unknown until the end
    assert ("etag", 'W/"abc"') in response.headers  # no longer byte-identical to the origin's
    assert ("vary", "Accept-Encoding") in response.headers
    assert (response.status, response.reason, response.x_cache) == (200, "Reason", XCache.MISS)


def test_gzip_when_the_viewer_accepts_only_gzip(dist: Distribution) -> None:
    assert encoding_of(from_origin(dist, accept="gzip")) == "gzip"


def test_gzip_when_the_cache_policy_enables_only_gzip(dist: Distribution) -> None:
    assert encoding_of(from_origin(dist, path="/gzip-only/x", accept="br, gzip")) == "gzip"


@pytest.mark.parametrize(
    ("headers", "kw"),
    [
        (HTML, {"path": "/raw/x"}),  # the behaviour's compress = false
        (HTML, {"accept": None}),
        (HTML, {"accept": "identity"}),
        (HTML, {"method": "HEAD"}),
        (HTML, {"http_version": "1.0"}),
        ([("content-type", "image/png"), ("content-length", "2000")], {}),
        ([("content-type", "text/html"), ("content-length", "999")], {}),  # under 1,000 bytes
        ([("content-type", "text/html")], {}),  # no Content-Length
        ([*HTML, ("content-encoding", "identity")], {}),  # the origin chose an encoding
        (HTML, {"status": 500}),
        (HTML, {"status": 206}),
    ],
    ids=[
        "compress-false",
        "no-accept-encoding",
        "identity-only",
        "head",
        "http-1.0",
        "not-a-text-type",
        "too-small",
        "no-length",
        "origin-encoded",
        "status-500",
        "status-206",
    ],
)
def test_not_compressed(dist: Distribution, headers: Headers, kw: dict[str, object]) -> None:
    response = from_origin(dist, headers, **kw)  # type: ignore[arg-type]
    assert encoding_of(response) is None
    assert response.headers == headers


@pytest.mark.parametrize("size", [1000, 10_000_000])
def test_size_limits_are_inclusive(dist: Distribution, size: int) -> None:
    headers = [("content-type", "application/json"), ("content-length", str(size))]
    assert encoding_of(from_origin(dist, headers)) == "br"


@pytest.mark.parametrize(
    ("status", "x_cache"),
    [(200, XCache.MISS), (304, XCache.MISS), (399, XCache.MISS), (400, XCache.ERROR),
     (404, XCache.ERROR), (503, XCache.ERROR)],
)  # fmt: skip
def test_miss_or_error_by_status(dist: Distribution, status: int, x_cache: XCache) -> None:
    assert from_origin(dist, status=status).x_cache == x_cache


def test_404_page_is_compressed_too(dist: Distribution) -> None:
    assert encoding_of(from_origin(dist, status=404)) == "br"


# -- wire_headers --------------------------------------------------------------------------------


def wire(
    response: EdgeResponse, req: EdgeRequest | None = None, behavior: Behavior | None = None
) -> list[tuple[str, str]]:
    return stage.wire_headers(
        response, req or make_request(), behavior, request_id=REQUEST_ID, via_id=VIA_ID
    )


def origin_response(headers: Headers, x_cache: XCache = XCache.MISS) -> EdgeResponse:
    return EdgeResponse(200, headers, x_cache, OriginBody(FakeOriginResponse(200)))  # type: ignore[arg-type]


def test_cloudfront_headers_come_last_in_order(dist: Distribution) -> None:
    out = wire(origin_response([("content-type", "text/plain")]), make_request(pop="FRA"))
    assert out == [
        ("Content-Type", "text/plain"),
        ("X-Cache", "Miss from cloudfront"),
        ("Via", f"1.1 {VIA_ID}.cloudfront.net (CloudFront)"),
        ("X-Amz-Cf-Pop", pop_label("FRA")),
        ("X-Amz-Cf-Id", REQUEST_ID),
    ]
    assert re.fullmatch(r"FRA\d+-C\d", pop_label("FRA"))


@pytest.mark.parametrize(
    ("x_cache", "text"),
    [
        (XCache.HIT, "Hit from cloudfront"),
        (XCache.REFRESH_HIT, "RefreshHit from cloudfront"),
        (XCache.FUNCTION_GENERATED, "FunctionGeneratedResponse from cloudfront"),
        (XCache.ERROR, "Error from cloudfront"),
    ],
)
def test_x_cache_names_the_result(x_cache: XCache, text: str) -> None:
    out = dict(wire(origin_response([], x_cache)))
    assert out["X-Cache"] == text


def test_via_names_the_viewers_http_version() -> None:
    out = dict(wire(origin_response([]), make_request(http_version="2.0")))
    assert out["Via"] == f"2.0 {VIA_ID}.cloudfront.net (CloudFront)"


def test_hop_by_hop_headers_are_dropped() -> None:
    headers = [
        ("connection", "close"),
        ("keep-alive", "timeout=5"),
        ("transfer-encoding", "chunked"),
        ("upgrade", "h2c"),
        ("x-app", "1"),
    ]
    names = [n for n, _ in wire(origin_response(headers))]
    assert names[0] == "X-App"
    assert not {"Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade"} & set(names)


def test_origin_response_gets_no_server_header() -> None:
    out = wire(origin_response([("x-app", "1")]))
    assert "Server" not in [n for n, _ in out]
    out = wire(origin_response([("server", "nginx")]))
    assert [(n, v) for n, v in out if n == "Server"] == [("Server", "nginx")]


def test_cloudfronts_own_answers_carry_server_cloudfront() -> None:
    out = wire(generated(403, "no", XCache.ERROR))
    assert out[:3] == [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Server", "CloudFront"),
        ("X-Cache", "Error from cloudfront"),
    ]


def test_function_response_with_its_own_server_keeps_it() -> None:
    response = EdgeResponse(
        200, [("server", "mine")], XCache.FUNCTION_GENERATED, GeneratedBody(b"x")
    )
    assert [(n, v) for n, v in wire(response) if n.lower() == "server"] == [("Server", "mine")]


def test_body_replaced_by_a_viewer_response_function_gets_no_server() -> None:
    response = EdgeResponse(200, [], XCache.HIT, GeneratedBody(b"x", made_by_edge=False))
    assert "Server" not in [n for n, _ in wire(response)]


def test_response_headers_policy_is_applied(dist: Distribution) -> None:
    behavior = select_behavior(dist, "/site/x")
    headers = [("x-powered-by", "php"), ("x-team", "origin"), ("content-type", "text/html")]
    out = wire(origin_response(headers), make_request(path="/site/x"), behavior)
    assert ("X-Env", "dev") in out
    assert ("X-Team", "origin") in out  # override = false keeps the origin's value
    assert "X-Powered-By" not in [n for n, _ in out]
    assert [n for n, _ in out][-4:] == ["X-Cache", "Via", "X-Amz-Cf-Pop", "X-Amz-Cf-Id"]


def test_policy_removing_server_gets_cloudfronts(dist: Distribution) -> None:
    behavior = select_behavior(dist, "/no-server/x")
    out = wire(origin_response([("server", "nginx")]), make_request(path="/no-server/x"), behavior)
    assert [(n, v) for n, v in out if n == "Server"] == [("Server", "CloudFront")]


def test_no_behaviour_no_policy(dist: Distribution) -> None:
    out = wire(generated(400, "bad POP", XCache.ERROR), behavior=None)
    assert [n for n, _ in out] == [
        "Content-Type", "Server", "X-Cache", "Via", "X-Amz-Cf-Pop", "X-Amz-Cf-Id",
    ]  # fmt: skip


def test_debug_header_carries_the_error_detail_only_when_enabled() -> None:
    response = generated(503, "", XCache.FUNCTION_EXECUTION_ERROR)
    response.detail = "function gate: execution error:\n  Error: boom"
    plain = stage.wire_headers(response, make_request(), None, request_id="r", via_id=VIA_ID)
    assert "X-Edgesim-Error" not in [n for n, _ in plain]
    debug = stage.wire_headers(
        response, make_request(), None, request_id="r", via_id=VIA_ID, debug=True
    )
    assert debug[-1] == ("X-Edgesim-Error", "function gate: execution error: Error: boom")
    assert debug[:-1] == plain


def test_debug_header_only_on_responses_with_a_detail() -> None:
    out = stage.wire_headers(
        origin_response([]), make_request(), None, request_id="r", via_id=VIA_ID, debug=True
    )
    assert "X-Edgesim-Error" not in [n for n, _ in out]


_LINE_NAMES = st.sampled_from(
    ["content-type", "via", "x-cache", "x-amz-cf-id", "connection", "etag", "x-a-b", "server"]
)


@given(
    lines=st.lists(st.tuples(_LINE_NAMES, st.text(alphabet="ab ,1.", max_size=6)), max_size=8),
    made_by_edge=st.booleans(),
)
def test_wire_lines_are_the_responses_renamed_then_cloudfronts(
    lines: list[tuple[str, str]], made_by_edge: bool
) -> None:
    source = GeneratedBody(b"", made_by_edge=True) if made_by_edge else None
    response = origin_response(list(lines))
    if source is not None:
        response.source = source
    out = wire(response)
    own_via = f"1.1 {VIA_ID}.cloudfront.net (CloudFront)"
    dropped = {"via", "x-cache", "x-amz-cf-id", "connection"}
    vias = [v.strip() for n, v in lines if n == "via" and v.strip()]
    kept = [("-".join(p.capitalize() for p in n.split("-")), v) for n, v in lines]
    expected: list[tuple[str, str]] = []
    for (name, _), line in zip(lines, kept, strict=True):
        if name == "via" and not any(n == "Via" for n, _ in expected):
            expected.append(("Via", ", ".join([*vias, own_via])))  # where the first Via stood
        elif name not in dropped:
            expected.append(line)
    if made_by_edge and not any(n == "Server" for n, _ in expected):
        expected.append(("Server", "CloudFront"))
    own = [("X-Cache", "Miss from cloudfront"), ("Via", own_via)]
    own += [("X-Amz-Cf-Pop", pop_label("IAD")), ("X-Amz-Cf-Id", REQUEST_ID)]
    if vias or any(n == "via" for n, _ in lines):
        own = [line for line in own if line[0] != "Via"]
    assert out == expected + own
