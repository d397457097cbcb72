"""The response side of the edge: response headers policies and the headers CloudFront adds itself.

Header names here are in wire casing (``X-Cache``, ``Access-Control-Allow-Origin``, a custom header
as configured), and every lookup is case-insensitive, because origin responses arrive with
whatever casing the origin used.

Sources: CloudFront Developer Guide, "Understanding response headers policies" and "Using the
managed response headers policies" (awsdocs/amazon-cloudfront-developer-guide,
doc_source/understanding-response-headers-policies.md, using-managed-response-headers-policies.md;
same text on docs.aws.amazon.com), API reference ``ResponseHeadersPolicyCorsConfig``; the shared
reference notes, part B.7, for the headers CloudFront adds (X-Cache, Via, X-Amz-Cf-Pop, -Id).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import re
import secrets
import zlib
from collections.abc import Iterable

from edgesim.distribution.model import CorsConfig, CustomHeader, ResponseHeadersPolicy
from edgesim.edge.message import EdgeRequest, Headers
from edgesim.edge.viewer import viewer_http_version

X_CACHE_SUFFIX = " from cloudfront"  # lower-case "cloudfront", as in every observed X-Cache
SERVER_HEADER = ("Server", "CloudFront")

# "ALL is a special value that includes all of the listed HTTP methods" (GET, DELETE, HEAD,
# OPTIONS, PATCH, POST, PUT, in the guide's order). Browsers do not understand "ALL", so it is
# expanded on the wire; whether CloudFront writes the list this way is unverified.
ALL_CORS_METHODS = ("GET", "DELETE", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")

# --------------------------------------------------------------------------------------------
# Request ids, POP labels, Via


_ID_BYTES = 40
_IDS_PER_DRAW = 64
_fresh_ids: list[str] = []
# A forked worker must not hand out ids its parent drew.
os.register_at_fork(after_in_child=_fresh_ids.clear)


def new_request_id() -> str:
    """A fresh ``X-Amz-Cf-Id``: 56 characters of base64url ending in ``==`` like CloudFront's.

    40 random bytes encode to 56 characters; 40 = 13 * 3 + 1, so the last group carries one byte
    and two padding characters. The random bytes are drawn for 64 ids at a time (one system
    call instead of one per request).
    """
    if not _fresh_ids:
        raw = secrets.token_bytes(_ID_BYTES * _IDS_PER_DRAW)
        _fresh_ids.extend(
            base64.urlsafe_b64encode(raw[i : i + _ID_BYTES]).decode("ascii")
            for i in range(0, len(raw), _ID_BYTES)
        )
    return _fresh_ids.pop()


_POP_LABEL = re.compile(r"^[A-Z]{3}\d{1,3}-[A-Z]\d{1,2}$")


@functools.lru_cache(maxsize=256)
def pop_label(pop: str) -> str:
    """The ``X-Amz-Cf-Pop`` value for ``pop``: ``"IAD"`` → a stable label such as ``"IAD89-C1"``.

    Real values name one site and tier (``PHX50-C2``, ``IAD66-C1``, ``WAW51-P4``); edgesim derives
    the number and tier from a CRC of the code, so the label is the same in every run and process
    (``hash()`` is salted per process). A configured full label is returned as is.
    """
    text = pop.strip().upper()
    if _POP_LABEL.match(text):
        return text
    code = text[:3]
    digest = zlib.crc32(code.encode("ascii", "replace"))
    return f"{code}{50 + digest % 50}-C{1 + (digest >> 8) % 3}"


def via_host_id(seed: str) -> str:
    """A stable 32-hex-digit host id for ``Via`` (CloudFront's are per edge server)."""
    return hashlib.blake2s(seed.encode("utf-8"), digest_size=16).hexdigest()


@functools.lru_cache(maxsize=64)
def via_value(http_version: str, distribution_host_hash: str) -> str:
    """``Via``: ``<http-version> <32 hex>.cloudfront.net (CloudFront)``, e.g.
    ``1.1 3035b31bddaf14eded329f8d22cf188c.cloudfront.net (CloudFront)``."""
    version = viewer_http_version(http_version)
    return f"{version} {distribution_host_hash}.cloudfront.net (CloudFront)"


def x_cache_value(result: str) -> str:
    """``Hit`` → ``Hit from cloudfront``; a value that already has the suffix is kept."""
    return result if result.endswith(X_CACHE_SUFFIX) else f"{result}{X_CACHE_SUFFIX}"


def cloudfront_response_headers(
    *, x_cache: str, pop: str, request_id: str, http_version: str, via_id: str
) -> Headers:
    """The headers CloudFront appends to every viewer response, in the order they are observed."""
    key = (x_cache, pop, http_version, via_id)
    lines = _OWN_LINES.get(key)
    if lines is None:
        # All but the request id depend on these four values only: made once for each.
        lines = (
            ("X-Cache", x_cache_value(x_cache)),
            ("Via", via_value(http_version, via_id)),
            ("X-Amz-Cf-Pop", pop_label(pop)),
        )
        if len(_OWN_LINES) >= _OWN_LINES_LIMIT:
            _OWN_LINES.clear()
        _OWN_LINES[key] = lines
    return [*lines, ("X-Amz-Cf-Id", request_id)]


_OWN_LINES: dict[tuple[str, str, str, str], tuple[tuple[str, str], ...]] = {}
_OWN_LINES_LIMIT = 1024  # results x POPs x HTTP versions x distributions: a handful in practice


# --------------------------------------------------------------------------------------------
# Header list helpers (case-insensitive)


def _has(headers: Headers, name: str) -> bool:
    lowered = name.lower()
    return any(key.lower() == lowered for key, _ in headers)


def _without(headers: Iterable[tuple[str, str]], names: Iterable[str]) -> Headers:
    dropped = {name.lower() for name in names}
    return [(key, value) for key, value in headers if key.lower() not in dropped]


def _put(headers: Headers, name: str, value: str, *, override: bool) -> Headers:
    """Origin-override semantics of every policy header (guide, "Origin override"):
    absent → added; present and ``override`` → the policy value replaces every copy, in the
    position of the first; present and not ``override`` → the origin's header is kept."""
    if not _has(headers, name):
        return [*headers, (name, value)]
    if not override:
        return headers
    lowered = name.lower()
    out: Headers = []
    placed = False
    for key, old in headers:
        if key.lower() != lowered:
            out.append((key, old))
        elif not placed:
            out.append((name, value))
            placed = True
    return out


# --------------------------------------------------------------------------------------------
# CORS


def is_preflight(request: EdgeRequest) -> bool:
    """A CORS preflight as the Fetch standard defines it: OPTIONS with Origin and
    Access-Control-Request-Method."""
    return (
        request.method.upper() == "OPTIONS"
        and request.header("origin") is not None
        and request.header("access-control-request-method") is not None
    )


def allowed_origin(cors: CorsConfig, origin: str) -> str | None:
    """The ``Access-Control-Allow-Origin`` value for a request from ``origin``, or None.

    ``*`` in the list answers ``*``. Otherwise a matching entry echoes the request's origin. An
    entry may use ``*`` as its leftmost label (``https://*.example.org``), the one wildcard
    position the guide allows; an entry without a scheme is compared with the origin's host.
    """
    if "*" in cors.allow_origins:
        return "*"
    for pattern in cors.allow_origins:
        if _origin_matches(pattern, origin):
            return origin
    return None


def _origin_matches(pattern: str, origin: str) -> bool:
    subject = origin.strip().lower()
    wanted = pattern.strip().lower()
    if "://" not in wanted:
        subject = subject.partition("://")[2] or subject
    if "*" not in wanted:
        return subject == wanted
    regex = re.escape(wanted).replace(r"\*", r"[^/]+")
    return re.fullmatch(regex, subject) is not None


def _allow_methods(cors: CorsConfig) -> str:
    methods: list[str] = []
    for method in cors.allow_methods:
        expanded = ALL_CORS_METHODS if method.upper() == "ALL" else (method.upper(),)
        methods.extend(m for m in expanded if m not in methods)
    return ", ".join(methods)


def cors_headers(cors: CorsConfig, request: EdgeRequest) -> Headers:
    """The CORS headers the policy gives ``request``; [] when it is not an allowed CORS request.

    Per the guide: Allow-Origin, Allow-Credentials (only when true) and Expose-Headers go on
    responses to CORS requests; Allow-Methods, Allow-Headers and Max-Age only on responses to
    preflight requests ("for preflight requests (using the HTTP OPTIONS method), CloudFront adds
    all three ... For simple CORS requests, CloudFront adds only the Access-Control-Allow-Origin
    header" - managed policy CORS-With-Preflight). A request without ``Origin`` is not a CORS
    request. ``Vary: Origin`` is not added: the guide does not say CloudFront adds it.
    """
    origin = request.header("origin")
    if origin is None:
        return []
    allow_origin = allowed_origin(cors, origin)
    if allow_origin is None:
        return []
    out: Headers = [("Access-Control-Allow-Origin", allow_origin)]
    if cors.allow_credentials:
        out.append(("Access-Control-Allow-Credentials", "true"))
    if cors.expose_headers:
        out.append(("Access-Control-Expose-Headers", ", ".join(cors.expose_headers)))
    if request.method.upper() == "OPTIONS":
        out.append(("Access-Control-Allow-Methods", _allow_methods(cors)))
        if cors.allow_headers:
            out.append(("Access-Control-Allow-Headers", ", ".join(cors.allow_headers)))
        if cors.max_age_s is not None:
            out.append(("Access-Control-Max-Age", str(cors.max_age_s)))
    return out


# --------------------------------------------------------------------------------------------
# Applying a policy


def apply_response_headers_policy(
    headers: Headers, policy: ResponseHeadersPolicy | None, *, request: EdgeRequest
) -> Headers:
    """``headers`` (a viewer response's) after ``policy``; a new list, the input is not changed.

    Order, as the guide states it: remove headers first, then add the headers of the other
    sections (CORS, security, custom), each with its own origin-override setting - so a header
    both removed and added ends up with the policy's value. When ``Server`` or ``Date`` is
    removed, CloudFront "adds its own version of these headers": ``Server: CloudFront`` here,
    unless the policy itself set one; the date when the response is sent, on the edge clock,
    by ``edge.delivery`` (which gives every response without ``Date`` one).
    """
    if policy is None:
        return list(headers)
    out = _without(headers, policy.remove_headers)
    if policy.cors is not None:
        for name, value in cors_headers(policy.cors, request):
            out = _put(out, name, value, override=policy.cors.origin_override)
    out = _put_all(out, policy.security_headers)
    out = _put_all(out, policy.custom_headers)
    return _restore_removed_server(out, policy.remove_headers)


def _put_all(headers: Headers, configured: Iterable[CustomHeader]) -> Headers:
    for header in configured:
        headers = _put(headers, header.name, header.value, override=header.override)
    return headers


def _restore_removed_server(headers: Headers, removed: frozenset[str]) -> Headers:
    if any(name.lower() == "server" for name in removed) and not _has(headers, "server"):
        headers = [*headers, SERVER_HEADER]
    return headers
