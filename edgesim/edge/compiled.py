"""Each behaviour's policies compiled once, so that a request pays for lookups, not for policy
evaluation.

The rules are those of :mod:`edgesim.edge.policy_rules` (which stays the readable reference;
tests compare the two over generated requests). What is compiled per behaviour: whether a header
name goes to the origin and under which wire name (memoised per name: the answer depends only on
the name and the policies), whether the viewer's Host goes, whether any CloudFront-* header is
named, and which query/cookie selections reduce to "everything" or "nothing" (then the query
string passes untouched, or cookies are not even parsed).

A compiled form is looked up by the behaviour's identity (hashing a frozen behaviour hashes
every policy in it, on every call). :func:`compile_distribution` compiles a distribution's
behaviours when it is loaded; any other behaviour (made by a test, say) is compiled on first use.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgesim.distribution.model import Behavior, Distribution, Selection
from edgesim.edge.event_codec import wire_name
from edgesim.edge.message import EdgeRequest, Headers, parse_cookie_headers
from edgesim.edge.policy_rules import (
    _header_goes_to_origin,
    _origin_accept_encoding,
    _selects_all,
    compression_caching,
    host_forwarded,
    names_any_cloudfront_header,
    policy_names_header,
)

# A memo never grows past this many header names (a viewer can send any names it likes).
_MEMO_LIMIT = 4096
# What a viewer header becomes on the way to the origin (besides "forwarded under a wire name").
DROPPED = ""
X_FORWARDED_FOR = "\0xff"  # the viewer's values lead CloudFront's X-Forwarded-For
VIA = "\0via"  # … and its Via


@dataclass(frozen=True)
class _Selections:
    """One kind of viewer value (query parameters or cookies) as a set of selections."""

    selections: tuple[Selection, ...]
    everything: bool  # every value is selected
    nothing: bool  # no value is selected

    @classmethod
    def of(cls, *selections: Selection) -> _Selections:
        return cls(
            selections,
            everything=any(_selects_all(s) for s in selections),
            nothing=all(s.behavior == "none" for s in selections),
        )

    def picks(self, name: str) -> bool:
        return self.everything or any(s.picks(name) for s in self.selections)


class CompiledBehavior:
    """A behaviour's cache key and origin request rules, ready for per-request use."""

    def __init__(self, behavior: Behavior) -> None:
        cache_policy, orp = behavior.cache_policy, behavior.origin_request_policy
        self.behavior = behavior
        self.caches = cache_policy.max_ttl > 0  # a zero maximum TTL caches nothing
        self.compression_caching = compression_caching(cache_policy)
        self.host_forwarded = host_forwarded(cache_policy, orp)
        self.names_cloudfront_headers = names_any_cloudfront_header(cache_policy, orp)
        orp_query = (orp.query_strings,) if orp is not None else ()
        orp_cookies = (orp.cookies,) if orp is not None else ()
        self.origin_query = _Selections.of(cache_policy.query_strings, *orp_query)
        self.origin_cookies = _Selections.of(cache_policy.cookies, *orp_cookies)
        self.key_query = _Selections.of(cache_policy.query_strings)
        self.key_cookies = _Selections.of(cache_policy.cookies)
        self._origin_names: dict[str, str] = {}
        self._named: dict[str, bool] = {}

    def names_header(self, name: str) -> bool:
        """Whether a policy names header ``name`` (lower-case): policy_rules.policy_names_header."""
        found = self._named.get(name)
        if found is None:
            behavior = self.behavior
            found = policy_names_header(name, behavior.cache_policy, behavior.origin_request_policy)
            if len(self._named) < _MEMO_LIMIT:
                self._named[name] = found
        return found

    def origin_name(self, name: str) -> str:
        """What viewer header ``name`` (lower-case) becomes for the origin: its wire name when
        it is forwarded, :data:`DROPPED`, or :data:`X_FORWARDED_FOR` / :data:`VIA` (the viewer's
        values, which CloudFront's own value follows)."""
        found = self._origin_names.get(name)
        if found is None:
            found = self._classify(name)
            if len(self._origin_names) < _MEMO_LIMIT:
                self._origin_names[name] = found
        return found

    def _classify(self, name: str) -> str:
        if name == "x-forwarded-for":
            return X_FORWARDED_FOR
        policy = self.behavior.cache_policy
        if not _header_goes_to_origin(name, policy, self.behavior.origin_request_policy):
            return DROPPED
        return VIA if name == "via" else wire_name(name)

    def origin_query_string(self, query: str | None) -> str | None:
        """The part of the query string the origin gets (policy_rules._select_query)."""
        return _select(query, self.origin_query)

    def origin_cookie_pairs(self, req: EdgeRequest) -> list[tuple[str, str]]:
        """The cookies the origin gets, sorted by name (policy_rules._select_cookies)."""
        return _cookies(req.headers, self.origin_cookies)

    def origin_accept_encoding(self, req: EdgeRequest) -> str | None:
        if not self.compression_caching:
            return None
        return _origin_accept_encoding(req, self.behavior.cache_policy)


def _select(query: str | None, selections: _Selections) -> str | None:
    if not query or selections.nothing:
        return None
    if selections.everything:
        return query
    items = [item for item in query.split("&") if item and selections.picks(item.partition("=")[0])]
    return "&".join(items) or None


def _cookies(headers: Headers, selections: _Selections) -> list[tuple[str, str]]:
    if selections.nothing:
        return []
    pairs = parse_cookie_headers(value for name, value in headers if name == "cookie")
    if not selections.everything:
        pairs = [pair for pair in pairs if selections.picks(pair[0])]
    return sorted(pairs, key=lambda pair: pair[0])


# A behaviour's compiled form by identity; the entry keeps the behaviour alive, so an id is
# never reused while it is here. Cleared when it grows past the limit (behaviours come from
# distributions, and a reload compiles the new one's).
_COMPILED: dict[int, CompiledBehavior] = {}
_COMPILED_LIMIT = 1024


def compiled(behavior: Behavior) -> CompiledBehavior:
    """The compiled form of ``behavior`` (compiled now if it was not yet)."""
    found = _COMPILED.get(id(behavior))
    if found is None or found.behavior is not behavior:
        if len(_COMPILED) >= _COMPILED_LIMIT:
            _COMPILED.clear()
        found = _COMPILED[id(behavior)] = CompiledBehavior(behavior)
    return found


def compile_distribution(dist: Distribution) -> None:
    """Compile every behaviour of ``dist`` now, at load time, rather than on a first request."""
    for behavior in (*dist.behaviors, dist.default_behavior):
        compiled(behavior)
