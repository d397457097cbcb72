"""Compiled behaviours (edgesim.edge.compiled) give what the reference policy rules give.

The origin request is built in one pass with each behaviour's compiled rules; the reference
below is the step-by-step construction from ``policy_rules.origin_forward`` and
``host_forwarded`` that the origin stage used before, compared over generated requests,
policies and origins.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim.distribution.model import (
    Behavior,
    CachePolicy,
    CustomHeader,
    Origin,
    OriginRequestPolicy,
    Selection,
)
from edgesim.edge.compiled import CompiledBehavior, compiled
from edgesim.edge.event_codec import cookie_header, wire_name
from edgesim.edge.message import HOP_BY_HOP, EdgeRequest
from edgesim.edge.origin import OriginRequest, origin_host
from edgesim.edge.policy_rules import (
    _select_cookies,
    _select_query,
    host_forwarded,
    origin_forward,
    policy_names_header,
)
from edgesim.edge.stages.origin import build_request

HEADER_NAMES = [
    "host", "cookie", "x-forwarded-for", "via", "user-agent", "accept-encoding", "accept",
    "connection", "te", "x-amz-cf-id", "x-amzn-trace", "x-edge-thing", "cloudfront-viewer-country",
    "cloudfront-is-mobile-viewer", "authorization", "origin", "range", "if-none-match",
    "x-custom", "x-api-key", "content-type", "referer",
]  # fmt: skip
NAMES = ["a", "b", "uid", "session", "utm_source", "q", "A"]
BEHAVIORS = [
    "none",
    "whitelist",
    "allExcept",
    "all",
    "allViewer",
    "allViewerAndWhitelistCloudFront",
]

selections = st.builds(
    Selection,
    behavior=st.sampled_from(BEHAVIORS),
    names=st.frozensets(st.sampled_from(HEADER_NAMES + NAMES), max_size=4),
)
cache_policies = st.builds(
    CachePolicy,
    name=st.just("p"),
    max_ttl=st.sampled_from([0, 86_400]),
    headers=selections,
    cookies=selections,
    query_strings=selections,
    enable_gzip=st.booleans(),
    enable_brotli=st.booleans(),
)
origin_request_policies = st.none() | st.builds(
    OriginRequestPolicy,
    name=st.just("o"),
    headers=selections,
    cookies=selections,
    query_strings=selections,
)
header_values = st.sampled_from(["1", "gzip, br", "a=1; b=2", "uid=7;session=x", "x", ""])
requests = st.builds(
    EdgeRequest,
    method=st.sampled_from(["GET", "HEAD", "POST"]),
    path=st.sampled_from(["/", "/a/b.html"]),
    query=st.none()
    | st.lists(
        st.tuples(st.sampled_from(NAMES), st.sampled_from(["", "=1", "=x%20y"])), max_size=4
    ).map(lambda items: "&".join(n + v for n, v in items)),
    headers=st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_values), max_size=10),
    client_ip=st.sampled_from(["127.0.0.1", "2001:db8::1"]),
    http_version=st.sampled_from(["1.1", "1.0"]),
)
origins = st.builds(
    Origin,
    id=st.just("app"),
    url=st.sampled_from(["http://127.0.0.1:3000", "https://example.com"]),
    host_header=st.none() | st.just("pinned.example"),
    custom_headers=st.lists(
        st.builds(
            CustomHeader,
            name=st.sampled_from(["X-Origin-Secret", "User-Agent", "Host", "x-forwarded-for"]),
            value=st.just("v"),
        ),
        max_size=2,
    ).map(tuple),
)


def reference_build(req: EdgeRequest, behavior: Behavior, origin: Origin) -> OriginRequest:
    """The origin request as the reference rules build it, step by step."""
    forward = origin_forward(req, behavior.cache_policy, behavior.origin_request_policy)
    headers = [(n, v) for n, v in forward.headers if n not in HOP_BY_HOP and n != "host"]
    if forward.cookies:
        headers = [(n, v) for n, v in headers if n != "cookie"]
        headers.append(("cookie", cookie_header(forward.cookies)))
    if origin.host_header is not None:
        headers.append(("host", origin.host_header))
    elif host_forwarded(behavior.cache_policy, behavior.origin_request_policy):
        headers.append(("host", req.header("host") or origin_host(origin)))
    else:
        headers.append(("host", origin_host(origin)))
    xff = [*req.header_values("x-forwarded-for"), req.client_ip]
    via = [*req.header_values("via"), f"{req.http_version} VIA.cloudfront.net (CloudFront)"]
    headers = [(n, v) for n, v in headers if n not in ("x-forwarded-for", "via")]
    headers.append(("x-forwarded-for", ", ".join(xff)))
    headers.append(("x-amz-cf-id", "REQ"))
    headers.append(("via", ", ".join(via)))
    if not any(n == "user-agent" for n, _ in headers):
        headers.append(("user-agent", "Amazon CloudFront"))
    for custom in origin.custom_headers:
        headers = [(n, v) for n, v in headers if n != custom.name.lower()]
        headers.append((custom.name.lower(), custom.value))
    return OriginRequest(
        req.method, req.path, forward.query, [(wire_name(n), v) for n, v in headers], None
    )


@settings(max_examples=400, deadline=None)
@given(requests, cache_policies, origin_request_policies, origins)
def test_the_compiled_origin_request_is_the_reference_one(
    req: EdgeRequest, cache_policy: CachePolicy, orp: OriginRequestPolicy | None, origin: Origin
) -> None:
    behavior = Behavior(
        path="*", origin="app", cache_policy=cache_policy, origin_request_policy=orp
    )
    built = build_request(req, behavior, origin, request_id="REQ", via_id="VIA")
    assert built == reference_build(req, behavior, origin)


@settings(max_examples=300, deadline=None)
@given(requests, cache_policies, origin_request_policies, st.sampled_from(HEADER_NAMES))
def test_compiled_selections_match_the_reference(
    req: EdgeRequest, cache_policy: CachePolicy, orp: OriginRequestPolicy | None, name: str
) -> None:
    behavior = Behavior(
        path="*", origin="app", cache_policy=cache_policy, origin_request_policy=orp
    )
    rules = CompiledBehavior(behavior)
    orp_query = [orp.query_strings] if orp is not None else []
    orp_cookies = [orp.cookies] if orp is not None else []
    assert rules.origin_query_string(req.query) == _select_query(
        req.query, [cache_policy.query_strings, *orp_query]
    )
    assert rules.origin_cookie_pairs(req) == _select_cookies(
        req, [cache_policy.cookies, *orp_cookies]
    )
    assert rules.names_header(name) == policy_names_header(name, cache_policy, orp)
    # The memoised answer is the same the second time.
    assert rules.names_header(name) == policy_names_header(name, cache_policy, orp)


def test_a_behaviour_is_compiled_once_and_by_identity() -> None:
    policy = CachePolicy(name="p")
    first = Behavior(path="*", origin="app", cache_policy=policy)
    twin = Behavior(path="*", origin="app", cache_policy=policy)  # equal, not the same object
    assert compiled(first) is compiled(first)
    assert compiled(twin) is not compiled(first)
    assert compiled(twin).behavior is twin
