"""edgesim.testing.events: the event builders a test uses instead of CloudFront's nested JSON."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.testing import viewer_request, viewer_response
from edgesim.testing.events import DEFAULT_HOST, DEFAULT_IP


def test_viewer_request_defaults_to_a_get_of_root_from_a_documentation_address() -> None:
    event = viewer_request()
    assert event["context"]["eventType"] == "viewer-request"
    assert event["viewer"] == {"ip": DEFAULT_IP}
    request = event["request"]
    assert (request["method"], request["uri"], request["querystring"]) == ("GET", "/", {})
    assert request["headers"] == {"host": {"value": DEFAULT_HOST}}
    assert request["cookies"] == {}


def test_query_in_the_uri_becomes_the_querystring_with_repeats_as_multi_values() -> None:
    request = viewer_request("/p?a=1&b=&&a=2&c")["request"]
    assert request["uri"] == "/p"
    assert request["querystring"] == {
        "a": {"value": "1", "multiValue": [{"value": "1"}, {"value": "2"}]},
        "b": {"value": ""},
        "c": {"value": ""},
    }


def test_an_explicit_querystring_wins_over_the_one_in_the_uri() -> None:
    request = viewer_request("/p?from=uri", querystring={"from": "argument"})["request"]
    assert request["querystring"] == {"from": {"value": "argument"}}
    assert viewer_request("/p", querystring="?x=1")["request"]["querystring"] == {
        "x": {"value": "1"}
    }


def test_header_names_are_lower_cased_and_lists_repeat_a_header() -> None:
    headers = viewer_request(headers={"Accept": "text/html", "X-Tag": ["a", "b"]})["request"][
        "headers"
    ]
    assert headers["accept"] == {"value": "text/html"}
    assert headers["x-tag"] == {"value": "a", "multiValue": [{"value": "a"}, {"value": "b"}]}


def test_host_is_the_distribution_domain_unless_given_or_turned_off() -> None:
    assert viewer_request(headers={"Host": "example.com"})["request"]["headers"]["host"] == {
        "value": "example.com"
    }
    assert viewer_request(host="shop.example")["request"]["headers"]["host"]["value"] == (
        "shop.example"
    )
    assert "host" not in viewer_request(host=None)["request"]["headers"]


def test_country_adds_the_viewer_country_header_in_upper_case() -> None:
    headers = viewer_request(country="de")["request"]["headers"]
    assert headers["cloudfront-viewer-country"] == {"value": "DE"}
    assert "cloudfront-viewer-country" not in viewer_request()["request"]["headers"]


def test_method_ip_cookies_and_request_id_are_placed_where_cloudfront_puts_them() -> None:
    event = viewer_request(
        method="POST", ip="2001:db8::1", cookies={"uid": "u1"}, request_id="req-1"
    )
    assert event["request"]["method"] == "POST"
    assert event["viewer"]["ip"] == "2001:db8::1"
    assert event["request"]["cookies"] == {"uid": {"value": "u1"}}
    assert event["context"]["requestId"] == "req-1"


@pytest.mark.parametrize(
    "value",
    [
        7,
        b"raw",
        {"a": "b"},
        [],
        ["ok", 7],
    ],
)
def test_a_value_that_is_not_a_string_or_a_list_of_strings_is_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match=r"^x-bad: expected a string or a non-empty list"):
        viewer_request(headers={"x-bad": value})  # type: ignore[dict-item]


def test_viewer_response_defaults_to_200_for_a_get_of_root() -> None:
    event = viewer_response()
    assert event["context"]["eventType"] == "viewer-response"
    assert event["response"] == {"statusCode": 200, "headers": {}, "cookies": {}}
    assert event["request"]["uri"] == "/"


def test_viewer_response_splits_set_cookie_attributes_from_the_value() -> None:
    response = viewer_response(
        404,
        headers={"Cache-Control": "no-store"},
        cookies={"sid": "abc; Secure; Path=/", "plain": "v"},
        status_description="Not Found",
    )["response"]
    assert response["statusCode"] == 404
    assert response["statusDescription"] == "Not Found"
    assert response["headers"] == {"cache-control": {"value": "no-store"}}
    assert response["cookies"] == {
        "sid": {"value": "abc", "attributes": "Secure; Path=/"},
        "plain": {"value": "v", "attributes": ""},
    }


def test_viewer_response_takes_a_request_event_or_just_its_request() -> None:
    whole = viewer_response(request=viewer_request("/from-event", request_id="r-9"))
    assert whole["request"]["uri"] == "/from-event"
    assert whole["context"]["requestId"] == "r-9"
    part = viewer_request("/from-part")["request"]
    assert viewer_response(request=part)["request"]["uri"] == "/from-part"


NAMES = st.from_regex(r"x-[a-z][a-z0-9-]{0,8}", fullmatch=True)
VALUES = st.lists(
    st.from_regex(r"[A-Za-z0-9 ,;=/.-]{0,12}", fullmatch=True), min_size=1, max_size=3
)


@given(st.dictionaries(NAMES, VALUES, max_size=5))
def test_every_header_keeps_its_first_value_and_all_repeats(
    headers: dict[str, list[str]],
) -> None:
    built = viewer_request(headers={name.upper(): values for name, values in headers.items()})
    for name, values in headers.items():
        entry = built["request"]["headers"][name]
        assert entry["value"] == values[0]
        if len(values) > 1:
            assert [m["value"] for m in entry["multiValue"]] == values
        else:
            assert "multiValue" not in entry
