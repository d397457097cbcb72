"""``edgesim test --lambda``: the printed document, the exit codes and the messages for bad
input, run in-process through the CLI's main()."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from edgesim.cli import main

from .conftest import needs_node

FIXTURES = Path(__file__).parents[3] / "fixtures" / "lambda"
EVENTS = FIXTURES / "events"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    code = main(["test", *argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


@needs_node
def test_an_origin_request_lambda_that_ran_exits_0_with_its_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, doc, _ = run(
        capsys,
        "--lambda",
        str(FIXTURES / "add-header.js"),
        "--event",
        str(EVENTS / "origin-request.json"),
    )
    assert code == 0
    assert doc["FunctionErrorMessage"] == ""
    output = orjson.loads(doc["FunctionOutput"])
    assert output["uri"] == "/v2/img/logo.png"
    assert output["headers"]["x-tenant"] == [{"value": "acme"}]
    assert doc["FunctionSummary"]["FunctionConfig"]["EventType"] == "origin-request"
    assert doc["FunctionSummary"]["FunctionConfig"]["Handler"] == "add-header.handler"
    assert doc["FunctionExecutionLogs"][0].endswith(
        "\tINFO\torigin request for /img/logo.png invocation 1"
    )
    assert doc["DurationMs"] >= 0


@needs_node
def test_a_generated_response_from_a_callback_handler(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc, _ = run(
        capsys,
        "--lambda",
        str(FIXTURES / "redirect.js"),
        "--event",
        str(EVENTS / "viewer-request.json"),
    )
    assert code == 0
    assert orjson.loads(doc["FunctionOutput"])["status"] == "302"


@needs_node
def test_a_result_cloudfront_rejects_exits_1_naming_the_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, doc, err = run(
        capsys,
        "--lambda",
        str(FIXTURES / "read-only-header.js"),
        "--event",
        str(EVENTS / "origin-request.json"),
    )
    assert code == 1
    assert doc["FunctionErrorMessage"].startswith(
        "LambdaValidationError: request.headers.accept-encoding"
    )
    assert doc["FunctionErrorRule"] == "read-only-header"
    assert doc["FunctionOutput"]  # what the handler returned is still shown
    assert "LambdaValidationError (read-only-header)" in err


@needs_node
def test_an_exception_exits_1_with_the_position_and_stack(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, doc, err = run(
        capsys,
        "--lambda",
        str(FIXTURES / "throws.js"),
        "--event",
        str(EVENTS / "origin-response.json"),
    )
    assert code == 1
    assert doc["FunctionErrorMessage"].startswith("LambdaExecutionError: TypeError:")
    assert doc["FunctionErrorLocation"] == "throws.js:5:50"
    assert doc["FunctionErrorStack"][0] == "cacheSeconds (throws.js:5:50)"
    assert "at exports.handler (throws.js:10:" in err


@needs_node
def test_the_event_type_flag_overrides_the_events_own(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The same handler on the viewer-request event run as origin-request lacks the origin.
    code, _, err = run(
        capsys,
        "--lambda",
        str(FIXTURES / "add-header.js"),
        "--event",
        str(EVENTS / "viewer-request.json"),
        "--event-type",
        "origin-request",
    )
    assert code == 2
    assert "names its origin" in err


@needs_node
def test_now_sets_the_functions_clock(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fn = tmp_path / "clock.js"
    fn.write_text(
        "exports.handler = async (e) => ({ status: '200', body: new Date().toISOString() });"
    )
    code, doc, _ = run(
        capsys,
        "--lambda",
        str(fn),
        "--event",
        str(EVENTS / "viewer-request.json"),
        "--now",
        "2031-05-06T07:08:09Z",
    )
    assert code == 0
    assert orjson.loads(doc["FunctionOutput"])["body"].startswith("2031-05-06T07:08:")


@needs_node
def test_a_module_without_the_handler_exits_1_with_a_result(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fn = tmp_path / "nohandler.js"
    fn.write_text("exports.main = async (e) => e.Records[0].cf.request;")
    code, doc, _ = run(capsys, "--lambda", str(fn), "--event", str(EVENTS / "viewer-request.json"))
    assert code == 1
    assert (
        "Runtime.HandlerNotFound: nohandler.handler is undefined or not exported"
        in doc["FunctionErrorMessage"]
    )
    code, doc, _ = run(
        capsys,
        "--lambda",
        str(fn),
        "--handler",
        "nohandler.main",
        "--event",
        str(EVENTS / "viewer-request.json"),
    )
    assert code == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--event", "e.json"], "give the function's .js file (or --lambda FILE"),
        (["fn.js", "--lambda", "x.js", "--event", "e.json"], "either a function or --lambda FILE"),
        (["--lambda", "missing.js", "--event", "e.json"], "--lambda missing.js: no such file"),
        (["--lambda", "pkg.zip", "--event", "e.json"], "pkg.zip: not a zip archive"),
        (
            ["fn.js", "--event", "e.json", "--event-type", "origin-request"],
            "origin events run Lambda@Edge only",
        ),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg.zip").write_bytes(b"PK")
    (tmp_path / "fn.js").write_text("function handler(e) { return e.request; }")
    (tmp_path / "e.json").write_text("{}")
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_a_bad_event_or_over_quota_settings_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = run(capsys, "--lambda", str(FIXTURES / "redirect.js"), "--event", str(bad))
    assert code == 2
    assert "not valid JSON" in err
    code, _, err = run(
        capsys,
        "--lambda",
        str(FIXTURES / "redirect.js"),
        "--event",
        str(EVENTS / "viewer-request.json"),
        "--timeout-s",
        "6",
    )
    assert code == 2
    assert "over the 5 s quota for viewer events" in err


@needs_node
def test_a_zip_package_runs_under_its_own_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import zipfile

    archive = tmp_path / "sign.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("index.js", "exports.handler = async () => require('./lib/answer').answer;")
        zf.writestr("lib/answer.js", "exports.answer = { status: '204' };")
    code, doc, _ = run(
        capsys, "--lambda", str(archive), "--event", str(EVENTS / "viewer-request.json")
    )
    assert code == 0
    assert doc["FunctionSummary"]["Name"] == "sign"
    assert doc["FunctionSummary"]["FunctionConfig"]["Handler"] == "index.handler"
    assert orjson.loads(doc["FunctionOutput"]) == {"status": "204"}
