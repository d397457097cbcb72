"""edgesim.testing.chi_square: the chi-square tail probability behind ``assert_split``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.testing.chi_square import chi_square_sf


@pytest.mark.parametrize(
    ("statistic", "df", "p_value"),
    [
        (3.841458820694124, 1, 0.05),
        (5.991464547107979, 2, 0.05),
        (23.209251158954356, 10, 0.01),
        (0.5, 3, 0.9188914116546755),
        (15.1, 1, 1.0196e-4),
        (0.0, 4, 1.0),
    ],
)
def test_chi_square_tail_matches_tables(statistic: float, df: int, p_value: float) -> None:
    assert chi_square_sf(statistic, df) == pytest.approx(p_value, rel=1e-3)


def test_fewer_than_one_degree_of_freedom_is_refused() -> None:
    with pytest.raises(ValueError, match="degrees of freedom must be at least 1, got 0"):
        chi_square_sf(1.0, 0)


def test_a_statistic_of_zero_or_less_has_tail_probability_one() -> None:
    assert chi_square_sf(0.0, 3) == chi_square_sf(-1.0, 3) == 1.0


@pytest.mark.parametrize("df", [1, 2, 5, 30])
def test_both_methods_agree_where_they_meet(df: int) -> None:
    # Below x = a + 1 the power series is used, above it the continued fraction.
    meeting = 2.0 * (df / 2.0 + 1.0)
    below, above = chi_square_sf(meeting * (1 - 1e-9), df), chi_square_sf(meeting, df)
    assert below == pytest.approx(above, rel=1e-6)


@given(
    st.floats(0.0, 400.0, allow_nan=False),
    st.floats(0.0, 400.0, allow_nan=False),
    st.integers(1, 60),
)
def test_tail_probability_is_in_0_1_and_falls_as_the_statistic_grows(
    x: float, y: float, df: int
) -> None:
    low, high = sorted((x, y))
    p_low, p_high = chi_square_sf(low, df), chi_square_sf(high, df)
    assert 0.0 <= p_high <= p_low <= 1.0 + 1e-12
