"""Rendering an invocation as the TestFunction API's ``TestResult`` members (reference notes §7).

Two members are edgesim's own, present only when the function failed at a known place in the
user's source: ``FunctionErrorLocation`` (``file:line:col`` of the innermost frame of the user's
code) and ``FunctionErrorStack`` (the user's frames, innermost first, each
``name (file:line:col)``). ``FunctionErrorMessage`` keeps CloudFront's shape.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from edgesim.kvs.reader import ACCOUNT_ID
from edgesim.runtime.function import CLOUDFRONT_ERROR_PREFIX, InvocationResult, LoadedFunction


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def function_summary(fn: LoadedFunction) -> dict[str, Any]:
    name = fn.source.name
    try:
        modified = datetime.fromtimestamp(Path(fn.source.filename).stat().st_mtime, UTC)
    except OSError:
        modified = datetime.now(UTC)
    config: dict[str, Any] = {"Comment": "", "Runtime": fn.runtime}
    if fn.kvs is not None:
        config["KeyValueStoreAssociations"] = {
            "Quantity": 1,
            "Items": [{"KeyValueStoreARN": fn.kvs.arn}],
        }
    return {
        "Name": name,
        "Status": "UNPUBLISHED",
        "FunctionConfig": config,
        "FunctionMetadata": {
            "FunctionARN": f"arn:aws:cloudfront::{ACCOUNT_ID}:function/{name}",
            "Stage": "DEVELOPMENT",
            "CreatedTime": _stamp(modified),
            "LastModifiedTime": _stamp(modified),
        },
    }


def error_location(position: str | None, stack: tuple[str, ...] = ()) -> dict[str, Any]:
    """edgesim's members for where a failure happened (none when that is unknown)."""
    if position is None:
        return {}
    return {"FunctionErrorLocation": position, "FunctionErrorStack": list(stack)}


def test_result(fn: LoadedFunction, result: InvocationResult) -> dict[str, Any]:
    output = ""
    if result.output is not None and result.kind is not None:
        # str(): orjson takes only exact str keys, not a StrEnum.
        output = orjson.dumps({str(result.kind): result.output}).decode()
    error = result.error
    return {
        "FunctionSummary": function_summary(fn),
        "ComputeUtilization": str(result.compute_utilization),
        "FunctionExecutionLogs": result.logs,
        "FunctionErrorMessage": error.cloudfront_message if error else "",
        **(error_location(error.position, error.stack) if error else {}),
        "FunctionOutput": output,
        "OriginModifications": [call.as_dict() for call in result.origin_modifications],
    }


def load_failure_result(
    name: str, runtime: str, message: str, position: str | None = None
) -> dict[str, Any]:
    """The result printed when the function could not even be loaded (syntax, size, compat);
    ``position`` is where in the source, when known."""
    return {
        "FunctionSummary": {
            "Name": name,
            "Status": "UNPUBLISHED",
            "FunctionConfig": {"Comment": "", "Runtime": runtime},
        },
        "ComputeUtilization": "0",
        "FunctionExecutionLogs": [],
        "FunctionErrorMessage": f"{CLOUDFRONT_ERROR_PREFIX} {message}",
        **error_location(position),
        "FunctionOutput": "",
        "OriginModifications": [],
    }
