"""The runtime as users see it: loading, invoking, isolation, errors, limits."""

from __future__ import annotations

import time

import pytest

from edgesim.errors import FunctionLoadError
from edgesim.runtime.function import BudgetPolicy
from edgesim.runtime.source import from_text
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
    with pytest.raises(FunctionLoadError, match=r"(?s)SyntaxError: .*fn\.js:2:"):
        load("var a = 1;\nfunction handler(e) { return e.request; ")


def test_source_over_10_kb_is_rejected() -> None:
    code = PASS_THROUGH + "\n//" + "x" * 10_240
    with pytest.raises(FunctionLoadError, match="10240 bytes"):
        from_text(code)


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
    assert not fn.fresh_every_time
    assert fn.sessions_built == 1


def test_changes_to_crypto_prototypes_do_not_leak() -> None:
    code = (
        "const crypto = require('crypto');\n"
        "function handler(e) { var h = crypto.createHash('sha1');"
        " var seen = typeof Object.getPrototypeOf(h).extra;"
        " Object.getPrototypeOf(h).extra = 1; e.request.headers.seen = {value: seen};"
        " return e.request; }"
    )
    fn = load(code)
    values = [
        fn.invoke(request_event(), now=NOW).request["headers"]["seen"]["value"] for _ in range(2)
    ]
    assert values == ["undefined", "undefined"]


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


def test_date_now_is_a_whole_number_of_milliseconds_without_now() -> None:
    fn = load(
        "function handler(e) { e.request.headers.t = {value: String(Date.now())}; return e.request; }"
    )
    value = fn.invoke(request_event()).request["headers"]["t"]["value"]
    assert value.isdigit(), value


def test_reference_errors_use_njs_quoting() -> None:
    result = run("function handler(e) { return URL; }")
    assert result.error.message == 'ReferenceError: "URL" is not defined'
