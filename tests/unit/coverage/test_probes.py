"""Coverage counters: the instrumented code behaves as the original, and counts what ran."""

from __future__ import annotations

import json

import pytest
import quickjs

from edgesim.coverage.probes import GLOBAL, ProbeTable, instrument_coverage
from edgesim.runtime.positions import PositionMap

# The session's install, simplified: the counters and the "after the left operand" helper.
SETUP = (
    f"var {GLOBAL} = (function () {{ var c = []; for (var i = 0; i < 4096; i++) c[i] = 0;"
    " return {c: c, s: function (v, i) { c[i]++; return v; }}; })(); var result;"
)


def evaluate(code: str) -> tuple[str, list[int]]:
    """Run ``code`` (which sets ``result``) as the engine runs a body: in a strict function."""
    ctx = quickjs.Context()
    ctx.eval(SETUP)
    ctx.eval("(function () { 'use strict';\n" + code + "\n})();")
    while ctx.execute_pending_job():
        pass
    return ctx.eval("JSON.stringify(result)"), json.loads(ctx.eval(f"JSON.stringify({GLOBAL}.c)"))


def instrumented(code: str) -> tuple[str, ProbeTable]:
    made = instrument_coverage(code, PositionMap())
    assert made is not None
    text, _layer, table = made
    assert text.count("\n") == code.count("\n")  # line numbers never move
    return text, table


def same_result(code: str) -> tuple[ProbeTable, list[int]]:
    text, table = instrumented(code)
    before, untouched = evaluate(code)
    after, counts = evaluate(text)
    assert after == before, text
    assert not any(untouched)
    return table, counts


CASES = {
    "dangling else": "var a = 1, s = ''; if (a) if (!a) s = 'x'; else s = 'y'; result = s;",
    "else-if chain without braces": (
        "function f(n) { if (n < 0) return 'neg'; else if (n === 0) return 'zero';"
        " else return 'pos' }\nresult = [f(-1), f(0), f(2)];"
    ),
    "switch fallthrough without default": (
        "function f(x) { var s = ''; switch (x) { case 1: s += 'a'; case 2: s += 'b'; break;"
        " case 3: s += 'c' } return s; }\nresult = [f(1), f(2), f(3), f(4)];"
    ),
    "switch with default in the middle": (
        "function f(x) { switch (x) { case 1: return 'one'; default: return 'other';"
        " case 2: return 'two'; } }\nresult = [f(1), f(2), f(9)];"
    ),
    "empty switch": "var n = 0; switch (n) {} result = n;",
    "ASI everywhere": "var a = 1\nvar b = a\n? 2\n: 3\nif (b) a = 4\nelse a = 5\nresult = [a, b]",
    "directives kept": (
        "function f() { 'use strict'\n'another'; return typeof this; }\n"
        "var g = function () { 'use strict'; return 1 };\nresult = [f(), g()];"
    ),
    "arrow bodies": (
        "var f = x => x > 1 ? 'big' : 'small'; var g = x => ({v: x || 'none'});"
        " result = [f(1), f(2), g(0), g(3)];"
    ),
    "logical chains": (
        "function f(a, b, c) { return (a && b || c) ?? 'n'; }\n"
        "result = [f(1, 2, 3), f(0, 2, 3), f(1, 0, null), f(null, null, undefined)];"
    ),
    "nullish with calls": "var o = {m: function () { return this.v; }, v: 7}; result = o.m() ?? 0;",
    "labelled loops": (
        "var c = 0; outer: for (var i = 0; i < 3; i++) for (var j = 0; j < 3; j++)"
        " { if (j === 1) continue outer; c++; } result = c;"
    ),
    "do-while by ASI": "var i = 0\ndo i++\nwhile (i < 4)\nresult = i",
    "comments after statements": (
        "var x = 1 // one\nif (x) x = 2 /* two */\nelse x = 3 // three\nresult = x"
    ),
    "classes and getters": (
        "class A { constructor(v) { this.v = v || 1; } get double() { return this.v * 2; }"
        " static of(v) { return new A(v); } }\nresult = [A.of(0).double, A.of(4).double];"
    ),
    "default parameters": "function f(a = 1 || 2, b = a && 3) { return [a, b]; } result = f();",
    "try catch finally": (
        "function f(x) { try { if (x) throw new Error('e'); return 'ok'; } catch (e) {"
        " return e.message; } finally { result = x; } }\nvar r = [f(0), f(1)]; result = [r, result];"
    ),
    "async and generators": (
        "function* gen() { yield 1; yield 2 || 3; }\n"
        "async function f(x) { var v = (await x) || 'none'; return v; }\n"
        "result = [...gen()]; f(0).then(function (v) { result.push(v); });"
    ),
    "non-ASCII text shifts no line": "var s = 'héllo ✓'; if (s) s += '!'; result = s;",
    "template literals": "var n = 2; result = `${n > 1 ? 'many' : 'one'} ${n || 0}`;",
    "comma and sequence": "var a = 0, b = (a++, a || 5); for (;a < 3;) a++; result = [a, b];",
}


@pytest.mark.parametrize("code", CASES.values(), ids=CASES.keys())
def test_instrumented_code_gives_the_same_result(code: str) -> None:
    same_result(code)


def arm_counts(table: ProbeTable, counts: list[int]) -> list[tuple[int, str, str, int]]:
    out = []
    for branch in table.branches:
        for arm in branch.arms:
            minus = counts[arm.minus] if arm.minus >= 0 else 0
            out.append((branch.line, branch.kind, arm.label, counts[arm.plus] - minus))
    return sorted(out)


def test_if_arms_count_each_way_taken_an_absent_else_included() -> None:
    code = "function f(x) {\n  if (x > 2) {\n    return 1;\n  }\n  return 0;\n}\n[1, 2, 3, 4, 5].map(f);"
    table, counts = same_result(code)
    assert arm_counts(table, counts) == [(2, "if", "else", 2), (2, "if", "then", 3)]
    lines = {line: counts[probe] for line, _column, probe in table.statements}
    assert lines == {2: 5, 3: 3, 5: 2, 7: 1}
    assert [(f.name, f.line, counts[f.probe]) for f in table.functions] == [("f", 1, 5)]


def test_switch_counts_cases_and_the_missing_default() -> None:
    code = (
        "function f(x) {\n switch (x) {\n case 'a':\n case 'b': return 1;\n case 'c': return 2;\n"
        " }\n return 0;\n}\n['a', 'b', 'b', 'z'].map(f);"
    )
    table, counts = same_result(code)
    assert arm_counts(table, counts) == [
        (2, "switch", "case 'a'", 1),
        (2, "switch", "case 'b'", 3),  # entered directly twice, and by falling through once
        (2, "switch", "case 'c'", 0),
        (2, "switch", "no case", 1),
    ]


def test_short_circuits_count_only_completed_left_operands() -> None:
    code = (
        "var seen = [];\nfunction f(x) { return x.v || 'default'; }\n"
        "[{v: 1}, {v: 0}, null, {v: 2}].forEach(function (x) {\n"
        "  try { seen.push(f(x)); } catch (e) { seen.push('threw'); }\n});\nresult = seen;"
    )
    table, counts = same_result(code)
    # null.v throws: neither arm ran for it.
    assert arm_counts(table, counts) == [(2, "||", "right", 1), (2, "||", "short", 2)]


def test_ternaries_and_arrow_functions_are_counted() -> None:
    code = "var f = (x) => x ? 'y' : 'n';\nresult = [f(1), f(0), f(0)];"
    table, counts = same_result(code)
    assert arm_counts(table, counts) == [(1, "?:", "else", 2), (1, "?:", "then", 1)]
    assert [(f.name, counts[f.probe]) for f in table.functions] == [("f", 3)]


def test_positions_of_counters_are_those_of_the_file_as_written() -> None:
    # The loader's rewrite moved text on line 1; the table still names the user's lines.
    from edgesim.runtime.source import load_body

    text = "import cf from 'cloudfront';\nfunction handler(e) {\n  return e.x\n    || 1;\n}\n"
    body, positions = load_body(text)
    made = instrument_coverage(body, positions)
    assert made is not None
    table = made[2]
    assert [line for line, _column, _probe in table.statements] == [1, 3]
    assert [(b.line, b.kind) for b in table.branches] == [(3, "||")]
    assert [(f.name, f.line) for f in table.functions] == [("handler", 2)]


def test_unparseable_source_is_left_alone() -> None:
    assert instrument_coverage("function (", PositionMap()) is None


def test_deeply_nested_code_does_not_exhaust_python_recursion() -> None:
    code = "var a = 0; result = " + " || ".join(["a"] * 3000) + ";"
    _text, table = instrumented(code)
    assert len(table.branches) == 2999
    # (The engine's parser has its own depth limit: a shorter chain runs the same.)
    table, counts = same_result("var a = 0; result = " + " || ".join(["a"] * 100) + ";")
    assert arm_counts(table, counts).count((1, "||", "right", 1)) == 99


def test_counters_know_their_columns_in_the_file_as_written() -> None:
    # A source map maps positions, not lines: each counter keeps where its construct starts.
    from edgesim.coverage.collector import table_for

    # ("é" is 2 bytes in UTF-8: columns count characters, as every position edgesim gives.)
    text = "var a = 'é'; if (a) { f(a || 1 ? 1 : 2); }\nfunction f(x) { return x; }\n"
    table = table_for(text)
    assert table is not None
    line = text.split("\n")[0]
    assert [(ln, col) for ln, col, _ in table.statements] == [
        (1, 1),
        (1, line.index("if") + 1),
        (1, line.index("f(a") + 1),
        (2, text.split("\n")[1].index("return") + 1),
    ]
    assert [(b.kind, b.line, b.column) for b in table.branches] == [
        ("if", 1, line.index("if") + 1),
        ("?:", 1, line.index("a ||") + 1),
        ("||", 1, line.index("a ||") + 1),
    ]
    assert [(f.name, f.line, f.column) for f in table.functions] == [("f", 2, 1)]
