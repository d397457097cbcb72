"""PropagationSpec: its rules, its equality, and the lag models it builds."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.errors import InputError
from edgesim.kvs.propagation import (
    FixedLag,
    PerPopLag,
    PropagationSpec,
    PropagationSpecError,
    UniformLag,
    as_model,
)

# -- rules ---------------------------------------------------------------------------------------


def test_the_default_spec_is_no_lag() -> None:
    assert PropagationSpec() == PropagationSpec("fixed", lag_ms=0)
    assert PropagationSpec().lag_model() == FixedLag(0)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"model": "gaussian"}, ("model", "model must be one of fixed, uniform, got 'gaussian'")),
        ({"lag_ms": -5}, ("lag_ms", "-5 is out of range (must be at least 0)")),
        ({"lag_ms": -2.5}, ("lag_ms", "-2.5 is out of range (must be at least 0)")),
        ({"lag_ms": math.nan}, ("lag_ms", "must be a finite number, not nan")),
        ({"lag_ms": math.inf}, ("lag_ms", "must be a finite number, not inf")),
        ({"lag_ms": True}, ("lag_ms", "expected a number of milliseconds, got True")),
        ({"lag_ms": "10"}, ("lag_ms", "expected a number of milliseconds, got '10'")),
        (
            {"model": "uniform", "min_ms": 5, "max_ms": 1},
            ("max_ms", "1 is below min_ms (5)"),
        ),
        (
            {"model": "uniform", "max_ms": 1, "seed": 1.5},
            ("seed", "must be an integer, got 1.5"),
        ),
        (
            {"model": "uniform", "max_ms": 1, "seed": True},
            ("seed", "must be an integer, got True"),
        ),
        ({"min_ms": 2}, ("min_ms", "is not used by the fixed model")),
        ({"seed": 3}, ("seed", "is not used by the fixed model")),
        ({"model": "uniform", "lag_ms": 3}, ("lag_ms", "is not used by the uniform model")),
        (
            {"per_pop_ms": {"NRT": -1}},
            ("per_pop_ms.NRT", "-1 is out of range (must be at least 0)"),
        ),
    ],
)
def test_each_broken_rule_is_named_by_its_key(
    fields: dict[str, Any], problem: tuple[str, str]
) -> None:
    with pytest.raises(PropagationSpecError) as info:
        PropagationSpec(**fields)
    assert info.value.problems == (problem,)
    assert isinstance(info.value, InputError)
    assert str(info.value) == f"propagation.{problem[0]}: {problem[1]}"


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(PropagationSpecError) as info:
        PropagationSpec("uniform", min_ms=-1, max_ms=math.inf, per_pop_ms={"A": -2, "B": 1})
    assert [key for key, _ in info.value.problems] == ["min_ms", "max_ms", "per_pop_ms.A"]


def test_min_above_max_is_only_checked_between_valid_durations() -> None:
    with pytest.raises(PropagationSpecError) as info:
        PropagationSpec("uniform", min_ms=5, max_ms=-1)
    assert info.value.problems == (("max_ms", "-1 is out of range (must be at least 0)"),)


def test_as_model_accepts_only_the_model_names() -> None:
    assert as_model("uniform") == "uniform"
    assert as_model("Fixed") is None
    assert as_model(None) is None
    assert as_model({"model": "fixed"}) is None


# -- a value: frozen, compared and hashed by value -------------------------------------------------


def test_per_pop_delays_are_a_read_only_copy() -> None:
    pins = {"NRT": 8000.0}
    spec = PropagationSpec(per_pop_ms=pins)
    pins["NRT"] = -1
    assert spec.per_pop_ms == {"NRT": 8000.0}
    with pytest.raises(TypeError):
        spec.per_pop_ms["NRT"] = 1.0  # type: ignore[index]


def test_specs_compare_and_hash_by_value() -> None:
    a = PropagationSpec("uniform", min_ms=1, max_ms=2, seed=3, per_pop_ms={"A": 1, "B": 2})
    b = PropagationSpec("uniform", min_ms=1.0, max_ms=2.0, seed=3, per_pop_ms={"B": 2, "A": 1})
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != PropagationSpec("uniform", min_ms=1, max_ms=2, seed=3, per_pop_ms={"A": 1})
    assert a != PropagationSpec("uniform", min_ms=1, max_ms=2, per_pop_ms={"A": 1, "B": 2})


# -- the lag models it builds -------------------------------------------------------------------


def test_fixed_spec_builds_a_fixed_lag() -> None:
    assert PropagationSpec("fixed", lag_ms=2500).lag_model() == FixedLag(2.5)


def test_uniform_spec_builds_a_uniform_lag() -> None:
    model = PropagationSpec("uniform", min_ms=1000, max_ms=3000, seed=4).lag_model()
    assert model == UniformLag(1.0, 3.0, 4)


def test_unseeded_uniform_lag_draws_from_the_services_stream() -> None:
    model = PropagationSpec("uniform", min_ms=0, max_ms=1000).lag_model()
    assert model.lag_seconds("X", random.Random(5)) == model.lag_seconds("X", random.Random(5))
    assert model.lag_seconds("X", random.Random(5)) != model.lag_seconds("X", random.Random(6))


def test_seeded_uniform_lag_replays_and_ignores_the_services_stream() -> None:
    spec = PropagationSpec("uniform", min_ms=0, max_ms=10_000, seed=7)
    first, again = spec.lag_model(), spec.lag_model()
    draws = [first.lag_seconds("IAD", random.Random(1)) for _ in range(5)]
    assert draws == [again.lag_seconds("IAD", random.Random(99)) for _ in range(5)]
    assert len(set(draws)) == 5


def test_per_pop_pins_override_the_model_for_their_pops() -> None:
    model = PropagationSpec("fixed", lag_ms=1000, per_pop_ms={"NRT": 8000}).lag_model()
    assert model == PerPopLag({"NRT": 8.0}, FixedLag(1.0))
    rng = random.Random(0)
    assert model.lag_seconds("NRT", rng) == 8.0
    assert model.lag_seconds("IAD", rng) == 1.0


def test_a_pin_does_not_reshuffle_the_other_pops() -> None:
    plain = PropagationSpec("uniform", min_ms=0, max_ms=5000, seed=2).lag_model()
    pinned = PropagationSpec(
        "uniform", min_ms=0, max_ms=5000, seed=2, per_pop_ms={"B": 0}
    ).lag_model()
    rng = random.Random(0)
    pops = ["A", "B", "C", "A", "B", "C"]
    expected = [plain.lag_seconds(p, rng) for p in pops]
    got = [pinned.lag_seconds(p, rng) for p in pops]
    assert [g for p, g in zip(pops, got, strict=True) if p != "B"] == [
        e for p, e in zip(pops, expected, strict=True) if p != "B"
    ]
    assert [g for p, g in zip(pops, got, strict=True) if p == "B"] == [0, 0]


# -- properties ----------------------------------------------------------------------------------

_MS = st.floats(min_value=0, max_value=600_000, allow_nan=False, allow_infinity=False)
_POPS = st.sampled_from(["IAD", "FRA", "NRT", "SYD"])


@st.composite
def uniform_specs(draw: st.DrawFn) -> PropagationSpec:
    low, high = sorted((draw(_MS), draw(_MS)))
    seed = draw(st.none() | st.integers(-(2**63), 2**63))
    pins = draw(st.dictionaries(_POPS, _MS, max_size=2))
    return PropagationSpec("uniform", min_ms=low, max_ms=high, seed=seed, per_pop_ms=pins)


@given(spec=uniform_specs(), pops=st.lists(_POPS, max_size=20), stream=st.integers())
def test_uniform_lag_stays_within_min_and_max_and_pins_are_exact(
    spec: PropagationSpec, pops: list[str], stream: int
) -> None:
    model, rng = spec.lag_model(), random.Random(stream)
    for pop in pops:
        lag = model.lag_seconds(pop, rng)
        if pop in spec.per_pop_ms:
            assert lag == spec.per_pop_ms[pop] / 1000
        else:
            assert spec.min_ms / 1000 <= lag <= spec.max_ms / 1000


@given(spec=uniform_specs(), pops=st.lists(_POPS, max_size=20), stream=st.integers())
def test_same_spec_and_stream_give_the_same_lags(
    spec: PropagationSpec, pops: list[str], stream: int
) -> None:
    def lags() -> list[float]:
        model, rng = spec.lag_model(), random.Random(stream)
        return [model.lag_seconds(pop, rng) for pop in pops]

    assert lags() == lags()


@given(
    fields=st.fixed_dictionaries(
        {},
        optional={
            "lag_ms": st.floats() | st.integers(-10, 10),
            "per_pop_ms": st.dictionaries(_POPS, st.floats() | st.integers(-10, 10), max_size=2),
        },
    )
)
def test_a_fixed_spec_is_built_exactly_when_every_delay_is_valid(fields: dict[str, Any]) -> None:
    delays = [fields.get("lag_ms", 0), *fields.get("per_pop_ms", {}).values()]
    bad = sum(not (math.isfinite(d) and d >= 0) for d in delays)
    if bad:
        with pytest.raises(PropagationSpecError) as info:
            PropagationSpec("fixed", **fields)
        assert len(info.value.problems) == bad
    else:
        spec = PropagationSpec("fixed", **fields)
        assert spec.lag_model().lag_seconds("IAD", random.Random(0)) >= 0
