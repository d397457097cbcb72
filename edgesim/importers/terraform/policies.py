"""Cache, origin request and response headers policy resources mapped to the API's configs.

Also which behaviour field names which kind of policy (:data:`POLICY_KINDS`) and the mapping of
each policy resource type (:data:`POLICY_SPECS`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgesim.distribution import managed
from edgesim.importers.terraform.mapper import Mapper, Spec, convert_spec
from edgesim.importers.terraform.nodes import Node


def _selection(behavior: str, plural: str, api: str) -> Spec:
    return {
        f"{behavior}_behavior": (f"{api}Behavior", "v", None),
        plural: (f"{api}s", "items", None),
    }


_COOKIES = _selection("cookie", "cookies", "Cookie")


_HEADERS = _selection("header", "headers", "Header")


_QUERY_STRINGS = _selection("query_string", "query_strings", "QueryString")


_CACHE_POLICY: Spec = {
    "name": ("Name", "v", None),
    "comment": ("Comment", "v", None),
    "default_ttl": ("DefaultTTL", "v", None),
    "max_ttl": ("MaxTTL", "v", None),
    "min_ttl": ("MinTTL", "v", None),
    "parameters_in_cache_key_and_forwarded_to_origin": (
        "ParametersInCacheKeyAndForwardedToOrigin",
        "block",
        {
            "enable_accept_encoding_gzip": ("EnableAcceptEncodingGzip", "v", None),
            "enable_accept_encoding_brotli": ("EnableAcceptEncodingBrotli", "v", None),
            "headers_config": ("HeadersConfig", "block", _HEADERS),
            "cookies_config": ("CookiesConfig", "block", _COOKIES),
            "query_strings_config": ("QueryStringsConfig", "block", _QUERY_STRINGS),
        },
    ),
}


_ORIGIN_REQUEST_POLICY: Spec = {
    "name": ("Name", "v", None),
    "comment": ("Comment", "v", None),
    "headers_config": ("HeadersConfig", "block", _HEADERS),
    "cookies_config": ("CookiesConfig", "block", _COOKIES),
    "query_strings_config": ("QueryStringsConfig", "block", _QUERY_STRINGS),
}


_OVERRIDE = {"override": ("Override", "v", None)}


_RESPONSE_HEADERS_POLICY: Spec = {
    "name": ("Name", "v", None),
    "comment": ("Comment", "v", None),
    "cors_config": (
        "CorsConfig",
        "block",
        {
            "access_control_allow_credentials": ("AccessControlAllowCredentials", "v", None),
            "access_control_allow_headers": ("AccessControlAllowHeaders", "items", None),
            "access_control_allow_methods": ("AccessControlAllowMethods", "items", None),
            "access_control_allow_origins": ("AccessControlAllowOrigins", "items", None),
            "access_control_expose_headers": ("AccessControlExposeHeaders", "items", None),
            "access_control_max_age_sec": ("AccessControlMaxAgeSec", "v", None),
            "origin_override": ("OriginOverride", "v", None),
        },
    ),
    "security_headers_config": (
        "SecurityHeadersConfig",
        "block",
        {
            "content_security_policy": (
                "ContentSecurityPolicy",
                "block",
                {**_OVERRIDE, "content_security_policy": ("ContentSecurityPolicy", "v", None)},
            ),
            "content_type_options": ("ContentTypeOptions", "block", _OVERRIDE),
            "frame_options": (
                "FrameOptions",
                "block",
                {**_OVERRIDE, "frame_option": ("FrameOption", "v", None)},
            ),
            "referrer_policy": (
                "ReferrerPolicy",
                "block",
                {**_OVERRIDE, "referrer_policy": ("ReferrerPolicy", "v", None)},
            ),
            "strict_transport_security": (
                "StrictTransportSecurity",
                "block",
                {
                    **_OVERRIDE,
                    "access_control_max_age_sec": ("AccessControlMaxAgeSec", "v", None),
                    "include_subdomains": ("IncludeSubdomains", "v", None),
                    "preload": ("Preload", "v", None),
                },
            ),
            "xss_protection": (
                "XSSProtection",
                "block",
                {
                    **_OVERRIDE,
                    "protection": ("Protection", "v", None),
                    "mode_block": ("ModeBlock", "v", None),
                    "report_uri": ("ReportUri", "v", None),
                },
            ),
        },
    ),
    "server_timing_headers_config": (
        "ServerTimingHeadersConfig",
        "block",
        {"enabled": ("Enabled", "v", None), "sampling_rate": ("SamplingRate", "v", None)},
    ),
    "custom_headers_config": (
        "CustomHeadersConfig",
        "itemblocks",
        {
            "header": ("Header", "v", None),
            "value": ("Value", "v", None),
            **_OVERRIDE,
        },
    ),
    "remove_headers_config": (
        "RemoveHeadersConfig",
        "itemblocks",
        {"header": ("Header", "v", None)},
    ),
}


_POLICY_DEFAULTS = {"DefaultTTL": 86400, "MaxTTL": 31536000, "MinTTL": 0}


def _cache_policy(m: Mapper, node: Node) -> dict[str, Any]:
    config = convert_spec(m, node, _CACHE_POLICY)
    for key, default in _POLICY_DEFAULTS.items():
        config.setdefault(key, default)
    params = config.setdefault("ParametersInCacheKeyAndForwardedToOrigin", {})
    params.setdefault("EnableAcceptEncodingGzip", False)
    params.setdefault("EnableAcceptEncodingBrotli", False)
    return config


POLICY_KINDS = (
    ("CachePolicyId", "aws_cloudfront_cache_policy", "cache_policies", managed.find_cache_policy),
    (
        "OriginRequestPolicyId",
        "aws_cloudfront_origin_request_policy",
        "origin_request_policies",
        managed.find_origin_request_policy,
    ),
    (
        "ResponseHeadersPolicyId",
        "aws_cloudfront_response_headers_policy",
        "response_headers_policies",
        managed.find_response_headers_policy,
    ),
)


POLICY_SPECS: dict[str, Callable[[Mapper, Node], dict[str, Any]]] = {
    "aws_cloudfront_cache_policy": _cache_policy,
    "aws_cloudfront_origin_request_policy": lambda m, n: convert_spec(m, n, _ORIGIN_REQUEST_POLICY),
    "aws_cloudfront_response_headers_policy": lambda m, n: convert_spec(
        m, n, _RESPONSE_HEADERS_POLICY
    ),
}
