"""Cache stage: the cache key of a request, what a stored object answers (hit, 304, stale copy),
how an expired object is revalidated, and how an origin response is stored.

Facts (reference notes B.7, B.8): every edge location has its own cache; an expired object is
revalidated with a conditional request and a 304 refreshes it (``RefreshHit``); an origin 5xx or
an unreachable origin while a stale copy exists serves the copy; a fresh hit whose validators
match the viewer's conditional headers is answered 304.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from email.utils import parsedate_to_datetime

from edgesim.distribution.model import Behavior, Distribution
from edgesim.edge.cache import CachedObject, CacheWriter, HttpCache
from edgesim.edge.compression import revalidated_headers
from edgesim.edge.flow import CachedBody, EdgeResponse, GeneratedBody, XCache
from edgesim.edge.message import EdgeRequest, Headers
from edgesim.edge.policy_rules import cache_key, invalidation_path
from edgesim.edge.removed_headers import origin_response_headers
from edgesim.edge.ttl import decide_ttl

_BODY_HEADERS = frozenset({"content-length", "content-type", "content-encoding"})
# A 304 updates the stored headers except those describing the stored body (RFC 9111 §4.3.4).
_KEPT_ON_REVALIDATION = frozenset(
    {"content-length", "content-encoding", "content-type", "transfer-encoding"}
)
DEFAULT_ERROR_CACHING_MIN_TTL = 10


def as_cached(req: EdgeRequest) -> EdgeRequest:
    """The request as the cache sees it.

    "If a request to CloudFront uses HTTP 1.0, CloudFront removes the Accept-Encoding header"
    (Developer Guide, "Serve compressed files"): neither keyed nor forwarded. Done after the
    viewer-request function; whether functions see it is unverified.
    """
    if req.http_version == "1.0" and req.header("accept-encoding") is not None:
        return dataclasses.replace(
            req, headers=[(n, v) for n, v in req.headers if n != "accept-encoding"]
        )
    return req


def key_for(req: EdgeRequest, behavior: Behavior, dist: Distribution) -> str | None:
    """Where the response to ``req`` lives in the cache, or None when it is not cacheable (a
    method the behaviour does not cache, or a policy with a zero maximum TTL)."""
    policy = behavior.cache_policy
    if req.method not in behavior.cached_methods or policy.max_ttl <= 0:
        return None
    # Every edge location has its own cache: the POP is part of where an object lives.
    return f"{req.pop}|{cache_key(req, policy, host=dist.server.domain_name)}"


def serve(cached: CachedObject, x_cache: XCache, now: float) -> EdgeResponse:
    """The stored object as a response, with its ``Age``."""
    headers = [(n, v) for n, v in cached.headers if n != "age"]
    headers.append(("age", str(cached.age(now))))
    return EdgeResponse(cached.status, headers, x_cache, CachedBody(cached))


def serve_fresh(cached: CachedObject, req: EdgeRequest, now: float) -> EdgeResponse:
    """A fresh hit: the object, or a 304 when the viewer's validators match it."""
    response = serve(cached, XCache.HIT, now)
    if not not_modified(cached, req):
        return response
    response.status, response.source = 304, GeneratedBody(b"", made_by_edge=False)
    response.headers = [(n, v) for n, v in response.headers if n not in _BODY_HEADERS]
    return response


def not_modified(cached: CachedObject, req: EdgeRequest) -> bool:
    """Whether the viewer's conditional headers match the stored validators."""
    etag = next((v for n, v in cached.headers if n == "etag"), None)
    wanted = req.header("if-none-match")
    if wanted is not None:
        if etag is None:
            return False
        tags = [t.strip().removeprefix("W/") for t in wanted.split(",")]
        return "*" in tags or etag.removeprefix("W/") in tags
    since = req.header("if-modified-since")
    modified = next((v for n, v in cached.headers if n == "last-modified"), None)
    if since is None or modified is None:
        return False
    try:
        return parsedate_to_datetime(modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def revalidation_headers(cached: CachedObject | None, req: EdgeRequest) -> Headers:
    """If-None-Match / If-Modified-Since from the stored validators, unless the viewer sent its
    own conditional headers (then the origin's 304 belongs to the viewer)."""
    if cached is None:
        return []
    if req.header("if-none-match") is not None or req.header("if-modified-since") is not None:
        return []
    out: Headers = []
    for name, value in cached.headers:
        if name == "etag":
            out.append(("if-none-match", value))
        elif name == "last-modified":
            out.append(("if-modified-since", value))
    return out


def merge_headers(stored: Headers, fresh: Headers) -> Headers:
    """A 304's headers update the stored ones, body headers excepted."""
    replaced = {n for n, _ in fresh if n not in _KEPT_ON_REVALIDATION}
    merged = [(n, v) for n, v in stored if n not in replaced]
    merged += [(n, v) for n, v in fresh if n not in _KEPT_ON_REVALIDATION]
    return merged


def error_caching_min_ttl(dist: Distribution, status: int) -> int:
    rule = dist.custom_error_responses.get(status)
    return rule.error_caching_min_ttl if rule is not None else DEFAULT_ERROR_CACHING_MIN_TTL


def refresh(
    cache: HttpCache,
    key: str,
    cached: CachedObject,
    origin_headers: Headers,
    *,
    req: EdgeRequest,
    behavior: Behavior,
    dist: Distribution,
    wall: datetime,
) -> CachedObject | None:
    """Restart a stored object's lifetime after the origin answered its revalidation with 304.
    No compression on a 304: the stored copy (compressed or not) is kept as it is. The 304's
    headers pass the same removals as a full response's (a Set-Cookie where no cookie is
    forwarded, Vary values CloudFront drops) before they join the stored copy."""
    kept = origin_response_headers(origin_headers, behavior)
    merged = merge_headers(cached.headers, revalidated_headers(cached.headers, kept))
    decision = decide_ttl(
        cached.status,
        merged,
        behavior.cache_policy,
        now=wall,
        method=req.method,
        error_min_ttl=error_caching_min_ttl(dist, cached.status),
    )
    return cache.refresh(key, decision, headers=merged)


def begin_store(
    cache: HttpCache,
    key: str,
    status: int,
    headers: Headers,
    *,
    req: EdgeRequest,
    behavior: Behavior,
    dist: Distribution,
    wall: datetime,
) -> CacheWriter | None:
    """A writer for the origin's response when CloudFront would cache it, else None."""
    policy = behavior.cache_policy
    decision = decide_ttl(
        status,
        headers,
        policy,
        now=wall,
        method=req.method,
        error_min_ttl=error_caching_min_ttl(dist, status),
    )
    if not decision.cacheable:
        return None
    return cache.begin(
        key,
        status=status,
        headers=headers,
        decision=decision,
        path=invalidation_path(req, policy),
        pop=req.pop,
    )
