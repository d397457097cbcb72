"""Report specifications, as pytest-cov spells them, and writing the reports.

``term`` (the table), ``term-missing`` (with what was missed), ``lcov[:PATH]``, ``xml[:PATH]``
(Cobertura) and ``html[:DIR]``; without a path they go to ``edgesim-cov.lcov``,
``edgesim-cov.xml`` and ``edgesim-htmlcov/`` (names apart from Python coverage's own).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TextIO

from edgesim.coverage import formats, html
from edgesim.coverage.collector import Collector
from edgesim.coverage.sourcemaps import summaries_in_sources
from edgesim.coverage.summary import FileSummary, total
from edgesim.errors import InputError

DEFAULT_TARGETS = {"lcov": "edgesim-cov.lcov", "xml": "edgesim-cov.xml", "html": "edgesim-htmlcov"}
KINDS = ("term", "term-missing", "lcov", "xml", "html")


@dataclass(frozen=True)
class ReportSpec:
    kind: str
    target: str | None = None  # file or directory; None for the terminal


def parse_spec(text: str) -> ReportSpec:
    """``term-missing``, ``lcov:PATH``, … (see the module docstring); bad ones say why."""
    kind, sep, target = text.partition(":")
    if kind not in KINDS:
        raise InputError(
            f"coverage report {text!r}: expected one of term, term-missing, lcov[:PATH], "
            "xml[:PATH], html[:DIR]"
        )
    if kind.startswith("term"):
        if sep:
            raise InputError(f"coverage report {text!r}: {kind} takes no path")
        return ReportSpec(kind)
    if sep and not target:
        raise InputError(f"coverage report {text!r}: the path after ':' is empty")
    return ReportSpec(kind, target or DEFAULT_TARGETS[kind])


def write_reports(
    collector: Collector,
    specs: list[ReportSpec],
    *,
    root: Path | None = None,
    sourcemaps: bool = True,
) -> tuple[str, Fraction]:
    """Write the file reports (relative targets under ``root``, default the working
    directory); the terminal text to print (tables, then where each file went, then notes) and
    the total covered share. With ``sourcemaps``, a built file with a source map is reported
    as the sources it was built from (:mod:`edgesim.coverage.sourcemaps`)."""
    summaries, notes = summaries_in_sources(collector, sourcemaps=sourcemaps)
    out: list[str] = []
    for spec in specs:
        if spec.kind.startswith("term"):
            out.append(formats.term(summaries, missing=spec.kind == "term-missing"))
            continue
        assert spec.target is not None
        target = Path(spec.target)
        if root is not None and not target.is_absolute():
            target = root / target
        written = _write(spec.kind, summaries, target)
        out.append(f"Coverage {spec.kind} report written to {written}\n")
    for path, why in sorted(collector.unmeasured.items()):
        out.append(f"Not measured: {path} ({why})\n")
    out += [f"Note: {note}\n" for note in notes]
    return "".join(out), total(summaries)


def _write(kind: str, summaries: list[FileSummary], target: Path) -> Path:
    try:
        if kind == "html":
            return html.write(summaries, target)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = formats.lcov(summaries) if kind == "lcov" else formats.cobertura(summaries)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"coverage {kind} report {target}: {exc.strerror or exc}") from None
    return target


def fail_under_message(share: Fraction, threshold: float) -> str | None:
    """None when ``share`` reaches ``threshold`` percent, else the failure's message."""
    if share * 100 >= Fraction(threshold).limit_denominator(10**6):
        return None
    return (
        f"FAIL Required function coverage of {threshold:g}% not reached. "
        f"Total coverage: {float(share * 100):.2f}%"
    )


def run_covered(
    specs: list[str],
    run: Callable[[], int],
    *,
    out: TextIO | None = None,
    sourcemaps: bool = True,
) -> int:
    """``run()`` (``edgesim test``) with coverage of the functions it loads recorded, then
    the reports (``specs``; default ``term-missing``; in the sources when ``sourcemaps``)
    written, their text on ``out`` (stderr: stdout holds the test result's JSON). Returns
    ``run()``'s exit code."""
    from edgesim import coverage

    parsed = [parse_spec(spec) for spec in specs] or [parse_spec("term-missing")]
    collector = coverage.start()
    try:
        code = run()
    finally:
        coverage.stop()
    text, _share = write_reports(collector, parsed, sourcemaps=sourcemaps)
    (out or sys.stderr).write(text)
    return code


def record_until_exit(
    specs: list[str], *, out: TextIO | None = None, sourcemaps: bool | None = None
) -> Collector:
    """Record coverage of every function the process loads from now on and write the reports
    (``specs``) when the interpreter exits: how ``EDGESIM_COVERAGE`` covers a ``serve`` run.
    Relative paths are taken from the working directory of now. ``sourcemaps`` None: in the
    sources unless ``EDGESIM_COVERAGE_NO_SOURCEMAPS`` is set (to anything but ``0``)."""
    import atexit

    from edgesim import coverage

    parsed = [parse_spec(spec.strip()) for spec in specs if spec.strip()]
    root = Path.cwd()
    if sourcemaps is None:
        sourcemaps = os.environ.get("EDGESIM_COVERAGE_NO_SOURCEMAPS", "0") in ("", "0")
    collector = coverage.start()

    def write() -> None:
        text, _share = write_reports(collector, parsed, root=root, sourcemaps=sourcemaps)
        (out or sys.stderr).write(text)

    atexit.register(write)
    return collector
