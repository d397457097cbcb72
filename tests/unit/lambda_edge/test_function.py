"""What the pipeline gets from one invocation: the request to go on with, a response, or a
typed failure with CloudFront's answer (502 LambdaValidationError, 503 LambdaExecutionError,
503 LambdaLimitExceeded), the rule and the place in the user's code."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from edgesim.lambda_edge import events
from edgesim.lambda_edge.function import LambdaEdgeFunction, user_frames

from .conftest import Source, needs_node

Functions = Callable[..., LambdaEdgeFunction]

HANDLERS = """
const cases = {
  rewrite: async (event) => {
    const request = event.Records[0].cf.request;
    request.uri = '/v2' + request.uri;
    request.headers['x-from-lambda'] = [{ value: 'yes' }];
    return request;
  },
  redirect: (event, context, callback) => callback(null, {
    status: '302', headers: { location: [{ value: 'https://example.org/' }] },
  }),
  viaHeader: async (event) => {
    const request = event.Records[0].cf.request;
    request.headers.via = [{ value: 'changed' }];
    return request;
  },
  throws: async () => { JSON.parse('{'); },
  sleeps: () => new Promise((resolve) => setTimeout(resolve, 10000)),
  addHeader: async (event) => {
    const response = event.Records[0].cf.response;
    response.headers['strict-transport-security'] = [{ value: 'max-age=63072000' }];
    return response;
  },
};
exports.handler = (event, context, callback) =>
  cases[event.Records[0].cf.request.headers['x-case'][0].value](event, context, callback);
"""


def request(case: str, **kwargs: object) -> dict:  # type: ignore[type-arg]
    return events.request(
        "/index.html", headers={"x-case": case, "via": "2.0 a (CloudFront)"}, **kwargs
    )  # type: ignore[arg-type]


@needs_node
async def test_a_request_event_goes_on_with_the_normalised_request(
    source: Source, functions: Functions
) -> None:
    fn = functions(source(HANDLERS), max_workers=1)
    outcome = await fn.invoke("viewer-request", request("rewrite"))
    assert outcome.kind == "request"
    assert outcome.failure is None
    assert outcome.request is not None
    assert outcome.request["uri"] == "/v2/index.html"
    assert outcome.request["headers"]["x-from-lambda"] == [{"key": "X-From-Lambda", "value": "yes"}]
    assert outcome.result["headers"]["x-from-lambda"] == [{"value": "yes"}]  # as returned


@needs_node
async def test_a_generated_response_is_flagged(source: Source, functions: Functions) -> None:
    fn = functions(source(HANDLERS), max_workers=1)
    origin = events.custom_origin("example.org")
    outcome = await fn.invoke("origin-request", request("redirect", origin=origin))
    assert outcome.kind == "response"
    assert outcome.generated
    assert outcome.response is not None
    assert outcome.response["headers"]["location"][0]["key"] == "Location"


@needs_node
async def test_a_response_event_answers_the_response(source: Source, functions: Functions) -> None:
    fn = functions(source(HANDLERS), max_workers=1)
    outcome = await fn.invoke("viewer-response", request("addHeader"), events.response(200))
    assert outcome.kind == "response"
    assert not outcome.generated
    assert outcome.response is not None
    assert "strict-transport-security" in outcome.response["headers"]


@needs_node
async def test_an_invalid_result_is_a_502_validation_error_naming_the_rule(
    source: Source, functions: Functions
) -> None:
    fn = functions(source(HANDLERS), max_workers=1)
    outcome = await fn.invoke("viewer-request", request("viaHeader"))
    assert outcome.kind == "error"
    failure = outcome.failure
    assert failure is not None
    assert (failure.error_type, failure.status, failure.rule) == (
        "LambdaValidationError",
        502,
        "read-only-header",
    )
    assert "request.headers.via" in failure.message


@needs_node
async def test_an_exception_is_a_503_execution_error_with_the_users_position(
    source: Source, functions: Functions
) -> None:
    path = source(HANDLERS, name="edge/handler.js")
    fn = functions(path, max_workers=1)
    outcome = await fn.invoke("viewer-request", request("throws"))
    failure = outcome.failure
    assert failure is not None
    assert (failure.error_type, failure.status, failure.rule) == (
        "LambdaExecutionError",
        503,
        "exception",
    )
    assert failure.message.startswith("SyntaxError: ")
    assert failure.position == "handler.js:17:30"  # the `parse` of JSON.parse on line 17
    assert failure.stack[-1].startswith("exports.handler (handler.js:")
    assert not any("runner.cjs" in frame or "node:" in frame for frame in failure.stack)


@needs_node
@pytest.mark.parametrize("timeout_error", ["LambdaExecutionError", "LambdaLimitExceeded"])
async def test_a_timeout_is_reported_as_configured(
    source: Source, functions: Functions, timeout_error: str
) -> None:
    fn = functions(source(HANDLERS), max_workers=1, timeout_s=0.3, timeout_error=timeout_error)
    outcome = await fn.invoke("viewer-request", request("sleeps"))
    failure = outcome.failure
    assert failure is not None
    assert (failure.error_type, failure.status, failure.rule) == (timeout_error, 503, "timeout")


@needs_node
async def test_a_module_that_does_not_load_is_an_execution_error(
    source: Source, functions: Functions
) -> None:
    fn = functions(source("exports.handler = () => {"), max_workers=1)
    outcome = await fn.invoke("viewer-request", request("x"))
    failure = outcome.failure
    assert failure is not None
    assert (failure.error_type, failure.rule) == ("LambdaExecutionError", "init")
    assert "Runtime.UserCodeSyntaxError" in failure.message


def test_user_frames_prefer_the_users_own_code_over_node_modules(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    stack = (
        f"at parse (file://{root}/node_modules/lib/index.mjs:3:9)",
        f"at sign ({root}/src/sign.js:10:5)",
        "at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
        f"at {root}/index.js:2:1",
    )
    position, frames = user_frames(stack, root)
    assert position == "src/sign.js:10:5"
    assert frames == (
        "parse (node_modules/lib/index.mjs:3:9)",
        "sign (src/sign.js:10:5)",
        "index.js:2:1",
    )


@needs_node
async def test_built_code_reports_positions_in_its_sources_through_the_source_map(
    source: Source, functions: Functions
) -> None:
    import base64
    import json

    # Generated line 2 maps to line 10, column 0 of src/handler.ts (mappings ";AASA").
    source_map = {"version": 3, "sources": ["src/handler.ts"], "names": [], "mappings": ";AASA"}
    inline = base64.b64encode(json.dumps(source_map).encode()).decode()
    path = source(
        '"use strict";\n'
        'exports.handler = async () => { throw new Error("mapped"); };\n'
        f"//# sourceMappingURL=data:application/json;base64,{inline}\n",
        name="dist/index.js",
    )
    fn = functions(path.parent, max_workers=1)
    outcome = await fn.invoke("viewer-request", request("any"))
    assert outcome.failure is not None
    assert outcome.failure.position == "src/handler.ts:10:1"


@needs_node
async def test_a_value_returned_by_a_plain_handler_is_ignored_with_a_hint(
    source: Source, functions: Functions
) -> None:
    # The Lambda Node.js runtime only takes a promise or the callback: this result is null.
    fn = functions(source("exports.handler = (event) => event.Records[0].cf.request;"))
    outcome = await fn.invoke("viewer-request", request("any"))
    assert outcome.failure is not None
    assert outcome.failure.rule == "result-shape"
    assert "ignores it" in outcome.warnings[0]
