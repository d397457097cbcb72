"""Terraform's expression language, evaluated from python-hcl2's raw Lark tree.

python-hcl2 only parses: ``${…}`` stays text in its dictionaries. This module walks the Lark
tree it builds (``hcl2.api.parses_to_tree``) and computes values the way Terraform does for the
constructs distributions are written with: literals, templates (quoted, heredoc, directives),
operators, conditionals, ``for`` expressions, splats, indexing, the common built-in functions
and variable type constraints with ``optional()`` defaults.

Names (``var.x``, ``local.y``, resources, modules) are resolved by a :class:`Resolver` that the
Terraform front-end supplies. A value that cannot be known here (a computed attribute, a variable
without a value, a function edgesim does not evaluate) is an :class:`Unknown`: it flows through
expressions like Terraform's unknown values do, and the front-end decides whether it matters.
Errors Terraform itself would report (a missing file, an index out of range, a bad type) raise
:class:`EvalError`, located at the expression that failed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hcl2.api import parses_to_tree
from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------


class Unknown:
    """A value edgesim cannot know: ``ref`` is what it stands for, ``reason`` why it is unknown."""

    __slots__ = ("reason", "ref")

    def __init__(self, ref: str, reason: str) -> None:
        self.ref = ref
        self.reason = reason

    def __repr__(self) -> str:
        return f"Unknown({self.ref!r}, {self.reason!r})"

    def describe(self) -> str:
        return f"cannot resolve {self.ref} ({self.reason})"


class TfSet(list[Any]):
    """A Terraform set: a list whose for_each keys are its elements."""


class FileText(str):
    """The text ``file()`` read, remembering the file (a function keeps it for hot reload)."""

    path: Path

    def __new__(cls, text: str, path: Path) -> FileText:
        value = super().__new__(cls, text)
        value.path = path
        return value


class Attributes(Protocol):
    """An object whose attributes are computed on access (a resource or module instance)."""

    def tf_attr(self, name: str) -> Any: ...

    def tf_ref(self) -> str: ...


class EvalError(Exception):
    """An expression Terraform would refuse too. ``where`` is ``file:line`` once located."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass(frozen=True)
class Source:
    """A file that expressions come from: ``display`` is how messages name it."""

    path: Path
    display: str
    line_offset: int = 0  # for expressions parsed out of a template body


Step = tuple[str, Any]  # ("attr", name) or ("index", key value)


class Resolver(Protocol):
    root_dir: Path

    def resolve(self, root: str, steps: Sequence[Step], scope: Scope) -> tuple[Any, int]:
        """The value of a traversal rooted at ``root``; returns it and how many steps it used."""
        ...

    def path_value(self, name: str) -> Any: ...

    def read_file(self, name: str) -> tuple[Path, bytes]: ...


@dataclass
class Scope:
    resolver: Resolver
    src: Source
    bindings: dict[str, Any] = field(default_factory=dict)
    text: str = ""  # the file's text, to quote expressions

    def child(self, **bindings: Any) -> Scope:
        return Scope(self.resolver, self.src, {**self.bindings, **bindings}, self.text)


def is_known(value: Any) -> bool:
    return first_unknown(value) is None


def first_unknown(value: Any) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, list):
        for item in value:
            found = first_unknown(item)
            if found is not None:
                return found
    elif isinstance(value, dict):
        for item in value.values():
            found = first_unknown(item)
            if found is not None:
                return found
    return None


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, TfSet):
        return "set"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "resource" if hasattr(value, "tf_attr") else type(value).__name__


def _num(value: float) -> int | float:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def format_number(value: int | float) -> str:
    value = _num(value)
    if isinstance(value, int):
        return str(value)
    if math.isinf(value) or math.isnan(value):
        raise EvalError(f"cannot convert {value} to string")
    text = repr(value)
    return text


def to_string(value: Any, what: str = "value") -> Any:
    if isinstance(value, str | Unknown) or value is None:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    raise EvalError(f"{what}: a string is required, not {type_name(value)}")


def to_number(value: Any, what: str = "value") -> Any:
    if isinstance(value, bool):
        raise EvalError(f"{what}: a number is required, not bool")
    if isinstance(value, int | float | Unknown) or value is None:
        return value
    if isinstance(value, str):
        try:
            return _num(int(value)) if re.fullmatch(r"-?\d+", value) else _num(float(value))
        except ValueError:
            pass
        raise EvalError(f"{what}: {value!r} is not a number")
    raise EvalError(f"{what}: a number is required, not {type_name(value)}")


def to_bool(value: Any, what: str = "value") -> Any:
    if isinstance(value, bool | Unknown) or value is None:
        return value
    if value in ("true", "false"):
        return value == "true"
    raise EvalError(f"{what}: a bool is required, not {type_name(value)}")


def iterate(collection: Any, what: str) -> list[tuple[Any, Any]]:
    """(key, value) pairs in Terraform's order: list index, sorted map keys, set elements."""
    if isinstance(collection, TfSet):
        return [(item, item) for item in collection]
    if isinstance(collection, list):
        return list(enumerate(collection))
    if isinstance(collection, dict):
        return [(key, collection[key]) for key in sorted(collection)]
    raise EvalError(f"{what}: cannot iterate over {type_name(collection)}")


def make_set(items: Sequence[Any]) -> TfSet:
    unique: list[Any] = []
    for item in items:
        if not any(tf_equal(item, seen) is True for seen in unique):
            unique.append(item)
    if all(isinstance(item, str) for item in unique) or all(
        isinstance(item, int | float) and not isinstance(item, bool) for item in unique
    ):
        unique.sort()
    return TfSet(unique)


def tf_equal(left: Any, right: Any) -> Any:
    if isinstance(left, Unknown):
        return left
    if isinstance(right, Unknown):
        return right
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return False
        for a, b in zip(left, right, strict=True):
            same = tf_equal(a, b)
            if same is not True:
                return same
        return True
    if isinstance(left, dict) and isinstance(right, dict):
        if set(left) != set(right):
            return False
        for key in left:
            same = tf_equal(left[key], right[key])
            if same is not True:
                return same
        return True
    if isinstance(left, str) and isinstance(right, str):
        return str(left) == str(right)
    return type(left) is type(right) and left == right


# ---------------------------------------------------------------------------------------------
# Attribute access and indexing
# ---------------------------------------------------------------------------------------------


def get_attr(value: Any, name: str) -> Any:
    if isinstance(value, Unknown):
        return value
    if value is None:
        raise EvalError(f'cannot read attribute "{name}" of a null value')
    if isinstance(value, dict):
        if name in value:
            return value[name]
        raise EvalError(f'this object has no attribute "{name}"')
    if hasattr(value, "tf_attr"):
        return value.tf_attr(name)
    raise EvalError(f'cannot read attribute "{name}" of a {type_name(value)}')


def get_index(value: Any, key: Any) -> Any:
    if isinstance(value, Unknown):
        return value
    if isinstance(key, Unknown):
        return Unknown(key.ref, key.reason)
    if value is None:
        raise EvalError("cannot index a null value")
    if key is None:
        raise EvalError("cannot index with a null key")
    if isinstance(value, TfSet):
        raise EvalError("elements of a set cannot be indexed (use tolist or a for expression)")
    if isinstance(value, list):
        index = to_number(key, "index")
        if not isinstance(index, int) or not 0 <= index < len(value):
            raise EvalError(f"index {format_number(index)} is out of range for {len(value)} items")
        return value[index]
    if isinstance(value, dict):
        name = to_string(key, "key")
        if name in value:
            return value[name]
        raise EvalError(f'no element with key "{name}"')
    if hasattr(value, "tf_attr"):
        return value.tf_attr(to_string(key, "key"))
    raise EvalError(f"cannot index a {type_name(value)}")


def apply_steps(value: Any, steps: Sequence[Step]) -> Any:
    for kind, arg in steps:
        value = get_attr(value, arg) if kind == "attr" else get_index(value, arg)
    return value


# ---------------------------------------------------------------------------------------------
# Parsing helpers
# ---------------------------------------------------------------------------------------------


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
        cached = _trees(attribute.children)[-1]
        _EXPR_CACHE[text] = cached
    return cached


def _trees(children: Sequence[Any]) -> list[Tree[Any]]:
    return [c for c in children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


def name_of(node: Tree[Any] | Token) -> str:
    """The text of an identifier, keyword or literal used as a name."""
    if isinstance(node, Token):
        return str(node)
    if node.data == "string":
        return "".join(str(part.children[0]) for part in _trees(node.children))
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


# ---------------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------------


@dataclass
class _Lit:
    text: str


@dataclass
class _Interp:
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
class _If:
    cond: Tree[Any]
    then: list[Any]
    otherwise: list[Any]


@dataclass
class _For:
    names: tuple[str, ...]
    collection: Tree[Any]
    body: list[Any]


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_ESCAPE_RE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        seq = match.group(1)
        if seq[0] in "uU" and len(seq) > 1:
            return chr(int(seq[1:], 16))
        if seq in _ESCAPES:
            return _ESCAPES[seq]
        raise EvalError(f"invalid escape sequence \\{seq}")

    return _ESCAPE_RE.sub(replace, text)


def _quoted_pieces(node: Tree[Any]) -> list[Any]:
    pieces: list[Any] = []
    for part in _trees(node.children):
        (child,) = part.children
        if isinstance(child, Token):
            if child.type == "STRING_CHARS":
                pieces.append(_Lit(_unescape(str(child))))
            else:  # $${ or %%{: the escaped form stands for itself minus one sigil
                pieces.append(_Lit(str(child)[1:]))
            continue
        tokens = [str(t) for t in child.children if isinstance(t, Token)]
        exprs = _trees(child.children)
        strip_left = len(tokens) > 1 and tokens[1] == "~"
        strip_right = len(tokens) > 1 and tokens[-2] == "~"
        if child.data == "interpolation":
            pieces.append(_Interp(exprs[0]))
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
                pieces.append(_Lit("".join(literal)))
                literal = []
            if not is_directive:
                pieces.append(_Interp(parse_expression(inner), strip_left, strip_right))
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
        pieces.append(_Lit("".join(literal)))
    return pieces


def _strip_and_nest(pieces: list[Any]) -> list[Any]:
    flat = [_Lit(p.text) if isinstance(p, _Lit) else p for p in pieces]
    for index, piece in enumerate(flat):
        if isinstance(piece, _Interp | _Directive):
            if piece.strip_left and index > 0 and isinstance(flat[index - 1], _Lit):
                flat[index - 1].text = flat[index - 1].text.rstrip()
            if piece.strip_right and index + 1 < len(flat) and isinstance(flat[index + 1], _Lit):
                flat[index + 1].text = flat[index + 1].text.lstrip()
    root: list[Any] = []
    stack: list[tuple[Any, list[Any]]] = [(None, root)]
    for piece in flat:
        if not isinstance(piece, _Directive):
            stack[-1][1].append(piece)
        elif piece.kind == "if":
            assert piece.expr is not None
            node: Any = _If(piece.expr, [], [])
            stack[-1][1].append(node)
            stack.append((node, node.then))
        elif piece.kind == "else":
            if not isinstance(stack[-1][0], _If):
                raise EvalError("%{else} without %{if}")
            stack[-1] = (stack[-1][0], stack[-1][0].otherwise)
        elif piece.kind == "endif":
            if not isinstance(stack[-1][0], _If):
                raise EvalError("%{endif} without %{if}")
            stack.pop()
        elif piece.kind == "for":
            assert piece.expr is not None
            node = _For(piece.names, piece.expr, [])
            stack[-1][1].append(node)
            stack.append((node, node.body))
        else:  # endfor
            if not isinstance(stack[-1][0], _For):
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


# ---------------------------------------------------------------------------------------------
# Type constraints
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TfType:
    kind: str  # any string number bool list set map tuple object
    elem: TfType | None = None
    attrs: tuple[tuple[str, TfType, bool, Any], ...] = ()  # name, type, optional, default
    elems: tuple[TfType, ...] = ()


ANY = TfType("any")


def parse_type(node: Tree[Any], scope: Scope) -> TfType:
    name = is_bare_identifier(node)
    if name is not None:
        if name in ("any", "string", "number", "bool"):
            return TfType(name)
        if name in ("list", "map", "set"):  # Terraform 0.11 spelling: any element type
            return TfType(name, elem=ANY)
        raise EvalError(f"unknown type {name}")
    inner = node
    while inner.data == "expr_term" and len(_trees(inner.children)) == 1:
        inner = _trees(inner.children)[0]
    if inner.data != "function_call":
        raise EvalError("invalid type constraint")
    fname = name_of(_trees(inner.children)[0])
    args = _call_args(inner)[0]
    if fname in ("list", "set", "map") and len(args) == 1:
        return TfType(fname, elem=parse_type(args[0], scope))
    if fname == "tuple" and len(args) == 1:
        items = _trees(_strip_expr(args[0]).children)
        return TfType("tuple", elems=tuple(parse_type(item, scope) for item in items))
    if fname == "object" and len(args) == 1:
        attrs = []
        obj = _strip_expr(args[0])
        for elem in _trees(obj.children):
            key_node, value_node = _trees(elem.children)
            key = is_bare_identifier(_trees(key_node.children)[0]) or name_of(
                _strip_expr(_trees(key_node.children)[0])
            )
            attrs.append(_optional_attr(key, value_node, scope))
        return TfType("object", attrs=tuple(attrs))
    raise EvalError(f"invalid type constraint {fname}()")


def _optional_attr(key: str, node: Tree[Any], scope: Scope) -> tuple[str, TfType, bool, Any]:
    inner = _strip_expr(node)
    if inner.data == "function_call" and name_of(_trees(inner.children)[0]) == "optional":
        args = _call_args(inner)[0]
        attr_type = parse_type(args[0], scope)
        default = evaluate(args[1], scope) if len(args) > 1 else None
        if default is not None:
            default = convert(default, attr_type, f"default of {key}")
        return (key, attr_type, True, default)
    return (key, parse_type(node, scope), False, None)


def _strip_expr(node: Tree[Any]) -> Tree[Any]:
    while node.data == "expr_term" and len(_trees(node.children)) == 1:
        node = _trees(node.children)[0]
    return node


def convert(value: Any, tf_type: TfType, what: str) -> Any:
    """``value`` converted to ``tf_type`` as Terraform converts variable values."""
    kind = tf_type.kind
    if value is None or isinstance(value, Unknown) or kind == "any":
        return value
    if kind == "string":
        if isinstance(value, list | dict):
            raise EvalError(f"{what}: a string is required, not {type_name(value)}")
        return to_string(value, what)
    if kind == "number":
        return to_number(value, what)
    if kind == "bool":
        return to_bool(value, what)
    if kind in ("list", "set"):
        assert tf_type.elem is not None
        if not isinstance(value, list):
            raise EvalError(f"{what}: a {kind} is required, not {type_name(value)}")
        items = [convert(v, tf_type.elem, f"{what}[{i}]") for i, v in enumerate(value)]
        return make_set(items) if kind == "set" else items
    if kind == "tuple":
        if not isinstance(value, list) or len(value) != len(tf_type.elems):
            raise EvalError(f"{what}: a tuple of {len(tf_type.elems)} elements is required")
        return [
            convert(v, t, f"{what}[{i}]")
            for i, (v, t) in enumerate(zip(value, tf_type.elems, strict=True))
        ]
    if kind == "map":
        assert tf_type.elem is not None
        if not isinstance(value, dict):
            raise EvalError(f"{what}: a map is required, not {type_name(value)}")
        return {k: convert(v, tf_type.elem, f'{what}["{k}"]') for k, v in value.items()}
    # object
    if not isinstance(value, dict):
        raise EvalError(f"{what}: an object is required, not {type_name(value)}")
    result: dict[str, Any] = {}
    for name, attr_type, optional, default in tf_type.attrs:
        given = value.get(name)
        if given is None:
            if name not in value and not optional:
                raise EvalError(f'{what}: attribute "{name}" is required')
            result[name] = default if optional else None
        else:
            result[name] = convert(given, attr_type, f"{what}.{name}")
    return result


# ---------------------------------------------------------------------------------------------
# Expression evaluation
# ---------------------------------------------------------------------------------------------


def evaluate(node: Tree[Any], scope: Scope) -> Any:
    """The value of ``node``; an EvalError is located at the innermost failing expression."""
    try:
        return _eval(node, scope)
    except EvalError as exc:
        if not exc.where:
            exc.where = f"{scope.src.display}:{line_of(node) + scope.src.line_offset}"
        raise


def _eval(node: Tree[Any], scope: Scope) -> Any:
    handler = _HANDLERS.get(node.data)
    if handler is None:
        raise EvalError(f"unsupported expression ({node.data})")
    return handler(node, scope)


def _eval_expr_term(node: Tree[Any], scope: Scope) -> Any:
    children = _trees(node.children)
    if len(children) != 1:  # pragma: no cover - grammar guarantees one
        raise EvalError("malformed expression")
    child = children[0]
    if child.data == "identifier":
        return _traversal(child, [], scope)
    return evaluate(child, scope)


def _eval_literal(node: Tree[Any], scope: Scope) -> Any:
    word = str(node.children[0])
    return {"true": True, "false": False, "null": None}[word]


def _eval_int(node: Tree[Any], scope: Scope) -> Any:
    return int(str(node.children[0]))


def _eval_float(node: Tree[Any], scope: Scope) -> Any:
    return _num(float(str(node.children[0])))


def _eval_string(node: Tree[Any], scope: Scope) -> Any:
    return render_template(_quoted_pieces(node), scope)


def _eval_heredoc(node: Tree[Any], scope: Scope) -> Any:
    body = heredoc_body(str(node.children[0]))
    sub = Scope(
        scope.resolver,
        Source(scope.src.path, scope.src.display, scope.src.line_offset + line_of(node)),
        scope.bindings,
        "",
    )
    return render_template(template_pieces(body), sub)


def _eval_template_string(node: Tree[Any], scope: Scope) -> Any:
    token = str(node.children[0])
    return _unescape(token[2:-2])


def render_template(pieces: list[Any], scope: Scope) -> Any:
    nested = _strip_and_nest(pieces)
    if len(nested) == 1 and isinstance(nested[0], _Interp):
        return evaluate(nested[0].expr, scope)
    out: list[str] = []
    unknown = _render_into(nested, scope, out)
    if unknown is not None:
        return unknown
    return "".join(out)


def _render_into(nodes: list[Any], scope: Scope, out: list[str]) -> Unknown | None:
    for node in nodes:
        if isinstance(node, _Lit):
            out.append(node.text)
        elif isinstance(node, _Interp):
            value = evaluate(node.expr, scope)
            if isinstance(value, Unknown):
                return value
            if value is None:
                raise EvalError("a template cannot interpolate a null value")
            if isinstance(value, list | dict) or hasattr(value, "tf_attr"):
                raise EvalError(f"a template cannot interpolate a {type_name(value)}")
            out.append(to_string(value))
        elif isinstance(node, _If):
            cond = to_bool(evaluate(node.cond, scope), "template condition")
            if isinstance(cond, Unknown):
                return cond
            if cond is None:
                raise EvalError("a template condition is null")
            found = _render_into(node.then if cond else node.otherwise, scope, out)
            if found is not None:
                return found
        else:
            collection = evaluate(node.collection, scope)
            if isinstance(collection, Unknown):
                return collection
            for key, value in iterate(collection, "template for"):
                names = node.names
                bindings = (
                    {names[0]: key, names[1]: value} if len(names) == 2 else {names[0]: value}
                )
                found = _render_into(node.body, scope.child(**bindings), out)
                if found is not None:
                    return found
    return None


def _eval_tuple(node: Tree[Any], scope: Scope) -> Any:
    return [evaluate(child, scope) for child in _trees(node.children)]


def _eval_object(node: Tree[Any], scope: Scope) -> Any:
    result: dict[str, Any] = {}
    for elem in _trees(node.children):
        key_node, value_node = _trees(elem.children)
        key_expr = _trees(key_node.children)[0]
        name = is_bare_identifier(key_expr)
        if name is None:
            key = evaluate(key_expr, scope)
            if isinstance(key, Unknown):
                return key
            key_text = to_string(key, "object key")
            if key_text is None:
                raise EvalError("an object key cannot be null")
            name = key_text
        result[name] = evaluate(value_node, scope)
    return result


def _eval_conditional(node: Tree[Any], scope: Scope) -> Any:
    cond_node, then_node, else_node = _trees(node.children)
    cond = to_bool(evaluate(cond_node, scope), "condition")
    if isinstance(cond, Unknown):
        return cond
    if cond is None:
        raise EvalError("the condition is null")
    return evaluate(then_node if cond else else_node, scope)


def _eval_unary(node: Tree[Any], scope: Scope) -> Any:
    operator = str(node.children[0])
    value = evaluate(_trees(node.children)[0], scope)
    if isinstance(value, Unknown):
        return value
    if operator == "!":
        flag = to_bool(value, "operand of !")
        if flag is None:
            raise EvalError("operand of ! is null")
        return not flag
    number = to_number(value, "operand of -")
    if number is None:
        raise EvalError("operand of - is null")
    return -number


def _eval_binary(node: Tree[Any], scope: Scope) -> Any:
    left_node, term = _trees(node.children)[:2]
    op_node, right_node = _trees(term.children)
    operator = str(op_node.children[0])
    left = evaluate(left_node, scope)
    if operator in ("&&", "||"):
        flag = to_bool(left, f"left operand of {operator}")
        if isinstance(flag, bool) and flag == (operator == "||"):
            return flag
        right = to_bool(evaluate(right_node, scope), f"right operand of {operator}")
        if isinstance(flag, Unknown):
            return flag
        if isinstance(right, Unknown):
            return right
        if flag is None or right is None:
            raise EvalError(f"an operand of {operator} is null")
        return right
    right = evaluate(right_node, scope)
    if operator == "==":
        return tf_equal(left, right)
    if operator == "!=":
        same = tf_equal(left, right)
        return same if isinstance(same, Unknown) else not same
    for side in (left, right):
        if isinstance(side, Unknown):
            return side
    a = to_number(left, f"left operand of {operator}")
    b = to_number(right, f"right operand of {operator}")
    if a is None or b is None:
        raise EvalError(f"an operand of {operator} is null")
    if operator == "+":
        return _num(a + b)
    if operator == "-":
        return _num(a - b)
    if operator == "*":
        return _num(a * b)
    if operator in ("/", "%"):
        if b == 0:
            raise EvalError("division by zero")
        return _num(a / b) if operator == "/" else _num(math.fmod(a, b))
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[operator]


def _flatten(node: Tree[Any]) -> tuple[Tree[Any], list[tuple[str, Any]]]:
    steps: list[tuple[str, Any]] = []
    while True:
        if node.data == "expr_term":
            inner = _trees(node.children)
            if len(node.children) == 1 and len(inner) == 1:
                node = inner[0]
                continue
            break
        if node.data == "get_attr_expr_term":
            source, accessor = node.children
            steps.append(("attr", name_of(_trees(accessor.children)[0])))
            node = source
            continue
        if node.data == "index_expr_term":
            source, accessor = node.children
            steps.append(("index", accessor))
            node = source
            continue
        break
    steps.reverse()
    return node, steps


def _eval_index_key(accessor: Tree[Any], scope: Scope) -> Any:
    if accessor.data == "short_index":
        return int(str(accessor.children[-1]))
    return evaluate(_trees(accessor.children)[0], scope)


def _eval_traversal(node: Tree[Any], scope: Scope) -> Any:
    root, raw_steps = _flatten(node)
    if root.data != "identifier":
        value = evaluate(root, scope)
        steps = [(k, a if k == "attr" else _eval_index_key(a, scope)) for k, a in raw_steps]
        return apply_steps(value, steps)
    return _traversal(root, raw_steps, scope)


def _traversal(root: Tree[Any], raw_steps: list[tuple[str, Any]], scope: Scope) -> Any:
    name = str(root.children[0])
    steps: list[Step] = [(k, a if k == "attr" else _eval_index_key(a, scope)) for k, a in raw_steps]
    if name in scope.bindings:
        return apply_steps(scope.bindings[name], steps)
    value, used = scope.resolver.resolve(name, steps, scope)
    return apply_steps(value, steps[used:])


def _eval_splat(node: Tree[Any], scope: Scope) -> Any:
    source, splat = node.children
    value = evaluate(source, scope)
    if isinstance(value, Unknown):
        return value
    accessors = [c for c in splat.children if isinstance(c, Tree)]
    steps: list[Step] = []
    for accessor in accessors:
        if accessor.data == "get_attr":
            steps.append(("attr", name_of(_trees(accessor.children)[0])))
        else:
            steps.append(("index", _eval_index_key(accessor, scope)))
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [apply_steps(item, steps) for item in items]


def _for_parts(node: Tree[Any]) -> tuple[tuple[str, ...], Tree[Any], list[Tree[Any]], Any]:
    intro = next(c for c in node.children if isinstance(c, Tree) and c.data == "for_intro")
    names = tuple(name_of(c) for c in _trees(intro.children) if c.data == "identifier")
    collection = next(c for c in _trees(intro.children) if c.data != "identifier")
    cond_tree = next(
        (c for c in node.children if isinstance(c, Tree) and c.data == "for_cond"), None
    )
    cond = _trees(cond_tree.children)[0] if cond_tree is not None else None
    exprs = [c for c in _trees(node.children) if c.data not in ("for_intro", "for_cond")]
    return names, collection, exprs, cond


def _for_items(node: Tree[Any], scope: Scope) -> Iterator[tuple[Scope, list[Tree[Any]]]] | Unknown:
    names, collection_node, exprs, cond = _for_parts(node)
    collection = evaluate(collection_node, scope)
    if isinstance(collection, Unknown):
        return collection
    if collection is None:
        raise EvalError("a for expression cannot iterate over null")

    def items() -> Iterator[tuple[Scope, list[Tree[Any]]]]:
        for key, value in iterate(collection, "for expression"):
            bindings = {names[0]: key, names[1]: value} if len(names) == 2 else {names[0]: value}
            inner = scope.child(**bindings)
            if cond is not None:
                keep = to_bool(evaluate(cond, inner), "for condition")
                if isinstance(keep, Unknown):
                    raise _UnknownResult(keep)
                if not keep:
                    continue
            yield inner, exprs

    return items()


class _UnknownResult(Exception):
    def __init__(self, value: Unknown) -> None:
        self.value = value


def _eval_for_tuple(node: Tree[Any], scope: Scope) -> Any:
    items = _for_items(node, scope)
    if isinstance(items, Unknown):
        return items
    try:
        return [evaluate(exprs[0], inner) for inner, exprs in items]
    except _UnknownResult as unknown:
        return unknown.value


def _eval_for_object(node: Tree[Any], scope: Scope) -> Any:
    items = _for_items(node, scope)
    if isinstance(items, Unknown):
        return items
    grouping = any(isinstance(c, Token) and str(c) == "..." for c in node.children)
    result: dict[str, Any] = {}
    try:
        for inner, exprs in items:
            key = evaluate(exprs[0], inner)
            if isinstance(key, Unknown):
                return key
            key_text = to_string(key, "for expression key")
            value = evaluate(exprs[1], inner)
            if grouping:
                result.setdefault(key_text, []).append(value)
            elif key_text in result:
                raise EvalError(f'duplicate key "{key_text}" in a for expression (use ...)')
            else:
                result[key_text] = value
    except _UnknownResult as unknown:
        return unknown.value
    return result


def _call_args(node: Tree[Any]) -> tuple[list[Tree[Any]], bool]:
    arguments = next(
        (c for c in node.children if isinstance(c, Tree) and c.data == "arguments"), None
    )
    if arguments is None:
        return [], False
    expand = any(isinstance(c, Token) and str(c) == "..." for c in arguments.children)
    return _trees(arguments.children), expand


def _eval_call(node: Tree[Any], scope: Scope) -> Any:
    identifiers = [c for c in node.children if isinstance(c, Tree) and c.data == "identifier"]
    name = "::".join(name_of(i) for i in identifiers)
    arg_nodes, expand = _call_args(node)
    if name in ("try", "can"):
        return _try_can(name, arg_nodes, scope)
    if len(identifiers) > 1:
        return Unknown(f"{name}(…)", "provider functions are not evaluated by edgesim")
    args = [evaluate(arg, scope) for arg in arg_nodes]
    if expand:
        last = args.pop() if args else None
        if isinstance(last, Unknown):
            return last
        if not isinstance(last, list):
            raise EvalError(f"{name}: the argument expanded with ... must be a list")
        args.extend(last)
    function = FUNCTIONS.get(name)
    if function is None:
        return Unknown(f"{name}(…)", f"the function {name} is not evaluated by edgesim")
    if name not in _UNKNOWN_AWARE:
        for arg in args:
            if isinstance(arg, Unknown):
                return arg
    try:
        return function(scope, *args)
    except TypeError as exc:
        if "positional argument" in str(exc) or "required" in str(exc):
            raise EvalError(f"{name}: wrong number of arguments ({len(args)})") from None
        raise


def _try_can(name: str, arg_nodes: list[Tree[Any]], scope: Scope) -> Any:
    if name == "can":
        if len(arg_nodes) != 1:
            raise EvalError("can: takes exactly one argument")
        try:
            value = evaluate(arg_nodes[0], scope)
        except EvalError:
            return False
        return value if isinstance(value, Unknown) else True
    for arg in arg_nodes:
        try:
            return evaluate(arg, scope)
        except EvalError:
            continue
    raise EvalError("try: no argument could be evaluated without an error")


_HANDLERS: dict[str, Callable[[Tree[Any], Scope], Any]] = {
    "expr_term": _eval_expr_term,
    "literal_value": _eval_literal,
    "int_lit": _eval_int,
    "float_lit": _eval_float,
    "string": _eval_string,
    "heredoc_template": _eval_heredoc,
    "heredoc_template_trim": _eval_heredoc,
    "template_string": _eval_template_string,
    "tuple": _eval_tuple,
    "object": _eval_object,
    "conditional": _eval_conditional,
    "unary_op": _eval_unary,
    "binary_op": _eval_binary,
    "get_attr_expr_term": _eval_traversal,
    "index_expr_term": _eval_traversal,
    "attr_splat_expr_term": _eval_splat,
    "full_splat_expr_term": _eval_splat,
    "for_tuple_expr": _eval_for_tuple,
    "for_object_expr": _eval_for_object,
    "function_call": _eval_call,
    "identifier": lambda node, scope: _traversal(node, [], scope),
}


# ---------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------


def _list(value: Any, fname: str) -> list[Any]:
    if not isinstance(value, list):
        raise EvalError(f"{fname}: a list is required, not {type_name(value)}")
    return value


def _map(value: Any, fname: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EvalError(f"{fname}: a map is required, not {type_name(value)}")
    return value


def _str(value: Any, fname: str) -> str:
    text = to_string(value, fname)
    if not isinstance(text, str):
        raise EvalError(f"{fname}: a string is required, not {type_name(value)}")
    return text


def _guard_known(value: Any) -> None:
    unknown = first_unknown(value)
    if unknown is not None:
        raise _UnknownResult(unknown)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not value.is_integer():
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _num(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if hasattr(value, "tf_attr"):
        raise EvalError("jsonencode: a whole resource cannot be encoded")
    return value


def jsonencode(value: Any) -> str:
    text = json.dumps(_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _from_json(value: Any) -> Any:
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _from_json(v) for k, v in value.items()}
    return value


def _jsondecode(scope: Scope, text: Any) -> Any:
    try:
        return _from_json(json.loads(_str(text, "jsondecode")))
    except json.JSONDecodeError as exc:
        raise EvalError(f"jsondecode: invalid JSON: {exc}") from None


def _read(scope: Scope, path: Any, fname: str) -> bytes:
    return scope.resolver.read_file(_str(path, fname))[1]


def _file(scope: Scope, path: Any) -> str:
    full, data = scope.resolver.read_file(_str(path, "file"))
    try:
        return FileText(data.decode("utf-8"), full)
    except UnicodeDecodeError:
        raise EvalError(f'file("{path}"): not valid UTF-8 (use filebase64)') from None


def _fileexists(scope: Scope, path: Any) -> bool:
    try:
        scope.resolver.read_file(_str(path, "fileexists"))
    except EvalError:
        return False
    return True


class _TemplateResolver:
    def __init__(self, root_dir: Path, outer: Resolver) -> None:
        self.root_dir = root_dir
        self.outer = outer

    def resolve(self, root: str, steps: Sequence[Step], scope: Scope) -> tuple[Any, int]:
        raise EvalError(f'templatefile: the template has no variable "{root}"')

    def path_value(self, name: str) -> Any:  # pragma: no cover - not reachable from templates
        raise EvalError("templatefile: path is not available in a template")

    def read_file(self, name: str) -> tuple[Path, bytes]:
        return self.outer.read_file(name)


def _templatefile(scope: Scope, path: Any, variables: Any = None) -> Any:
    name = _str(path, "templatefile")
    variables = {} if variables is None else _map(variables, "templatefile")
    _guard_known(variables)
    full, data = scope.resolver.read_file(name)
    text = data.decode("utf-8", errors="replace")
    inner = Scope(
        _TemplateResolver(scope.resolver.root_dir, scope.resolver),
        Source(full, name),
        dict(variables),
    )
    try:
        return render_template(template_pieces(text), inner)
    except EvalError as exc:
        raise EvalError(f'templatefile("{name}"): {exc.message}') from None


def _format(scope: Scope, spec: Any, *args: Any) -> str:
    template = _str(spec, "format")
    out: list[str] = []
    index = 0
    i = 0
    while i < len(template):
        ch = template[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        match = re.compile(r"%([-+ #0]*)(\d*)(?:\.(\d+))?([sdfqvtbxXoeEgG%])").match(template, i)
        if match is None:
            raise EvalError(f"format: invalid verb at {template[i:]!r}")
        flags, width, precision, verb = match.groups()
        i = match.end()
        if verb == "%":
            out.append("%")
            continue
        if index >= len(args):
            raise EvalError("format: not enough arguments")
        arg = args[index]
        index += 1
        if verb in ("s", "v"):
            text = jsonencode(arg) if isinstance(arg, list | dict) else _str(arg, "format")
        elif verb == "q":
            text = json.dumps(_str(arg, "format"), ensure_ascii=False)
        elif verb == "t":
            text = "true" if to_bool(arg, "format") else "false"
        else:
            number = to_number(arg, "format")
            pyspec = f"{flags}{width}{'.' + precision if precision else ''}{verb}"
            if verb in "dxXob":
                number = int(number)
            text = ("%" + pyspec) % number
            out.append(text)
            continue
        out.append(f"{text:{'<' if '-' in flags else '>'}{width}}" if width else text)
    return "".join(out)


def _replace(scope: Scope, text: Any, search: Any, replacement: Any) -> str:
    subject = _str(text, "replace")
    pattern = _str(search, "replace")
    repl = _str(replacement, "replace")
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        py_repl = re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", repl.replace("\\", "\\\\"))
        return re.sub(pattern[1:-1], py_repl, subject)
    return subject.replace(pattern, repl)


def _regex(scope: Scope, pattern: Any, text: Any) -> Any:
    compiled = re.compile(_str(pattern, "regex"))
    match = compiled.search(_str(text, "regex"))
    if match is None:
        raise EvalError("regex: the pattern did not match")
    return _match_value(compiled, match)


def _match_value(compiled: re.Pattern[str], match: re.Match[str]) -> Any:
    if compiled.groupindex:
        return match.groupdict()
    if compiled.groups:
        return list(match.groups())
    return match.group(0)


def _regexall(scope: Scope, pattern: Any, text: Any) -> list[Any]:
    compiled = re.compile(_str(pattern, "regexall"))
    return [_match_value(compiled, m) for m in compiled.finditer(_str(text, "regexall"))]


def _coalesce(scope: Scope, *args: Any) -> Any:
    for arg in args:
        if isinstance(arg, Unknown):
            return arg
        if arg is not None and arg != "":
            return arg
    raise EvalError("coalesce: no non-null, non-empty argument")


def _lookup(scope: Scope, mapping: Any, key: Any, *default: Any) -> Any:
    table = _map(mapping, "lookup")
    name = _str(key, "lookup")
    if name in table:
        return table[name]
    if default:
        return default[0]
    raise EvalError(f'lookup: no key "{name}" and no default')


def _element(scope: Scope, items: Any, index: Any) -> Any:
    values = _list(items, "element")
    if not values:
        raise EvalError("element: the list is empty")
    return values[int(to_number(index, "element")) % len(values)]


def _flatten_fn(scope: Scope, items: Any) -> list[Any]:
    out: list[Any] = []
    for item in _list(items, "flatten"):
        if isinstance(item, list):
            out.extend(_flatten_fn(scope, item))
        else:
            out.append(item)
    return out


def _merge(scope: Scope, *maps: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for mapping in maps:
        if mapping is None:
            continue
        result.update(_map(mapping, "merge"))
    return result


def _length(scope: Scope, value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | dict):
        return len(value)
    raise EvalError(f"length: cannot take the length of {type_name(value)}")


def _one(scope: Scope, value: Any) -> Any:
    items = _list(value, "one")
    if len(items) > 1:
        raise EvalError(f"one: the list has {len(items)} elements")
    return items[0] if items else None


def _range(scope: Scope, *args: Any) -> list[Any]:
    numbers = [to_number(a, "range") for a in args]
    start, stop, step = 0, 0, 1
    if len(numbers) == 1:
        stop = numbers[0]
    elif len(numbers) >= 2:
        start, stop = numbers[0], numbers[1]
        step = numbers[2] if len(numbers) > 2 else (1 if stop >= start else -1)
    out: list[Any] = []
    value = start
    while (step > 0 and value < stop) or (step < 0 and value > stop):
        out.append(_num(value))
        value += step
        if len(out) > 1024:
            raise EvalError("range: more than 1024 elements")
    return out


def _substr(scope: Scope, text: Any, offset: Any, length: Any) -> str:
    subject = _str(text, "substr")
    start = int(to_number(offset, "substr"))
    count = int(to_number(length, "substr"))
    if start < 0:
        start += len(subject)
    return subject[start:] if count < 0 else subject[start : start + count]


def _tomap(scope: Scope, value: Any) -> Any:
    return dict(_map(value, "tomap"))


def _hash(algorithm: str) -> Callable[..., str]:
    def digest(scope: Scope, text: Any) -> str:
        return hashlib.new(algorithm, _str(text, algorithm).encode()).hexdigest()

    return digest


def _filehash(algorithm: str, b64: bool = False) -> Callable[..., str]:
    def digest(scope: Scope, path: Any) -> str:
        raw = hashlib.new(algorithm, _read(scope, path, f"file{algorithm}")).digest()
        return base64.b64encode(raw).decode() if b64 else raw.hex()

    return digest


def _index_fn(scope: Scope, items: Any, value: Any) -> int:
    for position, item in enumerate(_list(items, "index")):
        if tf_equal(item, value) is True:
            return position
    raise EvalError("index: the value is not in the list")


def _sort(scope: Scope, items: Any) -> list[Any]:
    return sorted(_str(v, "sort") for v in _list(items, "sort"))


def _slice(scope: Scope, items: Any, start: Any, end: Any) -> list[Any]:
    return list(_list(items, "slice")[int(to_number(start)) : int(to_number(end))])


def _keys(scope: Scope, value: Any) -> list[Any]:
    return sorted(_map(value, "keys"))


def _values(scope: Scope, value: Any) -> list[Any]:
    table = _map(value, "values")
    return [table[k] for k in sorted(table)]


def _contains(scope: Scope, items: Any, value: Any) -> Any:
    return any(tf_equal(item, value) is True for item in _list(items, "contains"))


def _title(scope: Scope, text: Any) -> str:
    return re.sub(r"\b([a-z])", lambda m: m.group(1).upper(), _str(text, "title"))


def _trim(scope: Scope, text: Any, chars: Any) -> str:
    return _str(text, "trim").strip(_str(chars, "trim"))


def _zipmap(scope: Scope, keys: Any, values: Any) -> dict[str, Any]:
    names = _list(keys, "zipmap")
    items = _list(values, "zipmap")
    if len(names) != len(items):
        raise EvalError("zipmap: the lists have different lengths")
    return {_str(k, "zipmap"): v for k, v in zip(names, items, strict=True)}


def _split(scope: Scope, separator: Any, text: Any) -> list[str]:
    subject = _str(text, "split")
    return subject.split(_str(separator, "split")) if subject else [""]


def _join(scope: Scope, separator: Any, *lists: Any) -> str:
    items: list[Any] = []
    for value in lists:
        items.extend(_list(value, "join"))
    _guard_known(items)
    return _str(separator, "join").join(_str(v, "join") for v in items)


def _setop(kind: str) -> Callable[..., TfSet]:
    def op(scope: Scope, *sets: Any) -> TfSet:
        lists = [_list(s, f"set{kind}") for s in sets]
        if not lists:
            return TfSet()
        result = list(lists[0])
        for other in lists[1:]:
            if kind == "union":
                result.extend(other)
            elif kind == "intersection":
                result = [v for v in result if any(tf_equal(v, o) is True for o in other)]
            else:
                result = [v for v in result if not any(tf_equal(v, o) is True for o in other)]
        return make_set(result)

    return op


def _known(value: Any, fn: Callable[[Any], Any]) -> Any:
    _guard_known(value)
    return fn(value)


def _formatlist(scope: Scope, spec: Any, *args: Any) -> list[str]:
    lengths = {len(a) for a in args if isinstance(a, list)}
    if len(lengths) > 1:
        raise EvalError("formatlist: the lists have different lengths")
    count = lengths.pop() if lengths else 1
    rows = zip(*[a if isinstance(a, list) else [a] * count for a in args], strict=True)
    return [_format(scope, spec, *row) for row in rows]


def _unknown_fn(name: str) -> Callable[..., Unknown]:
    def fn(scope: Scope, *args: Any) -> Unknown:
        return Unknown(f"{name}()", f"{name}() changes on every run")

    return fn


def _wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(scope: Scope, *args: Any) -> Any:
        try:
            return fn(scope, *args)
        except _UnknownResult as unknown:
            return unknown.value

    return call


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "file": _file,
    "fileexists": _fileexists,
    "filebase64": lambda s, p: base64.b64encode(_read(s, p, "filebase64")).decode(),
    "filemd5": _filehash("md5"),
    "filesha1": _filehash("sha1"),
    "filesha256": _filehash("sha256"),
    "filebase64sha256": _filehash("sha256", b64=True),
    "templatefile": _templatefile,
    "jsonencode": lambda s, v: _known(v, jsonencode),
    "jsondecode": _jsondecode,
    "format": lambda s, spec, *a: _known(list(a), lambda _: _format(s, spec, *a)),
    "formatlist": _formatlist,
    "join": _join,
    "split": _split,
    "replace": _replace,
    "regex": _regex,
    "regexall": _regexall,
    "lower": lambda s, t: _str(t, "lower").lower(),
    "upper": lambda s, t: _str(t, "upper").upper(),
    "title": _title,
    "trimspace": lambda s, t: _str(t, "trimspace").strip(),
    "trim": _trim,
    "trimprefix": lambda s, t, p: _str(t, "trimprefix").removeprefix(_str(p, "trimprefix")),
    "trimsuffix": lambda s, t, p: _str(t, "trimsuffix").removesuffix(_str(p, "trimsuffix")),
    "chomp": lambda s, t: re.sub(r"(\r?\n)+\Z", "", _str(t, "chomp")),
    "substr": _substr,
    "startswith": lambda s, t, p: _str(t, "startswith").startswith(_str(p, "startswith")),
    "endswith": lambda s, t, p: _str(t, "endswith").endswith(_str(p, "endswith")),
    "strcontains": lambda s, t, p: _str(p, "strcontains") in _str(t, "strcontains"),
    "length": _length,
    "concat": lambda s, *ls: [v for lst in ls for v in _list(lst, "concat")],
    "merge": _merge,
    "lookup": _lookup,
    "element": _element,
    "contains": _contains,
    "keys": _keys,
    "values": _values,
    "flatten": _flatten_fn,
    "distinct": lambda s, ls: [
        v
        for i, v in enumerate(_list(ls, "distinct"))
        if not any(tf_equal(v, w) is True for w in ls[:i])
    ],
    "compact": lambda s, ls: [v for v in _list(ls, "compact") if v is not None and v != ""],
    "coalesce": _coalesce,
    "coalescelist": lambda s, *ls: next((v for v in ls if _list(v, "coalescelist")), []),
    "toset": lambda s, v: make_set(_list(v, "toset")),
    "tolist": lambda s, v: list(_list(v, "tolist")),
    "tomap": _tomap,
    "tostring": lambda s, v: to_string(v, "tostring"),
    "tonumber": lambda s, v: to_number(v, "tonumber"),
    "tobool": lambda s, v: to_bool(v, "tobool"),
    "max": lambda s, *a: _num(max(to_number(v, "max") for v in a)),
    "min": lambda s, *a: _num(min(to_number(v, "min") for v in a)),
    "abs": lambda s, v: abs(to_number(v, "abs")),
    "ceil": lambda s, v: math.ceil(to_number(v, "ceil")),
    "floor": lambda s, v: math.floor(to_number(v, "floor")),
    "sum": lambda s, v: _num(sum(to_number(x, "sum") for x in _list(v, "sum"))),
    "range": _range,
    "zipmap": _zipmap,
    "one": _one,
    "sort": _sort,
    "reverse": lambda s, v: list(reversed(_list(v, "reverse"))),
    "slice": _slice,
    "index": _index_fn,
    "alltrue": lambda s, v: all(to_bool(x, "alltrue") for x in _list(v, "alltrue")),
    "anytrue": lambda s, v: any(to_bool(x, "anytrue") for x in _list(v, "anytrue")),
    "setunion": _setop("union"),
    "setintersection": _setop("intersection"),
    "setsubtract": _setop("subtract"),
    "md5": _hash("md5"),
    "sha1": _hash("sha1"),
    "sha256": _hash("sha256"),
    "sha512": _hash("sha512"),
    "base64encode": lambda s, t: base64.b64encode(_str(t, "base64encode").encode()).decode(),
    "base64decode": lambda s, t: base64.b64decode(_str(t, "base64decode")).decode(),
    "urlencode": lambda s, t: urllib.parse.quote(_str(t, "urlencode"), safe=""),
    "basename": lambda s, p: Path(_str(p, "basename")).name,
    "dirname": lambda s, p: str(Path(_str(p, "dirname")).parent),
    "abspath": lambda s, p: str((s.resolver.root_dir / _str(p, "abspath")).resolve()),
    "sensitive": lambda s, v: v,
    "nonsensitive": lambda s, v: v,
    "timestamp": _unknown_fn("timestamp"),
    "uuid": _unknown_fn("uuid"),
    "plantimestamp": _unknown_fn("plantimestamp"),
}

FUNCTIONS: Mapping[str, Callable[..., Any]] = {k: _wrap(v) for k, v in _FUNCTIONS.items()}
# These look at their Unknown arguments themselves (or are guarded deeply inside).
_UNKNOWN_AWARE = frozenset({"coalesce"})
