"""The Node.js runner against the Lambda Node.js runtime's semantics (completion by callback,
promise or context methods, the empty event loop, the context object, console capture, the
scrubbed environment, module loading). Every test runs real Node workers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edgesim.lambda_edge.function import LambdaEdgeFunction
from edgesim.lambda_edge.pool import FUNCTION_ERROR, INIT
from edgesim.lambda_edge.spec import Credentials

from .conftest import Source, needs_node

pytestmark = needs_node
Functions = Callable[..., LambdaEdgeFunction]


async def run(functions: Functions, path: Path, event: object = None, **options: object):  # type: ignore[no-untyped-def]
    fn = functions(path, **options)
    return await fn.pool.invoke(event if event is not None else {"x": 1})


# One worker serves several cases: a plain handler hands over to the case named in the event
# (a returned promise is still the handler's promise, as for an async handler).
DISPATCH = "\nexports.handler = (event, context, callback) => cases[event.case](event, context, callback);\n"


async def test_an_async_handler_answers_its_resolved_value(
    source: Source, functions: Functions
) -> None:
    path = source("exports.handler = async (event) => ({ got: event.x + 1 });")
    raw = await run(functions, path)
    assert raw.ok
    assert raw.result == {"got": 2}


async def test_a_callback_result_waits_for_the_empty_event_loop(
    source: Source, functions: Functions
) -> None:
    # The object is delivered when Node has nothing left to do: the timer's change is in it.
    path = source(
        """
        exports.handler = (event, context, callback) => {
          const out = { step: 1 };
          setTimeout(() => { out.step = 2; }, 30);
          callback(null, out);
        };
        """
    )
    raw = await run(functions, path)
    assert raw.result == {"step": 2}


async def test_callback_waits_for_empty_event_loop_false_delivers_at_once(
    source: Source, functions: Functions
) -> None:
    path = source(
        """
        exports.handler = (event, context, callback) => {
          context.callbackWaitsForEmptyEventLoop = false;
          const out = { step: 1 };
          setTimeout(() => { out.step = 2; }, 30);
          callback(null, out);
        };
        """
    )
    raw = await run(functions, path)
    assert raw.result == {"step": 1}


async def test_the_first_of_callback_and_promise_wins(source: Source, functions: Functions) -> None:
    path = source(
        """
        const cases = {
          first_callback: async (event, context, callback) => { callback(null, 'callback'); return 'promise'; },
          first_promise: async (event, context, callback) => {
            setTimeout(() => callback(null, 'callback'), 20);
            return 'promise';
          },
          error_first: (event, context, callback) => { callback(new Error('no')); callback(null, 'late'); },
        };
        """
        + DISPATCH
    )
    fn = functions(path, max_workers=1)
    assert (await fn.pool.invoke({"case": "first_callback"})).result == "callback"
    assert (await fn.pool.invoke({"case": "first_promise"})).result == "promise"
    failed = await fn.pool.invoke({"case": "error_first"})
    assert failed.failure == FUNCTION_ERROR
    assert failed.error is not None
    assert failed.error.message == "no"


async def test_context_succeed_fail_and_done(source: Source, functions: Functions) -> None:
    path = source(
        """
        const cases = {
          succeed: (e, context) => { setTimeout(() => {}, 200); context.succeed({ ok: 1 }); },
          fail: (e, context) => context.fail(new RangeError('bad range')),
          fail_nothing: (e, context) => context.fail(),
          done: (e, context) => context.done(null, 'done'),
        };
        """
        + DISPATCH
    )
    fn = functions(path, max_workers=1)
    assert (await fn.pool.invoke({"case": "succeed"})).result == {"ok": 1}
    failed = await fn.pool.invoke({"case": "fail"})
    assert failed.error is not None
    assert (failed.error.error_type, failed.error.message) == ("RangeError", "bad range")
    handled = await fn.pool.invoke({"case": "fail_nothing"})
    assert handled.error is not None
    assert handled.error.message == "handled"
    assert (await fn.pool.invoke({"case": "done"})).result == "done"
    assert fn.pool.started == 1


async def test_a_handler_that_never_completes(source: Source, functions: Functions) -> None:
    # Lambda's runtime: when the loop empties, a plain handler succeeds with null and an async
    # one whose promise never settles fails with Runtime.NodeJsExit.
    path = source(
        """
        exports.plain = (event) => { setTimeout(() => {}, 10); };
        exports.pending = async () => new Promise(() => {});
        """
    )
    plain = await run(functions, path, handler="fn.plain")
    assert plain.ok
    assert plain.result is None
    pending = await run(functions, path, handler="fn.pending")
    assert pending.error is not None
    assert pending.error.error_type == "Runtime.NodeJsExit"


async def test_thrown_and_rejected_errors_carry_type_message_and_stack(
    source: Source, functions: Functions
) -> None:
    path = source(
        """
        function inner() { throw new TypeError('bad input'); }
        const cases = {
          sync: () => inner(),
          rejects: async () => { throw new SyntaxError('rejected'); },
          string: (e, c, callback) => callback('just a string'),
        };
        """
        + DISPATCH
    )
    fn = functions(path, max_workers=1)
    sync = await fn.pool.invoke({"case": "sync"})
    assert sync.error is not None
    assert (sync.error.error_type, sync.error.message) == ("TypeError", "bad input")
    assert any(f"{path}:2:" in frame for frame in sync.error.stack)
    rejected = await fn.pool.invoke({"case": "rejects"})
    assert rejected.error is not None
    assert rejected.error.error_type == "SyntaxError"
    string = await fn.pool.invoke({"case": "string"})
    assert string.error is not None
    assert (string.error.error_type, string.error.message) == ("string", "just a string")


async def test_module_state_survives_between_invocations_of_one_worker(
    source: Source, functions: Functions
) -> None:
    path = source("let n = 0;\nexports.handler = async () => ++n;")
    fn = functions(path, max_workers=1)
    results = [(await fn.pool.invoke({})).result for _ in range(3)]
    assert results == [1, 2, 3]
    assert fn.pool.started == 1


async def test_the_context_object(source: Source, functions: Functions) -> None:
    path = source(
        """
        exports.handler = async (event, context) => ({
          functionName: context.functionName,
          functionVersion: context.functionVersion,
          arn: context.invokedFunctionArn,
          memory: context.memoryLimitInMB,
          requestId: context.awsRequestId,
          remaining: context.getRemainingTimeInMillis(),
          waits: context.callbackWaitsForEmptyEventLoop,
        });
        """
    )
    fn = functions(path, name="sign", memory_mb=256, timeout_s=5, version="7")
    raw = await fn.pool.invoke({}, request_id="req-1")
    result = raw.result
    assert result["functionName"] == "us-east-1.sign"
    assert result["functionVersion"] == "7"
    assert result["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:sign:7"
    assert result["memory"] == "256"
    assert result["requestId"] == "req-1"
    assert 0 < result["remaining"] <= 5000
    assert result["waits"] is True


async def test_console_output_is_captured_per_invocation_as_cloudwatch_shows_it(
    source: Source, functions: Functions
) -> None:
    path = source(
        """
        console.log('loading');
        exports.handler = async (event) => {
          console.log('a %s', 'b', { c: 1 });
          console.error('oops');
          process.stdout.write('raw\\n');
          return null;
        };
        """
    )
    fn = functions(path)
    first = await fn.pool.invoke({}, request_id="r1")
    second = await fn.pool.invoke({}, request_id="r2")
    assert [line.split("\t", 1)[1] for line in first.logs] == [
        "undefined\tINFO\tloading",
        "r1\tINFO\ta b { c: 1 }",
        "r1\tERROR\toops",
        "r1\tINFO\traw",
    ]
    assert [line.split("\t", 1)[1] for line in second.logs] == [
        "r2\tINFO\ta b { c: 1 }",
        "r2\tERROR\toops",
        "r2\tINFO\traw",
    ]


async def test_the_environment_is_scrubbed_and_has_lambdas_reserved_variables(
    source: Source, functions: Functions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "the-developers-own-secret")
    monkeypatch.setenv("AWS_PROFILE", "prod")
    monkeypatch.setenv("EDGESIM_TEST_SECRET", "x")
    path = source("exports.handler = async () => process.env;")
    raw = await run(
        functions,
        path,
        name="sign",
        region="eu-west-1",
        memory_mb=512,
        credentials=Credentials("AKIDEDGESIM", "local-secret"),
        env={"DDB_ENDPOINT": "http://127.0.0.1:8000"},
    )
    env = raw.result
    assert env["AWS_SECRET_ACCESS_KEY"] == "local-secret"
    assert env["AWS_ACCESS_KEY_ID"] == "AKIDEDGESIM"
    assert "AWS_PROFILE" not in env
    assert "EDGESIM_TEST_SECRET" not in env
    assert env["AWS_REGION"] == "eu-west-1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "us-east-1.sign"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs20.x"
    assert env["_HANDLER"] == "fn.handler"
    assert env["DDB_ENDPOINT"] == "http://127.0.0.1:8000"


async def test_node_runs_with_source_maps_and_the_memory_as_heap_limit(
    source: Source, functions: Functions
) -> None:
    path = source("exports.handler = async () => process.execArgv;")
    raw = await run(functions, path, memory_mb=192)
    assert "--enable-source-maps" in raw.result
    assert "--max-old-space-size=192" in raw.result


async def test_date_follows_the_given_clock_and_advances(
    source: Source, functions: Functions
) -> None:
    path = source(
        "exports.handler = async () => [Date.now(), new Date().toISOString(), typeof Date()];"
    )
    fn = functions(path)
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    raw = await fn.pool.invoke({}, now_ms=moment.timestamp() * 1000)
    now_ms, iso, kind = raw.result
    assert 0 <= now_ms - moment.timestamp() * 1000 < 5000
    assert iso.startswith("2030-01-02T03:04:")
    assert kind == "string"


async def test_esm_modules_and_nested_handler_paths_load(
    source: Source, functions: Functions
) -> None:
    mjs = source("export const handler = async () => 'esm';", name="m.mjs")
    assert (await run(functions, mjs)).result == "esm"
    cjs = source("exports.api = { edge: { handler: async () => 'nested' } };", name="pkg/index.js")
    assert (await run(functions, cjs.parent, handler="index.api.edge.handler")).result == "nested"


@pytest.mark.parametrize(
    ("js", "handler", "error_type", "message"),
    [
        (
            "exports.other = () => 1;",
            "fn.handler",
            "Runtime.HandlerNotFound",
            "fn.handler is undefined or not exported",
        ),
        ("exports.handler = 42;", "fn.handler", "Runtime.HandlerNotFound", "is not a function"),
        ("exports.handler = () => {", "fn.handler", "Runtime.UserCodeSyntaxError", "SyntaxError"),
        (
            "exports.handler = () => 1;",
            "missing.handler",
            "Runtime.ImportModuleError",
            "Cannot find module 'missing'",
        ),
        (
            "exports.handler = () => 1;",
            "nodot",
            "Runtime.MalformedHandlerName",
            "Bad handler nodot",
        ),
        ("throw new Error('init failed');", "fn.handler", "Error", "init failed"),
    ],
)
async def test_a_module_that_does_not_load_is_an_init_failure(
    source: Source, functions: Functions, js: str, handler: str, error_type: str, message: str
) -> None:
    raw = await run(functions, source(js), handler=handler)
    assert raw.failure == INIT
    assert raw.error is not None
    assert raw.error.error_type == error_type
    assert message in raw.error.message
