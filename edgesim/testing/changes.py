"""What a function changed, in words: the differences between an event's request (or response)
and what the function returned, for the property helpers' failure messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgesim.runtime.event import VIEWER_RESPONSE
from edgesim.runtime.function import InvocationResult


def short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _entry_changes(kind: str, before: Any, after: Any) -> list[str]:
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [] if before == after else [f"{kind}s {short(before)} → {short(after)}"]
    changes = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if old is None:
            changes.append(f"{kind} {name!r} added ({short(_value(new))})")
        elif new is None:
            changes.append(f"{kind} {name!r} removed")
        else:
            changes.append(f"{kind} {name!r} changed: {short(_value(old))} → {short(_value(new))}")
    return changes


def _value(entry: Any) -> Any:
    return entry.get("value", entry) if isinstance(entry, dict) else entry


_Parts = tuple[tuple[str, str], ...]
_REQUEST_PARTS: _Parts = (
    ("querystring", "query parameter"),
    ("headers", "header"),
    ("cookies", "cookie"),
)
_RESPONSE_PARTS: _Parts = (("headers", "header"), ("cookies", "cookie"))


def _part_changes(before: Mapping[str, Any], after: Mapping[str, Any], parts: _Parts) -> list[str]:
    changes: list[str] = []
    for part, kind in parts:
        changes += _entry_changes(kind, before.get(part, {}), after.get(part, {}))
    return changes


def describe_changes(event: Mapping[str, Any], result: InvocationResult) -> list[str]:
    """How the result differs from the event's request (or response), in words."""
    if event["context"]["eventType"] == VIEWER_RESPONSE:
        before, after = event["response"], result.response or {}
        changes = []
        if before.get("statusCode") != after.get("statusCode"):
            changes.append(f"status {before.get('statusCode')} → {after.get('statusCode')}")
        if "body" in after:
            changes.append("body replaced")
        return changes + _part_changes(before, after, _RESPONSE_PARTS)
    if result.kind == "response":
        code = (result.response or {}).get("statusCode")
        return [f"returned a {code} response instead of the request"]
    before, after = event["request"], result.request or {}
    changes = []
    if before.get("uri") != after.get("uri"):
        changes.append(f"uri {before.get('uri')!r} → {after.get('uri')!r}")
    return changes + _part_changes(before, after, _REQUEST_PARTS)


def unchanged(event: dict[str, Any], result: InvocationResult) -> bool:
    return result.error is None and not describe_changes(event, result)
