"""``[[behaviors]]`` and ``[default_behavior]``: path patterns, target origins, edge function
associations (CloudFront Functions and Lambda@Edge: ``associations.py``), policy references
(custom or managed), allowed and cached methods."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from edgesim.distribution import managed
from edgesim.distribution.associations import ASSOCIATION_KEYS, read_associations
from edgesim.distribution.lambdas import DeclaredLambdas
from edgesim.distribution.model import (
    ALL_METHODS,
    GET_HEAD,
    GET_HEAD_OPTIONS,
    Behavior,
    CachePolicy,
    FunctionDecl,
    KeyGroupDecl,
    OriginRequestPolicy,
    ResponseHeadersPolicy,
    ViewerProtocolPolicy,
)
from edgesim.distribution.patterns import validate_pattern
from edgesim.distribution.tables import Context, Table, section, suggest
from edgesim.distribution.trusted_keys import check_trusted_groups
from edgesim.errors import InputError

BEHAVIOR_KEYS = (
    "path",
    "origin",
    *ASSOCIATION_KEYS,
    "cache_policy",
    "origin_request_policy",
    "response_headers_policy",
    "allowed_methods",
    "cached_methods",
    "viewer_protocol_policy",
    "compress",
    "trusted_key_groups",
)
DEFAULT_BEHAVIOR_KEYS = tuple(k for k in BEHAVIOR_KEYS if k != "path")

# CloudFront quota (Developer Guide "Quotas"; reference B.1).
MAX_BEHAVIORS = 75

METHOD_SETS = (GET_HEAD, GET_HEAD_OPTIONS, ALL_METHODS)
CACHED_METHOD_SETS = (GET_HEAD, GET_HEAD_OPTIONS)
VIEWER_PROTOCOL_POLICIES: tuple[ViewerProtocolPolicy, ...] = (
    "allow-all",
    "redirect-to-https",
    "https-only",
)

_T = TypeVar("_T")


@dataclass
class Refs:
    """What behaviours may refer to, gathered before the behaviours are read."""

    targets: list[str]
    functions: Mapping[str, FunctionDecl]
    cache_policies: Mapping[str, CachePolicy] = field(default_factory=dict)
    origin_request_policies: Mapping[str, OriginRequestPolicy] = field(default_factory=dict)
    response_headers_policies: Mapping[str, ResponseHeadersPolicy] = field(default_factory=dict)
    key_groups: Mapping[str, KeyGroupDecl] = field(default_factory=dict)
    # [[lambdas]]; the behaviours record where each is used (read_associations).
    lambdas: DeclaredLambdas = field(default_factory=DeclaredLambdas)


def read_behaviors(ctx: Context, doc: Mapping[str, Any], refs: Refs) -> tuple[Behavior, ...]:
    tables = ctx.entries(doc, "behaviors", BEHAVIOR_KEYS, required=("path", "origin"))
    if len(tables) > MAX_BEHAVIORS:
        ctx.problems.add(
            "behaviors", f"{len(tables)} cache behaviours; CloudFront allows {MAX_BEHAVIORS}"
        )
    seen: dict[str, str] = {}
    behaviors = []
    for t in tables:
        path = _behavior_path(t, seen)
        behaviors.append(_behavior(t, path, refs))
    return tuple(behaviors)


def _behavior_path(t: Table, seen: dict[str, str]) -> str:
    path = t.text("path")
    if path is None:
        return "*"
    try:
        validate_pattern(path)
    except InputError as exc:
        t.error("path", str(exc))
        return path
    # "/a*" and "a*" are the same pattern; the later of two could never be selected.
    key = path[1:] if path.startswith("/") else path
    if key in seen:
        t.error("path", f"pattern {path!r} repeats {seen[key]}; the later one could never match")
    seen.setdefault(key, t.where)
    return path


def read_default_behavior(ctx: Context, doc: Mapping[str, Any], refs: Refs) -> Behavior:
    if "default_behavior" not in doc:
        ctx.problems.add("default_behavior", "a [default_behavior] table is required")
        return Behavior(
            path="*", origin="", cache_policy=managed.MANAGED_CACHE_POLICIES["CachingOptimized"]
        )
    data = section(ctx.problems, doc, "default_behavior")
    if "path" in data:
        ctx.problems.add(
            "default_behavior.path", "the default behaviour always has the pattern '*'; remove it"
        )
        data = {k: v for k, v in data.items() if k != "path"}
    t = ctx.table("default_behavior", data, DEFAULT_BEHAVIOR_KEYS, required=("origin",))
    return _behavior(t, "*", refs)


def _behavior(t: Table, path: str, refs: Refs) -> Behavior:
    associations = read_associations(t, refs.functions, refs.lambdas)
    allowed = _allowed_methods(t)
    return Behavior(
        path=path,
        origin=_target(t, refs.targets),
        cache_policy=_policy_ref(
            t,
            "cache_policy",
            refs.cache_policies,
            managed.find_cache_policy,
            managed.MANAGED_CACHE_POLICIES,
        )
        or managed.MANAGED_CACHE_POLICIES["CachingOptimized"],
        origin_request_policy=_policy_ref(
            t,
            "origin_request_policy",
            refs.origin_request_policies,
            managed.find_origin_request_policy,
            managed.MANAGED_ORIGIN_REQUEST_POLICIES,
        ),
        response_headers_policy=_policy_ref(
            t,
            "response_headers_policy",
            refs.response_headers_policies,
            managed.find_response_headers_policy,
            managed.MANAGED_RESPONSE_HEADERS_POLICIES,
        ),
        viewer_request=associations.viewer_request,
        viewer_response=associations.viewer_response,
        lambdas=associations.lambdas,
        allowed_methods=allowed,
        cached_methods=_cached_methods(t, allowed),
        viewer_protocol_policy=_viewer_protocol_policy(t),
        compress=t.flag("compress", True),
        trusted_key_groups=_trusted_key_groups(t, refs),
    )


def _trusted_key_groups(t: Table, refs: Refs) -> tuple[str, ...]:
    """``trusted_key_groups``: the behaviour then requires signed URLs or signed cookies
    (CacheBehavior.TrustedKeyGroups; docs/private-content.md). Empty: not restricted."""
    names = t.texts("trusted_key_groups")
    if not names:
        return ()
    check_trusted_groups(t, names, refs.key_groups)
    return tuple(dict.fromkeys(names))


def _target(t: Table, targets: Sequence[str]) -> str:
    name = t.text("origin")
    if name is None:
        return ""
    if name not in targets:
        t.error("origin", f"unknown origin or origin group {name!r}{suggest(name, targets)}")
    return name


def _policy_ref(
    t: Table,
    key: str,
    custom: Mapping[str, _T],
    find_managed: Callable[[str], _T | None],
    managed_names: Iterable[str],
) -> _T | None:
    """A policy named by a custom policy's name, or a managed one's name, API name or ID."""
    name = t.text(key)
    if name is None:
        return None
    if name in custom:
        return custom[name]
    found = find_managed(name)
    if found is None:
        kind = key.replace("_", " ")
        hint = suggest(name, [*custom, *managed_names])
        t.error(key, f"unknown {kind} {name!r}{hint}")
    return found


def _methods(t: Table, key: str) -> frozenset[str] | None:
    items = t.texts(key)
    return None if items is None else frozenset(m.upper() for m in items)


def _allowed_methods(t: Table) -> frozenset[str]:
    methods = _methods(t, "allowed_methods")
    if methods is None:
        return GET_HEAD
    if methods not in METHOD_SETS:
        choices = "; ".join(f"[{v}]" for v in ("GET, HEAD", "GET, HEAD, OPTIONS"))
        t.error(
            "allowed_methods",
            f"CloudFront allows only {choices} or all seven "
            "[GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]",
        )
        return GET_HEAD
    return methods


def _cached_methods(t: Table, allowed: frozenset[str]) -> frozenset[str]:
    methods = _methods(t, "cached_methods")
    if methods is None:
        return GET_HEAD
    if methods not in CACHED_METHOD_SETS:
        t.error("cached_methods", "CloudFront allows only [GET, HEAD] or [GET, HEAD, OPTIONS]")
        return GET_HEAD
    if not methods <= allowed:
        t.error("cached_methods", "OPTIONS can be cached only when allowed_methods includes it")
        return GET_HEAD
    return methods


def _viewer_protocol_policy(t: Table) -> ViewerProtocolPolicy:
    value = t.text("viewer_protocol_policy", "allow-all")
    for policy in VIEWER_PROTOCOL_POLICIES:
        if policy == value:
            return policy
    allowed = VIEWER_PROTOCOL_POLICIES
    t.error(
        "viewer_protocol_policy",
        f"{value!r} is not one of {', '.join(allowed)}{suggest(str(value), allowed)}",
    )
    return "allow-all"
