"""POP and country selection, control headers, device detection and the CloudFront-* headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.distribution.model import CidrRule, Edges
from edgesim.edge import viewer
from edgesim.edge.message import EdgeRequest
from edgesim.edge.viewer import (
    CONTROL_HEADERS,
    GeoIpDatabase,
    ViewerResolver,
    cloudfront_viewer_headers,
    device_flags,
    edge_location_info,
    header_order,
    strip_control_headers,
    viewer_address,
)
from edgesim.errors import InputError


def make_request(
    client_ip: str = "203.0.113.7", headers: list[tuple[str, str]] | None = None, **kw: Any
) -> EdgeRequest:
    return EdgeRequest(
        method=kw.pop("method", "GET"),
        path="/",
        query=None,
        headers=headers or [],
        client_ip=client_ip,
        **kw,
    )


EDGES = Edges(
    pops=("IAD", "FRA", "NRT"),
    pop_cidrs=(
        CidrRule("10.0.0.0/8", "FRA"),
        CidrRule("10.1.0.0/16", "NRT"),
        CidrRule("10.1.2.0/24", "iad"),
        CidrRule("2001:db8::/32", "FRA"),
        CidrRule("2001:db8:1::/48", "NRT"),
    ),
    country_cidrs=(CidrRule("10.0.0.0/8", "de"), CidrRule("2001:db8::/32", "JP")),
    default_country="US",
)


# ------------------------------------------------------------------------------------------
# POP


def test_pop_header_wins_over_cidr() -> None:
    resolver = ViewerResolver(EDGES)
    req = make_request("10.1.2.3", [("x-edgesim-pop", "nrt")])
    assert resolver.pop_for(req) == "NRT"


def test_pop_cidr_longest_prefix_wins() -> None:
    resolver = ViewerResolver(EDGES)
    assert resolver.pop_for(make_request("10.9.9.9")) == "FRA"  # /8
    assert resolver.pop_for(make_request("10.1.9.9")) == "NRT"  # /16
    assert resolver.pop_for(make_request("10.1.2.9")) == "IAD"  # /24, value case-normalised


def test_pop_falls_back_to_first_pop() -> None:
    resolver = ViewerResolver(EDGES)
    assert resolver.pop_for(make_request("192.0.2.1")) == "IAD"
    assert resolver.pop_for(make_request("not-an-ip")) == "IAD"


def test_pop_ipv6_cidrs() -> None:
    resolver = ViewerResolver(EDGES)
    assert resolver.pop_for(make_request("2001:db8:2::1")) == "FRA"
    assert resolver.pop_for(make_request("2001:db8:1:ffff::1")) == "NRT"
    assert resolver.pop_for(make_request("2001:db9::1")) == "IAD"


def test_ipv4_mapped_ipv6_client_matches_ipv4_rules() -> None:
    resolver = ViewerResolver(EDGES)
    assert resolver.pop_for(make_request("::ffff:10.1.2.3")) == "IAD"
    assert resolver.pop_for(make_request("::ffff:10.200.0.1")) == "FRA"


def test_same_network_twice_first_entry_wins() -> None:
    edges = Edges(
        pops=("IAD", "FRA", "NRT"),
        pop_cidrs=(CidrRule("10.0.0.0/8", "FRA"), CidrRule("10.0.0.0/8", "NRT")),
    )
    assert ViewerResolver(edges).pop_for(make_request("10.0.0.1")) == "FRA"


def test_unknown_pop_header_is_an_input_error_naming_everything() -> None:
    resolver = ViewerResolver(EDGES)
    with pytest.raises(InputError) as info:
        resolver.pop_for(make_request(headers=[("x-edgesim-pop", "LHR")]))
    text = str(info.value)
    assert "x-edgesim-pop" in text
    assert "'LHR'" in text
    assert "IAD, FRA, NRT" in text


def test_cidr_rule_to_unconfigured_pop_is_rejected() -> None:
    edges = Edges(pops=("IAD",), pop_cidrs=(CidrRule("10.0.0.0/8", "FRA"),))
    with pytest.raises(InputError, match=r"edges\.pop_cidrs: 10\.0\.0\.0/8 .*'FRA'"):
        ViewerResolver(edges)


def test_bad_cidr_is_rejected() -> None:
    edges = Edges(pops=("IAD",), pop_cidrs=(CidrRule("10.0.0.0/33", "IAD"),))
    with pytest.raises(InputError, match=r"edges\.pop_cidrs: '10\.0\.0\.0/33' is not a CIDR"):
        ViewerResolver(edges)


def test_host_bits_in_cidr_mean_the_containing_network() -> None:
    edges = Edges(pops=("IAD", "FRA"), pop_cidrs=(CidrRule("10.1.2.3/8", "FRA"),))
    assert ViewerResolver(edges).pop_for(make_request("10.200.0.1")) == "FRA"


# ------------------------------------------------------------------------------------------
# Country


def test_country_precedence_header_cidr_default() -> None:
    resolver = ViewerResolver(EDGES)
    header = [("x-edgesim-viewer-country", " fr ")]
    assert resolver.country_for(make_request("10.0.0.1", header)) == "FR"
    assert resolver.country_for(make_request("10.0.0.1")) == "DE"
    assert resolver.country_for(make_request("2001:db8::5")) == "JP"
    assert resolver.country_for(make_request("192.0.2.1")) == "US"


@pytest.mark.parametrize("value", ["USA", "U", "", "1A", "ZZ"])
def test_country_header_validation(value: str) -> None:
    resolver = ViewerResolver(EDGES)
    with pytest.raises(InputError, match="x-edgesim-viewer-country"):
        resolver.country_for(make_request(headers=[("x-edgesim-viewer-country", value)]))


def test_country_header_uk_hints_at_gb() -> None:
    resolver = ViewerResolver(EDGES)
    with pytest.raises(InputError, match="GB"):
        resolver.country_for(make_request(headers=[("x-edgesim-viewer-country", "uk")]))


def test_country_cidr_and_default_are_validated() -> None:
    with pytest.raises(InputError, match=r"edges\.country_cidrs 10\.0\.0\.0/8"):
        ViewerResolver(Edges(country_cidrs=(CidrRule("10.0.0.0/8", "Germany"),)))
    with pytest.raises(InputError, match=r"edges\.default_country"):
        ViewerResolver(Edges(default_country="XX"))


def test_iso_list_is_complete() -> None:
    # 249 officially assigned codes plus XK.
    assert len(viewer.ISO_COUNTRY_CODES) == 250
    assert {"US", "GB", "DE", "JP", "BR", "XK"} <= viewer.ISO_COUNTRY_CODES


class FakeReader:
    """Stands in for a maxminddb Reader: ``get(ip)`` → record dict or None."""

    def __init__(self, records: dict[str, dict[str, Any]]) -> None:
        self.records = records

    def get(self, ip: str) -> dict[str, Any] | None:
        return self.records.get(ip)


CITY_RECORD: dict[str, Any] = {
    "city": {"names": {"en": "München"}},
    "country": {"iso_code": "DE", "names": {"en": "Germany"}},
    "subdivisions": [{"iso_code": "BY", "names": {"en": "Bavaria"}}],
    "location": {"latitude": 48.1, "longitude": 11.5, "time_zone": "Europe/Berlin"},
    "postal": {"code": "80331"},
}


def test_geoip_country_after_cidr_before_default() -> None:
    resolver = ViewerResolver(EDGES)
    resolver._geoip = GeoIpDatabase.from_reader(
        FakeReader({"198.51.100.1": CITY_RECORD, "10.0.0.1": {"country": {"iso_code": "BR"}}})
    )
    assert resolver.country_for(make_request("198.51.100.1")) == "DE"
    assert resolver.country_for(make_request("10.0.0.1")) == "DE"  # CIDR table first
    assert resolver.country_for(make_request("198.51.100.2")) == "US"  # not in the database


def test_geoip_registered_country_fallback() -> None:
    database = GeoIpDatabase.from_reader(
        FakeReader({"192.0.2.1": {"registered_country": {"iso_code": "nl"}}})
    )
    assert database.country(viewer.ipaddress.ip_address("192.0.2.1")) == "NL"


def test_geoip_location_headers_percent_encode_non_ascii() -> None:
    resolver = ViewerResolver(EDGES)
    resolver._geoip = GeoIpDatabase.from_reader(FakeReader({"198.51.100.1": CITY_RECORD}))
    headers = dict(resolver.location_headers(make_request("198.51.100.1")))
    assert headers == {
        "cloudfront-viewer-city": "M%C3%BCnchen",
        "cloudfront-viewer-country-name": "Germany",
        "cloudfront-viewer-country-region": "BY",
        "cloudfront-viewer-country-region-name": "Bavaria",
        "cloudfront-viewer-latitude": "48.1",
        "cloudfront-viewer-longitude": "11.5",
        "cloudfront-viewer-postal-code": "80331",
        "cloudfront-viewer-time-zone": "Europe/Berlin",
    }
    # A forced country makes the database's city meaningless: nothing is invented.
    forced = make_request("198.51.100.1", [("x-edgesim-viewer-country", "FR")])
    assert resolver.location_headers(forced) == []
    stripped = make_request("198.51.100.1")  # control header already stripped by the pipeline
    stripped.country = "FR"
    assert resolver.location_headers(stripped) == []
    agreed = make_request("198.51.100.1")
    agreed.country = "DE"
    assert len(resolver.location_headers(agreed)) == 8


def test_no_geoip_means_no_location_headers() -> None:
    assert ViewerResolver(EDGES).location_headers(make_request("198.51.100.1")) == []


def test_geoip_without_maxminddb_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = viewer.importlib.import_module

    def no_maxminddb(name: str, package: str | None = None) -> Any:
        if name == "maxminddb":
            raise ImportError("No module named 'maxminddb'")
        return real_import(name, package)

    monkeypatch.setattr(viewer.importlib, "import_module", no_maxminddb)
    database = tmp_path / "GeoLite2-City.mmdb"
    with pytest.raises(InputError, match=r"pip install maxminddb") as info:
        ViewerResolver(Edges(geoip_database=database))
    assert "edges.geoip_database" in str(info.value)


def test_geoip_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeModule:
        @staticmethod
        def open_database(path: str) -> FakeReader:
            return FakeReader({})

    real_import = viewer.importlib.import_module
    monkeypatch.setattr(
        viewer.importlib,
        "import_module",
        lambda name, package=None: FakeModule if name == "maxminddb" else real_import(name),
    )
    with pytest.raises(InputError, match="no such file"):
        ViewerResolver(Edges(geoip_database=tmp_path / "missing.mmdb"))
    present = tmp_path / "present.mmdb"
    present.write_bytes(b"")
    assert ViewerResolver(Edges(geoip_database=present)).country_for(make_request()) == "US"


# ------------------------------------------------------------------------------------------
# Control headers


def test_strip_control_headers_keeps_everything_else_in_order() -> None:
    headers = [
        ("host", "example.com"),
        ("X-Edgesim-Pop", "FRA"),
        ("accept", "*/*"),
        ("x-edgesim-viewer-country", "DE"),
        ("accept", "text/html"),
    ]
    assert strip_control_headers(headers) == [
        ("host", "example.com"),
        ("accept", "*/*"),
        ("accept", "text/html"),
    ]
    assert frozenset({"x-edgesim-pop", "x-edgesim-viewer-country"}) == CONTROL_HEADERS


# ------------------------------------------------------------------------------------------
# Device detection

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/12.1 Mobile/15E148 Safari/604.1"
)
IPADOS_DESKTOP_MODE = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
DESKTOP_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
SAMSUNG_TV = (
    "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 "
    "(KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36"
)
LG_TV = "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0"
FIRE_TV = (
    "Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7233) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/70.0.3538.110 Mobile Safari/537.36"
)
WINDOWS_PHONE = (
    "Mozilla/5.0 (Mobile; Windows Phone 8.1; Android 4.0; ARM; Trident/7.0; Touch; rv:11.0; "
    "IEMobile/11.0; NOKIA; Lumia 635) like iPhone OS 7_0_3 Mac OS X AppleWebKit/537 (KHTML, "
    "like Gecko) Mobile Safari/537"
)


def true_keys(flags: dict[str, bool]) -> set[str]:
    return {key for key, value in flags.items() if value}


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (IPHONE, {"ios", "mobile"}),
        (IPAD, {"ios", "mobile", "tablet"}),
        (IPADOS_DESKTOP_MODE, {"desktop"}),
        (ANDROID_PHONE, {"android", "mobile"}),
        (ANDROID_TABLET, {"android", "tablet"}),
        (DESKTOP_CHROME, {"desktop"}),
        (SAMSUNG_TV, {"smarttv"}),
        (LG_TV, {"smarttv"}),
        (FIRE_TV, {"android", "smarttv"}),
        (WINDOWS_PHONE, {"mobile"}),
        ("curl/8.5.0", {"desktop"}),
        (None, {"desktop"}),
        ("", {"desktop"}),
    ],
)
def test_device_flags(user_agent: str | None, expected: set[str]) -> None:
    flags = device_flags(user_agent)
    assert set(flags) == {"android", "desktop", "ios", "mobile", "smarttv", "tablet"}
    assert true_keys(flags) == expected


# ------------------------------------------------------------------------------------------
# CloudFront-* viewer headers


def test_viewer_address_formats() -> None:
    assert viewer_address("198.51.100.10", 46532) == "198.51.100.10:46532"
    # IPv6: compressed form, unbracketed, port after the last colon (edgesim's reading).
    assert viewer_address("2001:0db8:0000::0001", 443) == "2001:db8::1:443"
    assert viewer_address("::ffff:192.0.2.9", 5000) == "192.0.2.9:5000"


def test_header_order_keeps_spelling_duplicates_and_counts_all() -> None:
    names = ["Host", "User-Agent", "Accept", "Cookie", "Cookie", "X-Edgesim-Pop"]
    assert header_order(names) == ("Host:User-Agent:Accept:Cookie:Cookie", 5)


def test_header_order_truncates_whole_names_at_the_limit() -> None:
    names = ["A" * 10] * 5
    order, count = header_order(names, limit=31)
    assert order == ":".join(["A" * 10] * 2)  # three names would need 32 characters
    assert count == 5
    long_order, _ = header_order([f"x-h{i:04d}" for i in range(2000)])
    assert len(long_order) <= 7_680
    assert not long_order.endswith(":")


def test_cloudfront_viewer_headers_for_a_request() -> None:
    req = make_request(
        "2001:db8::7",
        [("host", "d111.cloudfront.net"), ("user-agent", IPHONE), ("accept", "*/*")],
        client_port=51000,
        http_version="1.1",
        scheme="https",
    )
    req.country = "JP"
    headers = cloudfront_viewer_headers(
        req, raw_header_names=["Host", "User-Agent", "Accept", "X-Edgesim-Pop"]
    )
    assert all(name == name.lower() for name, _ in headers)
    values = dict(headers)
    assert len(values) == len(headers)  # one of each
    assert values == {
        "cloudfront-viewer-address": "2001:db8::7:51000",
        "cloudfront-viewer-country": "JP",
        "cloudfront-viewer-header-order": "Host:User-Agent:Accept",
        "cloudfront-viewer-header-count": "3",
        "cloudfront-forwarded-proto": "https",
        "cloudfront-viewer-http-version": "1.1",
        "cloudfront-is-android-viewer": "false",
        "cloudfront-is-desktop-viewer": "false",
        "cloudfront-is-ios-viewer": "true",
        "cloudfront-is-mobile-viewer": "true",
        "cloudfront-is-smarttv-viewer": "false",
        "cloudfront-is-tablet-viewer": "false",
    }


def test_cloudfront_viewer_headers_defaults_and_nothing_invented() -> None:
    req = make_request(headers=[("host", "h"), ("accept", "*/*")], http_version="2")
    values = dict(cloudfront_viewer_headers(req))
    assert values["cloudfront-viewer-header-order"] == "host:accept"
    assert values["cloudfront-viewer-http-version"] == "2.0"
    assert values["cloudfront-forwarded-proto"] == "http"
    assert "cloudfront-viewer-country" not in values  # the pipeline has not set one
    for absent in ("tls", "ja3-fingerprint", "ja4-fingerprint", "asn", "city", "time-zone"):
        assert f"cloudfront-viewer-{absent}" not in values


def test_cloudfront_viewer_headers_include_location() -> None:
    location = [("cloudfront-viewer-time-zone", "Asia/Tokyo")]
    values = dict(cloudfront_viewer_headers(make_request(), location=location))
    assert values["cloudfront-viewer-time-zone"] == "Asia/Tokyo"


# ------------------------------------------------------------------------------------------
# cf.edgeLocation


def test_edge_location_info() -> None:
    assert edge_location_info("SEA", "198.51.100.1") == {
        "name": "SEA",
        "serverIp": "127.0.0.1",
        "region": "us-west-2",  # the documented example
    }
    assert edge_location_info("fra56-p1", "2001:db8::1") == {
        "name": "FRA",
        "serverIp": "::1",
        "region": "eu-central-1",
    }
    assert edge_location_info("NRT", "x")["region"] == "ap-northeast-1"
    assert edge_location_info("ZZZ", "x")["region"] == "us-east-1"


def test_edge_location_region_follows_the_configured_pop_regions() -> None:
    # [edges] pop_regions: the same table decides a lambda's AWS_REGION and MRAP routing.
    assert edge_location_info("FRA", "x", (("FRA", "eu-central-1"),))["region"] == "eu-central-1"
    assert edge_location_info("fra56-p1", "x", (("FRA", "eu-west-3"),))["region"] == "eu-west-3"
    assert edge_location_info("FRA", "x", (("IAD", "us-west-2"),))["region"] == "eu-central-1"


# ------------------------------------------------------------------------------------------
# Without control headers: the address alone decides (pop_at / country_at, the usual request)

_ADDRESSES = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.sampled_from(["10.1.2.3", "10.9.9.9", "::ffff:10.1.2.3", "2001:db8:1::5", "not-an-ip"]),
)


@given(client_ip=_ADDRESSES)
def test_without_tables_every_address_gets_the_first_pop_and_the_default_country(
    client_ip: str,
) -> None:
    resolver = ViewerResolver(Edges(pops=("LHR", "IAD"), default_country="gb"))
    req = make_request(client_ip, [("user-agent", "x")])
    assert resolver.pop_for(req) == resolver.pop_at(client_ip) == "LHR"
    assert resolver.country_for(req) == resolver.country_at(client_ip) == "GB"


@given(client_ip=_ADDRESSES)
def test_with_tables_the_address_decides_through_them(client_ip: str) -> None:
    resolver = ViewerResolver(EDGES)
    address = viewer.parse_client_ip(client_ip)
    pops = viewer.CidrTable([(r.network, r.value.upper()) for r in EDGES.pop_cidrs], what="t")
    countries = viewer.CidrTable(
        [(r.network, r.value.upper()) for r in EDGES.country_cidrs], what="t"
    )
    assert resolver.pop_at(client_ip) == (pops.lookup(address) or "IAD")
    assert resolver.country_at(client_ip) == (countries.lookup(address) or "US")
