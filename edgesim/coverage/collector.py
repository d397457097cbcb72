"""Counts per function file, gathered from every function loaded while coverage is on.

A :class:`Collector` is what :class:`~edgesim.runtime.function.LoadedFunction` calls at load
time (it is a :class:`~edgesim.runtime.instrument.BodyInstrumenter`): for a file it wants, it
adds the counters to the body and answers a session factory whose sessions hand their counts
to the file's :class:`FileCoverage`. Every load of the same file (``load_function`` in many
tests, ``serve``, the fixtures) adds to the same counts; a file loaded again with other text
(a reload after an edit) starts over, so a report is of the file as last loaded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgesim.build.sourcemap import source_files
from edgesim.coverage.probes import ProbeTable, instrument_coverage

if TYPE_CHECKING:
    from edgesim.runtime.engine import JsSession
    from edgesim.runtime.positions import PositionMap
    from edgesim.runtime.source import FunctionSource


@dataclass
class FileCoverage:
    """One function file: its text as loaded, its counters, and their counts so far."""

    path: str  # as reports show it: relative to the working directory when under it
    text: str
    table: ProbeTable
    counts: list[int] = field(default_factory=list)
    # Measured only for the sources its source map names under ``include`` (not itself under
    # it): reports keep those sources and nothing else of it.
    for_sources: bool = False

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * self.table.size

    def add(self, hits: str) -> None:
        """Add counts sent by a session: ``"index,count,index,count…"``."""
        numbers = hits.split(",")
        counts = self.counts
        for i in range(0, len(numbers) - 1, 2):
            counts[int(numbers[i])] += int(numbers[i + 1])

    def session(self, body: str, **options: Any) -> JsSession:
        from edgesim.coverage.session import CoveredSession

        return CoveredSession(body, size=self.table.size, sink=self.add, **options)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "text": self.text,
            "counts": list(self.counts),
            "for_sources": self.for_sources,
        }


def display_path(filename: str, root: Path | None = None) -> str:
    """``filename`` relative to ``root`` (default: the working directory) when it is under it,
    else as given."""
    path = Path(filename)
    try:
        resolved = path.resolve()
        return str(resolved.relative_to(root or Path.cwd().resolve()))
    except (OSError, ValueError):
        return filename


class Collector:
    """Coverage of the function files under ``include`` (every file when empty).

    ``include`` holds files or directories; a function loaded from text (no file) is measured
    only when ``include`` is empty. A built file outside ``include`` with a source map is
    measured too, for the reports to keep the sources under ``include`` (``--edgesim-cov=src``
    for functions built from ``src/``).
    """

    def __init__(self, include: Iterable[str | os.PathLike[str]] = ()) -> None:
        self.include = tuple(Path(p).resolve() for p in include)
        # Paths are shown relative to the working directory coverage started in: a test that
        # changes directory must not make the same file a second entry.
        self.root = Path.cwd().resolve()
        self.files: dict[str, FileCoverage] = {}
        # Files tree-sitter could not parse: they run unmeasured (path → why).
        self.unmeasured: dict[str, str] = {}
        # (file, hash of its text) → whether its source map names a source under ``include``.
        self._built_from: dict[tuple[str, int], bool] = {}
        # (text as written, body) → the instrumented body: the same text loads the same way.
        self._made: dict[tuple[str, str], Any] = {}

    def wants(self, filename: str) -> bool:
        if not self.include:
            return True
        try:
            path = Path(filename).resolve()
        except OSError:
            return False
        return any(path == root or root in path.parents for root in self.include)

    def _for_sources(self, source: FunctionSource) -> bool:
        """Whether a file outside ``include`` is built from sources under it (its source map
        names one), so that reports can give those sources."""
        path = Path(source.filename)
        if "sourceMappingURL" not in source.text and not Path(f"{path}.map").is_file():
            return False  # most files: no map, decided without keeping anything
        key = (source.filename, hash(source.text))
        found = self._built_from.get(key)
        if found is None:
            sources = source_files(path, source.text)
            found = self._built_from[key] = any(self.wants(str(p)) for p in sources)
        return found

    def __call__(
        self, source: FunctionSource, body: str, positions: PositionMap
    ) -> tuple[str, PositionMap, Callable[..., JsSession]] | None:
        for_sources = not self.wants(source.filename)
        if for_sources and not self._for_sources(source):
            return None
        path = display_path(source.filename, self.root)
        key = (source.text, body)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = instrument_coverage(body, positions) or ()
        if not made:
            self.unmeasured[path] = "tree-sitter could not parse it"
            return None
        text, layer, table = made
        entry = self.files.get(path)
        if entry is None or entry.text != source.text or entry.table != table:
            entry = self.files[path] = FileCoverage(path, source.text, table, [], for_sources)
        return text, positions.then(layer), entry.session

    # -- combining runs (pytest-xdist workers) ------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [entry.to_dict() for entry in self.files.values()],
            "unmeasured": dict(self.unmeasured),
        }

    def merge(self, data: dict[str, Any]) -> None:
        """Add counts another process recorded (:meth:`to_dict`) for the same files."""
        self.unmeasured.update(data.get("unmeasured", {}))
        for item in data.get("files", []):
            path, text, counts = item["path"], item["text"], item["counts"]
            entry = self.files.get(path)
            if entry is None:
                table = table_for(text)
                if table is None or table.size != len(counts):
                    continue
                for_sources = bool(item.get("for_sources", False))
                entry = self.files[path] = FileCoverage(path, text, table, [], for_sources)
            elif entry.text != text:
                continue  # another version of the file: the one here is kept
            for index, count in enumerate(counts):
                entry.counts[index] += count


def table_for(text: str) -> ProbeTable | None:
    """The counters of a function's text, as a load would instrument it."""
    from edgesim.runtime.source import load_body
    from edgesim.runtime.writes import guard_writes

    body, positions = load_body(text)
    body, _written, guards = guard_writes(body)
    made = instrument_coverage(body, positions.then(guards))
    return None if made is None else made[2]
