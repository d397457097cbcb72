"""Coverage of built functions given in the sources they were built from (issue 15).

A function file with a source map (the build step's detection: an inline ``data:`` map, the
file a ``sourceMappingURL`` comment names, or ``FILE.js.map`` next to it) is reported per
original source: every statement, branch point and function counter is placed where the map
says its generated position comes from. What maps to no source (bundler glue, helpers the
compiler or bundler wrote) is left out and counted in a note. Two functions built from a shared
module both add to that module's entry, as coverage.py merges a file imported by two tests: a
line's count is the sum over the built files of its count in each (within one built file, the
largest of the counters on it, as for any file); a branch point or function found in several
built files at the same source position adds up arm by arm.

Maps are decoded by :func:`edgesim.build.sourcemap.load_source_maps`: every map not decoded yet
in one Node process, and none twice in a process (the build step's decoding is reused).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from edgesim.build.sourcemap import SourceMap, SourceMapError, has_source_map, load_source_maps
from edgesim.coverage.collector import Collector, FileCoverage
from edgesim.coverage.summary import (
    ArmCount,
    BranchCount,
    FileSummary,
    FunctionCount,
    summarise_file,
)

_SUFFIX = re.compile(r"@\d+(?::\d+)?$")
_ANONYMOUS = re.compile(r"^\(anonymous_\d+\)$")


@dataclass
class _Partial:
    """One original source's counts from one built file (or several, once merged)."""

    path: str
    text: str
    lines: dict[int, int] = field(default_factory=dict)
    functions: list[FunctionCount] = field(default_factory=list)
    branches: list[BranchCount] = field(default_factory=list)

    def summary(self) -> FileSummary:
        functions = _unique_names(sorted(self.functions, key=lambda f: (f.line, f.column)))
        branches = tuple(sorted(self.branches, key=lambda b: (b.line, b.column)))
        return FileSummary(
            self.path, self.text, dict(sorted(self.lines.items())), functions, branches
        )


@dataclass(frozen=True)
class MappedFile:
    """A built file's coverage in its sources, and how many counters mapped to none."""

    sources: dict[str, FileSummary]
    unmapped: int


def _function_name(name: str, line: int) -> str:
    """A counter's name with the built file's line taken out of it: ``(anonymous_3)`` becomes
    the source line's, and the ``@LINE`` that told apart two functions of one name goes (it is
    added again, with source lines, where two remain)."""
    name = _SUFFIX.sub("", name)
    return f"(anonymous_{line})" if _ANONYMOUS.match(name) else name


def _unique_names(functions: list[FunctionCount]) -> tuple[FunctionCount, ...]:
    """Names told apart by their source line where two are alike (``handler@7``), and by
    line and column where that is not enough (the same whichever built files they came from)."""
    suffixes: list[Callable[[FunctionCount], str]] = [
        lambda f: f"@{f.line}",
        lambda f: f"@{f.line}:{f.column}",
    ]
    functions = [
        FunctionCount(_SUFFIX.sub("", f.name), f.line, f.count, f.column) for f in functions
    ]
    for suffix in suffixes:
        seen: dict[str, int] = {}
        for f in functions:
            seen[f.name] = seen.get(f.name, 0) + 1
        functions = [
            FunctionCount(_SUFFIX.sub("", f.name) + suffix(f), f.line, f.count, f.column)
            if seen[f.name] > 1
            else f
            for f in functions
        ]
    return tuple(functions)


def map_file(entry: FileCoverage, source_map: SourceMap) -> MappedFile:
    """``entry``'s counts placed in the sources ``source_map`` names."""
    generated = summarise_file(entry)  # arm counts, computed as for any file
    counts, table = entry.counts, entry.table
    partials: dict[str, _Partial] = {}
    unmapped = 0

    def partial(source: str) -> _Partial:
        found = partials.get(source)
        if found is None:
            text = source_map.source_text(source)
            found = partials[source] = _Partial(source, text or "")
        return found

    for line, column, probe in table.statements:
        origin = source_map.original(line, column)
        if origin is None:
            unmapped += 1
            continue
        lines = partial(origin.source).lines
        lines[origin.line] = max(lines.get(origin.line, 0), counts[probe])
    for branch in generated.branches:
        origin = source_map.original(branch.line, branch.column)
        if origin is None:
            unmapped += 1
            continue
        target = partial(origin.source)
        target.branches.append(BranchCount(origin.line, branch.kind, branch.arms, origin.column))
        target.lines[origin.line] = max(target.lines.get(origin.line, 0), branch.reached)
    for function in generated.functions:
        origin = source_map.original(function.line, function.column)
        if origin is None:
            unmapped += 1
            continue
        name = _function_name(function.name, origin.line)
        partial(origin.source).functions.append(
            FunctionCount(name, origin.line, function.count, origin.column)
        )
    return MappedFile({path: p.summary() for path, p in partials.items()}, unmapped)


def merge(first: FileSummary, second: FileSummary) -> FileSummary:
    """One source's counts from two built files added up (see the module's note)."""
    lines = dict(first.lines)
    for line, count in second.lines.items():
        lines[line] = lines.get(line, 0) + count
    functions = list(first.functions)
    for f, index in _pairs(first.functions, second.functions, _same_function):
        if index is None:
            functions.append(f)
        else:
            was = functions[index]
            functions[index] = FunctionCount(was.name, was.line, was.count + f.count, was.column)
    branches = list(first.branches)
    for branch, index in _pairs(first.branches, second.branches, _same_point):
        if index is None:
            branches.append(branch)
            continue
        mine = branches[index]
        arms = tuple(
            ArmCount(arm.label, arm.count + other.count)
            for arm, other in zip(mine.arms, branch.arms, strict=True)
        )
        branches[index] = BranchCount(mine.line, mine.kind, arms, mine.column)
    return FileSummary(
        first.path,
        first.text or second.text,
        dict(sorted(lines.items())),
        _unique_names(sorted(functions, key=lambda f: (f.line, f.column))),
        tuple(sorted(branches, key=lambda b: (b.line, b.column))),
    )


_T = TypeVar("_T", FunctionCount, BranchCount)


def _pairs(
    first: Sequence[_T], second: Sequence[_T], same: Callable[[_T, _T], bool]
) -> Iterator[tuple[_T, int | None]]:
    """Each of ``second`` with the index of the same construct in ``first`` (None: only in
    ``second``); each of ``first`` pairs at most once, in order, so two alike constructs in
    one file stay two."""
    taken: set[int] = set()
    for other in second:
        index = next(
            (i for i, mine in enumerate(first) if i not in taken and same(mine, other)), None
        )
        if index is not None:
            taken.add(index)
        yield other, index


def _same_function(a: FunctionCount, b: FunctionCount) -> bool:
    # By position: a name may carry a suffix in one file and not in the other (a bundle that
    # dropped the other function of that name).
    return (a.line, a.column) == (b.line, b.column)


def _same_point(a: BranchCount, b: BranchCount) -> bool:
    return (a.line, a.column, a.kind) == (b.line, b.column, b.kind) and [
        arm.label for arm in a.arms
    ] == [arm.label for arm in b.arms]


def built_path(entry: FileCoverage, root: Path) -> Path:
    path = Path(entry.path)
    return path if path.is_absolute() else root / path


def _as_loaded(entry: FileCoverage, path: Path) -> bool:
    """Whether the file on disk is still the text that was measured (a rebuild after the last
    load would come with a map of other code)."""
    try:
        return path.read_bytes().decode("utf-8") == entry.text
    except (OSError, UnicodeDecodeError):
        return False


def summaries_in_sources(
    collector: Collector, *, sourcemaps: bool = True
) -> tuple[list[FileSummary], list[str]]:
    """The report's files, sorted by path (built files with a source map replaced by their
    sources when ``sourcemaps``), and notes on what was left out or not mapped.

    A built file measured only for its sources (:attr:`FileCoverage.for_sources`) gives its
    sources under the collector's ``include`` and nothing else, not even itself unmapped."""
    entries = [collector.files[path] for path in sorted(collector.files)]
    if not sourcemaps:
        return [summarise_file(entry) for entry in entries if not entry.for_sources], []
    notes: list[str] = []
    paths = {entry.path: built_path(entry, collector.root) for entry in entries}
    stale = {e.path for e in entries if not _as_loaded(e, paths[e.path])}
    maps = load_source_maps(
        [paths[e.path] for e in entries if e.path not in stale], base_dir=collector.root
    )
    found: dict[str, FileSummary] = {}
    for entry in entries:
        instead = "not reported" if entry.for_sources else "coverage is of the built file"
        source_map = maps.get(paths[entry.path])
        if entry.path in stale and has_source_map(paths[entry.path]):
            notes.append(
                f"{entry.path}: changed on disk since it was measured (rebuilt?), so its "
                f"source map is not of the code measured ({instead})"
            )
        elif isinstance(source_map, SourceMapError):
            notes.append(f"{entry.path}: {source_map} ({instead})")
        if not isinstance(source_map, SourceMap):
            if not entry.for_sources:
                _add(found, [summarise_file(entry)])
            continue
        mapped = map_file(entry, source_map)
        kept = list(mapped.sources.values())
        if entry.for_sources:
            kept = [s for s in kept if collector.wants(str(collector.root / s.path))]
        _add(found, kept)
        if mapped.unmapped:
            notes.append(
                f"{entry.path}: {mapped.unmapped} probe{'s' * (mapped.unmapped != 1)} in "
                "generated code without a source, not counted"
            )
    return [found[path] for path in sorted(found)], notes


def _add(found: dict[str, FileSummary], summaries: Iterable[FileSummary]) -> None:
    for summary in summaries:
        before = found.get(summary.path)
        found[summary.path] = summary if before is None else merge(before, summary)
