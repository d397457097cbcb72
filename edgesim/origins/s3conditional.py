"""Conditional requests for the S3 directory origin: HTTP dates, and what If-Match,
If-None-Match, If-Modified-Since, If-Unmodified-Since and If-Range decide for an object.

Each behaviour cites the evidence it follows (AWS documentation first, field reports where the
documentation is silent). docs/s3-origins.md lists what is emulated and what is not.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from datetime import UTC

__all__ = ["http_date", "if_range_holds", "precondition"]


def http_date(timestamp: int) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


def _parse_http_date(value: str | None) -> int | None:
    """An HTTP-date as whole seconds since the epoch; ``None`` when absent or not a date (an
    invalid date is ignored, RFC 9110 §13.1.3/§13.1.4)."""
    if value is None:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _etag_listed(header: str, etag: str, *, weak: bool) -> bool:
    """Whether ``etag`` (quoted) is in the header's list of entity tags, or the list is ``*``.
    An unquoted tag is taken as quoted, as S3 takes the values SDKs pass through unchanged."""
    for raw in header.split(","):
        candidate = raw.strip()
        if candidate == "*":
            return True
        if candidate.startswith("W/"):
            if not weak:
                continue
            candidate = candidate[2:]
        if not candidate.startswith('"'):
            candidate = f'"{candidate}"'
        if candidate == etag:
            return True
    return False


def precondition(headers: Mapping[str, str], etag: str, modified: int) -> int | str | None:
    """What the conditional headers decide: ``304``, the failed header's name (412), or
    ``None`` (go on).

    RFC 9110 §13.2.2's order, which GetObject/HeadObject document for the mixed cases:
    "If both of the If-Match and If-Unmodified-Since headers are present ... If-Match condition
    evaluates to true, and; If-Unmodified-Since condition evaluates to false; then, S3 returns
    200 OK"; "If both of the If-None-Match and If-Modified-Since headers are present ...
    If-None-Match condition evaluates to false, and; If-Modified-Since condition evaluates to
    true; then, S3 returns 304 Not Modified". If-Match compares strongly, If-None-Match weakly.
    Dates are compared at S3's one-second Last-Modified resolution.
    """
    if_match = headers.get("If-Match")
    if if_match is not None:
        if not _etag_listed(if_match, etag, weak=False):
            return "If-Match"
    else:
        unmodified_since = _parse_http_date(headers.get("If-Unmodified-Since"))
        if unmodified_since is not None and modified > unmodified_since:
            return "If-Unmodified-Since"
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        if _etag_listed(if_none_match, etag, weak=True):
            return 304
    else:
        modified_since = _parse_http_date(headers.get("If-Modified-Since"))
        if modified_since is not None and modified <= modified_since:
            return 304
    return None


def if_range_holds(value: str, etag: str, modified: int) -> bool:
    """If-Range (RFC 9110 §13.1.5): the range is served only while the validator still names
    this representation (an entity tag compared strongly, or exactly the Last-Modified date);
    otherwise the whole object. S3 honours it (field report, aws/aws-sdk-kotlin#1645)."""
    value = value.strip()
    if value.startswith(('"', "W/")):
        return not value.startswith("W/") and value == etag
    return _parse_http_date(value) == modified
