"""Merging one source's coverage from two built files (no Node needed)."""

from __future__ import annotations

from edgesim.coverage.sourcemaps import merge
from edgesim.coverage.summary import ArmCount, BranchCount, FileSummary, FunctionCount


def _summary(functions: list[FunctionCount], branches: list[BranchCount]) -> FileSummary:
    lines = {f.line: f.count for f in functions} | {b.line: b.reached for b in branches}
    return FileSummary("src/shared.ts", "", lines, tuple(functions), tuple(branches))


def test_functions_pair_by_position_and_names_stay_apart() -> None:
    # Bundle one kept both functions called `pick` (told apart by line); bundle two dropped
    # the first, so its `pick` has no suffix: still the same function at line 9.
    one = _summary([FunctionCount("pick@3", 3, 2, 17), FunctionCount("pick@9", 9, 1, 17)], [])
    two = _summary([FunctionCount("pick", 9, 5, 17)], [])
    merged = merge(one, two)
    assert [(f.name, f.line, f.count) for f in merged.functions] == [
        ("pick@3", 3, 2),
        ("pick@9", 9, 6),
    ]
    assert merged.lines == {3: 2, 9: 6}


def test_alike_branches_on_one_position_stay_two() -> None:
    # A lowered `a ?? b` is a `?:` and an `&&` at one position; a second `?:` there (from the
    # other file) pairs with the first `?:` only.
    def tern(then: int, other: int) -> BranchCount:
        return BranchCount(4, "?:", (ArmCount("then", then), ArmCount("else", other)), 10)

    both = BranchCount(4, "&&", (ArmCount("right", 1), ArmCount("short", 0)), 10)
    merged = merge(_summary([], [tern(1, 0), both]), _summary([], [tern(0, 3)]))
    assert [(b.kind, [a.count for a in b.arms]) for b in merged.branches] == [
        ("?:", [1, 3]),
        ("&&", [1, 0]),
    ]
    assert merged.missed_arms == [(merged.branches[1], ArmCount("short", 0))]
