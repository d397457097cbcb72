"""The managed policies: names, IDs, contents and the lookups by name, API name and ID."""

from __future__ import annotations

import pytest

from edgesim.distribution import managed
from edgesim.distribution.managed import (
    MANAGED_CACHE_POLICIES,
    MANAGED_ORIGIN_REQUEST_POLICIES,
    MANAGED_RESPONSE_HEADERS_POLICIES,
    find_cache_policy,
    find_origin_request_policy,
    find_response_headers_policy,
)

CACHE_IDS = {
    "CachingOptimized": "658327ea-f89d-4fab-a63d-7e88639e58f6",
    "CachingOptimizedForUncompressedObjects": "b2884449-e4de-46a7-ac36-70bc7f1ddd6d",
    "CachingDisabled": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
    "UseOriginCacheControlHeaders": "83da9c7e-98b4-4e11-a168-04f0df8e2c65",
    "UseOriginCacheControlHeaders-QueryStrings": "4cc15a8a-d715-48a4-82b8-cc0b614638fe",
    "Amplify": "2e54312d-136d-493c-8eb9-b001f22f67d2",
    "Elemental-MediaPackage": "08627262-05a9-4f76-9ded-b50ca2e3a84f",
}
ORIGIN_REQUEST_IDS = {
    "AllViewer": "216adef6-5c7f-47e4-b989-5492eafa07d3",
    "AllViewerAndCloudFrontHeaders-2022-06": "33f36d7e-f396-46d9-90e0-52428a34d9dc",
    "AllViewerExceptHostHeader": "b689b0a8-53d0-40ab-baf2-68738e2966ac",
    "CORS-CustomOrigin": "59781a5b-3903-41f3-afcb-af62929ccde1",
    "CORS-S3Origin": "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf",
    "Elemental-MediaTailor-PersonalizedManifests": "775133bc-15f2-49f9-abea-afb2e0bf67d2",
    "HostHeaderOnly": "bf0718e1-ba1e-49d1-88b1-f726733018ae",
    "UserAgentRefererHeaders": "acba4595-bd28-49b8-b9fe-13317c0390fa",
}
RESPONSE_HEADERS_IDS = {
    "SecurityHeadersPolicy": "67f7725c-6f97-4210-82d7-5512b31e9d03",
    "SimpleCORS": "60669652-455b-4ae9-85a4-c4c02393f86c",
    "CORS-With-Preflight": "5cc3b908-e619-4b99-88e5-2cf7f45965bd",
    "CORS-and-SecurityHeadersPolicy": "e61eb60c-9c35-4d20-a928-2b84e02af89c",
    "CORS-With-Preflight-and-SecurityHeadersPolicy": "eaab4381-ed33-4a86-88ca-d9558dc6cd63",
}


@pytest.mark.parametrize(
    ("policies", "ids"),
    [
        (MANAGED_CACHE_POLICIES, CACHE_IDS),
        (MANAGED_ORIGIN_REQUEST_POLICIES, ORIGIN_REQUEST_IDS),
        (MANAGED_RESPONSE_HEADERS_POLICIES, RESPONSE_HEADERS_IDS),
    ],
)
def test_names_and_ids(policies: dict[str, object], ids: dict[str, str]) -> None:
    assert {name: p.managed_id for name, p in policies.items()} == ids  # type: ignore[attr-defined]
    assert all(p.name == name for name, p in policies.items())  # type: ignore[attr-defined]


def test_cache_policy_ttls_and_keys() -> None:
    optimized = MANAGED_CACHE_POLICIES["CachingOptimized"]
    assert (optimized.min_ttl, optimized.default_ttl, optimized.max_ttl) == (1, 86_400, 31_536_000)
    assert optimized.enable_gzip
    assert optimized.enable_brotli
    assert optimized.headers.behavior == optimized.cookies.behavior == "none"
    disabled = MANAGED_CACHE_POLICIES["CachingDisabled"]
    assert (disabled.min_ttl, disabled.default_ttl, disabled.max_ttl) == (0, 0, 0)
    amplify = MANAGED_CACHE_POLICIES["Amplify"]
    assert (amplify.min_ttl, amplify.default_ttl, amplify.max_ttl) == (2, 2, 600)
    assert amplify.headers.names == {"authorization", "cloudfront-viewer-country", "host"}
    media = MANAGED_CACHE_POLICIES["Elemental-MediaPackage"]
    assert media.query_strings.names == {"aws.manifestfilter", "start", "end", "m"}
    assert media.enable_gzip
    assert not media.enable_brotli
    qs = MANAGED_CACHE_POLICIES["UseOriginCacheControlHeaders-QueryStrings"]
    assert qs.query_strings.behavior == "all"
    assert qs.cookies.behavior == "all"


def test_origin_request_policy_contents() -> None:
    all_viewer = MANAGED_ORIGIN_REQUEST_POLICIES["AllViewer"]
    assert all_viewer.headers.picks("anything")
    except_host = MANAGED_ORIGIN_REQUEST_POLICIES["AllViewerExceptHostHeader"]
    assert not except_host.headers.picks("host")
    assert except_host.headers.picks("accept")
    with_cf = MANAGED_ORIGIN_REQUEST_POLICIES["AllViewerAndCloudFrontHeaders-2022-06"]
    assert with_cf.headers.behavior == "allViewerAndWhitelistCloudFront"
    assert len(with_cf.headers.names) == 21
    assert "cloudfront-viewer-tls" in with_cf.headers.names
    s3 = MANAGED_ORIGIN_REQUEST_POLICIES["CORS-S3Origin"]
    assert s3.headers.names == {
        "origin",
        "access-control-request-headers",
        "access-control-request-method",
    }
    assert s3.query_strings.behavior == "none"
    tailor = MANAGED_ORIGIN_REQUEST_POLICIES["Elemental-MediaTailor-PersonalizedManifests"]
    assert tailor.query_strings.behavior == "all"
    assert "x-forwarded-for" in tailor.headers.names


def test_response_headers_policy_contents() -> None:
    security = MANAGED_RESPONSE_HEADERS_POLICIES["SecurityHeadersPolicy"]
    by_name = {h.name: h for h in security.security_headers}
    # Documented: only X-Content-Type-Options overrides what the origin sent.
    assert [n for n, h in by_name.items() if h.override] == ["X-Content-Type-Options"]
    assert by_name["Strict-Transport-Security"].value == "max-age=31536000"
    assert security.cors is None
    simple = MANAGED_RESPONSE_HEADERS_POLICIES["SimpleCORS"]
    assert simple.cors is not None
    assert simple.cors.allow_origins == ("*",)
    assert simple.cors.allow_methods == ()
    assert not simple.security_headers
    both = MANAGED_RESPONSE_HEADERS_POLICIES["CORS-With-Preflight-and-SecurityHeadersPolicy"]
    assert both.cors == MANAGED_RESPONSE_HEADERS_POLICIES["CORS-With-Preflight"].cors
    assert both.security_headers == security.security_headers


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CachingOptimized", "CachingOptimized"),
        ("Managed-CachingOptimized", "CachingOptimized"),
        ("cachingoptimized", "CachingOptimized"),
        ("658327ea-f89d-4fab-a63d-7e88639e58f6", "CachingOptimized"),
        (
            "Managed-UseOriginCacheControlHeaders-QueryStrings",
            "UseOriginCacheControlHeaders-QueryStrings",
        ),
        ("CachingOptimised", None),
        ("Managed-", None),
    ],
)
def test_find_cache_policy(name: str, expected: str | None) -> None:
    found = find_cache_policy(name)
    assert (found.name if found else None) == expected


def test_find_other_policies_by_api_name_and_id() -> None:
    found = find_origin_request_policy("Managed-AllViewer")
    assert found is not None
    assert found.name == "AllViewer"
    # The guide spells the API name with a lower-case "with-preflight".
    rhp = find_response_headers_policy("Managed-CORS-with-preflight-and-SecurityHeadersPolicy")
    assert rhp is not None
    assert rhp.managed_id == "eaab4381-ed33-4a86-88ca-d9558dc6cd63"
    rhp = find_response_headers_policy("67f7725c-6f97-4210-82d7-5512b31e9d03")
    assert rhp is not None
    assert rhp.name == "SecurityHeadersPolicy"


def test_is_managed_name() -> None:
    assert managed.is_managed_name("managed-cachingdisabled", MANAGED_CACHE_POLICIES)
    assert not managed.is_managed_name("mine", MANAGED_CACHE_POLICIES)
