"""CloudFront's managed cache, origin request and response headers policies, as model objects.

Each dictionary is keyed by the console name (``CachingOptimized``); ``managed_id`` holds the ID
the API and CloudFormation use. ``find_cache_policy`` and its siblings also accept the API name
(``Managed-CachingOptimized``), any letter case, and the ID.

Sources:
- cache policies: reference B.5 (CloudFront Developer Guide "Use managed cache policies").
- origin request policies: CloudFront Developer Guide "Use managed origin request policies"
  (awsdocs/amazon-cloudfront-developer-guide, doc_source/using-managed-origin-request-policies.md),
  which lists every ID and header below except HostHeaderOnly's.
- response headers policies: CloudFront Developer Guide "Use managed response headers policies"
  (same repository, doc_source/using-managed-response-headers-policies.md) for names, IDs, which
  headers each policy sets and which of them override the origin. The header *values* are in a
  table that the stored copy of that page elides; the values below match two independent
  emulator transcriptions of it and are marked UNVERIFIED against AWS itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from edgesim.distribution.model import (
    CachePolicy,
    CorsConfig,
    CustomHeader,
    OriginRequestPolicy,
    ResponseHeadersPolicy,
    Selection,
)

_ONE_DAY = 86_400
_ONE_YEAR = 31_536_000
API_PREFIX = "Managed-"

NONE = Selection()
ALL = Selection("all")


def _whitelist(*names: str) -> Selection:
    return Selection("whitelist", frozenset(names))


def _headers(*names: str) -> Selection:
    # The model stores header names lower-cased.
    return _whitelist(*(name.lower() for name in names))


_USE_ORIGIN_HEADERS = _headers(
    "Host", "Origin", "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"
)

_CACHE_POLICIES = (
    CachePolicy(
        name="CachingOptimized",
        min_ttl=1,
        default_ttl=_ONE_DAY,
        max_ttl=_ONE_YEAR,
        enable_gzip=True,
        enable_brotli=True,
        managed_id="658327ea-f89d-4fab-a63d-7e88639e58f6",
    ),
    CachePolicy(
        name="CachingOptimizedForUncompressedObjects",
        min_ttl=1,
        default_ttl=_ONE_DAY,
        max_ttl=_ONE_YEAR,
        managed_id="b2884449-e4de-46a7-ac36-70bc7f1ddd6d",
    ),
    CachePolicy(
        name="CachingDisabled",
        min_ttl=0,
        default_ttl=0,
        max_ttl=0,
        managed_id="4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
    ),
    CachePolicy(
        name="UseOriginCacheControlHeaders",
        min_ttl=0,
        default_ttl=0,
        max_ttl=_ONE_YEAR,
        headers=_USE_ORIGIN_HEADERS,
        cookies=ALL,
        enable_gzip=True,
        enable_brotli=True,
        managed_id="83da9c7e-98b4-4e11-a168-04f0df8e2c65",
    ),
    CachePolicy(
        name="UseOriginCacheControlHeaders-QueryStrings",
        min_ttl=0,
        default_ttl=0,
        max_ttl=_ONE_YEAR,
        headers=_USE_ORIGIN_HEADERS,
        cookies=ALL,
        query_strings=ALL,
        enable_gzip=True,
        enable_brotli=True,
        managed_id="4cc15a8a-d715-48a4-82b8-cc0b614638fe",
    ),
    CachePolicy(
        name="Amplify",
        min_ttl=2,
        default_ttl=2,
        max_ttl=600,
        headers=_headers("Authorization", "CloudFront-Viewer-Country", "Host"),
        cookies=ALL,
        query_strings=ALL,
        enable_gzip=True,
        enable_brotli=True,
        managed_id="2e54312d-136d-493c-8eb9-b001f22f67d2",
    ),
    CachePolicy(
        name="Elemental-MediaPackage",
        min_ttl=0,
        default_ttl=_ONE_DAY,
        max_ttl=_ONE_YEAR,
        headers=_headers("Origin"),
        query_strings=_whitelist("aws.manifestfilter", "start", "end", "m"),
        enable_gzip=True,
        managed_id="08627262-05a9-4f76-9ded-b50ca2e3a84f",
    ),
)

# CloudFront headers "released through June 2022", as the guide lists them for this policy.
_CLOUDFRONT_HEADERS_2022_06 = _headers(
    "CloudFront-Forwarded-Proto",
    "CloudFront-Is-Android-Viewer",
    "CloudFront-Is-Desktop-Viewer",
    "CloudFront-Is-IOS-Viewer",
    "CloudFront-Is-Mobile-Viewer",
    "CloudFront-Is-SmartTV-Viewer",
    "CloudFront-Is-Tablet-Viewer",
    "CloudFront-Viewer-Address",
    "CloudFront-Viewer-ASN",
    "CloudFront-Viewer-City",
    "CloudFront-Viewer-Country",
    "CloudFront-Viewer-Country-Name",
    "CloudFront-Viewer-Country-Region",
    "CloudFront-Viewer-Country-Region-Name",
    "CloudFront-Viewer-Http-Version",
    "CloudFront-Viewer-Latitude",
    "CloudFront-Viewer-Longitude",
    "CloudFront-Viewer-Metro-Code",
    "CloudFront-Viewer-Postal-Code",
    "CloudFront-Viewer-Time-Zone",
    "CloudFront-Viewer-TLS",
)
_CORS_S3 = ("Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method")

_ORIGIN_REQUEST_POLICIES = (
    OriginRequestPolicy(
        name="AllViewer",
        headers=Selection("allViewer"),
        cookies=ALL,
        query_strings=ALL,
        managed_id="216adef6-5c7f-47e4-b989-5492eafa07d3",
    ),
    OriginRequestPolicy(
        name="AllViewerAndCloudFrontHeaders-2022-06",
        headers=Selection("allViewerAndWhitelistCloudFront", _CLOUDFRONT_HEADERS_2022_06.names),
        cookies=ALL,
        query_strings=ALL,
        managed_id="33f36d7e-f396-46d9-90e0-52428a34d9dc",
    ),
    OriginRequestPolicy(
        # CloudFront then sends the origin's own domain as Host.
        name="AllViewerExceptHostHeader",
        headers=Selection("allExcept", frozenset({"host"})),
        cookies=ALL,
        query_strings=ALL,
        managed_id="b689b0a8-53d0-40ab-baf2-68738e2966ac",
    ),
    OriginRequestPolicy(
        name="CORS-CustomOrigin",
        headers=_headers("Origin"),
        managed_id="59781a5b-3903-41f3-afcb-af62929ccde1",
    ),
    OriginRequestPolicy(
        name="CORS-S3Origin",
        headers=_headers(*_CORS_S3),
        managed_id="88a5eaf4-2fd4-4709-b370-b4c650ea3fcf",
    ),
    OriginRequestPolicy(
        name="Elemental-MediaTailor-PersonalizedManifests",
        headers=_headers(*_CORS_S3, "User-Agent", "X-Forwarded-For"),
        query_strings=ALL,
        managed_id="775133bc-15f2-49f9-abea-afb2e0bf67d2",
    ),
    OriginRequestPolicy(
        # Added to the guide in August 2025. UNVERIFIED: the ID and the "Host only" contents come
        # from third-party transcriptions (two agree); the stored guide copy predates the policy.
        name="HostHeaderOnly",
        headers=_headers("Host"),
        managed_id="bf0718e1-ba1e-49d1-88b1-f726733018ae",
    ),
    OriginRequestPolicy(
        name="UserAgentRefererHeaders",
        headers=_headers("User-Agent", "Referer"),
        managed_id="acba4595-bd28-49b8-b9fe-13317c0390fa",
    ),
)

# Documented: only X-Content-Type-Options overrides the origin's header; for the others the
# origin's value wins. Values UNVERIFIED (see the module docstring).
_SECURITY_HEADERS = (
    CustomHeader("Referrer-Policy", "strict-origin-when-cross-origin", override=False),
    CustomHeader("Strict-Transport-Security", "max-age=31536000", override=False),
    CustomHeader("X-Content-Type-Options", "nosniff", override=True),
    CustomHeader("X-Frame-Options", "SAMEORIGIN", override=False),
    CustomHeader("X-XSS-Protection", "1; mode=block", override=False),
)
# Documented: Access-Control-Allow-Origin: * only, origin's header wins.
_SIMPLE_CORS = CorsConfig(
    allow_origins=("*",), allow_headers=(), allow_methods=(), origin_override=False
)
# Documented: three headers on preflight (Allow-Methods, Allow-Origin, Expose-Headers), the
# origin's headers win. Method list and expose value UNVERIFIED (see the module docstring).
_PREFLIGHT_CORS = CorsConfig(
    allow_origins=("*",),
    allow_headers=(),
    allow_methods=("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"),
    expose_headers=("*",),
    origin_override=False,
)

_RESPONSE_HEADERS_POLICIES = (
    ResponseHeadersPolicy(
        name="SecurityHeadersPolicy",
        security_headers=_SECURITY_HEADERS,
        managed_id="67f7725c-6f97-4210-82d7-5512b31e9d03",
    ),
    ResponseHeadersPolicy(
        name="SimpleCORS", cors=_SIMPLE_CORS, managed_id="60669652-455b-4ae9-85a4-c4c02393f86c"
    ),
    ResponseHeadersPolicy(
        name="CORS-With-Preflight",
        cors=_PREFLIGHT_CORS,
        managed_id="5cc3b908-e619-4b99-88e5-2cf7f45965bd",
    ),
    ResponseHeadersPolicy(
        name="CORS-and-SecurityHeadersPolicy",
        security_headers=_SECURITY_HEADERS,
        cors=_SIMPLE_CORS,
        managed_id="e61eb60c-9c35-4d20-a928-2b84e02af89c",
    ),
    ResponseHeadersPolicy(
        # The guide spells it "CORS-with-preflight-and-…" (API name
        # "Managed-CORS-with-preflight-and-SecurityHeadersPolicy"); lookups ignore case.
        name="CORS-With-Preflight-and-SecurityHeadersPolicy",
        security_headers=_SECURITY_HEADERS,
        cors=_PREFLIGHT_CORS,
        managed_id="eaab4381-ed33-4a86-88ca-d9558dc6cd63",
    ),
)

MANAGED_CACHE_POLICIES: dict[str, CachePolicy] = {p.name: p for p in _CACHE_POLICIES}
MANAGED_ORIGIN_REQUEST_POLICIES: dict[str, OriginRequestPolicy] = {
    p.name: p for p in _ORIGIN_REQUEST_POLICIES
}
MANAGED_RESPONSE_HEADERS_POLICIES: dict[str, ResponseHeadersPolicy] = {
    p.name: p for p in _RESPONSE_HEADERS_POLICIES
}

_P = TypeVar("_P", CachePolicy, OriginRequestPolicy, ResponseHeadersPolicy)


def _lookup_key(name: str) -> str:
    """Fold the spellings a user may copy from the console, the API or Terraform into one key."""
    key = name.strip().lower()
    prefix = API_PREFIX.lower()
    return key[len(prefix) :] if key.startswith(prefix) else key


def _index(policies: Mapping[str, _P]) -> dict[str, _P]:
    index: dict[str, _P] = {}
    for policy in policies.values():
        index[_lookup_key(policy.name)] = policy
        if policy.managed_id is not None:
            index[policy.managed_id] = policy
    return index


_CACHE_INDEX = _index(MANAGED_CACHE_POLICIES)
_ORIGIN_REQUEST_INDEX = _index(MANAGED_ORIGIN_REQUEST_POLICIES)
_RESPONSE_HEADERS_INDEX = _index(MANAGED_RESPONSE_HEADERS_POLICIES)


def _find(index: Mapping[str, _P], name: str) -> _P | None:
    return index.get(name.strip().lower()) or index.get(_lookup_key(name))


def find_cache_policy(name: str) -> CachePolicy | None:
    """A managed cache policy by console name, API name (``Managed-…``), any case, or ID."""
    return _find(_CACHE_INDEX, name)


def find_origin_request_policy(name: str) -> OriginRequestPolicy | None:
    return _find(_ORIGIN_REQUEST_INDEX, name)


def find_response_headers_policy(name: str) -> ResponseHeadersPolicy | None:
    return _find(_RESPONSE_HEADERS_INDEX, name)


def is_managed_name(name: str, names: Iterable[str]) -> bool:
    """Whether ``name`` would be taken for one of the managed ``names`` by the lookups above."""
    key = _lookup_key(name)
    return any(_lookup_key(candidate) == key for candidate in names)
