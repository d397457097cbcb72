"""Variable type constraints, and the resolver of contexts where no name is defined.

``type = …`` is parsed into a :class:`TfType` (``optional()`` attributes with their defaults)
and values are converted to it as Terraform converts variable values. Names in ``.tfvars``
files, variable defaults and type constraints resolve through :class:`ConstResolver`, which
refuses them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lark import Tree

from edgesim.importers.terraform.expressions import evaluate
from edgesim.importers.terraform.syntax import (
    call_args,
    is_bare_identifier,
    name_of,
    strip_expr,
    trees,
)
from edgesim.importers.terraform.values import (
    EvalError,
    Scope,
    Step,
    Unknown,
    make_set,
    to_bool,
    to_number,
    to_string,
    type_name,
)


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
    while inner.data == "expr_term" and len(trees(inner.children)) == 1:
        inner = trees(inner.children)[0]
    if inner.data != "function_call":
        raise EvalError("invalid type constraint")
    fname = name_of(trees(inner.children)[0])
    args = call_args(inner)[0]
    if fname in ("list", "set", "map") and len(args) == 1:
        return TfType(fname, elem=parse_type(args[0], scope))
    if fname == "tuple" and len(args) == 1:
        items = trees(strip_expr(args[0]).children)
        return TfType("tuple", elems=tuple(parse_type(item, scope) for item in items))
    if fname == "object" and len(args) == 1:
        attrs = []
        obj = strip_expr(args[0])
        for elem in trees(obj.children):
            key_node, value_node = trees(elem.children)
            key = is_bare_identifier(trees(key_node.children)[0]) or name_of(
                strip_expr(trees(key_node.children)[0])
            )
            attrs.append(_optional_attr(key, value_node, scope))
        return TfType("object", attrs=tuple(attrs))
    raise EvalError(f"invalid type constraint {fname}()")


def _optional_attr(key: str, node: Tree[Any], scope: Scope) -> tuple[str, TfType, bool, Any]:
    inner = strip_expr(node)
    if inner.data == "function_call" and name_of(trees(inner.children)[0]) == "optional":
        args = call_args(inner)[0]
        attr_type = parse_type(args[0], scope)
        default = evaluate(args[1], scope) if len(args) > 1 else None
        if default is not None:
            default = convert(default, attr_type, f"default of {key}")
        return (key, attr_type, True, default)
    return (key, parse_type(node, scope), False, None)


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


class ConstResolver:
    """Names in .tfvars files and type constraints: none are defined."""

    def __init__(self, root_dir: Path) -> None:
        self.root_dir = root_dir

    def resolve(self, root: str, steps: Sequence[Step], scope: Scope) -> tuple[Any, int]:
        raise EvalError(f"{root}: variables are not allowed here")

    def path_value(self, name: str) -> Any:
        raise EvalError("path is not allowed here")

    def read_file(self, name: str) -> tuple[Path, bytes]:
        raise EvalError("functions reading files are not allowed here")
