"""``[throttling]``: when serve throttles a function that keeps running over its compute budget.

CloudFront answers 503 ``FunctionThrottledError`` after sustained overruns but publishes no
thresholds, so the window, the counts and the duration are edgesim's (defaults in
``edgesim.distribution.model.Throttling``, explained in docs/configuration.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgesim.distribution.model import Throttling
from edgesim.distribution.tables import Context

THROTTLING_KEYS = ("enabled", "window_s", "min_invocations", "over_budget_ratio", "duration_s")


def read_throttling(ctx: Context, data: Mapping[str, Any]) -> Throttling:
    t = ctx.table("throttling", data, THROTTLING_KEYS)
    defaults = Throttling()
    return Throttling(
        enabled=t.flag("enabled", defaults.enabled),
        window_s=t.number("window_s", defaults.window_s, above=0),
        min_invocations=t.integer("min_invocations", defaults.min_invocations, lo=1),
        over_budget_ratio=t.number("over_budget_ratio", defaults.over_budget_ratio, above=0, hi=1),
        duration_s=t.number("duration_s", defaults.duration_s, lo=0),
    )
