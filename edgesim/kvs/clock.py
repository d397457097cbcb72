"""The edge's one clock: a monotonic reading for deadlines, a wall reading for timestamps.

Propagation deadlines, cache ages and throttling windows use ``monotonic()`` so that a jump of
the machine's wall clock never lands (or strands) a write; ``wall()`` stamps what a user sees
(``Date.now()`` in functions, ``Created``/``LastModified``, the access log). Tests drive a
:class:`VirtualClock`; ``serve`` runs on a :class:`SettableClock` that ``edgesim clock`` and
``POST /clock`` move (docs/clock.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
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


# -- a clock serve's users can set ----------------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The clock stays where a datetime (and so every timestamp edgesim prints) can follow it.
LATEST = datetime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC)
_NS_PER_MS = 1_000_000
_LATEST_NS = (LATEST - EPOCH) // timedelta(microseconds=1) * 1_000


class ClockError(ValueError):
    """A move the clock refuses (it never goes back); ``field`` names the value at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


@dataclass(frozen=True)
class ClockState:
    """Everything a :class:`SettableClock` knows, as four integers (nanoseconds), small enough to
    send to another process: the clock reads ``time.time_ns() + wall_offset_ns`` and
    ``time.monotonic_ns() + mono_offset_ns`` while running, and the frozen pair while frozen.
    (On Linux and macOS ``time.monotonic`` is system-wide, so the offsets mean the same in every
    process of the machine.)"""

    wall_offset_ns: int = 0
    mono_offset_ns: int = 0
    frozen_wall_ns: int | None = None
    frozen_mono_ns: int | None = None

    @property
    def frozen(self) -> bool:
        return self.frozen_wall_ns is not None


def to_iso(moment: datetime) -> str:
    """``2030-01-01T09:00:00.000Z``: UTC, milliseconds, as JavaScript's ``toISOString``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_instant(text: str, field: str) -> datetime:
    """An ISO-8601 time with a time zone (``2030-01-01T09:00:00Z``, ``…+02:00``), in UTC;
    a :class:`ClockError` naming ``field`` otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ClockError(
            field, f"{text!r} is not an ISO-8601 time such as 2030-01-01T09:00:00Z"
        ) from None
    return checked_instant(moment, field, shown=repr(text))


def checked_instant(moment: datetime, field: str, *, shown: str | None = None) -> datetime:
    """``moment`` in UTC if the clock can stand there (time zone given, 1970 to 9999)."""
    shown = shown or moment.isoformat()
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ClockError(field, f"{shown} has no time zone: add Z (UTC) or an offset like +02:00")
    outside = f"{shown} is outside 1970-01-01T00:00:00Z … {to_iso(LATEST)}"
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00:00-05:00, past what a datetime holds in UTC
        raise ClockError(field, outside) from None
    if not EPOCH <= utc <= LATEST:
        raise ClockError(field, outside)
    return utc


def _moment(ns: int) -> datetime:
    """The datetime of epoch nanoseconds; a clock left running at the very end of the year 9999
    reads as that end rather than failing."""
    return EPOCH + timedelta(microseconds=min(ns, _LATEST_NS) // 1_000)


def _ns_of(moment: datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


class SettableClock:
    """Real time, shifted and optionally stopped: ``serve``'s clock.

    It starts at ``start`` (default: now) and runs at real speed, or stands still when
    ``frozen``. It only ever moves forward: :meth:`set` to a later instant, :meth:`advance`,
    :meth:`freeze`, and :meth:`thaw` (which resumes from the frozen instant, without a jump).
    ``monotonic()`` moves with every jump of ``wall()`` (setting the time 10 s ahead also
    advances the monotonic reading by 10 s), so KVS writes land, cached objects expire and
    throttling windows slide as the wall clock says.

    Reads take no lock (the state is one immutable value, replaced whole); moves are serialised.
    ``real_wall_ns`` and ``real_mono_ns`` are the machine's clocks (tests pass their own).
    """

    def __init__(
        self,
        start: datetime | None = None,
        *,
        frozen: bool = False,
        real_wall_ns: Callable[[], int] = time.time_ns,
        real_mono_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self._real_wall_ns = real_wall_ns
        self._real_mono_ns = real_mono_ns
        self._lock = threading.Lock()
        # One reading of each real clock: a start read twice would drift by the time between.
        real_wall, real_mono = real_wall_ns(), real_mono_ns()
        wall = real_wall if start is None else _ns_of(checked_instant(start, "start"))
        if frozen:
            self._state = ClockState(frozen_wall_ns=wall, frozen_mono_ns=real_mono)
        else:
            self._state = ClockState(wall_offset_ns=wall - real_wall)

    @classmethod
    def from_state(
        cls,
        state: ClockState,
        *,
        real_wall_ns: Callable[[], int] = time.time_ns,
        real_mono_ns: Callable[[], int] = time.monotonic_ns,
    ) -> SettableClock:
        """A clock that reads what the clock whose :attr:`state` this is reads (in another
        process, say)."""
        clock = cls(real_wall_ns=real_wall_ns, real_mono_ns=real_mono_ns)
        clock._state = state
        return clock

    @property
    def state(self) -> ClockState:
        return self._state

    # -- readings (the Clock protocol and more) ---------------------------------------------------
    def wall_ns(self) -> int:
        state = self._state
        if state.frozen_wall_ns is not None:
            return state.frozen_wall_ns
        return self._real_wall_ns() + state.wall_offset_ns

    def monotonic(self) -> float:
        state = self._state
        if state.frozen_mono_ns is not None:
            return state.frozen_mono_ns / 1e9
        return (self._real_mono_ns() + state.mono_offset_ns) / 1e9

    def wall(self) -> datetime:
        return _moment(self.wall_ns())

    def now(self) -> datetime:
        """The clock's time (as :meth:`wall`)."""
        return self.wall()

    def now_ms(self) -> int:
        return self.wall_ns() // _NS_PER_MS

    @property
    def frozen(self) -> bool:
        return self._state.frozen

    def offset_ms(self) -> int:
        """Clock time minus real time, now."""
        return (self.wall_ns() - self._real_wall_ns()) // _NS_PER_MS

    def describe(self) -> dict[str, object]:
        """What ``GET /clock`` answers: ``now`` (ISO, ms), ``now_ms``, ``frozen``, ``offset_ms``,
        all read at one instant."""
        with self._lock:
            state = self._state
            real = self._real_wall_ns()
            wall = (
                state.frozen_wall_ns
                if state.frozen_wall_ns is not None
                else real + state.wall_offset_ns
            )
        return {
            "now": to_iso(_moment(wall)),
            "now_ms": wall // _NS_PER_MS,
            "frozen": state.frozen,
            "offset_ms": (wall - real) // _NS_PER_MS,
        }

    # -- moves -----------------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` ahead (frozen or not)."""
        if not seconds >= 0:  # also refuses NaN
            raise ClockError("advance", f"a clock cannot go back ({seconds} s)")
        if not math.isfinite(seconds):
            raise ClockError("advance", f"must be a finite number of seconds ({seconds})")
        self.advance_ns(round(seconds * 1e9), field="advance")

    def advance_ns(self, nanoseconds: int, *, field: str = "advance_ms") -> None:
        if nanoseconds < 0:
            raise ClockError(
                field, f"must be 0 or more: the clock never goes back ({nanoseconds} ns)"
            )
        with self._lock:
            self._move(nanoseconds, field)

    def set(self, moment: datetime, *, field: str = "now") -> None:
        """Move the clock to ``moment``, which must not be earlier than the clock's time."""
        target = _ns_of(checked_instant(moment, field))
        with self._lock:
            current = self.wall_ns()
            # A datetime holds microseconds: the clock's own reading (truncated) is not earlier.
            if target < current - current % 1_000:
                raise ClockError(
                    field,
                    f"{to_iso(moment)} is earlier than the clock ({to_iso(self.wall())}): "
                    "the clock never goes back (restart serve to start it earlier)",
                )
            self._move(max(0, target - current), field)

    def _move(self, nanoseconds: int, field: str) -> None:
        """Both readings ``nanoseconds`` ahead; the caller holds the lock."""
        state = self._state
        if self.wall_ns() + nanoseconds > _ns_of(LATEST):
            raise ClockError(field, f"would move the clock past {to_iso(LATEST)}")
        if state.frozen_wall_ns is not None and state.frozen_mono_ns is not None:
            self._state = replace(
                state,
                frozen_wall_ns=state.frozen_wall_ns + nanoseconds,
                frozen_mono_ns=state.frozen_mono_ns + nanoseconds,
            )
        else:
            self._state = replace(
                state,
                wall_offset_ns=state.wall_offset_ns + nanoseconds,
                mono_offset_ns=state.mono_offset_ns + nanoseconds,
            )

    def freeze(self) -> None:
        """Stop the clock where it is (no change when frozen already)."""
        with self._lock:
            state = self._state
            if state.frozen:
                return
            self._state = replace(
                state,
                frozen_wall_ns=self._real_wall_ns() + state.wall_offset_ns,
                frozen_mono_ns=self._real_mono_ns() + state.mono_offset_ns,
            )

    def thaw(self) -> None:
        """Run again at real speed from the frozen instant (no change when running)."""
        with self._lock:
            state = self._state
            if state.frozen_wall_ns is None or state.frozen_mono_ns is None:
                return
            self._state = ClockState(
                wall_offset_ns=state.frozen_wall_ns - self._real_wall_ns(),
                mono_offset_ns=state.frozen_mono_ns - self._real_mono_ns(),
            )
