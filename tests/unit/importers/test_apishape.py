"""edgesim.importers.apishape: the CloudFront API's shapes → the Distribution model."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.distribution import managed
from edgesim.distribution.model import (
    ALL_METHODS,
    GET_HEAD,
    GET_HEAD_OPTIONS,
    CachePolicy,
    CorsConfig,
    CustomErrorResponse,
    CustomHeader,
    GeoRestriction,
    LambdaAssociation,
    OriginRequestPolicy,
    Selection,
)
from edgesim.importers.apishape import is_s3_rest_endpoint
from edgesim.importers.bundle import FunctionSource, KvsSource, LambdaSource, function_arn
from tests.unit.importers.helpers import (
    ALL_VIEWER,
    APP_ORIGIN,
    CACHING_DISABLED,
    SECURITY_HEADERS,
    behavior,
    config,
    convert,
    listing,
    problems_of,
)

ROUTER = "function handler(event) { return event.request; }"

# --------------------------------------------------------------------------------------------
# Origins
# --------------------------------------------------------------------------------------------


def origin_of(tmp_path: Path, origin: dict[str, object]) -> object:
    cfg = config(Origins=listing(origin))
    cfg["DefaultCacheBehavior"]["TargetOriginId"] = origin["Id"]
    return convert(tmp_path, cfg).dist.origins[str(origin["Id"])]


@pytest.mark.parametrize(
    ("policy", "ports", "url"),
    [
        ("http-only", (80, 443), "http://app.example.com"),
        ("http-only", (8080, 443), "http://app.example.com:8080"),
        ("https-only", (80, 443), "https://app.example.com"),
        ("https-only", (80, 8443), "https://app.example.com:8443"),
        ("match-viewer", (80, 443), "https://app.example.com"),
    ],
)
def test_a_custom_origin_url_follows_the_protocol_policy_and_ports(
    tmp_path: Path, policy: str, ports: tuple[int, int], url: str
) -> None:
    custom = {"HTTPPort": ports[0], "HTTPSPort": ports[1], "OriginProtocolPolicy": policy}
    origin = origin_of(tmp_path, {**APP_ORIGIN, "CustomOriginConfig": custom})
    assert origin.url == url  # type: ignore[attr-defined]
    assert not origin.s3  # type: ignore[attr-defined]


def test_origin_settings_path_headers_and_timeouts(tmp_path: Path) -> None:
    origin = origin_of(
        tmp_path,
        {
            **APP_ORIGIN,
            "OriginPath": "/v1",
            "CustomHeaders": listing({"HeaderName": "X-Secret", "HeaderValue": "s"}),
            "ConnectionTimeout": 4,
            "ConnectionAttempts": "2",  # CloudFormation templates often carry numbers as text
            "CustomOriginConfig": {**APP_ORIGIN["CustomOriginConfig"], "OriginReadTimeout": 60},
        },
    )
    assert origin.origin_path == "/v1"  # type: ignore[attr-defined]
    assert origin.custom_headers == (CustomHeader("X-Secret", "s"),)  # type: ignore[attr-defined]
    assert (origin.connect_timeout_s, origin.response_timeout_s) == (4.0, 60.0)  # type: ignore[attr-defined]
    assert origin.connection_attempts == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "origin",
    [
        {"S3OriginConfig": {"OriginAccessIdentity": ""}},
        {"OriginAccessControlId": "E3QZB0J2VYV4TK"},
        {},  # a bucket REST endpoint alone
    ],
)
def test_s3_origins_by_config_oac_or_rest_endpoint(
    tmp_path: Path, origin: dict[str, object]
) -> None:
    found = origin_of(
        tmp_path, {"Id": "site", "DomainName": "b.s3.eu-west-1.amazonaws.com", **origin}
    )
    assert found.s3  # type: ignore[attr-defined]
    assert found.url == "https://b.s3.eu-west-1.amazonaws.com"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("domain", "s3"),
    [
        ("bucket.s3.amazonaws.com", True),
        ("bucket.s3.us-east-1.amazonaws.com", True),
        ("my.dotted.bucket.s3-us-west-2.amazonaws.com", True),
        ("bucket.s3.dualstack.eu-west-1.amazonaws.com", True),
        ("bucket.s3-website-us-east-1.amazonaws.com", False),
        ("bucket.s3-website.eu-west-1.amazonaws.com", False),
        ("app.example.com", False),
    ],
)
def test_s3_rest_endpoints_and_not_website_endpoints(domain: str, s3: bool) -> None:
    assert is_s3_rest_endpoint(domain) is s3


def test_an_s3_website_endpoint_with_a_custom_config_is_a_custom_origin(tmp_path: Path) -> None:
    found = origin_of(
        tmp_path,
        {
            "Id": "site",
            "DomainName": "b.s3-website-us-east-1.amazonaws.com",
            "CustomOriginConfig": {
                "HTTPPort": 80,
                "HTTPSPort": 443,
                "OriginProtocolPolicy": "http-only",
            },
        },
    )
    assert not found.s3  # type: ignore[attr-defined]
    assert found.url == "http://b.s3-website-us-east-1.amazonaws.com"  # type: ignore[attr-defined]


def test_origin_problems_name_the_property_path(tmp_path: Path) -> None:
    cfg = config(
        Origins=listing(
            {**APP_ORIGIN, "CustomHeaders": listing({"HeaderName": "Host", "HeaderValue": "x"})},
            {"Id": "app", "DomainName": "b.example.com"},
            {"Id": "c", "DomainName": "https://c.example.com/path"},
        )
    )
    text = problems_of(tmp_path, cfg)
    assert "3 problems" in text
    assert (
        "dist.json: DistributionConfig.Origins.Items.0.CustomHeaders.Items.0.HeaderName: "
        "CloudFront cannot add 'Host'" in text
    )
    assert "DistributionConfig.Origins.Items.1.Id: duplicate origin id 'app'" in text
    assert "Origins.Items.2.DomainName: 'https://c.example.com/path' is not a host name" in text


def test_where_maps_a_path_to_the_place_the_front_end_read_it(tmp_path: Path) -> None:
    cfg = config()
    cfg["DefaultCacheBehavior"]["ViewerProtocolPolicy"] = "sometimes"
    where = {
        "": "template.yaml: Resources.Site.Properties.DistributionConfig",
        "DefaultCacheBehavior": "template.yaml: Resources.Site.Properties.DistributionConfig"
        ".DefaultCacheBehavior",
    }
    text = problems_of(tmp_path, cfg, where=where)
    assert text.startswith(
        "template.yaml: Resources.Site.Properties.DistributionConfig.DefaultCacheBehavior"
        ".ViewerProtocolPolicy: 'sometimes' is not one of"
    )


# --------------------------------------------------------------------------------------------
# Origin groups
# --------------------------------------------------------------------------------------------


def test_origin_groups_with_failover_codes(tmp_path: Path) -> None:
    backup = {**APP_ORIGIN, "Id": "backup", "DomainName": "backup.example.com"}
    group = {
        "Id": "ha",
        "FailoverCriteria": {"StatusCodes": listing(500, "503")},
        "Members": listing({"OriginId": "app"}, {"OriginId": "backup"}),
    }
    cfg = config(Origins=listing(APP_ORIGIN, backup), OriginGroups=listing(group))
    cfg["DefaultCacheBehavior"]["TargetOriginId"] = "ha"
    dist = convert(tmp_path, cfg).dist
    (found,) = dist.origin_groups.values()
    assert (found.primary, found.secondary) == ("app", "backup")
    assert found.failover_status_codes == {500, 503}
    assert dist.default_behavior.origin == "ha"


def test_origin_group_problems(tmp_path: Path) -> None:
    group = {
        "Id": "ha",
        "FailoverCriteria": {"StatusCodes": listing(501)},
        "Members": listing({"OriginId": "app"}, {"OriginId": "nope"}),
    }
    text = problems_of(tmp_path, config(OriginGroups=listing(group)))
    assert "OriginGroups.Items.0.Members.Items.1.OriginId: unknown origin 'nope'" in text
    group["Members"] = listing({"OriginId": "app"})
    group["FailoverCriteria"] = {"StatusCodes": listing(500)}
    text = problems_of(tmp_path, config(OriginGroups=listing(group)))
    assert "OriginGroups.Items.0.Members: an origin group has exactly two different origins" in text


# --------------------------------------------------------------------------------------------
# Behaviours: patterns, methods, functions, policies
# --------------------------------------------------------------------------------------------


def test_ordered_behaviours_keep_their_order_and_settings(tmp_path: Path) -> None:
    cfg = config(
        CacheBehaviors=listing(
            behavior(
                "/api/*",
                AllowedMethods={
                    **listing("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"),
                    "CachedMethods": listing("GET", "HEAD", "OPTIONS"),
                },
                ViewerProtocolPolicy="https-only",
                Compress=True,
                CachePolicyId=CACHING_DISABLED,
                OriginRequestPolicyId=ALL_VIEWER,
                ResponseHeadersPolicyId=SECURITY_HEADERS,
            ),
            behavior("*.jpg"),
        )
    )
    dist = convert(tmp_path, cfg).dist
    api, jpg = dist.behaviors
    assert (api.path, jpg.path) == ("/api/*", "*.jpg")
    assert api.allowed_methods == ALL_METHODS
    assert api.cached_methods == GET_HEAD_OPTIONS
    assert api.viewer_protocol_policy == "https-only"
    assert api.compress
    assert api.cache_policy is managed.MANAGED_CACHE_POLICIES["CachingDisabled"]
    assert api.origin_request_policy is managed.MANAGED_ORIGIN_REQUEST_POLICIES["AllViewer"]
    assert (
        api.response_headers_policy
        is managed.MANAGED_RESPONSE_HEADERS_POLICIES["SecurityHeadersPolicy"]
    )
    # The API's defaults: GET/HEAD, and Compress false (the console's default is true).
    assert (jpg.allowed_methods, jpg.cached_methods, jpg.compress) == (GET_HEAD, GET_HEAD, False)


def test_cloudformation_method_lists_are_plain(tmp_path: Path) -> None:
    cfg = config()
    cfg["DefaultCacheBehavior"]["AllowedMethods"] = ["GET", "HEAD", "OPTIONS"]
    cfg["DefaultCacheBehavior"]["CachedMethods"] = ["GET", "HEAD", "OPTIONS"]
    default = convert(tmp_path, cfg).dist.default_behavior
    assert (default.allowed_methods, default.cached_methods) == (GET_HEAD_OPTIONS, GET_HEAD_OPTIONS)


def test_behaviour_problems(tmp_path: Path) -> None:
    cfg = config(
        CacheBehaviors=[
            behavior("/a<b>"),
            behavior("/x/*", TargetOriginId="nowhere"),
            behavior("x/*"),
            behavior("/m", AllowedMethods=listing("GET", "POST")),
        ]
    )
    text = problems_of(tmp_path, cfg)
    assert "CacheBehaviors.Items.0.PathPattern: path pattern '/a<b>' contains" in text
    assert "CacheBehaviors.Items.1.TargetOriginId: unknown origin or origin group 'nowhere'" in text
    assert "CacheBehaviors.Items.2.PathPattern: pattern 'x/*' repeats" in text
    assert "CacheBehaviors.Items.3.AllowedMethods: CloudFront allows only" in text


def test_function_associations_by_arn(tmp_path: Path) -> None:
    cfg = config()
    cfg["DefaultCacheBehavior"]["FunctionAssociations"] = listing(
        {"EventType": "viewer-request", "FunctionARN": function_arn("router")},
        {
            "EventType": "viewer-response",
            "FunctionARN": "arn:aws:cloudfront::999999999999:function/hdrs",
        },
    )
    functions = {
        "router": FunctionSource("router", "cloudfront-js-2.0", code=ROUTER, kvs=["cfg"]),
        "hdrs": FunctionSource("hdrs", "cloudfront-js-1.0", code=ROUTER),
        "unused": FunctionSource("unused", "cloudfront-js-2.0", code=ROUTER),
    }
    imported = convert(
        tmp_path, cfg, functions=functions, kvs={"cfg": KvsSource("cfg", items={"k": "v"})}
    )
    dist = imported.dist
    assert (dist.default_behavior.viewer_request, dist.default_behavior.viewer_response) == (
        "router",
        "hdrs",
    )
    assert set(dist.functions) == {"router", "hdrs"}  # only what the distribution uses
    router = dist.functions["router"]
    assert router.file == tmp_path / "functions" / "router.js"
    assert router.file.read_text() == ROUTER
    assert router.kvs == "cfg"
    assert dist.functions["hdrs"].runtime == "cloudfront-js-1.0"
    store = dist.kvs["cfg"]
    assert store.data == tmp_path / "kvs" / "cfg.json"
    assert '"key": "k"' in store.data.read_text()


def test_inline_code_is_rewritten_only_when_it_changed(tmp_path: Path) -> None:
    cfg = config()
    cfg["DefaultCacheBehavior"]["FunctionAssociations"] = listing(
        {"EventType": "viewer-request", "FunctionARN": function_arn("router")}
    )
    functions = {"router": FunctionSource("router", "cloudfront-js-2.0", code=ROUTER)}
    path = convert(tmp_path, cfg, functions=functions).dist.functions["router"].file
    stamp = path.stat().st_mtime_ns
    convert(tmp_path, cfg, functions=functions)
    assert path.stat().st_mtime_ns == stamp


def test_a_function_the_import_lacks_names_the_flag_to_add(tmp_path: Path) -> None:
    cfg = config()
    cfg["DefaultCacheBehavior"]["FunctionAssociations"] = listing(
        {"EventType": "viewer-request", "FunctionARN": function_arn("router")},
        {"EventType": "origin-request", "FunctionARN": function_arn("other")},
    )
    text = problems_of(tmp_path, cfg)
    assert (
        "DefaultCacheBehavior.FunctionAssociations.Items.0.FunctionARN: function 'router' is "
        "not part of the import; give its code with --function router=PATH.js" in text
    )
    assert "Items.1.EventType: 'origin-request': CloudFront Functions run on viewer-request" in text


def test_function_and_store_problems(tmp_path: Path) -> None:
    cfg = config()
    cfg["DefaultCacheBehavior"]["FunctionAssociations"] = listing(
        {"EventType": "viewer-request", "FunctionARN": function_arn("a")},
        {"EventType": "viewer-response", "FunctionARN": function_arn("b")},
    )
    functions = {
        "a": FunctionSource("a", "cloudfront-js-1.0", code=ROUTER, kvs=["s"]),
        "b": FunctionSource("b", "cloudfront-js-2.0", file=tmp_path / "missing.js"),
    }
    stores = {"s": KvsSource("s", items={"": "empty key"})}
    text = problems_of(
        tmp_path, cfg, functions=functions, kvs=stores, where={"functions.a": "t.yaml: Fn"}
    )
    assert "t.yaml: Fn.Runtime: a function using a key value store needs runtime" in text
    assert "functions.b: function file" in text
    assert "does not exist" in text
    assert "kvs.s:" in text


# --------------------------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------------------------

CUSTOM_CACHE = {
    "Name": "by-lang",
    "MinTTL": 1,
    "DefaultTTL": "60",
    "ParametersInCacheKeyAndForwardedToOrigin": {
        "EnableAcceptEncodingGzip": True,
        "EnableAcceptEncodingBrotli": False,
        "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": listing("Accept-Language")},
        "CookiesConfig": {"CookieBehavior": "allExcept", "Cookies": listing("tracking")},
        "QueryStringsConfig": {"QueryStringBehavior": "all"},
    },
}


def test_custom_policies_by_id(tmp_path: Path) -> None:
    cfg = config()
    cfg["DefaultCacheBehavior"].update(
        CachePolicyId="c1", OriginRequestPolicyId="o1", ResponseHeadersPolicyId="r1"
    )
    imported = convert(
        tmp_path,
        cfg,
        cache_policies={"c1": CUSTOM_CACHE},
        origin_request_policies={
            "o1": {
                "Name": "Managed-AllViewer",  # a managed policy's name: renamed
                "HeadersConfig": {
                    "HeaderBehavior": "allViewerAndWhitelistCloudFront",
                    "Headers": ["CloudFront-Viewer-Country"],  # a plain list (CloudFormation)
                },
                "CookiesConfig": {"CookieBehavior": "none"},
                "QueryStringsConfig": {"QueryStringBehavior": "whitelist", "QueryStrings": ["q"]},
            }
        },
        response_headers_policies={
            "r1": {
                "Name": "cors",
                "CorsConfig": {
                    "AccessControlAllowOrigins": listing("https://a.example"),
                    "AccessControlAllowHeaders": listing("*"),
                    "AccessControlAllowMethods": listing("GET", "POST"),
                    "AccessControlAllowCredentials": False,
                    "AccessControlMaxAgeSec": 600,
                    "OriginOverride": True,
                },
                "SecurityHeadersConfig": {
                    "XSSProtection": {"Override": True, "Protection": True, "ModeBlock": True},
                    "StrictTransportSecurity": {
                        "Override": False,
                        "AccessControlMaxAgeSec": 63072000,
                        "IncludeSubdomains": True,
                    },
                    "ContentSecurityPolicy": {
                        "Override": True,
                        "ContentSecurityPolicy": "default-src 'self'",
                    },
                },
                "CustomHeadersConfig": listing({"Header": "X-A", "Value": "1", "Override": False}),
                "RemoveHeadersConfig": listing({"Header": "Server"}),
                "ServerTimingHeadersConfig": {"Enabled": True, "SamplingRate": 10},
            }
        },
    )
    b = imported.dist.default_behavior
    assert b.cache_policy == CachePolicy(
        name="by-lang",
        min_ttl=1,
        default_ttl=60,
        max_ttl=31_536_000,
        headers=Selection("whitelist", frozenset({"accept-language"})),
        cookies=Selection("allExcept", frozenset({"tracking"})),
        query_strings=Selection("all"),
        enable_gzip=True,
    )
    assert b.origin_request_policy == OriginRequestPolicy(
        name="Managed-AllViewer-o1",
        headers=Selection(
            "allViewerAndWhitelistCloudFront", frozenset({"cloudfront-viewer-country"})
        ),
        query_strings=Selection("whitelist", frozenset({"q"})),
    )
    rhp = b.response_headers_policy
    assert rhp is not None
    assert rhp.cors == CorsConfig(
        allow_origins=("https://a.example",),
        allow_headers=("*",),
        allow_methods=("GET", "POST"),
        max_age_s=600,
        origin_override=True,
    )
    assert rhp.security_headers == (
        CustomHeader("Content-Security-Policy", "default-src 'self'"),
        CustomHeader("Strict-Transport-Security", "max-age=63072000; includeSubDomains", False),
        CustomHeader("X-XSS-Protection", "1; mode=block"),
    )
    assert rhp.custom_headers == (CustomHeader("X-A", "1", False),)
    assert rhp.remove_headers == {"server"}
    assert any("Server-Timing" in note for note in imported.dist.notes)
    assert imported.where["cache_policies.by-lang"] == "dist.json: cache_policies.c1"


def test_an_unknown_policy_id_names_the_policy_flag(tmp_path: Path) -> None:
    cfg = config()
    cfg["DefaultCacheBehavior"]["CachePolicyId"] = "0123abcd-0000-0000-0000-000000000000"
    text = problems_of(tmp_path, cfg)
    assert (
        "DefaultCacheBehavior.CachePolicyId: '0123abcd-0000-0000-0000-000000000000' is neither a "
        "managed cache policy nor a custom one in the import; give it with --policy "
        "0123abcd-0000-0000-0000-000000000000=POLICY.json (the output of aws cloudfront "
        "get-cache-policy)" in text
    )


def test_policy_problems(tmp_path: Path) -> None:
    cfg = config()
    cfg["DefaultCacheBehavior"]["CachePolicyId"] = "c1"
    bad = {
        "Name": "bad",
        "MinTTL": 100,
        "DefaultTTL": 10,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": False,
            "HeadersConfig": {"HeaderBehavior": "allViewer"},
            "CookiesConfig": {"CookieBehavior": "whitelist"},
            "QueryStringsConfig": {"QueryStringBehavior": "none"},
        },
    }
    text = problems_of(tmp_path, cfg, cache_policies={"c1": bad})
    assert "cache_policies.c1.DefaultTTL: 10 is below MinTTL (100)" in text
    assert "HeadersConfig.HeaderBehavior: 'allViewer' is not one of none, whitelist" in text
    assert "CookiesConfig.Cookies: whitelist needs at least one name" in text


# --------------------------------------------------------------------------------------------
# Legacy cache settings
# --------------------------------------------------------------------------------------------


def legacy(
    tmp_path: Path, forwarded: dict[str, object], **ttls: object
) -> tuple[CachePolicy, OriginRequestPolicy | None]:
    cfg = config()
    default = cfg["DefaultCacheBehavior"]
    del default["CachePolicyId"]
    default.update(ForwardedValues=forwarded, **ttls)
    b = convert(tmp_path, cfg).dist.default_behavior
    return b.cache_policy, b.origin_request_policy


NO_COOKIES = {"Forward": "none"}


def test_legacy_defaults_cache_on_nothing_with_cloudfront_ttl_defaults(tmp_path: Path) -> None:
    cache, origin = legacy(tmp_path, {"QueryString": False, "Cookies": NO_COOKIES})
    assert cache == CachePolicy(name="legacy:*", min_ttl=0, default_ttl=86_400, max_ttl=31_536_000)
    assert origin is None


def test_legacy_ttls_as_given_and_their_defaults(tmp_path: Path) -> None:
    cache, _ = legacy(
        tmp_path, {"QueryString": False, "Cookies": NO_COOKIES}, MinTTL=5, DefaultTTL=60, MaxTTL=300
    )
    assert (cache.min_ttl, cache.default_ttl, cache.max_ttl) == (5, 60, 300)
    cache, _ = legacy(tmp_path, {"QueryString": False, "Cookies": NO_COOKIES}, MinTTL=100_000)
    assert (cache.min_ttl, cache.default_ttl, cache.max_ttl) == (100_000, 100_000, 31_536_000)


def test_legacy_whitelists_are_the_cache_key(tmp_path: Path) -> None:
    cache, origin = legacy(
        tmp_path,
        {
            "QueryString": True,
            "Cookies": {"Forward": "whitelist", "WhitelistedNames": listing("session")},
            "Headers": listing("Accept-Language", "CloudFront-Viewer-Country"),
        },
    )
    assert cache.headers == Selection(
        "whitelist", frozenset({"accept-language", "cloudfront-viewer-country"})
    )
    assert cache.cookies == Selection("whitelist", frozenset({"session"}))
    assert cache.query_strings == Selection("all")  # forward all, cache based on all
    assert origin is None


def test_legacy_query_string_cache_keys_forward_all_and_key_some(tmp_path: Path) -> None:
    cache, origin = legacy(
        tmp_path,
        {"QueryString": True, "QueryStringCacheKeys": listing("v"), "Cookies": {"Forward": "all"}},
    )
    assert cache.query_strings == Selection("whitelist", frozenset({"v"}))
    assert cache.cookies == Selection("all")
    assert origin is not None
    assert origin.query_strings == Selection("all")
    assert origin.headers == Selection()
    assert origin.cookies == Selection()


def test_legacy_all_headers_means_no_caching_and_everything_forwarded(tmp_path: Path) -> None:
    cache, origin = legacy(
        tmp_path,
        {"QueryString": True, "Headers": ["*"], "Cookies": {"Forward": "all"}},
        MinTTL=0,
        DefaultTTL=300,
    )
    assert (cache.min_ttl, cache.default_ttl, cache.max_ttl) == (0, 0, 0)
    assert cache.headers == cache.cookies == cache.query_strings == Selection()
    assert origin == OriginRequestPolicy(
        name="legacy:*",
        headers=Selection("allViewer"),
        cookies=Selection("all"),
        query_strings=Selection("all"),
    )


def test_legacy_compress_turns_on_the_accept_encoding_normalisation(tmp_path: Path) -> None:
    cfg = config()
    default = cfg["DefaultCacheBehavior"]
    del default["CachePolicyId"]
    default.update(ForwardedValues={"QueryString": False, "Cookies": NO_COOKIES}, Compress=True)
    cache = convert(tmp_path, cfg).dist.default_behavior.cache_policy
    assert cache.enable_gzip
    assert cache.enable_brotli


def test_legacy_cookie_wildcards_are_noted(tmp_path: Path) -> None:
    cfg = config()
    default = cfg["DefaultCacheBehavior"]
    del default["CachePolicyId"]
    default["ForwardedValues"] = {
        "QueryString": False,
        "Cookies": {"Forward": "whitelist", "WhitelistedNames": ["userid_*"]},
    }
    notes = convert(tmp_path, cfg).dist.notes
    assert any("wildcards" in note and "default behaviour" in note for note in notes)


def test_a_behaviour_needs_a_cache_policy_or_legacy_settings(tmp_path: Path) -> None:
    cfg = config()
    del cfg["DefaultCacheBehavior"]["CachePolicyId"]
    assert "DefaultCacheBehavior: needs a CachePolicyId" in problems_of(tmp_path, cfg)
    cfg["DefaultCacheBehavior"].update(CachePolicyId=CACHING_DISABLED, MinTTL=0)
    assert "DefaultCacheBehavior.MinTTL: belongs to legacy cache settings" in problems_of(
        tmp_path, cfg
    )


# --------------------------------------------------------------------------------------------
# Errors, root object, restrictions, aliases, notes
# --------------------------------------------------------------------------------------------


def test_custom_errors_root_object_geo_and_aliases(tmp_path: Path) -> None:
    cfg = config(
        CustomErrorResponses=listing(
            {
                "ErrorCode": 404,
                "ResponsePagePath": "/404.html",
                "ResponseCode": "200",
                "ErrorCachingMinTTL": 60,
            },
            {"ErrorCode": 503, "ResponsePagePath": "", "ResponseCode": "", "ErrorCachingMinTTL": 0},
        ),
        DefaultRootObject="index.html",
        Restrictions={
            "GeoRestriction": {"RestrictionType": "whitelist", "Locations": ["de", "FR"]}
        },
        Aliases=listing("WWW.Example.com"),
    )
    dist = convert(tmp_path, cfg).dist
    assert dist.custom_error_responses == {
        404: CustomErrorResponse(404, "/404.html", 200, 60),
        503: CustomErrorResponse(503, None, None, 0),
    }
    assert dist.default_root_object == "index.html"
    assert dist.geo_restriction == GeoRestriction("whitelist", frozenset({"DE", "FR"}))
    assert dist.aliases == ("www.example.com",)


def test_error_root_and_geo_problems(tmp_path: Path) -> None:
    cfg = config(
        CustomErrorResponses=listing(
            {"ErrorCode": 418}, {"ErrorCode": 404, "ResponsePagePath": "/x"}
        ),
        DefaultRootObject="/index.html",
        Restrictions={"GeoRestriction": {"RestrictionType": "blacklist", "Items": ["XX"]}},
    )
    text = problems_of(tmp_path, cfg)
    assert "CustomErrorResponses.Items.0.ErrorCode: 418 is not one of" in text
    assert "CustomErrorResponses.Items.1: ResponsePagePath and ResponseCode go together" in text
    assert "DefaultRootObject: must not start with '/'" in text
    assert "GeoRestriction.Items: 'XX' is not an ISO 3166-1 alpha-2 country code" in text


def test_what_is_not_emulated_becomes_one_note_each(tmp_path: Path) -> None:
    cfg = config(
        WebACLId="arn:aws:wafv2:us-east-1:1:global/webacl/x/1",
        Logging={"Enabled": True, "Bucket": "logs.s3.amazonaws.com", "Prefix": ""},
        PriceClass="PriceClass_All",
        HttpVersion="http2and3",
        ViewerCertificate={"CloudFrontDefaultCertificate": True},
        Staging=False,
        Surprise={"x": 1},
        CacheBehaviors=listing(
            behavior(
                "/a/*",
                LambdaFunctionAssociations=listing(
                    {
                        "EventType": "origin-request",
                        "LambdaFunctionARN": "arn:aws:lambda:us-east-1:1:function:f:1",
                    }
                ),
                TrustedSigners={"Enabled": True, "Quantity": 1, "Items": ["self"]},
                FieldLevelEncryptionId="fle",
            ),
            behavior(
                "/b/*",
                LambdaFunctionAssociations=[
                    {
                        "EventType": "origin-request",
                        "LambdaFunctionARN": "arn:aws:lambda:us-east-1:1:function:f:1",
                    }
                ],
            ),
        ),
    )
    code = tmp_path / "f.js"
    code.write_text("exports.handler = async (event) => event.Records[0].cf.request;\n")
    dist = convert(
        tmp_path,
        cfg,
        notes=["front-end: Tags ignored"],
        lambdas={"f": LambdaSource(name="f", file=code)},
    ).dist
    notes = dist.notes
    text = "\n".join(notes)
    assert "not emulated: requests will differ because the AWS WAF web ACL is not applied" in text
    assert "accepted, not emulated: standard logs (Logging)" in text
    assert "PriceClass" not in text  # PriceClass_All: every POP, nothing to say
    assert "accepted, not emulated: HttpVersion http2and3" in text
    assert "accepted, not emulated: ViewerCertificate" in text
    assert "Staging" not in text
    assert "not recognised, ignored: DistributionConfig.Surprise" in text
    # Lambda@Edge is imported (issue 18), no longer a "not emulated yet" note.
    assert "Lambda@Edge" not in text
    assert [b.lambdas for b in dist.behaviors] == [
        (LambdaAssociation("origin-request", "f"),),
        (LambdaAssociation("origin-request", "f"),),
    ]
    assert "legacy trusted signers (TrustedSigners, AWS-account key pairs) are not emulated" in text
    assert "field-level encryption" in text
    assert "front-end: Tags ignored" in notes


def test_sources_are_absolute_and_unique(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("")
    dist = convert(
        tmp_path, config(), sources=[tmp_path / "t.yaml", tmp_path / "." / "t.yaml"]
    ).dist
    assert dist.sources == (tmp_path / "t.yaml",)
