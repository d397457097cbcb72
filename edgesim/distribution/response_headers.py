"""``[[response_headers_policies]]``: security headers, CORS, custom and removed headers
(CloudFront's ``ResponseHeadersPolicyConfig``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from edgesim.distribution import managed
from edgesim.distribution.model import CorsConfig, CustomHeader, ResponseHeadersPolicy
from edgesim.distribution.policies import policy_tables
from edgesim.distribution.tables import (
    MISSING,
    Context,
    Table,
    checked_header_names,
    header_name_problem,
    no_duplicate_names,
    suggest,
    toml_type,
)

RESPONSE_HEADERS_POLICY_KEYS = (
    "name",
    "security_headers",
    "cors",
    "custom_headers",
    "remove_headers",
)
SECURITY_HEADER_KEYS = (
    "content_security_policy",
    "content_type_options",
    "frame_options",
    "referrer_policy",
    "strict_transport_security",
    "xss_protection",
)
CORS_KEYS = (
    "allow_origins",
    "allow_headers",
    "allow_methods",
    "allow_credentials",
    "expose_headers",
    "max_age_s",
    "origin_override",
)

CORS_METHODS = ("GET", "POST", "OPTIONS", "PUT", "DELETE", "PATCH", "HEAD", "ALL")
FRAME_OPTIONS = ("DENY", "SAMEORIGIN")
REFERRER_POLICIES = (
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
)


def read_response_headers_policies(
    ctx: Context, doc: Mapping[str, Any]
) -> dict[str, ResponseHeadersPolicy]:
    entries = policy_tables(
        ctx,
        doc,
        "response_headers_policies",
        RESPONSE_HEADERS_POLICY_KEYS,
        managed.MANAGED_RESPONSE_HEADERS_POLICIES,
    )
    return {name: _response_headers_policy(t, name) for name, t in entries}


def _response_headers_policy(t: Table, name: str) -> ResponseHeadersPolicy:
    remove = [
        n.lower()
        for n in checked_header_names(t, "remove_headers", t.texts("remove_headers") or [])
    ]
    cors = t.sub("cors", CORS_KEYS)
    return ResponseHeadersPolicy(
        name=name,
        security_headers=_security_headers(t),
        custom_headers=_response_custom_headers(t),
        remove_headers=frozenset(remove),
        cors=None if cors is None else _cors(cors),
    )


def _response_custom_headers(t: Table) -> tuple[CustomHeader, ...]:
    """``{Name = "value"}`` or ``{Name = {value = "…", override = false}}``."""
    data = t.table("custom_headers")
    if data is None:
        return ()
    headers: list[CustomHeader] = []
    for name, value in data.items():
        where = t.at(f"custom_headers.{name}")
        problem = header_name_problem(name)
        if problem:
            t.problems.add(where, problem)
            continue
        header = _valued_header(t, where, name, value)
        if header is not None:
            headers.append(header)
    no_duplicate_names(t, "custom_headers", [h.name for h in headers])
    return tuple(headers)


def _valued_header(t: Table, where: str, name: str, value: object) -> CustomHeader | None:
    if isinstance(value, str):
        return CustomHeader(name, value)
    if not isinstance(value, dict):
        t.problems.add(where, f"expected a string or {{value, override}}, got {toml_type(value)}")
        return None
    sub = Table(t.problems, where, value, ("value", "override"), required=("value",))
    text = sub.text("value")
    return None if text is None else CustomHeader(name, text, sub.flag("override", True))


def _security_headers(t: Table) -> tuple[CustomHeader, ...]:
    sec = t.sub("security_headers", SECURITY_HEADER_KEYS)
    if sec is None:
        return ()
    found = [
        _simple_security(sec, "content_security_policy", "Content-Security-Policy", None),
        _content_type_options(sec),
        _simple_security(sec, "frame_options", "X-Frame-Options", FRAME_OPTIONS),
        _simple_security(sec, "referrer_policy", "Referrer-Policy", REFERRER_POLICIES),
        _hsts(sec),
        _xss_protection(sec),
    ]
    return tuple(h for h in found if h is not None)


def _value_and_override(
    sec: Table, key: str, allowed: Sequence[str] | None
) -> tuple[str, bool] | None:
    """A security header given as ``"value"`` or ``{value = "…", override = true}``."""
    raw = sec.raw(key)
    if raw is MISSING:
        return None
    if isinstance(raw, dict):
        sub = Table(sec.problems, sec.at(key), raw, ("value", "override"), required=("value",))
        value, override, where = sub.text("value"), sub.flag("override", True), sub
    else:
        value, override, where = sec.text(key), True, sec
    if value is None:
        return None
    if allowed is not None and value not in allowed:
        field_key = "value" if where is not sec else key
        where.error(
            field_key, f"{value!r} is not one of {', '.join(allowed)}{suggest(value, allowed)}"
        )
        return None
    return value, override


def _simple_security(
    sec: Table, key: str, header: str, allowed: Sequence[str] | None
) -> CustomHeader | None:
    found = _value_and_override(sec, key, allowed)
    return None if found is None else CustomHeader(header, found[0], found[1])


def _content_type_options(sec: Table) -> CustomHeader | None:
    # X-Content-Type-Options has one value, nosniff: true / false, or {override = …}.
    raw = sec.raw("content_type_options")
    if raw is MISSING:
        return None
    if isinstance(raw, dict):
        sub = Table(sec.problems, sec.at("content_type_options"), raw, ("override",))
        return CustomHeader("X-Content-Type-Options", "nosniff", sub.flag("override", True))
    enabled = sec.flag("content_type_options", False)
    return CustomHeader("X-Content-Type-Options", "nosniff") if enabled else None


def _hsts(sec: Table) -> CustomHeader | None:
    """Strict-Transport-Security from ``{max_age_s, include_subdomains, preload, override}``."""
    keys = ("max_age_s", "include_subdomains", "preload", "override")
    sub = sec.sub("strict_transport_security", keys, required=("max_age_s",))
    if sub is None:
        return None
    value = f"max-age={sub.integer('max_age_s', 0, lo=0)}"
    if sub.flag("include_subdomains", False):
        value += "; includeSubDomains"
    if sub.flag("preload", False):
        value += "; preload"
    return CustomHeader("Strict-Transport-Security", value, sub.flag("override", True))


def _xss_protection(sec: Table) -> CustomHeader | None:
    """X-XSS-Protection from ``{protection, mode_block, report_uri, override}``."""
    keys = ("protection", "mode_block", "report_uri", "override")
    sub = sec.sub("xss_protection", keys, required=("protection",))
    if sub is None:
        return None
    mode_block, report = sub.flag("mode_block", False), sub.text("report_uri")
    if not sub.flag("protection", True):
        if mode_block or report:
            sub.error("protection", "mode_block and report_uri need protection = true")
        return CustomHeader("X-XSS-Protection", "0", sub.flag("override", True))
    if mode_block and report:
        sub.error("report_uri", "cannot be combined with mode_block (CloudFront allows one)")
    value = "1" + ("; mode=block" if mode_block else "") + (f"; report={report}" if report else "")
    return CustomHeader("X-XSS-Protection", value, sub.flag("override", True))


def _cors(t: Table) -> CorsConfig:
    defaults = CorsConfig()
    methods = [m.upper() for m in _non_empty_list(t, "allow_methods", defaults.allow_methods)]
    for method in methods:
        if method not in CORS_METHODS:
            t.error("allow_methods", f"{method!r} is not one of {', '.join(CORS_METHODS)}")
    if "ALL" in methods and len(methods) > 1:
        t.error("allow_methods", "'ALL' cannot be combined with other methods")
    max_age = t.integer("max_age_s", -1, lo=0)
    return CorsConfig(
        allow_origins=tuple(_non_empty_list(t, "allow_origins", defaults.allow_origins)),
        allow_headers=tuple(_list_or(t, "allow_headers", defaults.allow_headers)),
        allow_methods=tuple(methods),
        allow_credentials=t.flag("allow_credentials", defaults.allow_credentials),
        expose_headers=tuple(_list_or(t, "expose_headers", defaults.expose_headers)),
        max_age_s=None if max_age < 0 else max_age,
        origin_override=t.flag("origin_override", defaults.origin_override),
    )


def _list_or(t: Table, key: str, default: Sequence[str]) -> list[str]:
    items = t.texts(key)
    return list(default) if items is None else items


def _non_empty_list(t: Table, key: str, default: Sequence[str]) -> list[str]:
    items = t.texts(key)
    if items is None:
        return list(default)
    if not items:
        t.error(key, "must list at least one value")
        return list(default)
    return items
