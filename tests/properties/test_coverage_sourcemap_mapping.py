"""Property: placing a built file's coverage in its sources through a source map never changes
the counts of what has a source, and what has none is exactly what the note counts.

The map is random (each built line from some line of one of three sources, from an explicitly
unmapped segment, or from nothing), one-to-one on lines, and the counts are random; the table is
built in Python, so this needs no Node."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim.build.sourcemap import SourceMap
from edgesim.coverage.collector import FileCoverage, table_for
from edgesim.coverage.sourcemaps import map_file, merge
from edgesim.coverage.summary import summarise_file

BUILT = """\
function pick(uri) {
  if (uri === '/a') {
    return 'a';
  }
  var n = uri.length > 3 ? 'long' : 'short';
  switch (n) {
    case 'long':
      return n || 'x';
    default:
      return n && n.length;
  }
}
var twice = function (x) { return x + x; };
var pair = [function () { return 1; }, function () { return 2; }];
function handler(event) {
  var request = event.request;
  request.headers['x'] = { value: pick(request.uri) + twice(request.uri ?? '') };
  return request;
}
"""
TABLE = table_for(BUILT)
assert TABLE is not None
LINES = BUILT.count("\n")
SOURCES = ["src/a.ts", "src/b.ts", "src/shared/c.ts"]
NO_ROW, UNMAPPED = -2, -1


@st.composite
def _case(draw: st.DrawFn) -> tuple[list[int], list[int], list[int]]:
    kinds = draw(st.lists(st.integers(NO_ROW, 2), min_size=LINES, max_size=LINES))
    targets = draw(st.lists(st.integers(1, 400), min_size=LINES, max_size=LINES, unique=True))
    assert TABLE is not None
    counts = draw(st.lists(st.integers(0, 60), min_size=TABLE.size, max_size=TABLE.size))
    return kinds, targets, counts


def _map(kinds: list[int], targets: list[int]) -> SourceMap:
    rows: list[list[object]] = []
    for index, (kind, target) in enumerate(zip(kinds, targets, strict=True)):
        if kind != NO_ROW:
            rows.append([index + 1, 1, kind, target, 0, None])
    contents: list[str | None] = [None] * len(SOURCES)
    return SourceMap(Path("dist/fn.js"), None, SOURCES, contents, rows, base_dir=Path("/nowhere"))


@settings(max_examples=60, deadline=None)
@given(case=_case())
def test_mapping_keeps_every_count_that_has_a_source(
    case: tuple[list[int], list[int], list[int]],
) -> None:
    kinds, targets, counts = case
    assert TABLE is not None
    entry = FileCoverage("dist/fn.js", BUILT, TABLE, list(counts))
    built = summarise_file(entry)
    mapped = map_file(entry, _map(kinds, targets))

    def origin(line: int) -> tuple[str, int] | None:
        kind = kinds[line - 1]
        return (SOURCES[kind], targets[line - 1]) if kind >= 0 else None

    # Every executable line with a source has the same count at its source line; nothing else.
    expected = {origin(line): count for line, count in built.lines.items() if origin(line)}
    found = {(path, line): n for path, s in mapped.sources.items() for line, n in s.lines.items()}
    assert found == expected
    # Hit totals: branch arms and function calls with a source are all there, once.
    arms = sum(a.count for b in built.branches if origin(b.line) for a in b.arms)
    assert sum(a.count for s in mapped.sources.values() for b in s.branches for a in b.arms) == arms
    calls = sorted(f.count for f in built.functions if origin(f.line))
    assert sorted(f.count for s in mapped.sources.values() for f in s.functions) == calls
    for summary in mapped.sources.values():  # names carry source lines, never built ones
        for f in summary.functions:
            assert f.name.split("@")[0] in ("pick", "twice", "handler", f"(anonymous_{f.line})")
    # The note's number: statements, branch points and functions on lines without a source.
    sourceless = (
        sum(1 for line, _col, _probe in TABLE.statements if origin(line) is None)
        + sum(1 for b in TABLE.branches if origin(b.line) is None)
        + sum(1 for f in TABLE.functions if origin(f.line) is None)
    )
    assert mapped.unmapped == sourceless
    # The same module from two built files: every count doubles, the covered share stays.
    for summary in mapped.sources.values():
        both = merge(summary, summary)
        assert both.lines == {line: 2 * n for line, n in summary.lines.items()}
        assert [a.count for b in both.branches for a in b.arms] == [
            2 * a.count for b in summary.branches for a in b.arms
        ]
        assert [f.count for f in both.functions] == [2 * f.count for f in summary.functions]
        assert both.covered == summary.covered
