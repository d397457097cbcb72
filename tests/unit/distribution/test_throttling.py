"""[throttling]: when serve throttles a function that keeps running over its compute budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgesim.distribution.config import parse_config
from edgesim.distribution.model import Throttling
from edgesim.distribution.throttling import THROTTLING_KEYS
from tests.unit.distribution.helpers import BASE, assert_problem, named_cases, parse, problems_of


def throttling(body: str) -> str:
    return BASE + "[throttling]\n" + body + "\n"


CASES = named_cases(
    [
        (
            "throttling-not-table",
            "throttling = false\n" + BASE,
            "edgesim.toml: throttling: expected a table ([throttling]), got boolean",
        ),
        (
            "throttling-enabled-type",
            throttling('enabled = "no"'),
            "edgesim.toml: throttling.enabled: expected true or false, got string 'no'",
        ),
        (
            "throttling-window-zero",
            throttling("window_s = 0"),
            "edgesim.toml: throttling.window_s: 0 is out of range (must be more than 0)",
        ),
        (
            "throttling-window-negative",
            throttling("window_s = -1.5"),
            "edgesim.toml: throttling.window_s: -1.5 is out of range (must be more than 0)",
        ),
        (
            "throttling-window-inf",
            throttling("window_s = inf"),
            "edgesim.toml: throttling.window_s: must be a finite number, not inf",
        ),
        (
            "throttling-window-nan",
            throttling("window_s = nan"),
            "edgesim.toml: throttling.window_s: must be a finite number, not nan",
        ),
        (
            "throttling-window-type",
            throttling('window_s = "10s"'),
            "edgesim.toml: throttling.window_s: expected a number, got string '10s'",
        ),
        (
            "throttling-min-zero",
            throttling("min_invocations = 0"),
            "edgesim.toml: throttling.min_invocations: 0 is out of range (must be at least 1)",
        ),
        (
            "throttling-min-float",
            throttling("min_invocations = 2.5"),
            "edgesim.toml: throttling.min_invocations: expected an integer, got float 2.5",
        ),
        (
            "throttling-min-bool",
            throttling("min_invocations = true"),
            "edgesim.toml: throttling.min_invocations: expected an integer, got boolean True",
        ),
        (
            "throttling-ratio-zero",
            throttling("over_budget_ratio = 0"),
            "edgesim.toml: throttling.over_budget_ratio: 0 is out of range (allowed: more than 0, at most 1)",
        ),
        (
            "throttling-ratio-above-one",
            throttling("over_budget_ratio = 1.01"),
            "edgesim.toml: throttling.over_budget_ratio: 1.01 is out of range (allowed: more than 0, at most 1)",
        ),
        (
            "throttling-ratio-percent",
            throttling("over_budget_ratio = 50"),
            "edgesim.toml: throttling.over_budget_ratio: 50 is out of range (allowed: more than 0, at most 1)",
        ),
        (
            "throttling-duration-negative",
            throttling("duration_s = -1"),
            "edgesim.toml: throttling.duration_s: -1 is out of range (must be at least 0)",
        ),
        (
            "throttling-duration-inf",
            throttling("duration_s = inf"),
            "edgesim.toml: throttling.duration_s: must be a finite number, not inf",
        ),
        (
            "throttling-unknown-key",
            throttling("window = 5"),
            "edgesim.toml: throttling.window: unknown key (did you mean 'window_s'?); allowed keys: enabled, window_s, min_invocations, over_budget_ratio, duration_s",
        ),
    ]
)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_problem_is_named(project: Path, text: str, expected: str) -> None:
    assert_problem(project, text, expected)


def test_no_throttling_table_gives_the_documented_defaults(project: Path) -> None:
    assert parse(project, BASE).throttling == Throttling()
    assert Throttling() == Throttling(
        enabled=True, window_s=10.0, min_invocations=10, over_budget_ratio=0.5, duration_s=30.0
    )


def test_an_empty_table_or_enabled_false_alone_keeps_the_other_defaults(project: Path) -> None:
    assert parse(project, throttling("")).throttling == Throttling()
    assert parse(project, throttling("enabled = false")).throttling == Throttling(enabled=False)


def test_the_bounds_themselves_are_accepted(project: Path) -> None:
    text = throttling(
        "window_s = 0.001\nmin_invocations = 1\nover_budget_ratio = 1\nduration_s = 0"
    )
    assert parse(project, text).throttling == Throttling(
        window_s=0.001, min_invocations=1, over_budget_ratio=1.0, duration_s=0.0
    )


def test_every_bad_value_is_reported_in_one_run(project: Path) -> None:
    text = throttling("window_s = 0\nmin_invocations = 0\nover_budget_ratio = 2\nduration_s = -1")
    assert problems_of(project, text).splitlines()[0] == (
        "edgesim.toml: 4 problems in the configuration:"
    )


def test_throttling_keys_are_the_model_fields() -> None:
    assert tuple(Throttling.__dataclass_fields__) == THROTTLING_KEYS


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    enabled=st.booleans(),
    window_s=st.floats(
        min_value=0, max_value=1e9, exclude_min=True, allow_nan=False, allow_infinity=False
    )
    | st.integers(1, 10**6),
    min_invocations=st.integers(1, 10**9),
    over_budget_ratio=st.floats(
        min_value=0, max_value=1, exclude_min=True, allow_nan=False, allow_infinity=False
    ),
    duration_s=st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)
    | st.integers(0, 10**6),
    written=st.sets(st.sampled_from(THROTTLING_KEYS)),
)
def test_any_valid_throttling_table_parses_to_the_values_written(
    project: Path,
    enabled: bool,
    window_s: float,
    min_invocations: int,
    over_budget_ratio: float,
    duration_s: float,
    written: set[str],
) -> None:
    values: dict[str, Any] = {
        "enabled": enabled,
        "window_s": window_s,
        "min_invocations": min_invocations,
        "over_budget_ratio": over_budget_ratio,
        "duration_s": duration_s,
    }
    table = {key: value for key, value in values.items() if key in written}
    doc = {
        "origins": [{"id": "app", "url": "http://127.0.0.1:3000"}],
        "default_behavior": {"origin": "app"},
        "throttling": table,
    }
    got = parse_config(doc, base_dir=project, source="edgesim.toml").throttling
    assert got == Throttling(**table)
    assert all(type(getattr(got, key)) is type(getattr(Throttling(), key)) for key in values)
