"""ThrottleWindow: when a function that keeps running over budget is throttled, for how long,
and that the window slides — all on a fake clock."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from edgesim.distribution.model import Throttling
from edgesim.edge.throttling import ThrottleWindow

SETTINGS = Throttling(window_s=10, min_invocations=4, over_budget_ratio=0.5, duration_s=30)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_sustained_overruns_throttle_for_the_configured_duration() -> None:
    clock = Clock()
    window = ThrottleWindow(SETTINGS, clock)
    assert [window.record(over_budget=True) for _ in range(3)] == [False, False, False]
    assert not window.throttled()
    assert window.record(over_budget=True)  # the 4th invocation reaches min_invocations
    assert window.throttled()
    clock.now = 29.9
    assert window.throttled()
    clock.now = 30.0
    assert not window.throttled()


def test_mostly_healthy_runs_are_never_throttled() -> None:
    window = ThrottleWindow(SETTINGS, Clock())
    for i in range(100):
        assert not window.record(over_budget=i % 3 == 2)  # a third over budget
    assert not window.throttled()


def test_old_overruns_leave_the_window() -> None:
    clock = Clock()
    window = ThrottleWindow(SETTINGS, clock)
    for _ in range(3):
        window.record(over_budget=True)
    clock.now = 10.0  # the three overruns are now outside the 10 s window
    for _ in range(3):
        assert not window.record(over_budget=False)
    assert not window.record(over_budget=True)  # 1 of 4 in the window
    assert not window.throttled()


def test_disabled_throttling_never_throttles() -> None:
    window = ThrottleWindow(Throttling(enabled=False, min_invocations=1), Clock())
    assert not any(window.record(over_budget=True) for _ in range(50))
    assert not window.throttled()


@given(st.lists(st.booleans(), max_size=60))
def test_throttled_exactly_when_the_rule_says(runs: list[bool]) -> None:
    """Same clock reading for all runs: throttled at the first prefix of at least
    min_invocations runs (since the last throttle) with at least half of them over budget."""
    window = ThrottleWindow(SETTINGS, Clock())
    seen: list[bool] = []
    for over in runs:
        seen.append(over)
        expected = len(seen) >= 4 and sum(seen) >= 0.5 * len(seen)
        assert window.record(over_budget=over) == expected
        if expected:
            seen = []
