"""The viewer side of the edge: which POP and country a request comes from, and what CloudFront says
about the viewer in its ``CloudFront-*`` request headers.

POP selection (first match wins): the ``x-edgesim-pop`` request header, a configured client-CIDR →
POP table (longest prefix wins), the first configured POP. Viewer country: the
``x-edgesim-viewer-country`` header, a CIDR → country table, a MaxMind database when one is
configured, ``edges.default_country``. The two ``x-edgesim-*`` control headers are edgesim's own
and are stripped before anything else (functions, origin, header order) sees the request.

Facts about the CloudFront-* headers come from the CloudFront Developer Guide, "Adding CloudFront
request headers" (awsdocs/amazon-cloudfront-developer-guide,
doc_source/adding-cloudfront-headers.md) and from the shared reference notes, part B.6.
"""

from __future__ import annotations

import functools
import importlib
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgesim.countries import COUNTRY_CODES
from edgesim.distribution.model import CidrRule, Edges
from edgesim.edge.message import EdgeRequest, Headers
from edgesim.errors import InputError

POP_HEADER = "x-edgesim-pop"
COUNTRY_HEADER = "x-edgesim-viewer-country"
CONTROL_HEADERS: frozenset[str] = frozenset({POP_HEADER, COUNTRY_HEADER})

# "Headers beyond the character limit of 7,680 are truncated" (CloudFront-Viewer-Header-Order).
HEADER_ORDER_LIMIT = 7_680

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# XK is user-assigned, but GeoIP databases (MaxMind) report Kosovo with it. Checking against the
# list catches the classic "UK" for "GB" before it silently never matches.
ISO_COUNTRY_CODES: frozenset[str] = frozenset((*COUNTRY_CODES, "XK"))


# --------------------------------------------------------------------------------------------
# Control headers


def strip_control_headers(headers: Headers) -> Headers:
    """``headers`` without edgesim's control headers (names compared case-insensitively)."""
    return [(name, value) for name, value in headers if name.lower() not in CONTROL_HEADERS]


# --------------------------------------------------------------------------------------------
# Addresses and CIDR tables


@functools.lru_cache(maxsize=4096)
def parse_client_ip(text: str) -> IpAddress | None:
    """The client address as an ``ipaddress`` object, or None when it is not an IP literal.

    An IPv4-mapped IPv6 address (``::ffff:192.0.2.1``, what a dual-stack socket reports for an
    IPv4 peer) is turned into the IPv4 address, so IPv4 CIDR rules still match it.
    """
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class _PrefixTable:
    """One address family's rules, grouped by prefix length (longest first).

    A lookup masks the address once per distinct prefix length and probes a dict, so it costs
    O(number of distinct lengths) whatever the number of rules.
    """

    bits: int
    levels: tuple[tuple[int, dict[int, str]], ...]

    def lookup(self, address: IpAddress) -> str | None:
        value = int(address)
        for prefixlen, networks in self.levels:
            found = networks.get(value >> (self.bits - prefixlen))
            if found is not None:
                return found
        return None


class CidrTable:
    """A CIDR → value map with longest-prefix matching over IPv4 and IPv6."""

    def __init__(self, rules: Iterable[tuple[str, str]], *, what: str) -> None:
        grouped: dict[int, dict[int, dict[int, str]]] = {4: {}, 6: {}}
        for network_text, value in rules:
            network = _parse_network(network_text, what)
            level = grouped[network.version].setdefault(network.prefixlen, {})
            key = int(network.network_address) >> (network.max_prefixlen - network.prefixlen)
            # The same network listed twice: the first entry wins, as in config order.
            level.setdefault(key, value)
        self._tables = {version: _freeze(version, levels) for version, levels in grouped.items()}

    def lookup(self, address: IpAddress | None) -> str | None:
        if address is None:
            return None
        return self._tables[address.version].lookup(address)


def _parse_network(text: str, what: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        # strict=False: "10.1.2.3/8" means the /8 that contains it, which is unambiguous.
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError as exc:
        raise InputError(f"{what}: {text!r} is not a CIDR block ({exc})") from None


def _freeze(version: int, levels: dict[int, dict[int, str]]) -> _PrefixTable:
    bits = 32 if version == 4 else 128
    ordered = tuple(sorted(levels.items(), key=lambda item: item[0], reverse=True))
    return _PrefixTable(bits=bits, levels=ordered)


# --------------------------------------------------------------------------------------------
# Country codes and the optional GeoIP database


def normalise_country(text: str, where: str) -> str:
    """``text`` as an upper-case ISO 3166-1 alpha-2 code; InputError naming ``where`` if not one."""
    code = text.strip().upper()
    if code not in ISO_COUNTRY_CODES:
        hint = " (the United Kingdom is GB)" if code == "UK" else ""
        raise InputError(
            f"{where}: {text!r} is not an ISO 3166-1 alpha-2 country code{hint}; "
            "use two letters such as US, DE or JP"
        )
    return code


class GeoIpDatabase:
    """A MaxMind DB file (GeoLite2/GeoIP2 Country or City), read with the ``maxminddb`` package.

    ``maxminddb`` is optional: edgesim does not depend on it, so a configured database without the
    package installed is a configuration error with the fix in the message.
    """

    def __init__(self, path: Path) -> None:
        try:
            module: Any = importlib.import_module("maxminddb")
        except ImportError:
            raise InputError(
                f"edges.geoip_database is set to {str(path)!r}, but reading MaxMind databases "
                "needs the maxminddb package: run `pip install maxminddb`, or remove the setting"
            ) from None
        if not path.is_file():
            raise InputError(f"edges.geoip_database: no such file: {str(path)!r}")
        try:
            self._reader: Any = module.open_database(str(path))
        except Exception as exc:  # the reader raises its own error types for corrupt files
            raise InputError(
                f"edges.geoip_database: {str(path)!r} is not a readable MaxMind database ({exc})"
            ) from None

    @classmethod
    def from_reader(cls, reader: Any) -> GeoIpDatabase:
        """Wrap an already open reader (anything with ``get(ip) -> dict | None``); for tests."""
        database = cls.__new__(cls)
        database._reader = reader
        return database

    def record(self, address: IpAddress) -> Mapping[str, Any]:
        found = self._reader.get(str(address))
        return found if isinstance(found, Mapping) else {}

    def country(self, address: IpAddress) -> str | None:
        record = self.record(address)
        # "country" is where the address is used; "registered_country" is the fallback that
        # MaxMind fills for anycast and similar networks.
        for key in ("country", "registered_country"):
            code = _nested(record, key, "iso_code")
            if isinstance(code, str) and code.upper() in ISO_COUNTRY_CODES:
                return code.upper()
        return None

    def location_headers(self, address: IpAddress) -> Headers:
        """The CloudFront-Viewer-* location headers a City database can fill honestly."""
        return geo_record_headers(self.record(address))


def _nested(record: Mapping[str, Any], *keys: str | int) -> Any:
    value: Any = record
    for key in keys:
        if isinstance(key, int):
            if not isinstance(value, list) or len(value) <= key:
                return None
            value = value[key]
        elif isinstance(value, Mapping):
            value = value.get(key)
        else:
            return None
    return value


def geo_record_headers(record: Mapping[str, Any]) -> Headers:
    """Map a GeoIP2/GeoLite2 City record onto CloudFront's location headers (lower-case names).

    Only fields present in the record are emitted; CloudFront's own values come from its own
    database, so city names and coordinates will differ from production.
    """
    fields: list[tuple[str, Any]] = [
        ("cloudfront-viewer-city", _nested(record, "city", "names", "en")),
        ("cloudfront-viewer-country-name", _nested(record, "country", "names", "en")),
        ("cloudfront-viewer-country-region", _nested(record, "subdivisions", 0, "iso_code")),
        (
            "cloudfront-viewer-country-region-name",
            _nested(record, "subdivisions", 0, "names", "en"),
        ),
        ("cloudfront-viewer-latitude", _nested(record, "location", "latitude")),
        ("cloudfront-viewer-longitude", _nested(record, "location", "longitude")),
        ("cloudfront-viewer-metro-code", _nested(record, "location", "metro_code")),
        ("cloudfront-viewer-postal-code", _nested(record, "postal", "code")),
        ("cloudfront-viewer-time-zone", _nested(record, "location", "time_zone")),
        ("cloudfront-viewer-asn", _nested(record, "autonomous_system_number")),
    ]
    return [(name, percent_encode_non_ascii(str(value))) for name, value in fields if value]


def percent_encode_non_ascii(text: str) -> str:
    """Percent-encode the UTF-8 bytes of non-ASCII characters, as CloudFront does for location
    header values ("For non-ASCII characters in these headers' values, CloudFront percent-encodes
    the character", RFC 3986 section 2.1)."""
    return "".join(char if char.isascii() else _percent_bytes(char) for char in text)


def _percent_bytes(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


# --------------------------------------------------------------------------------------------
# POP and country resolution


class ViewerResolver:
    """Decides the POP and viewer country of each request from the ``[edges]`` settings."""

    def __init__(self, edges: Edges) -> None:
        if not edges.pops:
            raise InputError("edges.pops: at least one POP is needed")
        self.edges = edges
        self._pops = {pop.upper(): pop for pop in edges.pops}
        self._pop_table = CidrTable(self._pop_rules(edges.pop_cidrs), what="edges.pop_cidrs")
        self._country_table = CidrTable(
            self._country_rules(edges.country_cidrs), what="edges.country_cidrs"
        )
        self._default_country = normalise_country(edges.default_country, "edges.default_country")
        self._geoip = GeoIpDatabase(edges.geoip_database) if edges.geoip_database else None
        # Decided once: without CIDR tables (or a database) the address decides nothing, and
        # requests skip parsing it.
        self._first_pop = edges.pops[0]
        self._pops_by_address = bool(edges.pop_cidrs)
        self._countries_by_address = bool(edges.country_cidrs) or self._geoip is not None

    def _pop_rules(self, rules: Sequence[CidrRule]) -> list[tuple[str, str]]:
        checked: list[tuple[str, str]] = []
        for rule in rules:
            pop = self._pops.get(rule.value.strip().upper())
            if pop is None:
                raise InputError(
                    f"edges.pop_cidrs: {rule.network} maps to {rule.value!r}, which is not one of "
                    f"the configured POPs ({self._pop_list()})"
                )
            checked.append((rule.network, pop))
        return checked

    @staticmethod
    def _country_rules(rules: Sequence[CidrRule]) -> list[tuple[str, str]]:
        return [
            (rule.network, normalise_country(rule.value, f"edges.country_cidrs {rule.network}"))
            for rule in rules
        ]

    def _pop_list(self) -> str:
        return ", ".join(self.edges.pops)

    def pop_for(self, req: EdgeRequest) -> str:
        """The POP serving ``req``: control header, then client CIDR, then the first POP."""
        requested = req.header(POP_HEADER)
        if requested is not None:
            pop = self._pops.get(requested.strip().upper())
            if pop is None:
                raise InputError(
                    f"request header {POP_HEADER}: unknown POP {requested!r}; "
                    f"configured POPs: {self._pop_list()}"
                )
            return pop
        return self.pop_at(req.client_ip)

    def pop_at(self, client_ip: str) -> str:
        """The POP for a viewer at ``client_ip`` (no control header): client CIDR, else the
        first POP."""
        if not self._pops_by_address:
            return self._first_pop
        found = self._pop_table.lookup(parse_client_ip(client_ip))
        return found if found is not None else self._first_pop

    def country_for(self, req: EdgeRequest) -> str:
        """The viewer country: control header, CIDR table, GeoIP database, default country."""
        requested = req.header(COUNTRY_HEADER)
        if requested is not None:
            return normalise_country(requested, f"request header {COUNTRY_HEADER}")
        return self.country_at(req.client_ip)

    def country_at(self, client_ip: str) -> str:
        """The country of a viewer at ``client_ip`` (no control header): CIDR table, GeoIP
        database, default country."""
        if not self._countries_by_address:
            return self._default_country
        address = parse_client_ip(client_ip)
        found = self._country_table.lookup(address)
        if found is None and self._geoip is not None and address is not None:
            found = self._geoip.country(address)
        return found if found is not None else self._default_country

    def location_headers(self, req: EdgeRequest) -> Headers:
        """City/region/coordinates/time-zone headers from the GeoIP database; [] without one.

        Without a database nothing is invented: the headers are simply absent (CloudFront, too,
        leaves them out for some requests - those from the AWS network). When the country was
        forced (control header, CIDR table, or ``req.country`` set to something else) the
        database's city would contradict it, so nothing is returned then either. Works before
        and after ``strip_control_headers``.
        """
        address = parse_client_ip(req.client_ip)
        if self._geoip is None or address is None:
            return []
        forced = req.header(COUNTRY_HEADER) is not None or (
            self._country_table.lookup(address) is not None
        )
        if forced or (req.country and req.country != self._geoip.country(address)):
            return []
        return self._geoip.location_headers(address)


# --------------------------------------------------------------------------------------------
# Device detection
#
# CloudFront derives the CloudFront-Is-*-Viewer headers from User-Agent, but its rules are not
# public; AWS only says several may be true at once ("for some tablet devices, CloudFront sets
# both CloudFront-Is-Mobile-Viewer and CloudFront-Is-Tablet-Viewer to true") and that iOS covers
# "iPhone, iPod touch, and some iPad devices". The heuristic below is edgesim's own:
#
# * smart TV: a TV platform token (SmartTV, SMART-TV, HbbTV, Web0S, Tizen TV, BRAVIA, NetCast,
#   Roku, CrKey/Chromecast, GoogleTV, Android TV, AppleTV, Amazon Fire TV's "AFTxx" models).
# * iOS: an iPhone / iPod / iPad token. iPadOS 13+ Safari sends a desktop macOS User-Agent by
#   default, so those iPads come out as desktop, which matches AWS's "some iPad devices".
# * Android: an "Android" token.
# * tablet: iPad; Android without the "Mobile" token (Google's convention for tablet browsers);
#   the words Tablet, Kindle, Silk or PlayBook.
# * mobile: the "Mobi" token (MDN's advice for detecting mobile browsers), iPhone, iPod,
#   Windows Phone, BlackBerry, Opera Mini. iPad Safari carries "Mobile/..." and so is mobile and
#   tablet; Android tablets usually are tablet only - one reading of "some tablet devices".
# * desktop: none of mobile, tablet, smart TV - including a missing User-Agent and non-browser
#   clients such as curl (assumption: CloudFront falls back to desktop).
# Windows Phone pretends to be Android and iPhone in its User-Agent; those claims are ignored.

_TV_MARKERS = (
    "smarttv",
    "smart-tv",
    "smart tv",
    "hbbtv",
    "web0s",
    "webos.tv",
    "bravia",
    "netcast",
    "roku",
    "crkey",
    "googletv",
    "google tv",
    "android tv",
    "appletv",
    "apple tv",
)
_FIRE_TV = re.compile(r"\bAFT[A-Z]{1,5}\b")
_TIZEN_TV = re.compile(r"tizen[^;)]*\btv\b")
_IOS = re.compile(r"\b(iphone|ipod|ipad)\b")
_OTHER_PHONES = ("windows phone", "blackberry", "bb10", "opera mini", "iemobile")
_TABLET_WORDS = ("tablet", "kindle", "silk/", "playbook")

DEVICE_KEYS = ("android", "desktop", "ios", "mobile", "smarttv", "tablet")


def device_flags(user_agent: str | None) -> dict[str, bool]:
    """Device classes for ``user_agent`` (keys ``DEVICE_KEYS``); heuristic described above."""
    raw = user_agent or ""
    ua = raw.lower()
    windows_phone = "windows phone" in ua
    smarttv = _is_smart_tv(raw, ua)
    ios = bool(_IOS.search(ua)) and not windows_phone
    android = "android" in ua and not windows_phone
    tablet = not smarttv and _is_tablet(ua, android)
    mobile = not smarttv and _is_mobile(ua, ios)
    return {
        "android": android,
        "desktop": not (mobile or tablet or smarttv),
        "ios": ios,
        "mobile": mobile,
        "smarttv": smarttv,
        "tablet": tablet,
    }


def _is_smart_tv(raw: str, ua: str) -> bool:
    if any(marker in ua for marker in _TV_MARKERS):
        return True
    return bool(_FIRE_TV.search(raw) or _TIZEN_TV.search(ua))


def _is_tablet(ua: str, android: bool) -> bool:
    if "ipad" in ua or any(word in ua for word in _TABLET_WORDS):
        return True
    return android and "mobile" not in ua


def _is_mobile(ua: str, ios: bool) -> bool:
    if "mobi" in ua or any(marker in ua for marker in _OTHER_PHONES):
        return True
    return ios and "ipad" not in ua


# --------------------------------------------------------------------------------------------
# CloudFront-* viewer headers


def viewer_address(client_ip: str, client_port: int) -> str:
    """``CloudFront-Viewer-Address``: ``ip:port``, the source port of the viewer's connection.

    AWS documents only the IPv4 form (``198.51.100.10:46532``). For IPv6 edgesim writes the
    address unbracketed followed by ``:port`` (``2001:db8::1:46532``), so parsers must split at
    the last colon; that this is CloudFront's IPv6 form is unverified.
    """
    address = parse_client_ip(client_ip)
    text = str(address) if address is not None else client_ip
    return f"{text}:{client_port}"


def viewer_http_version(http_version: str) -> str:
    """``CloudFront-Viewer-Http-Version`` value: ``1.0``, ``1.1``, ``2.0`` or ``3.0``."""
    version = http_version.strip().upper().removeprefix("HTTP/")
    return f"{version}.0" if version in {"2", "3"} else version


def header_order(names: Iterable[str], limit: int = HEADER_ORDER_LIMIT) -> tuple[str, int]:
    """(``CloudFront-Viewer-Header-Order``, ``CloudFront-Viewer-Header-Count``) for ``names``.

    Names are kept as the viewer spelled them (AWS's example: ``Host:User-Agent:Accept:
    Accept-Encoding``), one entry per header line, control headers excluded. The order value
    stops before the first name that would take it past ``limit`` characters (whole names are
    dropped rather than cut - AWS only says headers beyond the limit are truncated); the count
    still covers every header, so a mismatch shows that truncation happened.
    """
    kept = [name for name in names if name.lower() not in CONTROL_HEADERS]
    parts: list[str] = []
    length = 0
    for name in kept:
        added = len(name) + (1 if parts else 0)
        if length + added > limit:
            break
        parts.append(name)
        length += added
    return ":".join(parts), len(kept)


def cloudfront_viewer_headers(
    req: EdgeRequest,
    *,
    raw_header_names: Sequence[str] | None = None,
    location: Sequence[tuple[str, str]] = (),
) -> Headers:
    """Every CloudFront-* viewer header edgesim can compute honestly for ``req`` (lower-case).

    The pipeline keeps those its cache / origin request policies name. ``raw_header_names`` are
    the request's header names as received (case kept, duplicates kept); without them the
    lower-cased names of ``req.headers`` stand in, which is what an HTTP/2 viewer sends anyway.
    ``location`` carries extra location headers (``ViewerResolver.location_headers``).
    Not produced, because edgesim has nothing true to put in them: ``-Viewer-TLS``, ``-JA3-`` and
    ``-JA4-Fingerprint``, and ``-Viewer-ASN`` / city / coordinates unless ``location`` has them.
    """
    headers: Headers = [
        ("cloudfront-viewer-address", viewer_address(req.client_ip, req.client_port)),
    ]
    if req.country:
        headers.append(("cloudfront-viewer-country", req.country))
    headers.extend(location)
    names = raw_header_names if raw_header_names is not None else [k for k, _ in req.headers]
    order, count = header_order(names)
    headers.append(("cloudfront-viewer-header-order", order))
    headers.append(("cloudfront-viewer-header-count", str(count)))
    headers.append(("cloudfront-forwarded-proto", req.scheme.lower()))
    headers.append(("cloudfront-viewer-http-version", viewer_http_version(req.http_version)))
    flags = device_flags(req.header("user-agent"))
    for key in DEVICE_KEYS:
        headers.append((f"cloudfront-is-{key}-viewer", "true" if flags[key] else "false"))
    return headers


# --------------------------------------------------------------------------------------------
# cloudfront.edgeLocation

# POP (IATA code) → AWS Region of a nearby Regional Edge Cache. AWS publishes neither the POP
# list nor this mapping; the one documented example is SEA → us-west-2 (general helper methods,
# cf.edgeLocation). Entries are edgesim's best guess at the nearest Region; unknown codes get
# us-east-1, the Region CloudFront's own control plane lives in.
POP_REGIONS: dict[str, str] = {
    # North America
    "IAD": "us-east-1", "JFK": "us-east-1", "EWR": "us-east-1", "BOS": "us-east-1",
    "ATL": "us-east-1", "MIA": "us-east-1", "PHL": "us-east-1", "CLT": "us-east-1",
    "ORD": "us-east-2", "DFW": "us-east-2", "IAH": "us-east-2", "MSP": "us-east-2",
    "DEN": "us-east-2", "DTW": "us-east-2", "MCI": "us-east-2", "QRO": "us-east-2",
    "SEA": "us-west-2", "PDX": "us-west-2", "YVR": "us-west-2",
    "SFO": "us-west-1", "SJC": "us-west-1", "LAX": "us-west-1", "PHX": "us-west-1",
    "YUL": "ca-central-1", "YYZ": "ca-central-1",
    # Europe
    "LHR": "eu-west-2", "MAN": "eu-west-2", "DUB": "eu-west-1",
    "FRA": "eu-central-1", "MUC": "eu-central-1", "DUS": "eu-central-1", "HAM": "eu-central-1",
    "AMS": "eu-central-1", "ZRH": "eu-central-1", "VIE": "eu-central-1", "WAW": "eu-central-1",
    "PRG": "eu-central-1", "BUD": "eu-central-1",
    "CDG": "eu-west-3", "MRS": "eu-west-3",
    "MXP": "eu-south-1", "FCO": "eu-south-1", "MAD": "eu-south-2", "BCN": "eu-south-2",
    "LIS": "eu-south-2",
    "ARN": "eu-north-1", "HEL": "eu-north-1", "OSL": "eu-north-1", "CPH": "eu-north-1",
    # Asia Pacific
    "NRT": "ap-northeast-1", "HND": "ap-northeast-1", "KIX": "ap-northeast-1",
    "TPE": "ap-northeast-1", "ICN": "ap-northeast-2",
    "HKG": "ap-east-1", "SIN": "ap-southeast-1", "KUL": "ap-southeast-1",
    "BKK": "ap-southeast-1", "CGK": "ap-southeast-1", "MNL": "ap-southeast-1",
    "BOM": "ap-south-1", "DEL": "ap-south-1", "MAA": "ap-south-1", "BLR": "ap-south-1",
    "HYD": "ap-south-1", "CCU": "ap-south-1",
    "SYD": "ap-southeast-2", "MEL": "ap-southeast-2", "PER": "ap-southeast-2",
    "AKL": "ap-southeast-2",
    # South America, Middle East, Africa
    "GRU": "sa-east-1", "GIG": "sa-east-1", "EZE": "sa-east-1", "SCL": "sa-east-1",
    "BOG": "sa-east-1", "LIM": "sa-east-1",
    "DXB": "me-central-1", "FJR": "me-central-1", "BAH": "me-south-1", "TLV": "il-central-1",
    "JNB": "af-south-1", "CPT": "af-south-1",
}  # fmt: skip

DEFAULT_REGION = "us-east-1"


def pop_code(pop: str) -> str:
    """The three-letter IATA code of a POP name (``"IAD89-C1"`` → ``"IAD"``)."""
    return pop.strip()[:3].upper()


def edge_location_info(
    pop: str, client_ip: str, pop_regions: tuple[tuple[str, str], ...] = ()
) -> dict[str, str]:
    return dict(_edge_location_info(pop, client_ip, pop_regions))


@functools.lru_cache(maxsize=1024)
def _edge_location_info(
    pop: str, client_ip: str, pop_regions: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """``cf.edgeLocation`` for a request served by ``pop``: ``{name, serverIp, region}``.

    ``name`` is the IATA code, ``region`` the expected Regional Edge Cache Region (``[edges]
    pop_regions`` by POP name or code, else ``POP_REGIONS``): the same region a Lambda@Edge
    function runs in and an MRAP-style origin routes by. ``serverIp`` is "the IPv4/IPv6 address
    of the CloudFront server"; edgesim has no CloudFront server, so it gives the loopback
    address of the viewer's address family.
    """
    code = pop_code(pop)
    address = parse_client_ip(client_ip)
    server_ip = "::1" if address is not None and address.version == 6 else "127.0.0.1"
    overrides = dict(pop_regions)
    region = overrides.get(pop) or overrides.get(code) or POP_REGIONS.get(code, DEFAULT_REGION)
    return (("name", code), ("serverIp", server_ip), ("region", region))
