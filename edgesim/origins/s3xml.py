"""S3's answers as documents for the S3 directory origin: the request ids S3 puts on every
response, its XML error responses, and the ListObjects/ListObjectsV2 XML with its continuation
tokens.

Each behaviour cites the evidence it follows (AWS documentation first, field reports where the
documentation is silent). docs/s3-origins.md lists what is emulated and what is not.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final
from xml.sax.saxutils import escape

from aiohttp import web

__all__ = ["error", "id_headers", "list_objects_xml", "request_ids"]

# Amazon S3 error responses (S3 API reference, "Error responses"): an XML document with
# Code, Message, operation-specific elements, RequestId and HostId, sent as application/xml.
_XML_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>\n'
_S3_NAMESPACE: Final = "http://s3.amazonaws.com/doc/2006-03-01/"

_QUOT: Final = {'"': "&quot;"}  # S3 listings write an ETag's quotes as &quot;


def request_ids() -> tuple[str, str]:
    """An ``x-amz-request-id`` (16 characters) and ``x-amz-id-2`` (base64), which S3 returns on
    every response (S3 User Guide, "The REST error response", "Response headers")."""
    request_id = secrets.token_hex(8).upper()
    host_id = base64.b64encode(secrets.token_bytes(57)).decode("ascii")
    return request_id, host_id


def id_headers(ids: tuple[str, str]) -> dict[str, str]:
    return {"x-amz-request-id": ids[0], "x-amz-id-2": ids[1], "Server": "AmazonS3"}


def error(
    ids: tuple[str, str],
    status: int,
    code: str,
    message: str,
    details: list[tuple[str, str]],
    *,
    extra_headers: Mapping[str, str] | None = None,
) -> web.Response:
    """S3's REST error response: "An XML error document as the response body",
    "Content-Type: application/xml" (S3 API reference, "Error responses"). A HEAD answer has
    no body (aws/aws-cli#666), which aiohttp sees to."""
    parts = [f"<Code>{code}</Code>", f"<Message>{escape(message)}</Message>"]
    parts.extend(f"<{name}>{escape(value)}</{name}>" for name, value in details)
    parts.append(f"<RequestId>{ids[0]}</RequestId><HostId>{ids[1]}</HostId>")
    body = _XML_DECLARATION + "<Error>" + "".join(parts) + "</Error>"
    headers = {**id_headers(ids), "Content-Type": "application/xml", **(extra_headers or {})}
    return web.Response(status=status, body=body.encode("utf-8"), headers=headers)


def _iso8601(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _max_keys(value: str | None) -> int:
    try:
        return max(0, min(1000, int(value))) if value is not None else 1000
    except ValueError:
        return 1000


def list_objects_xml(
    bucket: str, query: Mapping[str, str], entries: list[tuple[str, int, int, str]]
) -> str:
    """ListObjects (V1), or ListObjectsV2 with ``list-type=2``, over ``entries`` (already
    filtered by prefix and sorted): Contents then CommonPrefixes when a delimiter groups keys,
    at most ``max-keys`` (1000) of them together."""
    v2 = query.get("list-type") == "2"
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    max_keys = _max_keys(query.get("max-keys"))
    if v2:
        token = query.get("continuation-token")
        after = _decode_token(token) if token else query.get("start-after", "")
    else:
        after = query.get("marker", "")

    contents: list[tuple[str, int, int, str]] = []
    common: list[str] = []
    truncated = False
    last = ""
    for key, size, modified, etag in entries:
        if key <= after and after:
            continue
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut != -1:
                group = key[: cut + len(delimiter)]
                if common and common[-1] == group:
                    continue
                if group <= after:
                    continue
                if len(contents) + len(common) >= max_keys:
                    truncated = True
                    break
                common.append(group)
                last = group
                continue
        if len(contents) + len(common) >= max_keys:
            truncated = True
            break
        contents.append((key, size, modified, etag))
        last = key

    out = [_XML_DECLARATION, f'<ListBucketResult xmlns="{_S3_NAMESPACE}">']
    out.append(f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>")
    if v2:
        if query.get("continuation-token"):
            out.append(
                f"<ContinuationToken>{escape(query['continuation-token'])}</ContinuationToken>"
            )
        if query.get("start-after"):
            out.append(f"<StartAfter>{escape(query['start-after'])}</StartAfter>")
        out.append(f"<KeyCount>{len(contents) + len(common)}</KeyCount>")
    else:
        out.append(f"<Marker>{escape(after)}</Marker>")
    out.append(f"<MaxKeys>{max_keys}</MaxKeys>")
    if delimiter:
        out.append(f"<Delimiter>{escape(delimiter)}</Delimiter>")
    out.append(f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>")
    if truncated and v2:
        out.append(f"<NextContinuationToken>{_encode_token(last)}</NextContinuationToken>")
    elif truncated and delimiter:
        out.append(f"<NextMarker>{escape(last)}</NextMarker>")
    for key, size, modified, etag in contents:
        out.append(
            f"<Contents><Key>{escape(key)}</Key><LastModified>{_iso8601(modified)}</LastModified>"
            f"<ETag>{escape(etag, _QUOT)}</ETag><Size>{size}</Size>"
            "<StorageClass>STANDARD</StorageClass></Contents>"
        )
    for group in common:
        out.append(f"<CommonPrefixes><Prefix>{escape(group)}</Prefix></CommonPrefixes>")
    out.append("</ListBucketResult>")
    return "".join(out)


def _encode_token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode("ascii")


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError):
        return ""
