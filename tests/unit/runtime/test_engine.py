"""The QuickJS session: what one invocation produces before validation, and how it is stopped."""

from __future__ import annotations

from typing import Any

import pytest

from edgesim import limits
from edgesim.runtime.engine import (
    FunctionSyntaxError,
    JsSession,
    KvsAnswer,
    Locator,
    RawOutcome,
    compile_error,
    user_line_offset,
    wrap_body,
)
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


# --- positions -----------------------------------------------------------------------------


def engine_line(line: int) -> int:
    """The engine's line for line ``line`` of a module body."""
    return user_line_offset() + line


def test_the_users_body_starts_past_every_shim_evaluation() -> None:
    from edgesim.runtime.engine import SHIMS_BY_RUNTIME, _prelude_text
    from edgesim.runtime.shims import wrapped_shim

    texts = [wrapped_shim(n) for names in SHIMS_BY_RUNTIME.values() for n in names]
    texts += [_prelude_text(runtime) for runtime in SHIMS_BY_RUNTIME]
    assert max(text.count("\n") + 1 for text in texts) < user_line_offset()
    assert wrap_body("X").split("\n")[user_line_offset()] == "X"


def test_a_body_position_becomes_the_users_file_line_and_column() -> None:
    locator = Locator("var a;\nvar bc = 1;", None, "fn.js")
    assert locator.position(engine_line(2), 5) == "fn.js:2:5"


def test_positions_outside_the_body_are_not_the_users() -> None:
    locator = Locator("var a;\nvar bc = 1;", None, "fn.js")
    assert locator.position(3, 1) is None  # a shim's line
    assert locator.position(engine_line(3), 1) is None  # the wrapper's tail
    assert locator.place(engine_line(3), 1, clamp=True) == (2, 12)


def test_byte_columns_become_character_columns() -> None:
    # quickjs-ng counts UTF-8 bytes: "é" and "😀" are one character each here.
    locator = Locator("var s = 'é😀'; x.y", None, "fn.js")
    column = len("var s = 'é😀'; ".encode()) + 1
    assert locator.position(engine_line(1), column) == "fn.js:1:15"


def test_positions_go_through_the_position_map() -> None:
    from edgesim.runtime.source import load_body

    body, positions = load_body("export default function handler(e) { x.y; }")
    locator = Locator(body, positions, "fn.js")
    assert locator.position(engine_line(1), body.index("x") + 1) == "fn.js:1:38"


def test_frames_keep_only_user_code_innermost_first() -> None:
    locator = Locator("function f() {\n  x.y;\n}", None, "fn.js")
    stack = (
        f"    at get (<input>:40:3)\n"
        f"    at f (<input>:{engine_line(2)}:3)\n"
        "    at map (native)\n"
        f"    at <top level> (<input>:{engine_line(3)}:1)\n"
        "    at begin (<input>:530:20)\n"
    )
    frames = locator.frames(stack)
    assert [str(f) for f in frames] == ["f (fn.js:2:3)", "<top level> (fn.js:3:1)"]


def test_relocate_rewrites_user_positions_in_a_text_only() -> None:
    locator = Locator("a;\nb;", None, "fn.js")
    text = f"at <input>:{engine_line(2)}:1 and <input>:7:1"
    assert locator.relocate(text) == "at fn.js:2:1 and <input>:7:1"


# --- loading -------------------------------------------------------------------------------


def test_a_syntax_error_names_the_users_file_line_and_column() -> None:
    with pytest.raises(
        FunctionSyntaxError, match=r"^fn\.js:2:9: error \[syntax\] SyntaxError: "
    ) as info:
        session("var a = 1;\nvar b = ;\nfunction handler(e) { return e.request; }")
    assert (info.value.position, info.value.line, info.value.column) == ("fn.js:2:9", 2, 9)
    assert info.value.error.startswith("SyntaxError: ")


def test_a_syntax_error_past_the_body_is_said_plainly_at_its_end() -> None:
    with pytest.raises(FunctionSyntaxError) as info:
        session("function handler(e) {\n  return e.request;")
    assert info.value.position == "fn.js:2:20"
    assert "unexpected end of the source" in info.value.error
    assert "<top level>" not in str(info.value)


def test_a_syntax_error_in_rewritten_code_points_into_the_file_as_written() -> None:
    from edgesim.runtime.source import load_body

    text = "import cf from 'cloudfront';\nexport default function handler(e) { var x = {; }"
    body, positions = load_body(text)
    with pytest.raises(FunctionSyntaxError) as info:
        session(body, positions=positions)
    assert info.value.position == f"fn.js:2:{text.split(chr(10))[1].index(';') + 1}"


def test_compile_error_runs_nothing_and_sees_strict_mode_errors() -> None:
    assert compile_error("function handler(e) { throw new Error('ran'); }\nhandler();") is None
    error = compile_error("function f(o) {\n  with (o) {}\n}", None, "fn.js")
    assert error is not None
    assert str(error) == "fn.js:2:3: error [syntax] SyntaxError: invalid keyword: with"


def test_an_error_keeps_the_users_frames() -> None:
    raw = invoke(
        "function helper(o) {\n  return o.DE;\n}\nfunction handler(e) { return helper(null); }"
    )
    assert raw.state == "error"
    assert [str(f) for f in raw.frames] == ["helper (fn.js:2:10)", "handler (fn.js:4:37)"]


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


def test_a_logged_stack_names_the_users_lines() -> None:
    raw = invoke(
        "function handler(e) {\n  try { null.x; } catch (err) { console.log(err.stack); }\n"
        "  return e.request;\n}"
    )
    # The user's frames are rewritten; edgesim's own are left as the engine wrote them.
    assert raw.logs[0].startswith("    at handler (fn.js:2:9)\n    at begin (<input>:")


# --- building in steps, collecting without Python's collector ------------------------------


def test_a_session_built_in_steps_is_ready_only_after_its_last_step() -> None:
    js = session("let n = 0;\nfunction handler(e) { n++; return n; }", stepwise=True)
    assert not js.ready
    steps = 0
    while not js.build_step():
        steps += 1
        assert not js.ready
    assert js.ready
    # One step per shim and a few more: none of them is the whole build.
    assert js.build_steps == steps + 1 > 8
    assert js.build_step() is True  # nothing left to do
    assert js.invoke(EVENT, OPTIONS, no_kvs, 0).value == 1


def test_an_unfinished_session_finishes_its_build_when_invoked() -> None:
    js = session("function handler(e) { return 'ok'; }", stepwise=True)
    js.build_step()
    outcome = js.invoke(EVENT, OPTIONS, no_kvs, 0)
    assert (js.ready, outcome.state, outcome.value) == (True, "ok", "ok")


def test_a_session_built_in_steps_has_the_same_memory_baseline() -> None:
    at_once = session("function handler(e) { return 1; }")
    stepwise = session("function handler(e) { return 1; }", stepwise=True).finish()
    # (A few bytes vary from one build to the next either way.)
    assert stepwise.baseline_bytes == pytest.approx(at_once.baseline_bytes, abs=1024)


def test_the_step_that_evaluates_the_body_raises_its_syntax_error() -> None:
    js = session("function handler(e) { return {; }", stepwise=True)
    with pytest.raises(FunctionSyntaxError):
        js.finish()
    assert js.ready  # the build is over, for better or worse


def test_collect_garbage_frees_cycles_without_running_pythons_collector(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import gc

    import quickjs

    from edgesim.runtime.engine import collect_garbage

    calls: list[object] = []
    original = gc.collect
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append(args) or 0)
    ctx = quickjs.Context()
    ctx.eval("(function () { for (var i = 0; i < 100; i++) { var o = {}; o.self = o; } })()")
    before = ctx.memory()["obj_count"]
    collect_garbage(ctx)
    assert ctx.memory()["obj_count"] <= before - 100
    assert calls == []
    assert gc.collect is not original  # the test's own stand-in is back in place
    ctx.gc()  # the binding's own collection does call it
    assert calls
