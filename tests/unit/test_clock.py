"""serve's settable clock: it starts where told, runs at real speed or stands still, and only ever
moves forward, its monotonic reading following every jump of its wall reading."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.kvs.clock import (
    ClockError,
    SettableClock,
    parse_instant,
    to_iso,
)

LAUNCH = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
LAUNCH_MS = 1_893_488_400_000


class FakeTime:
    """The machine's clocks, moved by the test: wall and monotonic advance together."""

    def __init__(self) -> None:
        self.wall = 1_764_000_000 * 10**9
        self.mono = 5_000 * 10**9

    def tick(self, ns: int) -> None:
        self.wall += ns
        self.mono += ns

    def clock(self, start: datetime | None = None, *, frozen: bool = False) -> SettableClock:
        return SettableClock(
            start, frozen=frozen, real_wall_ns=lambda: self.wall, real_mono_ns=lambda: self.mono
        )


def test_starts_at_the_given_instant_and_runs_at_real_speed() -> None:
    real = FakeTime()
    clock = real.clock(LAUNCH)
    assert clock.now_ms() == LAUNCH_MS
    assert not clock.frozen
    real.tick(1_500 * 10**6)
    assert clock.wall() == LAUNCH + timedelta(seconds=1.5)
    assert clock.describe() == {
        "now": "2030-01-01T09:00:01.500Z",
        "now_ms": LAUNCH_MS + 1_500,
        "frozen": False,
        "offset_ms": LAUNCH_MS - real.wall // 10**6 + 1_500,
    }


def test_frozen_stands_still_until_moved_and_thaws_without_a_jump() -> None:
    real = FakeTime()
    clock = real.clock(LAUNCH, frozen=True)
    mono = clock.monotonic()
    real.tick(60 * 10**9)
    assert (clock.now_ms(), clock.monotonic()) == (LAUNCH_MS, mono)
    assert clock.describe()["offset_ms"] == LAUNCH_MS - real.wall // 10**6
    clock.advance(90)
    assert clock.now_ms() == LAUNCH_MS + 90_000
    assert clock.monotonic() == mono + 90
    real.tick(10 * 10**9)  # still frozen
    clock.thaw()
    assert clock.now_ms() == LAUNCH_MS + 90_000  # resumes from the frozen instant
    real.tick(2 * 10**9)
    assert clock.now_ms() == LAUNCH_MS + 92_000
    assert clock.monotonic() == mono + 92


def test_frozen_without_a_start_stops_at_the_real_time() -> None:
    real = FakeTime()
    clock = real.clock(frozen=True)
    assert clock.now_ms() == real.wall // 10**6
    real.tick(10**9)
    assert clock.now_ms() == (real.wall - 10**9) // 10**6


def test_setting_the_time_forward_moves_monotonic_by_as_much() -> None:
    real = FakeTime()
    clock = real.clock(LAUNCH)
    mono = clock.monotonic()
    clock.set(LAUNCH + timedelta(hours=2))
    assert clock.now_ms() == LAUNCH_MS + 7_200_000
    assert clock.monotonic() == pytest.approx(mono + 7_200)


def test_time_never_goes_back_and_a_refusal_changes_nothing() -> None:
    real = FakeTime()
    clock = real.clock(LAUNCH, frozen=True)
    before = clock.state
    with pytest.raises(ClockError) as refused:
        clock.set(LAUNCH - timedelta(milliseconds=1))
    assert refused.value.field == "now"
    assert "never goes back" in str(refused.value)
    with pytest.raises(ClockError, match="advance"):
        clock.advance(-1)
    with pytest.raises(ClockError):
        clock.advance(float("nan"))
    with pytest.raises(ClockError, match="past 9999"):
        clock.advance_ns(10**30)
    assert clock.state == before
    clock.set(LAUNCH)  # the same instant is not going back
    assert clock.state == before


def test_an_instant_needs_a_time_zone_and_a_range() -> None:
    assert parse_instant("2030-01-01T10:00:00+01:00", "now") == LAUNCH
    assert to_iso(parse_instant("2030-01-01T09:00:00.25Z", "now")) == "2030-01-01T09:00:00.250Z"
    with pytest.raises(ClockError, match="now: '2030-01-01T09:00:00' has no time zone"):
        parse_instant("2030-01-01T09:00:00", "now")
    with pytest.raises(ClockError, match="now: 'tomorrow' is not an ISO-8601 time"):
        parse_instant("tomorrow", "now")
    with pytest.raises(ClockError, match="outside 1970"):
        parse_instant("1969-12-31T23:59:59Z", "--now")
    for edge in ("9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+01:00"):
        with pytest.raises(ClockError, match="outside 1970"):
            parse_instant(edge, "now")
    with pytest.raises(ClockError, match="start"):
        SettableClock(datetime(2030, 1, 1))


def test_the_state_is_a_small_value_another_process_can_read_the_same_time_from() -> None:
    real = FakeTime()
    clock = real.clock(LAUNCH)
    clock.advance(5)
    copy = pickle.loads(pickle.dumps(clock.state))
    other = SettableClock.from_state(
        copy, real_wall_ns=lambda: real.wall, real_mono_ns=lambda: real.mono
    )
    real.tick(123_456_789)
    assert (other.wall_ns(), other.monotonic()) == (clock.wall_ns(), clock.monotonic())
    clock.freeze()
    other = SettableClock.from_state(clock.state)  # frozen: the machine's clocks do not matter
    assert other.wall_ns() == clock.wall_ns()
    assert other.frozen


# One step of a random session: the machine's time passes, or someone moves the clock.
steps = st.one_of(
    st.tuples(st.just("tick"), st.integers(0, 10**12)),
    st.tuples(st.just("advance"), st.integers(0, 10**13)),
    st.tuples(st.just("set"), st.integers(-(10**12), 10**13)),
    st.tuples(st.just("freeze"), st.just(0)),
    st.tuples(st.just("thaw"), st.just(0)),
)


@given(frozen=st.booleans(), session=st.lists(steps, max_size=40))
def test_any_session_only_moves_forward_and_keeps_both_readings_together(
    frozen: bool, session: list[tuple[str, int]]
) -> None:
    real = FakeTime()
    clock = real.clock(LAUNCH, frozen=frozen)
    gap = clock.wall_ns() - round(clock.monotonic() * 1e9)
    for op, amount in session:
        wall, mono, was_frozen = clock.wall_ns(), clock.monotonic(), clock.frozen
        if op == "tick":
            real.tick(amount)
            assert clock.wall_ns() == wall + (0 if was_frozen else amount)
        elif op == "advance":
            clock.advance_ns(amount)
            assert clock.wall_ns() == wall + amount
        elif op == "set":
            target = datetime.fromtimestamp(0, UTC) + timedelta(
                microseconds=(wall + amount) // 1000
            )
            before = clock.state
            if target < clock.wall():
                with pytest.raises(ClockError):
                    clock.set(target)
                assert clock.state == before
            else:
                clock.set(target)
                assert clock.wall() == target
        elif op == "freeze":
            clock.freeze()
            assert clock.frozen
            assert clock.wall_ns() == wall
        else:
            clock.thaw()
            assert not clock.frozen
            assert clock.wall_ns() == wall
        assert clock.wall_ns() >= wall
        assert clock.monotonic() >= mono
        # Every jump of the wall reading moved the monotonic one as much (within float rounding).
        assert abs(clock.wall_ns() - round(clock.monotonic() * 1e9) - gap) < 10_000


def test_a_frozen_start_is_exact_however_long_reading_the_real_clocks_takes() -> None:
    real = FakeTime()

    def slow_wall() -> int:  # a busy machine: time passes between two readings
        real.tick(12_000_000)
        return real.wall

    clock = SettableClock(
        LAUNCH, frozen=True, real_wall_ns=slow_wall, real_mono_ns=lambda: real.mono
    )
    assert clock.wall_ns() == LAUNCH_MS * 1_000_000
    assert clock.describe()["now"] == "2030-01-01T09:00:00.000Z"


def test_a_clock_running_past_the_year_9999_reads_as_its_end() -> None:
    real = FakeTime()
    clock = real.clock(datetime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC))
    real.tick(10**9)
    assert clock.wall() == datetime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC)
    assert clock.describe()["now"] == "9999-12-31T23:59:59.999Z"


def test_an_infinite_advance_is_refused_and_leaves_the_clock() -> None:
    from edgesim.kvs.clock import ClockError, SettableClock

    clock = SettableClock(frozen=True)
    before = clock.wall()
    for bad in (float("inf"), float("nan"), -1.0):
        with pytest.raises(ClockError):
            clock.advance(bad)
    assert clock.wall() == before
