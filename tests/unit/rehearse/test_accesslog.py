"""CloudFront standard access logs as traffic: fields found by the #Fields: line, values decoded
once, edge locations mapped to configured POPs (the nearest one when not configured, with a
warning), and a rehearsal on a log marked partial with the inputs it lacks."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.errors import InputError
from edgesim.rehearse import rehearse
from edgesim.rehearse.accesslog import MISSING_INPUTS, is_access_log, read_access_log
from edgesim.rehearse.airports import AIRPORTS, PopMapper, distance_km
from edgesim.rehearse.traffic import OriginStub
from tests.unit.rehearse.traffic_gen import (
    AB_AFTER,
    CONFIG,
    FIXTURES,
    REWRITES_AFTER,
    expected_kinds,
)

LOG = FIXTURES / "access.log"
POPS = ("IAD", "FRA", "NRT")


def test_each_line_becomes_the_request_it_logged() -> None:
    log = read_access_log(LOG, POPS)
    first, promo, docs, sydney, odd = log.records
    assert (first.method, first.uri, first.query) == ("GET", "/checkout/cart", None)
    # x-host-header is the viewer's Host; cs(Host) the distribution's domain name.
    assert first.headers == [
        ("host", "www.example.com"),
        ("user-agent", "Mozilla/5.0 (X11; Linux x86_64)"),
        ("cookie", "uid=user-1; theme=dark"),
    ]
    assert (first.ip, first.port, first.scheme, first.http_version) == (
        "198.51.100.7", 50312, "https", "2.0",
    )  # fmt: skip
    # 18:26:41 is when the response finished; it took 0.250 s.
    assert first.time_ms == 1_764_700_001_000 - 250
    assert first.country is None  # not in the log
    assert first.origin == OriginStub(200, [("content-type", "text/html")])
    assert promo.query == "utm=1"
    assert ("referer", "https://www.example.com/") in promo.headers
    assert promo.origin is None  # a function made that response: no origin status
    assert docs.origin == OriginStub(200, [("content-type", "text/html")])  # a Hit
    # A '%' the viewer sent is logged as %25: decoding once gives the wire form back.
    assert (odd.uri, odd.query, odd.scheme) == ("/a%2Cb", "q=%25&x=a%20b", "http")
    assert [r.pop for r in log.records] == ["IAD", "FRA", "FRA", "NRT", "IAD"]
    assert sydney.headers[-1] == ("cookie", "uid=user-2")


def test_unconfigured_locations_map_to_the_nearest_configured_pop_with_a_warning() -> None:
    log = read_access_log(LOG, POPS)
    assert log.warnings == [
        "LHR61-C2: not configured; mapped to the nearest configured POP FRA (~661 km)",
        "SYD1-C1: not configured; mapped to the nearest configured POP NRT (~7,831 km)",
        "ZZZ9-C1: not configured, unknown airport code; mapped to IAD",
    ]


def test_the_missing_inputs_are_listed() -> None:
    log = read_access_log(LOG, POPS)
    assert log.missing_inputs == list(MISSING_INPUTS)


def test_a_log_without_cookie_values_says_cookies_are_missing(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text(
        "#Version: 1.0\n#Fields: date time x-edge-location cs-method cs-uri-stem\n"
        "2025-12-02\t18:26:41\tNRT12-C3\tGET\t/x\n"
    )
    log = read_access_log(path, POPS)
    assert log.missing_inputs[1].startswith("cookies")
    (record,) = log.records
    assert (record.pop, record.headers, record.origin) == ("NRT", [], None)


def test_a_gzipped_log_is_read_as_delivered(tmp_path: Path) -> None:
    path = tmp_path / "E2EXAMPLE.2025-12-02-18.abcd.gz"
    path.write_bytes(gzip.compress(LOG.read_bytes()))
    assert is_access_log(path)
    assert read_access_log(path, POPS).records == read_access_log(LOG, POPS).records


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025-12-02\t18:26:41\n", r"a.log:1: a log line before the #Fields: header"),
        ("#Fields: date time cs-method\n", r"a.log:1: #Fields: lacks x-edge-location, cs-uri"),
        (
            "#Fields: date time x-edge-location cs-method cs-uri-stem\n2025-12-02\tIAD\n",
            r"a.log:2: 2 tab-separated values where #Fields: names 5",
        ),
        (
            "#Fields: date time x-edge-location cs-method cs-uri-stem\n1/2/25\tx\tIAD\tGET\t/\n",
            r"a.log:2: date/time '1/2/25' 'x' is not YYYY-MM-DD HH:MM:SS",
        ),
        ("#Version: 1.0\n", r"a.log: no #Fields: header line"),
    ],
)
def test_a_broken_log_names_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "a.log"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_access_log(path, POPS)


def test_a_rehearsal_on_a_log_is_partial_and_says_why() -> None:
    report = rehearse(
        LOG, CONFIG, kvs_after={"experiments": AB_AFTER, "rewrites": REWRITES_AFTER}, jobs=1
    )
    assert report["format"] == "cloudfront-access-log"
    assert report["partial"] is True
    assert report["missing_inputs"] == list(MISSING_INPUTS)
    assert any(w.startswith("LHR61-C2") for w in report["warnings"])
    assert report["total"] == 5
    records = read_access_log(LOG, POPS).records
    assert report["changed"] == sum(1 for r in records if expected_kinds(r)) >= 2
    assert report["by_kind"]["redirect_target_changed"]["count"] == 1
    assert report["by_pop"]["FRA"]["requests"] == 2


@given(st.sampled_from(sorted(AIRPORTS)), st.sets(st.sampled_from(sorted(AIRPORTS)), min_size=1))
def test_the_mapped_pop_is_the_nearest_configured_one(code: str, configured: set[str]) -> None:
    pops = tuple(sorted(configured))
    mapped = PopMapper(pops).map(f"{code}52-C1")
    here = AIRPORTS[code]
    best = min(distance_km(here, AIRPORTS[p]) for p in pops)
    assert distance_km(here, AIRPORTS[mapped]) == best
    if code in pops:
        assert mapped == code
