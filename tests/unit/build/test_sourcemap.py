"""Source maps read through Node: where each position of a built file comes from."""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgesim.build import sourcemap
from edgesim.build.sourcemap import SourceMapError, load_source_map
from tests.unit.build.conftest import needs_node
from tests.unit.build.mapkit import write_map

pytestmark = needs_node


def _built(tmp_path: Path, text: str, name: str = "dist/fn.js") -> Path:
    built = tmp_path / name
    built.parent.mkdir(parents=True, exist_ok=True)
    built.write_text(text)
    return built


def test_a_position_is_given_in_the_source_with_the_built_one_in_brackets(tmp_path: Path) -> None:
    built = _built(tmp_path, "var a;\n  throw new Error('x');\n")
    # Built line 2 col 3 comes from src/router.ts line 14 col 9 (0-based: 1,2 -> 13,8).
    write_map(built, [(0, 0, 0, 0, 0), (1, 2, 0, 13, 8)], ["../src/router.ts"])
    source_map = load_source_map(built, base_dir=tmp_path)
    assert source_map is not None
    assert source_map.describe("dist/fn.js", 2, 3) == "src/router.ts:14:9 [dist/fn.js:2:3]"
    # Later on the same line: the same segment (source maps map ranges, not single points).
    assert str(source_map.original(2, 10)) == "src/router.ts:14:9"
    # Before the line's first segment: that first segment.
    assert str(source_map.original(2, 1)) == "src/router.ts:14:9"
    # A line with no mapping (the map ends before it) maps to nothing.
    assert source_map.original(3, 1) is None
    assert source_map.describe("dist/fn.js", 3, 1) == "dist/fn.js:3:1"


def test_an_inline_map_is_read_too(tmp_path: Path) -> None:
    built = _built(tmp_path, "function handler(e) { return e.request; }")
    write_map(built, [(0, 9, 0, 4, 2)], ["../src/a.ts"], inline=True)
    source_map = load_source_map(built, base_dir=tmp_path)
    assert source_map is not None
    assert source_map.map_path is None
    assert str(source_map.original(1, 10)) == "src/a.ts:5:3"


def test_a_build_without_a_map_gives_none(tmp_path: Path) -> None:
    built = _built(tmp_path, "function handler(e) { return e.request; }\n")
    assert load_source_map(built) is None


def test_a_map_named_by_nothing_but_lying_next_to_the_file_is_used(tmp_path: Path) -> None:
    built = _built(tmp_path, "var x = 1;\n")
    write_map(built, [(0, 0, 0, 2, 0)], ["../src/x.ts"])
    built.write_text("var x = 1;\n")  # the comment removed, as some deploy steps do
    source_map = load_source_map(built, base_dir=tmp_path)
    assert source_map is not None
    assert str(source_map.original(1, 1)) == "src/x.ts:3:1"


def test_a_broken_map_is_an_error_naming_it(tmp_path: Path) -> None:
    built = _built(tmp_path, "var x;\n//# sourceMappingURL=fn.js.map\n")
    built.with_name("fn.js.map").write_text("{not json")
    with pytest.raises(SourceMapError, match=r"fn\.js\.map: not a valid source map"):
        load_source_map(built)


def test_without_node_the_error_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = _built(tmp_path, "var x;\n")
    write_map(built, [(0, 0, 0, 0, 0)], ["a.ts"])
    monkeypatch.setattr(sourcemap, "_DECODED", OrderedDict())  # decoded by an earlier test?
    monkeypatch.setattr(sourcemap, "node_executable", lambda: None)
    with pytest.raises(SourceMapError, match=r"needs Node\.js"):
        load_source_map(built)


def test_columns_count_characters_on_both_sides(tmp_path: Path) -> None:
    # Source maps count UTF-16 units; edgesim counts characters. "🙂" is 2 units, 1 character.
    built = _built(tmp_path, 'var s = "🙂"; f();\n')
    source = 'let t = "🙂🙂"; g();\n'
    # Built "f" at UTF-16 col 14 (0-based) -> source "g" at UTF-16 col 16.
    write_map(built, [(0, 0, 0, 0, 0), (0, 14, 0, 0, 16)], ["../src/s.ts"], [source])
    source_map = load_source_map(built, base_dir=tmp_path)
    assert source_map is not None
    f_col = 'var s = "🙂"; f();'.index("f(") + 1  # characters, 1-based
    g_col = source.index("g(") + 1
    assert str(source_map.original(1, f_col)) == f"src/s.ts:1:{g_col}"


@st.composite
def _segments(draw: st.DrawFn) -> list[tuple[int, int, int, int, int]]:
    positions = draw(
        st.lists(
            st.tuples(st.integers(0, 6), st.integers(0, 39)), min_size=1, max_size=30, unique=True
        )
    )
    return [
        (line, col, draw(st.integers(0, 2)), draw(st.integers(0, 500)), draw(st.integers(0, 200)))
        for line, col in sorted(positions)
    ]


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(segments=_segments())
def test_every_segment_maps_to_its_original(
    tmp_path: Path, segments: list[tuple[int, int, int, int, int]]
) -> None:
    built = _built(tmp_path, "\n".join("x" * 40 for _ in range(7)))
    payload = write_map(built, segments, ["../a.ts", "../b.ts", "../c.ts"])
    source_map = load_source_map(built, base_dir=tmp_path)
    assert source_map is not None
    assert source_map.segments == len(segments), json.dumps(payload)
    for line, col, src, oline, ocol in segments:
        origin = source_map.original(line + 1, col + 1)
        assert origin is not None
        assert (origin.source, origin.line, origin.column) == (
            "abc"[src] + ".ts",
            oline + 1,
            ocol + 1,
        )


def test_maps_are_decoded_together_once_and_again_when_a_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sourcemap, "_DECODED", OrderedDict())
    calls: list[int] = []
    decode = sourcemap.decode_many

    def counted(requests: list[tuple[dict[str, object], str]]) -> list[list[list[object]]]:
        calls.append(len(requests))
        return decode(requests)

    monkeypatch.setattr(sourcemap, "decode_many", counted)
    one = _built(tmp_path, "var a = 1;\n", "dist/one.js")
    two = _built(tmp_path, "var b = 2;\n", "dist/two.js")
    plain = _built(tmp_path, "var c = 3;\n", "dist/plain.js")
    write_map(one, [(0, 4, 0, 2, 6)], ["../src/one.ts"])
    write_map(two, [(0, 4, 0, 7, 2)], ["../src/two.ts"], inline=True)
    maps = sourcemap.load_source_maps([one, two, plain], base_dir=tmp_path)
    assert calls == [2]  # one Node process for both maps; the file without a map needs none
    assert maps[plain] is None
    assert str(maps[one].original(1, 5)) == "src/one.ts:3:7"  # type: ignore[union-attr]
    assert str(maps[two].original(1, 5)) == "src/two.ts:8:3"  # type: ignore[union-attr]
    assert load_source_map(one, base_dir=tmp_path) is not None
    assert calls == [2]  # asked again (the build step, then a report): not decoded again
    write_map(one, [(0, 4, 0, 4, 0)], ["../src/one.ts"])  # rebuilt: another map
    assert str(load_source_map(one, base_dir=tmp_path).original(1, 5)) == "src/one.ts:5:1"  # type: ignore[union-attr]
    assert calls == [2, 1]


def test_one_unreadable_map_does_not_cost_the_others_theirs(tmp_path: Path) -> None:
    good = _built(tmp_path, "var a = 1;\n", "dist/good.js")
    write_map(good, [(0, 0, 0, 0, 0)], ["../src/good.ts"])
    bad = _built(tmp_path, "var b;\n//# sourceMappingURL=bad.js.map\n", "dist/bad.js")
    bad.with_name("bad.js.map").write_text('{"version": 3, "sources": []}')
    maps = sourcemap.load_source_maps([good, bad], base_dir=tmp_path)
    assert isinstance(maps[bad], SourceMapError)
    assert "bad.js.map: not a source map (no mappings)" in str(maps[bad])
    assert str(maps[good].original(1, 1)) == "src/good.ts:1:1"  # type: ignore[union-attr]


def test_a_source_without_embedded_text_is_read_where_the_source_root_puts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = _built(tmp_path, "var a = 1;\n", "project/dist/fn.js")
    (tmp_path / "project/lib").mkdir()
    (tmp_path / "project/lib/fn.ts").write_text("const a = 1;\n")
    payload = write_map(built, [(0, 0, 0, 0, 0)], ["fn.ts"])
    payload["sourceRoot"] = "../lib/"
    built.with_name("fn.js.map").write_text(json.dumps(payload))
    monkeypatch.chdir(tmp_path)  # elsewhere than the sources are shown relative to
    source_map = load_source_map(built, base_dir=tmp_path / "project")
    assert source_map is not None
    assert source_map.sources == ["lib/fn.ts"]
    assert source_map.source_text("lib/fn.ts") == "const a = 1;\n"
    assert source_map.source_text("lib/other.ts") is None
