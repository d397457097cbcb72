"""Validation of returned requests: the production rules TestFunction skips (CloudFront: 502)."""

from __future__ import annotations

import pytest

from edgesim.runtime.result import validate_request, validate_response
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
