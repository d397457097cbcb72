"""One build command and what it produces: run it, check its output, read its source maps.

Several functions may share one command (``npm run build`` writing both ``dist/a.js`` and
``dist/b.js``): they share one :class:`BuildStep`, which runs once for all of them. The files
the build itself writes are remembered (path and state after the build), so the watcher can
tell the build's own writes from the user's edits even when a ``watch`` glob also matches
them. Source maps are read only after a build that passes: a failed build keeps the last good
version serving, and its positions keep the last good map.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from edgesim.build.checks import built_file_problems
from edgesim.build.globs import WatchGlobs
from edgesim.build.relabel import Relabeler
from edgesim.build.runner import BuildOutcome, run_build, run_build_async
from edgesim.build.sourcemap import SourceMap, SourceMapError, load_source_map
from edgesim.lambda_edge.package import check_package

_SKIPPED_DIRS = frozenset({"node_modules", ".git", "__pycache__", ".venv"})

Stat = tuple[int, int]  # (mtime_ns, size)


@dataclass
class BuildReport:
    """One build: its outcome, the problems of what it wrote, and its maps (per output)."""

    outcome: BuildOutcome
    problems: list[str] = field(default_factory=list)
    # Worth saying but not refusing the build for (a source map that cannot be read).
    notes: list[str] = field(default_factory=list)
    maps: dict[Path, SourceMap | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome.ok and not self.problems

    def describe(self) -> str:
        text = self.outcome.describe()
        if self.outcome.ok and self.problems:
            text = (
                f"build `{self.outcome.command}` wrote what CloudFront would not take:\n"
                + "\n".join(self.problems)
            )
        return text


def _stat(path: Path) -> Stat | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


class BuildStep:
    def __init__(
        self,
        command: str,
        cwd: Path,
        *,
        outputs: Iterable[Path],
        lambda_outputs: Iterable[Path] = (),
        package_events: Mapping[Path, str] | None = None,
        watch: Iterable[str] = (),
        timeout_s: float = 120.0,
        relabeler: Relabeler | None = None,
    ) -> None:
        self.command = command
        self.cwd = cwd
        self.outputs = list(dict.fromkeys(outputs))
        # Lambda@Edge outputs (a file or a package directory): Node runs them with
        # --enable-source-maps, so no map is read here, and CloudFront Functions' checks do not
        # apply; the workers check that they load.
        self.lambda_outputs = list(dict.fromkeys(lambda_outputs))
        # Each lambda output's strictest event: its package must fit that event's quota.
        self.package_events = dict(package_events or {})
        self.globs = WatchGlobs(cwd, watch)
        self.timeout_s = timeout_s
        self.relabeler = relabeler if relabeler is not None else Relabeler()
        self.last: BuildReport | None = None
        self.runs = 0
        self._written: dict[Path, Stat] = {}

    # -- which changes concern this step ------------------------------------------------------
    def watched_files(self) -> dict[Path, Stat]:
        """Every existing file a watch glob matches, with its state."""
        found: dict[Path, Stat] = {}
        for root in self.globs.roots():
            for folder, dirs, files in os.walk(root):
                dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS]
                for name in files:
                    path = Path(folder, name)
                    if self.globs.matches(path):
                        state = _stat(path)
                        if state is not None:
                            found[path.resolve()] = state
        return found

    def concerns(self, path: Path) -> bool:
        """Whether a change to ``path`` should rerun this build: a watch glob matches it and it
        is not a file in the state this step's last build left it in."""
        path = path.resolve()
        if path in {p.resolve() for p in self.outputs}:
            return False
        if any(path.is_relative_to(p.resolve()) for p in self.lambda_outputs):
            return False  # written by the build (a package directory's files included)
        if not self.globs.matches(path):
            return False
        written = self._written.get(path)
        return written is None or _stat(path) != written

    # -- running --------------------------------------------------------------------------------
    def run(self) -> BuildReport:
        """Build now and wait (start-up, ``edgesim test --build``)."""
        before = self.watched_files()
        return self._finish(run_build(self.command, self.cwd, self.timeout_s), before)

    async def run_async(self) -> BuildReport:
        before = self.watched_files()
        outcome = await run_build_async(self.command, self.cwd, self.timeout_s)
        return self._finish(outcome, before)

    def _finish(self, outcome: BuildOutcome, before: dict[Path, Stat]) -> BuildReport:
        self.runs += 1
        after = self.watched_files()
        written = {p: s for p, s in after.items() if before.get(p) != s}
        for output in self.outputs:
            for path in (output, output.with_name(output.name + ".map")):
                state = _stat(path)
                if state is not None:
                    written[path.resolve()] = state
        self._written = written
        report = BuildReport(outcome)
        if outcome.ok:
            for output in self.outputs:
                report.problems += built_file_problems(output, self.command, self.cwd)
                try:
                    report.maps[output] = load_source_map(output, base_dir=self.cwd)
                except SourceMapError as exc:
                    report.maps[output] = None
                    report.notes.append(f"{exc} (positions stay in the built file)")
            for output in self.lambda_outputs:
                report.problems += self._lambda_problems(output)
            if report.ok:
                for output, source_map in report.maps.items():
                    self.relabeler.set_map(output, source_map)
        self.last = report
        return report

    def _lambda_problems(self, output: Path) -> list[str]:
        """What CloudFront would refuse in a built lambda: a missing file, or a package over the
        quota of the strictest event it runs on (as checked for an unbuilt one at config time)."""
        if not output.exists():
            return [f"{output}: the build passed but did not write this lambda's file"]
        event = self.package_events.get(output)
        if event is None:
            return []
        try:
            problem = check_package(output, event)
        except OSError as exc:
            return [f"{output}: cannot read the package: {exc}"]
        return [] if problem is None else [f"{problem}; the lambda runs on {event}"]
