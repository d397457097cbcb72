"""Tick instrumentation: same results, same line numbers, ticks that count work."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import quickjs
from hypothesis import given
from hypothesis import strategies as st

from edgesim.runtime.instrument import instrument, instrument_with_map

TICKER = "var n = 0; function __edgesim_tick() { n++; }"


@dataclass
class Run:
    result: str
    ticks: int


def run(code: str) -> Run:
    """Evaluate ``code`` (which sets ``result``) in a fresh context, settling any promises."""
    ctx = quickjs.Context()
    ctx.eval(TICKER + " var result;")
    ctx.eval(code)
    while ctx.execute_pending_job():
        pass
    return Run(ctx.eval("JSON.stringify(result)"), ctx.eval("n"))


def assert_same_behaviour(code: str) -> Run:
    instrumented = instrument(code)
    assert instrumented.count("\n") == code.count("\n")
    before, after = run(code), run(instrumented)
    assert before.ticks == 0
    assert after.result == before.result, instrumented
    return after


# (name, program, expected ticks)
CASES = [
    ("for without braces", "var s = 0; for (var i = 0; i < 5; i++) s += i; result = s;", 5),
    ("while without braces or semicolons", "var i = 3, s = ''\nwhile (i--) s += i\nresult = s", 3),
    ("do-while without braces", "var i = 0; do i++; while (i < 4); result = i;", 4),
    ("do-while body by ASI", "var i = 0\ndo i++\nwhile (i < 4)\nresult = i", 4),
    ("empty loop body", "var i = 0; while (i++ < 6); result = i;", 6),
    ("for-in", "var k = []; for (var p in {a: 1, b: 2}) k.push(p); result = k;", 2),
    ("for-of", "var t = 0; for (var v of [1, 2, 3]) t += v; result = t;", 3),
    ("nested loops without braces",
     "var c = 0; for (var i = 0; i < 3; i++) for (var j = 0; j < 2; j++) c++; result = c;", 3 + 6),
    ("labelled continue",
     "var c = 0; outer: for (var i = 0; i < 3; i++) { for (var j = 0; j < 3; j++) {"
     " if (j === 1) continue outer; c++; } } result = c;", 3 + 6),
    ("labelled break without braces",
     "var c = 0; outer: while (true) for (;;) { c++; if (c > 2) break outer; } result = c;", 1 + 3),
    ("dangling else", "var a = 1, s = ''; if (a) while (a--) s += 'x'; else s = 'no'; result = s;", 1),
    ("arrow returning an object", "var f = x => ({v: x}); result = [f(1), f(2)];", 2),
    ("curried arrows", "var add = a => b => a + b; result = add(2)(3);", 2),
    ("arrow with a comma body", "var f = x => (x, x * 2); result = f(4);", 1),
    ("arrow with an assignment body", "var y; var f = x => y = x + 1; result = [f(1), y];", 1),
    ("arrow block body", "var f = (a, b) => { return a * b; }; result = f(3, 4);", 1),
    ("directive in a sloppy script",
     "function f() { 'use strict'; return this === undefined; } result = f();", 1),
    ("directive without semicolon",
     'function f() {\n  "use strict"\n  return this === undefined\n}\nresult = f()', 1),
    ("several directives",
     "function f() { 'x'; 'use strict'; return typeof this; } result = f();", 1),
    ("a string statement after code is no directive",
     "function f() { var a = 1; 'use strict'; return typeof this; } result = f();", 1),
    ("nested functions and closures",
     "function outer(n) { function inner(k) { return k + n; } return inner(1) + inner(2); }"
     " result = outer(10);", 3),
    ("getters, setters and methods",
     "var o = { v: 1, get d() { return this.v * 2; }, set d(x) { this.v = x; }, m() { return 7; } };"
     " o.d = 5; result = [o.d, o.m()];", 3),
    ("class with super", "class A { constructor(x) { this.x = x; } get y() { return this.x + 1; } }"
     " class B extends A { constructor() { super(4); } } result = new B().y;", 3),
    ("generator", "function* g() { for (var i = 0; i < 3; i++) yield i; }"
     " var out = []; for (var v of g()) out.push(v); result = out;", 1 + 3 + 3),
    ("async function",
     "async function f() { var t = 0; for (var i = 0; i < 3; i++) t += await i; return t; }"
     " f().then(v => { result = v; });", 1 + 3 + 1),
    ("async arrow with expression body",
     "var f = async x => x + 1; f(1).then(function (v) { result = v; });", 2),
    ("arguments and length", "function f(a, b) { return [arguments.length, f.length]; }"
     " result = f(1);", 1),
    ("non-ASCII text before insertions",
     "var s = 'héllo ✓'; for (var i = 0; i < 2; i++) s += 'é'; result = s;", 2),
    ("loop body followed by a comment",
     "var c = 0\nfor (var i = 0; i < 2; i++) c++ // count\nresult = c", 2),
    ("statement starting with a parenthesis after an ASI loop body",
     "var c = 0\nfor (var i = 0; i < 2; i++) c++\n;(function () { c += 10 })()\nresult = c", 3),
]  # fmt: skip


@pytest.mark.parametrize(("code", "ticks"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_behaviour_is_unchanged_and_ticks_count_work(code: str, ticks: int) -> None:
    assert assert_same_behaviour(code).ticks == ticks


def test_ticks_scale_with_iterations() -> None:
    program = "function sum(k) { var s = 0; for (var i = 0; i < k; i++) s += i; return s; }"
    counts = [run(instrument(program) + f" result = sum({k});").ticks for k in (10, 100, 1000)]
    assert counts == [11, 101, 1001]


def test_recursion_ticks_once_per_call() -> None:
    code = "function fib(k) { return k < 2 ? k : fib(k - 1) + fib(k - 2); } result = fib(10);"
    assert assert_same_behaviour(code).ticks == 177


def test_custom_tick_expression() -> None:
    assert instrument("while (x) y();", "T()") == "while (x) {T(); y();}"
    assert instrument("f = a => a;", "T()") == "f = a => (T(), a);"


def test_top_level_code_is_not_ticked() -> None:
    assert instrument("var a = 1;\nresult = a;") == "var a = 1;\nresult = a;"


def test_source_that_does_not_parse_is_unchanged() -> None:
    broken = "function f( {\n  for (;;) x\n"
    assert instrument(broken) == broken


ERROR_LINES = [
    "function f() {\n  var a = null;\n  return a.b;\n}\nf();",
    "var g = x =>\n  x.y.z;\ng({});",
    "for (var i = 0; i < 3; i++)\n  if (i == 2)\n    throw new Error('at ' + i);",
    "var o = { get p() {\n\n  return undefinedName; } };\no.p;",
    "(function () {\n  'use strict'\n  undeclared = 1\n})()",
    "function a() { b(); }\nfunction b() {\n  do\n    c()\n  while (0)\n}\na();",
]


def _stack_lines(code: str) -> list[str]:
    ctx = quickjs.Context()
    ctx.eval(TICKER)
    with pytest.raises(quickjs.JSException) as info:
        ctx.eval(code)
    return re.findall(r"<input>:(\d+)", str(info.value))


@pytest.mark.parametrize("code", ERROR_LINES)
def test_error_line_numbers_are_unchanged(code: str) -> None:
    lines = _stack_lines(code)
    assert lines
    assert _stack_lines(instrument(code)) == lines


def _stack_positions(code: str) -> list[tuple[int, int]]:
    ctx = quickjs.Context()
    ctx.eval(TICKER)
    with pytest.raises(quickjs.JSException) as info:
        ctx.eval(code)
    found = re.findall(r"<input>:(\d+):(\d+)", str(info.value))
    return [(int(line), int(col)) for line, col in found]


@pytest.mark.parametrize("code", ERROR_LINES)
def test_error_columns_map_back_through_the_layer(code: str) -> None:
    instrumented, layer = instrument_with_map(code)
    assert layer is not None
    assert instrumented == instrument(code)
    mapped = [layer.original(*where) for where in _stack_positions(instrumented)]
    assert mapped == _stack_positions(code)


def test_the_layer_counts_characters_where_tree_sitter_counts_bytes() -> None:
    code = "var s = 'é😀'; function f() { return s.x.y; }"
    instrumented, layer = instrument_with_map(code)
    assert layer is not None
    at = instrumented.index("s.x.y")
    assert layer.original(1, at + 1) == (1, code.index("s.x.y") + 1)


def test_nothing_to_instrument_gives_no_layer() -> None:
    assert instrument_with_map("var a = 1;") == ("var a = 1;", None)
    assert instrument_with_map("var a = ;") == ("var a = ;", None)


# Generated programs: every loop and function body is rendered twice, plainly (to be instrumented)
# and with a hand-placed counter at the same spots, which tells how many ticks to expect.
@dataclass
class Node:
    kind: str
    k: int = 0
    body: list[Node] | None = None
    braced: bool = True
    semicolon: bool = True


COMPOUND_KINDS = ["for", "while", "do", "forin", "forof", "label", "if", "iife", "arrowblock"]


def _nodes(depth: int) -> st.SearchStrategy[Node]:
    leaf = st.builds(
        Node, kind=st.sampled_from(["add", "arrow"]), k=st.integers(0, 3), semicolon=st.booleans()
    )
    if depth == 0:
        return leaf
    inner = st.lists(_nodes(depth - 1), min_size=1, max_size=3)
    compound = st.builds(
        Node,
        kind=st.sampled_from(COMPOUND_KINDS),
        k=st.integers(0, 3),
        body=inner,
        braced=st.booleans(),
    )
    return st.one_of(leaf, compound)


class Renderer:
    def __init__(self, marked: bool) -> None:
        self.marked = marked
        self.vars = 0

    def fresh(self) -> str:
        self.vars += 1
        return f"v{self.vars}"

    def block(self, nodes: list[Node], braced: bool, counted: bool) -> str:
        mark = "m++; " if counted and self.marked else ""
        if len(nodes) == 1 and not braced and not mark:
            return self.stmt(nodes[0])
        return "{ " + mark + "\n".join(self.stmt(node) for node in nodes) + "\n}"

    def stmt(self, node: Node) -> str:
        v, k, body = self.fresh(), node.k, node.body or []

        def loop() -> str:
            return self.block(body, node.braced, counted=True)

        if node.kind == "add":
            return f"s += {k}" + (";" if node.semicolon else "")
        if node.kind == "arrow":
            expr = "(m++, x * 2)" if self.marked else "x * 2"
            return f"s += (x => {expr})({k});"
        if node.kind == "for":
            return f"for (var {v} = 0; {v} < {k}; {v}++) {loop()}"
        if node.kind == "while":
            return f"{{ var {v} = 0; while ({v}++ < {k}) {loop()}\n}}"
        if node.kind == "do":
            return f"{{ var {v} = 0; do {loop()}\nwhile (++{v} < {k}) }}"
        if node.kind == "forin":
            return f"for (var {v} in {{a: 1, b: 2}}) {loop()}"
        if node.kind == "forof":
            return f"for (var {v} of [1, 2]) {loop()}"
        if node.kind == "label":
            return (f"L{v}: for (var {v} = 0; {v} < {k}; {v}++) {{ {'m++; ' if self.marked else ''}"
                    f"if ({v} % 2) continue L{v};\n{self.block(body, True, counted=False)}\n}}")  # fmt: skip
        if node.kind == "if":
            return f"if (s % 2) {self.block(body, node.braced, False)}\nelse s -= 1;"
        function = "function ()" if node.kind == "iife" else "() =>"
        return f"void ({function} {self.block(body, True, counted=True)})();"

    def program(self, nodes: list[Node]) -> str:
        return (
            "var s = 0, m = 0;\n"
            + "\n".join(self.stmt(node) for node in nodes)
            + "\nresult = [s, m];"
        )


@given(st.lists(_nodes(3), min_size=1, max_size=4))
def test_generated_programs(nodes: list[Node]) -> None:
    plain = Renderer(marked=False).program(nodes)
    marked = run(Renderer(marked=True).program(nodes))
    instrumented = assert_same_behaviour(plain)
    assert instrumented.ticks == int(marked.result.strip("[]").split(",")[1])
    assert instrumented.result.split(",")[0] == marked.result.split(",")[0]
