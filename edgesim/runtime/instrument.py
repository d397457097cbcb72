"""Source instrumentation for deterministic compute accounting.

``instrument`` adds a tick call at the start of every function body and every loop body, so the
number of ticks measures work (calls and iterations) independently of the machine's speed. Edits
are insertions on existing lines only, never newlines, so line numbers in error messages still
point into the user's file; columns shift only on lines that received a tick, and
:func:`instrument_with_map` returns the layer that puts them back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from tree_sitter import Node

from edgesim.runtime import jsparse
from edgesim.runtime.positions import Edit, EditLayer, PositionMap, apply_edits

if TYPE_CHECKING:
    from edgesim.runtime.engine import JsSession
    from edgesim.runtime.source import FunctionSource

_QUERY = """
(function_declaration body: (statement_block) @block)
(function_expression body: (statement_block) @block)
(generator_function_declaration body: (statement_block) @block)
(generator_function body: (statement_block) @block)
(method_definition body: (statement_block) @block)
(arrow_function body: (statement_block) @block)
(arrow_function body: (_) @expression)
(for_statement body: (_) @loop)
(for_in_statement body: (_) @loop)
(while_statement body: (_) @loop)
(do_statement body: (_) @loop)
"""


@dataclass(frozen=True, order=True)
class Insertion:
    """Text to insert at a byte offset.

    Several insertions can share an offset where constructs end or start together; ``rank``
    orders them: closers before openers, the innermost construct (the one that started last)
    closing first, the outermost opening first.
    """

    offset: int
    rank: tuple[int, ...]
    text: bytes


def _opener(offset: int, text: bytes) -> Insertion:
    return Insertion(offset, (1, 0), text)


def _closer(node: Node, text: bytes) -> Insertion:
    return Insertion(last_token(node).end_byte, (0, -node.start_byte), text)


def last_token(node: Node) -> Node:
    """The node's last token that is not a comment.

    A statement ended by ASI owns the comment that follows it on its line, so inserting at its
    end_byte would land inside that comment.
    """
    while node.child_count:
        children = node.children
        index = len(children) - 1
        while index > 0 and children[index].type == "comment":
            index -= 1
        node = children[index]
    return node


_last_token = last_token


def directive_end(block: Node) -> Node | None:
    """The last statement of the block's directive prologue ('use strict' and the like)."""
    last = None
    for statement in block.named_children:
        if statement.type == "comment":
            continue
        parts = [child for child in statement.named_children if child.type != "comment"]
        if statement.type != "expression_statement" or len(parts) != 1 or parts[0].type != "string":
            break
        last = statement
    return last


def _block_tick(block: Node, tick: bytes) -> Insertion:
    directive = directive_end(block)
    if directive is None:
        return _opener(block.start_byte + 1, tick + b";")  # just after "{"
    # A directive without ";" ends by ASI; the explicit ";" keeps the tick out of the string.
    last = last_token(directive)
    prefix = b"" if last.type == ";" else b";"
    return _opener(last.end_byte, prefix + tick + b";")


def _wrap_loop_body(body: Node, tick: bytes) -> list[Insertion]:
    if body.type == "statement_block":
        return [_block_tick(body, tick)]
    # A braced copy of a single statement behaves the same; "}" also ends an ASI statement.
    return [_opener(body.start_byte, b"{" + tick + b"; "), _closer(body, b"}")]


def _wrap_arrow_expression(body: Node, tick: bytes) -> list[Insertion]:
    # The comma operator evaluates the tick, then yields the body's value unchanged.
    return [_opener(body.start_byte, b"(" + tick + b", "), _closer(body, b")")]


def _insertions(root: Node, tick: bytes) -> list[Insertion]:
    captured = jsparse.captures(jsparse.query(_QUERY), root)
    edits = [_block_tick(block, tick) for block in captured.get("block", ())]
    for body in captured.get("expression", ()):
        if body.type != "statement_block":
            edits += _wrap_arrow_expression(body, tick)
    for body in captured.get("loop", ()):
        edits += _wrap_loop_body(body, tick)
    return sorted(edits)


def instrument(source: str, tick: str = "__edgesim_tick()") -> str:
    """``source`` with ``tick;`` at the start of every function and loop body.

    ``tick`` is an expression; arrow functions with an expression body become ``(tick, body)``.

    Source that does not parse is returned unchanged, so the engine reports the syntax error at
    the user's own position.
    """
    return instrument_with_map(source, tick)[0]


def instrument_with_map(
    source: str, tick: str = "__edgesim_tick()"
) -> tuple[str, EditLayer | None]:
    """:func:`instrument`, and the layer from its positions back to ``source``'s (None when
    nothing was inserted)."""
    data = source.encode("utf-8")
    root = jsparse.parse(data).root_node
    if root.has_error:
        return source, None
    insertions = _insertions(root, tick.encode("utf-8"))
    if not insertions:
        return source, None
    return apply_insertions(source, data, insertions)


def apply_insertions(
    source: str, data: bytes, insertions: Sequence[Insertion]
) -> tuple[str, EditLayer]:
    """``source`` (``data`` is its UTF-8) with ``insertions`` made, in their sorted order, and
    the layer from the new text's positions back to ``source``'s."""
    ascii_only = len(data) == len(source)
    edits: list[Edit] = []
    chars = position = 0
    for insertion in sorted(insertions):
        # tree-sitter counts bytes; the map counts characters.
        if ascii_only:
            chars = insertion.offset
        else:
            chars += len(data[position : insertion.offset].decode("utf-8"))
            position = insertion.offset
        edits.append(Edit(chars, chars, insertion.text.decode("utf-8")))
    return apply_edits(source, edits)


class BodyInstrumenter(Protocol):
    """Something that rewrites a function's module body at load time (coverage does).

    Called with the source as written, the body the engine would run and the map from the
    body's positions to the source's. It answers None to leave the body alone, or the new body,
    the map extended with its own rewrite, and the factory of the sessions that run it (a
    :class:`~edgesim.runtime.engine.JsSession` or a subclass, called with JsSession's
    arguments). It must not change what the body does.
    """

    def __call__(
        self, source: FunctionSource, body: str, positions: PositionMap
    ) -> tuple[str, PositionMap, Callable[..., JsSession]] | None: ...
