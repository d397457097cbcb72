"""A small built project written by hand for the source-map coverage tests: two TypeScript
functions sharing a helper module, "built" into two ES5 files with source maps (one next to
the file, one inline) whose segments point at the sources by searching their text, plus glue
that maps to nothing, as a bundler writes it."""

from __future__ import annotations

from pathlib import Path

from tests.unit.build.mapkit import write_map

COHORT_TS = """\
// Shared by both functions: which half of the site a viewer sees.
export function cohort(id: string): string {
  if (id.length % 2 === 0) {
    return "even";
  }
  return "odd";
}
"""
A_TS = """\
import { cohort } from "./shared/cohort";

export function handler(event: Ev): Req {
  const request = event.request;
  request.headers["x-cohort"] = { value: cohort(request.uri) };
  return request;
}
"""
B_TS = """\
import { cohort } from "./shared/cohort";

export function handler(event: Ev): Req {
  const request = event.request;
  if (request.uri === "/skip") {
    return request;
  }
  request.headers["x-b"] = { value: cohort(request.uri) };
  return request;
}
"""
SOURCES = {"src/shared/cohort.ts": COHORT_TS, "src/a.ts": A_TS, "src/b.ts": B_TS}

# Each built line, and the text in a source its first token comes from (None: glue).
COHORT_JS = [
    ("function cohort(id) {", ("src/shared/cohort.ts", "function cohort")),
    ("  if (id.length % 2 === 0) {", ("src/shared/cohort.ts", "if (id.length")),
    ('    return "even";', ("src/shared/cohort.ts", 'return "even"')),
    ("  }", None),
    ('  return "odd";', ("src/shared/cohort.ts", 'return "odd"')),
    ("}", None),
]
A_JS = [
    # Glue: a statement, a function and its statement the build wrote itself (3 counters).
    ("var __wrap = function (value) { return value; };", None),
    *COHORT_JS,
    ("function handler(event) {", ("src/a.ts", "function handler")),
    ("  var request = event.request;", ("src/a.ts", "const request")),
    (
        '  request.headers["x-cohort"] = { value: cohort(request.uri) };',
        ("src/a.ts", "request.headers["),
    ),
    ("  return __wrap(request);", ("src/a.ts", "return request")),
    ("}", None),
]
B_JS = [
    ('var __version = "1";', None),  # glue: 1 counter
    *COHORT_JS,
    ("function handler(event) {", ("src/b.ts", "function handler")),
    ("  var request = event.request;", ("src/b.ts", "const request")),
    ('  if (request.uri === "/skip") {', ("src/b.ts", "if (request.uri")),
    ("    return request;", ("src/b.ts", "return request;\n  }")),
    ("  }", None),
    (
        '  request.headers["x-b"] = { value: cohort(request.uri) };',
        ("src/b.ts", "request.headers["),
    ),
    ("  return request;", ("src/b.ts", "return request;\n}")),
    ("}", None),
]
GLUE_COUNTERS = {"dist/a.js": 3, "dist/b.js": 1}


def line_of(source: str, text: str) -> int:
    """The 1-based line of ``source`` where ``text`` (found exactly once) starts."""
    body = SOURCES[source]
    assert body.count(text) == 1, text
    return body[: body.index(text)].count("\n") + 1


def _position(source: str, text: str) -> tuple[int, int]:
    body = SOURCES[source]
    line = line_of(source, text)
    start = body.index(text)
    return line - 1, start - (body.rfind("\n", 0, start) + 1)  # 0-based, as maps count


def _write(
    root: Path, name: str, lines: list[tuple[str, tuple[str, str] | None]], **kw: object
) -> None:
    built = root / "dist" / name
    built.parent.mkdir(parents=True, exist_ok=True)
    built.write_text("\n".join(text for text, _ in lines) + "\n")
    order = list(SOURCES)
    segments = []
    for index, (text, origin) in enumerate(lines):
        if origin is not None:
            source, anchor = origin
            line, col = _position(source, anchor)
            segments.append((index, len(text) - len(text.lstrip()), order.index(source), line, col))
    contents = list(SOURCES.values()) if kw.get("contents") else None
    write_map(built, segments, [f"../{s}" for s in order], contents, inline=bool(kw.get("inline")))


def write_project(root: Path) -> None:
    """``src/*.ts`` and ``dist/a.js`` (map next to it, sources embedded) and ``dist/b.js``
    (inline map without the sources' text: the report reads them from disk)."""
    for path, text in SOURCES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    _write(root, "a.js", A_JS, contents=True)
    _write(root, "b.js", B_JS, inline=True)
