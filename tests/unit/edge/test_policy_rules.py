"""Cache key contents and what reaches the origin (edgesim.edge.policy_rules)."""

from __future__ import annotations

import json

import pytest

from edgesim.distribution.model import CachePolicy, OriginRequestPolicy, Selection
from edgesim.edge.message import EdgeRequest
from edgesim.edge.policy_rules import (
    cache_key,
    host_forwarded,
    invalidation_path,
    normalise_accept_encoding,
    origin_forward,
    policy_names_header,
)

HOST = "d111111abcdef8.cloudfront.net"


def req(
    path: str = "/index.html",
    query: str | None = None,
    headers: list[tuple[str, str]] | None = None,
    method: str = "GET",
) -> EdgeRequest:
    return EdgeRequest(method=method, path=path, query=query, headers=headers or [])


def policy(**kwargs: object) -> CachePolicy:
    return CachePolicy(name="test", **kwargs)  # type: ignore[arg-type]


def sel(behavior: str, *names: str) -> Selection:
    return Selection(behavior=behavior, names=frozenset(names))  # type: ignore[arg-type]


def key_parts(r: EdgeRequest, p: CachePolicy) -> list[object]:
    parts: list[object] = json.loads(cache_key(r, p, host=HOST))
    return parts


BOTH = policy(enable_gzip=True, enable_brotli=True)
GZIP = policy(enable_gzip=True)
BROTLI = policy(enable_brotli=True)
NEITHER = policy()


# --- Accept-Encoding normalisation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "pol", "expected"),
    [
        # Both formats enabled.
        ("gzip, deflate, br", BOTH, "br,gzip"),
        ("br,gzip", BOTH, "br,gzip"),
        ("gzip", BOTH, "gzip"),
        ("br", BOTH, "br"),
        ("deflate", BOTH, None),
        ("identity", BOTH, None),
        ("", BOTH, None),
        (None, BOTH, None),
        ("GZIP, BR", BOTH, "br,gzip"),  # coding names are case-insensitive
        ("x-gzip", BOTH, "gzip"),
        ("gzip;q=0.5, br;q=1.0", BOTH, "br,gzip"),
        # q=0 means "not acceptable".
        ("gzip;q=0, br", BOTH, "br"),
        ("gzip, br;q=0", BOTH, "gzip"),
        ("gzip;q=0, br;q=0.000", BOTH, None),
        ("gzip; q=0", BOTH, None),
        ("gzip;q=bogus", BOTH, "gzip"),
        ("*", BOTH, None),  # the wildcard does not count as gzip/br (choice)
        # Only gzip enabled.
        ("gzip, deflate, br", GZIP, "gzip"),
        ("br", GZIP, None),
        # Only brotli enabled.
        ("gzip, deflate, br", BROTLI, "br"),
        ("gzip", BROTLI, None),
        # Neither enabled: Accept-Encoding is an ordinary header.
        ("gzip, br", NEITHER, None),
    ],
)
def test_normalise_accept_encoding(
    value: str | None, pol: CachePolicy, expected: str | None
) -> None:
    assert normalise_accept_encoding(value, pol) == expected


def test_accept_encoding_in_key_is_normalised() -> None:
    a = req(headers=[("accept-encoding", "gzip, deflate, br")])
    b = req(headers=[("accept-encoding", "br;q=0.9, gzip")])
    assert cache_key(a, BOTH, host=HOST) == cache_key(b, BOTH, host=HOST)
    assert key_parts(a, BOTH)[-1] == "br,gzip"
    gzip_only = req(headers=[("accept-encoding", "gzip")])
    assert cache_key(a, BOTH, host=HOST) != cache_key(gzip_only, BOTH, host=HOST)


def test_accept_encoding_not_keyed_when_compression_caching_off() -> None:
    a = req(headers=[("accept-encoding", "gzip")])
    b = req(headers=[("accept-encoding", "br")])
    assert cache_key(a, NEITHER, host=HOST) == cache_key(b, NEITHER, host=HOST)
    listed = policy(headers=sel("whitelist", "accept-encoding"))
    assert cache_key(a, listed, host=HOST) != cache_key(b, listed, host=HOST)


def test_listed_accept_encoding_is_keyed_normalised_when_compression_on() -> None:
    p = policy(enable_gzip=True, headers=sel("whitelist", "accept-encoding"))
    a = req(headers=[("accept-encoding", "gzip, br")])
    b = req(headers=[("accept-encoding", "gzip")])
    assert cache_key(a, p, host=HOST) == cache_key(b, p, host=HOST)


def test_viewer_refusing_every_format_is_keyed_like_no_header() -> None:
    refusing = req(headers=[("accept-encoding", "deflate")])
    assert cache_key(refusing, BOTH, host=HOST) == cache_key(req(), BOTH, host=HOST)


# --- cache key ----------------------------------------------------------------------------------


def test_default_key_is_method_domain_and_path() -> None:
    r = req(path="/a/b.png", query="v=1", headers=[("user-agent", "x"), ("cookie", "s=1")])
    assert key_parts(r, NEITHER) == ["GET", HOST, "/a/b.png", None, [], [], None]


def test_get_and_head_share_a_key_options_does_not() -> None:
    get = cache_key(req(method="GET"), NEITHER, host=HOST)
    assert cache_key(req(method="HEAD"), NEITHER, host=HOST) == get
    assert cache_key(req(method="OPTIONS"), NEITHER, host=HOST) != get


def test_domain_is_case_insensitive_and_path_is_not() -> None:
    assert cache_key(req(), NEITHER, host=HOST.upper()) == cache_key(req(), NEITHER, host=HOST)
    assert cache_key(req("/A"), NEITHER, host=HOST) != cache_key(req("/a"), NEITHER, host=HOST)
    assert cache_key(req(), NEITHER, host="other.example") != cache_key(req(), NEITHER, host=HOST)


@pytest.mark.parametrize(
    ("selection", "query", "expected"),
    [
        (sel("none"), "a=1&b=2", None),
        (sel("all"), "a=1&b=2", "a=1&b=2"),
        (sel("all"), "", None),
        (sel("whitelist", "b"), "a=1&b=2&c=3", "b=2"),
        (sel("whitelist", "b", "a"), "b=2&a=1&c=3", "b=2&a=1"),  # viewer order kept
        (sel("whitelist", "x"), "a=1", None),
        (sel("whitelist", "flag"), "flag&a=1", "flag"),  # a parameter without '='
        (sel("whitelist", "a"), "a=1&a=2", "a=1&a=2"),  # repeated names all keyed
        (sel("whitelist", "A"), "a=1", None),  # names are case-sensitive
        (sel("allExcept", "utm"), "utm=x&a=1&&b=2", "a=1&b=2"),
        (sel("allExcept"), "a=1&b=2", "a=1&b=2"),
    ],
)
def test_query_strings_in_key(selection: Selection, query: str, expected: str | None) -> None:
    p = policy(query_strings=selection)
    assert key_parts(req(query=query), p)[3] == expected


def test_query_order_matters_when_keyed() -> None:
    # "The order of parameters matters in query strings" (guide, QueryStringParameters).
    p = policy(query_strings=sel("all"))
    assert cache_key(req(query="a=1&b=2"), p, host=HOST) != cache_key(
        req(query="b=2&a=1"), p, host=HOST
    )


@pytest.mark.parametrize(
    ("selection", "cookie", "expected"),
    [
        (sel("none"), "a=1; b=2", []),
        (sel("all"), "b=2; a=1", [["a", "1"], ["b", "2"]]),  # sorted by name
        (sel("whitelist", "session"), "a=1; session=xyz", [["session", "xyz"]]),
        (sel("whitelist", "Session"), "session=xyz", []),  # case-sensitive
        (sel("allExcept", "tracking"), "tracking=1; z=2; a=3", [["a", "3"], ["z", "2"]]),
    ],
)
def test_cookies_in_key(selection: Selection, cookie: str, expected: list[list[str]]) -> None:
    p = policy(cookies=selection)
    assert key_parts(req(headers=[("cookie", cookie)]), p)[5] == expected


def test_cookies_from_several_headers_are_merged() -> None:
    p = policy(cookies=sel("all"))
    one = req(headers=[("cookie", "a=1; b=2")])
    two = req(headers=[("cookie", "b=2"), ("cookie", "a=1")])
    assert cache_key(one, p, host=HOST) == cache_key(two, p, host=HOST)


def test_whitelisted_headers_in_key() -> None:
    p = policy(headers=sel("whitelist", "accept-language", "x-variant"))
    r = req(headers=[("x-variant", "b"), ("user-agent", "ua"), ("accept-language", "en")])
    assert key_parts(r, p)[4] == [["accept-language", "en"], ["x-variant", "b"]]
    other = req(headers=[("x-variant", "c"), ("accept-language", "en")])
    assert cache_key(r, p, host=HOST) != cache_key(other, p, host=HOST)
    absent = req(headers=[("accept-language", "en")])
    assert cache_key(r, p, host=HOST) != cache_key(absent, p, host=HOST)


def test_repeated_header_values_are_all_keyed() -> None:
    p = policy(headers=sel("whitelist", "x-a"))
    r = req(headers=[("x-a", "1"), ("x-b", "2"), ("x-a", "3")])
    assert key_parts(r, p)[4] == [["x-a", "1"], ["x-a", "3"]]


def test_cookie_header_is_keyed_only_through_cookie_settings() -> None:
    p = policy(headers=sel("whitelist", "cookie"))
    a = req(headers=[("cookie", "a=1")])
    b = req(headers=[("cookie", "a=2")])
    assert cache_key(a, p, host=HOST) == cache_key(b, p, host=HOST)


def test_key_has_no_separator_collisions() -> None:
    p = policy(headers=sel("whitelist", "x-a", "x-b"))
    a = req(headers=[("x-a", "1,x-b:2")])
    b = req(headers=[("x-a", "1"), ("x-b", "2")])
    assert cache_key(a, p, host=HOST) != cache_key(b, p, host=HOST)


def test_invalidation_path_uses_keyed_query() -> None:
    assert invalidation_path(req("/a", query="x=1"), NEITHER) == "/a"
    p = policy(query_strings=sel("whitelist", "x"))
    assert invalidation_path(req("/a", query="y=2&x=1"), p) == "/a?x=1"
    assert invalidation_path(req("/a", query="y=2"), p) == "/a"


# --- which policy names a header ----------------------------------------------------------------


def orp(**kwargs: object) -> OriginRequestPolicy:
    return OriginRequestPolicy(name="orp", **kwargs)  # type: ignore[arg-type]


CF_COUNTRY = "cloudfront-viewer-country"


@pytest.mark.parametrize(
    ("cache_headers", "orp_headers", "name", "expected"),
    [
        (sel("none"), None, CF_COUNTRY, False),
        (sel("whitelist", CF_COUNTRY), None, CF_COUNTRY, True),
        (sel("none"), sel("whitelist", CF_COUNTRY), CF_COUNTRY, True),
        (sel("none"), sel("allViewer"), CF_COUNTRY, False),  # allViewer: viewer headers only
        (sel("none"), sel("allExcept", "host"), CF_COUNTRY, False),
        (sel("none"), sel("allViewerAndWhitelistCloudFront", CF_COUNTRY), CF_COUNTRY, True),
        (sel("none"), sel("allViewerAndWhitelistCloudFront"), CF_COUNTRY, False),
        (sel("none"), sel("allViewerAndWhitelistCloudFront"), "accept", True),
        (sel("none"), sel("allViewer"), "x-anything", True),
        (sel("none"), sel("whitelist", "origin"), "origin", True),
        (sel("none"), sel("whitelist", "origin"), "referer", False),
        (sel("whitelist", "authorization"), None, "Authorization", True),  # name case-folded
        (sel("none"), sel("allExcept", "host"), "host", False),
        (sel("none"), sel("allExcept", "host"), "accept", True),
    ],
)
def test_policy_names_header(
    cache_headers: Selection, orp_headers: Selection | None, name: str, expected: bool
) -> None:
    o = orp(headers=orp_headers) if orp_headers is not None else None
    assert policy_names_header(name, policy(headers=cache_headers), o) is expected


@pytest.mark.parametrize(
    ("cache_headers", "orp_headers", "expected"),
    [
        (sel("none"), None, False),
        (sel("none"), sel("allViewer"), True),
        (sel("none"), sel("allExcept", "host"), False),  # AllViewerExceptHostHeader
        (sel("none"), sel("whitelist", "host"), True),
        (sel("whitelist", "host"), sel("allExcept", "host"), True),  # cache key wins
        (sel("whitelist", "origin"), None, False),
    ],
)
def test_host_forwarded(
    cache_headers: Selection, orp_headers: Selection | None, expected: bool
) -> None:
    o = orp(headers=orp_headers) if orp_headers is not None else None
    assert host_forwarded(policy(headers=cache_headers), o) is expected


# --- origin request ---------------------------------------------------------------------------


VIEWER_HEADERS = [
    ("host", "www.example.com"),
    ("user-agent", "curl/8"),
    ("accept", "*/*"),
    ("accept-language", "en"),
    ("referer", "https://example.com/"),
    ("origin", "https://example.com"),
    ("authorization", "Bearer t"),
    ("cookie", "b=2; a=1"),
    ("x-forwarded-for", "10.0.0.1"),
    ("connection", "keep-alive"),
    ("te", "trailers"),
    ("x-amz-cf-id", "spoofed"),
    ("x-custom", "c"),
    ("if-none-match", '"etag"'),
    ("range", "bytes=0-9"),
    ("content-type", "text/plain"),
    ("cloudfront-viewer-country", "FR"),
]


def forwarded_names(cache: CachePolicy, o: OriginRequestPolicy | None) -> list[str]:
    r = req(headers=VIEWER_HEADERS, query="a=1&b=2")
    return [name for name, _ in origin_forward(r, cache, o).headers]


def test_no_policy_selection_forwards_only_protocol_headers() -> None:
    assert forwarded_names(NEITHER, None) == ["if-none-match", "range", "content-type"]


def test_cache_key_values_are_forwarded() -> None:
    p = policy(
        headers=sel("whitelist", "accept-language"),
        cookies=sel("whitelist", "a"),
        query_strings=sel("whitelist", "b"),
    )
    fwd = origin_forward(req(headers=VIEWER_HEADERS, query="a=1&b=2"), p, None)
    assert ("accept-language", "en") in fwd.headers
    assert fwd.cookies == [("a", "1")]
    assert fwd.query == "b=2"


def test_all_viewer_forwards_everything_but_hop_by_hop_and_handled_headers() -> None:
    names = forwarded_names(NEITHER, orp(headers=sel("allViewer")))
    assert names == [
        "user-agent",
        "accept",
        "accept-language",
        "referer",
        "origin",
        "authorization",
        "x-custom",
        "if-none-match",
        "range",
        "content-type",
    ]


def test_cloudfront_headers_forwarded_only_when_named() -> None:
    assert CF_COUNTRY not in forwarded_names(NEITHER, orp(headers=sel("allViewer")))
    named = orp(headers=sel("allViewerAndWhitelistCloudFront", CF_COUNTRY))
    assert CF_COUNTRY in forwarded_names(NEITHER, named)
    assert CF_COUNTRY in forwarded_names(policy(headers=sel("whitelist", CF_COUNTRY)), None)


def test_orp_union_with_cache_policy() -> None:
    cache = policy(
        headers=sel("whitelist", "accept"),
        cookies=sel("whitelist", "a"),
        query_strings=sel("whitelist", "a"),
    )
    o = orp(
        headers=sel("whitelist", "referer"),
        cookies=sel("whitelist", "b"),
        query_strings=sel("allExcept", "a"),
    )
    fwd = origin_forward(req(headers=VIEWER_HEADERS, query="c=3&a=1&b=2"), cache, o)
    names = [name for name, _ in fwd.headers]
    assert "accept" in names
    assert "referer" in names
    assert "accept-language" not in names
    # The cache policy's list wins over the ORP's block list for 'a'.
    assert fwd.query == "c=3&a=1&b=2"
    assert fwd.cookies == [("a", "1"), ("b", "2")]


def test_forwarded_cookies_are_sorted_by_name() -> None:
    fwd = origin_forward(
        req(headers=[("cookie", "z=1; a=2; m=3")]), policy(cookies=sel("all")), None
    )
    assert fwd.cookies == [("a", "2"), ("m", "3"), ("z", "1")]


def test_all_query_strings_pass_unchanged() -> None:
    fwd = origin_forward(req(query="b=2&a=1&&x"), NEITHER, orp(query_strings=sel("all")))
    assert fwd.query == "b=2&a=1&&x"
    assert origin_forward(req(query="b=2"), NEITHER, None).query is None
    assert origin_forward(req(query=None), NEITHER, orp(query_strings=sel("all"))).query is None


@pytest.mark.parametrize(
    ("pol", "viewer", "expected"),
    [
        (BOTH, "gzip, deflate, br", "br,gzip"),
        (GZIP, "gzip, br", "gzip"),
        (BOTH, "deflate", "identity"),
        (BOTH, None, None),  # no viewer Accept-Encoding: none to the origin either
        (NEITHER, "gzip", None),
    ],
)
def test_origin_accept_encoding(pol: CachePolicy, viewer: str | None, expected: str | None) -> None:
    headers = [("accept-encoding", viewer)] if viewer is not None else []
    fwd = origin_forward(req(headers=headers), pol, None)
    values = [v for n, v in fwd.headers if n == "accept-encoding"]
    assert values == ([expected] if expected is not None else [])


def test_accept_encoding_in_orp_has_no_effect_when_compression_on() -> None:
    o = orp(headers=sel("whitelist", "accept-encoding"))
    fwd = origin_forward(req(headers=[("accept-encoding", "gzip, deflate")]), GZIP, o)
    assert [v for n, v in fwd.headers if n == "accept-encoding"] == ["gzip"]
    fwd = origin_forward(req(headers=[("accept-encoding", "gzip, deflate")]), NEITHER, o)
    assert [v for n, v in fwd.headers if n == "accept-encoding"] == ["gzip, deflate"]


def test_host_cookie_and_xff_never_in_forwarded_headers() -> None:
    everything = orp(headers=sel("allViewer"), cookies=sel("all"))
    names = forwarded_names(policy(headers=sel("whitelist", "host")), everything)
    assert "host" not in names
    assert "cookie" not in names
    assert "x-forwarded-for" not in names
    assert "connection" not in names
    assert "te" not in names
    assert "x-amz-cf-id" not in names
