"""Time for the KVS: a monotonic clock for propagation, a wall clock for timestamps.

Propagation deadlines use ``monotonic()`` so that a wall-clock jump never lands (or strands) a
write; ``wall()`` only stamps ``Created``/``LastModified``. Tests drive a :class:`VirtualClock`.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes backwards."""
        ...

    def wall(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class RealClock:
    """The machine's clocks."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock that moves only when told to: both readings advance together.

    ``start`` is the wall time at monotonic 0.0 (default: the moment of construction).
    """

    def __init__(self, start: datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("VirtualClock start must be timezone-aware")
        self._start = (start or datetime.now(UTC)).astimezone(UTC)
        self._elapsed = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self._elapsed

    def wall(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back ({seconds} s)")
        with self._lock:
            self._elapsed += seconds
