"""CloudFront's validation of what a Lambda@Edge function returns.

A result that breaks a rule is a 502 ``LambdaValidationError`` ("HTTP 502 status code (Lambda
validation error)"; the Developer Guide's "Troubleshooting invalid Lambda@Edge function
responses" lists the kinds: bad object structure, disallowed or read-only headers, body over the
size quota, invalid characters or values). Each rule below cites the page it comes from.

What CloudFront does with a change to a field documented as read-only but not named among the
validation failures (``method``, ``clientIp``, a query string in a response event) is not
documented: edgesim keeps the original value and warns.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from edgesim.lambda_edge import limits
from edgesim.lambda_edge.events import header_key

_BAD_QUERY_CHARS = re.compile(r"[\x00-\x20\x7f#]")
_BAD_HEADER_VALUE = re.compile(r"[\r\n\x00]")
_PORTS_OK = (80, 443)
_SSL_PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2")


class Violation(Exception):
    """One broken rule: ``rule`` (a stable id) and a message naming the field and the limit."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass
class Validated:
    """A result CloudFront accepts, normalised (header ``key``s filled in)."""

    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    generated: bool = False  # a request event answered with a response
    warnings: list[str] = field(default_factory=list)


def validate_result(event_type: str, cf: Mapping[str, Any], result: Any) -> Validated:
    """Check ``result`` against the event CloudFront sent (``cf`` = ``Records[0].cf``).

    Raises :class:`Violation`. Response events answer the (possibly modified) response; request
    events answer the request to go on with, or a generated response.
    """
    if not isinstance(result, dict):
        what = "nothing (null)" if result is None else f"a {_kind(result)}"
        expected = "request or response" if event_type in limits.REQUEST_EVENTS else "response"
        raise Violation(
            "result-shape",
            f"the function returned {what}; a {event_type} function returns the {expected} "
            "object (Lambda@Edge event structure)",
        )
    out = Validated()
    if event_type in limits.REQUEST_EVENTS:
        if "status" in result:
            out.response = _check_response(event_type, result, None, out, generated=True)
            out.generated = True
        else:
            out.request = _check_request(event_type, cf["request"], result, out)
    else:
        if "status" not in result:
            raise Violation(
                "result-shape",
                f"a {event_type} function returns the response object (with its status); "
                "this result has no status",
            )
        out.response = _check_response(event_type, result, cf["response"], out, generated=False)
    return out


# ---- requests ----


def _check_request(
    event_type: str, original: Mapping[str, Any], result: Mapping[str, Any], out: Validated
) -> dict[str, Any]:
    req = _copy(result)
    uri = req.get("uri")
    if not isinstance(uri, str):
        raise Violation("request-shape", "request.uri: expected a string")
    if not uri.startswith("/"):
        raise Violation("uri", f"request.uri {uri[:80]!r}: must begin with a forward slash (/)")
    query = req.get("querystring", "")
    if not isinstance(query, str):
        raise Violation("request-shape", "request.querystring: expected a string")
    if query != original.get("querystring", "") and _BAD_QUERY_CHARS.search(query):
        raise Violation(
            "querystring",
            "request.querystring: can't include spaces, control characters or the fragment "
            "identifier (#) (Restrictions on all edge functions → Query strings)",
        )
    # "less than 8,192 characters" (Restrictions → URI); the Quotas page gives the URL 8,192
    # bytes: counted in UTF-8 bytes, which is the same for the percent-encoded URIs of HTTP.
    size = len(uri.encode("utf-8", "surrogatepass")) + (
        1 + len(query.encode("utf-8", "surrogatepass")) if query else 0
    )
    if size >= limits.MAX_URI_AND_QUERY:
        raise Violation(
            "uri-length",
            f"request.uri with its query string is {size:,} bytes; it must be less than "
            f"{limits.MAX_URI_AND_QUERY:,} (Restrictions on all edge functions → URI; Quotas)",
        )
    for name in ("method", "clientIp"):
        if req.get(name) != original.get(name):
            out.warnings.append(
                f"request.{name} is read-only (Lambda@Edge event structure); the change was "
                "ignored (whether CloudFront rejects it instead is not documented)"
            )
            req[name] = original.get(name)
    req["headers"] = _check_headers(
        event_type, "request.headers", original.get("headers", {}), req.get("headers", {})
    )
    if event_type == limits.VIEWER_REQUEST:
        added = set(req["headers"]) - set(original.get("headers", {}))
        for name in sorted(added & limits.VIEWER_REQUEST_FORBIDDEN_ADDS):
            raise Violation(
                "viewer-country",
                f"request.headers.{name}: a viewer request function can't add it "
                "(Restrictions on Lambda@Edge → CloudFront headers)",
            )
    if "origin" in original or "origin" in req:
        if event_type != limits.ORIGIN_REQUEST and req.get("origin") != original.get("origin"):
            raise Violation("origin", "request.origin: only an origin request function sets it")
        if event_type == limits.ORIGIN_REQUEST and req.get("origin") != original.get("origin"):
            # CloudFront's own origin is not checked again: locally it is often a loopback
            # address, which a function could not set (an IP address is refused).
            _check_origin(req.get("origin"), req["headers"])
    if "body" in req:
        _check_request_body(event_type, original.get("body"), req, out)
    return req


def _check_origin(origin: Any, request_headers: Mapping[str, Any]) -> None:
    # "Lambda@Edge event structure" → origin: exactly one origin, custom or S3, and its fields.
    if (
        not isinstance(origin, dict)
        or len(origin) != 1
        or next(iter(origin)) not in ("s3", "custom")
    ):
        raise Violation("origin", "request.origin: must contain exactly one of s3 or custom")
    kind, spec = next(iter(origin.items()))
    where = f"request.origin.{kind}"
    if not isinstance(spec, dict):
        raise Violation("origin", f"{where}: expected an object")
    domain = spec.get("domainName")
    if not isinstance(domain, str) or not domain:
        raise Violation("origin", f"{where}.domainName: can't be empty")
    if kind == "custom":
        if len(domain) > 253 or limits.looks_like_ip(domain):
            raise Violation(
                "origin",
                f"{where}.domainName {domain!r}: a DNS name of up to 253 characters, without a "
                "colon, not an IP address",
            )
        port = spec.get("port")
        if not isinstance(port, int) or not (port in _PORTS_OK or 1024 <= port <= 65535):
            raise Violation("origin", f"{where}.port {port!r}: 80, 443 or 1024-65535")
        if spec.get("protocol") not in ("http", "https"):
            raise Violation("origin", f"{where}.protocol {spec.get('protocol')!r}: http or https")
        _int_range(spec, "keepaliveTimeout", 1, 60, where)
        _int_range(spec, "readTimeout", 4, 60, where)
        protocols = spec.get("sslProtocols", [])
        if not isinstance(protocols, list) or any(p not in _SSL_PROTOCOLS for p in protocols):
            raise Violation("origin", f"{where}.sslProtocols: any of {', '.join(_SSL_PROTOCOLS)}")
    else:
        if len(domain) > 128 or domain != domain.lower():
            raise Violation(
                "origin", f"{where}.domainName {domain!r}: up to 128 characters, all lower-case"
            )
        auth = spec.get("authMethod", "none")
        if auth not in ("none", "origin-access-identity"):
            raise Violation(
                "origin", f"{where}.authMethod {auth!r}: none or origin-access-identity"
            )
        if auth == "origin-access-identity" and not spec.get("region"):
            raise Violation("origin", f"{where}.region: required with origin-access-identity")
    path = spec.get("path", "")
    if not isinstance(path, str) or (path and (not path.startswith("/") or path.endswith("/"))):
        raise Violation(
            "origin", f"{where}.path {path!r}: starts with a slash and does not end with one"
        )
    if kind == "custom" and len(path) > 255:
        raise Violation("origin", f"{where}.path: at most 255 characters")
    custom = spec.get("customHeaders", {})
    spec["customHeaders"] = _check_headers(
        limits.ORIGIN_REQUEST, f"{where}.customHeaders", custom, custom, read_only=False
    )
    for name in spec["customHeaders"]:
        if name in request_headers:
            raise Violation(
                "origin",
                f"{where}.customHeaders.{name}: a custom header can't have the name of a "
                "request header",
            )


def _int_range(spec: Mapping[str, Any], key: str, low: int, high: int, where: str) -> None:
    if key in spec and (not isinstance(spec[key], int) or not low <= spec[key] <= high):
        raise Violation("origin", f"{where}.{key} {spec[key]!r}: a number from {low} to {high}")


def _check_request_body(
    event_type: str, original: Any, req: dict[str, Any], out: Validated
) -> None:
    body = req["body"]
    if not isinstance(body, dict):
        raise Violation("body", "request.body: expected an object")
    action = body.get("action", "read-only")
    if action not in ("read-only", "replace"):
        raise Violation("body", f"request.body.action {action!r}: read-only or replace")
    if action == "read-only":
        if original is not None:
            req["body"] = original  # "Lambda@Edge ignores any changes to encoding or data"
        return
    encoding = body.get("encoding", "base64")
    data = body.get("data", "")
    if encoding not in ("base64", "text") or not isinstance(data, str):
        raise Violation("body", "request.body: encoding base64 or text, data a string")
    if encoding == "base64":
        _decode_base64(data, "request.body.data")
    # "Restrictions on Lambda@Edge" → request body: a replaced body over the quota is truncated.
    cls = limits.event_class(event_type)
    cap = (
        limits.MAX_REPLACED_BASE64_BODY_BYTES[cls]
        if encoding == "base64"
        else limits.MAX_REPLACED_TEXT_BODY_BYTES[cls]
    )
    raw = data.encode("utf-8")
    if len(raw) > cap:
        out.warnings.append(
            f"request.body: the replaced body ({len(raw):,} bytes of {encoding}) is truncated "
            f"at {cap:,} bytes for {event_type} (Restrictions on Lambda@Edge)"
        )
        body["data"] = raw[:cap].decode("utf-8", "ignore")


# ---- responses ----


def _check_response(
    event_type: str,
    result: Mapping[str, Any],
    original: Mapping[str, Any] | None,
    out: Validated,
    *,
    generated: bool,
) -> dict[str, Any]:
    resp = _copy(result)
    status = resp.get("status")
    if isinstance(status, int) and not isinstance(status, bool):
        out.warnings.append("response.status: documented as a string; edgesim accepts a number")
        status = str(status)
    if not isinstance(status, str) or not status.isdigit() or not 200 <= int(status) <= 599:
        raise Violation(
            "status",
            f"response.status {result.get('status')!r}: must be between 200 and 599 "
            "(Generate HTTP responses in request triggers; Update HTTP responses in origin "
            "response triggers)",
        )
    resp["status"] = status
    if event_type == limits.VIEWER_RESPONSE and original is not None:  # noqa: SIM102
        if status.lstrip("0") != str(original.get("status", "")).lstrip("0"):
            raise Violation(
                "status-changed",
                f"response.status: a viewer response function can't change the status "
                f"({original.get('status')} → {status}) (Restrictions on Lambda@Edge → HTTP "
                "status codes)",
            )
    description = resp.get("statusDescription", "")
    if not isinstance(description, str):
        raise Violation("response-shape", "response.statusDescription: expected a string")
    before = original.get("headers", {}) if original is not None else {}
    resp["headers"] = _check_headers(
        event_type,
        "response.headers",
        before,
        resp.get("headers", {}),
        read_only=not generated,
    )
    body_bytes = 0
    if "body" in resp:
        body = resp["body"]
        encoding = resp.get("bodyEncoding", "text")
        if encoding not in ("text", "base64"):
            raise Violation(
                "body-encoding",
                f"response.bodyEncoding {encoding!r}: the only valid are text and base64",
            )
        if not isinstance(body, str):
            raise Violation("response-shape", "response.body: expected a string")
        body_bytes = (
            len(_decode_base64(body, "response.body"))
            if encoding == "base64"
            else len(body.encode("utf-8"))
        )
        if event_type == limits.VIEWER_REQUEST and status == "204" and body:
            raise Violation(
                "body-with-204",
                "response: status 204 (No Content) with a body (Generate HTTP responses in "
                "request triggers → Errors)",
            )
    if "body" in resp or generated:
        size = body_bytes + sum(
            len(e.get("key") or name) + len(e["value"]) + 4
            for name, entries in resp["headers"].items()
            for e in entries
        )
        cap = limits.MAX_GENERATED_RESPONSE_BYTES[limits.event_class(event_type)]
        if size > cap:
            raise Violation(
                "response-size",
                f"response: {size:,} bytes with its headers; a response generated at "
                f"{event_type} may be {cap:,} (Quotas on Lambda@Edge)",
            )
    return resp


# ---- headers ----


def _check_headers(
    event_type: str,
    where: str,
    before: Mapping[str, Any],
    after: Any,
    *,
    read_only: bool = True,
) -> dict[str, Any]:
    if not isinstance(after, dict):
        raise Violation("header-shape", f"{where}: expected an object of header lists")
    out: dict[str, Any] = {}
    for name, entries in after.items():
        if name != name.lower():
            raise Violation(
                "header-shape",
                f"{where}: key {name!r} must be the lower-case header name (Lambda@Edge event "
                "structure)",
            )
        if not isinstance(entries, list):
            raise Violation("header-shape", f"{where}.{name}: expected a list of {{key, value}}")
        fixed = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
                raise Violation(
                    "header-shape",
                    f"{where}.{name}[{i}]: expected {{key, value}} with a string value",
                )
            key = entry.get("key")
            if key is not None and (not isinstance(key, str) or key.lower() != name):
                raise Violation(
                    "header-shape",
                    f"{where}.{name}[{i}].key {key!r}: must be the header name {name!r} "
                    "in any case",
                )
            if _BAD_HEADER_VALUE.search(entry["value"]):
                # As CloudFront logs it: "the function returned an invalid header, invalid
                # character : '%0D' in header value".
                raise Violation(
                    "header-value",
                    f"{where}.{name}[{i}].value: invalid character (CR, LF or NUL) in header value",
                )
            fixed.append({"key": key or header_key(name), "value": entry["value"]})
        out[name] = fixed
    # "Restrictions on all edge functions" → HTTP headers.
    for name in out:
        if limits.is_disallowed_header(name) and _values(out.get(name)) != _values(
            before.get(name)
        ):
            raise Violation(
                "disallowed-header",
                f"{where}.{name}: a disallowed header; edge functions can't add it "
                "(Restrictions on all edge functions → Disallowed headers)",
            )
    if read_only:
        for name in sorted(limits.READ_ONLY_HEADERS[event_type]):
            if _values(out.get(name)) != _values(before.get(name)):
                raise Violation(
                    "read-only-header",
                    f"{where}.{name}: read-only in {event_type} events; the function added, "
                    "changed or removed it (Restrictions on all edge functions → Read-only "
                    "headers)",
                )
    return out


def _values(entries: Any) -> list[str]:
    if not isinstance(entries, list):
        return []
    return [str(e.get("value")) for e in entries if isinstance(e, dict)]


def _decode_base64(data: str, where: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise Violation(
            "body-encoding", f"{where}: bodyEncoding is base64 but the body is not valid base64"
        ) from None


def _copy(value: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON object (what a result is), several times faster than deepcopy."""
    copied: dict[str, Any] = orjson.loads(orjson.dumps(value))
    return copied


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return type(value).__name__
