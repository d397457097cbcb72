"""Position maps: from a rewritten text back to the text the user wrote."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.runtime.positions import Edit, PositionMap, apply_edits


def find(text: str, needle: str) -> tuple[int, int]:
    """(line, col) of the first ``needle`` in ``text``, 1-based."""
    offset = text.index(needle)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def test_copied_text_maps_to_where_it_was() -> None:
    text = "var a = 1;\nvar b = a.x;"
    new, layer = apply_edits(text, [Edit(0, 0, "TICK();"), Edit(11, 11, "TICK();")])
    assert new == "TICK();var a = 1;\nTICK();var b = a.x;"
    assert layer.original(*find(new, "a.x")) == find(text, "a.x")
    assert layer.original(*find(new, "var a")) == (1, 1)


def test_inserted_text_maps_to_the_character_it_was_inserted_before() -> None:
    text = "function f() { return 1; }"
    new, layer = apply_edits(text, [Edit(14, 14, "TICK();")])
    assert layer.original(*find(new, "TICK")) == find(text, " return")
    assert layer.original(*find(new, "();")) == find(text, " return")


def test_replaced_text_maps_to_the_start_of_what_it_replaced() -> None:
    text = "import cf from 'cloudfront'; f();"
    new, layer = apply_edits(text, [Edit(0, 28, 'var cf = require("cloudfront");')])
    assert layer.original(*find(new, "require")) == (1, 1)
    assert layer.original(*find(new, "f()")) == find(text, "f()")


def test_a_replacement_across_lines_keeps_the_rest_of_its_last_line() -> None:
    text = "import {\n  a } from 'm'; a.b();\nnext();"
    end = text.index(";") + 1
    new, layer = apply_edits(text, [Edit(0, end, "var a = m.a;\n")])
    assert new == "var a = m.a;\n a.b();\nnext();"
    assert layer.original(*find(new, "a.b")) == find(text, "a.b")
    assert layer.original(*find(new, "next")) == (3, 1)


def test_insertions_at_one_offset_keep_their_order() -> None:
    new, _ = apply_edits("x", [Edit(1, 1, ")"), Edit(1, 1, "}"), Edit(0, 0, "{(")])
    assert new == "{(x)}"


def test_overlapping_edits_are_refused() -> None:
    with pytest.raises(ValueError, match="overlapping"):
        apply_edits("abcdef", [Edit(0, 3, ""), Edit(2, 4, "")])


def test_positions_past_a_line_or_the_text_stay_in_it() -> None:
    text = "ab\ncd"
    _, layer = apply_edits(text, [Edit(0, 0, "__")])
    assert layer.original(1, 99) == (1, 3)
    assert layer.original(9, 1) == (2, 1)
    assert layer.original(2, 99) == (2, 3)


def test_a_map_undoes_its_layers_last_first() -> None:
    text = "export default function handler(e) { x.y; }"
    first, loader = apply_edits(text, [Edit(0, 15, "")])
    second, ticks = apply_edits(first, [Edit(first.index("{") + 1, first.index("{") + 1, "T();")])
    positions = PositionMap().then(loader).then(None).then(ticks)
    assert len(positions.layers) == 2
    assert positions.original(*find(second, "x.y")) == find(text, "x.y")
    assert PositionMap().original(3, 4) == (3, 4)


@given(
    text=st.text(alphabet="ab \né😀", max_size=40),
    spots=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 3), st.text("xyz\n", max_size=4))),
)
def test_every_copied_character_maps_back_to_itself(
    text: str, spots: list[tuple[int, int, str]]
) -> None:
    edits: list[Edit] = []
    last = 0
    for start, length, replacement in sorted(spots):
        start = max(start, last)
        end = min(start + length, len(text))
        if start > len(text):
            break
        edits.append(Edit(start, end, replacement))
        last = end
    new, layer = apply_edits(text, edits)
    # Follow each original character that no edit touched into the new text and back: every
    # edit ending at or before it (insertions just before it included) moves it.
    kept = [i for i in range(len(text)) if not any(e.start <= i < e.end for e in edits)]
    for i in kept:
        j = i + sum(len(e.replacement) - (e.end - e.start) for e in edits if e.end <= i)
        assert new[j] == text[i]
        line = new.count("\n", 0, j) + 1
        col = j - (new.rfind("\n", 0, j) + 1) + 1
        want_line = text.count("\n", 0, i) + 1
        want_col = i - (text.rfind("\n", 0, i) + 1) + 1
        assert layer.original(line, col) == (want_line, want_col)
