"""Building the event object exactly as CloudFront hands it to a function.

The input clean-up mirrors what the TestFunction API does with a test event (reference notes
§1, §7):
each header / cookie / query-string entry keeps only ``value`` and ``multiValue`` (plus
``attributes`` on response cookies), unknown keys are dropped, missing ``headers`` / ``cookies`` /
``querystring`` become ``{}``. Header names are passed through as given; CloudFront itself
lower-cases them, and the docs ask test events to use lowercase names.
"""

from __future__ import annotations

from typing import Any

from edgesim.errors import EventError

VIEWER_REQUEST = "viewer-request"
VIEWER_RESPONSE = "viewer-response"
EVENT_TYPES = (VIEWER_REQUEST, VIEWER_RESPONSE)
_CONTEXT_KEYS = ("distributionDomainName", "distributionId", "requestId", "endpoint")


def _expect_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EventError(f"{where}: expected an object, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _clean_value(entry: Any, where: str, *, attributes: bool) -> dict[str, Any]:
    entry = _expect_object(entry, where)
    out: dict[str, Any] = {}
    if "value" in entry:
        if not isinstance(entry["value"], str):
            raise EventError(f"{where}.value: expected a string, got {_kind(entry['value'])}")
        out["value"] = entry["value"]
    if attributes and "attributes" in entry:
        if not isinstance(entry["attributes"], str):
            raise EventError(f"{where}.attributes: expected a string")
        out["attributes"] = entry["attributes"]
    return out


def clean_entries(section: Any, where: str, *, attributes: bool = False) -> dict[str, Any]:
    """Clean a headers / cookies / querystring map (missing → ``{}``)."""
    if section is None:
        return {}
    section = _expect_object(section, where)
    out: dict[str, Any] = {}
    for name, entry in section.items():
        path = f"{where}.{name}"
        cleaned = _clean_value(entry, path, attributes=attributes)
        multi = _expect_object(entry, path).get("multiValue")
        if multi is not None:
            if not isinstance(multi, list):
                raise EventError(f"{path}.multiValue: expected an array, got {_kind(multi)}")
            cleaned["multiValue"] = [
                _clean_value(item, f"{path}.multiValue[{i}]", attributes=attributes)
                for i, item in enumerate(multi)
            ]
        out[name] = cleaned
    return out


def _clean_request(raw: Any) -> dict[str, Any]:
    request = _expect_object(raw, "event.request")
    out: dict[str, Any] = {}
    for key in ("method", "uri"):
        if key in request:
            if not isinstance(request[key], str):
                raise EventError(f"event.request.{key}: expected a string")
            out[key] = request[key]
    out["querystring"] = clean_entries(request.get("querystring"), "event.request.querystring")
    out["headers"] = clean_entries(request.get("headers"), "event.request.headers")
    out["cookies"] = clean_entries(request.get("cookies"), "event.request.cookies")
    return out


def _clean_response(raw: Any) -> dict[str, Any]:
    response = _expect_object(raw, "event.response")
    out: dict[str, Any] = {}
    status = response.get("statusCode")
    if not isinstance(status, int) or isinstance(status, bool):
        raise EventError("event.response.statusCode: expected an integer such as 200")
    out["statusCode"] = status
    if "statusDescription" in response:
        if not isinstance(response["statusDescription"], str):
            raise EventError("event.response.statusDescription: expected a string")
        out["statusDescription"] = response["statusDescription"]
    out["headers"] = clean_entries(response.get("headers"), "event.response.headers")
    out["cookies"] = clean_entries(
        response.get("cookies"), "event.response.cookies", attributes=True
    )
    return out


def event_type_of(raw: dict[str, Any], requested: str | None) -> str:
    """The explicit choice, else ``context.eventType``, else guessed from a ``response`` member."""
    if requested is not None:
        if requested not in EVENT_TYPES:
            raise EventError(f"event type {requested!r}: expected one of {', '.join(EVENT_TYPES)}")
        return requested
    context = raw.get("context")
    if isinstance(context, dict) and context.get("eventType") is not None:
        given = context["eventType"]
        if given not in EVENT_TYPES:
            raise EventError(
                f"event.context.eventType: {given!r} is not one of {', '.join(EVENT_TYPES)}"
            )
        return str(given)
    return VIEWER_RESPONSE if "response" in raw else VIEWER_REQUEST


def build_event(raw: Any, *, event_type: str | None = None) -> dict[str, Any]:
    """Validate and clean a user-supplied event; raises :class:`EventError` naming the bad field."""
    raw = _expect_object(raw, "event")
    if "request" not in raw:
        raise EventError("event.request: missing (every CloudFront Functions event has one)")
    kind = event_type_of(raw, event_type)
    version = raw.get("version", "1.0")
    if not isinstance(version, str):
        raise EventError('event.version: expected a string such as "1.0"')
    context_in = raw.get("context") or {}
    context_in = _expect_object(context_in, "event.context")
    context: dict[str, Any] = {k: context_in[k] for k in _CONTEXT_KEYS if k in context_in}
    context["eventType"] = kind
    event: dict[str, Any] = {"version": version, "context": context}
    if "viewer" in raw:
        viewer = _expect_object(raw["viewer"], "event.viewer")
        if "ip" in viewer and not isinstance(viewer["ip"], str):
            raise EventError("event.viewer.ip: expected a string")
        event["viewer"] = {"ip": viewer["ip"]} if "ip" in viewer else {}
    event["request"] = _clean_request(raw["request"])
    if kind == VIEWER_RESPONSE:
        if "response" not in raw:
            raise EventError("event.response: missing (a viewer-response event needs one)")
        event["response"] = _clean_response(raw["response"])
    return event
