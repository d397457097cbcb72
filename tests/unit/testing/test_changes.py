"""edgesim.testing.changes: what a function changed, in the words the property helpers' failure
messages use."""

from __future__ import annotations

import copy
from typing import Any

from edgesim.runtime.function import FunctionFailure, InvocationResult
from edgesim.runtime.result import ResultKind
from edgesim.testing import viewer_request, viewer_response
from edgesim.testing.changes import describe_changes, short, unchanged


def forwarded(request: dict[str, Any]) -> InvocationResult:
    return InvocationResult(event_type="viewer-request", kind=ResultKind.REQUEST, output=request)


def answered(event_type: str, response: dict[str, Any]) -> InvocationResult:
    return InvocationResult(event_type=event_type, kind=ResultKind.RESPONSE, output=response)


def test_an_untouched_request_has_no_changes() -> None:
    event = viewer_request("/p?a=1", headers={"x-a": "1"}, cookies={"c": "1"})
    result = forwarded(copy.deepcopy(event["request"]))
    assert describe_changes(event, result) == []
    assert unchanged(event, result)


def test_request_changes_are_listed_uri_first_then_query_headers_cookies() -> None:
    event = viewer_request("/p?a=1&drop=x", headers={"x-old": "1", "x-same": "s"})
    request = copy.deepcopy(event["request"])
    request["uri"] = "/b/p"
    request["querystring"]["a"] = {"value": "2"}
    del request["querystring"]["drop"]
    del request["headers"]["x-old"]
    request["headers"]["x-cohort"] = {"value": "b"}
    request["cookies"]["seen"] = {"value": "yes"}
    assert describe_changes(event, forwarded(request)) == [
        "uri '/p' → '/b/p'",
        "query parameter 'a' changed: '1' → '2'",
        "query parameter 'drop' removed",
        "header 'x-cohort' added ('b')",
        "header 'x-old' removed",
        "cookie 'seen' added ('yes')",
    ]


def test_a_generated_response_instead_of_the_request_is_one_change() -> None:
    event = viewer_request("/")
    result = answered("viewer-request", {"statusCode": 302, "headers": {}})
    assert describe_changes(event, result) == ["returned a 302 response instead of the request"]


def test_response_changes_give_status_body_headers_and_cookies() -> None:
    event = viewer_response(200, headers={"x-a": "1"})
    response = copy.deepcopy(event["response"])
    response["statusCode"] = 500
    response["body"] = "oops"
    response["headers"]["x-a"] = {"value": "2"}
    response["cookies"]["sid"] = {"value": "s", "attributes": ""}
    assert describe_changes(event, answered("viewer-response", response)) == [
        "status 200 → 500",
        "body replaced",
        "header 'x-a' changed: '1' → '2'",
        "cookie 'sid' added ('s')",
    ]


def test_a_failed_run_is_never_unchanged() -> None:
    event = viewer_request("/")
    result = forwarded(copy.deepcopy(event["request"]))
    result.error = FunctionFailure("execution", "TypeError: boom")
    assert not unchanged(event, result)


def test_long_values_are_shortened_with_an_ellipsis() -> None:
    assert short("x" * 10) == repr("x" * 10)
    shortened = short("x" * 100)
    assert len(shortened) == 60
    assert shortened.endswith("…")
