"""Whatever JSON a user's event file or a function's result holds, edgesim answers with a
clear error (EventError / a validation rule), never an exception of its own."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim.errors import EventError
from edgesim.lambda_edge import events, limits
from edgesim.lambda_edge.validation import Violation, validate_result

KEYS = st.sampled_from(
    [
        "Records",
        "cf",
        "config",
        "eventType",
        "request",
        "response",
        "uri",
        "method",
        "querystring",
        "headers",
        "host",
        "via",
        "key",
        "value",
        "status",
        "origin",
        "s3",
        "custom",
        "domainName",
        "port",
        "protocol",
        "path",
        "body",
        "action",
        "encoding",
        "data",
        "bodyEncoding",
        "clientIp",
        "customHeaders",
        "x-cache",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 70000)
    | st.sampled_from(
        [
            "",
            "/",
            "200",
            "GET",
            "viewer-request",
            "origin-request",
            "origin-response",
            "https",
            "replace",
            "base64",
            "text",
            "a.org",
            "x\r\n",
            "/a b#c",
        ]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)


@settings(deadline=None)
@given(doc=JSON, event_type=st.none() | st.sampled_from(limits.EVENT_TYPES))
def test_any_event_document_parses_or_is_refused_with_an_event_error(
    doc: Any, event_type: str | None
) -> None:
    try:
        kind, event = events.parse_event(doc, event_type)
    except EventError:
        return
    assert kind in limits.EVENT_TYPES
    assert event["Records"][0]["cf"]["config"]["eventType"] == kind


def _base(event_type: str) -> dict[str, Any]:
    origin = events.custom_origin("example.org") if event_type.startswith("origin") else None
    req = events.request("/", headers={"host": "example.org"}, origin=origin)
    resp = events.response(200) if event_type in limits.RESPONSE_EVENTS else None
    return events.build_event(event_type, req, resp)["Records"][0]["cf"]


@settings(deadline=None)
@given(result=JSON, event_type=st.sampled_from(limits.EVENT_TYPES), patch=st.booleans())
def test_any_result_is_accepted_or_refused_by_a_named_rule(
    result: Any, event_type: str, patch: bool
) -> None:
    cf = _base(event_type)
    if patch and isinstance(result, dict):
        # Start from a valid object and let the generated keys overwrite parts of it.
        base = copy.deepcopy(cf["response"] if "response" in cf else cf["request"])
        result = {**base, **result}
    try:
        checked = validate_result(event_type, cf, result)
    except Violation as exc:
        refused: Violation | None = exc
    else:
        refused = None
        assert (checked.request is None) != (checked.response is None)
    if refused is not None:
        assert refused.rule
        assert refused.message
