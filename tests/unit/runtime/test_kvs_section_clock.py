"""Issue 12: the CPU clock (a system call) is read once around a quick KVS lookup; the
read-only header entries of a returned request are those a plain definition gives."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim import limits
from edgesim.runtime.engine import JsSession, KvsAnswer
from edgesim.runtime.result import READ_ONLY_REQUEST_HEADERS, _read_only_entries
from edgesim.runtime.source import module_body
from tests.unit.runtime.helpers import request_event

BODY = (
    "import cf from 'cloudfront';\n"
    "async function handler(e) { var a = await cf.kvs().get('a');"
    " e.request.headers.seen = {value: a}; return e.request; }"
)
OPTIONS: dict[str, Any] = {
    "now": 1_767_225_600_000.0,
    "seed": 1,
    "eventType": "viewer-request",
    "edge": {},
    "kvs": {"id": "s"},
    "rawQuery": "",
}


def session() -> JsSession:
    return JsSession(
        module_body(BODY),
        runtime=limits.RUNTIME_JS_2,
        filename="fn.js",
        ceiling_ns=50_000_000,
        memory_bytes=limits.FUNCTION_MAX_MEMORY_BYTES,
    )


def answers(requests: list[dict[str, Any]]) -> list[KvsAnswer]:
    return [(r["id"], "ok", "v") for r in requests]


def test_a_quick_lookup_costs_one_cpu_clock_read(monkeypatch: pytest.MonkeyPatch) -> None:
    reads = []
    real = time.thread_time_ns

    def counted() -> int:
        reads.append(1)
        return real()

    js = session()
    event = orjson.dumps(request_event()).decode()
    monkeypatch.setattr(time, "thread_time_ns", counted)
    # A wall clock that moves 1 µs per read: the lookup always takes a plausible time, however
    # busy the machine running the test.
    ticks = iter(range(0, 10**12, 1_000))
    monkeypatch.setattr(time, "perf_counter_ns", lambda: next(ticks))
    outcome = js.invoke(event, OPTIONS, answers, 0)
    assert outcome.state == "ok", outcome
    assert outcome.value["headers"]["seen"] == {"value": "v"}
    # The start, the pause before the lookup, the end: no read after a lookup of a few µs.
    assert len(reads) == 3
    assert 0 < outcome.cpu_ns < 50_000_000


def _reference(headers: dict[str, Any], read_only: frozenset[str]) -> dict[str, Any]:
    found: dict[str, dict[str, Any]] = {}
    for key, value in headers.items():
        if key.lower() in read_only:
            found.setdefault(key.lower(), {})[key] = value
    return found


NAMES = st.sampled_from(
    ["host", "Host", "HOST", "via", "Via", "content-length", "x-a", "x-1", "123", "cdn-loop"]
)


@given(st.dictionaries(NAMES | st.text(max_size=6), st.integers(), max_size=8))
def test_read_only_entries_match_the_plain_definition(headers: dict[str, Any]) -> None:
    assert _read_only_entries(headers, READ_ONLY_REQUEST_HEADERS) == _reference(
        headers, READ_ONLY_REQUEST_HEADERS
    )
