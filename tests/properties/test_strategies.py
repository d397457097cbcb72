"""Properties of edgesim.strategies: every event is one CloudFront could send (the event builder
and the output validation rules accept it, a pass-through function returns it unchanged), and
every KVS key, value and store is within CloudFront's limits and importable."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from edgesim import limits
from edgesim import strategies as es
from edgesim.kvs.importfile import dump_import, parse_import
from edgesim.kvs.service import KvsService
from edgesim.runtime.event import build_event
from edgesim.runtime.function import BudgetPolicy
from edgesim.runtime.result import is_disallowed, validate_request, validate_response
from edgesim.testing import FAULTS, EdgeFunction, ReplicatedKvs, load_function

# `find` without shrinking: only whether an example exists matters, not the smallest one.
FIND = settings(phases=[Phase.generate], max_examples=1000, database=None)
PERCENT_OK = re.compile(r"%(?![0-9A-F]{2})")
BAD_QUERY = re.compile(r"[\x00-\x20\x7f#]")


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> dict[str, EdgeFunction]:
    """Pass-through functions, to run generated events through the real runtime."""
    folder = tmp_path_factory.mktemp("identity")
    loaded = {}
    for kind in ("request", "response"):
        path = folder / f"{kind}.js"
        path.write_text(f"function handler(event) {{ return event.{kind}; }}")
        loaded[kind] = load_function(path, budget=BudgetPolicy(deterministic=True))
    return loaded


def check_headers(headers: dict[str, Any]) -> None:
    for name, entry in headers.items():
        assert name == name.lower()
        assert not is_disallowed(name), name
        values = [m["value"] for m in entry.get("multiValue", [entry])]
        assert all(v == v.strip() and "\n" not in v for v in values)


# -- events -----------------------------------------------------------------------------------


@given(es.viewer_requests())
def test_viewer_requests_are_valid_cloudfront_events(
    identity: dict[str, EdgeFunction], event: dict[str, Any]
) -> None:
    assert build_event(event) == event
    request = event["request"]
    assert request["uri"].startswith("/")
    assert not PERCENT_OK.search(request["uri"])
    check_headers(request["headers"])
    assert "cookie" not in request["headers"]
    for name, entry in request["querystring"].items():
        assert not BAD_QUERY.search(name + entry["value"])
    warnings: list[str] = []
    assert validate_request(request, request, warnings) == []
    assert warnings == []
    result = identity["request"].run(event, seed=1)
    assert result.error is None
    assert result.warnings == []
    assert {k: result.request[k] for k in request} == request  # type: ignore[index]


@given(es.viewer_responses())
def test_viewer_responses_are_valid_cloudfront_events(
    identity: dict[str, EdgeFunction], event: dict[str, Any]
) -> None:
    assert build_event(event) == event
    response = event["response"]
    assert 200 <= response["statusCode"] <= 399
    check_headers(response["headers"])
    assert "set-cookie" not in response["headers"]
    warnings: list[str] = []
    assert validate_response(response, response, warnings) == []
    assert warnings == []
    result = identity["response"].run(event, seed=1)
    assert result.error is None
    assert result.warnings == []
    assert result.response == response


@given(
    es.viewer_requests(
        uri="/checkout",
        method="GET",
        cookies=st.fixed_dictionaries({"uid": st.uuids().map(str)}),
        country=es.countries(),
    )
)
def test_fixed_fields_are_kept(event: dict[str, Any]) -> None:
    request = event["request"]
    assert (request["uri"], request["method"], list(request["cookies"])) == (
        "/checkout",
        "GET",
        ["uid"],
    )
    assert re.fullmatch(r"[A-Z]{2}", request["headers"]["cloudfront-viewer-country"]["value"])


@given(es.viewer_requests(uri="/a?x=1&x=2", headers={"accept": "*/*"}))
def test_a_fixed_uri_may_carry_the_query_and_fixed_headers_are_exact(event: dict[str, Any]) -> None:
    request = event["request"]
    assert request["uri"] == "/a"
    assert request["querystring"]["x"]["multiValue"] == [{"value": "1"}, {"value": "2"}]
    assert set(request["headers"]) <= {"accept", "host", "cloudfront-viewer-country"}


@given(es.viewer_requests(uri="/" + "a" * 8000))
def test_a_long_fixed_uri_keeps_the_event_under_the_limit(event: dict[str, Any]) -> None:
    request = event["request"]
    assert validate_request(request, request, []) == []


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(TypeError, match="unknown field 'path'"):
        es.viewer_requests(path="/")
    with pytest.raises(TypeError, match="unknown field 'uri'"):
        es.viewer_responses(uri="/")


@given(es.viewer_addresses())
def test_viewer_addresses_are_ip_and_port(value: str) -> None:
    ip, _, port = value.rpartition(":")
    ipaddress.ip_address(ip)
    assert 1 <= int(port) <= 65_535


@given(es.viewer_requests())
def test_the_viewer_address_header_matches_viewer_ip(event: dict[str, Any]) -> None:
    header = event["request"]["headers"].get("cloudfront-viewer-address")
    if header is not None:
        assert header["value"].rpartition(":")[0] == event["viewer"]["ip"]


def test_repeated_parameters_headers_and_ipv6_viewers_are_generated() -> None:
    find(
        es.query_strings(),
        lambda q: len({p.partition("=")[0] for p in q.split("&")}) < q.count("&") + 1,
        settings=FIND,
    )
    find(
        es.viewer_requests(),
        lambda e: any("multiValue" in h for h in e["request"]["headers"].values()),
        settings=FIND,
    )
    find(
        es.viewer_requests(),
        lambda e: any("multiValue" in c for c in e["request"]["cookies"].values()),
        settings=FIND,
    )
    find(es.viewer_requests(), lambda e: ":" in e["viewer"]["ip"], settings=FIND)


@given(es.countries(), es.user_agents(), es.methods(), es.hosts())
def test_small_pieces(country: str, agent: str, method: str, host: str) -> None:
    assert country in es.COUNTRY_CODES
    assert len(es.COUNTRY_CODES) == 249
    assert agent
    assert agent == agent.strip()
    assert agent.isprintable()
    assert method in ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")
    assert host == host.lower()
    assert "." in host


# -- KeyValueStore ----------------------------------------------------------------------------


@given(es.kvs_keys(), es.kvs_values())
def test_keys_and_values_fit(key: str, value: str) -> None:
    assert 1 <= len(key.encode()) <= limits.KVS_MAX_KEY_BYTES
    assert len(value.encode()) <= limits.KVS_MAX_VALUE_BYTES


def test_keys_and_values_reach_their_limits() -> None:
    find(es.kvs_keys(), lambda k: len(k.encode()) == limits.KVS_MAX_KEY_BYTES, settings=FIND)
    find(es.kvs_values(), lambda v: len(v.encode()) == limits.KVS_MAX_VALUE_BYTES, settings=FIND)
    find(es.kvs_values(), lambda v: v == "", settings=FIND)


@given(es.kvs_keys(max_bytes=3), es.kvs_values(max_bytes=5))
def test_smaller_limits_are_kept(key: str, value: str) -> None:
    assert 1 <= len(key.encode()) <= 3
    assert len(value.encode()) <= 5


@given(es.kvs_contents())
def test_contents_are_importable(items: dict[str, str]) -> None:
    assert parse_import(dump_import(items)) == items
    with KvsService() as service:
        service.create_store("generated", items=items)
        assert service.export("generated") == dict(sorted(items.items()))


@given(es.kvs_contents(max_items=30, min_items=1, max_bytes=4096))
def test_contents_respect_a_smaller_store_limit(items: dict[str, str]) -> None:
    assert sum(len(k.encode()) + len(v.encode()) for k, v in items.items()) <= 4096


@given(es.kvs_faults(), es.kvs_faults(propagating=False))
def test_faults(fault: str, reader_fault: str) -> None:
    assert fault in (*FAULTS, "propagating")
    assert reader_fault in FAULTS


@given(es.kvs_json_values(), es.lag_models(), es.kvs_contents(max_items=5))
def test_lag_models_drive_a_replicated_store(value: str, lag: Any, items: dict[str, str]) -> None:
    with ReplicatedKvs(items, lag=lag) as kvs:
        kvs.put("doc", value)
        kvs.settle()
        assert {kvs.replica(pop).get("doc") for pop in kvs.pops} == {value}


def test_invalid_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        es.kvs_keys(max_bytes=513)
    with pytest.raises(ValueError, match="max_bytes"):
        es.kvs_values(max_bytes=2000)
    with pytest.raises(ValueError, match="max_length"):
        es.uris(max_length=0)


@given(es.uris(max_length=7))
def test_short_uris_stay_well_formed(uri: str) -> None:
    assert uri.startswith("/")
    assert len(uri) <= 7
    assert not PERCENT_OK.search(uri)
    assert not set(uri.split("/")) & {".", ".."}
