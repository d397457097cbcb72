"""Reading the API's values: ``{Quantity, Items}`` or plain lists, numbers and booleans as
strings, each structure with its property path (``Node``), and the problems found, each named by
where it was written (``Problems``, from ``bundle.where``) and raised together as one
``InputError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from edgesim.distribution.tables import Problems as ConfigProblems
from edgesim.importers.bundle import ImportBundle

# The bundle's resource keys in ``where`` (everything else is a DistributionConfig path).
_RESOURCE_KEYS = frozenset(
    {
        "functions",
        "kvs",
        "cache_policies",
        "origin_request_policies",
        "response_headers_policies",
        "public_keys",
        "key_groups",
        "lambdas",
    }
)


class Problems(ConfigProblems):
    """The problems of one import, each placed where the user wrote it (``bundle.where``)."""

    what = "the import"

    def __init__(self, bundle: ImportBundle, source: str | None) -> None:
        self.where = bundle.where
        if source is None and "" in bundle.where:
            source = bundle.where[""].split(": ", 1)[0]  # the file as the user named it
        if source is None and bundle.sources:
            source = str(bundle.sources[0])
        super().__init__(source or "<import>")

    def place(self, path: str) -> str:
        """Where ``path`` (``Origins.Items.0.DomainName``, ``functions.router``) was written:
        the longest ``bundle.where`` prefix plus the rest of the path."""
        best = None
        for key in self.where:
            if (
                key
                and (path == key or path.startswith(key + "."))
                and (best is None or len(key) > len(best))
            ):
                best = key
        if best is not None:
            rest = path[len(best) :]
            return f"{self.where[best]}{rest}"
        if path.split(".", 1)[0] in _RESOURCE_KEYS:
            return f"{self.source}: {path}"
        root = self.where.get("")
        if root is not None:
            return f"{root}.{path}" if path else root
        return f"{self.source}: DistributionConfig.{path}" if path else self.source

    def add(self, path: str, message: str) -> None:
        self.messages.append(f"{self.place(path)}: {message}")


class Node:
    """One API structure being read, with its property path for messages."""

    def __init__(self, problems: Problems, path: str, data: object) -> None:
        self.problems = problems
        self.path = path
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            problems.add(path, f"expected an object, got {_kind(data)}")
            data = {}
        self.data: Mapping[str, Any] = data

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str | None, message: str) -> None:
        self.problems.add(self.at(key) if key else self.path, message)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def is_object(self, key: str) -> bool:
        return isinstance(self.data.get(key), Mapping)

    def sub(self, key: str) -> Node | None:
        value = self.data.get(key)
        return None if value is None else Node(self.problems, self.at(key), value)

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(key, f"expected a string, got {_kind(value)}")
            return default
        return str(value)

    def integer(
        self, key: str, default: int, *, lo: int | None = None, hi: int | None = None
    ) -> int:
        value = self.data.get(key)
        if value is None:
            return default
        number = as_int(value)
        if number is None:
            self.error(key, f"expected an integer, got {_kind(value)} {value!r}")
            return default
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            bounds = f"{lo if lo is not None else ''}..{hi if hi is not None else ''}"
            self.error(key, f"{number} is out of range ({bounds})")
            return default
        return number

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.error(key, f"expected true or false, got {_kind(value)} {value!r}")
        return default

    def items(self, key: str) -> list[tuple[str, Any]]:
        """``{Quantity, Items}`` or a plain list, as (path, item) pairs (paths use ``Items``)."""
        value = self.data.get(key)
        if value is None:
            return []
        path = self.at(key)
        found: Any
        if isinstance(value, list):
            found = value
        elif isinstance(value, Mapping):
            found = value.get("Items")
            if found is None:
                found = []
            if not isinstance(found, list):
                self.problems.add(f"{path}.Items", f"expected a list, got {_kind(found)}")
                return []
            quantity = value.get("Quantity")
            if quantity is not None and as_int(quantity) != len(found):
                self.problems.add(
                    f"{path}.Quantity", f"says {quantity} but Items has {len(found)} entries"
                )
        else:
            self.problems.add(path, f"expected a list or {{Quantity, Items}}, got {_kind(value)}")
            return []
        return [(f"{path}.Items.{index}", item) for index, item in enumerate(found)]

    def texts(self, key: str) -> list[str]:
        found = []
        for path, item in self.items(key):
            if isinstance(item, str) and item.strip():
                found.append(item)
            elif isinstance(item, int | float) and not isinstance(item, bool):
                found.append(str(item))
            else:
                self.problems.add(path, f"expected a non-empty string, got {_kind(item)}")
        return found

    def nodes(self, key: str) -> list[Node]:
        return [Node(self.problems, path, item) for path, item in self.items(key)]


def as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]+\s*", value):
        return int(value)
    return None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def known_names(names: Iterable[str]) -> str:
    listed = sorted(names)
    return f" (known: {', '.join(listed)})" if listed else ""
