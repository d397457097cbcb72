"""Custom policies of the bundle (cache, origin request, response headers) → the model's
policies, each named by its ``Name`` made unique among its kind and never a managed policy's name;
and a behaviour's reference to a policy (a custom policy's id or a managed policy's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from edgesim.distribution import managed
from edgesim.distribution.model import (
    CachePolicy,
    CorsConfig,
    CustomHeader,
    OriginRequestPolicy,
    ResponseHeadersPolicy,
    Selection,
    SelectionBehavior,
)
from edgesim.distribution.policies import (
    CACHE_HEADER_BEHAVIORS,
    CACHE_NAMED_BEHAVIORS,
    ORIGIN_HEADER_BEHAVIORS,
    ORIGIN_NAMED_BEHAVIORS,
    ORIGIN_POLICY_ONLY_HEADERS,
)
from edgesim.distribution.response_headers import CORS_METHODS, FRAME_OPTIONS, REFERRER_POLICIES
from edgesim.distribution.tables import header_name_problem
from edgesim.importers.apishape.notes import DIFFERS
from edgesim.importers.apishape.shape import Node
from edgesim.importers.apishape.state import ConverterState

_T = TypeVar("_T")


class CustomPoliciesMixin(ConverterState):
    """Custom policies and references to policies."""

    def _custom_policies(self) -> None:
        for policy_id, cfg in self.bundle.cache_policies.items():
            node = Node(self.problems, f"cache_policies.{policy_id}", cfg)
            name = self._policy_name(node, policy_id, "cache", managed.MANAGED_CACHE_POLICIES)
            self.policies.cache[policy_id] = self._cache_policy(node, name)
            self.where[f"cache_policies.{name}"] = self.problems.place(node.path)
        for policy_id, cfg in self.bundle.origin_request_policies.items():
            node = Node(self.problems, f"origin_request_policies.{policy_id}", cfg)
            name = self._policy_name(
                node, policy_id, "origin", managed.MANAGED_ORIGIN_REQUEST_POLICIES
            )
            self.policies.origin_request[policy_id] = self._origin_request_policy(node, name)
            self.where[f"origin_request_policies.{name}"] = self.problems.place(node.path)
        for policy_id, cfg in self.bundle.response_headers_policies.items():
            node = Node(self.problems, f"response_headers_policies.{policy_id}", cfg)
            name = self._policy_name(
                node, policy_id, "rhp", managed.MANAGED_RESPONSE_HEADERS_POLICIES
            )
            self.policies.response_headers[policy_id] = self._response_headers_policy(node, name)
            self.where[f"response_headers_policies.{name}"] = self.problems.place(node.path)

    def _policy_name(
        self, node: Node, policy_id: str, kind: str, managed_names: Iterable[str]
    ) -> str:
        """The policy's ``Name``, made unique among its kind and never a managed policy's name
        (edgesim.toml refers to policies by name); else the name with the id's start added."""
        name = (node.text("Name") or "").strip() or policy_id
        return self._unique_name(name, kind, managed_names, suffix=policy_id[:8] or "custom")

    def _unique_name(
        self, name: str, kind: str, managed_names: Iterable[str], *, suffix: str
    ) -> str:
        taken = self.policy_names[kind]
        managed_list = list(managed_names)
        candidate = name
        counter = 1
        while candidate in taken or managed.is_managed_name(candidate, managed_list):
            candidate = f"{name}-{suffix}" if counter == 1 else f"{name}-{suffix}-{counter}"
            counter += 1
        taken.add(candidate)
        return candidate

    def _cache_policy(self, node: Node, name: str) -> CachePolicy:
        min_ttl, default_ttl, max_ttl = ttls(node)
        params = node.sub("ParametersInCacheKeyAndForwardedToOrigin")
        if params is None:
            node.error("ParametersInCacheKeyAndForwardedToOrigin", "is required")
            params = Node(self.problems, node.at("ParametersInCacheKeyAndForwardedToOrigin"), {})
        headers = self._selection(
            params, "HeadersConfig", "HeaderBehavior", "Headers", CACHE_HEADER_BEHAVIORS, True
        )
        for header in sorted(headers.names & ORIGIN_POLICY_ONLY_HEADERS):
            params.error(
                "HeadersConfig", f"{header!r} can only be added by an origin request policy"
            )
        return CachePolicy(
            name=name,
            min_ttl=min_ttl,
            default_ttl=default_ttl,
            max_ttl=max_ttl,
            headers=headers,
            cookies=self._selection(
                params, "CookiesConfig", "CookieBehavior", "Cookies", CACHE_NAMED_BEHAVIORS
            ),
            query_strings=self._selection(
                params,
                "QueryStringsConfig",
                "QueryStringBehavior",
                "QueryStrings",
                CACHE_NAMED_BEHAVIORS,
            ),
            enable_gzip=params.flag("EnableAcceptEncodingGzip", False),
            enable_brotli=params.flag("EnableAcceptEncodingBrotli", False),
        )

    def _origin_request_policy(self, node: Node, name: str) -> OriginRequestPolicy:
        headers = self._selection(
            node, "HeadersConfig", "HeaderBehavior", "Headers", ORIGIN_HEADER_BEHAVIORS, True
        )
        if headers.behavior == "whitelist" and "authorization" in headers.names:
            node.error(
                "HeadersConfig",
                "'authorization' cannot be in an origin request policy (the API refuses it); "
                "it belongs in the cache policy",
            )
        if headers.behavior == "allViewerAndWhitelistCloudFront":
            for header in sorted(headers.names):
                if not header.startswith("cloudfront-"):
                    node.error("HeadersConfig", f"{header!r} is not a CloudFront header")
        return OriginRequestPolicy(
            name=name,
            headers=headers,
            cookies=self._selection(
                node, "CookiesConfig", "CookieBehavior", "Cookies", ORIGIN_NAMED_BEHAVIORS
            ),
            query_strings=self._selection(
                node,
                "QueryStringsConfig",
                "QueryStringBehavior",
                "QueryStrings",
                ORIGIN_NAMED_BEHAVIORS,
            ),
        )

    def _selection(
        self,
        parent: Node,
        key: str,
        behavior_key: str,
        names_key: str,
        allowed: Sequence[SelectionBehavior],
        header_names: bool = False,
    ) -> Selection:
        node = parent.sub(key)
        if node is None:
            parent.error(key, "is required")
            return Selection()
        behavior = node.text(behavior_key, "none") or "none"
        names = node.texts(names_key)
        found = next((b for b in allowed if b == behavior), None)
        if found is None:
            node.error(behavior_key, f"{behavior!r} is not one of {', '.join(allowed)}")
            return Selection()
        needs_names = found in ("whitelist", "allExcept", "allViewerAndWhitelistCloudFront")
        if needs_names and not names:
            node.error(names_key, f"{behavior} needs at least one name")
            return Selection()
        if not needs_names:
            names = []  # the API ignores a list the behaviour does not use
        if header_names:
            checked = []
            for name in names:
                problem = header_name_problem(name)
                if problem:
                    node.error(names_key, problem)
                else:
                    checked.append(name.lower())
            names = checked
        return Selection(found, frozenset(names))

    def _response_headers_policy(self, node: Node, name: str) -> ResponseHeadersPolicy:
        timing = node.sub("ServerTimingHeadersConfig")
        if timing is not None and timing.flag("Enabled", False):
            self.notes.add(
                DIFFERS + "the Server-Timing header of a response headers policy is not added",
                f"policy {name}",
            )
        cors = node.sub("CorsConfig")
        return ResponseHeadersPolicy(
            name=name,
            security_headers=self._security_headers(node),
            custom_headers=self._response_custom_headers(node),
            remove_headers=frozenset(self._remove_headers(node)),
            cors=None if cors is None else self._cors(cors),
        )

    def _security_headers(self, node: Node) -> tuple[CustomHeader, ...]:
        sec = node.sub("SecurityHeadersConfig")
        if sec is None:
            return ()
        found: list[CustomHeader] = []
        # The order edgesim.toml's reader builds them in (response_headers._security_headers).
        csp = sec.sub("ContentSecurityPolicy")
        if csp is not None:
            value = csp.text("ContentSecurityPolicy")
            if value is None or not value.strip():
                csp.error("ContentSecurityPolicy", "is required (not empty)")
            else:
                found.append(_security("Content-Security-Policy", value, csp))
        cto = sec.sub("ContentTypeOptions")
        if cto is not None:
            found.append(_security("X-Content-Type-Options", "nosniff", cto))
        frame = sec.sub("FrameOptions")
        if frame is not None:
            value = frame.text("FrameOption")
            if value not in FRAME_OPTIONS:
                frame.error("FrameOption", f"{value!r} is not one of {', '.join(FRAME_OPTIONS)}")
            else:
                found.append(_security("X-Frame-Options", value, frame))
        referrer = sec.sub("ReferrerPolicy")
        if referrer is not None:
            value = referrer.text("ReferrerPolicy")
            if value not in REFERRER_POLICIES:
                referrer.error("ReferrerPolicy", f"{value!r} is not a referrer policy")
            else:
                found.append(_security("Referrer-Policy", value, referrer))
        hsts = sec.sub("StrictTransportSecurity")
        if hsts is not None:
            value = f"max-age={hsts.integer('AccessControlMaxAgeSec', 0, lo=0)}"
            if hsts.flag("IncludeSubdomains", False):
                value += "; includeSubDomains"
            if hsts.flag("Preload", False):
                value += "; preload"
            found.append(_security("Strict-Transport-Security", value, hsts))
        xss = sec.sub("XSSProtection")
        if xss is not None:
            found.append(_security("X-XSS-Protection", _xss_value(xss), xss))
        return tuple(found)

    def _response_custom_headers(self, node: Node) -> tuple[CustomHeader, ...]:
        config = node.sub("CustomHeadersConfig")
        if config is None:
            return ()
        headers: list[CustomHeader] = []
        seen: set[str] = set()
        for item in config.nodes("Items"):
            name, value = item.text("Header"), item.text("Value")
            if name is None or value is None:
                item.error(None, "needs Header and Value")
                continue
            if not value.strip():
                item.error("Value", "must not be empty")
                continue
            problem = header_name_problem(name)
            if problem is None and name.lower() in seen:
                problem = f"header {name!r} is listed twice (header names ignore case)"
            if problem:
                item.error("Header", problem)
                continue
            seen.add(name.lower())
            headers.append(CustomHeader(name, value, item.flag("Override", True)))
        return tuple(headers)

    def _remove_headers(self, node: Node) -> list[str]:
        config = node.sub("RemoveHeadersConfig")
        if config is None:
            return []
        names = []
        for item in config.nodes("Items"):
            name = item.text("Header")
            problem = "is required" if name is None else header_name_problem(name)
            if problem or name is None:
                item.error("Header", problem or "is required")
            else:
                names.append(name.lower())
        return names

    def _cors(self, cors: Node) -> CorsConfig:
        origins = _listing(cors, "AccessControlAllowOrigins")
        if not origins:
            cors.error("AccessControlAllowOrigins", "must list at least one origin")
            origins = ["*"]
        methods = [m.upper() for m in _listing(cors, "AccessControlAllowMethods")]
        for method in methods:
            if method not in CORS_METHODS:
                cors.error("AccessControlAllowMethods", f"{method!r} is not one of {CORS_METHODS}")
        if not methods:
            cors.error("AccessControlAllowMethods", "must list at least one method")
            methods = ["ALL"]
        max_age = (
            cors.integer("AccessControlMaxAgeSec", -1, lo=0)
            if cors.has("AccessControlMaxAgeSec")
            else -1
        )
        return CorsConfig(
            allow_origins=tuple(origins),
            allow_headers=tuple(_listing(cors, "AccessControlAllowHeaders")),
            allow_methods=tuple(methods),
            allow_credentials=cors.flag("AccessControlAllowCredentials", False),
            expose_headers=tuple(_listing(cors, "AccessControlExposeHeaders")),
            max_age_s=None if max_age < 0 else max_age,
            origin_override=cors.flag("OriginOverride", False),
        )

    def _policy_ref(
        self,
        node: Node,
        key: str,
        custom: Mapping[str, _T],
        find_managed: Callable[[str], _T | None],
        kind: str,
    ) -> _T | None:
        policy_id = node.text(key)
        if not policy_id:
            return None
        if policy_id in custom:
            return custom[policy_id]
        found = find_managed(policy_id)
        if found is None:
            node.error(
                key,
                f"{policy_id!r} is neither a managed {kind} policy nor a custom one in the "
                f"import; give it with --policy {policy_id}=POLICY.json (the output of aws "
                f"cloudfront get-{kind.replace(' ', '-')}-policy)",
            )
        return found


def ttls(node: Node, *, required_min: bool = True) -> tuple[int, int, int]:
    """MinTTL, DefaultTTL, MaxTTL with CloudFront's defaults (DefaultTTL 86400 or MinTTL if
    larger; MaxTTL 31536000 or DefaultTTL if larger; Developer Guide, "Minimum TTL" …)."""
    if required_min and not node.has("MinTTL"):
        node.error("MinTTL", "is required")
    min_ttl = node.integer("MinTTL", 0, lo=0)
    default_ttl = node.integer("DefaultTTL", max(86_400, min_ttl), lo=0)
    max_ttl = node.integer("MaxTTL", max(31_536_000, default_ttl, min_ttl), lo=0)
    if min_ttl > default_ttl:
        node.error("DefaultTTL", f"{default_ttl} is below MinTTL ({min_ttl})")
        default_ttl = min_ttl
    if default_ttl > max_ttl:
        node.error("MaxTTL", f"{max_ttl} is below DefaultTTL ({default_ttl})")
        max_ttl = default_ttl
    return min_ttl, default_ttl, max_ttl


def _security(header: str, value: str, node: Node) -> CustomHeader:
    return CustomHeader(header, value, node.flag("Override", True))


def _xss_value(xss: Node) -> str:
    mode_block, report = xss.flag("ModeBlock", False), xss.text("ReportUri") or None
    if not xss.flag("Protection", True):
        if mode_block or report:
            xss.error("Protection", "ModeBlock and ReportUri need Protection true")
        return "0"
    if mode_block and report:
        xss.error("ReportUri", "cannot be combined with ModeBlock")
        report = None
    return "1" + ("; mode=block" if mode_block else "") + (f"; report={report}" if report else "")


def _listing(node: Node, key: str) -> list[str]:
    sub = node.data.get(key)
    if sub is None:
        return []
    return node.texts(key)
