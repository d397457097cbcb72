"""Argument checks the built-in functions share: a list, a map, a string, nothing unknown."""

from __future__ import annotations

from typing import Any

from edgesim.importers.terraform.values import (
    EvalError,
    UnknownResult,
    first_unknown,
    to_string,
    type_name,
)


def list_arg(value: Any, fname: str) -> list[Any]:
    if not isinstance(value, list):
        raise EvalError(f"{fname}: a list is required, not {type_name(value)}")
    return value


def map_arg(value: Any, fname: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EvalError(f"{fname}: a map is required, not {type_name(value)}")
    return value


def str_arg(value: Any, fname: str) -> str:
    text = to_string(value, fname)
    if not isinstance(text, str):
        raise EvalError(f"{fname}: a string is required, not {type_name(value)}")
    return text


def guard_known(value: Any) -> None:
    unknown = first_unknown(value)
    if unknown is not None:
        raise UnknownResult(unknown)
