"""The Lambda@Edge event shape (Developer Guide, "Lambda@Edge event structure")."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.errors import EventError
from edgesim.lambda_edge import events, limits


def test_headers_are_lower_case_keys_of_key_value_lists_one_entry_per_value() -> None:
    headers = events.cf_headers([("Accept", "a/b"), ("X-Multi", "1"), ("x-multi", "2")])
    assert headers == {
        "accept": [{"key": "Accept", "value": "a/b"}],
        "x-multi": [{"key": "X-Multi", "value": "1"}, {"key": "x-multi", "value": "2"}],
    }


def test_the_inserted_key_capitalises_each_hyphen_separated_part() -> None:
    # The guide's own examples: user-agent → User-Agent, content-type → Content-Type.
    assert events.header_key("user-agent") == "User-Agent"
    assert events.header_key("content-type") == "Content-Type"
    assert events.header_key("x-CUSTOM-header") == "X-Custom-Header"


@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True),
            st.text(st.characters(codec="ascii", exclude_characters="\r\n\x00"), max_size=20),
        ),
        max_size=8,
    )
)
def test_header_pairs_round_trip_in_order_per_name(pairs: list[tuple[str, str]]) -> None:
    back = events.header_pairs(events.cf_headers(pairs))
    for name in {n.lower() for n, _ in pairs}:
        assert [p for p in back if p[0].lower() == name] == [
            p for p in pairs if p[0].lower() == name
        ]


def test_origin_request_event_has_config_request_and_one_origin() -> None:
    origin = events.s3_origin("bucket.s3.us-east-1.amazonaws.com", region="us-east-1")
    req = events.request("/a", querystring="?x=1", origin=origin, event_type="origin-request")
    event = events.build_event("origin-request", req)
    cf = event["Records"][0]["cf"]
    assert cf["config"]["eventType"] == "origin-request"
    assert set(cf["config"]) == {
        "distributionDomainName",
        "distributionId",
        "eventType",
        "requestId",
    }
    assert cf["request"]["querystring"] == "x=1"
    assert list(cf["request"]["origin"]) == ["s3"]
    assert "response" not in cf


def test_response_events_carry_the_status_as_a_string() -> None:
    event = events.build_event(
        "viewer-response", events.request("/"), events.response(404, status_description="Not Found")
    )
    assert event["Records"][0]["cf"]["response"]["status"] == "404"
    with pytest.raises(EventError, match="needs a response"):
        events.build_event("origin-response", events.request("/"))
    with pytest.raises(EventError, match="has no response"):
        events.build_event("viewer-request", events.request("/"), events.response())


@pytest.mark.parametrize(
    ("event_type", "cap"), [("viewer-request", 40 * 1024), ("origin-request", 1024 * 1024)]
)
def test_include_body_is_base64_and_truncated_per_event(event_type: str, cap: int) -> None:
    small = events.request_body(b"a=1", event_type)
    assert small == {
        "inputTruncated": False,
        "action": "read-only",
        "encoding": "base64",
        "data": base64.b64encode(b"a=1").decode(),
    }
    exact = events.request_body(b"x" * cap, event_type)
    assert exact["inputTruncated"] is False
    big = events.request_body(b"x" * (cap + 1), event_type)
    assert big["inputTruncated"] is True
    assert len(base64.b64decode(big["data"])) == cap


def test_parse_event_takes_a_whole_event_or_its_cf_object() -> None:
    whole = events.build_event(
        "origin-request",
        events.request("/p", origin=events.custom_origin("example.org")),
    )
    kind, parsed = events.parse_event(whole)
    assert kind == "origin-request"
    assert parsed == whole
    kind2, parsed2 = events.parse_event(whole["Records"][0]["cf"])
    assert (kind2, parsed2) == (kind, parsed)


def test_parse_event_infers_the_type_and_the_flag_overrides_it() -> None:
    cf = {"request": {"uri": "/", "method": "GET", "querystring": "", "headers": {}}}
    assert events.parse_event(cf)[0] == "viewer-request"
    cf_origin = {**cf, "request": {**cf["request"], "origin": events.custom_origin("a.org")}}
    assert events.parse_event(cf_origin)[0] == "origin-request"
    assert (
        events.parse_event(cf_origin, "origin-request")[1]["Records"][0]["cf"]["config"][
            "eventType"
        ]
        == "origin-request"
    )


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"Records": []}, "exactly one record"),
        ({"Records": [{"cf": []}]}, r"Records\[0\].cf: expected an object"),
        (
            {"request": {"uri": "/", "method": "GET", "querystring": {}}},
            "querystring: expected a string",
        ),
        ({"request": {"uri": "/", "method": "GET", "headers": {"Host": []}}}, "lower-case"),
        (
            {"request": {"uri": "/", "method": "GET", "headers": {"host": [{"value": 1}]}}},
            r"headers.host\[0\].value: expected a string",
        ),
        (
            {"config": {"eventType": "origin-request"}, "request": {"uri": "/", "method": "GET"}},
            "names its origin",
        ),
        (
            {"config": {"eventType": "nope"}, "request": {"uri": "/", "method": "GET"}},
            "eventType 'nope'",
        ),
        (
            {
                "config": {"eventType": "viewer-response"},
                "request": {"uri": "/", "method": "GET"},
                "response": {"status": 200},
            },
            "status code as a string",
        ),
    ],
)
def test_parse_event_names_what_is_wrong(doc: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(EventError, match=message):
        events.parse_event(doc)


def test_every_event_type_is_known_to_the_limits() -> None:
    assert set(limits.READ_ONLY_HEADERS) == set(limits.EVENT_TYPES)
    assert limits.event_class("viewer-response") == "viewer"
    assert limits.event_class("origin-response") == "origin"
