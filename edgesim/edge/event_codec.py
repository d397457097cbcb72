"""Between the wire and the function: build CloudFront's event from a request or response, and
turn what the function returned back into wire form.

Facts (reference notes §1): header names are lower-case; ``Cookie`` / ``Set-Cookie`` appear only
under ``cookies``; repeated names collapse to ``value`` (first) plus ``multiValue`` (all); query
names and values reach the function exactly as the viewer spelled them, percent-encoding kept
(field reports, e.g. KensioSoftware/yulin#1024: ``?q=%E5%AE%B6`` arrives as ``"%E5%AE%B6"``).
Converting back: a changed ``multiValue`` wins; otherwise a changed ``value`` replaces only the
first occurrence and the other duplicates stay.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterable
from typing import Any

from edgesim.edge.message import HOP_BY_HOP, EdgeRequest, Headers
from edgesim.runtime.result import is_disallowed

Entries = dict[str, dict[str, Any]]


def _collapse(pairs: Iterable[tuple[str, str]]) -> Entries:
    out: Entries = {}
    for name, value in pairs:
        _add(out, name, value)
    return out


def _add(out: Entries, name: str, value: str) -> None:
    """Add one occurrence of ``name`` to a collapsed section: the first gives ``value``, a
    repeat turns the entry into ``value`` (the first) plus ``multiValue`` (all, in order)."""
    entry = out.get(name)
    if entry is None:
        out[name] = {"value": value}
    elif "multiValue" in entry:
        entry["multiValue"].append({"value": value})
    else:
        entry["multiValue"] = [{"value": entry["value"]}, {"value": value}]


def parse_query(raw: str | None) -> list[tuple[str, str]]:
    """Split a raw query string into (name, value) pairs without decoding anything."""
    if not raw:
        return []
    pairs = []
    for part in raw.split("&"):
        if part == "":
            continue
        name, _, value = part.partition("=")
        pairs.append((name, value))
    return pairs


@functools.lru_cache(maxsize=4096)  # asked for every header of every event, both ways
def hidden_from_functions(name: str) -> bool:
    """Headers a function neither sees nor may set (AWS: "Restrictions on edge functions",
    disallowed headers), plus hop-by-hop headers, which belong to one connection only."""
    return name in HOP_BY_HOP or is_disallowed(name)


def request_event(req: EdgeRequest, *, event_type: str, context: dict[str, str]) -> dict[str, Any]:
    """The event a viewer-request function gets (and the ``request`` part of a response event)."""
    headers: Entries = {}
    cookies: Entries = {}
    for name, value in req.headers:
        if name == "cookie":
            # The pairs message.parse_cookie_headers gives, collapsed as they are split (no
            # list of pairs in between; a property test holds the two together).
            for part in value.split(";"):
                part = part.strip()
                if part:
                    cookie, _, text = part.partition("=")
                    cookie, text = cookie.strip(), text.strip()
                    if cookie in cookies:
                        _add(cookies, cookie, text)
                    else:
                        cookies[cookie] = {"value": text}
        elif not hidden_from_functions(name):
            if name == "host":
                value = function_host(value)
            if name in headers:
                _add(headers, name, value)
            else:
                headers[name] = {"value": value}
    query: Entries = {}
    if req.query:
        for part in req.query.split("&"):
            if part:
                name, _, value = part.partition("=")
                if name in query:
                    _add(query, name, value)
                else:
                    query[name] = {"value": value}
    return {
        "version": "1.0",
        "context": {**context, "eventType": event_type},
        "viewer": {"ip": req.client_ip},
        "request": {
            "method": req.method,
            "uri": req.path,
            "querystring": query,
            "headers": headers,
            "cookies": cookies,
        },
    }


def function_host(value: str) -> str:
    """The Host a function sees: lower-cased, without a port.

    A field run saw ``Host: WWW.Example.COM:443`` reach the function as ``www.example.com``
    (issue 9); host names are case-insensitive and a viewer of CloudFront only ever reaches port
    80 or 443, so a production function never sees a port. Locally the viewer port is serve's
    (``localhost:8080``), which a function must not see either, or host-based logic that works
    here would break at the edge.
    """
    host = value.strip().lower()
    if host.startswith("["):  # [IPv6]:port
        return host.split("]", 1)[0] + "]"
    name, _, port = host.rpartition(":")
    return name if name and port.isdigit() else host


def _values(out: dict[str, Any], before: dict[str, Any] | None) -> list[str]:
    multi = out.get("multiValue")
    if isinstance(multi, list) and multi:
        listed = [str(item.get("value", "")) for item in multi if isinstance(item, dict)]
        before_multi = (before or {}).get("multiValue")
        if before is None or multi != before_multi:
            return listed
        # multiValue untouched: a changed value replaces only the first occurrence.
        if out.get("value") != before.get("value"):
            return [str(out.get("value", "")), *listed[1:]]
        return listed
    return [str(out.get("value", ""))]


def _expand(section: Any, before: Entries, *, lower: bool = False) -> list[tuple[str, str]]:
    """(name, value) for every value a returned section sends; ``lower``: names lower-cased
    (header names)."""
    pairs: list[tuple[str, str]] = []
    if not isinstance(section, dict):
        return pairs
    for name, entry in section.items():
        wire = name.lower() if lower else name
        if type(entry) is dict and len(entry) == 1:
            value = entry.get("value")
            if type(value) is str:  # the common shape, {value: '…'}
                pairs.append((wire, value))
                continue
        if not isinstance(entry, dict):
            continue
        for value in _values(entry, before.get(name)):
            pairs.append((wire, value))
    return pairs


def query_from_output(section: Any, before: Entries) -> str | None:
    # A function may assign a plain string to querystring (AWS sample
    # normalize-query-string-parameters); it is used verbatim.
    if isinstance(section, str):
        return section or None
    pairs = _expand(section, before)
    if not pairs:
        return None
    return "&".join(f"{n}={v}" for n, v in pairs)


def cookie_header(pairs: list[tuple[str, str]]) -> str:
    return "; ".join(f"{n}={v}" for n, v in pairs)


def apply_request_output(
    req: EdgeRequest, output: dict[str, Any], event: dict[str, Any]
) -> EdgeRequest:
    """The request after a viewer-request function returned ``output`` (already validated).

    AWS: if the function does not change the query string or cookies, CloudFront forwards the
    originals, so untouched sections keep the viewer's exact spelling and order. Headers the
    function could not see are carried over unchanged.
    """
    before = event["request"]
    headers: Headers = _expand(output.get("headers"), before["headers"], lower=True)
    viewer_cookies: Headers = []
    hidden: Headers = []
    for name, value in req.headers:  # one pass for both
        if name == "cookie":
            viewer_cookies.append((name, value))
        if hidden_from_functions(name):
            hidden.append((name, value))
    if output.get("cookies") == before["cookies"]:
        headers += viewer_cookies
    else:
        cookies = _expand(output.get("cookies"), before["cookies"])
        if cookies:
            headers.append(("cookie", cookie_header(cookies)))
    headers += hidden
    section = output.get("querystring")
    same_query = section == before["querystring"]
    return EdgeRequest(
        method=req.method,
        path=str(output.get("uri", req.path)),
        query=req.query if same_query else query_from_output(section, before["querystring"]),
        headers=headers,
        client_ip=req.client_ip,
        client_port=req.client_port,
        http_version=req.http_version,
        scheme=req.scheme,
        has_body=req.has_body,
        pop=req.pop,
        country=req.country,
    )


def parse_set_cookie(value: str) -> tuple[str, str, str]:
    """``name=value; Attr…`` → (name, value, attributes)."""
    pair, _, attributes = value.partition(";")
    name, _, cookie_value = pair.partition("=")
    return name.strip(), cookie_value.strip(), attributes.strip()


def _collapse_set_cookies(values: list[str]) -> Entries:
    grouped: dict[str, list[tuple[str, str]]] = {}
    for raw in values:
        name, value, attributes = parse_set_cookie(raw)
        grouped.setdefault(name, []).append((value, attributes))
    out: Entries = {}
    for name, items in grouped.items():
        entry: dict[str, Any] = {"value": items[0][0], "attributes": items[0][1]}
        if len(items) > 1:
            entry["multiValue"] = [{"value": v, "attributes": a} for v, a in items]
        out[name] = entry
    return out


def response_event(
    request_event_: dict[str, Any], status: int, headers: Headers, reason: str | None = None
) -> dict[str, Any]:
    """A viewer-response event: the request part as the viewer-request stage left it. Headers
    functions may not see (AWS "Restrictions on edge functions": disallowed headers, plus
    hop-by-hop ones) are left out, as in the request event; the caller carries them over."""
    plain = [(n, v) for n, v in headers if n != "set-cookie" and not hidden_from_functions(n)]
    response: dict[str, Any] = {
        "statusCode": status,
        "headers": _collapse(plain),
        "cookies": _collapse_set_cookies([v for n, v in headers if n == "set-cookie"]),
    }
    if reason:
        response["statusDescription"] = reason
    event = dict(request_event_)
    event["context"] = {**request_event_["context"], "eventType": "viewer-response"}
    event["response"] = response
    return event


def _set_cookie_values(section: Any, before: Entries) -> list[str]:
    out: list[str] = []
    if not isinstance(section, dict):
        return out
    for name, entry in section.items():
        if not isinstance(entry, dict):
            continue
        multi = entry.get("multiValue")
        prior = before.get(name)
        if (
            isinstance(multi, list)
            and multi
            and (prior is None or multi != prior.get("multiValue"))
        ):
            items = [(str(m.get("value", "")), str(m.get("attributes", ""))) for m in multi]
        elif isinstance(multi, list) and multi:
            items = [(str(m.get("value", "")), str(m.get("attributes", ""))) for m in multi]
            if prior is not None and (
                entry.get("value") != prior.get("value")
                or entry.get("attributes") != prior.get("attributes")
            ):
                items[0] = (str(entry.get("value", "")), str(entry.get("attributes", "")))
        else:
            items = [(str(entry.get("value", "")), str(entry.get("attributes", "")))]
        for value, attributes in items:
            out.append(f"{name}={value}; {attributes}" if attributes else f"{name}={value}")
    return out


def response_from_output(
    output: dict[str, Any], before: dict[str, Any] | None
) -> tuple[int, str | None, Headers, bytes | None]:
    """(status, reason, headers, body or None to keep the original) from a returned response.

    ``before`` is the event's ``response`` for viewer-response, None for a response generated
    in viewer-request.
    """
    prior_headers: Entries = (before or {}).get("headers", {})
    prior_cookies: Entries = (before or {}).get("cookies", {})
    headers = _expand(output.get("headers"), prior_headers, lower=True)
    headers += [("set-cookie", v) for v in _set_cookie_values(output.get("cookies"), prior_cookies)]
    status = int(output.get("statusCode", 200))
    reason = output.get("statusDescription")
    return status, reason if isinstance(reason, str) else None, headers, body_bytes(output)


def body_bytes(output: dict[str, Any]) -> bytes | None:
    """The returned body, or None when the function did not set one (keep the original)."""
    if "body" not in output:
        return None
    body = output["body"]
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, dict):
        data = str(body.get("data", ""))
        if body.get("encoding") == "base64":
            return base64.b64decode(data)
        return data.encode()
    return b""


@functools.lru_cache(maxsize=1024)
def wire_name(name: str) -> str:
    """CloudFront re-capitalises each hyphen-separated word of a header name on the way out."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))
