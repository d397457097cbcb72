"""The QuickJS session: what one invocation produces before validation, and how it is stopped."""

from __future__ import annotations

from typing import Any

import pytest

from edgesim import limits
from edgesim.errors import FunctionLoadError
from edgesim.runtime.engine import JsSession, KvsAnswer, RawOutcome, relocate
from edgesim.runtime.function import BudgetPolicy
from tests.unit.runtime.helpers import NOW, load, request_event

EVENT = '{"version": "1.0", "context": {"eventType": "viewer-request"}, "request": {"uri": "/a"}}'
OPTIONS: dict[str, Any] = {
    "now": NOW,
    "seed": 1,
    "eventType": "viewer-request",
    "edge": {},
    "kvs": None,
    "rawQuery": "",
}


def session(body: str, **kwargs: Any) -> JsSession:
    return JsSession(
        body,
        runtime=kwargs.pop("runtime", limits.RUNTIME_JS_2),
        filename="fn.js",
        ceiling_ns=kwargs.pop("ceiling_ns", 50_000_000),
        memory_bytes=limits.FUNCTION_MAX_MEMORY_BYTES,
        **kwargs,
    )


def no_kvs(requests: list[dict[str, Any]]) -> list[KvsAnswer]:
    raise AssertionError(f"unexpected KVS requests {requests}")


def invoke(body: str, *, options: dict[str, Any] | None = None, tick_limit: int = 0) -> RawOutcome:
    return session(body).invoke(EVENT, {**OPTIONS, **(options or {})}, no_kvs, tick_limit)


# --- relocate ------------------------------------------------------------------------------


def test_positions_on_the_first_line_lose_the_wrapper_offset() -> None:
    from edgesim.runtime.engine import _WRAPPER_HEAD

    assert relocate(f"at <input>:1:{len(_WRAPPER_HEAD) + 5}", "fn.js") == "at fn.js:1:5"


def test_positions_on_later_lines_are_kept() -> None:
    assert relocate("a <input>:3:7 b <input>:4", "fn.js") == "a fn.js:3:7 b fn.js:4"


def test_a_position_past_the_last_line_is_the_end_of_the_source() -> None:
    assert relocate("<input>:9:1", "fn.js", "var a;\nvar bc") == "fn.js:2:7"


# --- loading -------------------------------------------------------------------------------


def test_a_syntax_error_names_the_users_file_line_and_column() -> None:
    with pytest.raises(FunctionLoadError, match=r"(?s)^SyntaxError: .* at fn\.js:2:9$"):
        session("var a = 1;\nvar b = ;\nfunction handler(e) { return e.request; }")


# --- outcomes ------------------------------------------------------------------------------


def test_a_returned_value_comes_back_with_its_logs() -> None:
    raw = invoke(
        "function handler(e) { console.log('uri', e.request.uri); return {uri: e.request.uri}; }"
    )
    assert (raw.state, raw.value, raw.value_type) == ("ok", {"uri": "/a"}, "object")
    assert raw.logs == ["uri /a"]
    assert raw.needs_rebuild is False


def test_what_the_value_is_when_it_is_not_an_object() -> None:
    assert invoke("function handler(e) { }").value_type == "undefined"
    assert invoke("function handler(e) { return [1]; }").value_type == "array"
    assert invoke("function handler(e) { return null; }").value_type == "null"


def test_a_thrown_error_keeps_its_name_and_message() -> None:
    raw = invoke("function handler(e) { throw new RangeError('too far'); }")
    assert raw.state == "error"
    assert raw.error is not None
    assert (raw.error["name"], raw.error["message"]) == ("RangeError", "too far")


def test_origin_calls_and_custom_log_data_are_recorded_raw() -> None:
    raw = invoke(
        "var cf = require('cloudfront');\n"
        "function handler(e) { cf.selectRequestOriginById('blue');"
        " cf.logCustomData('x'.repeat(5000)); return e.request; }"
    )
    assert raw.origin == [{"helper": "selectRequestOriginById", "argument": "blue"}]
    # Encoding is the host's job (logdata.py); units that could never fit do not cross over.
    assert raw.custom_log == "x" * limits.FUNCTION_MAX_CUSTOM_LOG_BYTES


def test_kvs_reads_are_answered_by_the_host_between_jobs() -> None:
    asked: list[dict[str, Any]] = []

    def resolve(requests: list[dict[str, Any]]) -> list[KvsAnswer]:
        asked.extend(requests)
        return [(r["id"], "ok" if r["key"] == "k" else "missing", "v") for r in requests]

    body = (
        "var cf = require('cloudfront');\n"
        "async function handler(e) { var kvs = cf.kvs(); var a = await kvs.get('k');"
        " var b = await kvs.exists('nope'); return {a: a, b: b}; }"
    )
    options = {**OPTIONS, "kvs": {"id": "store"}}
    raw = session(body).invoke(EVENT, options, resolve, 0)
    assert raw.state == "ok", raw
    assert raw.value == {"a": "v", "b": False}
    assert [(r["op"], r["key"]) for r in asked] == [("get", "k"), ("exists", "nope")]


def test_a_promise_that_never_settles_is_reported() -> None:
    raw = invoke("function handler(e) { return new Promise(function () {}); }")
    assert raw.state == "unsettled"
    assert raw.needs_rebuild is True


def test_ticks_are_counted_and_the_tick_limit_stops_the_run() -> None:
    body = "function handler(e) { for (var i = 0; i < 100; i++) { __edgesim_tick(); } return 1; }"
    counted = invoke(body)
    assert (counted.state, counted.ticks) == ("ok", 100)
    stopped = invoke(body, tick_limit=40)
    assert stopped.state == "runaway"
    assert stopped.needs_rebuild is True


def test_running_out_of_memory_is_a_memory_outcome() -> None:
    raw = invoke("function handler(e) { var a = new Uint8Array(3e6); return 1; }")
    assert raw.state == "memory"
    assert raw.needs_rebuild is True


def test_a_session_serves_many_invocations_and_says_when_it_is_reused() -> None:
    js = session("let n = 0;\nfunction handler(e) { n++; return n; }")
    first = js.invoke(EVENT, OPTIONS, no_kvs, 0)
    second = js.invoke(EVENT, OPTIONS, no_kvs, 0)
    assert (first.value, first.reused) == (1, False)
    assert (second.value, second.reused) == (1, True)  # module state is fresh each time


# --- the time limit (moved from test_function) ---------------------------------------------


class _LimitSpy:
    """Wraps a QuickJS context and records the time limits the engine sets."""

    def __init__(self, ctx) -> None:  # type: ignore[no-untyped-def]
        self._ctx = ctx
        self.limits: list[float] = []

    def set_time_limit(self, seconds: float) -> None:
        self.limits.append(seconds)
        self._ctx.set_time_limit(seconds)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._ctx, name)


def test_every_entry_into_the_engine_gets_only_the_time_left() -> None:
    code = (
        "async function handler(e) { var s = 0; for (var i = 0; i < 20000; i++) s += i;"
        " await null; await null; return e.request; }"
    )
    fn = load(code)
    spy = _LimitSpy(fn._session._ctx)  # type: ignore[union-attr]
    fn._session._ctx = spy  # type: ignore[union-attr]
    assert fn.invoke(request_event(), now=NOW).error is None
    ceiling_s = BudgetPolicy().ceiling_ns / 1e9
    assert len(spy.limits) >= 2
    assert spy.limits[0] <= ceiling_s
    assert all(later < spy.limits[0] for later in spy.limits[1:])


def test_deterministic_mode_keeps_a_much_larger_real_time_safety_stop() -> None:
    budget = BudgetPolicy(deterministic=True)
    assert budget.safety_ceiling_ns == 10 * budget.ceiling_ns
    assert BudgetPolicy().safety_ceiling_ns == BudgetPolicy().ceiling_ns
    fn = load("function handler(e) { return e.request; }", budget=budget)
    spy = _LimitSpy(fn._session._ctx)  # type: ignore[union-attr]
    fn._session._ctx = spy  # type: ignore[union-attr]
    fn.invoke(request_event(), now=NOW)
    assert spy.limits
    assert spy.limits[0] > budget.ceiling_ns / 1e9
