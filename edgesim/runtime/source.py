"""Reading a function's source and turning it into a module body the engine can run per invocation.

Users deploy plain scripts with a top-level ``handler``; runtime 2.0 also accepts
``import cf from 'cloudfront'`` (and ``import crypto from 'crypto'`` in AWS's samples), and teams
often keep ``export`` statements for unit tests that deploy scripts strip. Imports become
``var NAME = require("MODULE");`` on the same line and exports are dropped, so every line keeps its
number; columns move on the lines rewritten, and :func:`load_body` returns the
:class:`~edgesim.runtime.positions.PositionMap` that puts them back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edgesim import limits
from edgesim.errors import FunctionLoadError, InputError
from edgesim.runtime.positions import Edit, EditLayer, PositionMap, apply_edits

if TYPE_CHECKING:
    from tree_sitter import Node

_IMPORT = re.compile(
    r"""^(?P<indent>[ \t]*)import\s+(?:
          (?P<default>[A-Za-z_$][\w$]*)
        | \*\s*as\s+(?P<namespace>[A-Za-z_$][\w$]*)
        | \{(?P<named>[^}]*)\}
        )\s+from\s+(?P<quote>['"])(?P<module>[^'"]+)(?P=quote)[ \t]*;?""",
    re.MULTILINE | re.VERBOSE,
)
_EXPORT_LIST = re.compile(r"^[ \t]*export\s*\{[^}]*\}[ \t]*;?", re.MULTILINE)
_EXPORT_DEFAULT_NAME = re.compile(
    r"^[ \t]*export\s+default\s+[A-Za-z_$][\w$]*[ \t]*;", re.MULTILINE
)
_EXPORT_PREFIX = re.compile(
    r"^(?P<indent>[ \t]*)export\s+(?:default\s+)?(?=(?:async\s+)?function\b|const\b|let\b|var\b)",
    re.MULTILINE,
)


@dataclass(frozen=True)
class FunctionSource:
    """A function as the user wrote it."""

    name: str
    text: str
    filename: str


def read_function(path: str | Path) -> FunctionSource:
    """Read a function file, enforcing CloudFront's 10 KB code size quota."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the function: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FunctionLoadError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    return from_text(text, name=path.stem, filename=str(path))


def from_text(
    text: str, *, name: str = "function", filename: str = "function.js"
) -> FunctionSource:
    size = len(text.encode("utf-8"))
    if size > limits.FUNCTION_MAX_SOURCE_BYTES:
        raise FunctionLoadError(
            f"{filename}: the function is {size} bytes; CloudFront rejects code over "
            f"{limits.FUNCTION_MAX_SOURCE_BYTES} bytes (FunctionSizeLimitExceeded)"
        )
    return FunctionSource(name=name, text=text, filename=filename)


def _same_lines(replacement: str, original: str) -> str:
    return replacement + "\n" * original.count("\n")


def _rewrite_import(match: re.Match[str]) -> str:
    module = match["module"]
    call = f"require({module!r})".replace("'", '"')
    if match["default"] or match["namespace"]:
        code = f"var {match['default'] or match['namespace']} = {call};"
    else:
        # Named imports: CloudFront (njs) rejects them, the compatibility check reports that; in
        # lenient mode they still work here.
        parts = []
        for item in match["named"].split(","):
            words = item.split()
            if not words:
                continue
            local = words[-1]
            parts.append(f"{local} = __m.{words[0]}")
        code = f"var __m = {call}, " + ", ".join(parts) + ";" if parts else f"{call};"
    return _same_lines(match["indent"] + code, match.group(0))


def _rewrite(
    pattern: re.Pattern[str], text: str, edit: Callable[[re.Match[str]], Edit]
) -> tuple[str, EditLayer | None]:
    edits = [edit(match) for match in pattern.finditer(text)]
    return apply_edits(text, edits) if edits else (text, None)


def _drop(match: re.Match[str]) -> Edit:
    return Edit(match.start(), match.end(), _same_lines("", match.group(0)))


def load_body(text: str) -> tuple[str, PositionMap]:
    """:func:`module_body`, and the map from its positions back to ``text``'s.

    The passes run one after another (a line emptied by one can match the next), each a layer.
    """
    positions = PositionMap()
    passes: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Edit]], ...] = (
        (_IMPORT, lambda m: Edit(m.start(), m.end(), _rewrite_import(m))),
        (_EXPORT_LIST, _drop),
        (_EXPORT_DEFAULT_NAME, _drop),
        # Only "export [default ]" goes; the indent and the declaration stay where they were.
        (_EXPORT_PREFIX, lambda m: Edit(m.end("indent"), m.end(), "")),
    )
    for pattern, edit in passes:
        text, layer = _rewrite(pattern, text, edit)
        positions = positions.then(layer)
    return text, positions


def module_body(text: str) -> str:
    """The source with imports turned into ``require`` calls and ``export`` syntax removed."""
    return load_body(text)[0]


_WRITES = """
(assignment_expression left: (_) @target)
(augmented_assignment_expression left: (_) @target)
(update_expression argument: (_) @target)
(unary_expression argument: (_) @deleted)
(for_in_statement left: (_) @target)
"""


def written_properties(text: str) -> frozenset[str] | None:
    """Every property name the code can write or delete, or None when that cannot be known.

    A property of a shared object changes only through an assignment, an update or a ``delete``
    whose target names it (``Math.random = …``, ``x['max'] = …``), or through a built-in that
    the prelude watches (``Object.assign``, ``Object.defineProperty`` and friends) or that only
    creates new properties (indices, ``length``, ``lastIndex``). So the names in write positions
    bound what the isolation check must restore after each invocation; a computed key that is
    not a plain literal (``x[name] = …``) could be anything, and so could code that does not
    parse: None.
    """
    from edgesim.runtime import jsparse

    data = text.encode("utf-8")
    root = jsparse.parse(data).root_node
    if root.has_error:
        return None
    captured = jsparse.captures(jsparse.query(_WRITES), root)
    names: set[str] = set()
    targets = list(captured.get("target", ()))
    for node in captured.get("deleted", ()):
        operator = node.parent.child_by_field_name("operator") if node.parent else None
        if operator is not None and operator.type == "delete":
            targets.append(node)
    for target in targets:
        for place in _write_places(target):
            name = _static_name(place, data)
            if name is None:
                return None
            names.add(name)
    names.discard("")
    return frozenset(names)


def _write_places(node: Node) -> Iterator[Node]:
    """The member and subscript expressions a write target (or a pattern of them) assigns to."""
    kind = node.type
    if kind in ("member_expression", "subscript_expression"):
        yield node
        return
    if kind in ("assignment_pattern", "object_assignment_pattern"):
        left = node.child_by_field_name("left")
        if left is not None:
            yield from _write_places(left)
        return
    if kind == "pair_pattern":
        value = node.child_by_field_name("value")
        if value is not None:
            yield from _write_places(value)
        return
    if kind in ("parenthesized_expression", "array_pattern", "object_pattern", "rest_pattern"):
        for child in node.named_children:
            yield from _write_places(child)


def _static_name(place: Node, data: bytes) -> str | None:
    """The property name a member or subscript target writes; "" for names that cannot matter."""
    if place.type == "member_expression":
        prop = place.child_by_field_name("property")
        if prop is None or prop.type != "property_identifier":
            return ""  # a private name (#x) is no property of a shared object
        return data[prop.start_byte : prop.end_byte].decode("utf-8")
    index = place.child_by_field_name("index")
    if index is None:
        return None
    if index.type == "number":
        return ""  # indices: always new, enumerable properties, which the check finds anyway
    if index.type == "string" and all(c.type == "string_fragment" for c in index.named_children):
        return "".join(
            data[c.start_byte : c.end_byte].decode("utf-8") for c in index.named_children
        )
    return None
