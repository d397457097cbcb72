"""TTL resolution from origin headers and the cache policy (edgesim.edge.ttl)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from edgesim.distribution.model import CachePolicy
from edgesim.edge.ttl import decide_ttl, parse_cache_control

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


def policy(min_ttl: int = 0, default_ttl: int = 86_400, max_ttl: int = 31_536_000) -> CachePolicy:
    return CachePolicy(name="t", min_ttl=min_ttl, default_ttl=default_ttl, max_ttl=max_ttl)


def cc(value: str) -> list[tuple[str, str]]:
    return [("cache-control", value)]


def http_date(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


CACHING_OPTIMIZED = policy(1, 86_400, 31_536_000)
CACHING_DISABLED = policy(0, 0, 0)
USE_ORIGIN_HEADERS = policy(0, 0, 31_536_000)


# --- 2xx under the policy TTLs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pol", "headers", "ttl"),
    [
        # No Cache-Control / Expires: DefaultTTL, or MinTTL if larger.
        (policy(), [], 86_400),
        (policy(0, 300, 600), [], 300),
        (policy(900, 300, 1_000), [], 900),
        (policy(0, 300, 100), [], 300),  # MaxTTL only bounds origin-supplied lifetimes
        # max-age clamped into [MinTTL, MaxTTL].
        (policy(), cc("max-age=60"), 60),
        (policy(120, 86_400, 3_600), cc("max-age=60"), 120),
        (policy(0, 86_400, 3_600), cc("max-age=7200"), 3_600),
        (policy(10, 86_400, 3_600), cc("public, max-age=600"), 600),
        # s-maxage beats max-age for CloudFront, in either order.
        (policy(), cc("max-age=60, s-maxage=600"), 600),
        (policy(), cc("s-maxage=30, max-age=600"), 30),
        (policy(0, 86_400, 100), cc("s-maxage=600, max-age=5"), 100),
        # Several Cache-Control fields are combined; the first occurrence of a directive wins.
        (policy(), [("cache-control", "public"), ("cache-control", "max-age=42")], 42),
        (policy(), cc("max-age=42, max-age=99"), 42),
        (policy(), cc("MAX-AGE=42"), 42),
        (policy(), cc('max-age="42"'), 42),
        (policy(0, 500, 10_000), cc("max-age=abc"), 500),  # invalid value ignored
        # Unrelated directives leave the default in place.
        (policy(0, 500, 10_000), cc("public, must-revalidate"), 500),
    ],
)
def test_success_ttl(pol: CachePolicy, headers: list[tuple[str, str]], ttl: float) -> None:
    decision = decide_ttl(200, headers, pol, now=NOW)
    assert decision.cacheable
    assert decision.ttl == ttl


def test_expires_measured_from_origin_date() -> None:
    headers = [
        ("date", http_date(NOW - timedelta(days=1))),
        ("expires", http_date(NOW - timedelta(days=1) + timedelta(seconds=300))),
    ]
    assert decide_ttl(200, headers, policy(), now=NOW).ttl == 300


def test_expires_measured_from_now_without_date() -> None:
    headers = [("expires", http_date(NOW + timedelta(seconds=90)))]
    decision = decide_ttl(200, headers, policy(), now=NOW)
    assert decision.ttl == 90
    assert decision.reason == "expires"


def test_expires_clamped_and_overridden_by_max_age() -> None:
    far = [("expires", http_date(NOW + timedelta(days=400)))]
    assert decide_ttl(200, far, policy(0, 10, 3_600), now=NOW).ttl == 3_600
    both = [*far, ("cache-control", "max-age=20")]
    assert decide_ttl(200, both, policy(), now=NOW).ttl == 20


@pytest.mark.parametrize("expires", ["0", "-1", "yesterday"])
def test_invalid_or_past_expires_means_expired(expires: str) -> None:
    headers = [("expires", expires)]
    assert not decide_ttl(200, headers, policy(), now=NOW).cacheable
    # ...but MinTTL still applies.
    assert decide_ttl(200, headers, policy(min_ttl=30), now=NOW).ttl == 30


def test_naive_now_is_taken_as_utc() -> None:
    headers = [("expires", http_date(NOW + timedelta(seconds=50)))]
    naive = NOW.replace(tzinfo=None)
    assert decide_ttl(200, headers, policy(), now=naive).ttl == 50


@pytest.mark.parametrize("directive", ["no-store", "no-cache", "private", "private, max-age=600"])
def test_prohibiting_directives_honoured_with_min_ttl_zero(directive: str) -> None:
    decision = decide_ttl(200, cc(directive), policy(0, 86_400, 31_536_000), now=NOW)
    assert not decision.cacheable
    assert decision.ttl == 0


@pytest.mark.parametrize("directive", ["no-store", "no-cache", "private", "no-cache, max-age=600"])
def test_prohibiting_directives_cached_for_min_ttl_when_positive(directive: str) -> None:
    decision = decide_ttl(200, cc(directive), policy(5, 86_400, 31_536_000), now=NOW)
    assert decision.cacheable
    assert decision.ttl == 5


def test_qualified_no_cache_keeps_object_but_strips_fields() -> None:
    decision = decide_ttl(200, cc('no-cache="Set-Cookie, X-Foo", max-age=60'), policy(), now=NOW)
    assert decision.cacheable
    assert decision.ttl == 60
    assert decision.strip_headers == ("set-cookie", "x-foo")


def test_max_age_zero_not_stored() -> None:
    decision = decide_ttl(200, cc("max-age=0"), policy(), now=NOW)
    assert not decision.cacheable
    assert decide_ttl(200, cc("max-age=0"), policy(min_ttl=1), now=NOW).ttl == 1


def test_use_origin_cache_control_headers_policy() -> None:
    assert not decide_ttl(200, [], USE_ORIGIN_HEADERS, now=NOW).cacheable
    assert decide_ttl(200, cc("max-age=30"), USE_ORIGIN_HEADERS, now=NOW).ttl == 30


@pytest.mark.parametrize("status", [200, 301, 302, 404, 500, 503, 403])
@pytest.mark.parametrize("headers", [[], cc("max-age=600"), cc("s-maxage=600, public")])
def test_caching_disabled_never_cacheable(status: int, headers: list[tuple[str, str]]) -> None:
    assert not decide_ttl(status, headers, CACHING_DISABLED, now=NOW).cacheable


def test_stale_directives() -> None:
    headers = cc("max-age=60, stale-while-revalidate=30, stale-if-error=86400")
    decision = decide_ttl(200, headers, policy(0, 10, 3_600), now=NOW)
    assert (decision.ttl, decision.stale_while_revalidate, decision.stale_if_error) == (
        60,
        30,
        3_600,  # capped by MaxTTL
    )
    plain = decide_ttl(200, cc("max-age=60"), policy(), now=NOW)
    assert plain.stale_while_revalidate == 0
    assert plain.stale_if_error == 0


# --- statuses and methods -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 203, 204, 300, 301, 302, 303, 307, 308])
def test_cacheable_statuses(status: int) -> None:
    assert decide_ttl(status, [], policy(), now=NOW).cacheable


@pytest.mark.parametrize(
    "status", [100, 201, 202, 206, 304, 401, 402, 406, 409, 410, 416, 429, 505]
)
def test_uncached_statuses(status: int) -> None:
    assert not decide_ttl(status, cc("max-age=600"), policy(), now=NOW).cacheable


@pytest.mark.parametrize("status", [404, 414, 500, 501, 502, 503, 504])
def test_always_cached_errors(status: int) -> None:
    # The error caching minimum TTL, not DefaultTTL...
    decision = decide_ttl(status, [], CACHING_OPTIMIZED, now=NOW)
    assert decision.cacheable
    assert decision.ttl == 10
    # ...or the origin's max-age / s-maxage when larger.
    assert decide_ttl(status, cc("max-age=120"), policy(), now=NOW).ttl == 120
    assert decide_ttl(status, cc("s-maxage=300, max-age=5"), policy(), now=NOW).ttl == 300
    assert decide_ttl(status, cc("max-age=3"), policy(), now=NOW).ttl == 10
    assert decide_ttl(status, [], policy(), now=NOW, error_min_ttl=45).ttl == 45


@pytest.mark.parametrize("status", [400, 403, 405, 412, 415])
def test_errors_cached_only_with_max_age(status: int) -> None:
    assert not decide_ttl(status, [], policy(), now=NOW).cacheable
    expires = [("expires", http_date(NOW + timedelta(hours=1)))]
    assert not decide_ttl(status, expires, policy(), now=NOW).cacheable
    assert decide_ttl(status, cc("max-age=60"), policy(), now=NOW).ttl == 60
    assert decide_ttl(status, cc("s-maxage=2"), policy(), now=NOW).ttl == 10


def test_error_min_ttl_zero_disables_error_caching() -> None:
    assert not decide_ttl(404, [], policy(), now=NOW, error_min_ttl=0).cacheable
    assert decide_ttl(404, cc("max-age=5"), policy(), now=NOW, error_min_ttl=0).ttl == 5


def test_error_with_no_store_not_cached_when_min_ttl_zero() -> None:
    assert not decide_ttl(503, cc("no-store"), policy(), now=NOW).cacheable
    assert decide_ttl(503, cc("no-store"), policy(min_ttl=1), now=NOW).ttl == 10


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "HEAD"])
def test_methods_not_stored(method: str) -> None:
    assert not decide_ttl(200, cc("max-age=60"), policy(), now=NOW, method=method).cacheable


def test_options_can_be_stored() -> None:
    assert decide_ttl(200, cc("max-age=60"), policy(), now=NOW, method="options").cacheable


# --- Cache-Control parsing ----------------------------------------------------------------------


def test_parse_cache_control_quoted_commas() -> None:
    parsed = parse_cache_control(cc('private="a, b", s-maxage=5, no-store'))
    assert parsed.qualified_fields == ("a", "b")
    assert parsed.s_maxage == 5
    assert parsed.prohibits


def test_parse_ignores_other_headers() -> None:
    parsed = parse_cache_control([("x-cache-control", "max-age=5"), ("cache-control", "")])
    assert parsed.max_age is None
    assert not parsed.prohibits
