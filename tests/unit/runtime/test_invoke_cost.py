"""Work the runtime does once per load or only when needed, instead of on every invocation
(issue 12): each skipped or cached step must still give the same outcome when it matters."""

from __future__ import annotations

from typing import Any

import pytest

from edgesim import limits
from edgesim.runtime.engine import JsSession, KvsAnswer
from tests.unit.runtime.helpers import NOW

EVENT = '{"version": "1.0", "context": {"eventType": "viewer-request"}, "request": {"uri": "/a"}}'
OPTIONS: dict[str, Any] = {
    "now": NOW,
    "seed": 1,
    "eventType": "viewer-request",
    "edge": {},
    "kvs": None,
    "rawQuery": "",
}


def no_kvs(requests: list[dict[str, Any]]) -> list[KvsAnswer]:
    raise AssertionError(f"unexpected KVS requests {requests}")


# --- memory checks after work, not after every call -----------------------------------------


def test_memory_is_checked_once_the_invocations_since_the_last_check_add_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = JsSession(
        "function handler(e) { var a = []; for (var i = 0; i < 200; i++) a.push({i: i});"
        " return e.request; }",
        runtime=limits.RUNTIME_JS_2,
        filename="fn.js",
        ceiling_ns=50_000_000,
        memory_bytes=limits.FUNCTION_MAX_MEMORY_BYTES,
    )
    checks: list[int] = []
    monkeypatch.setattr(session, "_collect_if_needed", lambda: checks.append(session.invocations))
    cpu = [session.invoke(EVENT, OPTIONS, no_kvs, 0).cpu_ns for _ in range(3)]
    threshold = sum(cpu) + 1  # more than the three together: none was checked
    assert threshold > JsSession.GC_CHECK_AFTER_NS or not checks
    monkeypatch.setattr(JsSession, "GC_CHECK_AFTER_NS", threshold)
    checks.clear()
    session._unchecked_ns = 0
    expected, total = [], 0
    for n in range(1, 41):
        total += session.invoke(EVENT, OPTIONS, no_kvs, 0).cpu_ns
        if total >= threshold:
            expected.append(session.invocations)
            total = 0
        assert session.invocations == 3 + n
    assert checks == expected
    assert 5 <= len(checks) < 40  # cheap invocations are checked together, not one by one
