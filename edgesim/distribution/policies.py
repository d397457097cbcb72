"""``[[cache_policies]]`` and ``[[origin_request_policies]]``: TTLs and the header / cookie /
query-string selections (CloudFront's ``CachePolicyConfig`` and ``OriginRequestPolicyConfig``).

``policy_tables`` reads the named policy tables of any kind, refusing names that shadow a
CloudFront managed policy (``managed.py``); ``response_headers.py`` uses it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from edgesim.distribution import managed
from edgesim.distribution.model import (
    CachePolicy,
    OriginRequestPolicy,
    Selection,
    SelectionBehavior,
)
from edgesim.distribution.tables import (
    MISSING,
    Context,
    Table,
    checked_header_names,
    suggest,
    unique,
)

CACHE_POLICY_KEYS = (
    "name",
    "min_ttl",
    "default_ttl",
    "max_ttl",
    "headers",
    "cookies",
    "query_strings",
    "enable_gzip",
    "enable_brotli",
)
ORIGIN_REQUEST_POLICY_KEYS = ("name", "headers", "cookies", "query_strings")
SELECTION_KEYS = ("behavior", "names")

# Selection behaviours per policy type (reference B.3 and B.4).
CACHE_HEADER_BEHAVIORS: tuple[SelectionBehavior, ...] = ("none", "whitelist")
CACHE_NAMED_BEHAVIORS: tuple[SelectionBehavior, ...] = ("none", "whitelist", "allExcept", "all")
ORIGIN_HEADER_BEHAVIORS: tuple[SelectionBehavior, ...] = (
    "none",
    "whitelist",
    "allViewer",
    "allViewerAndWhitelistCloudFront",
    "allExcept",
)
ORIGIN_NAMED_BEHAVIORS: tuple[SelectionBehavior, ...] = ("none", "whitelist", "all", "allExcept")
_NEEDS_NAMES = frozenset({"whitelist", "allExcept", "allViewerAndWhitelistCloudFront"})

# Reference B.4: these CloudFront headers may only be added by an origin request policy.
ORIGIN_POLICY_ONLY_HEADERS = frozenset(
    {
        "cloudfront-viewer-address",
        "cloudfront-viewer-asn",
        "cloudfront-viewer-ja3-fingerprint",
        "cloudfront-viewer-tls",
    }
)


def policy_tables(
    ctx: Context,
    doc: Mapping[str, Any],
    key: str,
    allowed: Sequence[str],
    managed_names: Iterable[str],
) -> list[tuple[str, Table]]:
    """Named policy tables, with unique names that do not shadow a managed policy."""
    named: list[tuple[str, Table]] = []
    seen: dict[str, str] = {}
    managed_list = list(managed_names)
    for t in ctx.entries(doc, key, allowed, required=("name",)):
        name = t.text("name")
        if name is None or not unique(t, "name", name, seen, "policy name"):
            continue
        if managed.is_managed_name(name, managed_list):
            t.error("name", f"{name!r} is the name of a CloudFront managed policy; pick another")
            continue
        named.append((name, t))
    return named


def read_cache_policies(ctx: Context, doc: Mapping[str, Any]) -> dict[str, CachePolicy]:
    entries = policy_tables(
        ctx, doc, "cache_policies", CACHE_POLICY_KEYS, managed.MANAGED_CACHE_POLICIES
    )
    return {name: _cache_policy(t, name) for name, t in entries}


def _cache_policy(t: Table, name: str) -> CachePolicy:
    min_ttl, default_ttl, max_ttl = _ttls(t)
    headers = _selection(t, "headers", CACHE_HEADER_BEHAVIORS, header_names=True)
    for header in sorted(headers.names & ORIGIN_POLICY_ONLY_HEADERS):
        t.error("headers", f"{header!r} can only be added by an origin request policy")
    return CachePolicy(
        name=name,
        min_ttl=min_ttl,
        default_ttl=default_ttl,
        max_ttl=max_ttl,
        headers=headers,
        cookies=_selection(t, "cookies", CACHE_NAMED_BEHAVIORS),
        query_strings=_selection(t, "query_strings", CACHE_NAMED_BEHAVIORS),
        enable_gzip=t.flag("enable_gzip", False),
        enable_brotli=t.flag("enable_brotli", False),
    )


def _ttls(t: Table) -> tuple[int, int, int]:
    """MinTTL, DefaultTTL, MaxTTL with CloudFront's defaulting rules (reference B.3)."""
    min_ttl = t.integer("min_ttl", 0, lo=0)
    # DefaultTTL defaults to 86400, or to MinTTL when MinTTL is larger.
    default_ttl = t.integer("default_ttl", max(86_400, min_ttl), lo=0)
    # MaxTTL defaults to 31536000, or to DefaultTTL when Min/Default exceed it.
    max_ttl = t.integer("max_ttl", max(31_536_000, default_ttl, min_ttl), lo=0)
    if min_ttl > default_ttl:
        t.error("default_ttl", f"{default_ttl} is below min_ttl ({min_ttl})")
    if default_ttl > max_ttl:
        implied = "" if t.has("default_ttl") else ", its default; set default_ttl"
        t.error("max_ttl", f"{max_ttl} is below default_ttl ({default_ttl}{implied})")
    elif min_ttl > max_ttl:
        t.error("max_ttl", f"{max_ttl} is below min_ttl ({min_ttl})")
    return min_ttl, default_ttl, max_ttl


def read_origin_request_policies(
    ctx: Context, doc: Mapping[str, Any]
) -> dict[str, OriginRequestPolicy]:
    entries = policy_tables(
        ctx,
        doc,
        "origin_request_policies",
        ORIGIN_REQUEST_POLICY_KEYS,
        managed.MANAGED_ORIGIN_REQUEST_POLICIES,
    )
    return {name: _origin_request_policy(t, name) for name, t in entries}


def _origin_request_policy(t: Table, name: str) -> OriginRequestPolicy:
    headers = _selection(t, "headers", ORIGIN_HEADER_BEHAVIORS, header_names=True)
    if headers.behavior == "whitelist" and "authorization" in headers.names:
        # Reference B.4: the API refuses it (400); it belongs in the cache policy.
        t.error(
            "headers",
            "'authorization' cannot be in an origin request policy; add it to the cache "
            "policy instead (or use AllViewer)",
        )
    return OriginRequestPolicy(
        name=name,
        headers=headers,
        cookies=_selection(t, "cookies", ORIGIN_NAMED_BEHAVIORS),
        query_strings=_selection(t, "query_strings", ORIGIN_NAMED_BEHAVIORS),
    )


def _selection(
    t: Table, key: str, allowed: Sequence[SelectionBehavior], *, header_names: bool = False
) -> Selection:
    """``"none"``/``"all"``, a list of names (an allow-list), or ``{behavior, names}``."""
    value = t.raw(key)
    if value is MISSING:
        return Selection()
    if isinstance(value, str):
        return _checked_selection(
            _SelectionSpec(t, key, key, key), value, [], allowed, header_names
        )
    if isinstance(value, list):
        names = t.texts(key) or []
        behavior = "whitelist" if names else "none"
        return _checked_selection(
            _SelectionSpec(t, key, key, key), behavior, names, allowed, header_names
        )
    if not isinstance(value, dict):
        t.error(
            key, f'expected "none", "all", an array of names or {{behavior, names}}, got {value!r}'
        )
        return Selection()
    sub = t.sub(key, SELECTION_KEYS, required=("behavior",))
    if sub is None:
        return Selection()
    behavior = sub.text("behavior") or "none"
    names = sub.texts("names") or []
    spec = _SelectionSpec(sub, key, "behavior", "names")
    return _checked_selection(spec, behavior, names, allowed, header_names)


@dataclass(frozen=True)
class _SelectionSpec:
    """Where a selection was written: its table, its name for messages, and its two keys."""

    table: Table
    kind: str  # "headers", "cookies" or "query_strings"
    behavior_key: str
    names_key: str


def _checked_selection(
    spec: _SelectionSpec,
    behavior: str,
    names: list[str],
    allowed: Sequence[SelectionBehavior],
    header_names: bool,
) -> Selection:
    t, kind = spec.table, spec.kind
    if behavior not in allowed:
        hint = suggest(behavior, allowed)
        listing = ", ".join(allowed)
        message = f"{kind} behavior {behavior!r} is not allowed here{hint}; allowed: {listing}"
        t.error(spec.behavior_key, message)
        return Selection()
    if behavior in _NEEDS_NAMES and not names:
        t.error(spec.names_key, f"{kind} behavior {behavior!r} needs a non-empty list of names")
    if behavior not in _NEEDS_NAMES and names:
        t.error(spec.names_key, f"{kind} behavior {behavior!r} takes no names")
    if header_names:
        names = checked_header_names(t, spec.names_key, names)
    if behavior == "allViewerAndWhitelistCloudFront":
        for name in names:
            if not name.startswith("cloudfront-"):
                t.error(spec.names_key, f"{name!r} is not a CloudFront header (CloudFront-…)")
    for found in allowed:
        if found == behavior:
            return Selection(found, frozenset(names))
    return Selection()
