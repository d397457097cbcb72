"""Validating and normalising what a handler returned.

Validation applies CloudFront's production rules (AWS Developer Guide, "Restrictions on edge
functions" and the event-structure page); each problem names the field. TestFunction itself does
not apply them, which is why functions that pass the console test can still fail with a 502.
Normalisation reproduces how TestFunction prints the output: missing ``headers`` / ``cookies`` /
``querystring`` become ``{}`` and a string ``body`` becomes ``{"encoding": "text", "data": …}``.
"""

from __future__ import annotations

import base64
import binascii
import re
from enum import Enum, StrEnum
from typing import Any

from edgesim import limits
from edgesim.runtime.event import VIEWER_REQUEST

# Disallowed headers: functions can neither see nor add them (exact list from the docs).
DISALLOWED_HEADERS = frozenset(
    {
        "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
        "proxy-connection", "trailer", "upgrade", "x-accel-buffering", "x-accel-charset",
        "x-accel-limit-rate", "x-accel-redirect", "x-amzn-auth", "x-amzn-cf-billing",
        "x-amzn-cf-id", "x-amzn-cf-xff", "x-amzn-errortype", "x-amzn-fle-profile",
        "x-amzn-header-count", "x-amzn-header-order", "x-amzn-lambda-integration-tag",
        "x-amzn-requestid", "x-cache", "x-forwarded-proto", "x-real-ip",
    }
)  # fmt: skip
DISALLOWED_PREFIXES = ("x-amz-cf-", "x-edge-")
READ_ONLY_REQUEST_HEADERS = frozenset(
    {"cdn-loop", "content-length", "host", "transfer-encoding", "via"}
)
READ_ONLY_RESPONSE_HEADERS = frozenset({"warning", "via"})
_BAD_QUERY_CHARS = re.compile(r"[\x00-\x20\x7f#]")
_LINE_BREAK = re.compile(r"[\r\n\x00]")
# RFC 9110 §5.6.2 token: the characters a header name may have.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class ResultKind(StrEnum):
    """What a handler returned: the request to forward, or a response CloudFront sends itself.

    A ``StrEnum``: ``ResultKind.REQUEST == "request"``, and it is the key of TestFunction's
    ``FunctionOutput`` (``{"request": …}`` / ``{"response": …}``).
    """

    REQUEST = "request"
    RESPONSE = "response"


def is_disallowed(name: str) -> bool:
    lower = name.lower()
    return lower in DISALLOWED_HEADERS or lower.startswith(DISALLOWED_PREFIXES)


def classify(event_type: str, value: Any) -> ResultKind | None:
    """What the returned value is, or None when it is neither a request nor a response.

    A viewer-request function may return a request or a response (an object with
    ``statusCode``); a viewer-response function only a response.
    """
    if not isinstance(value, dict):
        return None
    if "statusCode" in value:
        return ResultKind.RESPONSE
    return ResultKind.REQUEST if event_type == VIEWER_REQUEST else None


def _check_entries(
    section: Any, where: str, problems: list[str], *, cookies: bool, line_breaks: bool = True
) -> None:
    """Check a headers / cookies / querystring map. ``line_breaks``: whether any text of the
    returned value can hold a line break or NUL at all (False: the search is skipped)."""
    if section is None:
        return
    if not isinstance(section, dict):
        problems.append(f"{where} must be an object")
        return
    for name, entry in section.items():
        if type(entry) is dict and len(entry) == 1:
            # The common shape, {value: '…'}: only its text can be wrong.
            value = entry.get("value")
            if type(value) is str:
                if line_breaks and _LINE_BREAK.search(value):
                    problems.append(f"{where}.{name} contains a line break or NUL character")
                continue
        path = f"{where}.{name}"
        if not isinstance(entry, dict):
            problems.append(f"{path} must be an object like {{value: '…'}}")
            continue
        multi = entry.get("multiValue")
        if "value" not in entry and multi is None:
            problems.append(f"{path} has no value")
        if "value" in entry and not isinstance(entry["value"], str):
            problems.append(f"{path}.value must be a string")
        if cookies and "attributes" in entry and not isinstance(entry["attributes"], str):
            problems.append(f"{path}.attributes must be a string")
        texts = [entry.get("value"), entry.get("attributes")]
        if isinstance(multi, list):
            texts += [
                m.get(k) for m in multi if isinstance(m, dict) for k in ("value", "attributes")
            ]
        if line_breaks and any(isinstance(t, str) and _LINE_BREAK.search(t) for t in texts):
            # Not valid in an HTTP field (RFC 9110 §5.5); how CloudFront words the rejection
            # is unverified, that it cannot forward it is not.
            problems.append(f"{path} contains a line break or NUL character")
        if multi is not None and (
            not isinstance(multi, list)
            or not all(isinstance(m, dict) and isinstance(m.get("value"), str) for m in multi)
        ):
            problems.append(f"{path}.multiValue must be an array of {{value: '…'}} objects")


def _check_headers(
    headers: Any, original: dict[str, Any], read_only: frozenset[str], where: str,
    problems: list[str], warnings: list[str], *, missing_is_empty: bool = False,
    line_breaks: bool = True,
) -> None:  # fmt: skip
    _check_entries(headers, where, problems, cookies=False, line_breaks=line_breaks)
    if headers is None and missing_is_empty:
        # A request without `headers` is forwarded without any: read-only ones count as removed.
        headers = {}
    if not isinstance(headers, dict):
        return
    kinds = _NAME_KINDS
    for name in headers:
        kind = kinds.get(name) or _name_kind(name)  # known names without a call
        if kind is _NameKind.LOWERCASE:
            continue
        if kind is _NameKind.INVALID:
            problems.append(f"{where}.{name!r} is not a valid HTTP header name")
        elif kind is _NameKind.DISALLOWED:
            problems.append(f"{where}.{name}: the function added the disallowed header '{name}'")
        elif name.lower() not in read_only:
            warnings.append(
                f"{where}.{name}: header names must be lowercase on CloudFront; "
                "behaviour with uppercase names is undocumented"
            )
    # Header names are case-insensitive: 'Host' next to 'host' changes the host too.
    now = _read_only_entries(headers, read_only)
    # An event made by hand may have no headers map at all: nothing was there to change.
    before = _read_only_entries(original, read_only) if isinstance(original, dict) else {}
    if now == before:
        return
    for name in sorted(read_only):
        now_entries, before_entries = now.get(name, {}), before.get(name, {})
        if now_entries != before_entries:
            verb = "removed" if not now_entries else "added" if not before_entries else "changed"
            problems.append(f"{where}.{name}: the function {verb} the read-only header '{name}'")


class _NameKind(Enum):
    LOWERCASE = 1  # a valid, allowed, lowercase name: nothing to say
    INVALID = 2
    DISALLOWED = 3
    UPPERCASE = 4


# Header names repeat from one request to the next: what each one is, kept for a bounded number.
_NAME_KINDS: dict[str, _NameKind] = {}
_NAME_KINDS_KEPT = 4096


def _name_kind(name: str) -> _NameKind:
    kind = _NAME_KINDS.get(name)
    if kind is None:
        if not _TOKEN.fullmatch(name):
            kind = _NameKind.INVALID
        elif is_disallowed(name):
            kind = _NameKind.DISALLOWED
        elif name != name.lower():
            kind = _NameKind.UPPERCASE
        else:
            kind = _NameKind.LOWERCASE
        if len(_NAME_KINDS) < _NAME_KINDS_KEPT:
            _NAME_KINDS[name] = kind
    return kind


def _read_only_entries(
    headers: dict[str, Any], read_only: frozenset[str]
) -> dict[str, dict[str, Any]]:
    """The entries of ``headers`` whose lowercase names are read-only, by that name."""
    found: dict[str, dict[str, Any]] = {}
    for key, value in headers.items():
        if key in read_only:
            lower = key
        elif key.islower():
            continue  # lowercase already, and not read-only (no new string made)
        else:
            lower = key.lower()
            if lower not in read_only:
                continue
        found.setdefault(lower, {})[key] = value
    return found


def _query_values(entry: Any) -> tuple[list[str], list[str]]:
    """What one query-string entry sends: (every value to check, the values to count).

    ``multiValue`` holds all values, the first one included, so when it is there it is what the
    URL carries; ``value`` is checked either way.
    """
    if not isinstance(entry, dict):
        return [], [""]
    single = [entry["value"]] if isinstance(entry.get("value"), str) else []
    multi = entry.get("multiValue")
    many = (
        [m["value"] for m in multi if isinstance(m, dict) and isinstance(m.get("value"), str)]
        if isinstance(multi, list)
        else []
    )
    return single + many, (many or single or [""])


def validate_request(
    returned: dict[str, Any],
    original: dict[str, Any],
    warnings: list[str],
    *,
    line_breaks: bool = True,
) -> list[str]:
    """CloudFront's problems with a returned request (empty: none); warnings are appended.

    ``line_breaks=False`` says that no text in ``returned`` holds CR, LF or NUL (known from its
    JSON text), so the search for them is skipped.
    """
    if _plainly_valid_request(returned, original, line_breaks):
        return []
    return _request_problems(returned, original, warnings, line_breaks)


# Header names known to be lowercase, valid and allowed (kept for a bounded number).
_PLAIN_NAMES: set[str] = set()


def _plain_entries(section: dict[str, Any], line_breaks: bool) -> bool:
    """Whether every entry of a headers / cookies map has the shape viewers' requests give,
    ``{value: '…'}``, without a line break: the entry checks have nothing to say about it."""
    search = _LINE_BREAK.search
    for entry in section.values():
        if type(entry) is not dict or len(entry) != 1:
            return False
        value = entry.get("value")
        if type(value) is not str or (line_breaks and search(value)):
            return False
    return True


def _plainly_valid_request(
    returned: dict[str, Any], original: dict[str, Any], line_breaks: bool
) -> bool:
    """True only when :func:`_request_problems` would find no problem and give no warning, for
    the common case in one pass: every section in the usual shape, every header name lowercase,
    valid and allowed, the read-only headers as they came. Anything else (including anything
    merely unusual) returns False and gets the full checks, which word the findings.
    (validate_request runs on every function invocation: this pass costs about half as much as
    the full checks.)"""
    method = original.get("method")
    if returned.get("method", method) != method:
        return False
    uri = returned.get("uri", original.get("uri", "/"))
    if type(uri) is not str or not uri.startswith("/"):
        return False
    query = returned.get("querystring")
    query_len = 0
    bad = _BAD_QUERY_CHARS.search  # its characters include CR, LF and NUL
    if type(query) is dict:
        for name, entry in query.items():
            if type(entry) is not dict or len(entry) != 1:
                return False
            value = entry.get("value")
            if type(value) is not str or bad(name) or bad(value):
                return False
            query_len += len(name) + len(value) + 2
    elif type(query) is str:
        if bad(query):
            return False
        query_len = len(query)
    elif query is not None:
        return False
    if len(uri) + query_len >= limits.MAX_URI_AND_QUERY_CHARS:
        return False  # the full check knows how an untouched query was spelled
    headers = returned.get("headers")
    if headers is None:
        headers = {}  # forwarded without headers: read-only ones count as removed
    before = original.get("headers", {})
    if type(headers) is not dict or type(before) is not dict:
        return False
    names = _PLAIN_NAMES
    if not (headers.keys() <= names and before.keys() <= names):  # set operations, in C
        for name in (*headers, *before):
            if (_NAME_KINDS.get(name) or _name_kind(name)) is not _NameKind.LOWERCASE:
                return False
            if len(names) < _NAME_KINDS_KEPT:
                names.add(name)
    # With every name lowercase on both sides, a read-only header is unchanged when it is
    # present on both sides with equal entries, or absent from both.
    read_only = headers.keys() & READ_ONLY_REQUEST_HEADERS
    if read_only != before.keys() & READ_ONLY_REQUEST_HEADERS:
        return False
    for name in read_only:
        if headers[name] != before[name]:
            return False
    if not _plain_entries(headers, line_breaks):
        return False
    cookies = returned.get("cookies")
    if cookies is None:
        return True
    return type(cookies) is dict and _plain_entries(cookies, line_breaks)


def _request_problems(
    returned: dict[str, Any], original: dict[str, Any], warnings: list[str], line_breaks: bool
) -> list[str]:
    """Every check of :func:`validate_request`, each problem worded."""
    problems: list[str] = []
    if returned.get("method", original.get("method")) != original.get("method"):
        problems.append(
            f"request.method is read-only (was {original.get('method')!r}, "
            f"returned {returned.get('method')!r})"
        )
    uri = returned.get("uri", original.get("uri", "/"))
    if not isinstance(uri, str) or not uri.startswith("/"):
        problems.append(f"request.uri must be a string starting with '/' (returned {uri!r})")
        uri = ""
    query = returned.get("querystring")
    query_len = 0
    if isinstance(query, str):
        if _BAD_QUERY_CHARS.search(query):
            problems.append(
                "request.querystring contains a space, a control character or '#' (not allowed)"
            )
        query_len = len(query)
    else:
        _check_entries(
            query, "request.querystring", problems, cookies=False, line_breaks=line_breaks
        )
        if isinstance(query, dict):
            for name, entry in query.items():
                if type(entry) is dict and len(entry) == 1 and type(entry.get("value")) is str:
                    # The common shape, {value: '…'}: one value, checked and sent.
                    value = entry["value"]
                    query_len += len(name) + len(value) + 2
                    if _BAD_QUERY_CHARS.search(name) or _BAD_QUERY_CHARS.search(value):
                        problems.append(
                            f"request.querystring.{name} contains a space, a control character"
                            " or '#'"
                        )
                    continue
                checked, sent = _query_values(entry)
                query_len += sum(len(name) + len(v) + 2 for v in sent)
                if any(_BAD_QUERY_CHARS.search(name + v) for v in checked or [""]):
                    problems.append(
                        f"request.querystring.{name} contains a space, a control character or '#'"
                    )
    if isinstance(query, dict) and query_len and query == original.get("querystring"):
        # An untouched query string is forwarded as the viewer spelled it, where an entry with
        # an empty value may have had no '=' ("?flag"): count it that way (the shortest
        # spelling), so a URL the viewer stage accepted is not refused for an unchanged query.
        query_len -= sum(
            type(entry) is dict and entry.get("value") == "" and "multiValue" not in entry
            for entry in query.values()
        )
    if len(uri) + query_len >= limits.MAX_URI_AND_QUERY_CHARS:
        problems.append(
            f"request.uri plus query string must stay under {limits.MAX_URI_AND_QUERY_CHARS} "
            "characters"
        )
    _check_headers(
        returned.get("headers"), original.get("headers", {}), READ_ONLY_REQUEST_HEADERS,
        "request.headers", problems, warnings, missing_is_empty=True, line_breaks=line_breaks,
    )  # fmt: skip
    _check_entries(
        returned.get("cookies"), "request.cookies", problems, cookies=False,
        line_breaks=line_breaks,
    )  # fmt: skip
    return problems


def validate_response(
    returned: dict[str, Any],
    original: dict[str, Any] | None,
    warnings: list[str],
    *,
    line_breaks: bool = True,
) -> list[str]:
    """CloudFront's problems with a returned response; ``line_breaks`` as for
    :func:`validate_request`."""
    problems: list[str] = []
    status = returned.get("statusCode")
    # The valid range is undocumented for CloudFront Functions; Lambda@Edge documents 200–599.
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
        problems.append(f"response.statusCode must be an integer from 200 to 599 (got {status!r})")
    description = returned.get("statusDescription")
    if "statusDescription" in returned and not isinstance(description, str):
        problems.append("response.statusDescription must be a string")
    elif isinstance(description, str) and line_breaks and _LINE_BREAK.search(description):
        problems.append("response.statusDescription contains a line break or NUL character")
    read_only = READ_ONLY_RESPONSE_HEADERS if original is not None else frozenset()
    _check_headers(
        returned.get("headers"), (original or {}).get("headers", {}), read_only,
        "response.headers", problems, warnings, line_breaks=line_breaks,
    )  # fmt: skip
    _check_entries(
        returned.get("cookies"), "response.cookies", problems, cookies=True,
        line_breaks=line_breaks,
    )  # fmt: skip
    if "body" in returned:
        problems.extend(_check_body(returned["body"]))
    return problems


def _check_body(body: Any) -> list[str]:
    if isinstance(body, str):
        return []
    if not isinstance(body, dict) or not isinstance(body.get("data"), str):
        return ["response.body must be a string or {encoding: 'text'|'base64', data: '…'}"]
    encoding = body.get("encoding", "text")
    if encoding not in ("text", "base64"):
        return [f"response.body.encoding must be 'text' or 'base64' (got {encoding!r})"]
    if encoding == "base64":
        try:
            base64.b64decode(body["data"], validate=True)
        except (binascii.Error, ValueError):
            return ["response.body.data is not valid base64"]
    return []


def normalise(kind: ResultKind, value: dict[str, Any]) -> dict[str, Any]:
    """The returned object as TestFunction prints it (a new dict; the input is untouched)."""
    out = dict(value)
    response = kind == ResultKind.RESPONSE
    sections = ("headers", "cookies") if response else ("querystring", "headers", "cookies")
    for name in sections:
        if out.get(name) is None:
            out[name] = {}
    if response and isinstance(out.get("body"), str):
        out["body"] = {"encoding": "text", "data": out["body"]}
    return out
