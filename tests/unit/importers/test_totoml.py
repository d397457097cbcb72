"""edgesim.importers.totoml: the TOML `edgesim import` writes reads back as the same distribution.

Compared: every field edgesim.toml can express. Not compared, because edgesim.toml has no key for
them (``totoml`` writes them as comments): ``notes``, ``sources``, ``config_path`` (set by the
reader), and ``Origin.s3`` while ``[[origins]]`` has no ``s3`` key (``totoml.S3_KEY``).
"""

from __future__ import annotations

import tempfile
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from edgesim.countries import COUNTRY_CODES
from edgesim.distribution.config import parse_config
from edgesim.distribution.error_responses import ERROR_CODES
from edgesim.distribution.model import Distribution
from edgesim.distribution.origins import FAILOVER_CODES
from edgesim.importers.apishape import to_distribution
from edgesim.importers.bundle import FunctionSource, ImportBundle, KvsSource, function_arn
from edgesim.importers.load import import_distribution
from edgesim.importers.overlay import map_origins, read_overlay
from edgesim.importers.totoml import S3_KEY, to_toml, toml_string
from tests.unit.importers.helpers import (
    ALL_VIEWER,
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    DISTCONFIG,
    SECURITY_HEADERS,
    config,
)
from tests.unit.importers.test_load import FIXTURE_FLAGS, LOCAL


def comparable(dist: Distribution) -> Distribution:
    origins = dist.origins
    if not S3_KEY:
        origins = {k: replace(o, s3=False) for k, o in origins.items()}
    return replace(dist, notes=(), sources=(), config_path=None, origins=origins)


def round_trip(dist: Distribution, base_dir: Path, **kw: Any) -> Distribution:
    text = to_toml(dist, base_dir=base_dir, **kw)
    return parse_config(tomllib.loads(text), base_dir=base_dir, source="edgesim.toml")


@given(st.text(max_size=30))
def test_toml_strings_read_back(text: str) -> None:
    assert tomllib.loads(f"k = {toml_string(text)}")["k"] == text


def test_the_fixture_round_trips_with_comments_naming_the_source(tmp_path: Path) -> None:
    imported = import_distribution(
        DISTCONFIG / "distribution-config.json",
        workdir=tmp_path / "work",
        origins=LOCAL,
        base_dir=tmp_path,
        **FIXTURE_FLAGS,
    )
    text = to_toml(imported.dist, base_dir=DISTCONFIG, where=imported.where, legacy=imported.legacy)
    source = DISTCONFIG / "distribution-config.json"
    assert f"# from {source}: DistributionConfig.CacheBehaviors.Items.1\n" in text
    assert "# from --function router=" in text
    assert (
        "# the legacy cache settings (ForwardedValues, MinTTL/DefaultTTL/MaxTTL) of the behaviour /legacy/*"
        in text
    )
    assert 'file = "functions/router.js"' in text  # relative to the TOML's directory
    assert "#   - not emulated: requests will differ because the AWS WAF web ACL" in text
    back = parse_config(tomllib.loads(text), base_dir=DISTCONFIG, source="edgesim.toml")
    assert back == comparable(imported.dist)


def test_unmapped_origins_become_lines_to_fill_in(tmp_path: Path) -> None:
    imported = import_distribution(
        DISTCONFIG / "distribution-config.json",
        workdir=tmp_path,
        require_origins=False,
        **FIXTURE_FLAGS,
    )
    text = to_toml(imported.dist, base_dir=tmp_path)
    assert '# app = "http://127.0.0.1:PORT"   # not mapped yet: https://app.example.com' in text
    tomllib.loads(text)  # still valid TOML


def test_server_edges_and_throttling_round_trip(tmp_path: Path) -> None:
    (tmp_path / "geo.mmdb").write_bytes(b"")
    overlay = tmp_path / "o.toml"
    overlay.write_text(
        """
[server]
port = 0
admin_port = 0
https_port = 0
state_dir = "/var/tmp/edgesim-state"
access_log = "logs/access.log"
debug_headers = true
domain_name = "d2.cloudfront.net"

[edges]
pops = ["IAD", "FRA"]
propagation = { model = "fixed", lag_ms = 250.5, per_pop_ms = { FRA = 3000 } }
pop_cidrs = { "10.0.0.0/8" = "FRA" }
country_cidrs = { "2001:db8::/32" = "DE" }
default_country = "GB"
geoip_database = "geo.mmdb"

[throttling]
enabled = false
window_s = 5
"""
    )
    settings = read_overlay(overlay)
    dist = to_distribution(
        ImportBundle(config()),
        workdir=tmp_path,
        server=settings.server,
        edges=settings.edges,
        throttling=settings.throttling,
    ).dist
    assert round_trip(dist, tmp_path) == comparable(dist)


# --------------------------------------------------------------------------------------------
# Generated bundles
# --------------------------------------------------------------------------------------------

IDS = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8
).filter(lambda s: s.strip() != "")
NAMES = st.from_regex(r"[A-Za-z0-9_-]{1,10}", fullmatch=True)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
HEADERS = st.sampled_from(["Accept-Language", "X-Tenant", "CloudFront-Viewer-Country", "Origin"])
DOMAINS = st.from_regex(
    r"[a-z][a-z0-9-]{0,6}\.(example\.com|s3\.us-east-1\.amazonaws\.com)", fullmatch=True
)
PATTERNS = ["/api/*", "*.jpg", "/img/?.png", "/a&b/*", "/~u/*", "/@x/*", "images/*"]
METHODS = [
    (["GET", "HEAD"], ["GET", "HEAD"]),
    (["GET", "HEAD", "OPTIONS"], ["GET", "HEAD", "OPTIONS"]),
    (["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"], ["GET", "HEAD"]),
]


def items(values: list[Any]) -> dict[str, Any]:
    return {"Quantity": len(values), "Items": values}


@st.composite
def origins(draw: st.DrawFn) -> list[dict[str, Any]]:
    ids = draw(st.lists(IDS, min_size=1, max_size=3, unique=True))
    found = []
    for origin_id in ids:
        origin: dict[str, Any] = {"Id": origin_id, "DomainName": draw(DOMAINS)}
        kind = draw(st.sampled_from(["custom", "s3", "oac"]))
        if kind == "custom":
            origin["CustomOriginConfig"] = {
                "HTTPPort": draw(st.integers(1, 65535)),
                "HTTPSPort": draw(st.integers(1, 65535)),
                "OriginProtocolPolicy": draw(
                    st.sampled_from(["http-only", "https-only", "match-viewer"])
                ),
                "OriginReadTimeout": draw(st.integers(1, 120)),
            }
        elif kind == "s3":
            origin["S3OriginConfig"] = {"OriginAccessIdentity": ""}
        else:
            origin["OriginAccessControlId"] = "E2"
        origin["OriginPath"] = draw(st.sampled_from(["", "/v1", "/a/b"]))
        headers = draw(st.lists(st.sampled_from(["X-Secret", "X-Env"]), unique=True))
        origin["CustomHeaders"] = items(
            [{"HeaderName": h, "HeaderValue": draw(TEXT)} for h in headers]
        )
        origin["ConnectionTimeout"] = draw(st.integers(1, 10))
        origin["ConnectionAttempts"] = draw(st.integers(1, 3))
        found.append(origin)
    return found


def selection(
    draw: st.DrawFn, behaviors: list[str], names: st.SearchStrategy[str], key: str
) -> dict[str, Any]:
    behavior = draw(st.sampled_from(behaviors))
    out: dict[str, Any] = {key: behavior}
    if behavior in ("whitelist", "allExcept", "allViewerAndWhitelistCloudFront"):
        chosen = draw(st.lists(names, min_size=1, max_size=2, unique=True))
        out[
            {
                "HeaderBehavior": "Headers",
                "CookieBehavior": "Cookies",
                "QueryStringBehavior": "QueryStrings",
            }[key]
        ] = items(chosen)
    return out


@st.composite
def cache_policy(draw: st.DrawFn) -> dict[str, Any]:
    min_ttl = draw(st.integers(0, 100))
    default_ttl = draw(st.integers(min_ttl, 1000))
    return {
        "Name": draw(
            st.sampled_from(["CachingOptimized", "by-lang", "legacy:*"]) | TEXT.filter(str.strip)
        ),
        "MinTTL": min_ttl,
        "DefaultTTL": default_ttl,
        "MaxTTL": draw(st.integers(default_ttl, 100_000)),
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": draw(st.booleans()),
            "EnableAcceptEncodingBrotli": draw(st.booleans()),
            "HeadersConfig": selection(
                draw,
                ["none", "whitelist"],
                HEADERS.filter(lambda h: not h.startswith("Cloud")),
                "HeaderBehavior",
            ),
            "CookiesConfig": selection(
                draw, ["none", "whitelist", "allExcept", "all"], NAMES, "CookieBehavior"
            ),
            "QueryStringsConfig": selection(
                draw, ["none", "whitelist", "allExcept", "all"], NAMES, "QueryStringBehavior"
            ),
        },
    }


@st.composite
def origin_request_policy(draw: st.DrawFn) -> dict[str, Any]:
    headers = selection(
        draw,
        ["none", "whitelist", "allViewer", "allViewerAndWhitelistCloudFront", "allExcept"],
        HEADERS,
        "HeaderBehavior",
    )
    if headers["HeaderBehavior"] == "allViewerAndWhitelistCloudFront":
        headers["Headers"] = items(["CloudFront-Viewer-Country"])
    return {
        "Name": draw(st.sampled_from(["AllViewer", "orp"]) | TEXT.filter(str.strip)),
        "HeadersConfig": headers,
        "CookiesConfig": selection(
            draw, ["none", "whitelist", "all", "allExcept"], NAMES, "CookieBehavior"
        ),
        "QueryStringsConfig": selection(
            draw, ["none", "whitelist", "all", "allExcept"], NAMES, "QueryStringBehavior"
        ),
    }


@st.composite
def response_headers_policy(draw: st.DrawFn) -> dict[str, Any]:
    policy: dict[str, Any] = {
        "Name": draw(st.sampled_from(["SimpleCORS", "rhp"]) | TEXT.filter(str.strip))
    }
    security: dict[str, Any] = {}
    if draw(st.booleans()):
        security["ContentSecurityPolicy"] = {
            "Override": draw(st.booleans()),
            "ContentSecurityPolicy": draw(TEXT.filter(str.strip)),
        }
    if draw(st.booleans()):
        security["ContentTypeOptions"] = {"Override": draw(st.booleans())}
    if draw(st.booleans()):
        security["FrameOptions"] = {
            "Override": draw(st.booleans()),
            "FrameOption": draw(st.sampled_from(["DENY", "SAMEORIGIN"])),
        }
    if draw(st.booleans()):
        security["ReferrerPolicy"] = {
            "Override": draw(st.booleans()),
            "ReferrerPolicy": "same-origin",
        }
    if draw(st.booleans()):
        security["StrictTransportSecurity"] = {
            "Override": draw(st.booleans()),
            "AccessControlMaxAgeSec": draw(st.integers(0, 10**8)),
            "IncludeSubdomains": draw(st.booleans()),
            "Preload": draw(st.booleans()),
        }
    if draw(st.booleans()):
        protection = draw(st.booleans())
        xss: dict[str, Any] = {"Override": draw(st.booleans()), "Protection": protection}
        if protection:
            choice = draw(st.sampled_from(["none", "block", "report"]))
            if choice == "block":
                xss["ModeBlock"] = True
            elif choice == "report":
                xss["ReportUri"] = "https://r.example/x"
        security["XSSProtection"] = xss
    if security:
        policy["SecurityHeadersConfig"] = security
    if draw(st.booleans()):
        cors: dict[str, Any] = {
            "AccessControlAllowOrigins": items(
                draw(st.lists(st.sampled_from(["*", "https://a.example"]), min_size=1, unique=True))
            ),
            "AccessControlAllowHeaders": items(
                draw(st.lists(st.sampled_from(["*", "X-A"]), unique=True))
            ),
            "AccessControlAllowMethods": items(draw(st.sampled_from([["ALL"], ["GET", "POST"]]))),
            "AccessControlAllowCredentials": draw(st.booleans()),
            "OriginOverride": draw(st.booleans()),
        }
        if draw(st.booleans()):
            cors["AccessControlMaxAgeSec"] = draw(st.integers(0, 86400))
        policy["CorsConfig"] = cors
    names = draw(st.lists(st.sampled_from(["X-A", "X-B"]), unique=True))
    policy["CustomHeadersConfig"] = items(
        [
            {"Header": n, "Value": draw(TEXT.filter(str.strip)), "Override": draw(st.booleans())}
            for n in names
        ]
    )
    policy["RemoveHeadersConfig"] = items(
        [
            {"Header": h}
            for h in draw(st.lists(st.sampled_from(["Server", "X-Powered-By"]), unique=True))
        ]
    )
    return policy


def legacy(draw: st.DrawFn) -> dict[str, Any]:
    headers = draw(
        st.sampled_from([[], ["*"], ["Accept-Language"], ["CloudFront-Viewer-Country", "X-Tenant"]])
    )
    cookies: dict[str, Any] = {"Forward": draw(st.sampled_from(["none", "all", "whitelist"]))}
    if cookies["Forward"] == "whitelist":
        cookies["WhitelistedNames"] = items(
            draw(st.lists(NAMES, min_size=1, max_size=2, unique=True))
        )
    forwarded: dict[str, Any] = {
        "QueryString": draw(st.booleans()),
        "Cookies": cookies,
        "Headers": items(headers),
    }
    if draw(st.booleans()):
        forwarded["QueryStringCacheKeys"] = items(draw(st.lists(NAMES, max_size=2, unique=True)))
    out: dict[str, Any] = {"ForwardedValues": forwarded}
    if draw(st.booleans()):
        min_ttl = draw(st.integers(0, 100))
        out["MinTTL"] = min_ttl
        out["DefaultTTL"] = draw(st.integers(min_ttl, 1000))
        out["MaxTTL"] = draw(st.integers(out["DefaultTTL"], 10**6))
    return out


@st.composite
def bundles(draw: st.DrawFn) -> ImportBundle:
    found_origins = draw(origins())
    ids = [o["Id"] for o in found_origins]
    groups = []
    if len(ids) >= 2 and draw(st.booleans()):
        group_id = draw(IDS.filter(lambda s: s not in ids))
        codes = draw(st.lists(st.sampled_from(sorted(FAILOVER_CODES)), min_size=1, unique=True))
        groups.append(
            {
                "Id": group_id,
                "FailoverCriteria": {"StatusCodes": items(codes)},
                "Members": items([{"OriginId": ids[0]}, {"OriginId": ids[1]}]),
            }
        )
    targets = ids + [g["Id"] for g in groups]
    cache = {f"c{i}": draw(cache_policy()) for i in range(draw(st.integers(0, 2)))}
    orp = {f"o{i}": draw(origin_request_policy()) for i in range(draw(st.integers(0, 2)))}
    rhp = {f"r{i}": draw(response_headers_policy()) for i in range(draw(st.integers(0, 2)))}
    functions: dict[str, FunctionSource] = {}
    stores: dict[str, KvsSource] = {}
    for name in draw(st.lists(NAMES, max_size=3, unique=True)):
        store = draw(st.none() | st.sampled_from(["cfg", "flags"]))
        runtime = (
            "cloudfront-js-2.0"
            if store
            else draw(st.sampled_from(["cloudfront-js-1.0", "cloudfront-js-2.0"]))
        )
        functions[name] = FunctionSource(
            name, runtime, code=f"// {name}\n", kvs=[store] if store else []
        )
        if store and store not in stores:
            data = draw(st.dictionaries(NAMES, TEXT, max_size=3))
            stores[store] = KvsSource(store, items=data if draw(st.booleans()) else None)

    def behavior(path: str | None) -> dict[str, Any]:
        methods = draw(st.sampled_from(METHODS))
        b: dict[str, Any] = {
            "TargetOriginId": draw(st.sampled_from(targets)),
            "ViewerProtocolPolicy": draw(
                st.sampled_from(["allow-all", "redirect-to-https", "https-only"])
            ),
            "AllowedMethods": {**items(methods[0]), "CachedMethods": items(methods[1])},
            "Compress": draw(st.booleans()),
        }
        if path is not None:
            b["PathPattern"] = path
        associations = []
        for event in ("viewer-request", "viewer-response"):
            if functions and draw(st.booleans()):
                associations.append(
                    {
                        "EventType": event,
                        "FunctionARN": function_arn(draw(st.sampled_from(sorted(functions)))),
                    }
                )
        b["FunctionAssociations"] = items(associations)
        settings = draw(
            st.sampled_from(["managed", "custom", "legacy"] if cache else ["managed", "legacy"])
        )
        if settings == "legacy":
            b.update(legacy(draw))
        else:
            b["CachePolicyId"] = (
                draw(st.sampled_from(sorted(cache)))
                if settings == "custom"
                else draw(st.sampled_from([CACHING_OPTIMIZED, CACHING_DISABLED]))
            )
            if draw(st.booleans()):
                b["OriginRequestPolicyId"] = draw(st.sampled_from([ALL_VIEWER, *sorted(orp)]))
        if draw(st.booleans()):
            b["ResponseHeadersPolicyId"] = draw(st.sampled_from([SECURITY_HEADERS, *sorted(rhp)]))
        return b

    paths = draw(st.lists(st.sampled_from(PATTERNS), max_size=3, unique_by=lambda p: p.lstrip("/")))
    errors = []
    for code in draw(st.lists(st.sampled_from(sorted(ERROR_CODES)), max_size=2, unique=True)):
        error: dict[str, Any] = {"ErrorCode": code, "ErrorCachingMinTTL": draw(st.integers(0, 600))}
        if draw(st.booleans()):
            error.update(
                ResponsePagePath="/errors/page.html",
                ResponseCode=str(draw(st.sampled_from([200, 404, 503]))),
            )
        errors.append(error)
    distribution_config: dict[str, Any] = {
        "Origins": items(found_origins),
        "OriginGroups": items(groups),
        "DefaultCacheBehavior": behavior(None),
        "CacheBehaviors": items([behavior(p) for p in paths]),
        "CustomErrorResponses": items(errors),
        "DefaultRootObject": draw(st.sampled_from(["", "index.html"])),
        "Aliases": items(
            draw(st.lists(st.sampled_from(["a.example.com", "B.example.com"]), unique=True))
        ),
    }
    geo = draw(st.sampled_from(["none", "whitelist", "blacklist"]))
    countries = (
        []
        if geo == "none"
        else draw(st.lists(st.sampled_from(COUNTRY_CODES), min_size=1, max_size=3, unique=True))
    )
    distribution_config["Restrictions"] = {
        "GeoRestriction": {"RestrictionType": geo, **items(countries)}
    }
    return ImportBundle(
        distribution_config=distribution_config,
        functions=functions,
        kvs=stores,
        cache_policies=cache,
        origin_request_policies=orp,
        response_headers_policies=rhp,
    )


@given(bundles(), st.data())
def test_generated_bundles_round_trip_through_edgesim_toml(
    bundle: ImportBundle, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "public").mkdir()
        settings = read_overlay(None, base_dir=base)
        dist = to_distribution(
            bundle,
            workdir=base / "work",
            server=settings.server,
            edges=settings.edges,
            throttling=settings.throttling,
        ).dist
        flags = []
        for origin_id in dist.origins:
            target = data.draw(st.sampled_from([None, "http://127.0.0.1:3000", "public"]))
            if target is not None and "=" not in origin_id:
                flags.append(f"{origin_id}={target}")
        dist = map_origins(dist, flags=flags, base_dir=base)
        assert round_trip(dist, base) == comparable(dist)
