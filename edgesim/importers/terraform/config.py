"""Configuration files as blocks, and each module directory's declarations.

A file's body is :class:`Attr` (an unevaluated expression), nested :class:`Block` and
:class:`Body`; :class:`ModuleConfig` holds one directory's variables, locals, resources, data
sources, module calls, outputs and providers. Also the meta-argument helpers: count and
for_each keys must be known, provider references are read as written, and errors are located
at the block they come from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lark import Tree

from edgesim.errors import InputError
from edgesim.importers.terraform.expressions import evaluate
from edgesim.importers.terraform.syntax import line_of, name_of
from edgesim.importers.terraform.values import (
    EvalError,
    Scope,
    Source,
    TfSet,
    Unknown,
    first_unknown,
)
from edgesim.importers.terraform.variables import ConstResolver


@dataclass
class Attr:
    name: str
    expr: Tree[Any]
    line: int
    src: Source


@dataclass
class Block:
    type: str
    labels: list[str]
    body: Body
    line: int
    src: Source


@dataclass
class Body:
    attrs: dict[str, Attr] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


def to_body(tree: Tree[Any], src: Source) -> Body:
    body = Body()
    for child in tree.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            parts = [c for c in child.children if isinstance(c, Tree)]
            name = name_of(parts[0])
            body.attrs[name] = Attr(name, parts[-1], line_of(child), src)
        elif child.data == "block":
            parts = [c for c in child.children if isinstance(c, Tree)]
            inner = next(p for p in parts if p.data == "body")
            labels = [name_of(p) for p in parts[1:] if p.data in ("identifier", "string")]
            body.blocks.append(
                Block(name_of(parts[0]), labels, to_body(inner, src), line_of(child), src)
            )
    return body


@dataclass
class ModuleConfig:
    dir: Path
    files: list[Path]
    variables: dict[str, Block] = field(default_factory=dict)
    locals: dict[str, Attr] = field(default_factory=dict)
    resources: dict[tuple[str, str], Block] = field(default_factory=dict)
    data: dict[tuple[str, str], Block] = field(default_factory=dict)
    modules: dict[str, Block] = field(default_factory=dict)
    outputs: dict[str, Block] = field(default_factory=dict)
    providers: dict[str, Block] = field(default_factory=dict)


def collect(config: ModuleConfig, body: Body) -> None:
    for block in body.blocks:
        labels = block.labels
        if block.type == "variable" and labels:
            config.variables[labels[0]] = block
        elif block.type == "locals":
            config.locals.update(block.body.attrs)
        elif block.type == "resource" and len(labels) == 2:
            config.resources[(labels[0], labels[1])] = block
        elif block.type == "data" and len(labels) == 2:
            config.data[(labels[0], labels[1])] = block
        elif block.type == "module" and labels:
            config.modules[labels[0]] = block
        elif block.type == "output" and labels:
            config.outputs[labels[0]] = block
        elif block.type == "provider" and labels:
            alias = block.body.attrs.get("alias")
            name = labels[0]
            if alias is not None:
                alias_value = evaluate(alias.expr, Scope(ConstResolver(Path(".")), alias.src))
                name = f"{name}.{alias_value}"
            config.providers[name] = block


def traversal_text(node: Tree[Any]) -> str:
    """``aws.us_east_1`` written as a provider reference (not evaluated)."""
    names = [str(t) for t in node.scan_values(lambda v: getattr(v, "type", "") == "NAME")]
    return ".".join(names)


def known_meta(value: Any, what: str) -> Any:
    """count, or for_each's keys: Terraform needs them before apply (map values may wait)."""
    unknown = value if isinstance(value, Unknown) else None
    if isinstance(value, TfSet):  # a set's elements are its keys
        unknown = first_unknown(value)
    if unknown is not None:
        raise EvalError(f"{what} must be known before apply: {unknown.describe()}")
    if value is None:
        raise EvalError(f"{what} is null")
    return value


def located(exc: EvalError, block: Block, address: str) -> InputError:
    where = f"{block.src.display}:{block.line}"
    detail = exc.message if exc.where in ("", where) else str(exc)
    return InputError(f"{where}: {address}: {detail}")
