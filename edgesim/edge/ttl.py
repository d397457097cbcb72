"""How long CloudFront keeps an origin response: origin headers against the cache policy's TTLs.

Sources: Developer Guide "Managing how long content stays in the cache (expiration)" (the
MinTTL = 0 / MinTTL > 0 table), "How CloudFront processes and caches HTTP 4xx and 5xx status
codes from your origin", and the project reference ``kvs-api-and-distribution.md`` B.3 and B.8.

Summary of the rules implemented:

* No ``s-maxage``/``max-age``/``Expires`` → DefaultTTL (or MinTTL if larger).
* ``s-maxage`` beats ``max-age``, which beats ``Expires``; the value is clamped into
  [MinTTL, MaxTTL].
* ``no-store``, ``no-cache``, ``private`` are honoured when MinTTL = 0 (not cached); with
  MinTTL > 0 the object is cached for MinTTL anyway.
* Error statuses follow B.8 and the distribution's error caching minimum TTL.
* A TTL of 0 means "not stored" (see ``decide_ttl``).
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime

from edgesim.distribution.model import CachePolicy
from edgesim.edge.message import Headers

# Successful / redirect statuses stored under the policy TTLs. 206 is left out because the cache
# key has no Range in it (a partial body must not answer a full GET); 304 only revalidates; 410
# is a 4xx that appears in neither of the documented error lists. CloudFront's exact list for
# 2xx/3xx is not documented (unverified); this set follows RFC 9110's cacheable-by-default codes
# plus the redirects CloudFront is commonly observed to cache.
CACHEABLE_STATUSES = frozenset({200, 203, 204, 300, 301, 302, 303, 307, 308})

# "CloudFront always caches" these, for the error caching minimum TTL or the origin's
# s-maxage/max-age if larger (reference B.8). The June-2023 guide lists 405 here; the reference
# (from the current guide) puts it with the Cache-Control-only codes, which we follow.
ALWAYS_CACHED_ERRORS = frozenset({404, 414, 500, 501, 502, 503, 504})
# Cached only when the origin sent Cache-Control max-age or s-maxage.
MAX_AGE_CACHED_ERRORS = frozenset({400, 403, 405, 412, 415})

CACHED_METHODS = frozenset({"GET", "OPTIONS"})

# Whether error responses are cached under a policy whose MaxTTL is 0 (CachingDisabled). Error
# caching is a distribution setting, and field reports suggest errors may be cached even then;
# this is unverified, so edgesim treats MaxTTL = 0 as "nothing is cached" by default.
CACHE_ERRORS_WHEN_MAX_TTL_ZERO = False

_PROHIBITING = ("no-store", "no-cache", "private")


@dataclass(frozen=True)
class TtlDecision:
    """Whether to store a response and for how long (seconds).

    ``strip_headers`` lists lower-case header names not to keep in the stored copy: the field
    names of a qualified ``no-cache="Set-Cookie"`` / ``private="..."`` directive.
    """

    cacheable: bool
    ttl: float
    stale_while_revalidate: float = 0
    stale_if_error: float = 0
    reason: str = ""
    strip_headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class CacheControl:
    """The response Cache-Control directives that matter to a shared cache."""

    s_maxage: int | None = None
    max_age: int | None = None
    prohibits: bool = False  # unqualified no-store / no-cache / private
    stale_while_revalidate: int | None = None
    stale_if_error: int | None = None
    qualified_fields: tuple[str, ...] = ()


def _split_directives(value: str) -> list[str]:
    """Split on commas outside quoted strings (``no-cache="Set-Cookie, X-Foo"`` stays whole)."""
    items: list[str] = []
    current: list[str] = []
    quoted = False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def _delta_seconds(raw: str) -> int | None:
    raw = raw.strip().strip('"')
    return int(raw) if raw.isdigit() else None


def parse_cache_control(headers: Headers) -> CacheControl:
    """Directives from every Cache-Control field; the first occurrence of a directive wins.

    RFC 9111 section 4.2.1 allows either the first value or treating the response as stale; we
    take the first. A directive with an invalid delta-seconds value is ignored.
    """
    seen: dict[str, str | None] = {}
    for name, value in headers:
        if name != "cache-control":
            continue
        for item in _split_directives(value):
            directive, eq, argument = item.partition("=")
            seen.setdefault(directive.strip().lower(), argument if eq else None)
    return _cache_control_from(seen)


def _cache_control_from(seen: dict[str, str | None]) -> CacheControl:
    def seconds(directive: str) -> int | None:
        argument = seen.get(directive)
        return None if argument is None else _delta_seconds(argument)

    prohibits = False
    qualified: list[str] = []
    for directive in _PROHIBITING:
        if directive not in seen:
            continue
        argument = seen[directive]
        if directive != "no-store" and argument:
            # Qualified no-cache/private (RFC 9111 sections 5.2.2.4, 5.2.2.7): the response may be
            # stored, minus the named fields. The legacy guide uses no-cache="Set-Cookie" to stop
            # CloudFront caching cookies, not the object.
            qualified.extend(f.strip().lower() for f in argument.strip('"').split(",") if f.strip())
        else:
            prohibits = True
    return CacheControl(
        s_maxage=seconds("s-maxage"),
        max_age=seconds("max-age"),
        prohibits=prohibits,
        stale_while_revalidate=seconds("stale-while-revalidate"),
        stale_if_error=seconds("stale-if-error"),
        qualified_fields=tuple(dict.fromkeys(qualified)),
    )


def _header(headers: Headers, name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _http_date(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _expires_ttl(headers: Headers, now: datetime) -> float | None:
    """Seconds until ``Expires``; None without the header.

    Measured from the origin's ``Date`` when it sent one (RFC 9111 section 4.2.1), which keeps
    the result right when the edge clock is simulated; else from ``now``. An unparsable Expires
    (``0``, ``-1``) means already expired (RFC 9111 section 5.3).
    """
    raw = _header(headers, "expires")
    if raw is None:
        return None
    expires = _http_date(raw)
    if expires is None:
        return 0.0
    base = _http_date(_header(headers, "date")) or _aware(now)
    return max(0.0, (expires - base).total_seconds())


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def _clamp(value: float, policy: CachePolicy) -> float:
    return float(min(max(value, policy.min_ttl), policy.max_ttl))


def _not_cached(reason: str) -> TtlDecision:
    return TtlDecision(cacheable=False, ttl=0, reason=reason)


def _stored(ttl: float, reason: str, cc: CacheControl, policy: CachePolicy) -> TtlDecision:
    if ttl <= 0:
        # CloudFront keeps TTL-0 objects and revalidates them on every request; edgesim does not
        # store them, which serves the same bytes at the cost of full origin fetches (choice).
        return _not_cached(f"{reason}; ttl 0")
    # Stale windows come from the origin; capped by MaxTTL like the freshness lifetime (choice,
    # unverified: the guide does not say how MaxTTL bounds them).
    return TtlDecision(
        cacheable=True,
        ttl=ttl,
        stale_while_revalidate=float(min(cc.stale_while_revalidate or 0, policy.max_ttl)),
        stale_if_error=float(min(cc.stale_if_error or 0, policy.max_ttl)),
        reason=reason,
        strip_headers=cc.qualified_fields,
    )


def _success_ttl(headers: Headers, cc: CacheControl, policy: CachePolicy, now: datetime) -> float:
    if cc.prohibits:
        return float(policy.min_ttl)  # only reached with MinTTL > 0
    origin_ttl: float | None
    if cc.s_maxage is not None:
        origin_ttl = cc.s_maxage
    elif cc.max_age is not None:
        origin_ttl = cc.max_age
    else:
        origin_ttl = _expires_ttl(headers, now)
    if origin_ttl is None:
        # MaxTTL applies only when the origin sent Cache-Control/Expires (guide: Maximum TTL).
        return float(max(policy.min_ttl, policy.default_ttl))
    return _clamp(origin_ttl, policy)


def _error_decision(
    status: int, cc: CacheControl, policy: CachePolicy, error_min_ttl: int
) -> TtlDecision:
    origin_ttl = cc.s_maxage if cc.s_maxage is not None else cc.max_age
    if status in MAX_AGE_CACHED_ERRORS and origin_ttl is None:
        return _not_cached(f"{status} without max-age/s-maxage")
    if cc.prohibits and policy.min_ttl == 0:
        # "not restricted by a cache control header" (guide, 4xx/5xx processing).
        return _not_cached(f"{status} with no-store/no-cache/private")
    # The error caching minimum TTL, or the origin's own lifetime if larger. MaxTTL does not bound
    # the error TTL, which is a distribution setting (choice, unverified).
    ttl = float(max(error_min_ttl, origin_ttl or 0))
    if ttl <= 0:
        return _not_cached(f"{status}; error caching min TTL 0")
    return TtlDecision(cacheable=True, ttl=ttl, reason=f"error {status}")


def decide_ttl(
    status: int,
    response_headers: Headers,
    policy: CachePolicy,
    *,
    now: datetime,
    error_min_ttl: int = 10,
    method: str = "GET",
) -> TtlDecision:
    """Whether and how long to cache an origin response to ``method`` with ``status``.

    ``response_headers`` are lower-case names. ``error_min_ttl`` is the distribution's error
    caching minimum TTL for ``status`` (CustomErrorResponse.error_caching_min_ttl, default 10).
    HEAD responses are not stored (they carry no body, and GET shares their key); the pipeline
    should fill the cache from GET responses only. Whether ``method`` is among the behaviour's
    cached methods is the pipeline's check; here only GET and OPTIONS can be stored at all.
    """
    method = method.upper()
    if method not in CACHED_METHODS:
        return _not_cached(f"{method} responses are not cached")
    if policy.max_ttl <= 0 and not (
        CACHE_ERRORS_WHEN_MAX_TTL_ZERO and status in ALWAYS_CACHED_ERRORS | MAX_AGE_CACHED_ERRORS
    ):
        return _not_cached("caching disabled (MaxTTL 0)")
    cc = parse_cache_control(response_headers)
    if status in ALWAYS_CACHED_ERRORS or status in MAX_AGE_CACHED_ERRORS:
        return _error_decision(status, cc, policy, error_min_ttl)
    if status not in CACHEABLE_STATUSES:
        return _not_cached(f"status {status} is not cached")
    if cc.prohibits and policy.min_ttl == 0:
        return _not_cached("no-store/no-cache/private with MinTTL 0")
    ttl = _success_ttl(response_headers, cc, policy, now)
    return _stored(ttl, _reason(cc, response_headers), cc, policy)


def _reason(cc: CacheControl, headers: Headers) -> str:
    if cc.prohibits:
        return "MinTTL overrides no-store/no-cache/private"
    if cc.s_maxage is not None:
        return "s-maxage"
    if cc.max_age is not None:
        return "max-age"
    if _header(headers, "expires") is not None:
        return "expires"
    return "default TTL"
