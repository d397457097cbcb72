"""Viewer stage: POP and country, what CloudFront refuses before any code runs, the behaviour,
and the CloudFront-* headers a policy asks for."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.distribution.model import Distribution
from edgesim.edge.flow import GeneratedBody, XCache
from edgesim.edge.stages import viewer
from edgesim.edge.viewer import ViewerResolver
from tests.unit.edge.stages.conftest import ORIGIN, make_dist, make_flow, make_request

EDGES = """
[edges]
pops = ["IAD", "FRA", "NRT"]
default_country = "US"
"""

BEHAVIORS = (
    ORIGIN
    + """
[[origins]]
id = "api"
url = "http://127.0.0.1:4000"

[[behaviors]]
path = "/api/*"
origin = "api"
allowed_methods = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
viewer_protocol_policy = "https-only"

[[behaviors]]
path = "*.jpg"
origin = "app"
viewer_protocol_policy = "redirect-to-https"

[default_behavior]
origin = "app"
"""
    + EDGES
)


@pytest.fixture
def dist(tmp_path: Path) -> Distribution:
    return make_dist(tmp_path, BEHAVIORS)


def resolver(dist: Distribution) -> ViewerResolver:
    return ViewerResolver(dist.edges)


def body_of(response: object) -> bytes:
    source = getattr(response, "source", None)
    assert isinstance(source, GeneratedBody)
    return source.data


# -- place ---------------------------------------------------------------------------------------


def test_pop_and_country_come_from_the_control_headers(dist: Distribution) -> None:
    req = make_request(
        headers=[("x-edgesim-pop", "nrt"), ("x-edgesim-viewer-country", "de")], pop=""
    )
    flow = make_flow(dist, req)
    assert viewer.place(flow, resolver(dist)) is None
    assert (flow.pop, flow.request.country) == ("NRT", "DE")


def test_without_a_pop_header_the_first_pop_serves(dist: Distribution) -> None:
    flow = make_flow(dist, make_request(pop=""))
    assert viewer.place(flow, resolver(dist)) is None
    assert (flow.pop, flow.request.country) == ("IAD", "US")


def test_unknown_pop_is_a_400_error_served_by_the_first_pop(dist: Distribution) -> None:
    flow = make_flow(dist, make_request(headers=[("x-edgesim-pop", "XYZ")], pop=""))
    response = viewer.place(flow, resolver(dist))
    assert response is not None
    assert (response.status, response.x_cache) == (400, XCache.ERROR)
    assert b"XYZ" in body_of(response)
    assert b"IAD, FRA, NRT" in body_of(response)  # the message lists what would work
    assert flow.pop == "IAD"  # the access log and X-Amz-Cf-Pop still name a POP


@pytest.mark.parametrize(
    ("path", "query", "refused"),
    [
        ("/" + "a" * 8190, None, False),  # 8,191 characters
        ("/" + "a" * 8191, None, True),  # 8,192
        ("/p", "q=" + "x" * 8186, False),  # "/p?q=" + 8,186 = 8,191
        ("/p", "q=" + "x" * 8187, True),  # the query string counts too
    ],
)
def test_uri_and_query_of_8192_characters_or_more_is_413(
    dist: Distribution, path: str, query: str | None, refused: bool
) -> None:
    flow = make_flow(dist, make_request(path=path, query=query))
    response = viewer.place(flow, resolver(dist))
    if refused:
        assert response is not None
        assert (response.status, response.x_cache) == (413, XCache.ERROR)
        assert response.detail.endswith("CloudFront's limit is under 8,192 characters")
    else:
        assert response is None


def test_control_headers_never_go_further(dist: Distribution) -> None:
    req = make_request(
        headers=[
            ("host", "example.com"),
            ("x-edgesim-pop", "FRA"),
            ("x-edgesim-viewer-country", "JP"),
            ("accept", "*/*"),
        ]
    )
    flow = make_flow(dist, req)
    assert viewer.place(flow, resolver(dist)) is None
    assert flow.request.headers == [("host", "example.com"), ("accept", "*/*")]
    assert flow.viewer_request is flow.request  # as the viewer sent it, control headers gone


def test_viewer_cannot_spoof_cloudfront_generated_headers(dist: Distribution) -> None:
    spoofed = [
        ("cloudfront-viewer-country", "KP"),
        ("cloudfront-viewer-address", "1.2.3.4:5"),
        ("cloudfront-is-mobile-viewer", "true"),
        ("cloudfront-is-desktop-viewer", "false"),
        ("cloudfront-forwarded-proto", "https"),
    ]
    req = make_request(headers=[("host", "example.com"), *spoofed, ("x-other", "1")])
    flow = make_flow(dist, req)
    assert viewer.place(flow, resolver(dist)) is None
    assert flow.request.headers == [("host", "example.com"), ("x-other", "1")]


# -- admit ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "pattern", "origin"),
    [
        ("/api/users", "/api/*", "api"),
        ("/img/a/b.jpg", "*.jpg", "app"),
        ("/img/a/b.JPG", "*", "app"),  # patterns are case-sensitive
        ("/apix", "*", "app"),
    ],
)
def test_first_matching_behaviour_applies(
    dist: Distribution, path: str, pattern: str, origin: str
) -> None:
    flow = make_flow(dist, make_request(path=path, scheme="https"))
    assert viewer.admit(flow) is None
    assert flow.behavior is not None
    assert flow.behavior.path == pattern
    assert flow.origin == origin


def test_behaviour_is_chosen_by_path_not_query(dist: Distribution) -> None:
    flow = make_flow(dist, make_request(path="/x", query="f=a.jpg", scheme="https"))
    viewer.admit(flow)
    assert flow.behavior is dist.default_behavior


def test_method_the_behaviour_does_not_allow_is_403(dist: Distribution) -> None:
    flow = make_flow(dist, make_request("POST", "/page"))
    response = viewer.admit(flow)
    assert response is not None
    assert (response.status, response.x_cache) == (403, XCache.ERROR)
    assert b"not configured to allow the HTTP request method" in body_of(response)


def test_method_allowed_by_its_behaviour_passes(dist: Distribution) -> None:
    flow = make_flow(dist, make_request("DELETE", "/api/x", scheme="https"))
    assert viewer.admit(flow) is None


def test_get_with_a_body_is_403(dist: Distribution) -> None:
    flow = make_flow(dist, make_request("GET", "/page", has_body=True))
    response = viewer.admit(flow)
    assert response is not None
    assert (response.status, response.x_cache) == (403, XCache.ERROR)


def test_post_with_a_body_is_not_refused(dist: Distribution) -> None:
    flow = make_flow(dist, make_request("POST", "/api/x", has_body=True, scheme="https"))
    assert viewer.admit(flow) is None


def test_https_only_refuses_http_with_403(dist: Distribution) -> None:
    flow = make_flow(dist, make_request(path="/api/x", scheme="http"))
    response = viewer.admit(flow)
    assert response is not None
    assert (response.status, response.x_cache) == (403, XCache.ERROR)
    assert viewer.admit(make_flow(dist, make_request(path="/api/x", scheme="https"))) is None


@pytest.mark.parametrize(
    ("host", "location"),
    [
        ("example.com:8080", "https://example.com/a/b.jpg?v=1&w=%20"),
        ("example.com", "https://example.com/a/b.jpg?v=1&w=%20"),
        ("[2001:db8::1]:8080", "https://[2001:db8::1]/a/b.jpg?v=1&w=%20"),
        ("[::1]", "https://[::1]/a/b.jpg?v=1&w=%20"),
    ],
)
def test_redirect_to_https_is_301_to_the_same_url_without_the_port(
    dist: Distribution, host: str, location: str
) -> None:
    req = make_request(path="/a/b.jpg", query="v=1&w=%20", headers=[("host", host)])
    response = viewer.admit(make_flow(dist, req))
    assert response is not None
    assert (response.status, response.x_cache) == (301, XCache.REDIRECT)
    assert ("location", location) in response.headers
    assert response.made_by_edge
    assert body_of(response) == b""


def test_redirect_without_host_uses_the_distribution_domain(dist: Distribution) -> None:
    response = viewer.admit(make_flow(dist, make_request(path="/a.jpg")))
    assert response is not None
    assert ("location", f"https://{dist.server.domain_name}/a.jpg") in response.headers


def test_redirect_to_https_lets_https_through(dist: Distribution) -> None:
    flow = make_flow(dist, make_request(path="/a.jpg", scheme="https"))
    assert viewer.admit(flow) is None


def test_allow_all_takes_http(dist: Distribution) -> None:
    assert viewer.admit(make_flow(dist, make_request(path="/page", scheme="http"))) is None


def test_method_is_checked_before_the_protocol(dist: Distribution) -> None:
    response = viewer.admit(make_flow(dist, make_request("POST", "/a.jpg")))
    assert response is not None
    assert response.status == 403


# -- CloudFront-* headers ------------------------------------------------------------------------


def cloudfront_names(headers: list[tuple[str, str]]) -> list[str]:
    return [n for n, _ in headers if n.startswith("cloudfront-")]


def policy_dist(tmp_path: Path, cache_headers: str, orp: str | None) -> Distribution:
    text = (
        ORIGIN
        + f"""
[[cache_policies]]
name = "keyed"
headers = {cache_headers}
"""
        + (f'[[origin_request_policies]]\nname = "orp"\nheaders = {orp}\n' if orp else "")
        + """
[default_behavior]
origin = "app"
cache_policy = "keyed"
"""
        + ('origin_request_policy = "orp"\n' if orp else "")
    )
    return make_dist(tmp_path, text)


def admitted_headers(dist: Distribution) -> list[tuple[str, str]]:
    req = make_request(
        headers=[("host", "example.com"), ("user-agent", "Mozilla/5.0 (iPhone)")],
        country="DE",
        client_port=40000,
    )
    flow = make_flow(dist, req)
    assert viewer.admit(flow) is None
    return flow.request.headers


def test_no_cloudfront_headers_unless_a_policy_names_them(tmp_path: Path) -> None:
    dist = policy_dist(tmp_path, '["Accept"]', '"allViewer"')
    assert cloudfront_names(admitted_headers(dist)) == []


def test_cache_policy_naming_viewer_country_gets_exactly_that_header(tmp_path: Path) -> None:
    dist = policy_dist(tmp_path, '["CloudFront-Viewer-Country"]', None)
    headers = admitted_headers(dist)
    assert cloudfront_names(headers) == ["cloudfront-viewer-country"]
    assert ("cloudfront-viewer-country", "DE") in headers


def test_origin_request_policy_list_adds_the_named_headers(tmp_path: Path) -> None:
    dist = policy_dist(
        tmp_path,
        "[]",
        '{ behavior = "allViewerAndWhitelistCloudFront", names = '
        '["CloudFront-Viewer-Address", "CloudFront-Is-Mobile-Viewer"] }',
    )
    headers = admitted_headers(dist)
    assert sorted(cloudfront_names(headers)) == [
        "cloudfront-is-mobile-viewer",
        "cloudfront-viewer-address",
    ]
    assert ("cloudfront-viewer-address", "203.0.113.7:40000") in headers
    assert ("cloudfront-is-mobile-viewer", "true") in headers


def test_cloudfront_headers_follow_the_viewers_headers(tmp_path: Path) -> None:
    dist = policy_dist(tmp_path, '["CloudFront-Viewer-Country"]', None)
    headers = admitted_headers(dist)
    assert headers[:2] == [("host", "example.com"), ("user-agent", "Mozilla/5.0 (iPhone)")]


# -- CloudFront's length limits and the request target (issue 11, point 6) ----------------------


@pytest.mark.parametrize(("head_bytes", "refused"), [(0, False), (20_480, False), (20_481, True)])
def test_request_line_and_headers_over_20480_bytes_are_413(
    dist: Distribution, head_bytes: int, refused: bool
) -> None:
    flow = make_flow(dist, make_request(head_bytes=head_bytes))
    response = viewer.place(flow, resolver(dist))
    if not refused:
        assert response is None
        assert flow.standard_log
        return
    assert response is not None
    assert (response.status, response.x_cache) == (413, XCache.ERROR)
    assert b"20,480 bytes" in body_of(response)
    assert response.close_connection  # "then terminates the TCP connection to the viewer"
    assert response.detail is not None
    assert "20,481 bytes" in response.detail
    assert not flow.standard_log  # not in the standard logs


@pytest.mark.parametrize("target", ["http://example.com/x", "https://h/", "*", "x"])
def test_a_target_that_is_not_a_path_is_400(dist: Distribution, target: str) -> None:
    flow = make_flow(dist, make_request(path=target))
    response = viewer.place(flow, resolver(dist))
    assert response is not None
    assert (response.status, response.x_cache) == (400, XCache.ERROR)
    assert b"absolute-form" in body_of(response)
    assert response.detail == f"request target {target!r} is not a path"
    assert flow.behavior is None  # refused before a behaviour (and its functions) is chosen


def test_an_overlong_url_closes_the_connection_and_is_not_logged(dist: Distribution) -> None:
    flow = make_flow(dist, make_request(path="/" + "a" * 9000))
    response = viewer.place(flow, resolver(dist))
    assert response is not None
    assert response.status == 413
    assert response.close_connection
    assert not flow.standard_log
