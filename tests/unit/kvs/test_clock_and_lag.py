import random
from datetime import UTC, datetime, timedelta

import pytest

from edgesim.errors import InputError
from edgesim.kvs import (
    FixedLag,
    PerPopLag,
    RealClock,
    UniformLag,
    VirtualClock,
    lag_model_from_config,
)


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


def test_config_fixed() -> None:
    model = lag_model_from_config({"model": "fixed", "lag_ms": 2500})
    assert model == FixedLag(2.5)


def test_config_uniform_with_per_pop() -> None:
    model = lag_model_from_config(
        {"model": "uniform", "min_ms": 1000, "max_ms": 3000, "seed": 4, "per_pop_ms": {"NRT": 500}}
    )
    assert isinstance(model, PerPopLag)
    assert model.per_pop == {"NRT": 0.5}
    assert isinstance(model.default, UniformLag)
    assert (model.default.min_s, model.default.max_s, model.default.seed) == (1.0, 3.0, 4)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "'model' must be one of"),
        ({"model": "gaussian"}, "'model' must be one of"),
        ({"model": "fixed"}, "missing 'lag_ms'"),
        ({"model": "fixed", "lag_ms": -5}, "'lag_ms' must be a number"),
        ({"model": "fixed", "lag_ms": "10"}, "'lag_ms' must be a number"),
        ({"model": "fixed", "lag_ms": True}, "'lag_ms' must be a number"),
        ({"model": "fixed", "lag_ms": float("nan")}, "'lag_ms' must be a number"),
        ({"model": "fixed", "lag_ms": float("inf")}, "'lag_ms' must be finite"),
        ({"model": "fixed", "lag_ms": 1, "min_ms": 2}, "unknown key 'min_ms'"),
        ({"model": "uniform", "min_ms": 5, "max_ms": 1}, "'max_ms' (1) is below 'min_ms' (5)"),
        ({"model": "uniform", "min_ms": 1, "max_ms": 2, "seed": 1.5}, "'seed' must be an integer"),
        ({"model": "fixed", "lag_ms": 1, "per_pop_ms": [1]}, "'per_pop_ms' must be a table"),
        ({"model": "fixed", "lag_ms": 1, "per_pop_ms": {"NRT": -1}}, "'NRT' must be a number"),
    ],
)
def test_config_errors_name_the_key(spec: dict[str, object], message: str) -> None:
    with pytest.raises(InputError) as info:
        lag_model_from_config(spec)
    assert message in str(info.value)
