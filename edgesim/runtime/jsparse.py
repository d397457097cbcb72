"""The tree-sitter JavaScript parser shared by the compatibility checker and the instrumenter.

Positions from tree-sitter are UTF-8 byte offsets, so callers parse and edit encoded bytes.
"""

from __future__ import annotations

import threading
from functools import cache

import tree_sitter_javascript
from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

_local = threading.local()


@cache
def language() -> Language:
    return Language(tree_sitter_javascript.language())


def parse(source: bytes) -> Tree:
    # A Parser holds mutable state, so each thread keeps its own; building one is cheap.
    parser: Parser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = Parser(language())
    return parser.parse(source)


@cache
def query(text: str) -> Query:
    """A compiled query; compiling costs far more than running, hence the cache."""
    return Query(language(), text)


def captures(compiled: Query, node: Node) -> dict[str, list[Node]]:
    return QueryCursor(compiled).captures(node)


def first_error(root: Node) -> Node | None:
    """The first ERROR or MISSING node in document order, or None when the source parses."""
    if not root.has_error:
        return None
    node = root
    while True:
        for child in node.children:
            if child.is_error or child.is_missing:
                return child
            if child.has_error:
                node = child
                break
        else:
            return node


def column(source: bytes, node: Node) -> int:
    """The 1-based column of ``node`` in characters (tree-sitter counts bytes)."""
    start = node.start_byte
    line_start = start - node.start_point.column
    return len(source[line_start:start].decode("utf-8", "replace")) + 1
