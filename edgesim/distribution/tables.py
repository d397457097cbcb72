"""Reading ``edgesim.toml`` tables: TOML types, table paths, unknown keys, suggestions.

Every problem becomes one line naming the file, the table path and the key; ``Problems`` collects
them so that all problems in a document are raised together. The readers of each part of the
configuration (``origins``, ``policies``, ``edges``, …) are built on ``Table`` and ``Context``.
"""

from __future__ import annotations

import datetime
import difflib
import math
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgesim.errors import InputError

MISSING: Any = object()  # Table.raw's answer for an absent key


def toml_type(value: object) -> str:
    """The TOML name of a parsed value's type, for messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return "date/time"
    return type(value).__name__


def suggest(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when one candidate is close to ``word``, else ``""``."""
    by_lower = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    if not close and len(word) >= 3:
        # A shortened key ("path" for "origin_path") is too far for difflib but still a hint.
        close = [c for c in by_lower if word.lower() in c]
    return f" (did you mean {by_lower[close[0]]!r}?)" if len(close) == 1 else ""


class Problems:
    """Every problem found in one configuration document, each already formatted."""

    what = "the configuration"  # what the header of several problems names

    def __init__(self, source: str) -> None:
        self.source = source
        self.messages: list[str] = []

    def add(self, where: str, message: str) -> None:
        prefix = f"{self.source}: {where}" if where else self.source
        if any(_breaks_lines(c) for c in message):
            # A value quoted raw (a path "looked for") must not split the problem in two lines.
            message = "".join(f"\\u{ord(c):04x}" if _breaks_lines(c) else c for c in message)
        self.messages.append(f"{prefix}: {message}")

    def raise_if_any(self) -> None:
        if not self.messages:
            return
        if len(self.messages) == 1:
            raise InputError(self.messages[0])
        # One problem per line: a user fixes them all in one pass instead of one per run.
        header = f"{self.source}: {len(self.messages)} problems in {self.what}:"
        raise InputError("\n".join([header, *self.messages]))


def _breaks_lines(char: str) -> bool:
    # Control characters (C0, DEL, C1: NEL is a line break to str.splitlines) and the Unicode
    # line and paragraph separators.
    return unicodedata.category(char) in ("Cc", "Zl", "Zp")


def _join(where: str, key: str) -> str:
    if any(_breaks_lines(c) for c in key):
        key = key_part(key)  # escaped: a problem stays on one line
    return f"{where}.{key}" if where else key


class Table:
    """One TOML table being read: knows its path for messages and the keys it may contain.

    The typed getters record a problem and return the default when a value is wrong, so reading
    goes on and later problems are reported in the same run.
    """

    def __init__(
        self,
        problems: Problems,
        where: str,
        data: Mapping[str, Any],
        allowed: Sequence[str],
        *,
        required: Sequence[str] = (),
    ) -> None:
        self.problems = problems
        self.where = where
        self.data = data
        for key in data:
            if key not in allowed:
                hint = suggest(key, allowed)
                self.error(key, f"unknown key{hint}; allowed keys: {', '.join(allowed)}")
        for key in required:
            if key not in data:
                self.error(key, "is required")

    def at(self, key: str) -> str:
        return _join(self.where, key)

    def error(self, key: str | None, message: str) -> None:
        self.problems.add(self.at(key) if key else self.where, message)

    def _wrong_type(self, key: str, expected: str, value: object) -> None:
        self.error(key, f"expected {expected}, got {toml_type(value)} {value!r}")

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> Any:
        return self.data.get(key, MISSING)

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.raw(key)
        if value is MISSING:
            return default
        if not isinstance(value, str):
            self._wrong_type(key, "a string", value)
            return default
        if not value.strip():
            self.error(key, "must not be empty")
            return default
        return value

    def integer(
        self, key: str, default: int, *, lo: int | None = None, hi: int | None = None
    ) -> int:
        value = self.raw(key)
        if value is MISSING:
            return default
        # bool is an int subclass in Python; TOML's true is not a number.
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong_type(key, "an integer", value)
            return default
        return value if self._in_range(key, value, lo, hi) else default

    def number(
        self,
        key: str,
        default: float,
        *,
        lo: float | None = None,
        hi: float | None = None,
        above: float | None = None,
    ) -> float:
        """A finite number in ``lo``..``hi`` (inclusive); ``above`` is an exclusive lower bound."""
        value = self.raw(key)
        if value is MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._wrong_type(key, "a number", value)
            return default
        return float(value) if self._in_range(key, value, lo, hi, above) else default

    def _in_range(
        self,
        key: str,
        value: float,
        lo: float | None,
        hi: float | None,
        above: float | None = None,
    ) -> bool:
        if value != value or value in (math.inf, -math.inf):  # TOML allows nan and inf
            self.error(key, f"must be a finite number, not {value}")
            return False
        if (
            (lo is not None and value < lo)
            or (above is not None and value <= above)
            or (hi is not None and value > hi)
        ):
            self.error(key, f"{_num(value)} is out of range ({_range_text(lo, hi, above)})")
            return False
        return True

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is MISSING:
            return default
        if not isinstance(value, bool):
            self._wrong_type(key, "true or false", value)
            return default
        return value

    def texts(self, key: str) -> list[str] | None:
        """An array of non-empty strings; None when absent or not an array."""
        value = self.raw(key)
        if value is MISSING:
            return None
        if not isinstance(value, list):
            self._wrong_type(key, "an array of strings", value)
            return None
        items: list[str] = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                items.append(item)
            else:
                where = f"{self.at(key)}[{index}]"
                got = f"{toml_type(item)} {item!r}"
                self.problems.add(where, f"expected a non-empty string, got {got}")
        return items

    def table(self, key: str) -> Mapping[str, Any] | None:
        """A sub-table (``[a.b]`` or an inline table); None when absent or not a table."""
        value = self.raw(key)
        if value is MISSING:
            return None
        if not isinstance(value, dict):
            self._wrong_type(key, "a table", value)
            return None
        return value

    def sub(
        self, key: str, allowed: Sequence[str], *, required: Sequence[str] = ()
    ) -> Table | None:
        data = self.table(key)
        if data is None:
            return None
        return Table(self.problems, self.at(key), data, allowed, required=required)


def _range_text(lo: float | None, hi: float | None, above: float | None = None) -> str:
    if above is not None:
        low = f"more than {_num(above)}"
        return f"allowed: {low}, at most {_num(hi)}" if hi is not None else f"must be {low}"
    if lo is not None and hi is not None:
        return f"allowed: {_num(lo)} to {_num(hi)}"
    if lo is not None:
        return f"must be at least {_num(lo)}"
    return f"must be at most {_num(hi)}"


def _num(value: float | None) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def table_array(
    problems: Problems, doc: Mapping[str, Any], key: str, prefix: str = ""
) -> list[tuple[str, Mapping[str, Any]]]:
    """The entries of ``[[key]]`` as (path, table) pairs; anything else is a problem."""
    value = doc.get(key, MISSING)
    path = _join(prefix, key)
    if value is MISSING:
        return []
    if not isinstance(value, list):
        problems.add(path, f"expected an array of tables ([[{key}]]), got {toml_type(value)}")
        return []
    entries: list[tuple[str, Mapping[str, Any]]] = []
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if isinstance(item, dict):
            entries.append((where, item))
        else:
            problems.add(where, f"expected a table, got {toml_type(item)} {item!r}")
    return entries


def section(problems: Problems, doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A single top-level table (``[server]``); empty when absent or of the wrong type."""
    value = doc.get(key, MISSING)
    if value is MISSING:
        return {}
    if not isinstance(value, dict):
        problems.add(key, f"expected a table ([{key}]), got {toml_type(value)}")
        return {}
    return value


# --------------------------------------------------------------------------------------------
# The reading context: one document's problems and its directory
# --------------------------------------------------------------------------------------------


@dataclass
class Context:
    """What every reader gets: where to record problems, and what paths are relative to."""

    problems: Problems
    base_dir: Path

    def table(
        self, where: str, data: Mapping[str, Any], allowed: Sequence[str], **kw: Any
    ) -> Table:
        return Table(self.problems, where, data, allowed, **kw)

    def entries(
        self, doc: Mapping[str, Any], key: str, allowed: Sequence[str], **kw: Any
    ) -> list[Table]:
        return [self.table(w, d, allowed, **kw) for w, d in table_array(self.problems, doc, key)]

    def under(self, name: str) -> Path:
        """``name`` relative to the config directory, without ``..`` left in it."""
        return Path(os.path.normpath(self.base_dir / name))

    def existing_file(self, table: Table, key: str, what: str) -> Path | None:
        """A path relative to the config directory that must name an existing file."""
        name = table.text(key)
        if name is None:
            return None
        path = self.under(name)
        if not path.is_file():
            found = "is a directory" if path.is_dir() else "does not exist"
            table.error(key, f"{what} {name!r} {found} (looked for {path})")
        return path


def unique(table: Table, key: str, name: str, seen: dict[str, str], what: str) -> bool:
    """Record ``name`` as declared at ``table``; a problem if an earlier entry has it."""
    if name in seen:
        table.error(key, f"duplicate {what} {name!r} (first declared at {seen[name]})")
        return False
    seen[name] = table.where
    return True


# --------------------------------------------------------------------------------------------
# Header names (origins and policies list them)
# --------------------------------------------------------------------------------------------

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token


def header_name_problem(name: str) -> str | None:
    if not _HEADER_NAME.fullmatch(name):
        return f"{name!r} is not a valid header name"
    return None


def no_duplicate_names(t: Table, key: str, names: Iterable[str]) -> None:
    # Header names are case-insensitive: "X-A" and "x-a" are the same header.
    seen: set[str] = set()
    for name in names:
        if name.lower() in seen:
            t.error(key, f"header {name!r} is listed twice (header names ignore case)")
        seen.add(name.lower())


def checked_header_names(t: Table, key: str, names: list[str]) -> list[str]:
    """The valid names of ``names``, lower-cased; each invalid one is a problem at ``key``."""
    valid = []
    for name in names:
        problem = header_name_problem(name)
        if problem:
            t.error(key, problem)
        else:
            valid.append(name.lower())
    return valid


# --------------------------------------------------------------------------------------------
# Keys chosen by the user (POPs, networks, origin ids, domain names) inside a table path
# --------------------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key_part(name: str) -> str:
    """``name`` as TOML writes it in a dotted path: bare when it can be, else quoted
    (``origins_local."api.example.com"``), so a dot in the name is not read as a table."""
    if _BARE_KEY.fullmatch(name):
        return name
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    # Control characters as TOML's escapes, so the path (and its message) stays on one line.
    escaped = "".join(f"\\u{ord(c):04x}" if _breaks_lines(c) else c for c in escaped)
    return f'"{escaped}"'
