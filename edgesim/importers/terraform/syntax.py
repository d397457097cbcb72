"""python-hcl2's Lark tree: parsing a file or an expression, and reading its nodes.

python-hcl2 only parses (``${…}`` stays text in its dictionaries); edgesim evaluates the Lark
tree ``hcl2.api.parses_to_tree`` builds. These helpers parse (a syntax error is an
:class:`~edgesim.importers.terraform.values.EvalError` naming file and line) and read names,
lines, source text, function call arguments and the expression inside parentheses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hcl2.api import parses_to_tree
from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from edgesim.importers.terraform.values import EvalError


def parse_hcl(text: str, display: str) -> Tree[Any]:
    """The Lark tree of a whole file; a syntax error is an EvalError naming file and line."""
    try:
        return parses_to_tree(text)
    except UnexpectedInput as exc:
        line = getattr(exc, "line", 0)
        column = getattr(exc, "column", 0)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "syntax error"
        raise EvalError(f"syntax error at column {column}: {first}", f"{display}:{line}") from None
    except LarkError as exc:  # pragma: no cover - other parser failures
        raise EvalError(f"syntax error: {exc}", display) from None


_EXPR_CACHE: dict[str, Tree[Any]] = {}


def parse_expression(text: str) -> Tree[Any]:
    cached = _EXPR_CACHE.get(text)
    if cached is None:
        try:
            tree = parses_to_tree(f"x = (\n{text}\n)\n")
        except (UnexpectedInput, LarkError):
            raise EvalError(f"cannot parse the expression {text.strip()!r}") from None
        body = tree.children[0]
        attribute = next(c for c in body.children if isinstance(c, Tree) and c.data == "attribute")
        cached = trees(attribute.children)[-1]
        _EXPR_CACHE[text] = cached
    return cached


def trees(children: Sequence[Any]) -> list[Tree[Any]]:
    return [c for c in children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


def name_of(node: Tree[Any] | Token) -> str:
    """The text of an identifier, keyword or literal used as a name."""
    if isinstance(node, Token):
        return str(node)
    if node.data == "string":
        return "".join(str(part.children[0]) for part in trees(node.children))
    return str(node.children[0])


def line_of(node: Any) -> int:
    meta = getattr(node, "meta", None)
    if meta is not None and not getattr(meta, "empty", True):
        return int(meta.line)
    return int(getattr(node, "line", 0) or 0)


def source_text(node: Tree[Any], text: str) -> str:
    meta = node.meta
    if text and not meta.empty:
        return text[meta.start_pos : meta.end_pos]
    return ""


def is_bare_identifier(node: Tree[Any]) -> str | None:
    """``foo`` written as an object key or a type: its name; None for any other expression."""
    while node.data == "expr_term":
        inner = node.children
        if len(inner) != 1 or not isinstance(inner[0], Tree):
            return None
        node = inner[0]
    if node.data in ("identifier", "keyword"):
        return str(node.children[0])
    return None


def strip_expr(node: Tree[Any]) -> Tree[Any]:
    while node.data == "expr_term" and len(trees(node.children)) == 1:
        node = trees(node.children)[0]
    return node


def call_args(node: Tree[Any]) -> tuple[list[Tree[Any]], bool]:
    arguments = next(
        (c for c in node.children if isinstance(c, Tree) and c.data == "arguments"), None
    )
    if arguments is None:
        return [], False
    expand = any(isinstance(c, Token) and str(c) == "..." for c in arguments.children)
    return trees(arguments.children), expand
