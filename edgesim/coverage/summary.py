"""What the reports say of each file: lines, functions and branch arms with their counts.

A line is executable when a statement or a branch point starts on it; its count is the
largest of theirs (a branch point counts the times it was reached), as istanbul counts lines.
The percentage is coverage.py's with branch measurement: (lines run + arms taken) / (lines +
arms), so a missed line and an untaken arm both lower it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from edgesim.coverage.collector import Collector, FileCoverage
from edgesim.coverage.probes import Branch


@dataclass(frozen=True)
class ArmCount:
    label: str
    count: int


@dataclass(frozen=True)
class BranchCount:
    line: int
    kind: str
    arms: tuple[ArmCount, ...]
    column: int = 1

    @property
    def reached(self) -> int:
        return sum(arm.count for arm in self.arms)


@dataclass(frozen=True)
class FunctionCount:
    name: str
    line: int
    count: int
    column: int = 1


@dataclass(frozen=True)
class FileSummary:
    path: str
    text: str
    lines: dict[int, int]  # executable line → count
    functions: tuple[FunctionCount, ...]
    branches: tuple[BranchCount, ...]

    @property
    def statements(self) -> int:
        return len(self.lines)

    @property
    def missed_lines(self) -> list[int]:
        return sorted(line for line, count in self.lines.items() if count == 0)

    @property
    def arms(self) -> int:
        return sum(len(branch.arms) for branch in self.branches)

    @property
    def missed_arms(self) -> list[tuple[BranchCount, ArmCount]]:
        return [(b, arm) for b in self.branches for arm in b.arms if arm.count == 0]

    @property
    def covered(self) -> Fraction:
        """Covered share, exactly (1 when there is nothing to cover)."""
        return _share(
            self.statements - len(self.missed_lines) + self.arms - len(self.missed_arms),
            self.statements + self.arms,
        )

    def missing(self) -> str:
        """Missed lines as ranges, then the untaken arms of the lines that ran (``12:if else``)."""
        missed = self.missed_lines
        parts = _ranges(missed)
        run = set(missed)
        arms: dict[str, int] = {}
        for branch, arm in self.missed_arms:
            if branch.line not in run:
                label = f"{branch.line}:{branch.kind} {arm.label}"
                arms[label] = arms.get(label, 0) + 1
        parts += [label if n == 1 else f"{label} ×{n}" for label, n in arms.items()]
        return ", ".join(parts)


def _share(done: int, total: int) -> Fraction:
    return Fraction(1) if total == 0 else Fraction(done, total)


def _ranges(lines: list[int]) -> list[str]:
    """Sorted line numbers as ``3-5, 9``."""
    parts: list[str] = []
    index = 0
    while index < len(lines):
        end = index
        while end + 1 < len(lines) and lines[end + 1] == lines[end] + 1:
            end += 1
        first, last = lines[index], lines[end]
        parts.append(str(first) if first == last else f"{first}-{last}")
        index = end + 1
    return parts


def _arm_count(counts: list[int], plus: int, minus: int) -> int:
    return max(counts[plus] - (counts[minus] if minus >= 0 else 0), 0)


def _branch(counts: list[int], branch: Branch) -> BranchCount:
    arms = tuple(ArmCount(a.label, _arm_count(counts, a.plus, a.minus)) for a in branch.arms)
    return BranchCount(branch.line, branch.kind, arms, branch.column)


def summarise_file(entry: FileCoverage) -> FileSummary:
    counts, table = entry.counts, entry.table
    lines: dict[int, int] = {}
    for line, _column, probe in table.statements:
        lines[line] = max(lines.get(line, 0), counts[probe])
    branches = tuple(sorted((_branch(counts, b) for b in table.branches), key=lambda b: b.line))
    for branch in branches:
        lines[branch.line] = max(lines.get(branch.line, 0), branch.reached)
    functions = tuple(
        sorted(
            (FunctionCount(f.name, f.line, counts[f.probe], f.column) for f in table.functions),
            key=lambda f: f.line,
        )
    )
    return FileSummary(entry.path, entry.text, dict(sorted(lines.items())), functions, branches)


def summarise(collector: Collector) -> list[FileSummary]:
    return [summarise_file(collector.files[path]) for path in sorted(collector.files)]


def total(summaries: list[FileSummary]) -> Fraction:
    done = sum(s.statements - len(s.missed_lines) + s.arms - len(s.missed_arms) for s in summaries)
    return _share(done, sum(s.statements + s.arms for s in summaries))


def percent_text(share: Fraction) -> str:
    """A whole percentage that reads 100% only when complete and 0% only when nothing ran
    (coverage.py's rounding rule)."""
    value = share * 100
    if 0 < value < 1:
        return "1%"
    if 99 < value < 100:
        return "99%"
    return f"{round(value)}%"
