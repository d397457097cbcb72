"""The Lambda@Edge event as CloudFront builds it (Developer Guide, "Lambda@Edge event structure").

``{"Records": [{"cf": {"config": {...}, "request": {...}, "response": {...}}}]}``:

- ``config``: ``distributionDomainName``, ``distributionId``, ``eventType``, ``requestId``.
- ``request``: ``clientIp``, ``headers`` (lower-case names → lists of ``{key, value}``, one per
  value, ``key`` as the name appeared), ``method``, ``querystring`` (a string, ``""`` when
  none), ``uri``; ``origin`` on origin events (exactly one of ``s3`` / ``custom``); ``body``
  with the include-body option (base64, truncated at 40 KB viewer / 1 MB origin with
  ``inputTruncated``).
- ``response`` on response events: ``status`` as a string, ``statusDescription``, ``headers``.

The builders here take plain Python values; :func:`parse_event` checks a user's JSON event.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from edgesim.errors import EventError
from edgesim.lambda_edge import limits

DEFAULT_CLIENT_IP = "203.0.113.178"
DEFAULT_DOMAIN = "d111111abcdef8.cloudfront.net"
DEFAULT_DISTRIBUTION_ID = "EDFDVBD6EXAMPLE"
DEFAULT_REQUEST_ID = "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="

HeaderInput = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]] | None


def header_key(name: str) -> str:
    """The ``key`` Lambda@Edge inserts when a function omits it: each hyphen-separated part
    capitalised ("Restrictions"… "the header key … is formatted with initial capitalization
    for each part, separated by hyphens")."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def cf_headers(headers: HeaderInput) -> dict[str, list[dict[str, str]]]:
    """Headers in the event's shape. A mapping value may be a list (a repeated header); pairs
    keep the name's case in ``key``, as it appeared in the HTTP message."""
    out: dict[str, list[dict[str, str]]] = {}
    if headers is None:
        return out
    pairs: list[tuple[str, str]] = []
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            values = [value] if isinstance(value, str) else list(value)
            pairs += [(name, v) for v in values]
    else:
        pairs = list(headers)
    for name, value in pairs:
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"header {name!r}: expected string names and values")
        out.setdefault(name.lower(), []).append({"key": name, "value": value})
    return out


def header_pairs(headers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(name, value)`` pairs of validated event headers, names as their ``key`` gives them."""
    pairs = []
    for name, entries in headers.items():
        for entry in entries:
            pairs.append((entry.get("key") or header_key(name), entry["value"]))
    return pairs


def request_body(data: bytes, event_type: str) -> dict[str, Any]:
    """The ``body`` object of the include-body option: base64, truncated per event."""
    cap = limits.MAX_INPUT_BODY_BYTES[limits.event_class(event_type)]
    return {
        "inputTruncated": len(data) > cap,
        "action": "read-only",
        "encoding": "base64",
        "data": base64.b64encode(data[:cap]).decode("ascii"),
    }


def request(
    uri: str = "/",
    *,
    method: str = "GET",
    headers: HeaderInput = None,
    querystring: str = "",
    client_ip: str = DEFAULT_CLIENT_IP,
    origin: Mapping[str, Any] | None = None,
    body: bytes | None = None,
    event_type: str = limits.VIEWER_REQUEST,
) -> dict[str, Any]:
    """A ``request`` object. ``body`` is given only with the include-body option."""
    req: dict[str, Any] = {
        "clientIp": client_ip,
        "headers": cf_headers(headers),
        "method": method,
        "querystring": querystring.removeprefix("?"),
        "uri": uri,
    }
    if origin is not None:
        req["origin"] = dict(origin)
    if body is not None:
        req["body"] = request_body(body, event_type)
    return req


def s3_origin(
    domain_name: str,
    *,
    path: str = "",
    region: str = "",
    auth_method: str = "none",
    custom_headers: HeaderInput = None,
) -> dict[str, Any]:
    return {
        "s3": {
            "authMethod": auth_method,
            "customHeaders": cf_headers(custom_headers),
            "domainName": domain_name,
            "path": path,
            "region": region,
        }
    }


def custom_origin(
    domain_name: str,
    *,
    port: int = 443,
    protocol: str = "https",
    path: str = "",
    keepalive_timeout: int = 5,
    read_timeout: int = 30,
    ssl_protocols: Sequence[str] = ("TLSv1", "TLSv1.1", "TLSv1.2"),
    custom_headers: HeaderInput = None,
) -> dict[str, Any]:
    return {
        "custom": {
            "customHeaders": cf_headers(custom_headers),
            "domainName": domain_name,
            "keepaliveTimeout": keepalive_timeout,
            "path": path,
            "port": port,
            "protocol": protocol,
            "readTimeout": read_timeout,
            "sslProtocols": list(ssl_protocols),
        }
    }


def response(
    status: int | str = 200, *, status_description: str = "", headers: HeaderInput = None
) -> dict[str, Any]:
    return {
        "headers": cf_headers(headers),
        "status": str(status),
        "statusDescription": status_description,
    }


def event_config(
    event_type: str,
    *,
    distribution_domain_name: str = DEFAULT_DOMAIN,
    distribution_id: str = DEFAULT_DISTRIBUTION_ID,
    request_id: str = DEFAULT_REQUEST_ID,
) -> dict[str, str]:
    return {
        "distributionDomainName": distribution_domain_name,
        "distributionId": distribution_id,
        "eventType": event_type,
        "requestId": request_id,
    }


def build_event(
    event_type: str,
    request: Mapping[str, Any],
    response: Mapping[str, Any] | None = None,
    *,
    config: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole event. Response events need ``response``; request events take none."""
    if event_type not in limits.EVENT_TYPES:
        raise EventError(f"event type {event_type!r}: expected one of {limits.EVENT_TYPES}")
    cfg = dict(config) if config is not None else event_config(event_type)
    cfg["eventType"] = event_type
    cf: dict[str, Any] = {"config": cfg, "request": dict(request)}
    if event_type in limits.RESPONSE_EVENTS:
        if response is None:
            raise EventError(f"a {event_type} event needs a response")
        cf["response"] = dict(response)
    elif response is not None:
        raise EventError(f"a {event_type} event has no response")
    return {"Records": [{"cf": cf}]}


# ---- checking an event a user wrote (edgesim test --event) ----


def parse_event(doc: Any, event_type: str | None = None) -> tuple[str, dict[str, Any]]:
    """``(event type, whole event)`` from a full ``{"Records": [...]}`` event or its ``cf``
    object. ``event_type`` overrides ``config.eventType``. Raises :class:`EventError` naming
    the path of whatever does not have CloudFront's shape."""
    if isinstance(doc, dict) and "Records" in doc:
        records = doc["Records"]
        if not isinstance(records, list) or len(records) != 1:
            raise EventError("Records: expected a list of exactly one record")
        record = _object(records[0], "Records[0]")
        cf = _object(record.get("cf"), "Records[0].cf")
        where = "Records[0].cf"
    else:
        cf = _object(doc, "event")
        where = "cf"
    cfg = _object(cf.get("config", {}), f"{where}.config")
    declared = cfg.get("eventType")
    kind = event_type or declared
    if kind is None:
        kind = limits.ORIGIN_RESPONSE if "response" in cf else limits.VIEWER_REQUEST
        request_doc = cf.get("request")
        if isinstance(request_doc, dict) and "origin" in request_doc:
            kind = limits.ORIGIN_RESPONSE if "response" in cf else limits.ORIGIN_REQUEST
    if kind not in limits.EVENT_TYPES:
        raise EventError(
            f"{where}.config.eventType {kind!r}: expected one of {', '.join(limits.EVENT_TYPES)}"
        )
    req = _object(cf.get("request"), f"{where}.request")
    check_request(req, f"{where}.request", origin_event=kind.startswith("origin"))
    resp = None
    if kind in limits.RESPONSE_EVENTS:
        resp = _object(cf.get("response"), f"{where}.response")
        check_response(resp, f"{where}.response")
    full_config = event_config(kind)
    full_config.update({k: v for k, v in cfg.items() if isinstance(v, str)})
    return kind, build_event(kind, req, resp, config=full_config)


def check_request(req: Mapping[str, Any], where: str, *, origin_event: bool) -> None:
    for field in ("uri", "method"):
        if not isinstance(req.get(field), str):
            raise EventError(f"{where}.{field}: expected a string")
    if not isinstance(req.get("querystring", ""), str):
        raise EventError(f"{where}.querystring: expected a string (Lambda@Edge's is not an object)")
    if not isinstance(req.get("clientIp", ""), str):
        raise EventError(f"{where}.clientIp: expected a string")
    check_headers(req.get("headers", {}), f"{where}.headers")
    if origin_event and "origin" not in req:
        raise EventError(f"{where}.origin: an origin event's request names its origin")
    if "origin" in req:
        origin = _object(req["origin"], f"{where}.origin")
        if len(origin) != 1 or next(iter(origin)) not in ("s3", "custom"):
            raise EventError(f"{where}.origin: expected exactly one of s3 or custom")


def check_response(resp: Mapping[str, Any], where: str) -> None:
    status = resp.get("status")
    if not isinstance(status, str) or not status.isdigit():
        raise EventError(f'{where}.status: expected the status code as a string, e.g. "200"')
    check_headers(resp.get("headers", {}), f"{where}.headers")


def check_headers(headers: Any, where: str) -> None:
    headers = _object(headers, where)
    for name, entries in headers.items():
        if name != name.lower():
            raise EventError(f"{where}.{name}: header names are lower-case in the event")
        if not isinstance(entries, list):
            raise EventError(f"{where}.{name}: expected a list of {{key, value}} objects")
        for i, entry in enumerate(entries):
            entry = _object(entry, f"{where}.{name}[{i}]")
            if not isinstance(entry.get("value"), str):
                raise EventError(f"{where}.{name}[{i}].value: expected a string")


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EventError(f"{where}: expected an object")
    return value
