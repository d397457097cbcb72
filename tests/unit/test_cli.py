"""edgesim.cli: `edgesim test` and `edgesim lint` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edgesim.cli import main

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
EVENTS = ROOT / "fixtures" / "events"
KVS = ROOT / "fixtures" / "kvs"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict | list, str]:  # type: ignore[type-arg]
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


def test_test_prints_the_testfunction_document_for_ab_cohort_with_its_kvs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, result, _ = run_cli(
        capsys, "test", str(FUNCTIONS / "ab_cohort.js"), "--event", str(EVENTS / "ab_cohort.json"),
        "--kvs", str(KVS / "ab_cohort.json"), "--now", "2026-01-01T00:00:00Z", "--random-seed", "1",
    )  # fmt: skip
    assert code == 0
    assert set(result) == {
        "FunctionSummary", "ComputeUtilization", "FunctionExecutionLogs", "FunctionErrorMessage",
        "FunctionOutput", "OriginModifications",
    }  # fmt: skip
    assert result["FunctionErrorMessage"] == ""
    assert result["ComputeUtilization"].isdigit()
    output = json.loads(result["FunctionOutput"])
    cohort = output["request"]["headers"]["x-cohort"]["value"]
    assert output["request"]["uri"] == f"/{cohort}/checkout/cart"
    config = result["FunctionSummary"]["FunctionConfig"]
    assert config["Runtime"] == "cloudfront-js-2.0"
    assert config["KeyValueStoreAssociations"]["Quantity"] == 1


def test_test_runs_country_redirect_to_a_302_for_the_country_site(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, result, _ = run_cli(
        capsys, "test", str(FUNCTIONS / "country_redirect.js"),
        "--event", str(EVENTS / "country_redirect.json"),
    )  # fmt: skip
    assert code == 0
    response = json.loads(result["FunctionOutput"])["response"]
    assert response["statusCode"] == 302
    assert response["headers"]["location"]["value"] == "https://de.example.com/products/42"
    assert response["cookies"] == {}


def test_test_runs_security_headers_adding_headers_to_the_response(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, result, _ = run_cli(
        capsys, "test", str(FUNCTIONS / "security_headers.js"),
        "--event", str(EVENTS / "security_headers.json"),
    )  # fmt: skip
    assert code == 0
    headers = json.loads(result["FunctionOutput"])["response"]["headers"]
    assert headers["x-frame-options"]["value"] == "SAMEORIGIN"
    assert headers["x-content-type-options"]["value"] == "nosniff"


def test_function_error_exits_1_and_still_prints_the_result(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fn = tmp_path / "broken.js"
    fn.write_text("function handler(e) { return e.request.nope.x; }")
    code, result, err = run_cli(capsys, "test", str(fn), "--event", str(EVENTS / "ab_cohort.json"))
    assert code == 1
    assert result["FunctionErrorMessage"].endswith(
        'TypeError: cannot get property "x" of undefined'
    )
    assert "execution error" in err


def test_validation_error_names_the_header(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fn = tmp_path / "bad.js"
    fn.write_text(
        "function handler(e) { e.request.headers['x-real-ip'] = {value: '1'}; return e.request; }"
    )
    code, result, _ = run_cli(capsys, "test", str(fn), "--event", str(EVENTS / "ab_cohort.json"))
    assert code == 1
    assert "x-real-ip" in result["FunctionErrorMessage"]


def test_syntax_error_exits_1_with_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fn = tmp_path / "syntax.js"
    fn.write_text("function handler(e) {\n  return e.request\n  var = 3;\n}\n")
    code, result, _ = run_cli(
        capsys, "test", str(fn), "--event", str(EVENTS / "ab_cohort.json"), "--compat", "lenient"
    )
    assert code == 1
    assert "SyntaxError" in result["FunctionErrorMessage"]
    assert f"{fn}:3:" in result["FunctionErrorMessage"]


@pytest.mark.parametrize("compat", ["strict", "lenient"])
def test_syntax_errors_read_the_same_in_test_and_lint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, compat: str
) -> None:
    fn = tmp_path / "broken.js"
    fn.write_text(
        "import cf from 'cloudfront';\nexport default function handler(e) {\n  if (e {\n}\n"
    )
    expected = f"{fn}:3:9: error [syntax] SyntaxError: Unexpected token '{{'"
    code, result, err = run_cli(
        capsys, "test", str(fn), "--event", str(EVENTS / "ab_cohort.json"), "--compat", compat
    )
    assert code == 1
    assert err.strip() == f"edgesim: {expected}"
    assert result["FunctionErrorMessage"].endswith(
        f"SyntaxError: Unexpected token '{{' in {fn}:3:9"
    )
    assert result["FunctionErrorLocation"] == f"{fn}:3:9"
    assert main(["lint", str(fn)]) == 1
    assert capsys.readouterr().out.strip() == expected


def test_a_runtime_error_prints_its_position_and_the_users_stack(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fn = tmp_path / "geo.js"
    fn.write_text(
        "function country(headers) {\n  return headers.geo.DE;\n}\n"
        "function handler(e) {\n  var c = country({geo: null});\n  return e.request;\n}\n"
    )
    code, result, err = run_cli(capsys, "test", str(fn), "--event", str(EVENTS / "ab_cohort.json"))
    assert code == 1
    assert result["FunctionErrorMessage"].endswith('TypeError: cannot get property "DE" of null')
    assert result["FunctionErrorLocation"] == f"{fn}:2:10"
    assert result["FunctionErrorStack"] == [f"country ({fn}:2:10)", f"handler ({fn}:5:11)"]
    assert err.splitlines() == [
        f'edgesim: function execution error at {fn}:2:10: TypeError: cannot get property "DE" of null',
        f"    at country ({fn}:2:10)",
        f"    at handler ({fn}:5:11)",
    ]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--event", "missing.json"], "missing.json: cannot read the event"),
        (["--event", "{events}/ab_cohort.json", "--now", "yesterday"], "--now 'yesterday'"),
        (
            ["--event", "{events}/ab_cohort.json", "--kvs", "{functions}/ab_cohort.js"],
            "not valid JSON",
        ),
        (["--event", "{events}/ab_cohort.json", "--rule", "nope"], "--rule 'nope'"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    argv = [a.format(events=EVENTS, functions=FUNCTIONS) for a in argv]
    code = main(["test", str(FUNCTIONS / "ab_cohort.js"), *argv])
    _, err = capsys.readouterr()
    assert code == 2
    assert needle in err


def test_event_of_the_wrong_shape_exits_2_naming_the_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"request": {"headers": {"host": {"value": 7}}}}')
    code = main(["test", str(FUNCTIONS / "country_redirect.js"), "--event", str(event)])
    assert code == 2
    assert "event.request.headers.host.value: expected a string" in capsys.readouterr().err


def test_lint_passes_every_bundled_example_function(capsys: pytest.CaptureFixture[str]) -> None:
    for path in sorted(FUNCTIONS.glob("*.js")):
        assert main(["lint", str(path)]) == 0, capsys.readouterr()


def test_lint_reports_rule_and_position(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fn = tmp_path / "modern.js"
    fn.write_text("function handler(e) {\n  const { uri } = e.request;\n  return e.request;\n}\n")
    code = main(["lint", str(fn)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"{fn}:2:" in out
    assert "destructuring" in out


def test_lint_list_rules_shows_every_rule_with_its_evidence_and_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from edgesim.runtime.compat import RULES

    assert main(["lint", "--list-rules"]) == 0
    out = capsys.readouterr().out
    for rule in RULES.values():
        assert f"{rule.id}  (default: {rule.severity}; " in out
        assert f"flags:    {rule.message}" in out
        assert rule.evidence in out
    assert "destructuring  (default: error; cloudfront-js-1.0, cloudfront-js-2.0)" in out
    assert "let-const  (default: error; cloudfront-js-1.0)\n" in out
    assert "evidence: unverified: njs source alone" in out  # a warning rule


def test_lint_list_rules_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    from edgesim.runtime.compat import RULES

    code, rows, _ = run_cli(capsys, "lint", "--list-rules", "--json")
    assert code == 0
    assert isinstance(rows, list)
    assert [row["rule"] for row in rows] == list(RULES)
    spread = next(row for row in rows if row["rule"] == "spread")
    assert spread["severity"] == "error"
    assert spread["runtimes"] == ["cloudfront-js-1.0", "cloudfront-js-2.0"]
    assert spread["evidence"] == RULES["spread"].evidence
    assert spread["evidence_level"].startswith("documented or reported")


def test_the_runtime_docs_point_to_the_rule_listing_that_exists(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = (ROOT / "docs" / "runtime.md").read_text(encoding="utf-8")
    assert "`edgesim lint --list-rules`" in text
    assert "lint --help` and" not in text  # lint --help never had the table
    assert main(["lint", "--list-rules"]) == 0


def test_lint_without_a_file_says_what_to_give(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint"]) == 2
    assert "give the function's .js file (or --list-rules" in capsys.readouterr().err


def help_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit:
        main([*argv, "--help"])
    assert exit.value.code == 0
    # argparse wraps help at the terminal width: compare words, not lines.
    return " ".join(capsys.readouterr().out.split())


def test_top_level_help_describes_edgesim_not_its_internals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = help_of(capsys)
    assert "emulator of Amazon CloudFront Functions and KeyValueStore" in text
    assert "parse, call the library, print" not in text
    assert "edgesim lint FUNCTION" in text


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["test"], "--compat {strict,lenient} strict (default): refuse to run"),
        (["test"], "--event-type {viewer-request,viewer-response} the event's type"),
        (["test"], "--runtime {cloudfront-js-2.0,cloudfront-js-1.0} CloudFront Functions runtime"),
        (["lint"], "function the function's .js file"),
        (["lint"], "--list-rules list every rule"),
        (["kvs", "get"], "store the store: its name, id or ARN key the key to read"),
        (["kvs", "put"], "value its new value"),
        (["kvs", "create"], "name the new store's name"),
        (["kvs", "apply"], "file the desired content, in CloudFront's import format"),
        (["kvs", "list"], "--endpoint URL admin endpoint (default: $EDGESIM_ENDPOINT"),
    ],
)
def test_arguments_have_help(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    assert expected in help_of(capsys, *argv)


def test_strict_mode_refuses_to_run_incompatible_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fn = tmp_path / "modern.js"
    fn.write_text("function handler(e) {\n  for (const k of [1]) {}\n  return e.request;\n}\n")
    code, result, err = run_cli(capsys, "test", str(fn), "--event", str(EVENTS / "ab_cohort.json"))
    assert code == 1
    assert "for-of" in result["FunctionErrorMessage"]
    assert result["FunctionErrorLocation"] == f"{fn}:2:3"
    assert "run it anyway with lenient compatibility" in err
    assert err.rstrip().endswith(
        "Run it anyway with --compat lenient (or relax one rule with --rule RULE=warn)."
    )
    lenient = main(
        ["test", str(fn), "--event", str(EVENTS / "ab_cohort.json"), "--compat", "lenient"]
    )
    assert lenient == 0


def test_python_m_edgesim_runs_the_test_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "edgesim", "test", str(FUNCTIONS / "country_redirect.js"),
         "--event", str(EVENTS / "country_redirect.json")],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["FunctionErrorMessage"] == ""


@pytest.mark.parametrize(
    ("utilizations", "printed", "exit_code"),
    [([50, 96, 40, 110, 130], "96", 0), ([110, 40, 130, 120, 96], "110", 1)],
)
def test_the_reported_run_is_the_median_one_in_every_respect(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    utilizations: list[int],
    printed: str,
    exit_code: int,
) -> None:
    from edgesim.runtime.function import FunctionFailure, InvocationResult, LoadedFunction

    figures = iter(utilizations)

    def fake_invoke(self, event, **kwargs):  # type: ignore[no-untyped-def]
        used = next(figures)
        result = InvocationResult(
            event_type="viewer-request", kind="request", output=event["request"],
            compute_utilization=used, over_budget=used > 100,
        )  # fmt: skip
        if used > 100:
            result.warnings.append(f"compute utilization {used} is over 100")
            result.error = FunctionFailure("execution", f"ComputeBudgetExceeded: used {used}%")
        return result

    monkeypatch.setattr(LoadedFunction, "invoke", fake_invoke)
    code, result, err = run_cli(
        capsys, "test", str(FUNCTIONS / "country_redirect.js"),
        "--event", str(EVENTS / "country_redirect.json"), "--fail-over-budget",
    )  # fmt: skip
    assert result["ComputeUtilization"] == printed
    assert code == exit_code
    others = {str(u) for u in utilizations} - {printed}
    assert not any(f"used {u}%" in err or f"utilization {u} " in err for u in others), err
    if exit_code:
        assert f"used {printed}%" in result["FunctionErrorMessage"]
    else:
        assert result["FunctionErrorMessage"] == ""


def test_a_source_that_is_not_utf8_still_prints_a_result(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fn = tmp_path / "latin1.js"
    fn.write_bytes(b"// caf\xe9\nfunction handler(e) { return e.request; }\n")
    code, result, err = run_cli(capsys, "test", str(fn), "--event", str(EVENTS / "ab_cohort.json"))
    assert code == 1
    assert "not valid UTF-8" in result["FunctionErrorMessage"]
    assert result["FunctionSummary"]["Name"] == "latin1"
    assert "not valid UTF-8" in err


def test_a_source_over_10_kb_still_prints_a_result(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fn = tmp_path / "big.js"
    fn.write_text("function handler(e) { return e.request; }\n//" + "x" * 10_240)
    code, result, _ = run_cli(capsys, "test", str(fn), "--event", str(EVENTS / "ab_cohort.json"))
    assert code == 1
    assert "10240 bytes" in result["FunctionErrorMessage"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--budget-ms", "nan"], "--budget-ms nan: expected a number of milliseconds"),
        (["--budget-ms", "inf"], "--budget-ms inf: expected a number of milliseconds"),
        (["--budget-ms", "1e308"], "--budget-ms 1e+308: expected a number of milliseconds"),
        (["--ceiling", "inf"], "--ceiling inf: expected a factor above 1"),
        (["--repeat", "99999999999"], "--repeat 99999999999: at most 1000 runs"),
    ],
)
def test_non_finite_or_huge_flags_are_refused_with_exit_2(
    flags: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fn = tmp_path / "fn.js"
    fn.write_text("function handler(event) { return event.request; }")
    event = tmp_path / "event.json"
    event.write_text(
        '{"version": "1.0", "context": {"eventType": "viewer-request"}, '
        '"viewer": {"ip": "1.2.3.4"}, "request": {"method": "GET", "uri": "/", '
        '"querystring": {}, "headers": {}, "cookies": {}}}'
    )
    assert main(["test", str(fn), "--event", str(event), *flags]) == 2
    assert message in capsys.readouterr().err
