"""Values of Terraform's expression language as edgesim holds them, and the errors.

A value that cannot be known here is an :class:`Unknown`; a Terraform set is a :class:`TfSet`;
text ``file()`` read is a :class:`FileText` remembering its file. Errors Terraform itself would
report raise :class:`EvalError`. Expressions are evaluated in a :class:`Scope`: a
:class:`Resolver` for names (``var.x``, resources, modules) and local bindings. Also here:
conversions between strings, numbers and bools, equality, iteration in Terraform's order,
attribute access and indexing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


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


class UnknownResult(Exception):
    def __init__(self, value: Unknown) -> None:
        self.value = value


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


def num(value: float) -> int | float:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def format_number(value: int | float) -> str:
    value = num(value)
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
            return num(int(value)) if re.fullmatch(r"-?\d+", value) else num(float(value))
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
