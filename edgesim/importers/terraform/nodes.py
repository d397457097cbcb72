"""Nodes: a block whose attributes the mapping reads.

:class:`Node` is what the mapping needs of either front-end; :class:`HclNode` is a
configuration block, its attributes evaluated on read and its ``dynamic`` blocks expanded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from edgesim.errors import InputError
from edgesim.importers.terraform.config import Attr, Block, Body, known_meta, traversal_text
from edgesim.importers.terraform.expressions import evaluate
from edgesim.importers.terraform.values import EvalError, Source, iterate

if TYPE_CHECKING:
    from edgesim.importers.terraform.module import Module


class Node(Protocol):
    path: str

    def get(self, name: str) -> Any: ...

    def blocks(self, name: str) -> list[Node]: ...

    def where(self, name: str | None = None) -> str: ...


class HclNode:
    """A configuration block: attributes evaluated on read, ``dynamic`` blocks expanded."""

    def __init__(
        self,
        module: Module,
        body: Body,
        bindings: dict[str, Any],
        path: str,
        src: Source,
        line: int,
    ) -> None:
        self.module = module
        self.body = body
        self.bindings = bindings
        self.path = path
        self.src = src
        self.line = line

    def where(self, name: str | None = None) -> str:
        attr = self.body.attrs.get(name) if name else None
        if attr is not None:
            return f"{attr.src.display}:{attr.line}"
        return f"{self.src.display}:{self.line}"

    def raw(self, name: str) -> Any:
        attr = self.body.attrs.get(name)
        if attr is None:
            return None
        return evaluate(attr.expr, self.module.scope(attr.src, **self.bindings))

    def get(self, name: str) -> Any:
        try:
            return self.raw(name)
        except EvalError as exc:
            where = self.where(name)
            detail = exc.message if exc.where in ("", where) else str(exc)
            raise InputError(f"{where}: {self.path}.{name}: {detail}") from None

    def expr(self, name: str) -> Attr | None:
        return self.body.attrs.get(name)

    def has_blocks(self, name: str) -> bool:
        return any(
            b.type == name or (b.type == "dynamic" and b.labels[:1] == [name])
            for b in self.body.blocks
        )

    def blocks(self, name: str) -> list[Node]:
        return list(self.expand(name))

    def expand(self, name: str) -> Iterator[HclNode]:
        index = 0
        for block in self.body.blocks:
            if block.type == name:
                yield HclNode(
                    self.module,
                    block.body,
                    self.bindings,
                    f"{self.path}.{name}[{index}]",
                    block.src,
                    block.line,
                )
                index += 1
            elif block.type == "dynamic" and block.labels[:1] == [name]:
                for node in self._dynamic(block, name, index):
                    yield node
                    index += 1

    def _dynamic(self, block: Block, name: str, start: int) -> Iterator[HclNode]:
        attrs = block.body.attrs
        where = f"{block.src.display}:{block.line}"
        label = f"{self.path}.{name}[{start}…] (dynamic)"
        content = next((b for b in block.body.blocks if b.type == "content"), None)
        if "for_each" not in attrs or content is None:
            raise InputError(f"{where}: {label}: a dynamic block needs for_each and content")
        scope = self.module.scope(block.src, **self.bindings)
        try:
            collection = known_meta(evaluate(attrs["for_each"].expr, scope), "for_each")
            iterator = name
            if "iterator" in attrs:
                iterator = traversal_text(attrs["iterator"].expr)
            items = iterate(collection, "for_each")
        except EvalError as exc:
            detail = exc.message if exc.where in ("", where) else str(exc)
            raise InputError(f"{where}: {label}: {detail}") from None
        for offset, (key, value) in enumerate(items):
            bindings = {**self.bindings, iterator: {"key": key, "value": value}}
            yield HclNode(
                self.module,
                content.body,
                bindings,
                f"{self.path}.{name}[{start + offset}]",
                content.src,
                content.line,
            )

    def value(self) -> dict[str, Any]:
        """The block as an object (for references to a resource's nested blocks)."""
        result = {name: self.raw(name) for name in self.body.attrs}
        names = {b.labels[0] if b.type == "dynamic" else b.type for b in self.body.blocks}
        for name in names:
            result[name] = [n.value() for n in self.expand(name)]
        return result
