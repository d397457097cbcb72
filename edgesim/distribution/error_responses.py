"""``[[custom_error_responses]]``: error pages and how long errors are cached (CloudFront's
``CustomErrorResponse``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgesim.distribution.model import CustomErrorResponse
from edgesim.distribution.tables import MISSING, Context, Table, toml_type, unique

ERROR_RESPONSE_KEYS = ("error_code", "response_page_path", "response_code", "error_caching_min_ttl")

# CustomErrorResponse.ErrorCode / ResponseCode values the CloudFront API accepts.
ERROR_CODES = frozenset({400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504})
RESPONSE_CODES = ERROR_CODES | {200}


def read_custom_error_responses(
    ctx: Context, doc: Mapping[str, Any]
) -> dict[int, CustomErrorResponse]:
    responses: dict[int, CustomErrorResponse] = {}
    seen: dict[str, str] = {}
    for t in ctx.entries(
        doc, "custom_error_responses", ERROR_RESPONSE_KEYS, required=("error_code",)
    ):
        code = _status(t, "error_code", ERROR_CODES)
        if code is None or not unique(t, "error_code", str(code), seen, "error code"):
            continue
        page = t.text("response_page_path")
        response_code = _status(t, "response_code", RESPONSE_CODES)
        if page is not None and not page.startswith("/"):
            t.error("response_page_path", f"{page!r} must start with '/'")
        if (page is None) != (t.raw("response_code") is MISSING):
            # CloudFront: ResponsePagePath and ResponseCode are given together or not at all.
            t.error(None, "response_page_path and response_code go together: set both or neither")
        responses[code] = CustomErrorResponse(
            error_code=code,
            response_page_path=page,
            response_code=response_code,
            error_caching_min_ttl=t.integer("error_caching_min_ttl", 10, lo=0),
        )
    return responses


def _status(t: Table, key: str, allowed: frozenset[int]) -> int | None:
    value = t.raw(key)
    if value is MISSING:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        t.error(key, f"expected an integer, got {toml_type(value)} {value!r}")
        return None
    if value not in allowed:
        t.error(key, f"{value} is not one of {', '.join(map(str, sorted(allowed)))}")
        return None
    return value
