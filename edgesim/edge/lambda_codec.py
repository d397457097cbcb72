"""The pipeline's request and response in Lambda@Edge's event shape, and back.

Facts (Developer Guide, "Lambda@Edge event structure"): headers are lower-case names mapping to
lists of ``{key, value}``; ``querystring`` is a string (``""`` without one); origin events carry
``request.origin`` (``s3`` or ``custom``) with the origin's custom headers in ``customHeaders``,
not among the request's headers; response events carry ``response.status`` as a string.

The pipeline keeps header names lower-cased, so the ``key`` edgesim puts in an event is the name
with each hyphen-separated part capitalised (``x-tenant-id`` → ``X-Tenant-Id``), as Lambda@Edge
does for a header a function adds without a key; a viewer's own spelling is not kept (a
documented deviation, docs/lambda-edge.md).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from edgesim.distribution.model import CustomHeader, Origin
from edgesim.edge.message import EdgeRequest, Headers
from edgesim.edge.origin import BodyReader, OriginRequest, OriginResponse
from edgesim.lambda_edge import events, limits

CF_ID = "x-amz-cf-id"  # CloudFront's own, never shown to functions (a disallowed header)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def event_headers(pairs: Headers) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for name, value in pairs:
        lower = name.lower()
        out.setdefault(lower, []).append({"key": events.header_key(lower), "value": value})
    return out


def plain_headers(headers: dict[str, Any]) -> Headers:
    """Validated event headers → the pipeline's (lower-case name, value) pairs."""
    return [(name, entry["value"]) for name, entries in headers.items() for entry in entries]


def wire_headers(headers: dict[str, Any]) -> Headers:
    """Validated event headers → pairs named as their ``key`` spells them (for the origin)."""
    return events.header_pairs(headers)


def viewer_request(req: EdgeRequest, body: bytes | None, *, include_body: bool) -> dict[str, Any]:
    """The viewer-request event's request. CloudFront-* headers are not in it: CloudFront adds
    them after the viewer request event ("Restrictions on Lambda@Edge" → CloudFront headers)."""
    out: dict[str, Any] = {
        "clientIp": req.client_ip,
        "headers": event_headers([(n, v) for n, v in req.headers if not _cloudfront_added(n)]),
        "method": req.method,
        "querystring": req.query or "",
        "uri": req.path,
    }
    if include_body:
        out["body"] = events.request_body(body or b"", limits.VIEWER_REQUEST)
    return out


def apply_request(req: EdgeRequest, result: dict[str, Any]) -> EdgeRequest:
    """The viewer request as a viewer-request lambda left it (method and clientIp are
    read-only: a change is ignored, and the validation warned about it)."""
    query = result.get("querystring", "")
    kept = [(n, v) for n, v in req.headers if _cloudfront_added(n)]
    return replace(
        req,
        path=result["uri"],
        query=query if query or req.query is not None else None,
        headers=plain_headers(result["headers"]) + kept,
    )


def replaced_body(result: dict[str, Any]) -> bytes | None:
    """The body a request lambda replaced (``action = "replace"``), else None."""
    body = result.get("body")
    if not isinstance(body, dict) or body.get("action") != "replace":
        return None
    data = str(body.get("data", ""))
    if body.get("encoding", "base64") == "base64":
        return base64.b64decode(data)
    return data.encode("utf-8")


def origin_request(
    outgoing: OriginRequest, origin: Origin, *, client_ip: str, region: str
) -> dict[str, Any]:
    """The origin-request event's request: the request as CloudFront would send it (the headers
    its policies forward and the ones it adds), without X-Amz-Cf-Id and the origin's custom
    headers, which are in ``origin``."""
    custom = {h.name.lower() for h in origin.custom_headers}
    headers = [(n, v) for n, v in outgoing.headers if n.lower() not in custom | {CF_ID}]
    return {
        "clientIp": client_ip,
        "headers": event_headers(headers),
        "method": outgoing.method,
        "querystring": outgoing.query or "",
        "uri": outgoing.path,
        "origin": origin_object(origin, region),
    }


def origin_object(origin: Origin, region: str) -> dict[str, Any]:
    parts = urlsplit(origin.url)
    host = parts.hostname or ""
    custom_headers = [(h.name, h.value) for h in origin.custom_headers]
    if origin.s3:
        return events.s3_origin(
            host, path=origin.origin_path, region=_bucket_region(host) or region,
            custom_headers=custom_headers,
        )  # fmt: skip
    scheme = parts.scheme or "https"
    return events.custom_origin(
        host,
        port=parts.port or _DEFAULT_PORTS.get(scheme, 443),
        protocol=scheme,
        path=origin.origin_path,
        read_timeout=round(origin.response_timeout_s),
        ssl_protocols=("TLSv1.2",),
        custom_headers=custom_headers,
    )


def origin_from(base: Origin, spec: dict[str, Any]) -> Origin:
    """The origin a lambda's (validated) ``request.origin`` names, over ``base``."""
    if "s3" in spec:
        s3 = spec["s3"]
        domain = str(s3["domainName"])
        return replace(
            base,
            url=f"https://{domain}",
            origin_path=str(s3.get("path", "")),
            custom_headers=_customs(s3),
            s3=True,
            host_header=None,
        )
    custom = spec["custom"]
    protocol = str(custom.get("protocol", "https"))
    port = int(custom.get("port", _DEFAULT_PORTS.get(protocol, 443)))
    domain = str(custom["domainName"])
    netloc = domain if port == _DEFAULT_PORTS.get(protocol) else f"{domain}:{port}"
    changes: dict[str, Any] = {
        "url": f"{protocol}://{netloc}",
        "origin_path": str(custom.get("path", "")),
        "custom_headers": _customs(custom),
        "s3": False,
    }
    if "readTimeout" in custom:
        changes["response_timeout_s"] = float(custom["readTimeout"])
    if urlsplit(base.url).hostname != domain:
        changes["host_header"] = None
    return replace(base, **changes)


def _customs(spec: dict[str, Any]) -> tuple[CustomHeader, ...]:
    return tuple(CustomHeader(n, v) for n, v in events.header_pairs(spec.get("customHeaders", {})))


def _bucket_region(host: str) -> str | None:
    """``<bucket>.s3.<region>.amazonaws.com`` → the region (None for other forms)."""
    labels = host.split(".")
    if len(labels) >= 5 and labels[-4] == "s3" and labels[-1] == "com":
        return labels[-3]
    return None


def response_event(status: int, reason: str | None, headers: Headers) -> dict[str, Any]:
    return {
        "headers": event_headers(headers),
        "status": str(status),
        "statusDescription": reason or "",
    }


def response_body(result: dict[str, Any]) -> bytes | None:
    """A response's body as the lambda set it (``bodyEncoding`` text or base64), else None."""
    if "body" not in result:
        return None
    body = str(result["body"])
    if result.get("bodyEncoding") == "base64":
        return base64.b64decode(body)
    return body.encode("utf-8")


def _cloudfront_added(name: str) -> bool:
    return name.startswith(("cloudfront-viewer-", "cloudfront-is-")) or (
        name == "cloudfront-forwarded-proto"
    )


class _Bytes:
    """A body in hand, read as an origin's body is (``iter_chunked``)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        for start in range(0, len(self._data), n):
            yield self._data[start : start + n]


class LambdaMadeResponse:
    """An origin response as a lambda left it, read by the pipeline like the origin's own: a
    response an origin-request lambda generated, or the origin's with the status and headers an
    origin-response lambda set (and its body, when it replaced it)."""

    def __init__(
        self,
        status: int,
        reason: str | None,
        headers: Headers,
        body: bytes | None,
        inner: OriginResponse | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self._inner = inner if body is None else None
        if body is not None:
            headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
            headers.append(("content-length", str(len(body))))
            if inner is not None:
                inner.release()  # the origin's body is not sent: give its connection back
        self.raw_headers = tuple((n.encode("utf-8"), v.encode("utf-8")) for n, v in headers)
        self._body = _Bytes(body or b"")
        self._length = len(body or b"")

    @property
    def content(self) -> BodyReader:
        return self._inner.content if self._inner is not None else self._body

    @property
    def content_length(self) -> int | None:
        return self._inner.content_length if self._inner is not None else self._length

    def release(self) -> None:
        if self._inner is not None:
            self._inner.release()
