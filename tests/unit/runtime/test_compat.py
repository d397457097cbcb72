"""The CloudFront compatibility rules: what they catch, where, and what they leave alone."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from edgesim.runtime.compat import RULES, Finding, Rule, check_source, has_errors

JS2 = "cloudfront-js-2.0"
JS1 = "cloudfront-js-1.0"
FUNCTIONS = Path(__file__).resolve().parents[3] / "functions"

# (rule, runtime, source, (line, column) of the finding)
EXAMPLES = [
    ("syntax", JS2, "var a = ;", (1, 9)),
    ("destructuring", JS2, "function handler(e) {\n  const { uri } = e.request;\n}", (2, 9)),
    ("destructuring", JS2, "var f = ([a, b]) => a;", (1, 10)),
    ("destructuring", JS2, "var a, b; [a, b] = [b, a];", (1, 11)),
    ("optional-chaining", JS2, "var v = e.request?.uri;", (1, 18)),
    ("spread", JS2, "f(...args);", (1, 3)),
    ("spread", JS2, "var o = { ...p };", (1, 11)),
    ("class", JS2, "class A {}", (1, 1)),
    ("class", JS2, "var A = class {};", (1, 9)),
    ("generator", JS2, "function* g() {}", (1, 1)),
    ("generator", JS2, "var o = { *g() {} };", (1, 11)),
    ("for-of", JS2, "for (var k of [1]) {}", (1, 1)),
    ("await-in-arguments", JS2, "async function f(x) {\n  return JSON.parse(await x);\n}", (2, 21)),
    ("await-in-arguments", JS2, "async function f(y) { g('n' + await y); }", (1, 31)),
    ("optional-catch-binding", JS2, "try { f(); } catch { }", (1, 14)),
    ("super", JS2, "var o = { m() { return super.m(); } };", (1, 24)),
    ("new-target", JS2, "function F() { return new.target; }", (1, 23)),
    ("default-parameters", JS2, "function f(a, b = 1) {}", (1, 15)),
    ("nullish-coalescing", JS2, "var v = a ?? b;", (1, 11)),
    ("logical-assignment", JS2, "a ||= 1;", (1, 3)),
    ("absent-global", JS2, "var m = new Map();", (1, 13)),
    ("absent-global", JS2, "var u = new URL(s);", (1, 13)),
    ("absent-global", JS2, "var h = crypto.subtle;", (1, 9)),
    ("absent-global", JS2, "setTimeout(f, 1);", (1, 1)),
    ("absent-global", JS2, "var n = 10n;", (1, 9)),
    ("absent-method", JS2, "var x = list.flat();", (1, 14)),
    ("absent-method", JS2, "var o = Object.fromEntries(p);", (1, 16)),
    ("named-import", JS2, "import { kvs } from 'cloudfront';", (1, 8)),
    ("named-import", JS2, "import * as cf from 'cloudfront';", (1, 8)),
    ("import-unknown-module", JS2, "import fs from 'fs';", (1, 16)),
    ("import-unknown-module", JS2, "var b = require('buffer');", (1, 17)),
    ("import-position", JS2, "var a = 1;\nimport cf from 'cloudfront';", (2, 1)),
    ("console-multiple-args", JS2, "console.log('a', b);", (1, 12)),
    ("console-method", JS2, "console.error('x');", (1, 9)),
    ("eval", JS2, "eval('1');", (1, 1)),
    ("eval", JS2, "var f = new Function('a', 'return a');", (1, 13)),
    ("async-method", JS2, "var o = { async m() {} };", (1, 11)),
    ("let-const", JS1, "function f() {\n  let a = 1;\n}", (2, 3)),
    ("let-const", JS1, "for (const k in o) {}", (1, 6)),
    ("async-await", JS1, "async function handler(e) { return e.request; }", (1, 1)),
    ("cloudfront-module", JS1, "import cf from 'cloudfront';", (1, 16)),
    ("cloudfront-module", JS1, "var cf = require('cloudfront');", (1, 18)),
    ("numeric-separator", JS1, "var n = 1_000;", (1, 9)),
    ("runtime-1-api", JS1, "var b = Buffer.from('x');", (1, 9)),
    ("runtime-1-api", JS1, "var s = t.replaceAll('a', 'b');", (1, 11)),
    ("runtime-1-api", JS1, "Promise.all([]);", (1, 9)),
]


@pytest.mark.parametrize(
    ("rule", "runtime", "source", "position"), EXAMPLES, ids=[f"{e[0]}:{e[2]}" for e in EXAMPLES]
)
def test_rule_fires_at_the_construct(
    rule: str, runtime: str, source: str, position: tuple[int, int]
) -> None:
    findings = [f for f in check_source(source, runtime=runtime) if f.rule == rule]
    assert [(f.line, f.column) for f in findings] == [position]
    assert findings[0].severity == RULES[rule].severity
    assert findings[0].evidence == RULES[rule].evidence


def test_every_rule_has_an_example() -> None:
    assert set(RULES) == {example[0] for example in EXAMPLES}


@pytest.mark.parametrize("rule", RULES.values(), ids=list(RULES))
def test_rule_table_is_well_formed(rule: Rule) -> None:
    assert rule is RULES[rule.id]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.id)
    assert rule.severity in ("error", "warning")
    assert rule.runtimes
    assert rule.runtimes <= {JS1, JS2}
    assert rule.message
    assert rule.evidence


CLEAN = [
    "function f(a, ...rest) { return rest.length; }",  # rest parameters are supported
    "var o = { a: 1, 'b': [1, 2] }; var x = o.Map + o.URL;",  # property names, not globals
    "var s = 'a?.b ?? c ...d for (x of y)'; // class A {}",  # strings and comments
    "if (typeof URL !== 'undefined') { }",  # feature tests do not throw
    "function f(Map) { return new Map(); }",  # a parameter shadows the global
    "var crypto = require('crypto'); crypto.createHash('md5');",
    "import crypto from 'crypto';\nvar h = crypto.createHash('sha256');",
    "var qs = require('querystring');",
    "var at = point.at; console.log('one ' + at);",  # only calls of .at() are suspicious
    "async function h(e) { var v = await f(e); return v; }",
    # AWS's deployed samples use async arrow handlers: they must not be flagged.
    "const handler = async (event) => { const v = await g(event); return v; };",
    "var f = async function (x) { return x; };",
    "var f = function (x) { return x; }; var g = (a) => ({ a: a });",
    "try { f(); } catch (e) { console.log(e.message); }",
    "for (var i = 0; i < 3; i++) {} for (var k in o) {}",
    "var o = { get a() { return 1; }, set a(v) {}, m() {} };",
]


@pytest.mark.parametrize("source", CLEAN)
def test_supported_code_is_clean(source: str) -> None:
    assert check_source(source, runtime=JS2) == []


@pytest.mark.parametrize("path", sorted(FUNCTIONS.glob("*.js")), ids=lambda p: p.name)
def test_shipped_examples_are_clean(path: Path) -> None:
    assert check_source(path.read_text(), runtime=JS2) == []


def test_runtime_1_rules_stay_out_of_runtime_2() -> None:
    source = "let a = 1_000; async function f() {} var b = Buffer.from('x');"
    assert check_source(source, runtime=JS2) == []
    assert {f.rule for f in check_source(source, runtime=JS1)} == {
        "let-const",
        "numeric-separator",
        "async-await",
        "runtime-1-api",
    }


def test_runtime_2_only_rules_stay_out_of_runtime_1() -> None:
    source = "var f = async () => g(await x);"
    assert {f.rule for f in check_source(source, runtime=JS1)} == {"async-await"}
    assert {f.rule for f in check_source(source, runtime=JS2)} == {"await-in-arguments"}


def test_nested_patterns_are_reported_once() -> None:
    findings = check_source("var { a: [b, { c }], ...d } = e;", runtime=JS2)
    assert [(f.rule, f.column) for f in findings] == [("destructuring", 5)]


def test_shadowing_is_scoped() -> None:
    source = "function f() { var Set = 1; return Set; }\nvar s = new Set();"
    assert [(f.rule, f.line) for f in check_source(source, runtime=JS2)] == [("absent-global", 2)]


def test_await_inside_a_callback_argument_is_not_in_arguments() -> None:
    source = (
        "async function f() { g(1); }\nasync function h(xs) { xs.forEach(function (x) { x; }); }"
    )
    assert check_source(source, runtime=JS2) == []


def test_findings_are_sorted_and_formatted() -> None:
    findings = check_source("var m = new Map();\nf(...a, x?.y);", runtime=JS2)
    assert [(f.line, f.column) for f in findings] == sorted((f.line, f.column) for f in findings)
    assert findings[0].format("fn.js") == (
        "fn.js:1:13: error [absent-global] Map is not defined in CloudFront Functions; use a plain"
        " object"
    )


def test_columns_count_characters_not_bytes() -> None:
    (finding,) = check_source("var s = 'héllo ✓'; f(...a);", runtime=JS2)
    assert finding.column == 22


def test_syntax_error_is_a_finding_not_a_crash() -> None:
    (finding,) = check_source("function handler(e) {\n  return e.request\n", runtime=JS2)
    assert finding.rule == "syntax"
    assert finding.severity == "error"
    assert finding.line in (2, 3)
    assert check_source("var x = <div/>;", runtime=JS2)[0].rule == "syntax"


def test_syntax_errors_are_worded_by_the_engine_at_the_users_position() -> None:
    (finding,) = check_source("function handler(e) {\n  if (e {\n}", runtime=JS2)
    assert (finding.line, finding.column) == (2, 9)
    assert finding.message == "SyntaxError: Unexpected token '{'"
    assert finding.format("fn.js") == "fn.js:2:9: error [syntax] SyntaxError: Unexpected token '{'"


def test_syntax_positions_are_in_the_file_as_written_through_the_loaders_rewrites() -> None:
    source = "import cf from 'cloudfront';\nexport default function handler(e) { var x = {; }"
    (finding,) = check_source(source, runtime=JS2)
    assert (finding.line, finding.column) == (2, source.split("\n")[1].index(";") + 1)


def test_strict_mode_syntax_errors_are_found_as_the_engine_runs_the_code() -> None:
    # tree-sitter parses `with`; the engine, compiling in strict mode as njs runs code, does not.
    (finding,) = check_source("function f(o) {\n  with (o) {}\n}", runtime=JS2)
    assert finding.rule == "syntax"
    assert finding.message == "SyntaxError: invalid keyword: with"


def test_an_unclosed_block_is_reported_at_the_end_of_the_source() -> None:
    (finding,) = check_source("function handler(e) {\n  return e;", runtime=JS2)
    assert (finding.line, finding.column) == (2, 12)
    assert finding.message.startswith("SyntaxError: unexpected end of the source")


def test_what_only_tree_sitter_rejects_is_worded_the_same_way(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from edgesim.runtime import engine

    monkeypatch.setattr(engine, "compile_error", lambda *args: None)
    (finding,) = check_source("var a = (1;", runtime=JS2)
    assert finding.rule == "syntax"
    assert finding.message.startswith("SyntaxError: ")


def test_overrides_change_or_drop_rules() -> None:
    source = "var v = a ?? b; f(...c);"
    assert [f.severity for f in check_source(source, runtime=JS2)] == ["warning", "error"]
    strict = check_source(source, runtime=JS2, overrides={"nullish-coalescing": "strict"})
    assert [f.severity for f in strict] == ["error", "error"]
    relaxed = check_source(source, runtime=JS2, overrides={"spread": "warn"})
    assert not has_errors(relaxed)
    dropped = check_source(source, runtime=JS2, overrides={"spread": "lenient"})
    assert [f.rule for f in dropped] == ["nullish-coalescing"]


def test_bad_overrides_name_the_problem() -> None:
    with pytest.raises(ValueError, match=r"'no-such-rule'.*destructuring"):
        check_source("", runtime=JS2, overrides={"no-such-rule": "warn"})
    with pytest.raises(ValueError, match=r"'spread'.*'loud'.*strict, warn, lenient"):
        check_source("", runtime=JS2, overrides={"spread": "loud"})
    with pytest.raises(ValueError, match="runtime"):
        check_source("", runtime="nodejs")


def test_has_errors() -> None:
    warning = Finding("absent-method", "warning", 1, 1, "m", "e")
    error = Finding("spread", "error", 1, 1, "m", "e")
    assert not has_errors([warning])
    assert has_errors([warning, error])


def test_a_10_kb_function_lints_in_a_few_milliseconds() -> None:
    body = (FUNCTIONS / "country_redirect.js").read_text()
    source = "\n".join(body.replace("handler", f"handler{i}") for i in range(14))[:10_000]
    source = source[: source.rfind("\n}\n") + 3]
    check_source(source, runtime=JS2)  # compile the query
    start = time.perf_counter()
    for _ in range(10):
        check_source(source, runtime=JS2)
    assert (time.perf_counter() - start) / 10 < 0.05  # typically about 2 ms
