"""What a function's code can write on shared objects, so the isolation check can do less.

After every invocation the prelude puts back the writable properties of the shared objects
(built-ins, the shims' globals) that user code may have replaced (``leftSomethingBehind`` in
prelude.js). Outside the prelude's wrappers (``Object.assign``, ``Object.defineProperty`` and
friends), such a property changes only through an assignment, update or ``delete`` whose target
names it, ``Math.random = …`` or ``x['max'] = …``, or through a computed key, ``x[name] = …``,
which could be any name. So:

- names written in plain sight are collected once per load (:func:`written_properties` in
  :mod:`edgesim.runtime.source`); only those are put back after an ordinary invocation;
- the object of every computed-key write or delete is wrapped in a call,
  ``__edgesim_w(x)[name] = …``, which returns its argument and notes when it is a shared
  object; after such an invocation every property is put back, as when names cannot be known.

A wrapper adds a call per computed-key write, which counts as the function's compute like the
code around it, so it is left out where the object is certainly fresh: a name bound only by
``const NAME = {…}`` or ``const NAME = […]`` declarations and used only as a value (never bound
otherwise, never assigned), since such an object is created anew by each run of the code. The
edits are insertions on existing lines, so line numbers stay and :func:`guard_writes` returns
the layer that puts the columns back.
"""

from __future__ import annotations

from collections import defaultdict

from tree_sitter import Node

from edgesim.runtime import jsparse
from edgesim.runtime.instrument import _last_token
from edgesim.runtime.positions import Edit, EditLayer, apply_edits
from edgesim.runtime.source import _WRITES, _static_name, _write_places

GUARD = "__edgesim_w"

# Where an identifier only reads its binding's value: (parent type, field or None for any).
_VALUE_USES: frozenset[tuple[str, str | None]] = frozenset(
    {
        ("member_expression", "object"),
        ("subscript_expression", "object"),
        ("subscript_expression", "index"),
        ("call_expression", "function"),
        ("new_expression", "constructor"),
        ("arguments", None),
        ("array", None),
        ("spread_element", None),
        ("return_statement", None),
        ("expression_statement", None),
        ("binary_expression", None),
        ("ternary_expression", None),
        ("template_substitution", None),
        ("await_expression", None),
        ("pair", "value"),
        ("variable_declarator", "value"),
        ("for_in_statement", "right"),
    }
)


def guard_writes(body: str) -> tuple[str, frozenset[str] | None, EditLayer | None]:
    """``body`` with the object of every computed-key write wrapped in ``__edgesim_w(…)``, the
    names written in plain sight, and the layer from the new positions back (None: no edit).

    The names are None when they cannot be known (the code does not parse, or writes through
    ``super[…]``, whose object cannot be wrapped); then nothing is wrapped either, and the
    prelude puts every property back after each invocation.
    """
    data = body.encode("utf-8")
    root = jsparse.parse(data).root_node
    if root.has_error:
        return body, None, None
    captured = jsparse.captures(jsparse.query(_WRITES), root)
    targets = list(captured.get("target", ()))
    for node in captured.get("deleted", ()):
        operator = node.parent.child_by_field_name("operator") if node.parent else None
        if operator is not None and operator.type == "delete":
            targets.append(node)
    names: set[str] = set()
    spans: list[tuple[int, int]] = []
    fresh = _FreshObjects(root, data)
    for target in targets:
        for place in _write_places(target):
            name = _static_name(place, data)
            if name is not None:
                names.add(name)
                continue
            obj = place.child_by_field_name("object")
            if obj is None or obj.type == "super":
                return body, None, None
            if not fresh.is_fresh(obj):
                spans.append((obj.start_byte, _last_token(obj).end_byte))
    names.discard("")
    if not spans:
        return body, frozenset(names), None
    offsets = [offset for span in spans for offset in span]
    if len(set(offsets)) != len(offsets):
        # Two insertions at one place would need an order; no real code gives one, so rather
        # than guess, every property is put back for this function.
        return body, None, None
    edits = [Edit(_chars(data, start), _chars(data, start), GUARD + "(") for start, _ in spans] + [
        Edit(_chars(data, end), _chars(data, end), ")") for _, end in spans
    ]
    text, layer = apply_edits(body, edits)
    return text, frozenset(names), layer


def _chars(data: bytes, offset: int) -> int:
    """A byte offset of ``data`` as a character offset (tree-sitter counts bytes)."""
    return len(data[:offset].decode("utf-8"))


class _FreshObjects:
    """Which identifiers certainly hold an object created by this run of the code."""

    def __init__(self, root: Node, data: bytes) -> None:
        self._root = root
        self._data = data
        self._occurrences: dict[str, list[Node]] | None = None
        self._known: dict[str, bool] = {}

    def is_fresh(self, obj: Node) -> bool:
        if obj.type != "identifier":
            return False
        name = self._data[obj.start_byte : obj.end_byte].decode("utf-8")
        if name not in self._known:
            self._known[name] = self._only_const_literals(name)
        return self._known[name]

    def _only_const_literals(self, name: str) -> bool:
        occurrences = self._all_occurrences().get(name, [])
        declared = False
        for node in occurrences:
            if node.type != "identifier":
                return False  # a shorthand pattern: `({NAME} = …)` binds or assigns it
            if _is_const_literal_declaration(node):
                declared = True
            elif not _is_value_use(node):
                return False
        return declared

    def _all_occurrences(self) -> dict[str, list[Node]]:
        if self._occurrences is None:
            found: dict[str, list[Node]] = defaultdict(list)
            stack = [self._root]
            while stack:
                node = stack.pop()
                if node.type in ("identifier", "shorthand_property_identifier_pattern"):
                    text = self._data[node.start_byte : node.end_byte].decode("utf-8")
                    found[text].append(node)
                stack.extend(node.children)
            self._occurrences = found
        return self._occurrences


def _field_of(node: Node) -> str | None:
    parent = node.parent
    if parent is None:
        return None
    for index, child in enumerate(parent.children):
        if child.id == node.id:
            return parent.field_name_for_child(index)
    return None


def _is_const_literal_declaration(node: Node) -> bool:
    declarator = node.parent
    if declarator is None or declarator.type != "variable_declarator":
        return False
    if _field_of(node) != "name":
        return False
    value = declarator.child_by_field_name("value")
    declaration = declarator.parent
    return (
        value is not None
        and value.type in ("object", "array")
        and declaration is not None
        and declaration.type == "lexical_declaration"
        and declaration.child_by_field_name("kind") is not None
        and declaration.child_by_field_name("kind").type == "const"  # type: ignore[union-attr]
    )


def _is_value_use(node: Node) -> bool:
    parent = node.parent
    if parent is None:
        return False
    if parent.type == "unary_expression":
        operator = parent.child_by_field_name("operator")
        return operator is not None and operator.type != "delete"
    return (parent.type, None) in _VALUE_USES or (parent.type, _field_of(node)) in _VALUE_USES
