"""The viewer response's header lines: no framework defaults (delivery.ViewerResponse) and the
origin headers CloudFront removes or replaces (edge.removed_headers)."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from edgesim.distribution.model import Behavior, CachePolicy, OriginRequestPolicy, Selection
from edgesim.edge import delivery
from edgesim.edge.removed_headers import origin_response_headers


async def prepared(response: web.StreamResponse, method: str = "GET") -> web.StreamResponse:
    await response.prepare(make_mocked_request(method, "/"))
    return response


# -- no framework defaults -------------------------------------------------------------------


async def test_plain_stream_response_adds_defaults() -> None:
    # The behaviour ViewerResponse exists to undo: if aiohttp stops adding these, this fails
    # and ViewerResponse's hook can go.
    out = await prepared(web.StreamResponse())
    assert out.headers["Content-Type"] == "application/octet-stream"
    assert out.headers["Server"].startswith("Python/")
    assert "Date" in out.headers


async def test_viewer_response_sends_only_what_was_set() -> None:
    out = await prepared(delivery.ViewerResponse(headers={"Date": "x", "X-A": "1"}))
    assert "Content-Type" not in out.headers
    assert "Server" not in out.headers
    assert out.headers["Date"] == "x"
    assert out.headers["X-A"] == "1"
    assert out.headers["Transfer-Encoding"] == "chunked"  # framing stays aiohttp's


async def test_viewer_response_keeps_headers_that_were_set() -> None:
    headers = {"Content-Type": "text/plain", "Server": "nginx", "Date": "x"}
    out = await prepared(delivery.ViewerResponse(headers=headers))
    assert out.headers["Content-Type"] == "text/plain"
    assert out.headers["Server"] == "nginx"


async def test_a_plain_response_becomes_a_viewer_response() -> None:
    out = delivery.as_viewer_response(web.StreamResponse(headers={"Date": "x"}))
    assert isinstance(out, delivery.ViewerResponse)
    await prepared(out)
    assert "Server" not in out.headers


def test_http_date_is_imf_fixdate() -> None:
    assert delivery.http_date(1_893_488_400_000) == "Tue, 01 Jan 2030 09:00:00 GMT"
    assert delivery.http_date(1_893_488_400_999) == "Tue, 01 Jan 2030 09:00:00 GMT"


# -- Set-Cookie and Vary ---------------------------------------------------------------------


NONE = Selection()


def behavior(
    *,
    cache_headers: Selection = NONE,
    cache_cookies: Selection = NONE,
    orp: OriginRequestPolicy | None = None,
    min_ttl: int = 0,
) -> Behavior:
    policy = CachePolicy(
        "p", min_ttl=min_ttl, headers=cache_headers, cookies=cache_cookies, max_ttl=86400
    )
    return Behavior("*", "app", policy, origin_request_policy=orp)


COOKIE = [("set-cookie", "a=1"), ("x", "1"), ("set-cookie", "b=2")]


def test_set_cookie_dropped_when_no_cookie_is_forwarded() -> None:
    assert origin_response_headers(COOKIE, behavior()) == [("x", "1")]


@pytest.mark.parametrize(
    "rules",
    [
        {"cache_cookies": Selection("whitelist", frozenset({"other"}))},
        {"cache_cookies": Selection("all")},
        {"orp": OriginRequestPolicy("o", cookies=Selection("whitelist", frozenset({"a"})))},
        {"orp": OriginRequestPolicy("o", cookies=Selection("allExcept", frozenset({"a"})))},
    ],
)
def test_every_set_cookie_kept_when_any_cookie_is_forwarded(rules: dict[str, object]) -> None:
    # "If the response from the origin includes cookies that aren't on the allowlist,
    # CloudFront returns those cookies to the viewer, too" (legacy guide, Cookies).
    assert origin_response_headers(COOKIE, behavior(**rules)) == COOKIE  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("vary", "rules", "expected"),
    [
        ("Accept-Encoding", {}, "Accept-Encoding"),
        ("accept-encoding,COOKIE", {}, "accept-encoding,COOKIE"),  # untouched: kept as sent
        ("Origin, Accept-Encoding", {}, "Accept-Encoding"),
        ("Origin", {}, None),
        (
            "Origin, X-Lang",
            {"cache_headers": Selection("whitelist", frozenset({"origin"}))},
            "Origin",
        ),
        (
            "X-Lang, Origin",
            {"orp": OriginRequestPolicy("o", headers=Selection("allViewer"))},
            "X-Lang, Origin",
        ),
        (
            "X-Lang, Origin",
            {
                "orp": OriginRequestPolicy(
                    "o", headers=Selection("allExcept", frozenset({"x-lang"}))
                )
            },
            "Origin",
        ),
        ("User-Agent", {}, None),
        (
            "User-Agent",
            {"cache_headers": Selection("whitelist", frozenset({"cloudfront-is-mobile-viewer"}))},
            "User-Agent",
        ),
        ("*", {}, "*"),  # minimum TTL 0: kept (unverified)
        ("*", {"min_ttl": 1}, None),
        ("", {}, ""),  # nothing to remove
    ],
)
def test_vary_is_pruned(vary: str, rules: dict[str, object], expected: str | None) -> None:
    out = origin_response_headers([("vary", vary), ("x", "1")], behavior(**rules))  # type: ignore[arg-type]
    assert out == ([("vary", expected)] if expected is not None else []) + [("x", "1")]
