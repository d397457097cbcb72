"""Reading a node's attributes for the API shape.

:class:`Mapper` reads required, optional and tolerant values (a value only AWS knows kept as
``<unresolved …>`` with a note), strings, numbers, flags and ``{Quantity, Items}`` lists;
:func:`convert_spec` maps a block by a declarative :data:`Spec`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from edgesim.errors import InputError
from edgesim.importers.terraform.nodes import Node
from edgesim.importers.terraform.values import EvalError, Unknown, first_unknown, to_string


def q(items: list[Any]) -> dict[str, Any]:
    return {"Quantity": len(items), "Items": items}


def _placeholder(value: Any) -> Any:
    if isinstance(value, Unknown):
        return f"<unresolved {value.ref}>"
    if isinstance(value, list):
        return [_placeholder(v) for v in value]
    if isinstance(value, dict):
        return {k: _placeholder(v) for k, v in value.items()}
    return value


class Mapper:
    def __init__(self, notes: list[str], mapped_origins: Collection[str] = ()) -> None:
        self.notes = notes
        self.mapped_origins = mapped_origins

    def get(
        self,
        node: Node,
        name: str,
        *,
        required: bool = False,
        tolerant: bool = False,
        hint: str = "",
        empty_is_none: bool = False,
    ) -> Any:
        value = node.get(name)
        unknown = first_unknown(value)
        if unknown is not None:
            if tolerant:
                self.notes.append(
                    f"{node.where(name)}: {node.path}.{name}: kept as a placeholder, "
                    f"{unknown.describe()}"
                )
                return _placeholder(value)
            reason = f"{unknown.reason}; {hint}" if hint else unknown.reason
            raise InputError(
                f"{node.where(name)}: {node.path}.{name}: cannot resolve {unknown.ref} ({reason})"
            )
        if empty_is_none and value in ("", []):
            value = None
        if value is None and required:
            raise InputError(f"{node.where(name)}: {node.path}.{name}: is required")
        return value

    def text(self, node: Node, name: str, **kw: Any) -> str | None:
        value = self.get(node, name, empty_is_none=True, **kw)
        if value is None:
            return None
        text = self._string(node, name, value)
        if not isinstance(text, str):
            raise InputError(f"{node.where(name)}: {node.path}.{name}: a string is required")
        return text

    def strings(self, node: Node, name: str, **kw: Any) -> list[str]:
        value = self.get(node, name, **kw)
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            raise InputError(f"{node.where(name)}: {node.path}.{name}: a list is required")
        return [str(self._string(node, name, v)) for v in value]

    @staticmethod
    def _string(node: Node, name: str, value: Any) -> Any:
        # Values of a terraform show -json file are not evaluated, so a wrong type reaches here
        # (an HCL expression's is caught by Node.get): located like the other problems.
        try:
            return to_string(value, f"{node.path}.{name}")
        except EvalError as exc:
            raise InputError(f"{node.where(name)}: {exc.message}") from None

    def number(self, node: Node, name: str, **kw: Any) -> int | float | None:
        value = self.get(node, name, **kw)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InputError(f"{node.where(name)}: {node.path}.{name}: a number is required")
        try:
            number = float(value)
        except ValueError:
            raise InputError(
                f"{node.where(name)}: {node.path}.{name}: {value!r} is not a number"
            ) from None
        return int(number) if number.is_integer() else number

    def flag(self, node: Node, name: str, default: bool | None = None) -> bool | None:
        value = self.get(node, name)
        if value is None:
            return default
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise InputError(f"{node.where(name)}: {node.path}.{name}: true or false is required")
        return value

    def one(self, node: Node, name: str) -> Node | None:
        blocks = node.blocks(name)
        return blocks[0] if blocks else None

    def items(self, node: Node | None, name: str, **kw: Any) -> dict[str, Any] | None:
        """A ``name { items = [...] }`` block as ``{Quantity, Items}``."""
        block = self.one(node, name) if node is not None else None
        if block is None:
            return None
        return q(self.strings(block, "items", **kw))


def set_if(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value


# A declarative mapping for the policy configs and small distribution parts:
# tf_name: (ApiName, kind, sub-spec). Kinds: v (value), list ({Quantity, Items}), items (a block
# holding `items`), block (one nested block), itemblocks (a block of repeated `items` blocks).
Spec = dict[str, tuple[str, str, Any]]


def convert_spec(m: Mapper, node: Node, spec: Spec, *, tolerant: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for tf_name, (api_name, kind, sub) in spec.items():
        if kind == "v":
            value = m.get(node, tf_name, tolerant=tolerant, empty_is_none=True)
            if value is not None:
                result[api_name] = value
        elif kind == "list":
            result[api_name] = q(m.strings(node, tf_name, tolerant=tolerant))
        elif kind == "items":
            items = m.items(node, tf_name, tolerant=tolerant)
            if items is not None and items["Quantity"]:
                result[api_name] = items
        elif kind == "block":
            block = m.one(node, tf_name)
            if block is not None:
                result[api_name] = convert_spec(m, block, sub, tolerant=tolerant)
        else:  # itemblocks
            holder = m.one(node, tf_name)
            if holder is not None:
                entries = [
                    convert_spec(m, b, sub, tolerant=tolerant) for b in holder.blocks("items")
                ]
                result[api_name] = q(entries)
    return result
