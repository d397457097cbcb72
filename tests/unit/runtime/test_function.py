"""The runtime as users see it: loading, invoking, isolation, errors, limits."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim.errors import FunctionExecutionError, FunctionLoadError, FunctionValidationError
from edgesim.runtime.engine import FunctionSyntaxError
from edgesim.runtime.function import (
    BudgetPolicy,
    CompatibilityError,
    FailureKind,
    FunctionFailure,
    ResultKind,
)
from tests.unit.runtime.helpers import NOW, load, request_event, response_event, run

PASS_THROUGH = "function handler(event) { return event.request; }"


def test_pass_through_returns_the_request_normalised() -> None:
    result = run(PASS_THROUGH)
    assert result.error is None
    assert result.kind == "request"
    assert result.request["uri"] == "/index.html"
    assert result.request["querystring"] == {}
    assert result.request["cookies"] == {}


@pytest.mark.parametrize(
    "code",
    [
        "async function handler(event) { return event.request; }",
        "const handler = async (event) => event.request;",
        "var handler = function (event) { return event.request; };",
        "import cf from 'cloudfront';\nfunction handler(event) { return event.request; }",
        "export function handler(event) { return event.request; }",
        "function handler(event) { return event.request; }\nexport default handler;",
        "function handler(event) { return event.request; }\nexport { handler };",
    ],
)
def test_every_deployable_handler_form_runs(code: str) -> None:
    result = run(code)
    assert result.error is None, result.error
    assert result.kind == "request"


def test_generated_response_is_normalised_like_testfunction() -> None:
    code = "function handler(e) { return { statusCode: 302, headers: { location: { value: '/x' } }, body: 'moved' }; }"
    result = run(code)
    assert result.error is None
    assert result.kind == "response"
    assert result.response["cookies"] == {}
    assert result.response["body"] == {"encoding": "text", "data": "moved"}


def test_module_state_is_fresh_on_every_invocation() -> None:
    fn = load(
        "let count = 0;\nfunction handler(e) { count++; e.request.headers.n = {value: String(count)}; return e.request; }"
    )
    values = [
        fn.invoke(request_event(), now=NOW).request["headers"]["n"]["value"] for _ in range(3)
    ]
    assert values == ["1", "1", "1"]


def test_globals_written_by_one_invocation_are_gone_in_the_next() -> None:
    code = (
        "function handler(e) { var seen = typeof globalThis.leak + '/' + typeof Math.leaked;"
        " globalThis.leak = 1; Math.leaked = 1; e.request.headers.seen = {value: seen};"
        " return e.request; }"
    )
    fn = load(code)
    first = fn.invoke(request_event(), now=NOW).request["headers"]["seen"]["value"]
    second = fn.invoke(request_event(), now=NOW).request["headers"]["seen"]["value"]
    assert first == second == "undefined/undefined"


def test_prototype_changes_do_not_leak() -> None:
    code = (
        "function handler(e) { var before = typeof [].shout;"
        " Object.defineProperty(Array.prototype, 'shout', {value: 1, configurable: true});"
        " e.request.headers.b = {value: before}; return e.request; }"
    )
    fn = load(code)
    for _ in range(2):
        assert fn.invoke(request_event(), now=NOW).request["headers"]["b"]["value"] == "undefined"


def test_date_is_frozen_at_invocation_start() -> None:
    code = (
        "function handler(e) { var a = Date.now(); for (var i = 0; i < 20000; i++) {}"
        " e.request.headers.t = {value: a + ',' + new Date().getTime() + ',' + new Date().toISOString()};"
        " return e.request; }"
    )
    value = run(code).request["headers"]["t"]["value"]
    assert value == f"{int(NOW)},{int(NOW)},2026-01-01T00:00:00.000Z"


def test_math_random_is_reproducible_per_seed() -> None:
    fn = load(
        "function handler(e) { e.request.headers.r = {value: String(Math.random())}; return e.request; }"
    )

    def draw(seed: int) -> str:
        return fn.invoke(request_event(), now=NOW, seed=seed).request["headers"]["r"]["value"]

    assert draw(1) == draw(1)
    assert draw(1) != draw(2)
    assert 0 <= float(draw(3)) < 1


def test_console_log_is_captured_and_capped_at_10_kb() -> None:
    result = run(
        "function handler(e) { console.log('hello'); for (var i = 0; i < 300; i++) console.log('x'.repeat(100)); return e.request; }"
    )
    assert result.logs[0] == "hello"
    assert sum(len(line.encode()) for line in result.logs) == 10 * 1024


def test_uncaught_exception_is_an_execution_error_with_njs_wording() -> None:
    result = run("function handler(e) { return e.nothing.value; }")
    assert result.error.kind == "execution"
    assert result.error.message == 'TypeError: cannot get property "value" of undefined'
    assert result.error.cloudfront_message.startswith(
        "The CloudFront function associated with the CloudFront distribution is invalid or could not run. "
    )


def test_rejected_promise_is_an_execution_error() -> None:
    result = run("async function handler(e) { throw new RangeError('nope'); }")
    assert result.error.kind == "execution"
    assert result.error.message == "RangeError: nope"


def test_syntax_error_names_file_line_and_column() -> None:
    with pytest.raises(FunctionLoadError, match=r"^fn\.js:2:41: error \[syntax\] SyntaxError: "):
        load("var a = 1;\nfunction handler(e) { return e.request; ")


def test_missing_handler_is_an_execution_error() -> None:
    result = run("function notHandler(e) { return e.request; }")
    assert result.error.kind == "execution"
    assert "handler is not defined" in result.error.message


def test_runaway_code_is_stopped_and_the_function_keeps_working() -> None:
    fn = load(
        "function handler(e) { if (e.request.uri === '/loop') { while (true) {} } return e.request; }"
    )
    started = time.monotonic()
    result = fn.invoke(request_event("/loop"), now=NOW)
    assert time.monotonic() - started < 5
    assert result.error.kind == "execution"
    assert "stopped" in result.error.message
    assert fn.invoke(request_event("/ok"), now=NOW).error is None


def test_runaway_code_after_an_await_is_stopped() -> None:
    result = run("async function handler(e) { await Promise.resolve(1); while (true) {} }")
    assert result.error.kind == "execution"


def test_memory_over_2_mb_is_an_execution_error() -> None:
    code = "function handler(e) { var a = []; for (var i = 0; i < 200000; i++) a.push({i: i, s: 'v' + i}); return e.request; }"
    result = run(code)
    assert result.error.kind == "execution"
    assert "2 MB" in result.error.message


def test_returning_undefined_is_a_validation_error() -> None:
    result = run("function handler(e) { }")
    assert result.error.kind == "validation"
    assert "returned undefined" in result.error.message


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("e.request.method = 'POST';", "request.method is read-only"),
        ("e.request.uri = 'nope';", "request.uri must be a string starting with '/'"),
        (
            "e.request.headers['x-forwarded-proto'] = {value: 'https'};",
            "disallowed header 'x-forwarded-proto'",
        ),
        ("e.request.headers['x-amz-cf-pop'] = {value: 'x'};", "disallowed header 'x-amz-cf-pop'"),
        ("e.request.headers.host = {value: 'other'};", "changed the read-only header 'host'"),
        ("delete e.request.headers.host;", "removed the read-only header 'host'"),
        ("e.request.querystring = 'a=b c';", "querystring contains a space"),
        ("e.request.headers.x = {value: 5};", "request.headers.x.value must be a string"),
    ],
)
def test_invalid_requests_are_validation_errors(body: str, needle: str) -> None:
    event = request_event(headers={"host": "example.com"})
    result = run(f"function handler(e) {{ {body} return e.request; }}", event)
    assert result.error is not None
    assert result.error.kind == "validation"
    assert needle in result.error.message


@pytest.mark.parametrize(
    ("response", "needle"),
    [
        ("{statusCode: '200'}", "statusCode must be an integer"),
        ("{statusCode: 200, body: {encoding: 'base64', data: '@@'}}", "not valid base64"),
        (
            "{statusCode: 200, body: {encoding: 'hex', data: 'aa'}}",
            "encoding must be 'text' or 'base64'",
        ),
        ("{statusCode: 200, headers: {'x-cache': {value: 'Hit'}}}", "disallowed header 'x-cache'"),
    ],
)
def test_invalid_generated_responses_are_validation_errors(response: str, needle: str) -> None:
    result = run(f"function handler(e) {{ return {response}; }}")
    assert result.error.kind == "validation"
    assert needle in result.error.message


def test_viewer_response_via_header_is_read_only() -> None:
    code = "function handler(e) { e.response.headers.via = {value: 'me'}; return e.response; }"
    result = run(code, response_event(headers={"via": "1.1 origin"}))
    assert result.error.kind == "validation"
    assert "read-only header 'via'" in result.error.message


def test_querystring_returned_as_string_stays_a_string() -> None:
    result = run("function handler(e) { e.request.querystring = 'a=1&b=2'; return e.request; }")
    assert result.error is None
    assert result.request["querystring"] == "a=1&b=2"


def test_eval_and_function_constructor_throw() -> None:
    for code in (
        "eval('1')",
        "new Function('return 1')()",
        "(function(){}).constructor('return 1')()",
    ):
        result = run(f"function handler(e) {{ {code}; return e.request; }}")
        assert result.error.kind == "execution", code


def test_globals_cloudfront_lacks_are_absent_in_2_0() -> None:
    code = (
        "function handler(e) { e.request.headers.t = {value: [typeof URL, typeof Map, typeof Set,"
        " typeof setTimeout, typeof Reflect, typeof [].flat, typeof Buffer, typeof atob,"
        " typeof TextEncoder, typeof console.log].join(',')}; return e.request; }"
    )
    value = run(code).request["headers"]["t"]["value"]
    assert (
        value
        == "undefined,undefined,undefined,undefined,undefined,undefined,function,function,function,function"
    )


def test_runtime_1_0_has_njs_strings_and_no_buffer() -> None:
    code = (
        "function handler(e) { e.request.headers.t = {value: [typeof Buffer, typeof String.bytesFrom,"
        " typeof ''.toUTF8, typeof atob].join(',')}; return e.request; }"
    )
    value = run(code, runtime="cloudfront-js-1.0").request["headers"]["t"]["value"]
    assert value == "undefined,function,function,undefined"


def test_runtime_1_0_has_no_cloudfront_module() -> None:
    code = "var cf = require('cloudfront');\nfunction handler(e) { return e.request; }"
    result = run(code, runtime="cloudfront-js-1.0")
    assert result.error.kind == "execution"
    assert "cloudfront" in result.error.message


def test_raw_query_string_is_empty_like_testfunction_by_default() -> None:
    code = "function handler(e) { e.request.headers.q = {value: JSON.stringify(e.request.rawQueryString())}; return e.request; }"
    fn = load(code)
    assert fn.invoke(request_event(), now=NOW).request["headers"]["q"]["value"] == '""'
    given = fn.invoke(request_event(), now=NOW, raw_query="a=1&a=2").request
    assert given["headers"]["q"]["value"] == '"a=1&a=2"'
    assert "rawQueryString" not in given


def test_deterministic_mode_gives_the_same_utilization_every_run() -> None:
    code = "function handler(e) { var s = 0; for (var i = 0; i < 300; i++) { s += i; } return e.request; }"
    fn = load(code, budget=BudgetPolicy(deterministic=True))
    values = {fn.invoke(request_event(), now=NOW).compute_utilization for _ in range(5)}
    assert len(values) == 1
    assert values.pop() > 0


def test_compute_is_summed_across_awaits_in_deterministic_mode() -> None:
    code = (
        "function spin() { var s = 0; for (var i = 0; i < 400; i++) { s += i; } return s; }\n"
        "async function handler(e) { var n = Number(e.request.headers.n.value);"
        " for (var k = 0; k < n; k++) { spin(); await Promise.resolve(k); } return e.request; }"
    )
    budget = BudgetPolicy(deterministic=True, tick_cost_ns=1_000, ceiling_factor=1.0)
    fn = load(code, budget=budget)
    assert fn.invoke(request_event(headers={"n": "2"}), now=NOW).error is None
    over = fn.invoke(request_event(headers={"n": "3"}), now=NOW)
    assert over.error is not None
    assert "stopped" in over.error.message


def test_over_budget_run_is_reported_but_not_failed_unless_asked() -> None:
    code = "function handler(e) { var s = 0; for (var i = 0; i < 3000; i++) { s += i; } return e.request; }"
    lax = load(code, budget=BudgetPolicy(deterministic=True, tick_cost_ns=1_000))
    result = lax.invoke(request_event(), now=NOW)
    assert result.compute_utilization > 100
    assert result.error is None
    assert any("FunctionThrottles" in w for w in result.warnings)
    strict = load(
        code, budget=BudgetPolicy(deterministic=True, tick_cost_ns=1_000, fail_over_budget=True)
    )
    assert strict.invoke(request_event(), now=NOW).error.kind == "execution"


def test_compute_time_excludes_kvs_lookups() -> None:
    class SlowKvs:
        store_id = "slow"
        arn = "arn:aws:cloudfront::123456789012:key-value-store/slow"

        def get(self, key: str) -> str | None:
            time.sleep(0.05)  # a lookup that takes wall time but no CPU of the function
            return "v"

        def meta(self) -> dict[str, object]:
            return {}

    code = "import cf from 'cloudfront';\nasync function handler(e) { await cf.kvs().get('k'); return e.request; }"
    result = run(code, kvs=SlowKvs())
    assert result.error is None
    assert result.cpu_ns < 40_000_000


def test_reading_a_builtin_prototype_keeps_the_fast_path() -> None:
    code = (
        "function handler(e) { var a = []; Array.prototype.push.apply(a, [1, 2]);"
        " e.request.headers.n = {value: String(a.length)}; return e.request; }"
    )
    fn = load(code)
    values = [
        fn.invoke(request_event(), now=NOW).request["headers"]["n"]["value"] for _ in range(3)
    ]
    assert values == ["2", "2", "2"]
    assert fn.sessions_built == 1


def test_changes_to_crypto_prototypes_do_not_leak() -> None:
    code = (
        "const crypto = require('crypto');\n"
        "function handler(e) { var h = crypto.createHash('sha1');"
        " var seen = typeof Object.getPrototypeOf(h).extra;"
        " try { Object.getPrototypeOf(h).extra = 1; } catch (x) { seen += ' frozen'; }"
        " e.request.headers.seen = {value: seen};"
        " return e.request; }"
    )
    fn = load(code)
    values = [
        fn.invoke(request_event(), now=NOW).request["headers"]["seen"]["value"] for _ in range(2)
    ]
    assert values == ["undefined frozen", "undefined frozen"]


def test_codec_calls_are_charged_at_the_modelled_native_cost() -> None:
    code = (
        "function handler(e) { var s = 'x'.repeat(1000);"
        " for (var i = 0; i < 10; i++) { Buffer.from(s).toString('base64'); atob(btoa(s)); }"
        " return e.request; }"
    )
    # 40 metered calls; with 25 µs per call they add 100 % of the 1 ms budget, whatever the
    # machine (deterministic mode counts the function's own work in ticks).
    charged = load(
        code, budget=BudgetPolicy(deterministic=True, native_call_ns=25_000, native_byte_ns=0)
    )
    free = load(code, budget=BudgetPolicy(deterministic=True, native_call_ns=0, native_byte_ns=0))
    a = charged.invoke(request_event(), now=NOW).compute_utilization
    b = free.invoke(request_event(), now=NOW).compute_utilization
    assert abs(a - b - 100) <= 1


# --- Nothing user code does makes invoke raise (review finding 2) ---------------------------


@pytest.mark.parametrize(
    "body",
    [
        "console.log('a\\ud800b');",
        "e.request.headers.x = {value: 'a\\udc00'};",
        "require('cloudfront').logCustomData('\\ud800');",
        "require('cloudfront').updateRequestOrigin({domainName: 'a\\ud800.example'});",
        "throw new Error('bad \\ud800');",
        "console.log('\\\\ud800 is text, \\ud83d\\ude00 is a pair');",
    ],
)
def test_lone_surrogates_become_replacement_characters(body: str) -> None:
    result = run(f"function handler(e) {{ {body} return e.request; }}")
    texts = [*result.logs, str(result.output), str(result.error)]
    texts += [str(m) for m in result.origin_modifications]
    for text in texts:
        text.encode("utf-8")  # no lone surrogate survives
    if "logCustomData" in body:
        # Custom log data is URL-encoded: U+FFFD is %EF%BF%BD.
        assert result.custom_log_data == "%EF%BF%BD"
        return
    assert any("\ufffd" in t for t in texts) or "\\ud800 is text" in result.logs[0]
    if result.logs and "pair" in result.logs[0]:
        assert result.logs == ["\\ud800 is text, \U0001f600 is a pair"]


def test_deeply_nested_return_values_are_an_execution_error() -> None:
    code = (
        "function handler(e) { var v = {value: 'x'}; var o = v;"
        " for (var i = 0; i < 1100; i++) { o.next = {}; o = o.next; }"
        " e.request.headers.deep = v; console.log('kept'); return e.request; }"
    )
    fn = load(code)
    result = fn.invoke(request_event(), now=NOW)
    assert result.error is not None
    assert result.error.kind == "execution"
    assert "serialis" in result.error.message
    assert result.logs == ["kept"]
    assert fn.invoke(request_event(), now=NOW).error is not None


@pytest.mark.parametrize(
    "patch",
    [
        "Array.prototype.join = function () { return 'joined'; };",
        "Object.prototype.toJSON = function () { return 5; };",
        "Array.prototype.toJSON = function () { return 'arr'; };",
        "String.prototype.toJSON = function () { return 1; };",
        "JSON.stringify = function () { return '{'; };",
        "Array.prototype.push = function () { throw new Error('no push'); };",
        "Array.isArray = function () { return true; };",
        "String.prototype.slice = function () { return ''; };",
        "RegExp.prototype.exec = function () { return null; };",
        "Object.defineProperty(Array.prototype, '0', {get: function () { throw new Error('idx'); }, set: function () {}});",
    ],
)
def test_patched_built_ins_do_not_break_the_emulator(patch: str) -> None:
    fn = load(
        f"function handler(e) {{ {patch} console.log('one', 'two \\ud800');"
        " require('cloudfront').updateRequestOrigin({domainName: 'o.example'});"
        " return {statusCode: 200, headers: {a: {value: 'b'}}}; }"
    )
    for _ in range(2):
        result = fn.invoke(request_event(), now=NOW)  # must not raise
        assert isinstance(result.logs, list)
        assert all(isinstance(line, str) for line in result.logs)


def test_an_exception_in_interpretation_is_an_execution_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import edgesim.runtime.function as function_module

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise TypeError("unexpected shape")

    fn = load(PASS_THROUGH)
    monkeypatch.setattr(function_module, "validate_request", boom)
    result = fn.invoke(request_event(), now=NOW)
    assert result.error is not None
    assert result.error.kind == "execution"
    monkeypatch.undo()
    assert fn.invoke(request_event(), now=NOW).error is None


# --- console.log (review findings 3 and 16) -------------------------------------------------


def test_a_log_line_is_cut_at_10_kb_without_splitting_a_character() -> None:
    result = run(
        "function handler(e) { console.log('x'.repeat(10237) + '\\ud83d\\ude00'); return e.request; }"
    )
    assert result.logs == ["x" * 10237]


def test_truncation_does_not_add_an_empty_line() -> None:
    result = run(
        "function handler(e) { console.log('x'.repeat(10239)); console.log('\\u00e9\\u00e9');"
        " console.log('more'); return e.request; }"
    )
    assert result.logs == ["x" * 10239]


def test_multibyte_log_lines_are_counted_in_utf8_bytes() -> None:
    # 4,000 calls: deterministic compute, so the machine's speed cannot stop the loop early.
    result = run(
        "function handler(e) { for (var i = 0; i < 4000; i++) console.log('\\u00e9\\u20ac'); return e.request; }",
        budget=BudgetPolicy(deterministic=True),
    )
    assert result.error is None, result.error
    assert sum(len(line.encode()) for line in result.logs) <= 10 * 1024
    assert len(result.logs) == 10 * 1024 // 5


def test_console_log_is_charged_as_native_code() -> None:
    code = (
        "function handler(e) { console.log('x'.repeat(10241));"
        " for (var i = 0; i < 9; i++) console.log('y'); return e.request; }"
    )
    charged = load(
        code, budget=BudgetPolicy(deterministic=True, native_call_ns=10_000, native_byte_ns=0)
    )
    free = load(code, budget=BudgetPolicy(deterministic=True, native_call_ns=0, native_byte_ns=0))
    a = charged.invoke(request_event(), now=NOW).compute_utilization
    b = free.invoke(request_event(), now=NOW).compute_utilization
    assert a - b == 10  # 10 calls at 10 µs on a 1 ms budget


# --- Compute accounting (review findings 5, 9, 11) -----------------------------------------


def test_a_runaway_in_the_job_loop_is_charged_the_time_it_ran() -> None:
    result = run("async function handler(e) { while (true) await null; }")
    assert result.error is not None
    assert "stopped" in result.error.message
    assert result.cpu_ns >= BudgetPolicy().ceiling_ns
    assert result.compute_utilization >= 1000


def test_emulator_plumbing_is_measured_and_not_charged() -> None:
    from edgesim.runtime.engine import RawOutcome

    fn = load(PASS_THROUGH)
    raw = RawOutcome(state="ok", cpu_ns=1_000_000, plumbing=(0.4, 0))
    assert fn._compute_ns(raw) == 600_000
    kvs_code = (
        "import cf from 'cloudfront';\nconst kvs = cf.kvs();\n"
        "async function handler(e) { for (var i = 0; i < 50; i++) await kvs.get('k');"
        " return e.request; }"
    )
    session = load(kvs_code, kvs={"k": "v"})._session
    assert session is not None
    measured = session.invoke(
        '{"context": {"eventType": "viewer-request"}, "request": {}}',
        {"now": NOW, "seed": 1, "eventType": "viewer-request", "edge": {}, "kvs": {"id": "s"},
         "rawQuery": ""},
        lambda requests: [(r["id"], "ok", "v") for r in requests],
        0,
    )  # fmt: skip
    assert measured.state == "ok", measured
    assert measured.plumbing[0] > 0
    assert measured.plumbing[1] >= 50  # one settle per KVS round trip, at least


# --- Memory (review findings 6 and 7) ------------------------------------------------------


def test_cyclic_garbage_of_earlier_invocations_does_not_count() -> None:
    code = (
        "function handler(e) { console.log('once'); var a = [];"
        " for (var i = 0; i < 12000; i++) { var o = {}; o.self = o; a.push(o); }"
        " return e.request; }"
    )
    fn = load(code)
    for _ in range(6):
        result = fn.invoke(request_event(), now=NOW)
        assert result.error is None, result.error
        assert result.logs == ["once"]


def test_a_memory_error_on_a_used_engine_is_retried_once_on_a_new_one(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from edgesim.runtime.engine import JsSession

    # Without the collection after heavy invocations, the garbage of earlier runs fills memory
    # and the engine runs out; the retry on a new engine must then succeed, logging once.
    monkeypatch.setattr(JsSession, "GC_CHECK_AFTER_NS", 10**15)
    code = (
        "function handler(e) { console.log('once'); var a = [];"
        " for (var i = 0; i < 12000; i++) { var o = {}; o.self = o; a.push(o); }"
        " return e.request; }"
    )
    fn = load(code)
    for _ in range(6):
        result = fn.invoke(request_event(), now=NOW)
        assert result.error is None, result.error
        assert result.logs == ["once"]
    assert fn.sessions_built > 1


@pytest.mark.parametrize(
    "code",
    [
        "function handler(e) { var a = new Uint8Array(3e6); return e.request; }",
        "async function handler(e) { await null; var a = []; for (;;) a.push({x: 1}); }",
        "async function handler(e) { await null; var a = new Uint8Array(3e6); return e.request; }",
    ],
)
def test_running_out_of_memory_is_always_a_memory_error(code: str) -> None:
    result = run(code)
    assert result.error is not None
    assert result.error.message.startswith("MemoryError"), result.error.message


# --- Smaller things (review findings 12, 13, 16) -------------------------------------------


def test_date_now_is_a_whole_number_of_milliseconds_without_now() -> None:
    fn = load(
        "function handler(e) { e.request.headers.t = {value: String(Date.now())}; return e.request; }"
    )
    value = fn.invoke(request_event()).request["headers"]["t"]["value"]
    assert value.isdigit(), value


def test_reference_errors_use_njs_quoting() -> None:
    result = run("function handler(e) { return URL; }")
    assert result.error.message == 'ReferenceError: "URL" is not defined'


def test_a_throwing_message_getter_on_a_rejection_is_still_reported() -> None:
    code = (
        "async function handler(e) { var err = new TypeError('x');"
        " Object.defineProperty(err, 'message', {get: function () { throw new Error('no'); }});"
        " throw err; }"
    )
    result = run(code)
    assert result.error is not None
    assert "never settled" not in result.error.message
    assert result.error.message.startswith("TypeError")


# --- Typed results and raise_for_error ------------------------------------------------------


def test_kinds_are_enums_equal_to_their_strings() -> None:
    result = run(PASS_THROUGH)
    assert result.kind is ResultKind.REQUEST
    assert result.kind == "request"
    failed = run("function handler(e) { throw new Error('x'); }")
    assert failed.error is not None
    assert failed.error.kind is FailureKind.EXECUTION
    assert failed.error.kind == "execution"
    assert str(failed.error.kind) == "execution"


def test_a_failure_made_from_a_plain_string_gets_the_enum() -> None:
    assert FunctionFailure("validation", "bad").kind is FailureKind.VALIDATION
    with pytest.raises(ValueError, match="timeout"):
        FunctionFailure("timeout", "bad")  # type: ignore[arg-type]


def test_raise_for_error_returns_a_successful_result() -> None:
    result = run(PASS_THROUGH)
    assert result.raise_for_error() is result


def test_raise_for_error_raises_an_execution_error_with_the_logs() -> None:
    result = run("function handler(e) { console.log('about to fail'); return e.nothing.value; }")
    with pytest.raises(FunctionExecutionError) as caught:
        result.raise_for_error()
    assert str(caught.value) == (
        "execution error (CloudFront: HTTP 503): "
        'TypeError: cannot get property "value" of undefined\n'
        "    at handler (fn.js:1:60)\n"
        "console.log output:\n  about to fail"
    )


def test_raise_for_error_raises_a_validation_error() -> None:
    result = run("function handler(e) { e.request.method = 'POST'; return e.request; }")
    with pytest.raises(
        FunctionValidationError,
        match=r"^validation error \(CloudFront: HTTP 502\): request.method is read-only",
    ):
        result.raise_for_error()


# --- where a failure happened ---------------------------------------------------------------

MULTI_LINE = """function pick(list) {
  var first = list[0];
  return first.DE;
}

function handler(event) {
  var uri = event.request.uri;
  if (uri.length > 0) {
    throw new Error('line 9');
  }
  return event.request;
}
"""
ESM_PREAMBLE = "import cf from 'cloudfront';\nimport crypto from 'crypto';\n"


def both_modes() -> list[BudgetPolicy]:
    return [BudgetPolicy(), BudgetPolicy(deterministic=True)]


@pytest.mark.parametrize("budget", both_modes(), ids=["measured", "deterministic"])
@pytest.mark.parametrize(
    ("prefix", "rewrite"),
    [
        ("", lambda code: code),
        (ESM_PREAMBLE, lambda code: code),
        (
            ESM_PREAMBLE,
            lambda code: code.replace("function handler", "export default function handler"),
        ),
        (
            "",
            lambda code: (
                "export " + code.replace("\nfunction handler", "\nexport async function handler")
            ),
        ),
        ("", lambda code: code + "export { handler, pick };\n"),
    ],
    ids=["script", "import", "export-default", "export-async", "export-list"],
)
def test_a_thrown_error_names_its_line_and_column_in_the_file_as_written(
    budget: BudgetPolicy, prefix: str, rewrite: Any
) -> None:
    code = prefix + rewrite(MULTI_LINE)
    result = run(code, budget=budget)
    assert result.error.message == "Error: line 9"
    line = prefix.count("\n") + 9
    column = code.split("\n")[line - 1].index("Error") + 1
    assert result.error.position == f"fn.js:{line}:{column}"
    assert result.error.stack == (f"handler (fn.js:{line}:{column})",)


@pytest.mark.parametrize("budget", both_modes(), ids=["measured", "deterministic"])
def test_a_type_error_deep_in_helpers_has_a_stack_of_user_frames_only(budget: BudgetPolicy) -> None:
    code = (
        "import crypto from 'crypto';\n"
        "function leaf(o) {\n"
        "  return o.DE;\n"
        "}\n"
        "function middle(list) {\n"
        "  return list.map(function (item) { return leaf(item); });\n"
        "}\n"
        "export default function handler(event) {\n"
        "  crypto.createHash('sha256').update('x').digest('hex');\n"
        "  middle([{}, null]);\n"
        "  return event.request;\n"
        "}\n"
    )
    result = run(code, budget=budget)
    assert result.error.message == 'TypeError: cannot get property "DE" of null'
    assert result.error.position == "fn.js:3:10"
    assert result.error.stack == (
        "leaf (fn.js:3:10)",
        "<anonymous> (fn.js:6:49)",
        "middle (fn.js:6:19)",
        "handler (fn.js:10:3)",
    )


def test_an_error_thrown_inside_a_shim_points_at_the_users_call() -> None:
    code = "function handler(event) {\n  return require('crypto').createHash('md4');\n}\n"
    result = run(code)
    assert result.error is not None
    assert result.error.position is not None
    assert result.error.position.startswith("fn.js:2:")
    assert all(frame.startswith("handler (fn.js:2:") for frame in result.error.stack)


@pytest.mark.parametrize(
    ("code", "message", "position"),
    [
        (
            "function handler(e) {\n  return [1, 2].flat();\n}",
            "TypeError: not a function",
            "fn.js:2:17",
        ),
        (
            "function handler(e) {\n  var geo = null;\n  return geo.DE;\n}",
            'TypeError: cannot get property "DE" of null',
            "fn.js:3:10",
        ),
        (
            "async function handler(e) {\n  await 1;\n  throw new RangeError('late');\n}",
            "RangeError: late",
            "fn.js:3:13",
        ),
        (
            "var x = 1;\nx.y.z = 2;\nfunction handler(e) {}",
            'TypeError: cannot set property "z" of undefined',
            "fn.js:2:1",
        ),
    ],
)
def test_runtime_errors_carry_the_innermost_user_position(
    code: str, message: str, position: str
) -> None:
    result = run(code)
    assert result.error.message == message
    assert result.error.position == position


def test_top_level_frames_are_named_top_level() -> None:
    result = run("var x = 1;\nthrow new Error('at load');\nfunction handler(e) {}")
    assert result.error.stack == ("<top level> (fn.js:2:11)",)


def test_a_failure_without_a_stack_has_no_position() -> None:
    thrown = run("function handler(e) {\n  throw 'plain text';\n}")
    assert thrown.error.message == "plain text"
    assert (thrown.error.position, thrown.error.stack) == (None, ())
    invalid = run("function handler(e) { return 42; }")
    assert invalid.error.kind == "validation"
    assert (invalid.error.position, invalid.error.stack) == (None, ())


def test_a_runaway_function_says_where_it_was_stopped_in_deterministic_mode() -> None:
    code = "function handler(e) {\n  var n = 0;\n  while (true) { n++; }\n}"
    result = run(code, budget=BudgetPolicy(deterministic=True))
    assert "stopped" in result.error.message
    assert result.error.position == "fn.js:3:17"  # where the tick went in, after "{"


def test_raise_for_error_shows_the_users_stack() -> None:
    result = run("function handler(e) {\n  return e.nothing.value;\n}")
    with pytest.raises(FunctionExecutionError) as caught:
        result.raise_for_error()
    assert str(caught.value).endswith("\n    at handler (fn.js:2:10)")


def test_the_strict_refusal_names_lenient_compatibility_neutrally() -> None:
    with pytest.raises(CompatibilityError) as caught:
        load("function handler(e) {\n  const { uri } = e.request;\n}", compat="strict")
    error = caught.value
    assert str(error).startswith(
        "CloudFront would reject this function (strict compatibility; run it anyway with "
        "lenient compatibility):\nfn.js:2:9: error [destructuring]"
    )
    assert "--compat" not in str(error)
    assert error.position == "fn.js:2:9"
    hinted = error.with_hint("Pass compat='lenient'.")
    assert str(hinted).endswith("\nPass compat='lenient'.")
    assert (hinted.findings, hinted.position) == (error.findings, error.position)


@pytest.mark.parametrize("compat", ["strict", "lenient"])
def test_a_syntax_error_is_worded_the_same_in_either_mode(compat: str) -> None:
    with pytest.raises(FunctionSyntaxError) as caught:
        load("function handler(e) {\n  if (e {\n}", compat=compat)
    assert str(caught.value) == "fn.js:2:9: error [syntax] SyntaxError: Unexpected token '{'"
    assert caught.value.position == "fn.js:2:9"


def test_load_function_exposes_positions_and_names_its_compat_argument(tmp_path: Path) -> None:
    from edgesim.testing.loading import load_function

    path = tmp_path / "fn.js"
    path.write_text("function handler(e) {\n  return e.nothing.value;\n}\n")
    error = load_function(path).run(request_event()).error
    assert (error.position, error.stack) == (f"{path}:2:10", (f"handler ({path}:2:10)",))
    path.write_text("function handler(e) {\n  for (var k of [1]) {}\n}\n")
    with pytest.raises(CompatibilityError, match=r'load_function\(\.\.\., compat="lenient"\)'):
        load_function(path)


@settings(max_examples=25)
@given(
    before=st.lists(
        st.sampled_from(
            ["", "  ", "// a comment", "/* block */", "/*\n spans\n lines */", "var pad = 1;"]
        ),
        max_size=12,
    ),
    inside=st.lists(st.sampled_from(["", "    // note", "    var k = 2;"]), max_size=4),
    esm=st.booleans(),
)
def test_the_reported_line_is_the_throwing_line_in_both_modes(
    before: list[str], inside: list[str], esm: bool
) -> None:
    head = ESM_PREAMBLE if esm else ""
    pieces = [
        *before,
        ("export default " if esm else "") + "function handler(event) {",
        *inside,
        "    var value = null; return value.field;",
        "}",
    ]
    code = head + "\n".join(pieces)
    throwing = code.count("\n")  # K: the line before the closing brace
    positions = {run(code, budget=budget).error.position for budget in both_modes()}
    (position,) = positions  # the same in both modes
    assert position.startswith(f"fn.js:{throwing}:")


# --- Spare contexts: a poisoned context is replaced without a build on the path (issue 11) ---

# Runs away on /loop, after setting a global (something the isolation check cannot undo);
# otherwise reports whether that global is visible.
SOMETIMES_LOOPING = (
    "function handler(e) {\n"
    "  if (e.request.uri === '/loop') { globalThis.leak = 'left'; while (true) {} }\n"
    "  e.request.headers.seen = {value: typeof globalThis.leak};\n"
    "  return e.request;\n"
    "}"
)


def _seen(fn: Any) -> str:
    result = fn.invoke(request_event("/"), now=NOW)
    assert result.error is None, result.error
    return str(result.request["headers"]["seen"]["value"])


def _run_away(fn: Any) -> None:
    result = fn.invoke(request_event("/loop"), now=NOW)
    assert result.error is not None
    assert "stopped" in result.error.message


def test_after_a_runaway_the_next_invocation_takes_the_ready_spare() -> None:
    fn = load(SOMETIMES_LOOPING)
    _run_away(fn)
    assert not fn.context_ready
    while fn.prepare_spare():  # what serve's event loop does between requests
        pass
    assert fn.context_ready
    assert _seen(fn) == "undefined"  # the runaway's global is not on the spare
    assert (fn.sessions_built, fn.spares_used, fn.inline_builds) == (2, 1, 0)


def test_a_spare_built_before_the_runaway_is_as_clean() -> None:
    fn = load(SOMETIMES_LOOPING)
    while fn.prepare_spare():
        pass
    assert _seen(fn) == "undefined"  # the spare waits; the first context serves
    _run_away(fn)
    assert _seen(fn) == "undefined"
    assert (fn.spares_used, fn.inline_builds) == (1, 0)


def test_without_a_spare_the_next_invocation_builds_its_context() -> None:
    fn = load(SOMETIMES_LOOPING)
    _run_away(fn)
    assert _seen(fn) == "undefined"
    assert (fn.sessions_built, fn.spares_used, fn.inline_builds) == (2, 0, 1)


def test_an_unfinished_spare_is_finished_by_the_invocation_that_needs_it() -> None:
    fn = load(SOMETIMES_LOOPING)
    _run_away(fn)
    fn.prepare_spare()
    fn.prepare_spare()
    assert not fn.context_ready
    assert _seen(fn) == "undefined"
    assert (fn.sessions_built, fn.spares_used, fn.inline_builds) == (2, 0, 1)


def test_every_context_that_has_to_go_is_replaced_by_a_spare() -> None:
    # A polyfill is left behind on every run: each invocation needs a new context.
    code = "function handler(e) { globalThis.extra = 1; return e.request; }"
    fn = load(code)
    for _ in range(3):
        while fn.prepare_spare():
            pass
        assert fn.invoke(request_event(), now=NOW).error is None
    assert (fn.sessions_built, fn.spares_used, fn.inline_builds) == (3, 2, 0)


async def test_on_an_event_loop_the_spare_is_built_between_invocations() -> None:
    import asyncio

    fn = load(SOMETIMES_LOOPING)
    assert _seen(fn) == "undefined"  # schedules the first spare on this loop
    for _ in range(1000):
        if fn.context_ready and fn._tending is None:
            break
        await asyncio.sleep(0)
    assert fn._spare is not None
    assert fn._spare.ready
    _run_away(fn)  # the spare goes into service at once; the next one is scheduled
    assert fn.context_ready
    assert _seen(fn) == "undefined"
    for _ in range(1000):
        if fn._tending is None:
            break
        await asyncio.sleep(0)
    assert fn._retired == []  # the poisoned context was freed between invocations
    assert fn._spare is not None
    assert fn._spare.ready
    assert (fn.spares_used, fn.inline_builds) == (1, 0)


async def test_runaways_in_a_row_wait_for_their_context_instead_of_building_it() -> None:
    fn = load(SOMETIMES_LOOPING)
    for _ in range(3):
        await fn.until_ready()
        assert fn.context_ready
        _run_away(fn)
    await fn.until_ready()
    assert _seen(fn) == "undefined"
    assert fn.inline_builds == 0
    assert fn.spares_used == 3


async def test_with_spare_contexts_off_nothing_is_built_ahead(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from edgesim.runtime.function import LoadedFunction

    monkeypatch.setattr(LoadedFunction, "spare_contexts", False)
    fn = load(SOMETIMES_LOOPING)
    _run_away(fn)
    await fn.until_ready()  # returns at once: the invocation builds its context
    assert fn._tending is None
    assert fn._spare is None
    assert fn._retired == []
    assert _seen(fn) == "undefined"
    assert (fn.spares_used, fn.inline_builds) == (0, 1)


def test_a_spare_scheduled_on_a_loop_that_stopped_is_built_on_the_next_one() -> None:
    import asyncio

    fn = load(SOMETIMES_LOOPING)

    async def run_away_and_leave() -> None:
        _run_away(fn)  # schedules work on this loop, which stops before it runs

    asyncio.run(run_away_and_leave())
    assert not fn.context_ready

    async def wait_then_invoke() -> str:
        await fn.until_ready()
        return _seen(fn)

    assert asyncio.run(wait_then_invoke()) == "undefined"
    assert (fn.spares_used, fn.inline_builds) == (1, 0)
