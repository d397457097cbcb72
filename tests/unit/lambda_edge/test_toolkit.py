"""The testing toolkit: ``load_lambda(...).run(event)`` and the ``lambda_event`` builder."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.testing import lambda_event, load_lambda
from edgesim.testing.lambdas import s3_origin

from .conftest import needs_node

FIXTURES = Path(__file__).parents[3] / "fixtures" / "lambda"


def test_lambda_event_builds_each_event_type() -> None:
    viewer = lambda_event(
        "viewer-request", "/a", headers={"Cookie": ["a=1", "b=2"]}, querystring="x=1"
    )
    cf = viewer["Records"][0]["cf"]
    assert cf["config"]["eventType"] == "viewer-request"
    assert cf["request"]["headers"]["cookie"] == [
        {"key": "Cookie", "value": "a=1"},
        {"key": "Cookie", "value": "b=2"},
    ]
    assert cf["request"]["querystring"] == "x=1"
    origin = lambda_event(
        "origin-request", origin=s3_origin("b.s3.amazonaws.com"), body="a=1", method="POST"
    )
    assert list(origin["Records"][0]["cf"]["request"]["origin"]) == ["s3"]
    assert origin["Records"][0]["cf"]["request"]["body"]["data"] == "YT0x"
    response = lambda_event("origin-response", status=503, response_headers={"retry-after": "5"})
    assert response["Records"][0]["cf"]["response"]["status"] == "503"
    assert "custom" in response["Records"][0]["cf"]["request"]["origin"]
    with pytest.raises(ValueError, match="event_type"):
        lambda_event("origin")


@needs_node
def test_load_lambda_runs_events_and_keeps_module_state() -> None:
    with load_lambda(FIXTURES / "add-header.js") as fn:
        first = fn.run(lambda_event("origin-request", "/img/a.png"))
        second = fn.run(lambda_event("origin-request", "/img/b.png")["Records"][0]["cf"])
        assert first.kind == "request"
        assert first.request is not None
        assert first.request["uri"] == "/v2/img/a.png"
        assert second.logs[-1].endswith("origin request for /img/b.png invocation 2")
        assert fn.workers == 1
    with pytest.raises(RuntimeError, match="closed"):
        fn.run(lambda_event("origin-request"))


@needs_node
def test_load_lambda_reports_failures_as_data() -> None:
    with load_lambda(FIXTURES / "read-only-header.js") as fn:
        outcome = fn.run(lambda_event("origin-request", headers={"Accept-Encoding": "gzip"}))
        assert outcome.kind == "error"
        assert outcome.failure is not None
        assert outcome.failure.status == 502


@needs_node
async def test_arun_does_not_block_the_tests_event_loop() -> None:
    fn = load_lambda(FIXTURES / "redirect.js")
    try:
        outcome = await fn.arun(lambda_event("viewer-request", "/private"))
        assert outcome.generated
        assert outcome.response is not None
        assert outcome.response["headers"]["location"][0]["value"] == "/login?next=%2Fprivate"
    finally:
        fn.close()


@needs_node
def test_raise_for_error_turns_a_failure_into_the_exception_of_its_status() -> None:
    from edgesim.errors import FunctionExecutionError, FunctionValidationError

    with load_lambda(FIXTURES / "read-only-header.js") as fn:
        outcome = fn.run(lambda_event("origin-request", headers={"Accept-Encoding": "gzip"}))
        with pytest.raises(FunctionValidationError, match=r"read-only-header.*HTTP 502"):
            outcome.raise_for_error()
    with load_lambda(FIXTURES / "throws.js") as fn:
        outcome = fn.run(lambda_event("origin-response"))
        with pytest.raises(
            FunctionExecutionError, match=r"(?s)HTTP 503.*at cacheSeconds \(throws.js:5:50\)"
        ):
            outcome.raise_for_error()
    with load_lambda(FIXTURES / "add-header.js") as fn:
        ok = fn.run(lambda_event("origin-request", "/x"))
        assert ok.raise_for_error() is ok
        assert ok.error is None


ENV_JS = """
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  request.headers['x-key'] = [{ value: String(process.env.AWS_ACCESS_KEY_ID) }];
  request.headers['x-token'] = [{ value: String(process.env.AWS_SESSION_TOKEN) }];
  return request;
};
"""


@needs_node
def test_load_lambda_hands_the_role_credentials_serve_does(tmp_path: Path) -> None:
    source = tmp_path / "env.js"
    source.write_text(ENV_JS)
    with load_lambda(source) as fn:  # the emulated execution role's, as in serve
        headers = fn.run(lambda_event("viewer-request", "/")).raise_for_error().request["headers"]
    assert headers["x-key"][0]["value"] == "ASIAEDGESIMLAMBDAROLE"
    assert headers["x-token"][0]["value"] == "edgesim-emulated-session-token"
    with load_lambda(source, credentials=("AKIDEXAMPLE", "secret")) as fn:  # a plain tuple
        headers = fn.run(lambda_event("viewer-request", "/")).raise_for_error().request["headers"]
    assert headers["x-key"][0]["value"] == "AKIDEXAMPLE"
    assert headers["x-token"][0]["value"] == "undefined"
