"""[edges]: POPs, propagation, CIDR maps, countries, the GeoIP database."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from edgesim.distribution.config import load_config
from edgesim.distribution.edges import DEFAULT_PROPAGATION, PROPAGATION_KEYS
from edgesim.distribution.model import Edges
from edgesim.kvs.propagation import MODELS, FixedLag, PropagationSpec
from tests.unit.distribution.helpers import (
    BASE,
    CONFIGS,
    assert_problem,
    named_cases,
    parse,
    problems_of,
)


def test_fixed_propagation_and_defaults(project: Path) -> None:
    text = (
        BASE
        + """
[edges]
pops = ["IAD"]
propagation = { model = "fixed", lag_ms = 2000 }
"""
    )
    edges = parse(project, text).edges
    assert edges.propagation == PropagationSpec("fixed", lag_ms=2000)
    assert edges.default_country == "US"
    assert edges.pop_cidrs == ()


def test_no_propagation_setting_means_a_seeded_lag_of_two_to_ten_seconds(project: Path) -> None:
    # issue 9 §5: writes do not reach every POP at once unless the config says so.
    default = PropagationSpec("uniform", min_ms=2000, max_ms=10_000, seed=0)
    assert default == DEFAULT_PROPAGATION
    assert parse(project, BASE).edges.propagation == default
    with_pops = parse(project, BASE + '[edges]\npops = ["IAD", "FRA", "NRT"]\n').edges
    assert with_pops.propagation == default
    rng = random.Random(99)  # the service's stream; a seeded model does not draw from it
    draws = [with_pops.propagation.lag_model().lag_seconds(pop, rng) for pop in with_pops.pops]
    again = [with_pops.propagation.lag_model().lag_seconds(pop, rng) for pop in with_pops.pops]
    assert draws == again  # seeded: a run replays
    assert all(2.0 <= seconds <= 10.0 for seconds in draws)


def test_a_fixed_lag_of_zero_keeps_writes_instant(project: Path) -> None:
    text = BASE + '[edges]\npropagation = { model = "fixed", lag_ms = 0 }\n'
    spec = parse(project, text).edges.propagation
    assert spec == PropagationSpec("fixed", lag_ms=0)
    assert spec.lag_model() == FixedLag(0)


def test_pinned_pops_alone_keep_the_other_pops_instant(project: Path) -> None:
    # Writing any propagation setting replaces the default: unpinned POPs get the fixed model's 0.
    text = BASE + '[edges]\npops = ["IAD", "NRT"]\npropagation_per_pop = { NRT = 8000 }\n'
    spec = parse(project, text).edges.propagation
    assert spec == PropagationSpec("fixed", per_pop_ms={"NRT": 8000.0})


def test_per_pop_lags_from_either_spelling_end_up_in_the_one_spec(project: Path) -> None:
    text = (
        BASE
        + """
[edges]
pops = ["IAD", "FRA", "NRT"]
propagation = { model = "fixed", lag_ms = 10, per_pop_ms = { NRT = 8000 } }
propagation_per_pop = { FRA = 4000 }
"""
    )
    edges = parse(project, text).edges
    assert edges.propagation == PropagationSpec(
        "fixed", lag_ms=10, per_pop_ms={"FRA": 4000.0, "NRT": 8000.0}
    )


def test_full_example_propagation_builds_its_lag_model() -> None:
    model = load_config(CONFIGS / "full.toml").edges.propagation.lag_model()
    assert model.lag_seconds("FRA", random.Random(1)) == 4.0
    assert 0.5 <= model.lag_seconds("IAD", random.Random(1)) <= 3.0
    assert Edges().propagation.lag_model() == FixedLag(0)


def test_propagation_table_keys_cover_exactly_the_kvs_models() -> None:
    assert tuple(PROPAGATION_KEYS) == MODELS


def test_a_bad_min_ms_with_max_ms_missing_is_two_problems_not_three(project: Path) -> None:
    text = BASE + '[edges]\npropagation = { model = "uniform", min_ms = -5 }\n'
    assert problems_of(project, text).splitlines() == [
        "edgesim.toml: 2 problems in the configuration:",
        "edgesim.toml: edges.propagation.max_ms: is required for the uniform model",
        "edgesim.toml: edges.propagation.min_ms: -5 is out of range (must be at least 0)",
    ]


def test_type_and_range_problems_of_propagation_are_reported_together(project: Path) -> None:
    text = (
        BASE
        + """
[edges]
pops = ["IAD", "FRA"]
propagation = { model = "uniform", min_ms = 9, max_ms = 1, seed = 1.5, per_pop_ms = { IAD = -1 } }
propagation_per_pop = { FRA = "x" }
"""
    )
    assert problems_of(project, text).splitlines()[1:] == [
        "edgesim.toml: edges.propagation.seed: expected an integer, got float 1.5",
        "edgesim.toml: edges.propagation_per_pop.FRA: expected a number, got string 'x'",
        "edgesim.toml: edges.propagation.max_ms: 1 is below min_ms (9)",
        "edgesim.toml: edges.propagation.per_pop_ms.IAD: -1 is out of range (must be at least 0)",
    ]


def edges(body: str) -> str:
    return BASE + '[edges]\npops = ["IAD", "FRA"]\n' + body + "\n"


CASES = named_cases(
    [
        (
            "edges-no-pops",
            BASE + "[edges]\npops = []\n",
            "edgesim.toml: edges.pops: must list at least one POP",
        ),
        (
            "edges-pop-case",
            BASE + '[edges]\npops = ["fra"]\n',
            "edgesim.toml: edges.pops: 'fra' is not a POP code like 'IAD' or 'FRA50' (did you mean 'FRA'?)",
        ),
        (
            "edges-pop-code",
            BASE + '[edges]\npops = ["Frankfurt"]\n',
            "edgesim.toml: edges.pops: 'Frankfurt' is not a POP code like 'IAD' or 'FRA50'",
        ),
        (
            "edges-pop-twice",
            BASE + '[edges]\npops = ["IAD", "IAD"]\n',
            "edgesim.toml: edges.pops: 'IAD' is listed twice",
        ),
        (
            "edges-pops-type",
            BASE + '[edges]\npops = "IAD"\n',
            "edgesim.toml: edges.pops: expected an array of strings, got string 'IAD'",
        ),
        (
            "edges-model",
            edges('propagation = { model = "gaussian" }'),
            "edgesim.toml: edges.propagation: model must be one of fixed, uniform, got 'gaussian'",
        ),
        (
            "edges-model-missing",
            edges("propagation = { lag_ms = 5 }"),
            "edgesim.toml: edges.propagation: model must be one of fixed, uniform, got None",
        ),
        (
            "edges-fixed-keys",
            edges('propagation = { model = "fixed", min_ms = 5 }'),
            "edgesim.toml: edges.propagation.min_ms: unknown key; allowed keys: model, lag_ms",
        ),
        (
            "edges-fixed-negative",
            edges('propagation = { model = "fixed", lag_ms = -5 }'),
            "edgesim.toml: edges.propagation.lag_ms: -5 is out of range (must be at least 0)",
        ),
        (
            "edges-uniform-order",
            edges('propagation = { model = "uniform", min_ms = 500, max_ms = 100 }'),
            "edgesim.toml: edges.propagation.max_ms: 100 is below min_ms (500)",
        ),
        (
            "edges-uniform-missing",
            edges('propagation = { model = "uniform", min_ms = 500 }'),
            "edgesim.toml: edges.propagation.max_ms: is required for the uniform model",
        ),
        (
            "edges-uniform-seed",
            edges('propagation = { model = "uniform", min_ms = 1, max_ms = 2, seed = "x" }'),
            "edgesim.toml: edges.propagation.seed: expected an integer, got string 'x'",
        ),
        (
            "edges-uniform-lag",
            edges('propagation = { model = "uniform", min_ms = 1, max_ms = 2, lag_ms = 3 }'),
            "edgesim.toml: edges.propagation.lag_ms: unknown key (did you mean 'max_ms'?); allowed keys: model, min_ms, max_ms, seed",
        ),
        (
            "edges-per-pop",
            edges("propagation_per_pop = { SYD = 100 }"),
            "edgesim.toml: edges.propagation_per_pop.SYD: POP 'SYD' is not in edges.pops",
        ),
        (
            "edges-per-pop-value",
            edges('propagation_per_pop = { FRA = "slow" }'),
            "edgesim.toml: edges.propagation_per_pop.FRA: expected a number, got string 'slow'",
        ),
        (
            "edges-per-pop-twice",
            edges(
                'propagation = { model = "fixed", lag_ms = 1, per_pop_ms = { FRA = 5 } }\npropagation_per_pop = { FRA = 100 }'
            ),
            "edgesim.toml: edges.propagation.per_pop_ms.FRA: POP 'FRA' already has a delay (set it in one place)",
        ),
        (
            "edges-per-pop-ms-pop",
            edges('propagation = { model = "fixed", lag_ms = 1, per_pop_ms = { SYD = 5 } }'),
            "edgesim.toml: edges.propagation.per_pop_ms.SYD: POP 'SYD' is not in edges.pops",
        ),
        (
            "edges-per-pop-negative",
            edges("propagation_per_pop = { FRA = -5 }"),
            "edgesim.toml: edges.propagation_per_pop.FRA: -5 is out of range (must be at least 0)",
        ),
        (
            "edges-per-pop-ms-negative",
            edges('propagation = { model = "fixed", lag_ms = 1, per_pop_ms = { IAD = -0.5 } }'),
            "edgesim.toml: edges.propagation.per_pop_ms.IAD: -0.5 is out of range (must be at least 0)",
        ),
        (
            "edges-uniform-min-negative",
            edges('propagation = { model = "uniform", min_ms = -1.0, max_ms = 2 }'),
            "edgesim.toml: edges.propagation.min_ms: -1 is out of range (must be at least 0)",
        ),
        (
            "edges-per-pop-ms-type",
            edges('propagation = { model = "fixed", lag_ms = 1, per_pop_ms = 5 }'),
            "edgesim.toml: edges.propagation.per_pop_ms: expected a table, got integer",
        ),
        (
            "edges-lag-inf",
            edges('propagation = { model = "fixed", lag_ms = inf }'),
            "edgesim.toml: edges.propagation.lag_ms: must be a finite number, not inf",
        ),
        (
            "edges-cidr",
            edges('pop_cidrs = { "10.0.0.1/8" = "FRA" }'),
            "edgesim.toml: edges.pop_cidrs.\"10.0.0.1/8\": '10.0.0.1/8' is not a network in CIDR notation: 10.0.0.1/8 has host bits set (did you mean '10.0.0.0/8'?)",
        ),
        (
            "edges-cidr-garbage",
            edges('pop_cidrs = { "lan" = "FRA" }'),
            "edgesim.toml: edges.pop_cidrs.\"lan\": 'lan' is not a network in CIDR notation",
        ),
        (
            "edges-cidr-pop",
            edges('pop_cidrs = { "10.0.0.0/8" = "FRAA" }'),
            "edgesim.toml: edges.pop_cidrs.\"10.0.0.0/8\": POP 'FRAA' is not in edges.pops (did you mean 'FRA'?)",
        ),
        (
            "edges-cidr-value",
            edges('pop_cidrs = { "10.0.0.0/8" = 1 }'),
            'edgesim.toml: edges.pop_cidrs."10.0.0.0/8": expected a string, got integer 1',
        ),
        (
            "edges-country-cidr",
            edges('country_cidrs = { "192.0.2.0/24" = "Germany" }'),
            "edgesim.toml: edges.country_cidrs.\"192.0.2.0/24\": 'Germany' is not an ISO 3166-1 alpha-2 country code like 'DE'",
        ),
        (
            "edges-country",
            edges('default_country = "usa"'),
            "edgesim.toml: edges.default_country: 'usa' is not an ISO 3166-1 alpha-2 country code",
        ),
        (
            "edges-geoip",
            edges('geoip_database = "GeoLite2-City.mmdb"'),
            "edgesim.toml: edges.geoip_database: GeoIP database 'GeoLite2-City.mmdb' does not exist",
        ),
        (
            "edges-unknown-key",
            edges("lag = 1"),
            "edgesim.toml: edges.lag: unknown key; allowed keys: pops, propagation,",
        ),
    ]
)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_problem_is_named(project: Path, text: str, expected: str) -> None:
    assert_problem(project, text, expected)
