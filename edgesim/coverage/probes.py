"""Coverage probes: counters inserted into a function's module body at load time.

The body (after the loader's rewrites) is parsed with tree-sitter, as deterministic mode's tick
instrumentation parses it (:mod:`edgesim.runtime.instrument`), and counters are inserted as
text on existing lines, so line numbers never move and the columns that do are put back by the
rewrite's :class:`~edgesim.runtime.positions.EditLayer`. What is counted:

* **statements**: ``C[i]++;`` before each statement (declarations of functions are not
  statements: they count as functions);
* **functions**: a counter at the start of every function body;
* **branches**: ``if`` (its ``then`` and ``else`` arms, an absent ``else`` included), ``? :``,
  ``switch`` (each case, and "no case" when there is no ``default``), and ``&&``, ``||``,
  ``??``: the right operand evaluated, or skipped (short-circuited). A skip is counted as the
  left operand's completions (``S(left, i)`` counts after the left operand has a value, so one
  that throws counts as neither) minus the right operand's evaluations.

Single statements in ``if``/``else``/loop bodies are wrapped in braces to hold their counters;
a statement body keeps its meaning in a block (the wrapper runs in strict mode, where a function
declaration cannot be such a body). The counters live in an array that the session installs as
a non-enumerable global (see :mod:`edgesim.coverage.session`); the body reads it once per
invocation into a local.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from edgesim.runtime import jsparse
from edgesim.runtime.instrument import Insertion, apply_insertions, directive_end, last_token

if TYPE_CHECKING:
    from tree_sitter import Node

    from edgesim.runtime.positions import EditLayer, PositionMap

GLOBAL = "__edgesim_cov"
COUNTS = "__edgesim_c"
AFTER = "__edgesim_s"
PREFIX = f"var {COUNTS} = {GLOBAL}.c, {AFTER} = {GLOBAL}.s;"

STATEMENTS = frozenset(
    {
        "expression_statement",
        "variable_declaration",
        "lexical_declaration",
        "class_declaration",
        "if_statement",
        "switch_statement",
        "for_statement",
        "for_in_statement",
        "while_statement",
        "do_statement",
        "try_statement",
        "return_statement",
        "throw_statement",
        "break_statement",
        "continue_statement",
        "labeled_statement",
        "debugger_statement",
    }
)
FUNCTIONS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "generator_function_declaration",
        "generator_function",
        "method_definition",
        "arrow_function",
    }
)
LOOPS = frozenset({"for_statement", "for_in_statement", "while_statement", "do_statement"})
LOGICAL = frozenset({"&&", "||", "??"})
# Opener sub-order at one offset, for one construct: its wrapper, then its own counter, then
# the counter of the statement it is.
WRAP, OWN, STATEMENT = 0, 1, 2


@dataclass(frozen=True)
class Arm:
    """One way through a branch: its count is ``count[plus] - count[minus]`` (no minus: -1)."""

    label: str
    plus: int
    minus: int = -1


@dataclass(frozen=True)
class Branch:
    line: int
    kind: str  # "if", "?:", "switch", "&&", "||", "??"
    arms: tuple[Arm, ...]
    column: int = 1  # where the construct starts: what a source map maps (1-based characters)


@dataclass(frozen=True)
class FunctionProbe:
    name: str
    line: int
    probe: int
    column: int = 1


@dataclass(frozen=True)
class ProbeTable:
    """Every counter of one function file, with its place in the file as written (lines and
    1-based character columns: a built file's source map needs both)."""

    size: int
    statements: tuple[tuple[int, int, int], ...]  # (line, column, probe)
    functions: tuple[FunctionProbe, ...]
    branches: tuple[Branch, ...]


class _Builder:
    def __init__(self, data: bytes, positions: PositionMap) -> None:
        self.data = data
        self.positions = positions
        self.insertions: list[Insertion] = []
        self.size = 0
        self.statements: list[tuple[int, int, int]] = []
        self.functions: list[FunctionProbe] = []
        self.branches: list[Branch] = []
        self.names: set[str] = set()
        self.wrapped: set[int] = set()  # start bytes of bodies wrapped in braces

    # -- helpers ------------------------------------------------------------------------------

    def where(self, node: Node) -> tuple[int, int]:
        """Where ``node`` starts in the file as written: (line, column)."""
        return self.positions.original(node.start_point.row + 1, jsparse.column(self.data, node))

    def line(self, node: Node) -> int:
        return self.where(node)[0]

    def branch(self, node: Node, kind: str, arms: tuple[Arm, ...]) -> None:
        line, column = self.where(node)
        self.branches.append(Branch(line, kind, arms, column))

    def probe(self) -> int:
        self.size += 1
        return self.size - 1

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def open(self, offset: int, node: Node, order: int, text: str) -> None:
        # Outer constructs (ending later) open first.
        self.insertions.append(Insertion(offset, (1, -node.end_byte, order), text.encode()))

    def close(self, node: Node, order: int, text: str) -> None:
        # Inner constructs (starting later) close first; at one node, its own suffix first.
        end = last_token(node).end_byte
        self.insertions.append(Insertion(end, (0, -node.start_byte, order), text.encode()))

    def count(self, probe: int) -> str:
        return f"{COUNTS}[{probe}]++;"

    # -- bodies -------------------------------------------------------------------------------

    def body_counter(self, body: Node, probe: int) -> None:
        """``probe`` counted on entering ``body`` (a statement): inside its block, or in braces
        wrapped around it."""
        if body.type == "statement_block":
            self.open(body.start_byte + 1, body, OWN, self.count(probe))
        else:
            self.wrap(body)
            self.open(body.start_byte, body, OWN, self.count(probe))

    def wrap(self, body: Node) -> None:
        """Braces around a single-statement body, which then gets its statement counter."""
        if body.type == "statement_block" or body.start_byte in self.wrapped:
            return
        self.wrapped.add(body.start_byte)
        self.open(body.start_byte, body, WRAP, "{")
        self.close(body, 1, "}")
        self.statement(body)

    def statement(self, node: Node) -> None:
        if node.type in STATEMENTS:
            probe = self.probe()
            self.statements.append((*self.where(node), probe))
            self.open(node.start_byte, node, STATEMENT, self.count(probe))

    def statements_of(self, nodes: list[Node], *, prologue: bool) -> None:
        for node in nodes:
            if prologue and _is_directive(node):
                continue
            if node.type != "comment":
                prologue = False
            self.statement(node)

    # -- constructs ---------------------------------------------------------------------------

    def visit(self, node: Node) -> None:
        kind = node.type
        if kind == "program":
            self.statements_of(node.named_children, prologue=True)
        elif kind == "statement_block":
            parent = node.parent
            prologue = parent is not None and parent.type in FUNCTIONS
            self.statements_of(node.named_children, prologue=prologue)
        elif kind in ("switch_case", "switch_default"):
            self.statements_of(node.children_by_field_name("body"), prologue=False)
        if kind in FUNCTIONS:
            self.function(node)
        elif kind == "if_statement":
            self.if_statement(node)
        elif kind == "ternary_expression":
            self.ternary(node)
        elif kind == "binary_expression":
            operator = node.child_by_field_name("operator")
            if operator is not None and operator.type in LOGICAL:
                self.logical(node, operator.type)
        elif kind == "switch_statement":
            self.switch(node)
        elif kind in LOOPS:
            body = node.child_by_field_name("body")
            if body is not None:
                self.wrap(body)

    def function(self, node: Node) -> None:
        body = node.child_by_field_name("body")
        if body is None:
            return
        probe = self.probe()
        line, column = self.where(node)
        self.functions.append(FunctionProbe(self.function_name(node), line, probe, column))
        if body.type != "statement_block":  # an arrow function's expression body
            self.open(body.start_byte, body, WRAP, f"({COUNTS}[{probe}]++, ")
            self.close(body, 1, ")")
            return
        directive = directive_end(body)
        if directive is None:
            self.open(body.start_byte + 1, body, OWN, self.count(probe))
        else:
            last = last_token(directive)
            prefix = "" if last.type == ";" else ";"
            self.open(last.end_byte, body, OWN, prefix + self.count(probe))

    def function_name(self, node: Node) -> str:
        name = node.child_by_field_name("name")
        parent = node.parent
        if name is None and parent is not None:
            if parent.type == "variable_declarator":
                name = parent.child_by_field_name("name")
            elif parent.type in ("assignment_expression", "augmented_assignment_expression"):
                name = parent.child_by_field_name("left")
            elif parent.type == "pair":
                name = parent.child_by_field_name("key")
        line = self.line(node)
        text = self.text(name) if name is not None else f"(anonymous_{line})"
        if text in self.names:
            text = f"{text}@{line}"
        self.names.add(text)
        return text

    def if_statement(self, node: Node) -> None:
        then, otherwise = self.probe(), self.probe()
        self.branch(node, "if", (Arm("then", then), Arm("else", otherwise)))
        consequence = node.child_by_field_name("consequence")
        if consequence is not None:
            self.body_counter(consequence, then)
        alternative = node.child_by_field_name("alternative")
        body = None
        if alternative is not None:
            named = [c for c in alternative.named_children if c.type != "comment"]
            body = named[0] if named else None
        if body is not None:
            self.body_counter(body, otherwise)
        else:
            self.close(node, 0, f" else {{{self.count(otherwise)}}}")

    def ternary(self, node: Node) -> None:
        arms = []
        for field, label in (("consequence", "then"), ("alternative", "else")):
            part = node.child_by_field_name(field)
            if part is None:
                return
            probe = self.probe()
            arms.append(Arm(label, probe))
            self.open(part.start_byte, part, WRAP, f"({COUNTS}[{probe}]++, ")
            self.close(part, 1, ")")
        self.branch(node, "?:", tuple(arms))

    def logical(self, node: Node, operator: str) -> None:
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if left is None or right is None:
            return
        done, evaluated = self.probe(), self.probe()
        self.open(left.start_byte, left, WRAP, f"{AFTER}(")
        self.close(left, 1, f", {done})")
        self.open(right.start_byte, right, WRAP, f"({COUNTS}[{evaluated}]++, ")
        self.close(right, 1, ")")
        arms = (Arm("right", evaluated), Arm("short", done, evaluated))
        self.branch(node, operator, arms)

    def switch(self, node: Node) -> None:
        body = node.child_by_field_name("body")
        if body is None:
            return
        arms = []
        cases = [c for c in body.named_children if c.type in ("switch_case", "switch_default")]
        for case in cases:
            colon = next((c for c in case.children if c.type == ":"), None)
            if colon is None:
                return
            probe = self.probe()
            if case.type == "switch_default":
                label = "default"
            else:
                value = case.child_by_field_name("value")
                label = "case " + _short(self.text(value) if value is not None else "?")
            arms.append(Arm(label, probe))
            self.open(colon.end_byte, case, OWN, self.count(probe))
        if not any(case.type == "switch_default" for case in cases):
            probe = self.probe()
            arms.append(Arm("no case", probe))
            # Falling off the last case leaves the switch, as before; only unmatched values
            # reach the added default.
            # (";" first: the last statement may end by ASI on this line.)
            text = ("; break;" if cases else "") + f" default: {self.count(probe)}"
            self.insertions.append(
                Insertion(body.end_byte - 1, (0, -node.start_byte, 0), text.encode())
            )
        self.branch(node, "switch", tuple(arms))


def _is_directive(node: Node) -> bool:
    if node.type != "expression_statement":
        return False
    parts = [child for child in node.named_children if child.type != "comment"]
    return len(parts) == 1 and parts[0].type == "string"


def _short(text: str, limit: int = 24) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def instrument_coverage(
    body: str, positions: PositionMap
) -> tuple[str, EditLayer, ProbeTable] | None:
    """``body`` with coverage counters, the layer back to ``body``'s positions, and the table
    of counters with their lines in the file as written (``positions`` maps ``body`` there).

    None when tree-sitter cannot parse the body (the engine then reports its own error, or the
    function runs unmeasured).
    """
    data = body.encode("utf-8")
    root = jsparse.parse(data).root_node
    if root.has_error:
        return None
    builder = _Builder(data, positions)
    stack = [root]
    while stack:  # iterative: deeply nested code must not exhaust Python's recursion limit
        node = stack.pop()
        builder.visit(node)
        stack.extend(reversed(node.named_children))
    builder.insertions.append(Insertion(0, (1, -(len(data) + 1), 0), PREFIX.encode()))
    text, layer = apply_insertions(body, data, builder.insertions)
    table = ProbeTable(
        size=builder.size,
        statements=tuple(builder.statements),
        functions=tuple(builder.functions),
        branches=tuple(builder.branches),
    )
    return text, layer, table
