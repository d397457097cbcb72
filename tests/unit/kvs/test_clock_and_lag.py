"""The clocks, and the lag model classes (the specs that build them: test_propagation.py)."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from edgesim.kvs import FixedLag, PerPopLag, RealClock, UniformLag, VirtualClock


def test_virtual_clock_moves_both_readings_together() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    clock = VirtualClock(start)
    assert clock.monotonic() == 0.0
    assert clock.wall() == start
    clock.advance(2.5)
    assert clock.monotonic() == 2.5
    assert clock.wall() == start + timedelta(seconds=2.5)


def test_virtual_clock_refuses_to_go_back_or_naive_start() -> None:
    with pytest.raises(ValueError, match=r"cannot go back"):
        VirtualClock().advance(-1)
    with pytest.raises(ValueError, match=r"timezone-aware"):
        VirtualClock(datetime(2025, 1, 1))


def test_real_clock_is_utc_and_monotonic() -> None:
    clock = RealClock()
    first = clock.monotonic()
    assert clock.monotonic() >= first
    assert clock.wall().tzinfo is UTC


def test_fixed_and_uniform_lag() -> None:
    rng = random.Random(1)
    assert FixedLag(1.5).lag_seconds("IAD", rng) == 1.5
    draws = [UniformLag(1.0, 2.0).lag_seconds("IAD", rng) for _ in range(200)]
    assert all(1.0 <= d <= 2.0 for d in draws)
    assert len(set(draws)) > 100


def test_uniform_lag_with_seed_ignores_the_service_stream() -> None:
    a = UniformLag(0, 10, seed=3)
    b = UniformLag(0, 10, seed=3)
    assert [a.lag_seconds("X", random.Random(1)) for _ in range(5)] == [
        b.lag_seconds("X", random.Random(99)) for _ in range(5)
    ]


def test_per_pop_lag_pins_some_pops() -> None:
    model = PerPopLag({"NRT": 9.0}, FixedLag(1.0))
    rng = random.Random(0)
    assert model.lag_seconds("NRT", rng) == 9.0
    assert model.lag_seconds("IAD", rng) == 1.0


def test_lag_models_reject_impossible_ranges() -> None:
    with pytest.raises(ValueError, match=r"negative"):
        FixedLag(-1)
    with pytest.raises(ValueError, match=r"min <= max"):
        UniformLag(3, 1)
