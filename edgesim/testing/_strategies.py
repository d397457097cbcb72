"""Hypothesis strategies for CloudFront Functions events and KeyValueStore contents.

The public names live in :mod:`edgesim.strategies`; this private module holds them, as
hypothesis keeps ``hypothesis.strategies`` apart from its ``_internal`` modules.

Every generated event is one CloudFront could hand a function: lower-case header names, none of
the headers functions cannot see, a URI that starts with ``/``, URI plus query string under
8,192 characters, no space / control character / ``#`` in the query string. Every generated KVS
key, value and store stays within CloudFront's quotas (:mod:`edgesim.limits`).
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from edgesim import limits
from edgesim.countries import COUNTRY_CODES
from edgesim.kvs.propagation import FixedLag, LagModel, PerPopLag, UniformLag
from edgesim.runtime.result import is_disallowed
from edgesim.testing.events import DEFAULT_HOST, viewer_request, viewer_response
from edgesim.testing.stores import FAULTS

__all__ = [
    "COUNTRY_CODES",
    "KVS_FAULTS",
    "cookies",
    "countries",
    "headers",
    "hosts",
    "ipv4_addresses",
    "ipv6_addresses",
    "kvs_contents",
    "kvs_faults",
    "kvs_json_values",
    "kvs_keys",
    "kvs_values",
    "lag_models",
    "methods",
    "query_strings",
    "response_cookies",
    "response_headers",
    "status_codes",
    "uris",
    "user_agents",
    "viewer_addresses",
    "viewer_requests",
    "viewer_responses",
]

# The six reader faults of edgesim.testing.stores, plus a write still on its way to some POPs.
KVS_FAULTS: tuple[str, ...] = (*FAULTS, "propagating")


METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")

# Headers a viewer request commonly carries. ``host`` and ``cookie`` are left out: the event
# carries them as ``host`` (set by viewer_request) and ``cookies``.
_COMMON_REQUEST_HEADERS = (
    "accept", "accept-encoding", "accept-language", "authorization", "cache-control",
    "content-type", "dnt", "if-modified-since", "if-none-match", "origin", "pragma", "range",
    "referer", "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site", "upgrade-insecure-requests",
    "x-api-key", "x-forwarded-for", "x-requested-with",
)  # fmt: skip
_COMMON_RESPONSE_HEADERS = (
    "age", "cache-control", "content-type", "etag", "expires", "last-modified", "server", "vary",
    "x-content-type-options", "x-frame-options",
)  # fmt: skip
# Names the strategies never generate on their own: CloudFront builds these itself (or moves them
# to ``cookies``), so a viewer-supplied copy would misrepresent the event.
_RESERVED_REQUEST_HEADERS = frozenset({"host", "cookie", "cloudfront-viewer-country"})
_RESERVED_RESPONSE_HEADERS = frozenset({"set-cookie"})

_UNRESERVED = string.ascii_letters + string.digits + "-._~"
_PATH_CHARS = _UNRESERVED + "!$&'()*+,;=:@"
_QUERY_CHARS = _UNRESERVED + "!$'()*+,/:@"
# RFC 6265 cookie-octet: visible ASCII except '"', ',', ';' and '\'.
_COOKIE_CHARS = "".join(c for c in map(chr, range(0x21, 0x7F)) if c not in '",;\\')
_COOKIE_NAME_CHARS = _UNRESERVED + "!#$%&'*+^`|"
_VISIBLE_ASCII = "".join(map(chr, range(0x21, 0x7F)))
_TOKEN_CHARS = string.ascii_lowercase + string.digits


# -- small pieces -----------------------------------------------------------------------------


def methods() -> st.SearchStrategy[str]:
    """HTTP methods a viewer may send (CloudFront forwards all seven)."""
    return st.sampled_from(METHODS)


def _percent_encoded() -> st.SearchStrategy[str]:
    return st.integers(0, 255).map(lambda b: f"%{b:02X}")


def _chunked(chars: str, *, max_size: int) -> st.SearchStrategy[str]:
    """Text from ``chars`` (up to ``max_size`` of them) with, now and then, one percent-encoded
    octet inside. Few draws per string: generation speed matters in every user's test."""
    text = st.text(alphabet=chars, max_size=max_size)
    escape = st.one_of(st.just(""), _percent_encoded())
    return st.tuples(text, escape, text).map("".join)


def uris(*, max_length: int = 256) -> st.SearchStrategy[str]:
    """URI paths as ``request.uri`` holds them: ``/`` then segments, no query string.

    Dot segments (``.``, ``..``) are left out: what CloudFront does with them is not documented.
    """
    if not 1 <= max_length < limits.MAX_URI_AND_QUERY_CHARS:
        raise ValueError(f"max_length must be 1..{limits.MAX_URI_AND_QUERY_CHARS - 1}")
    segment = _chunked(_PATH_CHARS, max_size=10).filter(lambda s: s not in (".", ".."))
    path = st.lists(segment, max_size=5).map(lambda parts: "/" + "/".join(parts))
    return path.map(lambda p: _cut_uri(p, max_length))


def _cut_uri(uri: str, max_length: int) -> str:
    """``uri`` cut to ``max_length`` without leaving half a percent-encoded octet at the end."""
    cut = uri[:max_length]
    tail = cut[-2:]
    if "%" in tail:
        cut = cut[: len(cut) - len(tail) + tail.index("%")]
    head, _, last = cut.rpartition("/")
    if last in (".", ".."):
        cut = head + "/"  # the cut made a dot segment: drop it
    return cut or "/"


def _join_param(pair: tuple[str, str | None]) -> str:
    name, value = pair
    return name if value is None else f"{name}={value}"


def query_strings(*, max_params: int = 5) -> st.SearchStrategy[str]:
    """Raw query strings (without ``?``), often with a repeated name: ``a=1&b=&a=2``.

    A parameter may have no ``=`` or an empty value, as viewers send them.
    """
    name = _chunked(_QUERY_CHARS, max_size=6).filter(bool)
    value = _chunked(_QUERY_CHARS + "=", max_size=8)
    param = st.tuples(name, st.none() | value).map(_join_param)

    @st.composite
    def build(draw: st.DrawFn) -> str:
        params = draw(st.lists(param, max_size=max_params))
        # Repeat an earlier name often enough that multiValue paths are exercised.
        repeat = draw(st.booleans())
        if params and repeat:
            repeated = draw(st.sampled_from(params)).partition("=")[0]
            params.append(f"{repeated}={draw(value)}")
        return "&".join(params)

    return build()


def _token_names() -> st.SearchStrategy[str]:
    word = st.text(alphabet=_TOKEN_CHARS, min_size=1, max_size=10)
    return st.lists(word, min_size=1, max_size=3).map(lambda ws: "x-" + "-".join(ws))


def _header_values() -> st.SearchStrategy[str]:
    # Visible ASCII with inner spaces; no leading/trailing white space (HTTP strips it).
    inner = st.text(alphabet=_VISIBLE_ASCII + " ", max_size=30)
    return st.tuples(st.sampled_from(_VISIBLE_ASCII), inner).map(lambda t: (t[0] + t[1]).rstrip())


def _one_or_more(values: st.SearchStrategy[str]) -> st.SearchStrategy[str | list[str]]:
    """A single value, or (repeated header / cookie) a list of 2-3 values."""
    return st.one_of(values, st.lists(values, min_size=2, max_size=3))


def _header_maps(
    common: tuple[str, ...], reserved: frozenset[str], max_headers: int
) -> st.SearchStrategy[dict[str, str | list[str]]]:
    names = st.one_of(st.sampled_from(common), _token_names()).filter(
        lambda n: n not in reserved and not is_disallowed(n)
    )
    return st.dictionaries(names, _one_or_more(_header_values()), max_size=max_headers)


def headers(*, max_headers: int = 6) -> st.SearchStrategy[dict[str, str | list[str]]]:
    """Viewer-request headers for :func:`viewer_request`: lower-case names a function may see,
    a list value for a repeated header. ``host``, ``cookie`` and CloudFront's own headers are
    not generated (the event has them elsewhere)."""
    return _header_maps(_COMMON_REQUEST_HEADERS, _RESERVED_REQUEST_HEADERS, max_headers)


def response_headers(*, max_headers: int = 6) -> st.SearchStrategy[dict[str, str | list[str]]]:
    """Response headers for :func:`viewer_response` (no ``set-cookie``: that is ``cookies``)."""
    return _header_maps(_COMMON_RESPONSE_HEADERS, _RESERVED_RESPONSE_HEADERS, max_headers)


def _cookie_names() -> st.SearchStrategy[str]:
    common = st.sampled_from(("uid", "session", "sid", "token", "lang", "ab", "_ga"))
    return st.one_of(common, st.text(alphabet=_COOKIE_NAME_CHARS, min_size=1, max_size=12))


def _cookie_values() -> st.SearchStrategy[str]:
    return st.text(alphabet=_COOKIE_CHARS, max_size=30)


def cookies(*, max_cookies: int = 4) -> st.SearchStrategy[dict[str, str | list[str]]]:
    """Request cookies (name → value, a list when the viewer sent the name twice)."""
    return st.dictionaries(_cookie_names(), _one_or_more(_cookie_values()), max_size=max_cookies)


def response_cookies(*, max_cookies: int = 3) -> st.SearchStrategy[dict[str, str]]:
    """``Set-Cookie`` cookies for :func:`viewer_response`: name → ``"value; attributes"``."""
    attribute = st.sampled_from(
        ("Path=/", "Secure", "HttpOnly", "SameSite=Lax", "SameSite=None", "Max-Age=3600")
    )
    attributes = st.lists(attribute, max_size=4, unique=True)
    text = st.tuples(_cookie_values(), attributes).map(lambda t: "; ".join([t[0], *t[1]]))
    return st.dictionaries(_cookie_names(), text, max_size=max_cookies)


def ipv4_addresses() -> st.SearchStrategy[str]:
    """IPv4 addresses as ``viewer.ip`` holds them (dotted quad)."""
    return st.ip_addresses(v=4).map(str)


def ipv6_addresses() -> st.SearchStrategy[str]:
    """IPv6 addresses in compressed text form (``2001:db8::1``)."""
    return st.ip_addresses(v=6).map(str)


def viewer_addresses(ips: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[str]:
    """``cloudfront-viewer-address`` values: ``ip:port``.

    IPv6 is written unbracketed then ``:port`` (``2001:db8::1:443``), as ``serve`` writes it;
    split at the last colon. AWS documents only the IPv4 form.
    """
    ip = ips if ips is not None else st.one_of(ipv4_addresses(), ipv6_addresses())
    return st.tuples(ip, st.integers(1, 65_535)).map(lambda t: f"{t[0]}:{t[1]}")


def countries() -> st.SearchStrategy[str]:
    """ISO 3166-1 alpha-2 country codes (``cloudfront-viewer-country``)."""
    return st.sampled_from(COUNTRY_CODES)


_AGENT_TEMPLATES = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/{v} Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/{v} Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{v}) Gecko/20100101 Firefox/{v}",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 CriOS/{v}",
    "curl/{v}",
    "python-requests/{v}",
    "Mozilla/5.0 (compatible; Googlebot/{v}; +http://www.google.com/bot.html)",
    "Amazon CloudFront",
)


def user_agents() -> st.SearchStrategy[str]:
    """Browser, tool and bot ``user-agent`` strings, and now and then arbitrary visible text."""
    version = st.tuples(st.integers(1, 140), st.integers(0, 9)).map(lambda v: f"{v[0]}.0.{v[1]}")
    known = st.tuples(st.sampled_from(_AGENT_TEMPLATES), version).map(lambda t: t[0].format(v=t[1]))
    return st.one_of(known, _header_values())


_USER_AGENTS = user_agents()


def hosts() -> st.SearchStrategy[str]:
    """Lower-case host names, as the ``host`` header reaches a function."""
    label = st.text(alphabet=_TOKEN_CHARS, min_size=1, max_size=12)
    custom = st.tuples(st.lists(label, min_size=1, max_size=3), st.sampled_from(("com", "net")))
    return st.one_of(st.just(DEFAULT_HOST), custom.map(lambda t: ".".join([*t[0], t[1]])))


def status_codes() -> st.SearchStrategy[int]:
    """Statuses a viewer-response function runs on (it is not invoked for origin 4xx/5xx)."""
    usual = st.sampled_from((200, 201, 204, 206, 301, 302, 303, 304, 307, 308))
    return st.one_of(usual, st.integers(200, 399))


# -- events -----------------------------------------------------------------------------------

_REQUEST_FIELDS = (
    "uri", "method", "headers", "cookies", "querystring", "ip", "country", "host", "request_id",
)  # fmt: skip
_RESPONSE_FIELDS = ("status", "headers", "cookies", "request", "status_description", "ip")


def _fields(fixed: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Each field's strategy or value: the caller's where given, else the default. Built once
    per call, not per example: constructing strategies inside a draw is what makes them slow."""
    return {**defaults, **fixed}


def _take(draw: st.DrawFn, value: Any) -> Any:
    return draw(value) if isinstance(value, st.SearchStrategy) else value


def _check_fields(fixed: Mapping[str, Any], allowed: tuple[str, ...], who: str) -> None:
    unknown = sorted(set(fixed) - set(allowed))
    if unknown:
        raise TypeError(f"{who}(): unknown field {unknown[0]!r}; fixable: {', '.join(allowed)}")


def _query_length(query: str) -> int:
    """An upper bound of what CloudFront's URI + query limit counts for ``query`` (the rule in
    runtime.result counts each name, its value and two separators)."""
    return len(query) + 2 * (query.count("&") + 1)


def _too_long(uri: str, query: str) -> bool:
    path = uri.partition("?")[0]
    return len(path) + _query_length(query) >= limits.MAX_URI_AND_QUERY_CHARS


_BOOLEANS = st.booleans()
_PORTS = st.integers(1, 65_535)


def _request_headers(
    draw: st.DrawFn, ip: str, base: st.SearchStrategy[dict[str, str | list[str]]]
) -> dict[str, str | list[str]]:
    drawn = draw(base)
    if draw(_BOOLEANS):
        drawn["user-agent"] = draw(_USER_AGENTS)
    # CloudFront adds the viewer's address only when a policy asks for it; keep it consistent
    # with viewer.ip when present.
    if draw(_BOOLEANS):
        drawn["cloudfront-viewer-address"] = f"{ip}:{draw(_PORTS)}"
    return drawn


def viewer_requests(**fixed: Any) -> st.SearchStrategy[dict[str, Any]]:
    """Viewer-request events built with :func:`~edgesim.testing.viewer_request`.

    Keyword arguments fix a field of ``viewer_request`` (``uri``, ``method``, ``headers``,
    ``cookies``, ``querystring``, ``ip``, ``country``, ``host``, ``request_id``) to a value, or
    to a strategy to draw it from; e.g. ``viewer_requests(uri="/checkout",
    cookies=st.fixed_dictionaries({"uid": st.uuids().map(str)}))``. A fixed ``headers`` is used
    as given (no user agent or viewer address is added to it).
    """
    _check_fields(fixed, _REQUEST_FIELDS, "viewer_requests")
    fields = _fields(
        fixed,
        {
            "ip": st.one_of(ipv4_addresses(), ipv6_addresses()),
            "uri": uris(),
            "querystring": query_strings(),
            "method": methods(),
            "cookies": cookies(),
            "country": st.none() | countries(),
            "host": hosts(),
            "request_id": None,
        },
    )
    generated_headers = headers()

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        ip = _take(draw, fields["ip"])
        uri = _take(draw, fields["uri"])
        query = _take(draw, fields["querystring"])
        if "?" in uri and "querystring" not in fixed:
            query = None  # the fixed URI carries its own query string
        elif isinstance(query, str) and _too_long(uri, query):
            query = ""  # a long fixed URI leaves no room: stay a valid event
        return viewer_request(
            uri,
            method=_take(draw, fields["method"]),
            headers=(
                _take(draw, fixed["headers"])
                if "headers" in fixed
                else _request_headers(draw, ip, generated_headers)
            ),
            cookies=_take(draw, fields["cookies"]),
            querystring=query,
            ip=ip,
            country=_take(draw, fields["country"]),
            host=_take(draw, fields["host"]),
            request_id=_take(draw, fields["request_id"]),
        )

    return build()


def viewer_responses(**fixed: Any) -> st.SearchStrategy[dict[str, Any]]:
    """Viewer-response events built with :func:`~edgesim.testing.viewer_response`.

    Fixable fields (a value or a strategy): ``status``, ``headers``, ``cookies`` (``Set-Cookie``
    name → ``"value; attributes"``), ``request`` (a viewer-request event; by default one from
    :func:`viewer_requests`), ``status_description``, ``ip``.
    """
    _check_fields(fixed, _RESPONSE_FIELDS, "viewer_responses")
    requests = viewer_requests(ip=fixed["ip"]) if "ip" in fixed else viewer_requests()
    fields = _fields(
        {k: v for k, v in fixed.items() if k != "ip"},
        {
            "status": status_codes(),
            "headers": response_headers(),
            "cookies": response_cookies(),
            "request": requests,
            "status_description": None,
        },
    )

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        return viewer_response(
            _take(draw, fields["status"]),
            headers=_take(draw, fields["headers"]),
            cookies=_take(draw, fields["cookies"]),
            request=_take(draw, fields["request"]),
            status_description=_take(draw, fields["status_description"]),
        )

    return build()


# -- KeyValueStore ----------------------------------------------------------------------------


def _fit_bytes(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes, never inside a character."""
    return text.encode()[:max_bytes].decode("utf-8", "ignore")


def _pad_to(text: str, size: int) -> str:
    """``text`` cut or padded with ASCII to exactly ``size`` UTF-8 bytes."""
    cut = _fit_bytes(text, size)
    return cut + "x" * (size - len(cut.encode()))


def _sized_text(min_bytes: int, max_bytes: int) -> st.SearchStrategy[str]:
    """Text of ``min_bytes`` to ``max_bytes`` UTF-8 bytes; one draw in sixteen sits exactly at
    the limit (shrinking goes away from it, towards 0)."""
    texts = st.text(min_size=min_bytes, max_size=min(max_bytes, 64))
    at_limit = st.integers(0, 15).map(lambda n: n == 15)

    def size(pair: tuple[str, bool]) -> str:
        text, pad = pair
        if pad:
            return _pad_to(text, max_bytes)
        fitted = _fit_bytes(text, max_bytes)
        return fitted if len(fitted.encode()) >= min_bytes else _pad_to(fitted, min_bytes)

    return st.tuples(texts, at_limit).map(size)


def kvs_keys(*, max_bytes: int = limits.KVS_MAX_KEY_BYTES) -> st.SearchStrategy[str]:
    """KVS keys: any non-empty Unicode text up to ``max_bytes`` UTF-8 bytes (CloudFront: 512),
    sometimes exactly at the limit."""
    if not 1 <= max_bytes <= limits.KVS_MAX_KEY_BYTES:
        raise ValueError(f"max_bytes must be 1..{limits.KVS_MAX_KEY_BYTES}")
    return _sized_text(1, max_bytes)


def kvs_json_values(*, max_bytes: int = limits.KVS_MAX_VALUE_BYTES) -> st.SearchStrategy[str]:
    """Valid JSON documents that fit in a KVS value (for ``get(key, {format: 'json'})``)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53), 2**53),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    )
    documents = st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=12,
    )
    texts = documents.map(lambda doc: json.dumps(doc, ensure_ascii=False))
    return texts.filter(lambda s: len(s.encode()) <= max_bytes)


def kvs_values(*, max_bytes: int = limits.KVS_MAX_VALUE_BYTES) -> st.SearchStrategy[str]:
    """KVS values up to ``max_bytes`` UTF-8 bytes (CloudFront: 1 KB): JSON documents, arbitrary
    text, the empty string, and values exactly at the limit."""
    if not 0 <= max_bytes <= limits.KVS_MAX_VALUE_BYTES:
        raise ValueError(f"max_bytes must be 0..{limits.KVS_MAX_VALUE_BYTES}")
    return st.one_of(kvs_json_values(max_bytes=max_bytes), _sized_text(0, max_bytes))


def _within_store_limit(items: dict[str, str], max_bytes: int) -> dict[str, str]:
    """Drop items from the end until the store's keys and values fit in ``max_bytes``."""
    total = 0
    kept: dict[str, str] = {}
    for key, value in items.items():
        size = len(key.encode()) + len(value.encode())
        if total + size <= max_bytes:
            kept[key] = value
            total += size
    return kept


def kvs_contents(
    max_items: int = 20,
    *,
    min_items: int = 0,
    keys: st.SearchStrategy[str] | None = None,
    values: st.SearchStrategy[str] | None = None,
    max_bytes: int = limits.KVS_MAX_STORE_BYTES,
) -> st.SearchStrategy[dict[str, str]]:
    """A store's contents (key → value) that CloudFront would import: valid keys and values,
    at most ``max_bytes`` of keys plus values in all (CloudFront: 5 MB).

    Items that would push the store over ``max_bytes`` are dropped, so with a small
    ``max_bytes`` a store may hold fewer than ``min_items``.
    """
    contents = st.dictionaries(
        keys if keys is not None else kvs_keys(),
        values if values is not None else kvs_values(),
        min_size=min_items,
        max_size=max_items,
    )
    return contents.map(lambda items: _within_store_limit(items, max_bytes))


def kvs_faults(*, propagating: bool = True) -> st.SearchStrategy[str]:
    """A fault name: one of :data:`~edgesim.testing.FAULTS`, or ``"propagating"``: a write that
    has reached some POPs but not others (see :mod:`edgesim.testing.properties`)."""
    return st.sampled_from(KVS_FAULTS if propagating else FAULTS)


def lag_models(pops: tuple[str, ...] = ("IAD", "FRA", "NRT")) -> st.SearchStrategy[LagModel]:
    """Propagation lag models for a :class:`~edgesim.testing.ReplicatedKvs` over ``pops``:
    fixed, uniform with a seed, or a delay pinned per POP (so POPs receive writes in turn)."""
    seconds = st.floats(0, 30, allow_nan=False)
    fixed = seconds.map(FixedLag)
    uniform = st.tuples(seconds, seconds, st.integers(0, 2**32 - 1)).map(
        lambda t: UniformLag(min(t[0], t[1]), max(t[0], t[1]), t[2])
    )
    pinned = st.fixed_dictionaries({pop: seconds for pop in pops}).map(
        lambda per_pop: PerPopLag(per_pop, FixedLag(0.0))
    )
    return st.one_of(fixed, uniform, pinned)
