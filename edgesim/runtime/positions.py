"""Positions in a function's source, through every rewrite made before the engine sees it.

The loader (:mod:`edgesim.runtime.source`) turns ``import``/``export`` forms into plain script and
deterministic mode (:mod:`edgesim.runtime.instrument`) inserts tick calls. Each rewrite is a list
of :class:`Edit` s on a text, and applying it gives an :class:`EditLayer` that knows where every
character of the new text came from. A :class:`PositionMap` chains such layers, so a position the
engine reports in the final text becomes ``(line, col)`` in the file the user wrote::

    body, layer = apply_edits(text, edits)
    positions = PositionMap().then(layer)
    positions.original(line, col)  # -> (line, col) in ``text``

Any object with ``original(line, col) -> (line, col)`` can be a layer (a source map of a build
step, for instance). Lines and columns are 1-based; columns count characters (code points), as
``edgesim lint`` does. A position inside inserted or replaced text maps to the start of the
original text it replaced (for an insertion: the character it was inserted before).

These layers end at the file edgesim loaded. When that file is a build's output, its source map
(:mod:`edgesim.build.sourcemap`) goes one step further, into several source files at once, so it
is not a layer here: it is applied to the ``file:line:col`` text edgesim reports
(:mod:`edgesim.build.relabel`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` (character offsets) with ``replacement``; start == end inserts.

    Insertions at the same offset are applied in the order given.
    """

    start: int
    end: int
    replacement: str


class PositionLayer(Protocol):
    """One rewrite: maps a position in its output back to its input."""

    def original(self, line: int, col: int) -> tuple[int, int]: ...


def _line_starts(text: str) -> list[int]:
    starts = [0]
    index = text.find("\n")
    while index >= 0:
        starts.append(index + 1)
        index = text.find("\n", index + 1)
    return starts


def _offset(starts: list[int], length: int, line: int, col: int) -> int:
    """The offset of (line, col), kept within the line (its end is the line break)."""
    line = min(max(line, 1), len(starts))
    end = starts[line] - 1 if line < len(starts) else length
    return min(starts[line - 1] + max(col, 1) - 1, end)


def _position(starts: list[int], offset: int) -> tuple[int, int]:
    index = bisect_right(starts, offset) - 1
    return index + 1, offset - starts[index] + 1


class EditLayer:
    """Where each piece of a rewritten text came from (see :func:`apply_edits`)."""

    def __init__(self, original: str, edits: Sequence[Edit]) -> None:
        pieces: list[str] = []
        # Pieces of the new text in order: (start in the new text, start in the original,
        # copied unchanged or not).
        self._new_starts: list[int] = []
        self._old_starts: list[int] = []
        self._copied: list[bool] = []
        new_at = old_at = 0
        for edit in sorted(edits, key=lambda e: (e.start, e.end)):
            if edit.start < old_at or edit.end < edit.start:
                raise ValueError(f"overlapping or inverted edit {edit!r}")
            if edit.start > old_at:
                self._piece(new_at, old_at, copied=True)
                pieces.append(original[old_at : edit.start])
                new_at += edit.start - old_at
            if edit.replacement:
                self._piece(new_at, edit.start, copied=False)
                pieces.append(edit.replacement)
                new_at += len(edit.replacement)
            old_at = edit.end
        self._piece(new_at, old_at, copied=True)
        pieces.append(original[old_at:])
        self.text = "".join(pieces)
        self._new_lines = _line_starts(self.text)
        self._old_lines = _line_starts(original)
        self._old_length = len(original)

    def _piece(self, new_at: int, old_at: int, *, copied: bool) -> None:
        self._new_starts.append(new_at)
        self._old_starts.append(old_at)
        self._copied.append(copied)

    def original(self, line: int, col: int) -> tuple[int, int]:
        offset = _offset(self._new_lines, len(self.text), line, col)
        index = max(bisect_right(self._new_starts, offset) - 1, 0)
        old = self._old_starts[index]
        if self._copied[index]:
            old += offset - self._new_starts[index]
        return _position(self._old_lines, min(old, self._old_length))


def apply_edits(text: str, edits: Sequence[Edit]) -> tuple[str, EditLayer]:
    """``text`` with ``edits`` applied (they must not overlap), and the layer that undoes them."""
    layer = EditLayer(text, edits)
    return layer.text, layer


@dataclass(frozen=True)
class PositionMap:
    """Rewrites in the order they were made; :meth:`original` undoes them, last first."""

    layers: tuple[PositionLayer, ...] = ()

    def then(self, layer: PositionLayer | None) -> PositionMap:
        """This map followed by one more rewrite (None: the rewrite changed nothing)."""
        return self if layer is None else PositionMap((*self.layers, layer))

    def original(self, line: int, col: int) -> tuple[int, int]:
        for layer in reversed(self.layers):
            line, col = layer.original(line, col)
        return line, col
