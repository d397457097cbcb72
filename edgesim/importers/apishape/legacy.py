"""A behaviour's cache settings: a ``CachePolicyId`` (and ``OriginRequestPolicyId``), or legacy
cache settings (``ForwardedValues`` + ``MinTTL``/``DefaultTTL``/``MaxTTL``) as the cache policy
and origin request policy CloudFront's documented semantics give (``_legacy_policies``).
"""

from __future__ import annotations

from edgesim.distribution import managed
from edgesim.distribution.model import CachePolicy, OriginRequestPolicy, Selection
from edgesim.distribution.policies import ORIGIN_POLICY_ONLY_HEADERS
from edgesim.distribution.tables import header_name_problem
from edgesim.importers.apishape.notes import DIFFERS
from edgesim.importers.apishape.policies import CustomPoliciesMixin, ttls
from edgesim.importers.apishape.shape import Node


class LegacyCacheSettingsMixin(CustomPoliciesMixin):
    """A behaviour's cache policy and origin request policy, legacy settings included."""

    def _cache_settings(
        self, node: Node, path: str, label: str
    ) -> tuple[CachePolicy, OriginRequestPolicy | None]:
        policy_id = node.text("CachePolicyId")
        legacy = node.sub("ForwardedValues")
        if policy_id:
            if legacy is not None:
                node.error("ForwardedValues", "give either CachePolicyId or ForwardedValues")
            for key in ("MinTTL", "DefaultTTL", "MaxTTL"):
                if node.has(key):
                    node.error(key, "belongs to legacy cache settings; the cache policy has TTLs")
            cache = self._policy_ref(
                node, "CachePolicyId", self.policies.cache, managed.find_cache_policy, "cache"
            )
            origin = self._policy_ref(
                node,
                "OriginRequestPolicyId",
                self.policies.origin_request,
                managed.find_origin_request_policy,
                "origin request",
            )
            return cache or managed.MANAGED_CACHE_POLICIES["CachingOptimized"], origin
        if legacy is None:
            node.error(None, "needs a CachePolicyId (or legacy ForwardedValues)")
            return managed.MANAGED_CACHE_POLICIES["CachingOptimized"], None
        if node.text("OriginRequestPolicyId"):
            node.error("OriginRequestPolicyId", "needs a CachePolicyId (not legacy settings)")
        cache_policy, origin_policy = self._legacy_policies(node, legacy, path, label)
        return cache_policy, origin_policy

    def _legacy_policies(
        self, node: Node, legacy: Node, path: str, label: str
    ) -> tuple[CachePolicy, OriginRequestPolicy | None]:
        """Legacy cache settings as the cache policy and origin request policy with the same
        effect, following the Developer Guide ("Values that you specify when you create or update
        a distribution" → Cache based on selected request headers, Forward cookies, Query string
        forwarding and caching, Minimum/Default/Maximum TTL; "Caching content based on cookies";
        "Caching content based on query string parameters"; "Serving compressed files"):

        - headers: None → nothing keyed; Whitelist → those headers are keyed (and so forwarded);
          All (``*``) → "CloudFront doesn't cache the objects that are associated with this
          cache behavior. Instead, CloudFront sends every request to the origin": TTLs 0 and
          every viewer header forwarded (an origin request policy with ``allViewer``);
        - cookies: none / whitelist / all — forwarded and "caches … using the cookie names and
          values", i.e. keyed (with headers All: forwarded only, nothing is cached);
        - query strings: ``QueryString`` false → neither forwarded nor keyed; true without
          ``QueryStringCacheKeys`` → "forward all, cache based on all"; true with keys →
          "forward all, cache based on whitelist" (keys in the cache key, all forwarded);
        - TTLs: the behaviour's ``MinTTL`` (required), ``DefaultTTL`` (86400, or MinTTL if
          larger), ``MaxTTL`` (31536000, or DefaultTTL if larger), as given;
        - compression: with legacy settings ``Compress`` alone turns it on, and CloudFront then
          keys the normalised Accept-Encoding itself: gzip and brotli follow ``Compress``.
        """
        min_ttl, default_ttl, max_ttl = ttls(node, required_min=False)
        headers_all = False
        cache_headers: list[str] = []
        origin_only_headers: list[str] = []
        for name in legacy.texts("Headers"):
            if name == "*":
                headers_all = True
                continue
            problem = header_name_problem(name)
            if problem:
                legacy.error("Headers", problem)
            elif name.lower() in ORIGIN_POLICY_ONLY_HEADERS:
                origin_only_headers.append(name.lower())
            else:
                cache_headers.append(name.lower())
        cookies = self._legacy_cookies(legacy, label)
        query_all = legacy.flag("QueryString", False)
        query_keys = legacy.texts("QueryStringCacheKeys") if query_all else []
        compress = node.flag("Compress", False)
        policy_name = self._unique_name(
            f"legacy:{path}", "cache", managed.MANAGED_CACHE_POLICIES, suffix="behavior"
        )
        self.legacy[policy_name] = label
        self.where[f"cache_policies.{policy_name}"] = self.problems.place(legacy.path)
        if headers_all:
            cache = CachePolicy(name=policy_name, min_ttl=0, default_ttl=0, max_ttl=0)
            origin = OriginRequestPolicy(
                name=self._unique_name(
                    f"legacy:{path}",
                    "origin",
                    managed.MANAGED_ORIGIN_REQUEST_POLICIES,
                    suffix="behavior",
                ),
                headers=Selection("allViewer"),
                cookies=cookies,
                query_strings=Selection("all") if query_all else Selection(),
            )
            self.legacy[origin.name] = label
            self.where[f"origin_request_policies.{origin.name}"] = self.problems.place(legacy.path)
            return cache, origin
        query = Selection()
        if query_all:
            query = (
                Selection("whitelist", frozenset(query_keys)) if query_keys else Selection("all")
            )
        cache = CachePolicy(
            name=policy_name,
            min_ttl=min_ttl,
            default_ttl=default_ttl,
            max_ttl=max_ttl,
            headers=Selection("whitelist", frozenset(cache_headers))
            if cache_headers
            else Selection(),
            cookies=cookies,
            query_strings=query,
            enable_gzip=compress,
            enable_brotli=compress,
        )
        if not origin_only_headers and not query_keys:
            return cache, None
        origin = OriginRequestPolicy(
            name=self._unique_name(
                f"legacy:{path}",
                "origin",
                managed.MANAGED_ORIGIN_REQUEST_POLICIES,
                suffix="behavior",
            ),
            headers=(
                Selection("whitelist", frozenset(origin_only_headers))
                if origin_only_headers
                else Selection()
            ),
            query_strings=Selection("all") if query_keys else Selection(),
        )
        self.legacy[origin.name] = label
        self.where[f"origin_request_policies.{origin.name}"] = self.problems.place(legacy.path)
        return cache, origin

    def _legacy_cookies(self, legacy: Node, label: str) -> Selection:
        cookies = legacy.sub("Cookies")
        if cookies is None:
            legacy.error("Cookies", "is required in ForwardedValues (Forward: none|whitelist|all)")
            return Selection()
        forward = cookies.text("Forward", "none") or "none"
        if forward == "none":
            return Selection()
        if forward == "all":
            return Selection("all")
        if forward != "whitelist":
            cookies.error("Forward", f"{forward!r} is not one of none, whitelist, all")
            return Selection()
        names = cookies.texts("WhitelistedNames")
        if not names:
            cookies.error("WhitelistedNames", "whitelist needs at least one cookie name")
            return Selection()
        if any("*" in n or "?" in n for n in names):
            self.notes.add(
                DIFFERS + "wildcards (* ?) in whitelisted cookie names match only literally",
                label,
            )
        return Selection("whitelist", frozenset(names))
