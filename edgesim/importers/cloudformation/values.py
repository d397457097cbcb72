"""Template values: ``AWS::NoValue``'s marker, a scalar as the string CloudFormation passes, a
list member of the API's shape in either spelling, and expressions as messages quote them."""

from __future__ import annotations

import json
import re
from typing import Any

NO_VALUE: Any = object()  # AWS::NoValue: the property (or list item) is left out


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def list_items(value: Any) -> list[Any]:
    """A list member in either shape: a plain list or ``{"Quantity", "Items"}``."""
    if isinstance(value, dict):
        value = value.get("Items")
    return value if isinstance(value, list) else []


# -- rendering expressions in messages -------------------------------------------------------------


def short_form(node: Any) -> str:
    """An expression as a YAML template writes it in short form."""
    if isinstance(node, dict) and len(node) == 1:
        ((key, argument),) = node.items()
        if key == "Ref":
            return f"!Ref {short_form(argument)}"
        if (
            key == "Fn::GetAtt"
            and isinstance(argument, list)
            and len(argument) == 2
            and all(isinstance(part, str) for part in argument)
        ):
            return f"!GetAtt {argument[0]}.{argument[1]}"
        if key == "Condition":
            return f"!Condition {short_form(argument)}"
        if isinstance(key, str) and key.startswith("Fn::"):
            return f"!{key[4:]} {short_form(argument)}"
    if isinstance(node, dict):
        return "{" + ", ".join(f"{short_form(k)}: {short_form(v)}" for k, v in node.items()) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(short_form(item) for item in node) + "]"
    if isinstance(node, str):
        plain = re.fullmatch(r"[A-Za-z0-9_.:/${}*@-][A-Za-z0-9_.:/${} *@-]*", node)
        return node if plain and not node.endswith(" ") else json.dumps(node)
    return json.dumps(node)


def json_form(node: Any) -> str:
    return json.dumps(node, separators=(", ", ": "), default=str)
