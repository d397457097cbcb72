"""Cache key and origin-request contents, from a behaviour's cache and origin request policies.

Pure functions over :class:`~edgesim.edge.message.EdgeRequest`; the pipeline calls them after the
viewer-request function has run (its changes feed both the key and the origin request).

Sources: CloudFront Developer Guide "Controlling the cache key" (cache key settings, compressed
objects), "Caching content based on cookies", "Caching content based on query string parameters",
"Request and response behavior for custom origins" (header table), and the project reference
``kvs-api-and-distribution.md`` B.3, B.4 and B.6.

Decisions on points the documentation leaves open are marked "unverified".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from edgesim.distribution.model import CachePolicy, OriginRequestPolicy, Selection
from edgesim.edge.message import EdgeRequest, Headers

# Viewer headers that never reach the origin from the viewer, whatever the policies name:
# hop-by-hop headers (RFC 9110 section 7.6.1, plus the legacy Proxy-Connection / Keep-Alive) and the
# CloudFront-internal names edge functions may not see either (reference B.2). Host, Cookie and
# X-Forwarded-For are not in this list because they are handled apart: see ``origin_forward``.
NEVER_FORWARDED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        # WebSocket upgrades are not emulated, so Upgrade is dropped like other hop-by-hop fields.
        "upgrade",
        "x-cache",
        "x-amzn-auth",
        "x-amzn-cf-billing",
        "x-amzn-cf-id",
        "x-amzn-cf-xff",
        "x-amzn-errortype",
        "x-amzn-fle-profile",
        "x-amzn-header-count",
        "x-amzn-header-order",
        "x-amzn-lambda-integration-tag",
        "x-amzn-requestid",
    }
)
NEVER_FORWARDED_PREFIXES = ("x-amz-cf-", "x-edge-", "x-accel-")

# Protocol headers the origin gets even when no policy names them. The documented per-header table
# (written for legacy cache settings) says these are forwarded; which of them still pass under
# policies is unverified (reference B.6). We keep the table's list minus Transfer-Encoding
# (hop-by-hop: the HTTP client frames the body itself) and minus Origin, because the managed
# CORS-* origin request policies exist precisely to forward Origin, which implies it is not
# forwarded by default under policies.
DEFAULT_FORWARDED = frozenset(
    {
        "cache-control",
        "pragma",
        "content-length",
        "content-type",
        "content-md5",
        "if-match",
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
        "if-range",
        "range",
        "request-range",
        "via",
        "date",
        "from",
        "max-forwards",
        "warning",
    }
)

CLOUDFRONT_HEADER_PREFIX = "cloudfront-"

# Selection behaviours that mean "every viewer value" (Selection.picks returns True for any name).
_EVERYTHING = frozenset({"all", "allViewer", "allViewerAndWhitelistCloudFront"})


def compression_caching(policy: CachePolicy) -> bool:
    """Whether the policy normalises Accept-Encoding (EnableAcceptEncodingGzip/Brotli)."""
    return policy.enable_gzip or policy.enable_brotli


def _accepted_codings(value: str) -> set[str]:
    """Content codings the viewer accepts (q > 0), lower-cased."""
    accepted: set[str] = set()
    for item in value.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        coding = coding.lower()
        if not coding:
            continue
        if coding == "x-gzip":
            # RFC 9110 section 8.4.1.3: recipients should treat x-gzip as gzip.
            coding = "gzip"
        if _qvalue(params) > 0:
            accepted.add(coding)
    return accepted


def _qvalue(params: list[str]) -> float:
    for param in params:
        name, _, raw = param.partition("=")
        if name.strip().lower() != "q":
            continue
        try:
            return float(raw.strip())
        except ValueError:
            # A malformed weight is ignored rather than read as a refusal (choice, unverified).
            return 1.0
    return 1.0


def normalise_accept_encoding(value: str | None, policy: CachePolicy) -> str | None:
    """The normalised Accept-Encoding CloudFront keys and forwards, or None.

    Both formats enabled and accepted give ``br,gzip``; otherwise the single acceptable enabled
    format. None when compression caching is off, the viewer sent no Accept-Encoding, or it
    accepts no enabled format (the origin then gets ``identity``, see ``origin_forward``).
    A coding with ``q=0`` counts as refused (RFC 9110 section 12.4.2; CloudFront's handling of
    q-values is unverified), and ``*`` does not count as gzip/br: the guide speaks of the
    ``gzip``/``br`` values themselves (unverified).
    """
    if value is None or not compression_caching(policy):
        return None
    accepted = _accepted_codings(value)
    chosen = [
        coding
        for coding, enabled in (("br", policy.enable_brotli), ("gzip", policy.enable_gzip))
        if enabled and coding in accepted
    ]
    return ",".join(chosen) or None


def _is_cloudfront_header(name: str) -> bool:
    return name.startswith(CLOUDFRONT_HEADER_PREFIX)


def _names_cloudfront_header(name: str, selection: Selection) -> bool:
    # CloudFront-* headers are generated by CloudFront, not sent by the viewer: "all viewer
    # headers" and block lists never include them; only an explicit list does.
    if selection.behavior in ("whitelist", "allViewerAndWhitelistCloudFront"):
        return name in selection.names
    return False


def names_any_cloudfront_header(cache_policy: CachePolicy, orp: OriginRequestPolicy | None) -> bool:
    """Whether either policy lists at least one ``CloudFront-*`` header (else none is added)."""
    selections = [cache_policy.headers] + ([orp.headers] if orp is not None else [])
    return any(
        _is_cloudfront_header(name) and _names_cloudfront_header(name, sel)
        for sel in selections
        for name in sel.names
    )


def policy_names_header(
    name: str, cache_policy: CachePolicy, orp: OriginRequestPolicy | None
) -> bool:
    """Whether the cache policy or the origin request policy includes header ``name``.

    For ``CloudFront-*`` names this is what decides whether the pipeline generates the header at
    all (reference B.6): only an explicit list names them (a whitelist, or the list that comes
    with ``allViewerAndWhitelistCloudFront``); ``allViewer`` and ``allExcept`` do not.
    """
    name = name.lower()
    selections = [cache_policy.headers] + ([orp.headers] if orp is not None else [])
    if _is_cloudfront_header(name):
        return any(_names_cloudfront_header(name, sel) for sel in selections)
    return any(sel.picks(name) for sel in selections)


def host_forwarded(cache_policy: CachePolicy, orp: OriginRequestPolicy | None) -> bool:
    """Whether the viewer's Host goes to the origin; otherwise the origin's own domain is sent.

    ``allViewer`` includes Host, ``allExcept`` listing Host (AllViewerExceptHostHeader) removes
    it, and a cache policy that keys on Host forwards it whatever the ORP says (reference B.4).
    """
    return policy_names_header("host", cache_policy, orp)


# --- query strings and cookies ---------------------------------------------------------------


def _query_params(query: str) -> list[tuple[str, str]]:
    """(name, raw item) for each '&'-separated item; names compared raw and case-sensitively.

    Whether CloudFront compares percent-decoded names is unverified; raw comparison is the
    conservative reading of "CloudFront considers the case of parameter names and values".
    """
    return [(item.partition("=")[0], item) for item in query.split("&") if item]


def _select_query(query: str | None, selections: list[Selection]) -> str | None:
    if not query:
        return None
    if any(_selects_all(sel) for sel in selections):
        # Everything selected: the query string passes unchanged (order matters to CloudFront,
        # see below, so there is nothing to normalise).
        return query
    items = [item for name, item in _query_params(query) if any(s.picks(name) for s in selections)]
    return "&".join(items) or None


def _selects_all(selection: Selection) -> bool:
    return selection.behavior in _EVERYTHING or (
        selection.behavior == "allExcept" and not selection.names
    )


def _select_cookies(req: EdgeRequest, selections: list[Selection]) -> list[tuple[str, str]]:
    picked = [pair for pair in req.cookies() if any(s.picks(pair[0]) for s in selections)]
    # "CloudFront sorts the cookies in natural order by cookie name before forwarding the request
    # to your origin" (Developer Guide, Cookies). A stable sort keeps repeated names in order.
    return sorted(picked, key=lambda pair: pair[0])


# --- cache key -------------------------------------------------------------------------------


def method_class(method: str) -> str:
    """GET and HEAD share cache entries; OPTIONS (when cached) is keyed apart (reference B.3)."""
    method = method.upper()
    return "GET" if method == "HEAD" else method


def keyed_query(req: EdgeRequest, policy: CachePolicy) -> str | None:
    """The part of the query string that is in the cache key, in viewer order.

    CloudFront does not sort query strings: "The order of parameters matters in query strings
    [...] CloudFront [will] cache two separate versions" (Developer Guide, "Caching content based
    on query string parameters", Optimizing caching). So neither do we.
    """
    return _select_query(req.query, [policy.query_strings])


def _keyed_headers(req: EdgeRequest, policy: CachePolicy) -> list[tuple[str, str]]:
    normalised = compression_caching(policy)
    picked = [
        (name, value)
        for name, value in req.headers
        if policy.headers.picks(name)
        and name != "cookie"  # cookies are keyed through the cookie settings only
        and not (normalised and name == "accept-encoding")  # keyed in normalised form instead
    ]
    # Headers are keyed by name, so the order the viewer sent them in does not matter; repeated
    # values of one header keep their order (stable sort).
    return sorted(picked, key=lambda pair: pair[0])


def cache_key(req: EdgeRequest, policy: CachePolicy, *, host: str) -> str:
    """Deterministic cache key: method class, distribution domain, path and the selected values.

    Encoded as compact JSON so that no value can collide with a separator. ``host`` is the
    distribution's domain name (a whitelisted Host header is keyed as a header besides).
    """
    parts: list[object] = [
        method_class(req.method),
        host.lower(),
        req.path,
        keyed_query(req, policy),
        [list(pair) for pair in _keyed_headers(req, policy)],
        [list(pair) for pair in _select_cookies(req, [policy.cookies])],
        normalise_accept_encoding(req.header("accept-encoding"), policy),
    ]
    return json.dumps(parts, ensure_ascii=False, separators=(",", ":"))


def invalidation_path(req: EdgeRequest, policy: CachePolicy) -> str:
    """The path an invalidation pattern is matched against: URI path plus keyed query string.

    The guide says that when query strings are forwarded "you must include the query strings when
    invalidating files" (``/images/image.jpg?parameter1=a``, or ``/images/image.jpg*`` for every
    variant). We use the *keyed* query string, since that is what tells cached variants apart;
    what CloudFront matches when only part of the query is keyed is unverified.
    """
    query = keyed_query(req, policy)
    return req.path if query is None else f"{req.path}?{query}"


# --- origin request --------------------------------------------------------------------------


@dataclass
class OriginForward:
    """Viewer values that go to the origin.

    ``headers`` excludes Host (see ``host_forwarded``), Cookie (``cookies`` is already selected and
    sorted; the pipeline joins it into one ``cookie`` header) and X-Forwarded-For (the pipeline
    appends the viewer IP to the viewer's own value). The pipeline adds Host, X-Forwarded-For,
    X-Amz-Cf-Id, Via (appending to a forwarded viewer Via), User-Agent ``Amazon CloudFront`` when
    none was forwarded, and the origin's custom headers.
    """

    headers: Headers = field(default_factory=list)
    query: str | None = None
    cookies: list[tuple[str, str]] = field(default_factory=list)


def _never_forwarded(name: str) -> bool:
    return name in NEVER_FORWARDED or name.startswith(NEVER_FORWARDED_PREFIXES)


def _header_goes_to_origin(
    name: str, cache_policy: CachePolicy, orp: OriginRequestPolicy | None
) -> bool:
    if _never_forwarded(name) or name in ("host", "cookie", "x-forwarded-for"):
        return False
    if name == "accept-encoding" and compression_caching(cache_policy):
        # Replaced by the normalised value; naming it in an ORP "has no effect" (Developer Guide,
        # "Cache compressed objects").
        return False
    return name in DEFAULT_FORWARDED or policy_names_header(name, cache_policy, orp)


def _origin_accept_encoding(req: EdgeRequest, policy: CachePolicy) -> str | None:
    viewer_value = req.header("accept-encoding")
    if viewer_value is None or not compression_caching(policy):
        return None
    # Viewer accepts no enabled format: the origin is asked for the identity coding.
    return normalise_accept_encoding(viewer_value, policy) or "identity"


def origin_forward(
    req: EdgeRequest, cache_policy: CachePolicy, orp: OriginRequestPolicy | None
) -> OriginForward:
    """What of the viewer request reaches the origin: cache-key values plus ORP values.

    The union means a cache policy's list wins over an ORP block list and vice versa (reference
    B.4). Header order and repetition are kept.
    """
    headers = [
        (name, value)
        for name, value in req.headers
        if _header_goes_to_origin(name, cache_policy, orp)
    ]
    accept_encoding = _origin_accept_encoding(req, cache_policy)
    if accept_encoding is not None:
        headers.append(("accept-encoding", accept_encoding))
    orp_query = [orp.query_strings] if orp is not None else []
    orp_cookies = [orp.cookies] if orp is not None else []
    return OriginForward(
        headers=headers,
        query=_select_query(req.query, [cache_policy.query_strings, *orp_query]),
        cookies=_select_cookies(req, [cache_policy.cookies, *orp_cookies]),
    )
