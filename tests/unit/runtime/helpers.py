"""Small builders shared by the runtime tests."""

from __future__ import annotations

from typing import Any

from edgesim.kvs.reader import StaticKvs
from edgesim.runtime.event import build_event
from edgesim.runtime.function import BudgetPolicy, LoadedFunction
from edgesim.runtime.source import from_text

NOW = 1_767_225_600_000.0  # 2026-01-01T00:00:00Z in ms


def load(
    code: str,
    *,
    kvs: dict[str, str] | Any | None = None,
    runtime: str = "cloudfront-js-2.0",
    compat: str = "lenient",
    budget: BudgetPolicy | None = None,
) -> LoadedFunction:
    store = StaticKvs(kvs) if isinstance(kvs, dict) else kvs
    return LoadedFunction(
        from_text(code, name="fn", filename="fn.js"),
        runtime=runtime,
        kvs=store,
        compat=compat,
        budget=budget,
    )


def request_event(
    uri: str = "/index.html",
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
    querystring: dict[str, str] | None = None,
) -> dict[str, Any]:
    return build_event(
        {
            "version": "1.0",
            "context": {"eventType": "viewer-request"},
            "viewer": {"ip": "192.0.2.10"},
            "request": {
                "method": method,
                "uri": uri,
                "headers": {k: {"value": v} for k, v in (headers or {}).items()},
                "cookies": {k: {"value": v} for k, v in (cookies or {}).items()},
                "querystring": {k: {"value": v} for k, v in (querystring or {}).items()},
            },
        }
    )


def response_event(status: int = 200, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return build_event(
        {
            "context": {"eventType": "viewer-response"},
            "viewer": {"ip": "192.0.2.10"},
            "request": {"method": "GET", "uri": "/", "headers": {}},
            "response": {
                "statusCode": status,
                "headers": {k: {"value": v} for k, v in (headers or {}).items()},
            },
        }
    )


def run(code: str, event: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    fn = load(code, **kwargs)
    return fn.invoke(event or request_event(), now=NOW, seed=7)
