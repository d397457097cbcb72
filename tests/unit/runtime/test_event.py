"""Event construction and the TestFunction-style input clean-up."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.errors import EventError
from edgesim.runtime.event import build_event


def base(**request: object) -> dict[str, object]:
    return {"request": {"method": "GET", "uri": "/", **request}}


def test_missing_sections_become_empty_objects() -> None:
    event = build_event(base())
    assert event["request"]["headers"] == {}
    assert event["request"]["cookies"] == {}
    assert event["request"]["querystring"] == {}
    assert event["version"] == "1.0"
    assert event["context"] == {"eventType": "viewer-request"}


def test_entries_keep_only_value_and_multivalue() -> None:
    event = build_event(
        base(
            headers={
                "accept": {"value": "a", "multivalue": [{"value": "x"}], "extra": 1},
                "x-many": {"value": "1", "multiValue": [{"value": "1", "junk": 2}, {"value": "2"}]},
            }
        )
    )
    assert event["request"]["headers"]["accept"] == {"value": "a"}
    assert event["request"]["headers"]["x-many"] == {
        "value": "1",
        "multiValue": [{"value": "1"}, {"value": "2"}],
    }


def test_header_names_are_not_lowercased() -> None:
    event = build_event(base(headers={"X-Custom": {"value": "v"}}))
    assert "X-Custom" in event["request"]["headers"]


def test_response_cookies_keep_attributes() -> None:
    event = build_event(
        {
            "request": {"method": "GET", "uri": "/"},
            "response": {
                "statusCode": 200,
                "cookies": {"id": {"value": "1", "attributes": "Secure", "bogus": True}},
            },
        }
    )
    assert event["context"]["eventType"] == "viewer-response"
    assert event["response"]["cookies"]["id"] == {"value": "1", "attributes": "Secure"}
    assert event["response"]["headers"] == {}


def test_explicit_event_type_wins_and_viewer_request_drops_response() -> None:
    raw = {"request": {"method": "GET", "uri": "/"}, "response": {"statusCode": 200}}
    assert "response" not in build_event(raw, event_type="viewer-request")


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ([], "event: expected an object"),
        ({}, "event.request: missing"),
        (base(headers={"a": {"value": 1}}), "event.request.headers.a.value: expected a string"),
        (base(headers={"a": "b"}), "event.request.headers.a: expected an object"),
        (
            base(cookies={"a": {"value": "1", "multiValue": "x"}}),
            "event.request.cookies.a.multiValue",
        ),
        ({"context": {"eventType": "origin-request"}, "request": {}}, "event.context.eventType"),
        ({"request": {}, "context": {"eventType": "viewer-response"}}, "event.response: missing"),
        ({"request": {}, "response": {"statusCode": "200"}}, "event.response.statusCode"),
    ],
)
def test_bad_events_name_the_field(raw: object, where: str) -> None:
    with pytest.raises(EventError, match=where.replace(".", r"\.")):
        build_event(raw)


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
entries = st.fixed_dictionaries(
    {"value": st.text(max_size=20)},
    optional={
        "multiValue": st.lists(st.fixed_dictionaries({"value": st.text(max_size=5)}), max_size=3)
    },
)


@given(st.dictionaries(names, entries, max_size=6))
def test_clean_up_is_idempotent_and_keeps_valid_entries(headers: dict[str, object]) -> None:
    once = build_event(base(headers=headers))
    assert once["request"]["headers"] == headers
    assert build_event(once) == once
