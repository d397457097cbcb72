"""Response headers policies (override / remove / CORS) and CloudFront's own response headers."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.distribution.model import CorsConfig, CustomHeader, ResponseHeadersPolicy
from edgesim.edge.flow import XCache
from edgesim.edge.message import EdgeRequest
from edgesim.edge.response_headers import (
    allowed_origin,
    apply_response_headers_policy,
    cloudfront_response_headers,
    new_request_id,
    pop_label,
    via_host_id,
    via_value,
    x_cache_value,
)


def make_request(method: str = "GET", headers: list[tuple[str, str]] | None = None) -> EdgeRequest:
    return EdgeRequest(method=method, path="/", query=None, headers=headers or [])


def values(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name.lower()]


# ------------------------------------------------------------------------------------------
# CloudFront's own headers


def test_request_id_format() -> None:
    ids = {new_request_id() for _ in range(200)}
    assert len(ids) == 200
    for request_id in ids:
        assert len(request_id) == 56
        assert request_id.endswith("==")
        assert re.fullmatch(r"[A-Za-z0-9_-]{54}==", request_id)
        assert len(base64.urlsafe_b64decode(request_id)) == 40


def test_pop_label_is_stable_and_shaped_like_cloudfronts() -> None:
    label = pop_label("IAD")
    assert re.fullmatch(r"IAD\d{2}-C[1-3]", label)
    assert pop_label("iad") == label
    assert pop_label("FRA") != label
    assert pop_label("IAD66-C1") == "IAD66-C1"  # a configured full label is kept
    assert pop_label("waw51-p4") == "WAW51-P4"


def test_via_value() -> None:
    host = via_host_id("d111111abcdef8.cloudfront.net")
    assert re.fullmatch(r"[0-9a-f]{32}", host)
    assert host == via_host_id("d111111abcdef8.cloudfront.net")
    assert via_value("1.1", host) == f"1.1 {host}.cloudfront.net (CloudFront)"
    assert via_value("2", host).startswith("2.0 ")
    assert via_value("HTTP/1.0", host).startswith("1.0 ")


def test_cloudfront_response_headers_wire_casing_and_order() -> None:
    headers = cloudfront_response_headers(
        x_cache="Miss",
        pop="NRT",
        request_id="abc==",
        http_version="1.1",
        via_id="0" * 32,
    )
    assert [name for name, _ in headers] == ["X-Cache", "Via", "X-Amz-Cf-Pop", "X-Amz-Cf-Id"]
    assert headers[0] == ("X-Cache", "Miss from cloudfront")
    assert headers[1] == ("Via", f"1.1 {'0' * 32}.cloudfront.net (CloudFront)")
    assert headers[2] == ("X-Amz-Cf-Pop", pop_label("NRT"))
    assert headers[3] == ("X-Amz-Cf-Id", "abc==")


def test_x_cache_value_keeps_a_full_value() -> None:
    assert x_cache_value("FunctionGeneratedResponse") == "FunctionGeneratedResponse from cloudfront"
    assert x_cache_value("Hit from cloudfront") == "Hit from cloudfront"


# ------------------------------------------------------------------------------------------
# Custom / security headers and removal


def test_no_policy_returns_a_copy() -> None:
    headers = [("Content-Type", "text/plain")]
    out = apply_response_headers_policy(headers, None, request=make_request())
    assert out == headers
    assert out is not headers


def test_override_semantics() -> None:
    policy = ResponseHeadersPolicy(
        name="p",
        custom_headers=(
            CustomHeader("Cache-Control", "max-age=60", override=True),
            CustomHeader("X-Team", "edge", override=False),
            CustomHeader("X-New", "", override=False),  # a header with no value is allowed
        ),
        security_headers=(CustomHeader("X-Frame-Options", "DENY", override=False),),
    )
    origin = [
        ("content-type", "text/html"),
        ("cache-control", "no-store"),
        ("Cache-Control", "private"),
        ("x-team", "origin"),
        ("x-frame-options", "SAMEORIGIN"),
    ]
    out = apply_response_headers_policy(origin, policy, request=make_request())
    assert out == [
        ("content-type", "text/html"),
        ("Cache-Control", "max-age=60"),  # replaces every copy, at the first one's position
        ("x-team", "origin"),  # override=False keeps the origin's value
        ("x-frame-options", "SAMEORIGIN"),
        ("X-New", ""),  # absent → added whatever override says
    ]
    assert origin[1] == ("cache-control", "no-store")  # input untouched


def test_security_header_added_when_absent() -> None:
    policy = ResponseHeadersPolicy(
        name="p", security_headers=(CustomHeader("X-Content-Type-Options", "nosniff", False),)
    )
    out = apply_response_headers_policy([], policy, request=make_request())
    assert out == [("X-Content-Type-Options", "nosniff")]


def test_remove_then_add() -> None:
    policy = ResponseHeadersPolicy(
        name="p",
        remove_headers=frozenset({"x-powered-by", "vary", "x-team"}),
        custom_headers=(CustomHeader("X-Team", "edge", override=False),),
    )
    origin = [("X-Powered-By", "PHP"), ("Vary", "Accept"), ("x-team", "origin"), ("a", "1")]
    out = apply_response_headers_policy(origin, policy, request=make_request())
    # Removed first, so the policy's own X-Team is added even with override=False.
    assert out == [("a", "1"), ("X-Team", "edge")]


def test_removing_server_and_date_brings_cloudfronts_own() -> None:
    policy = ResponseHeadersPolicy(name="p", remove_headers=frozenset({"server", "date"}))
    origin = [("Server", "nginx"), ("Date", "Mon, 01 Jan 2024 00:00:00 GMT"), ("a", "1")]
    out = apply_response_headers_policy(origin, policy, request=make_request())
    assert out[0] == ("a", "1")
    assert ("Server", "CloudFront") in out
    # The origin's Date is gone; CloudFront's own is added as the response is sent, from the
    # edge clock (edge.delivery; tests/e2e/test_serve_wire_headers.py).
    assert values(out, "date") == []


# ------------------------------------------------------------------------------------------
# CORS

CORS = CorsConfig(
    allow_origins=("https://app.example.com", "https://*.example.org"),
    allow_headers=("Content-Type", "X-Token"),
    allow_methods=("GET", "POST"),
    allow_credentials=True,
    expose_headers=("X-Request-Id",),
    max_age_s=600,
    origin_override=False,
)


def cors_policy(cors: CorsConfig = CORS) -> ResponseHeadersPolicy:
    return ResponseHeadersPolicy(name="cors", cors=cors)


def test_cors_only_for_requests_with_origin() -> None:
    out = apply_response_headers_policy([], cors_policy(), request=make_request())
    assert out == []


def test_cors_simple_request_gets_origin_credentials_expose_only() -> None:
    req = make_request(headers=[("origin", "https://app.example.com")])
    out = apply_response_headers_policy([], cors_policy(), request=req)
    assert out == [
        ("Access-Control-Allow-Origin", "https://app.example.com"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Expose-Headers", "X-Request-Id"),
    ]


def test_cors_preflight_gets_methods_headers_max_age() -> None:
    req = make_request(
        "OPTIONS",
        [("origin", "https://a.b.example.org"), ("access-control-request-method", "POST")],
    )
    out = dict(apply_response_headers_policy([], cors_policy(), request=req))
    assert out["Access-Control-Allow-Origin"] == "https://a.b.example.org"
    assert out["Access-Control-Allow-Methods"] == "GET, POST"
    assert out["Access-Control-Allow-Headers"] == "Content-Type, X-Token"
    assert out["Access-Control-Max-Age"] == "600"


def test_cors_disallowed_origin_gets_nothing() -> None:
    for origin in ("https://evil.example.com", "http://app.example.com", "https://example.org"):
        req = make_request(headers=[("origin", origin)])
        assert apply_response_headers_policy([], cors_policy(), request=req) == []


def test_cors_wildcard_and_all_methods() -> None:
    cors = CorsConfig()  # defaults: origins *, headers *, methods ALL
    assert allowed_origin(cors, "https://anything.test") == "*"
    req = make_request(
        "OPTIONS", [("origin", "https://x.test"), ("access-control-request-method", "PUT")]
    )
    out = dict(apply_response_headers_policy([], cors_policy(cors), request=req))
    assert out["Access-Control-Allow-Origin"] == "*"
    assert out["Access-Control-Allow-Methods"] == "GET, DELETE, HEAD, OPTIONS, PATCH, POST, PUT"
    assert out["Access-Control-Allow-Headers"] == "*"
    assert "Access-Control-Allow-Credentials" not in out
    assert "Access-Control-Max-Age" not in out


def test_cors_origin_without_scheme_matches_host() -> None:
    cors = CorsConfig(allow_origins=("*.example.net",))
    assert allowed_origin(cors, "https://cdn.example.net") == "https://cdn.example.net"
    assert allowed_origin(cors, "https://example.net") is None


@pytest.mark.parametrize(("override", "expected"), [(False, "https://origin.set"), (True, "*")])
def test_cors_origin_override(override: bool, expected: str) -> None:
    cors = CorsConfig(origin_override=override)
    req = make_request(headers=[("origin", "https://x.test")])
    origin = [("access-control-allow-origin", "https://origin.set")]
    out = apply_response_headers_policy(origin, cors_policy(cors), request=req)
    assert values(out, "access-control-allow-origin") == [expected]


@given(
    calls=st.lists(
        st.tuples(
            st.sampled_from([*XCache, "Hit from cloudfront"]),
            st.sampled_from(["IAD", "NRT", "FRA12-C1"]),
            st.sampled_from(["1.0", "1.1", "2"]),
            st.sampled_from(["0" * 32, "f" * 32]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_cloudfront_response_headers_are_their_parts_whatever_came_before(
    calls: list[tuple[str, str, str, str]],
) -> None:
    for x_cache, pop, version, via_id in calls:
        request_id = new_request_id()
        headers = cloudfront_response_headers(
            x_cache=x_cache, pop=pop, request_id=request_id, http_version=version, via_id=via_id
        )
        assert headers == [
            ("X-Cache", x_cache_value(x_cache)),
            ("Via", via_value(version, via_id)),
            ("X-Amz-Cf-Pop", pop_label(pop)),
            ("X-Amz-Cf-Id", request_id),
        ]
        headers.append(("X-Changed", "by the caller"))  # a list of the caller's own
