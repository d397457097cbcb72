"""Throttling of a function that keeps running over its compute budget.

CloudFront throttles a function "when it keeps exceeding the maximum allowed execution time" (its
FunctionThrottles metric; reference notes §5): the viewer gets 503 with ``X-Cache:
FunctionThrottledError from cloudfront`` and the function does not run. The thresholds are not
published; edgesim's are the ``[throttling]`` settings (see ``Throttling``): a sliding window of
edge-clock seconds, a minimum number of invocations in it, the share of them over budget, and how
long the function then stays throttled. Deterministic under a virtual clock. CloudFront was seen
keeping a function throttled 5–15 minutes after a fix; edgesim starts a reloaded function afresh
(a documented choice that keeps the dev loop fast): a reload makes a new ``ThrottleWindow``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from edgesim.distribution.model import Throttling


class ThrottleWindow:
    """The recent invocations of one function version, and whether it is throttled now."""

    def __init__(self, settings: Throttling, clock: Callable[[], float]) -> None:
        self._settings = settings
        self._clock = clock
        self._runs: deque[tuple[float, bool]] = deque()  # (time, over budget)
        self._over = 0
        self._until: float | None = None

    def throttled(self) -> bool:
        if self._until is None:
            return False
        if self._clock() < self._until:
            return True
        self._until = None
        return False

    def record(self, *, over_budget: bool) -> bool:
        """Count one invocation; True when it makes the function throttled from now on."""
        settings = self._settings
        if not settings.enabled:
            return False
        now = self._clock()
        self._runs.append((now, over_budget))
        self._over += over_budget
        while self._runs and self._runs[0][0] <= now - settings.window_s:
            self._over -= self._runs.popleft()[1]
        runs = len(self._runs)
        if runs >= settings.min_invocations and self._over >= settings.over_budget_ratio * runs:
            self._until = now + settings.duration_s
            self._runs.clear()
            self._over = 0
            return True
        return False
