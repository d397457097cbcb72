"""When serve's control process restarts a worker that died, and when it stops trying.

A worker that dies (killed, out of memory, a crash) is started again with the control process's
current state. One that keeps dying — most often at start-up, where a restart cannot help — is
not restarted in a loop: after ``limit`` restarts within ``window_s`` seconds the next death is
final and the other workers keep serving. Restarts after the first in a window wait a little
longer each time (``delay``), so a crash loop does not take the control process's CPU.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

RESTART_LIMIT = 5
RESTART_WINDOW_S = 60.0
FIRST_DELAY_S = 0.5
MAX_DELAY_S = 5.0


@dataclass
class RestartPolicy:
    limit: int = RESTART_LIMIT
    window_s: float = RESTART_WINDOW_S
    _deaths: dict[int, deque[float]] = field(default_factory=dict)

    def died(self, index: int, now: float) -> float | None:
        """Worker ``index`` died at ``now`` (monotonic seconds): how long to wait before
        starting it again, or None when it died more than ``limit`` times in the window."""
        deaths = self._deaths.setdefault(index, deque())
        deaths.append(now)
        while deaths and deaths[0] <= now - self.window_s:
            deaths.popleft()
        if len(deaths) > self.limit:
            return None
        if len(deaths) == 1:
            return 0.0  # killed once: back at once
        return float(min(MAX_DELAY_S, FIRST_DELAY_S * 2.0 ** (len(deaths) - 2)))

    def deaths(self, index: int) -> int:
        """Deaths of worker ``index`` in the current window (as of its last death)."""
        return len(self._deaths.get(index, ()))
