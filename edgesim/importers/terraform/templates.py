"""Templates split into pieces: literal text, ``${…}`` interpolations, ``%{…}`` directives.

Quoted strings come from the Lark tree; heredoc and ``templatefile`` bodies (which python-hcl2
keeps as plain text) are split here. Strip markers (``~``) are applied and ``%{if}``/``%{for}``
directives nested; rendering the result is
:func:`edgesim.importers.terraform.expressions.render_template`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lark import Token, Tree

from edgesim.importers.terraform.syntax import name_of, parse_expression, trees
from edgesim.importers.terraform.values import EvalError


@dataclass
class Lit:
    text: str


@dataclass
class Interp:
    expr: Tree[Any]
    strip_left: bool = False
    strip_right: bool = False


@dataclass
class _Directive:
    kind: str  # if, else, endif, for, endfor
    expr: Tree[Any] | None = None
    names: tuple[str, ...] = ()
    strip_left: bool = False
    strip_right: bool = False


@dataclass
class If:
    cond: Tree[Any]
    then: list[Any]
    otherwise: list[Any]


@dataclass
class For:
    names: tuple[str, ...]
    collection: Tree[Any]
    body: list[Any]


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


_ESCAPE_RE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")


def unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        seq = match.group(1)
        if seq[0] in "uU" and len(seq) > 1:
            return chr(int(seq[1:], 16))
        if seq in _ESCAPES:
            return _ESCAPES[seq]
        raise EvalError(f"invalid escape sequence \\{seq}")

    return _ESCAPE_RE.sub(replace, text)


def quoted_pieces(node: Tree[Any]) -> list[Any]:
    pieces: list[Any] = []
    for part in trees(node.children):
        (child,) = part.children
        if isinstance(child, Token):
            if child.type == "STRING_CHARS":
                pieces.append(Lit(unescape(str(child))))
            else:  # $${ or %%{: the escaped form stands for itself minus one sigil
                pieces.append(Lit(str(child)[1:]))
            continue
        tokens = [str(t) for t in child.children if isinstance(t, Token)]
        exprs = trees(child.children)
        strip_left = len(tokens) > 1 and tokens[1] == "~"
        strip_right = len(tokens) > 1 and tokens[-2] == "~"
        if child.data == "interpolation":
            pieces.append(Interp(exprs[0]))
        elif child.data == "template_if_start":
            pieces.append(_Directive("if", exprs[-1], (), strip_left, strip_right))
        elif child.data == "template_for_start":
            names = tuple(name_of(t) for t in exprs if t.data == "identifier")
            collection = next(t for t in exprs if t.data != "identifier")
            pieces.append(_Directive("for", collection, names, strip_left, strip_right))
        else:
            kind = child.data.removeprefix("template_")
            pieces.append(_Directive(kind, None, (), strip_left, strip_right))
    return pieces


def _find_close(text: str, start: int) -> int:
    """Index of the ``}`` closing the interpolation/directive whose body starts at ``start``."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i += 1
            nested = 0
            while i < len(text):
                if text[i] == "\\":
                    i += 2
                    continue
                if text.startswith("${", i):
                    nested += 1
                    i += 2
                    continue
                if text[i] == "}" and nested:
                    nested -= 1
                elif text[i] == '"' and not nested:
                    break
                i += 1
        elif ch in "{[(":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    raise EvalError("unterminated template sequence")


_DIRECTIVE_RE = re.compile(
    r"^\s*(?:(if)\s+(?P<cond>.+)|(else)|(endif)|(endfor)|"
    r"(for)\s+(?P<n1>[A-Za-z_][\w-]*)\s*(?:,\s*(?P<n2>[A-Za-z_][\w-]*)\s*)?in\s+(?P<coll>.+))\s*$",
    re.DOTALL,
)


def template_pieces(text: str) -> list[Any]:
    """Pieces of a heredoc or templatefile body (python-hcl2 keeps these as plain text)."""
    pieces: list[Any] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith(("$${", "%%{"), i):
            literal.append(text[i + 1 : i + 3])
            i += 3
            continue
        if text.startswith(("${", "%{"), i):
            is_directive = text[i] == "%"
            close = _find_close(text, i + 2)
            inner = text[i + 2 : close]
            strip_left = inner.startswith("~")
            strip_right = inner.endswith("~")
            inner = inner[1 if strip_left else 0 : len(inner) - 1 if strip_right else len(inner)]
            if literal:
                pieces.append(Lit("".join(literal)))
                literal = []
            if not is_directive:
                pieces.append(Interp(parse_expression(inner), strip_left, strip_right))
            else:
                match = _DIRECTIVE_RE.match(inner)
                if match is None:
                    raise EvalError(f"invalid template directive %{{{inner}}}")
                if match.group(1):
                    expr: Tree[Any] | None = parse_expression(match.group("cond"))
                    pieces.append(_Directive("if", expr, (), strip_left, strip_right))
                elif match.group(6):
                    names = tuple(n for n in (match.group("n1"), match.group("n2")) if n)
                    expr = parse_expression(match.group("coll"))
                    pieces.append(_Directive("for", expr, names, strip_left, strip_right))
                else:
                    kind = match.group(3) or match.group(4) or match.group(5)
                    pieces.append(_Directive(kind, None, (), strip_left, strip_right))
            i = close + 1
            continue
        literal.append(text[i])
        i += 1
    if literal:
        pieces.append(Lit("".join(literal)))
    return pieces


def strip_and_nest(pieces: list[Any]) -> list[Any]:
    flat = [Lit(p.text) if isinstance(p, Lit) else p for p in pieces]
    for index, piece in enumerate(flat):
        if isinstance(piece, Interp | _Directive):
            if piece.strip_left and index > 0 and isinstance(flat[index - 1], Lit):
                flat[index - 1].text = flat[index - 1].text.rstrip()
            if piece.strip_right and index + 1 < len(flat) and isinstance(flat[index + 1], Lit):
                flat[index + 1].text = flat[index + 1].text.lstrip()
    root: list[Any] = []
    stack: list[tuple[Any, list[Any]]] = [(None, root)]
    for piece in flat:
        if not isinstance(piece, _Directive):
            stack[-1][1].append(piece)
        elif piece.kind == "if":
            assert piece.expr is not None
            node: Any = If(piece.expr, [], [])
            stack[-1][1].append(node)
            stack.append((node, node.then))
        elif piece.kind == "else":
            if not isinstance(stack[-1][0], If):
                raise EvalError("%{else} without %{if}")
            stack[-1] = (stack[-1][0], stack[-1][0].otherwise)
        elif piece.kind == "endif":
            if not isinstance(stack[-1][0], If):
                raise EvalError("%{endif} without %{if}")
            stack.pop()
        elif piece.kind == "for":
            assert piece.expr is not None
            node = For(piece.names, piece.expr, [])
            stack[-1][1].append(node)
            stack.append((node, node.body))
        else:  # endfor
            if not isinstance(stack[-1][0], For):
                raise EvalError("%{endfor} without %{for}")
            stack.pop()
    if len(stack) != 1:
        raise EvalError("a template directive is not closed")
    return root


_HEREDOC_RE = re.compile(r"<<(-?)([A-Za-z][\w.-]*)\r?\n(.*?)^[ \t]*\2\r?\n?\Z", re.S | re.M)


def heredoc_body(token: str) -> str:
    match = _HEREDOC_RE.match(token)
    if match is None:  # pragma: no cover - the grammar only produces matching tokens
        raise EvalError("malformed heredoc")
    body = match.group(3)
    if match.group(1):
        lines = body.splitlines(keepends=True)
        indents = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip()]
        cut = min(indents, default=0)
        body = "".join(ln[cut:] if ln.strip() else ln.lstrip(" \t") for ln in lines)
    return body
