"""Event builders, so a test never writes CloudFront's nested event by hand.

Values are strings; a list of strings means a repeated header / cookie / query parameter (it
becomes ``value`` = the first plus ``multiValue`` = all, as CloudFront builds it). Header names
are lower-cased as CloudFront presents them to functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from edgesim.runtime.event import VIEWER_REQUEST, VIEWER_RESPONSE, build_event

Values = Mapping[str, str | Sequence[str]]

DEFAULT_IP = "198.51.100.10"
DEFAULT_HOST = "d111111abcdef8.cloudfront.net"


def _entries(values: Values | None, *, lower: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in (values or {}).items():
        key = name.lower() if lower else name
        if isinstance(value, str):
            items: list[object] = [value]
        elif isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
            items = list(value)
        else:
            items = []  # 7, b"raw", {"a": "b"}: not a string nor a list of strings
        if not items or not all(isinstance(v, str) for v in items):
            raise TypeError(f"{name}: expected a string or a non-empty list of strings")
        entry: dict[str, Any] = {"value": items[0]}
        if len(items) > 1:
            entry["multiValue"] = [{"value": v} for v in items]
        out[key] = entry
    return out


def _query(querystring: Values | str | None) -> dict[str, Any]:
    if isinstance(querystring, str):
        pairs: dict[str, list[str]] = {}
        for part in querystring.lstrip("?").split("&"):
            if part:
                name, _, value = part.partition("=")
                pairs.setdefault(name, []).append(value)
        return _entries(pairs)
    return _entries(querystring)


def viewer_request(
    uri: str = "/",
    *,
    method: str = "GET",
    headers: Values | None = None,
    cookies: Values | None = None,
    querystring: Values | str | None = None,
    ip: str = DEFAULT_IP,
    country: str | None = None,
    host: str | None = DEFAULT_HOST,
    request_id: str | None = None,
) -> dict[str, Any]:
    """A viewer-request event. ``country`` adds ``cloudfront-viewer-country`` (as a policy
    that names it would); ``host`` sets the ``host`` header unless ``headers`` has one."""
    path, mark, raw_query = uri.partition("?")
    if mark and querystring is None:
        querystring = raw_query
    header_entries = _entries(headers, lower=True)
    if host is not None and "host" not in header_entries:
        header_entries["host"] = {"value": host}
    if country is not None:
        header_entries["cloudfront-viewer-country"] = {"value": country.upper()}
    context: dict[str, Any] = {"distributionDomainName": DEFAULT_HOST, "eventType": VIEWER_REQUEST}
    if request_id is not None:
        context["requestId"] = request_id
    raw = {
        "version": "1.0",
        "context": context,
        "viewer": {"ip": ip},
        "request": {
            "method": method,
            "uri": path or "/",
            "querystring": _query(querystring),
            "headers": header_entries,
            "cookies": _entries(cookies),
        },
    }
    return build_event(raw, event_type=VIEWER_REQUEST)


def viewer_response(
    status: int = 200,
    *,
    headers: Values | None = None,
    cookies: Mapping[str, str] | None = None,
    request: Mapping[str, Any] | None = None,
    status_description: str | None = None,
    ip: str = DEFAULT_IP,
) -> dict[str, Any]:
    """A viewer-response event. ``cookies`` maps a name to a ``Set-Cookie`` value after the name,
    e.g. ``{"sid": "abc; Secure; Path=/"}``. ``request`` is a viewer-request event (or its
    ``request`` part); by default a GET of ``/``."""
    if request is None:
        req_event = viewer_request(ip=ip)
    elif "request" in request:
        req_event = dict(request)
    else:
        req_event = {**viewer_request(ip=ip), "request": dict(request)}
    cookie_entries: dict[str, Any] = {}
    for name, text in (cookies or {}).items():
        value, _, attributes = text.partition(";")
        cookie_entries[name] = {"value": value.strip(), "attributes": attributes.strip()}
    response: dict[str, Any] = {
        "statusCode": status,
        "headers": _entries(headers, lower=True),
        "cookies": cookie_entries,
    }
    if status_description is not None:
        response["statusDescription"] = status_description
    raw = {**req_event, "response": response}
    raw["context"] = {**req_event.get("context", {}), "eventType": VIEWER_RESPONSE}
    return build_event(raw, event_type=VIEWER_RESPONSE)
