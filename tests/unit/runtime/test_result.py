"""What a handler returned: which kind it is, the production rules TestFunction skips (CloudFront:
502), and how TestFunction prints it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.runtime.result import (
    ResultKind,
    _request_problems,
    classify,
    is_disallowed,
    normalise,
    validate_request,
    validate_response,
)
from tests.unit.runtime.helpers import request_event, run


def problems_for(body: str, **event_kwargs: object) -> list[str]:
    event = request_event(**event_kwargs)  # type: ignore[arg-type]
    result = run(f"function handler(e) {{ {body} return e.request; }}", event)
    if result.error is None:
        return []
    assert result.error.kind == "validation", result.error
    return result.error.message.split("; ")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("e.request.headers.Host = {value: 'evil.example'};", "read-only header 'host'"),
        ("e.request.headers.HOST = {value: 'example.com'};", "read-only header 'host'"),
        (
            "e.request.headers['Content-Length'] = {value: '5'};",
            "read-only header 'content-length'",
        ),
        ("delete e.request.headers;", "removed the read-only header 'host'"),
        ("e.request.headers = undefined;", "removed the read-only header 'host'"),
    ],
)
def test_read_only_request_headers_cannot_be_bypassed(body: str, needle: str) -> None:
    problems = problems_for(body, headers={"host": "example.com"})
    assert any(needle in p for p in problems), problems


def test_removing_headers_without_a_host_is_fine() -> None:
    assert problems_for("delete e.request.headers;") == []


@pytest.mark.parametrize(
    "multi",
    ["[{value: 'a b'}]", "[{value: 'ok'}, {value: 'x#y'}]", "[{value: 'tab\\there'}]"],
)
def test_multivalue_query_strings_are_checked_like_single_values(multi: str) -> None:
    problems = problems_for(f"e.request.querystring.q = {{value: 'ok', multiValue: {multi}}};")
    assert any("request.querystring.q" in p and "space" in p for p in problems), problems


def test_multivalue_query_strings_count_toward_the_length_limit() -> None:
    body = (
        "e.request.querystring.q = {value: 'a', multiValue: []};"
        " for (var i = 0; i < 10; i++) e.request.querystring.q.multiValue.push({value: 'x'.repeat(900)});"
    )
    problems = problems_for(body)
    assert any("8192" in p for p in problems), problems


def test_clean_multivalue_query_strings_pass() -> None:
    body = "e.request.querystring.q = {value: 'a', multiValue: [{value: 'a'}, {value: 'b%20c'}]};"
    assert problems_for(body) == []


def test_unchanged_host_in_the_original_case_passes() -> None:
    original = {"method": "GET", "uri": "/", "headers": {"Host": {"value": "a"}}}
    returned = {"method": "GET", "uri": "/", "headers": {"Host": {"value": "a"}}}
    assert validate_request(returned, original, []) == []


def test_response_headers_in_capitals_are_read_only_too() -> None:
    original = {"statusCode": 200, "headers": {"via": {"value": "1.1 origin"}}}
    returned = {
        "statusCode": 200,
        "headers": {"via": {"value": "1.1 origin"}, "Via": {"value": "me"}},
    }
    problems = validate_response(returned, original, [])
    assert any("read-only header 'via'" in p for p in problems), problems


# --- classify -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "value", "kind"),
    [
        ("viewer-request", {"uri": "/"}, ResultKind.REQUEST),
        ("viewer-request", {"statusCode": 302}, ResultKind.RESPONSE),
        ("viewer-response", {"statusCode": 200}, ResultKind.RESPONSE),
        ("viewer-response", {"uri": "/"}, None),
        ("viewer-request", None, None),
        ("viewer-request", [], None),
        ("viewer-request", "ok", None),
    ],
)
def test_classify(event_type: str, value: object, kind: ResultKind | None) -> None:
    assert classify(event_type, value) == kind


def test_result_kinds_are_equal_to_their_strings() -> None:
    assert ResultKind.REQUEST == "request"
    assert ResultKind("response") is ResultKind.RESPONSE
    assert f"{ResultKind.RESPONSE}" == "response"


# --- normalise (what TestFunction prints) ---------------------------------------------------


def test_a_request_gets_empty_sections() -> None:
    returned = {"method": "GET", "uri": "/", "headers": None}
    assert normalise(ResultKind.REQUEST, returned) == {
        "method": "GET",
        "uri": "/",
        "querystring": {},
        "headers": {},
        "cookies": {},
    }
    assert returned["headers"] is None  # the input is left alone


def test_a_response_body_string_becomes_a_text_body() -> None:
    out = normalise(ResultKind.RESPONSE, {"statusCode": 200, "body": "hi"})
    assert out == {
        "statusCode": 200,
        "headers": {},
        "cookies": {},
        "body": {"encoding": "text", "data": "hi"},
    }
    assert "querystring" not in out


def test_a_request_query_string_given_as_text_is_kept() -> None:
    assert normalise(ResultKind.REQUEST, {"querystring": "a=1"})["querystring"] == "a=1"


# --- validation details ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["x-cache", "X-Forwarded-Proto", "x-amz-cf-pop", "x-edge-location", "Connection"],
)
def test_disallowed_headers(name: str) -> None:
    assert is_disallowed(name)


@pytest.mark.parametrize("name", ["x-amz-date", "cache-control", "x-edgesim", "host"])
def test_allowed_headers(name: str) -> None:
    assert not is_disallowed(name)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("hello", None),
        ({"encoding": "text", "data": "hello"}, None),
        ({"encoding": "base64", "data": "aGVsbG8="}, None),
        ({"data": "no encoding means text"}, None),
        ({"encoding": "base64", "data": "@@"}, "response.body.data is not valid base64"),
        ({"encoding": "hex", "data": "aa"}, "response.body.encoding must be 'text' or 'base64'"),
        ({"encoding": "text"}, "response.body must be a string or"),
        (5, "response.body must be a string or"),
    ],
)
def test_generated_response_bodies(body: object, problem: str | None) -> None:
    problems = validate_response({"statusCode": 200, "body": body}, None, [])
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1
        assert problems[0].startswith(problem)


@pytest.mark.parametrize("status", [199, 600, "200", True, None])
def test_status_codes_outside_200_to_599_are_rejected(status: object) -> None:
    problems = validate_response({"statusCode": status}, None, [])
    assert any("statusCode must be an integer from 200 to 599" in p for p in problems)


def test_a_generated_response_may_set_via() -> None:
    # Read-only response headers apply when changing an origin's response, not a generated one.
    assert (
        validate_response({"statusCode": 200, "headers": {"via": {"value": "me"}}}, None, []) == []
    )


def test_uppercase_header_names_are_a_warning_not_a_problem() -> None:
    warnings: list[str] = []
    returned = {"statusCode": 200, "headers": {"X-Team": {"value": "edge"}}}
    assert validate_response(returned, None, warnings) == []
    assert len(warnings) == 1
    assert "lowercase" in warnings[0]


def test_line_breaks_in_values_are_rejected() -> None:
    returned = {"statusCode": 200, "headers": {"x-a": {"value": "a\r\nset-cookie: b"}}}
    problems = validate_response(returned, None, [])
    assert problems == ["response.headers.x-a contains a line break or NUL character"]


def test_a_long_uri_plus_query_string_is_rejected() -> None:
    original = {"method": "GET", "uri": "/", "headers": {}}
    returned = {"method": "GET", "uri": "/" + "a" * 8000, "querystring": "q=" + "b" * 200}
    problems = validate_request(returned, original, [])
    assert problems == ["request.uri plus query string must stay under 8192 characters"]


def test_an_unchanged_query_with_valueless_entries_counts_as_the_viewer_spelled_it() -> None:
    # "/?" + "u" * 8,189 is 8,191 characters: under the limit as the viewer sent it ("?u…u"),
    # so returning it unchanged is fine; serialised anew ("u…u="), it would be one longer.
    query = {"u" * 8189: {"value": ""}}
    original = {"method": "GET", "uri": "/", "headers": {}, "querystring": query}
    returned = {"method": "GET", "uri": "/", "headers": {}, "querystring": dict(query)}
    assert validate_request(returned, original, []) == []
    changed = {
        "method": "GET",
        "uri": "/",
        "headers": {},
        "querystring": {"u" * 8190: {"value": ""}},
    }
    problems = validate_request(changed, original, [])
    assert problems == ["request.uri plus query string must stay under 8192 characters"]


# -- validate_request's one-pass check of the common case must agree with the full checks ------
_NAMES = st.sampled_from(
    ["host", "Host", "HOST", "accept", "x-ab", "X-Ab", "content-length", "Content-Length", "via",
     "cdn-loop", "transfer-encoding", "connection", "x-amz-cf-id", "x-edge-a", "bad name", "",
     "user-agent", "1", "é"]
)  # fmt: skip
_TEXTS = st.sampled_from(["a", "", "a\r\nb", "x\x00", "/p", "a b", "#", "%20", "é", "v" * 40])
_ENTRIES = st.one_of(
    st.builds(lambda v: {"value": v}, _TEXTS),
    st.builds(lambda v, m: {"value": v, "multiValue": [{"value": t} for t in m]}, _TEXTS,
              st.lists(_TEXTS, max_size=2)),
    st.builds(lambda m: {"multiValue": [{"value": t} for t in m]}, st.lists(_TEXTS, max_size=2)),
    st.builds(lambda v, a: {"value": v, "attributes": a}, _TEXTS, _TEXTS),
    st.sampled_from([{}, None, "text", {"value": 1}, {"multiValue": "x"}]),
)  # fmt: skip
_PLAIN = st.dictionaries(
    st.sampled_from(["host", "accept", "x-ab", "via", "user-agent", "1"]),
    st.builds(lambda v: {"value": v}, st.sampled_from(["a", "", "/p", "%20", "é"])),
    max_size=4,
)  # the usual shape, so that the one-pass check often has the last word
_SECTIONS = st.one_of(
    _PLAIN,
    _PLAIN,
    st.dictionaries(_NAMES, _ENTRIES, max_size=5),
    st.sampled_from([None, "a=b", "a b", [], 3]),
)


@st.composite
def _request_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """An original request and what a function returned: each part either the original's, a
    copy with one entry changed, added or removed, a new one, or absent."""
    original: dict[str, Any] = {
        "method": draw(st.sampled_from(["GET", "POST"])),
        "uri": draw(st.sampled_from(["/", "/a/b", "a", "/" + "u" * 8200])),
        "querystring": draw(_SECTIONS),
        "headers": draw(_SECTIONS),
        "cookies": draw(_SECTIONS),
    }
    returned: dict[str, Any] = {}
    for key, value in original.items():
        how = draw(st.sampled_from(["same", "same", "edit", "new", "absent"]))
        if how == "same":
            returned[key] = value
        elif how == "edit" and isinstance(value, dict):
            edited = dict(value)
            if edited and draw(st.booleans()):
                del edited[draw(st.sampled_from(sorted(edited)))]
            else:
                edited[draw(_NAMES)] = draw(_ENTRIES)
            returned[key] = edited
        elif how in ("edit", "new"):
            parts: st.SearchStrategy[Any] = (
                st.sampled_from(["GET", "/x", "x", 5]) if key in ("method", "uri") else _SECTIONS
            )
            returned[key] = draw(parts)
    return original, returned


@given(_request_pairs(), st.booleans())
def test_the_common_case_check_agrees_with_the_full_checks(
    pair: tuple[dict[str, Any], dict[str, Any]], line_breaks: bool
) -> None:
    original, returned = pair
    fast_warnings: list[str] = []
    full_warnings: list[str] = []
    fast = validate_request(returned, original, fast_warnings, line_breaks=line_breaks)
    full = _request_problems(returned, original, full_warnings, line_breaks)
    assert (fast, fast_warnings) == (full, full_warnings)


def test_a_viewers_request_returned_as_it_came_takes_the_one_pass_check() -> None:
    from edgesim.runtime import result

    original = {
        "method": "GET", "uri": "/a", "querystring": {"id": {"value": "7"}},
        "headers": {"host": {"value": "example.com"}, "accept": {"value": "*/*"}},
        "cookies": {"uid": {"value": "u1"}},
    }  # fmt: skip
    assert result._plainly_valid_request(original, original, True)
    changed = dict(original, headers={"host": {"value": "evil.example"}})
    assert not result._plainly_valid_request(changed, original, True)
