"""Positions in built files, said in the source the user edits.

Everything edgesim reports about a function (runtime errors and their stacks, syntax and
compatibility findings, load errors) names a position as ``FILE:LINE:COL`` of the file it loaded.
For a built file with a source map, :class:`Relabeler` rewrites each such position to
``src/router.ts:14:9 [dist/router.js:3:100]`` and, after a compatibility finding that maps into
the sources, adds the build setting that typically produces the construct
(:mod:`edgesim.build.hints`). It works on any text, so one object serves the console, ``/status``
and the command line alike; a stream wrapper (:class:`RelabelingStream`) applies it to
everything a command prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from edgesim.build.hints import BUNDLER_HINT, hint_for
from edgesim.build.sourcemap import Origin, SourceMap

_FINDING = re.compile(r": (?:error|warning) \[(?P<rule>[\w-]+)\]")


class Relabeler:
    """Rewrites positions of built files that have a source map."""

    def __init__(self) -> None:
        self._maps: dict[str, SourceMap] = {}
        self._pattern: re.Pattern[str] | None = None

    def __bool__(self) -> bool:
        return bool(self._maps)

    def set_map(
        self, built: Path, source_map: SourceMap | None, labels: Iterable[str] = ()
    ) -> None:
        """Use ``source_map`` for ``built`` (None: forget it), under every name edgesim may
        print for it: as given, absolute, and ``labels``."""
        names = {str(built), str(built.resolve()), *labels}
        for name in names:
            if source_map is None:
                self._maps.pop(name, None)
            else:
                self._maps[name] = source_map
        self._compile()

    def _compile(self) -> None:
        if not self._maps:
            self._pattern = None
            return
        names = "|".join(re.escape(n) for n in sorted(self._maps, key=len, reverse=True))
        # Not inside a longer path, and not a position already put in brackets.
        self._pattern = re.compile(rf"(?<![\w./\\\[-])(?P<file>{names}):(?P<line>\d+):(?P<col>\d+)")

    def origin(self, label: str, line: int, col: int) -> Origin | None:
        """Where ``label:line:col`` comes from (None: not a mapped built file, or unmapped)."""
        source_map = self._maps.get(label)
        return None if source_map is None else source_map.original(line, col)

    def maps(self, label: str) -> bool:
        """Whether ``label`` names a built file with a source map."""
        return label in self._maps

    def position(self, text: str) -> str:
        """``text`` with every position of a mapped built file given in the source."""
        if self._pattern is None or not text:
            return text

        def fix(match: re.Match[str]) -> str:
            source_map = self._maps[match["file"]]
            return source_map.describe(match["file"], int(match["line"]), int(match["col"]))

        return self._pattern.sub(fix, text)

    def text(self, text: str) -> str:
        """:meth:`position` line by line, with a build hint after each compatibility finding
        in a mapped built file: the setting that produces the construct when it maps into the
        sources, or a note that the build wrote it itself (a helper, a wrapper) when not."""
        if self._pattern is None or not text:
            return text
        out: list[str] = []
        for line in text.split("\n"):
            fixed = self.position(line)
            out.append(fixed)
            finding = _FINDING.search(line)
            where = self._pattern.match(line.lstrip())
            if finding is None or where is None:
                continue
            hint = hint_for(finding["rule"])
            indent = " " * (len(line) - len(line.lstrip()) + 4)
            if fixed == line:
                out.append(f"{indent}build hint: {BUNDLER_HINT}")
            elif hint:
                out.append(f"{indent}build hint: {hint}")
        return "\n".join(out)


class RelabelingStream:
    """A text stream that relabels whatever is written to it, line by line."""

    def __init__(self, target: TextIO, relabeler: Relabeler) -> None:
        self._target = target
        self._relabeler = relabeler
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            done, self._pending = self._pending.rsplit("\n", 1)
            self._target.write(self._relabeler.text(done) + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._target.write(self._relabeler.text(self._pending))
            self._pending = ""
        self._target.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self._target, name)
