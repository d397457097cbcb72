"""The TestFunction API's TestResult, as `edgesim test` prints it (reference notes §7)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from edgesim.kvs.reader import StaticKvs
from edgesim.runtime import testresult
from edgesim.runtime.function import LoadedFunction
from edgesim.runtime.source import read_function
from edgesim.runtime.testresult import function_summary, load_failure_result
from tests.unit.runtime.helpers import NOW, load, request_event, response_event

PREFIX = (
    "The CloudFront function associated with the CloudFront distribution is invalid"
    " or could not run."
)


def result_of(code: str, event: dict | None = None) -> dict:  # type: ignore[type-arg]
    fn = load(code)
    rendered = testresult.test_result(fn, fn.invoke(event or request_event(), now=NOW))
    # What `edgesim test` prints must survive JSON as is.
    assert orjson.loads(orjson.dumps(rendered)) == rendered
    return rendered


def test_a_forwarded_request_is_wrapped_in_request() -> None:
    rendered = result_of("function handler(e) { console.log('hi'); return e.request; }")
    output = json.loads(rendered["FunctionOutput"])
    assert list(output) == ["request"]
    assert output["request"]["uri"] == "/index.html"
    assert rendered["FunctionExecutionLogs"] == ["hi"]
    assert rendered["FunctionErrorMessage"] == ""


def test_a_generated_response_is_wrapped_in_response() -> None:
    rendered = result_of("function handler(e) { return {statusCode: 302}; }")
    assert json.loads(rendered["FunctionOutput"]) == {
        "response": {"statusCode": 302, "headers": {}, "cookies": {}}
    }


def test_a_viewer_response_function_answers_a_response() -> None:
    rendered = result_of("function handler(e) { return e.response; }", response_event(404))
    assert json.loads(rendered["FunctionOutput"])["response"]["statusCode"] == 404


def test_compute_utilization_is_a_string() -> None:
    value = result_of("function handler(e) { return e.request; }")["ComputeUtilization"]
    assert isinstance(value, str)
    assert value.isdigit()


def test_an_error_has_cloudfronts_prefix_and_no_output() -> None:
    rendered = result_of("function handler(e) { throw new Error('nope'); }")
    assert rendered["FunctionErrorMessage"] == f"{PREFIX} Error: nope"
    assert rendered["FunctionOutput"] == ""


def test_origin_modifications_are_printed_as_helper_and_argument() -> None:
    code = (
        "import cf from 'cloudfront';\nfunction handler(e) {"
        " cf.selectRequestOriginById('blue'); cf.updateRequestOrigin({connectionAttempts: 9});"
        " return e.request; }"
    )
    rendered = result_of(code)
    # Invalid values are not flagged here (TestFunction does not check them).
    assert rendered["OriginModifications"] == [
        {"helper": "selectRequestOriginById", "argument": "blue"},
        {"helper": "updateRequestOrigin", "argument": {"connectionAttempts": 9}},
    ]
    assert rendered["FunctionErrorMessage"] == ""


def test_the_summary_names_the_function_runtime_and_store(tmp_path: Path) -> None:
    path = tmp_path / "router.js"
    path.write_text("function handler(e) { return e.request; }", encoding="utf-8")
    store = StaticKvs({"k": "v"})
    fn = LoadedFunction(read_function(path), runtime="cloudfront-js-1.0", kvs=store)
    summary = function_summary(fn)
    assert summary["Name"] == "router"
    assert summary["Status"] == "UNPUBLISHED"
    assert summary["FunctionConfig"]["Runtime"] == "cloudfront-js-1.0"
    assert summary["FunctionConfig"]["KeyValueStoreAssociations"] == {
        "Quantity": 1,
        "Items": [{"KeyValueStoreARN": store.arn}],
    }
    metadata = summary["FunctionMetadata"]
    assert metadata["FunctionARN"].endswith(":function/router")
    assert metadata["Stage"] == "DEVELOPMENT"
    assert metadata["LastModifiedTime"].endswith("+00:00")


def test_a_function_without_a_store_lists_no_association() -> None:
    summary = function_summary(load("function handler(e) { return e.request; }"))
    assert "KeyValueStoreAssociations" not in summary["FunctionConfig"]


def test_a_load_failure_still_prints_a_result() -> None:
    rendered = load_failure_result("fn", "cloudfront-js-2.0", "SyntaxError: unexpected token")
    assert rendered["FunctionErrorMessage"] == f"{PREFIX} SyntaxError: unexpected token"
    assert rendered["ComputeUtilization"] == "0"
    assert rendered["FunctionOutput"] == ""
    assert rendered["FunctionSummary"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert "FunctionErrorLocation" not in rendered


def test_a_load_failure_at_a_place_has_the_location_member() -> None:
    rendered = load_failure_result("fn", "cloudfront-js-2.0", "SyntaxError: x", "fn.js:2:9")
    assert rendered["FunctionErrorLocation"] == "fn.js:2:9"
    assert rendered["FunctionErrorStack"] == []


def test_an_error_keeps_cloudfronts_message_and_adds_location_and_stack_apart() -> None:
    rendered = result_of(
        "function helper(o) {\n  return o.DE;\n}\nfunction handler(e) { helper(null); }"
    )
    assert (
        rendered["FunctionErrorMessage"] == f'{PREFIX} TypeError: cannot get property "DE" of null'
    )
    assert rendered["FunctionErrorLocation"] == "fn.js:2:10"
    assert rendered["FunctionErrorStack"] == ["helper (fn.js:2:10)", "handler (fn.js:4:30)"]
    assert (
        list(rendered).index("FunctionErrorLocation")
        == list(rendered).index("FunctionErrorMessage") + 1
    )


def test_success_and_failures_without_a_position_have_cloudfronts_members_only() -> None:
    members = {
        "FunctionSummary", "ComputeUtilization", "FunctionExecutionLogs", "FunctionErrorMessage",
        "FunctionOutput", "OriginModifications",
    }  # fmt: skip
    assert set(result_of("function handler(e) { return e.request; }")) == members
    assert set(result_of("function handler(e) { throw 'text'; }")) == members
